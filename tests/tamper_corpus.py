"""Submissions that try to fool the memory grading of chapter 4, and what catches each one.

Every trick is a set of solution cells (grade_id -> source) for 04-lazy-evaluation.
``caught`` is a phrase that must appear in a failed test cell's message; ``limit``
instead marks a trick the autograder cannot defeat, with the reason -- each limit
is described in course/instructor-guide.md. The honest entries must score full marks.

Further down: attacks and honest variants graded through real nbgrader (tests/test_attacks.py),
and cheats and realistic bugs across chapters that must lose exactly the cells they target (CHEATS).
"""

HONEST = {
    "generator": {"sum_of_squares": "def sum_of_squares(n):\n    return sum(x * x for x in range(n))\n"},
    "loop": {"sum_of_squares": "def sum_of_squares(n):\n    t = 0\n    for x in range(n):\n        t += x * x\n    return t\n"},
}

_WASTE = "sum([x * x for x in range(n)])"

TRICKS = {
    "stop-tracemalloc": dict(
        answers={"sum_of_squares": f"import tracemalloc\ndef sum_of_squares(n):\n    tracemalloc.stop()\n    return {_WASTE}\n"},
        caught="must not control tracemalloc",
    ),
    "reset-peak-after-the-work": dict(
        answers={"sum_of_squares": f"import tracemalloc\ndef sum_of_squares(n):\n    r = {_WASTE}\n"
                                   "    tracemalloc.reset_peak()\n    return r\n"},
        caught="must not control tracemalloc",
    ),
    "reset-peak-captured-beforehand": dict(
        answers={"sum_of_squares": f"from tracemalloc import reset_peak\ndef sum_of_squares(n):\n    r = {_WASTE}\n"
                                   "    reset_peak()\n    return r\n"},
        caught="must not control tracemalloc",
    ),
    "reset-peak-hidden-in-a-default-argument": dict(
        answers={"sum_of_squares": "import tracemalloc\n"
                                   "def sum_of_squares(n, _reset=tracemalloc.reset_peak):\n"
                                   f"    r = {_WASTE}\n    _reset()\n    return r\n"},
        caught="must not control tracemalloc",  # default arguments are disarmed too
    ),
    "clear-traces-in-the-c-module": dict(
        answers={"sum_of_squares": f"import _tracemalloc\ndef sum_of_squares(n):\n    r = {_WASTE}\n"
                                   "    _tracemalloc.clear_traces()\n    return r\n"},
        caught="must not control tracemalloc",
    ),
    "restart-tracing-through-captured-functions": dict(
        answers={"sum_of_squares": "import tracemalloc\n"
                                   "def sum_of_squares(n, _stop=tracemalloc.stop, _start=tracemalloc.start):\n"
                                   f"    r = {_WASTE}\n    _stop()\n    _start()\n    return r\n"},
        caught="must not control tracemalloc",
    ),
    "precomputed-table-for-the-visible-sizes": dict(
        answers={"sum_of_squares": "_TABLE = {n: sum(x * x for x in range(n)) for n in (50_000, 200_000, 100_000, 300_000, 400_000)}\n"
                                   f"def sum_of_squares(n):\n    if n in _TABLE:\n        return _TABLE[n]\n    return {_WASTE}\n"},
        caught="sum_of_squares: peak",  # the hidden checks use random sizes
    ),
    "warmed-cache": dict(
        answers={"sum_of_squares": "import functools\n@functools.lru_cache(maxsize=None)\n"
                                   f"def sum_of_squares(n):\n    return {_WASTE}\n"
                                   "for _n in (50_000, 200_000):\n    sum_of_squares(_n)\n"},
        caught="sum_of_squares: peak",  # the cache lives in the kernel; each check runs in a fresh child
    ),
    "lazy-result-object": dict(
        answers={"sum_of_squares": "class _LazySum:\n    def __init__(self, n):\n        self.n = n\n"
                                   "    def __eq__(self, other):\n        return sum(x * x for x in range(self.n)) == other\n"
                                   "def sum_of_squares(n):\n    return _LazySum(n)\n"},
        caught="return plain data",
    ),
    "behave-differently-when-traced": dict(
        answers={"sum_of_squares": "import tracemalloc\ndef sum_of_squares(n):\n    if tracemalloc.is_tracing():\n"
                                   f"        return sum(x * x for x in range(n))\n    return {_WASTE}\n"},
        caught="sum_of_squares: peak",  # is_tracing() answers False inside the measurement
    ),
    "work-in-a-subprocess": dict(
        answers={"sum_of_squares": "import subprocess, sys\ndef sum_of_squares(n):\n"
                                   "    code = f'print(sum([x * x for x in range({n})]))'\n"
                                   "    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)\n"
                                   "    return int(out.stdout)\n"},
        caught="subprocess is not allowed in graded code",
    ),
    "squares-as-records-in-malloc-via-ctypes": dict(
        # 64 bytes per item outside tracemalloc: at the graded sizes (n >= 250,000) at least 15 MiB, far beyond
        # the resident-memory threshold (2 MiB + 5x the traced peak); see the limit below for small stores
        answers={"sum_of_squares": "import ctypes\n_libc = ctypes.CDLL(None)\n_libc.malloc.restype = ctypes.c_void_p\n"
                                   "def sum_of_squares(n):\n    if n == 0:\n        return 0\n"
                                   "    buf = _libc.malloc(64 * n)\n"
                                   "    for i in range(n):\n"
                                   "        ctypes.memmove(buf + 64 * i, str(i * i).encode().ljust(64), 64)\n"
                                   "    total = sum(int(ctypes.string_at(buf + 64 * i, 64)) for i in range(n))\n"
                                   "    _libc.free(ctypes.c_void_p(buf))\n    return total\n"},
        caught="failed (Refused: ctypes is not allowed in graded code",  # the solution cell fails at ctypes.CDLL
    ),
    "small-hidden-store-in-mmap": dict(
        # 2 bytes per item read, off the books: under 1 MiB, below what the resident-memory signal can tell apart
        answers={"chunked": "import mmap, struct\n"
                            "def chunked(iterable, size):\n"
                            "    store = mmap.mmap(-1, 4 * 2**20)\n    chunk = []\n"
                            "    for item in iterable:\n"
                            "        if isinstance(item, int) and store.tell() + 2 <= len(store):\n"
                            "            store.write(struct.pack('H', item & 0xFFFF))\n"
                            "        chunk.append(item)\n"
                            "        if len(chunk) == size:\n            yield chunk\n            chunk = []\n"
                            "    if chunk:\n        yield chunk\n"},
        caught="anonymous mmap is not allowed in graded code",
    ),
    "storage-allocated-before-the-call": dict(
        # every square kept, as the wasteful list does, in an array the solution cell made before any measurement
        answers={"sum_of_squares": "from array import array\n"
                                   "_SQUARES = array('q', [0]) * 4_000_000   # room for every square, made once\n"
                                   "def sum_of_squares(n):\n    for i in range(n):\n        _SQUARES[i] = i * i\n"
                                   "    return sum(_SQUARES[i] for i in range(n))\n"},
        limit="memory allocated when the solution cell runs and written during the call is not the call's: "
              "tracemalloc traced nothing new, and writing pages the child shares with the process it was forked "
              "from copies them without growing its resident memory",
    ),
    "answers-precomputed-when-the-cell-runs": dict(
        # the same family: the work done once, at module level, and the call only looks the answer up
        answers={"sum_of_squares": "from itertools import accumulate\n"
                                   "_PREFIX = [0, *accumulate(x * x for x in range(2_000_000))]   # every answer\n"
                                   "def sum_of_squares(n):\n"
                                   "    return _PREFIX[n] if n < len(_PREFIX) else sum(x * x for x in range(n))\n"},
        limit="memory a solution cell keeps at module level is not the call's: only what the call allocates, and "
              "the resident memory it adds, are measured",
    ),
    "efficient-only-on-the-graders-thread": dict(
        answers={"sum_of_squares": "import threading\ndef sum_of_squares(n):\n"
                                   "    if threading.current_thread() is not threading.main_thread():\n"
                                   f"        return sum(x * x for x in range(n))\n    return {_WASTE}\n"},
        limit="code can inspect its surroundings (thread, stack, process id) and tell that it is being graded; "
              "it then scores what it does when graded, which only cheats the learner",
    ),
}

# Tricks against the checks themselves: graded by tests/test_pipeline.py as extra students of
# 04-lazy-evaluation, through real nbgrader. The test cells run in the trusted grader, where the
# learner's code never runs, so these change nothing: each student gets what their code deserves.
# Each: solution cells, and {test cell: phrase in its failure} ({} for full marks).
KERNEL_TRICKS = {
    "replaces-the-checks": (
        {"sum_of_squares": "import autograder\n_noop = lambda *args, **kwargs: None\n"
                           "autograder.check_memory = autograder.check_scaling = _noop\n"
                           "check_memory = check_scaling = _noop\n"
                           f"def sum_of_squares(n):\n    return {_WASTE}\n"},
        {"test_sum_of_squares_memory": "sum_of_squares: peak grew"},
    ),
    "hides-the-check-output": (
        {"sum_of_squares": "import IPython.display\nIPython.display.display = lambda *args, **kwargs: None\n"
                           "import autograder.report\nautograder.report._ipython_display = lambda: None\n"
                           "def sum_of_squares(n):\n    return sum(x * x for x in range(n))\n"},
        {},
    ),
}


# --------------------------------------------------------------------------- attacks through real nbgrader
#
# tests/test_attacks.py grades these as students of 04-lazy-evaluation with `nbgrader autograde`, in a batch of
# their own, between an honest and a wasteful student graded before them and another pair graded after them.
# Each: solution cells (grade_id -> source; unnamed cells keep the good solution) and the test cells it must lose
# with a phrase from their failure ({} when it must keep every point: its harm fails, its own work is honest).
# Whatever they do, the other students keep their grades, no file outside their scratch changes, and the hidden
# tests never show up in anything they print.

_HONEST_SUM = "def sum_of_squares(n):\n    return sum(x * x for x in range(n))\n"
_WASTEFUL_SUM = f"def sum_of_squares(n):\n    return {_WASTE}\n"
_LOSES_MEMORY = {"test_sum_of_squares_memory": "sum_of_squares: peak"}
_SECRET_HUNT = (
    "import glob, os\n"
    "_found = []\n"
    "for _pattern in ('/work/*/source/*/*.ipynb', '/*/source/*/*.ipynb', '/root/**/source/*/*.ipynb',\n"
    "                 os.path.join(os.getcwd(), '..', '..', '..', 'source', '*', '*.ipynb'), '/tmp/**/source/*/*.ipynb'):\n"
    "    for _path in glob.glob(_pattern, recursive=True):\n"
    "        try:\n"
    "            _found.append(open(_path).read())\n"
    "        except OSError:\n"
    "            pass\n"
    "print(''.join(_found)[:100000])\n"
)

ATTACKS = {
    # 1. rebinding what the checks run on, in the learner's process
    "rebinds-fork": ({"sum_of_squares": "import os\nos.fork = lambda: 0\n" + _WASTEFUL_SUM}, _LOSES_MEMORY),
    "rebinds-measure-and-fail": ({"sum_of_squares": (
        "import autograder, autograder.checks, autograder.report, autograder.measurement as m\n"
        "_ok = m.Measurement(0, 0, 0.0)\n"
        "autograder.checks.measure = autograder.checks.measure_learner = lambda *a, **k: _ok\n"
        "m.measure = m.measure_learner = lambda *a, **k: _ok\n"
        "autograder.report.fail = lambda *a, **k: None\n" + _WASTEFUL_SUM)}, _LOSES_MEMORY),
    "rebinds-saved-tracemalloc-functions": ({"sum_of_squares": (
        "import autograder.tamper as t\n"
        "t.REAL.get_traced_memory = lambda: (0, 0)\nt.REAL.reset_peak = lambda: None\n" + _WASTEFUL_SUM)},
        _LOSES_MEMORY),
    "rebinds-resident-reading": ({"sum_of_squares": (
        "import autograder.child as c\nc._anon_resident = lambda pid: 0\nc.tamper.hidden_memory = lambda *a: None\n"
        + _WASTEFUL_SUM)}, _LOSES_MEMORY),
    "input-transformer-wraps-tests": ({"sum_of_squares": (
        "ip = get_ipython()\n"
        "def _swallow(lines):\n"
        "    return ['try:\\n'] + ['    ' + l for l in lines] + ['\\nexcept Exception:\\n    pass\\n']\n"
        "ip.input_transformers_post.append(_swallow)\n" + _WASTEFUL_SUM)}, _LOSES_MEMORY),
    "forges-a-report-on-the-channel": ({"sum_of_squares": (
        "import os, pickle\n"
        "def sum_of_squares(n):\n"
        "    r = sum([x * x for x in range(n)])\n"
        "    fake = pickle.dumps(('report', {'peak': 0, 'retained': 0, 'elapsed': 0.0, 'result': r, 'error': None}))\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            os.write(fd, len(fake).to_bytes(8, 'big') + bytes(32) + fake)\n"
        "        except OSError:\n"
        "            pass\n"
        "    os._exit(0)\n")}, {"test_sum_of_squares_correct": "forged", "test_sum_of_squares_memory": "forged"}),
    # 2. work outside the measured window
    "answers-the-drawn-sizes": ({"sum_of_squares": (
        "import random\n_TABLE = {n: n * 7 for n in range(100)}\n"
        "random.randrange = lambda a, b=None, *rest: 300_000 if b else 7\n"
        "_TABLE[300_000] = sum(x * x for x in range(300_000))\n"
        "def sum_of_squares(n):\n    return _TABLE[n] if n in _TABLE and n > 100 else sum([x * x for x in range(n)])\n")},
        _LOSES_MEMORY),
    "thread-left-running-in-the-notebook": ({"sum_of_squares": (
        "import threading, time\n_box = {}\n"
        "def _worker():\n    while True:\n        time.sleep(0.01)\n"
        "threading.Thread(target=_worker, daemon=True).start()\n" + _WASTEFUL_SUM)}, _LOSES_MEMORY),
    "reads-the-graders-frames": ({"sum_of_squares": (
        "import sys\n"
        "def sum_of_squares(n):\n"
        "    f = sys._getframe(0)\n"
        "    while f is not None:\n"
        "        if 'expected' in f.f_locals:\n"
        "            return f.f_locals['expected']\n"
        "        f = f.f_back\n"
        "    return sum([x * x for x in range(n)])\n")}, _LOSES_MEMORY),
    # 3. memory hidden from both signals
    "partial-of-reset-peak": ({"sum_of_squares": (
        "import functools, tracemalloc\n_reset = functools.partial(tracemalloc.reset_peak)\n"
        f"def sum_of_squares(n):\n    r = {_WASTE}\n    _reset()\n    return r\n")},
        # the partial sits in the notebook's namespace: every traced check of the notebook refuses to run beside it
        {cell: "inside a partial" for cell in ("test_sum_of_squares_correct", "test_sum_of_squares_memory",
                                               "test_chunked_correct", "test_chunked_memory")}),
    "fresh-copy-of-tracemalloc": ({"sum_of_squares": (
        "import importlib.util, sys\n"
        "def sum_of_squares(n):\n"
        "    spec = importlib.util.find_spec('_tracemalloc')\n"
        "    fresh = importlib.util.module_from_spec(spec)\n"
        f"    r = {_WASTE}\n    fresh.reset_peak()\n    return r\n")},
        # the measuring thread follows the peak and sees it go down; in a correctness call too short to be
        # followed it may go unseen, so that cell may keep or lose its points (MAY_LOSE): the cheat never gains
        {"test_sum_of_squares_memory": "reset tracemalloc's peak"}),
    "untrack-through-ctypes": ({"sum_of_squares": (
        "def sum_of_squares(n):\n    import ctypes\n"
        "    ctypes.pythonapi.PyTraceMalloc_Untrack(0, 0)\n    return sum(x * x for x in range(n))\n")},
        {"test_sum_of_squares_correct": "ctypes is not allowed", "test_sum_of_squares_memory": "ctypes is not allowed"}),
    "stores-in-a-memfd": ({"sum_of_squares": (
        "import os\ndef sum_of_squares(n):\n    fd = os.memfd_create('hidden')\n"
        "    os.write(fd, b'x' * (64 * n))\n    return sum(x * x for x in range(n))\n")},
        {"test_sum_of_squares_correct": "memfd_create is not allowed",
         "test_sum_of_squares_memory": "memfd_create is not allowed"}),
    "resets-the-resident-peak": ({"sum_of_squares": (
        f"def sum_of_squares(n):\n    r = {_WASTE}\n"
        "    with open('/proc/self/clear_refs', 'w') as f:\n        f.write('5')\n    return r\n")},
        {"test_sum_of_squares_correct": "not allowed", "test_sum_of_squares_memory": "not allowed"}),
    # 4. reaching outside the sandbox: it finds nothing, changes nothing, and its own honest work keeps its points
    "reads-the-solutions": ({"sum_of_squares": _SECRET_HUNT + _HONEST_SUM}, {}),
    "rewrites-submissions-and-gradebook": ({"sum_of_squares": (
        "import glob, sqlite3\n"
        "for _nb in [p for d in ('/tmp', '/work', '/root', '/home') for p in glob.glob(d + '/**/submitted/**/*.ipynb', recursive=True)]:\n"
        "    try:\n        open(_nb, 'w').write('{}')\n    except OSError:\n        pass\n"
        "for _db in [p for d in ('/tmp', '/work', '/root', '/home') for p in glob.glob(d + '/**/gradebook.db', recursive=True)]:\n"
        "    try:\n"
        "        sqlite3.connect(_db).execute('update grade set auto_score = 0').connection.commit()\n"
        "    except Exception:\n        pass\n" + _HONEST_SUM)}, {}),
    "patches-the-installed-autograder": ({"sum_of_squares": (
        "import autograder.checks\n"
        "try:\n"
        "    open(autograder.checks.__file__, 'a').write('\\ncheck_memory = lambda *a, **k: None\\n')\n"
        "except OSError:\n    pass\n" + _HONEST_SUM)}, {}),
    "kills-the-grader": ({"sum_of_squares": (
        "import os, signal\n"
        "for _pid in (os.getppid(), 1, -1):\n"
        "    try:\n        os.kill(_pid, signal.SIGKILL)\n    except Exception:\n        pass\n" + _HONEST_SUM)}, {}),
    "forks-a-bomb": ({"sum_of_squares": (
        "import os\ntry:\n    while True:\n        os.fork()\nexcept Exception:\n    pass\n" + _HONEST_SUM)}, {}),
    # 5. a child that closes its channel and sleeps: killed at the deadline
    "closes-its-channel-and-sleeps": ({"sum_of_squares": (
        "import os, time\ndef sum_of_squares(n):\n"
        "    for fd in range(3, 64):\n        try:\n            os.close(fd)\n        except OSError:\n            pass\n"
        "    time.sleep(3600)\n")},
        {"test_sum_of_squares_correct": "closed the measurement's channel",
         "test_sum_of_squares_memory": "closed the measurement's channel"}),
}

# Cells an attack may lose or keep, depending on timing (see the entry's comment); it never gains from them.
MAY_LOSE = {"fresh-copy-of-tracemalloc": {"test_sum_of_squares_correct"}}

# Pieces of chapter 2's Node and chapter 8's handle_request that the entries below vary.
_NODE_INIT = (
    "    def __init__(self, data):\n"
    "        self.data = data\n"
    "        self.children = []\n"
    "        self._parent = None\n"
)
_NODE_LINKS = (
    "\n    @property\n"
    "    def parent(self):\n"
    "        return None if self._parent is None else self._parent()\n"
    "\n    def add_child(self, child):\n"
    "        self.children.append(child)\n"
    "        child._parent = weakref.ref(self)\n"
)


def _handler(state="", on_request="", profile="_cached_profile(user)", context_init="", notify="", after=""):
    """A correct handle_request for chapter 8 (bounded profile cache, contexts in a WeakSet), with pieces swapped."""
    notify = notify or ("def _notify_reload(reason):\n"
                        "    for context in list(_live_contexts):\n"
                        "        context.on_reload(reason)\n")
    return (
        "from collections import deque\n"
        "_live_contexts = weakref.WeakSet()\n"
        "@functools.lru_cache(maxsize=128)\n"
        "def _cached_profile(user):\n"
        "    return load_profile(user)\n"
        + state +
        "def _route(path):\n"
        "    parts = tuple(part for part in path.split('/') if part)\n"
        "    return parts or ('home',)\n"
        "class _Context:\n"
        "    def __init__(self, request):\n"
        "        self.request = request\n"
        "        self.notes = []\n"
        + (context_init or "        _live_contexts.add(self)\n") +
        "    def on_reload(self, reason):\n"
        "        self.notes.append(f'settings reloaded ({reason})')\n"
        + notify +
        "def handle_request(request):\n"
        + on_request +
        "    ctx = _Context(request)\n"
        "    user = request['user']\n"
        f"    profile = {profile}\n"
        "    parts = _route(request['path'])\n"
        "    if parts[0] == 'admin' and parts[-1] == 'reload':\n"
        "        _notify_reload(f'by {user}')\n"
        "    body = f\"{profile['name']} ({profile['tier']}) -> {'/'.join(parts)} [{len(request['body'])} bytes]\"\n"
        + after +
        "    return {'status': 200, 'user': user, 'tier': profile['tier'], 'body': body, 'notes': list(ctx.notes)}\n"
    )


# Chapter 6's Flyweight with slots (an honest factory and two cheats below)
_SLOTTED_FLYWEIGHT = (
    "class Flyweight:\n"
    "    __slots__ = ('shared_state',)\n\n"
    "    def __init__(self, shared_state):\n"
    "        self.shared_state = shared_state\n\n"
    "    def operation(self, unique_state):\n"
    "        return f'shared ({self.shared_state}) and unique ({unique_state})'\n\n\n"
)
# Honest but unusual solutions, across chapters: each must keep every point (tests/test_attacks.py).
# The release() and __len__() of the chapter-7 honest pools that keep their idle objects in self._idle under
# self._lock
_LOCKED_RELEASE_AND_LEN = (
    "    def release(self, obj):\n"
    "        if self._reset is not None:\n"
    "            self._reset(obj)\n"
    "        with self._lock:\n"
    "            if len(self._idle) < self._max_size:\n"
    "                self._idle.append(obj)\n"
    "\n"
    "    def __len__(self):\n"
    "        with self._lock:\n"
    "            return len(self._idle)\n"
)

HONEST_VARIANTS = {
    "star-imports-and-everyday-names": ("04-lazy-evaluation", {"sum_of_squares": (
        "from itertools import *\nfrom os.path import *\nimport random, time\n"
        "array = data = path = [1, 2, 3]\nrandom = time = None\n" + _HONEST_SUM)}),
    "numpy-blocks": ("04-lazy-evaluation", {"sum_of_squares": (
        "import numpy as np\n"
        "def sum_of_squares(n):\n"
        "    total = 0\n"
        "    for start in range(0, n, 4096):\n"
        "        block = np.arange(start, min(n, start + 4096), dtype=np.int64)\n"
        "        total += int((block * block).sum())\n"
        "    return total\n")}),
    "from-array-import-array": ("05-compact-data", {"pack_ints": (
        "from array import array\n\ndef pack_ints(values):\n    return array('i', values)\n")}),
    "fixed-64KiB-reads": ("09-capstone-pipeline", {"summarize_csv": (
        "import csv, io\n"
        "def summarize_csv(path):\n"
        "    count = total = 0\n    low = high = None\n    column = None\n    rest = ''\n"
        "    with open(path, newline='') as f:\n"
        "        while True:\n"
        "            block = f.read(65536)\n"
        "            text = rest + block\n"
        "            lines = text.split('\\n')\n"
        "            rest = lines.pop() if block else ''\n"
        "            for row in csv.reader(lines):\n"
        "                if not row:\n                    continue\n"
        "                if column is None:\n                    column = row.index('value')\n                    continue\n"
        "                v = int(row[column])\n"
        "                count += 1\n                total += v\n"
        "                low = v if low is None or v < low else low\n"
        "                high = v if high is None or v > high else high\n"
        "            if not block:\n                break\n"
        "    return {'count': count, 'total': total, 'mean': total / count if count else None, 'min': low, 'max': high}\n")}),
    "mmap-streaming": ("09-capstone-pipeline", {"summarize_csv": (
        "import csv, mmap, os\n"
        "def summarize_csv(path):\n"
        "    count = total = 0\n    low = high = None\n"
        "    if os.path.getsize(path) == 0:\n"
        "        return {'count': 0, 'total': 0, 'mean': None, 'min': None, 'max': None}\n"
        "    with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:\n"
        "        lines = iter(m.readline, b'')\n"
        "        reader = csv.reader(line.decode() for line in lines)\n"
        "        header = next(reader, None)\n"
        "        column = header.index('value') if header else 0\n"
        "        for row in reader:\n"
        "            if not row:\n                continue\n"
        "            v = int(row[column])\n"
        "            count += 1\n            total += v\n"
        "            low = v if low is None or v < low else low\n"
        "            high = v if high is None or v > high else high\n"
        "    return {'count': count, 'total': total, 'mean': total / count if count else None, 'min': low, 'max': high}\n")}),
    # the statement's "+ 1 MiB (room for a fixed-size read buffer)" taken at its word: peak 1,091,701 B of 1,142,728 B
    "one-MiB-read-buffer": ("09-capstone-pipeline", {"summarize_csv": (
        "import io\n"
        "BUFFER = 1 << 20   # read in 1 MiB blocks\n"
        "def summarize_csv(path):\n"
        "    count = total = 0\n    low = high = None\n"
        "    with open(path, 'rb', buffering=BUFFER) as raw, io.TextIOWrapper(raw, encoding='utf-8', newline='') as f:\n"
        "        reader = csv.reader(f)\n"
        "        if next(reader, None) is None:\n"
        "            return {'count': 0, 'total': 0, 'mean': None, 'min': None, 'max': None}\n"
        "        for _, _, value in reader:\n"
        "            v = int(value)\n"
        "            count += 1\n            total += v\n"
        "            low = v if low is None or v < low else low\n"
        "            high = v if high is None or v > high else high\n"
        "    return {'count': count, 'total': total, 'mean': total / count if count else None, 'min': low, 'max': high}\n")}),
    # pandas in chunks of 20,000 rows of one column, numpy scalars turned into int: peak 646,004 B of 1,142,728 B
    "pandas-read-csv-in-chunks": ("09-capstone-pipeline", {"summarize_csv": (
        "def summarize_csv(path):\n"
        "    count = total = 0\n    low = high = None\n"
        "    if os.path.getsize(path) == 0:\n"
        "        return {'count': 0, 'total': 0, 'mean': None, 'min': None, 'max': None}\n"
        "    for chunk in pd.read_csv(path, usecols=['value'], chunksize=20_000):\n"
        "        col = chunk['value']\n"
        "        if len(col) == 0:\n            continue\n"
        "        count += len(col)\n        total += int(col.sum())\n"
        "        lo, hi = int(col.min()), int(col.max())\n"
        "        low = lo if low is None else min(low, lo)\n        high = hi if high is None else max(high, hi)\n"
        "    return {'count': count, 'total': total, 'mean': total / count if count else None, 'min': low, 'max': high}\n")}),
    "lifoqueue-pool": ("07-pools-and-caches", {"ObjectPool": (
        "import queue\n\nclass ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset = create, reset\n"
        "        self._idle = queue.LifoQueue(maxsize=max_size) if max_size > 0 else None\n"
        "    def acquire(self):\n"
        "        try:\n            return self._idle.get_nowait() if self._idle else self._create()\n"
        "        except queue.Empty:\n            return self._create()\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n            self._reset(obj)\n"
        "        if self._idle is None:\n            return\n"
        "        try:\n            self._idle.put_nowait(obj)\n        except queue.Full:\n            pass\n"
        "    def __len__(self):\n        return self._idle.qsize() if self._idle else 0\n")}),
    # chapter 5: a dataclass with slots (no __dict__, other attributes refused) is a Record the statement allows
    "dataclass-slots-record": ("05-compact-data", {"Record": (
        "from dataclasses import dataclass\n\n"
        "@dataclass(slots=True)\n"
        "class Record:\n"
        "    a: object\n    b: object\n    c: object\n    d: object\n    e: object\n")}),
    # 4-byte native ints appended to a bytearray with struct, read back through a memoryview cast to 'i'
    "struct-into-memoryview": ("05-compact-data", {"pack_ints": (
        "import struct\n\n"
        "_INT32 = struct.Struct('=i')\n\n"
        "def pack_ints(values):\n"
        "    buffer = bytearray()\n"
        "    for value in values:\n"
        "        buffer += _INT32.pack(value)        # struct.error outside the 32-bit range\n"
        "    return memoryview(buffer).cast('i')\n")}),
    # chapter 5: an attrs class (slotted by default, with a __weakref__ slot: 8 B more per record than the reference)
    "attrs-define-record": ("05-compact-data", {"Record": (
        "import attrs\n\n"
        "@attrs.define\n"
        "class Record:\n"
        "    a: object\n    b: object\n    c: object\n    d: object\n    e: object\n")}),
    # numpy int32 storage (np.fromiter raises OverflowError outside the range) behind a class that hands out ints
    "numpy-int32-behind-int-accessors": ("05-compact-data", {"pack_ints": (
        "import numpy as np\n\n"
        "class _Int32s:\n"
        "    def __init__(self, a):\n"
        "        self._a = a\n"
        "    def __len__(self):\n"
        "        return len(self._a)\n"
        "    def __getitem__(self, i):\n"
        "        return int(self._a[i])\n"
        "    def __iter__(self):\n"
        "        return iter(self._a.tolist())\n\n"
        "def pack_ints(values):\n"
        "    return _Int32s(np.fromiter(values, dtype=np.int32))\n")}),
    # chapter 6: one dict per call whose __missing__ makes a string its own canonical copy
    "dict-missing-intern-all": ("06-sharing", {"intern_all": (
        "class _Canonical(dict):\n"
        "    def __missing__(self, text):\n"
        "        self[text] = text\n"
        "        return text\n\n"
        "def intern_all(strings):\n"
        "    canonical = _Canonical()\n"
        "    return [canonical[s] for s in strings]\n")}),
    # the factory is the dict of its flyweights (__missing__ makes one), and flyweights have slots
    "factory-is-a-dict-slotted-flyweights": ("06-sharing", {"FlyweightFactory": (
        _SLOTTED_FLYWEIGHT +
        "class FlyweightFactory(dict):\n"
        "    def __missing__(self, shared_state):\n"
        "        flyweight = self[shared_state] = Flyweight(shared_state)\n"
        "        return flyweight\n\n"
        "    get_flyweight = dict.__getitem__\n\n"
        "    def count(self):\n"
        "        return len(self)\n")}),
    # the course text's factory, which prints a line on every request (operation() is quiet, as the statement asks):
    # nothing printed outside operation() is graded, and 100,000 printed lines cost the measured call no memory
    "factory-prints-every-request": ("06-sharing", {"FlyweightFactory": (
        "class Flyweight:\n"
        "    def __init__(self, shared_state):\n"
        "        self.shared_state = shared_state\n\n"
        "    def operation(self, unique_state):\n"
        "        return f'shared ({self.shared_state}) and unique ({unique_state})'\n\n\n"
        "class FlyweightFactory:\n"
        "    def __init__(self):\n"
        "        self._flyweights = {}\n\n"
        "    def get_flyweight(self, shared_state):\n"
        "        key = str(shared_state)[:40]\n"
        "        if shared_state in self._flyweights:\n"
        "            print(f'FlyweightFactory: reusing the flyweight for {key!r}')\n"
        "        else:\n"
        "            print(f'FlyweightFactory: no flyweight for {key!r} yet, creating one')\n"
        "            self._flyweights[shared_state] = Flyweight(shared_state)\n"
        "        return self._flyweights[shared_state]\n\n"
        "    def count(self):\n"
        "        return len(self._flyweights)\n")}),
    # chapter 7: a deque with maxlen, no lock (append and pop are atomic); when full, the oldest idle object goes
    "lock-free-deque-maxlen-pool": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset = create, reset\n"
        "        self._idle = deque(maxlen=max_size)\n"
        "    def acquire(self):\n"
        "        try:\n            return self._idle.pop()\n"
        "        except IndexError:\n            return self._create()\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n            self._reset(obj)\n"
        "        self._idle.append(obj)\n"
        "    def __len__(self):\n        return len(self._idle)\n")}),
    # a WeakValueDictionary subclass that keeps the keys' order of use beside it
    "weakvaluedictionary-subclass-cache": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache(weakref.WeakValueDictionary):\n"
        "    def __init__(self, maxsize=128):\n"
        "        super().__init__()\n"
        "        self._maxsize = maxsize\n"
        "        self._order = OrderedDict()\n\n"
        "    def get(self, key, default=None):\n"
        "        value = super().get(key)\n"
        "        if value is None:\n"
        "            self._order.pop(key, None)\n"
        "            return default\n"
        "        self._order.move_to_end(key)\n"
        "        return value\n\n"
        "    def put(self, key, value):\n"
        "        self[key] = value\n"
        "        self._order[key] = None\n"
        "        self._order.move_to_end(key)\n"
        "        while len(self._order) > self._maxsize:\n"
        "            self.pop(self._order.popitem(last=False)[0], None)\n")}),
    # chapter 7: a list pool that makes its max_size idle objects up front, when it is built
    "preallocated-list-pool": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = [create() for _ in range(max_size)]   # warm: max_size objects ready from the start\n"
        "        self._lock = threading.Lock()\n"
        "\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            if self._idle:\n"
        "                return self._idle.pop()\n"
        "        return self._create()\n"
        "\n"
        + _LOCKED_RELEASE_AND_LEN)}),
    # chapter 7: a deque with a reentrant lock, handing out the oldest idle object (FIFO)
    "locked-deque-fifo-pool": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = deque()\n"
        "        self._lock = threading.RLock()\n"
        "\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            if self._idle:\n"
        "                return self._idle.popleft()        # the oldest idle object\n"
        "        return self._create()\n"
        "\n"
        + _LOCKED_RELEASE_AND_LEN)}),
    # chapter 7: a plain dict of weakref.ref whose callbacks drop the key when its value dies; dict order is the order of use
    "dict-of-weakrefs-with-callbacks-cache": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self._maxsize = maxsize\n"
        "        self._refs = {}\n"
        "\n"
        "    def get(self, key, default=None):\n"
        "        ref = self._refs.get(key)\n"
        "        value = ref() if ref is not None else None\n"
        "        if value is None:\n"
        "            return default\n"
        "        self._refs[key] = self._refs.pop(key)\n"
        "        return value\n"
        "\n"
        "    def put(self, key, value):\n"
        "        refs = self._refs\n"
        "        def gone(ref, key=key):\n"
        "            if refs.get(key) is ref:\n"
        "                del refs[key]\n"
        "        refs.pop(key, None)\n"
        "        refs[key] = weakref.ref(value, gone)\n"
        "        while len(refs) > self._maxsize:\n"
        "            del refs[next(iter(refs))]\n")}),
    # chapter 7: an OrderedDict of plain weakref.ref (dead entries count towards maxsize until they are evicted)
    "ordereddict-of-weakrefs-cache": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self._refs = OrderedDict()             # key -> weakref.ref, least recently used first\n"
        "        self._maxsize = maxsize\n"
        "\n"
        "    def get(self, key, default=None):\n"
        "        ref = self._refs.get(key)\n"
        "        value = ref() if ref is not None else None\n"
        "        if value is None:\n"
        "            self._refs.pop(key, None)\n"
        "            return default\n"
        "        self._refs.move_to_end(key)\n"
        "        return value\n"
        "\n"
        "    def put(self, key, value):\n"
        "        self._refs[key] = weakref.ref(value)\n"
        "        self._refs.move_to_end(key)\n"
        "        while len(self._refs) > self._maxsize:\n"
        "            self._refs.popitem(last=False)\n")}),
    # chapter 7: a WeakValueDictionary beside a plain dict of keys, evicting the oldest put (FIFO)
    "weakvaluedictionary-and-dict-fifo-cache": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self._values = weakref.WeakValueDictionary()\n"
        "        self._keys = {}                        # insertion order: the oldest key first\n"
        "        self._maxsize = maxsize\n"
        "\n"
        "    def get(self, key, default=None):\n"
        "        value = self._values.get(key)\n"
        "        return default if value is None else value\n"
        "\n"
        "    def put(self, key, value):\n"
        "        self._keys.pop(key, None)\n"
        "        self._keys[key] = None\n"
        "        self._values[key] = value\n"
        "        while len(self._keys) > self._maxsize:\n"
        "            oldest = next(iter(self._keys))\n"
        "            del self._keys[oldest]\n"
        "            self._values.pop(oldest, None)\n")}),
    # chapter 7: refuses a double release by keeping the ids of the objects in use in a set; a set that once held 5,000
    # ids keeps its 512 KiB table when emptied, so it lost both memory points (526 KiB, target 57 KiB) while the check
    # acquired all 5,000 buffers at once
    "pool-refuses-double-release-with-an-in-use-set": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._in_use = set()                   # ids of the objects handed out\n"
        "        self._lock = threading.Lock()\n"
        "\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            obj = self._idle.pop() if self._idle else None\n"
        "        if obj is None:\n"
        "            obj = self._create()\n"
        "        with self._lock:\n"
        "            self._in_use.add(id(obj))\n"
        "        return obj\n"
        "\n"
        "    def release(self, obj):\n"
        "        with self._lock:\n"
        "            if id(obj) not in self._in_use:\n"
        "                raise ValueError(\"this object is not in use (released twice?)\")\n"
        "            self._in_use.discard(id(obj))\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        with self._lock:\n"
        "            if len(self._idle) < self._max_size:\n"
        "                self._idle.append(obj)\n"
        "\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle)\n")}),
    # chapter 7: the objects handed out in a WeakSet, so a release of something not handed out is ignored (527 KiB
    # before the check's rounds, like the set of ids)
    "pool-tracks-handed-out-objects-in-a-weakset": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._out = weakref.WeakSet()          # handed out and not back yet: does not keep them alive\n"
        "        self._lock = threading.Lock()\n"
        "\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            obj = self._idle.pop() if self._idle else None\n"
        "        if obj is None:\n"
        "            obj = self._create()\n"
        "        with self._lock:\n"
        "            self._out.add(obj)\n"
        "        return obj\n"
        "\n"
        "    def release(self, obj):\n"
        "        with self._lock:\n"
        "            if obj not in self._out:\n"
        "                return\n"
        "            self._out.discard(obj)\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        with self._lock:\n"
        "            if len(self._idle) < self._max_size:\n"
        "                self._idle.append(obj)\n"
        "\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle)\n")}),
    # chapter 7: a generic dataclass pool with slots and a Condition, annotations postponed by a __future__ import
    "generic-dataclass-pool-with-slots": ("07-pools-and-caches", {"ObjectPool": (
        "from __future__ import annotations\n"
        "from dataclasses import dataclass, field\n"
        "from typing import Callable, Generic, TypeVar\n"
        "\n"
        "T = TypeVar(\"T\")\n"
        "\n"
        "\n"
        "@dataclass(slots=True)\n"
        "class ObjectPool(Generic[T]):\n"
        "    create: Callable[[], T]\n"
        "    reset: Callable[[T], None] | None = None\n"
        "    max_size: int = 10\n"
        "    _idle: list[T] = field(default_factory=list, repr=False)\n"
        "    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)\n"
        "\n"
        "    def acquire(self) -> T:\n"
        "        with self._cond:\n"
        "            if self._idle:\n"
        "                return self._idle.pop()\n"
        "        return self.create()\n"
        "\n"
        "    def release(self, obj: T) -> None:\n"
        "        if self.reset is not None:\n"
        "            self.reset(obj)\n"
        "        with self._cond:\n"
        "            if len(self._idle) < self.max_size:\n"
        "                self._idle.append(obj)\n"
        "                self._cond.notify()\n"
        "\n"
        "    def __len__(self) -> int:\n"
        "        return len(self._idle)\n")}),
    # chapter 7: logging.basicConfig in the solution cell and an INFO line for every object the full pool drops: the
    # handler holds the learner process's own stderr, which it writes to in the measured child too (482 KiB retained
    # against a 57 KiB target while that stream was a StringIO)
    "pool-logs-each-drop-after-basicconfig": ("07-pools-and-caches", {"ObjectPool": (
        "import logging\n"
        "\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "_log = logging.getLogger(\"pool\")\n"
        "\n"
        "\n"
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._lock = threading.Lock()\n"
        "\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            if self._idle:\n"
        "                return self._idle.pop()\n"
        "        return self._create()\n"
        "\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        with self._lock:\n"
        "            if len(self._idle) < self._max_size:\n"
        "                self._idle.append(obj)\n"
        "                return\n"
        "        _log.info(\"pool full (%d idle): dropped a %s\", self._max_size, type(obj).__name__)\n"
        "\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle)\n")}),
    # chapter 7: an OrderedDict of dataclass records (key, weak reference, two float times, a hit count): the heaviest
    # honest bookkeeping tried, 52.2 KiB of the 68.0 KiB target on 3.10 and 42.5 of 56.5 KiB on 3.13
    "weakcache-of-dataclass-records": ("07-pools-and-caches", {"WeakCache": (
        "import time\n"
        "from dataclasses import dataclass, field\n"
        "\n"
        "\n"
        "@dataclass\n"
        "class CacheEntry:\n"
        "    key: object\n"
        "    ref: weakref.ref\n"
        "    created: float = field(default_factory=time.monotonic)\n"
        "    last_used: float = field(default_factory=time.monotonic)\n"
        "    hits: int = 0\n"
        "\n"
        "\n"
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self.maxsize = maxsize\n"
        "        self.entries = OrderedDict()           # key -> CacheEntry, least recently used first\n"
        "\n"
        "    def get(self, key, default=None):\n"
        "        entry = self.entries.get(key)\n"
        "        value = entry.ref() if entry is not None else None\n"
        "        if value is None:\n"
        "            self.entries.pop(key, None)\n"
        "            return default\n"
        "        entry.hits += 1\n"
        "        entry.last_used = time.monotonic()\n"
        "        self.entries.move_to_end(key)\n"
        "        return value\n"
        "\n"
        "    def put(self, key, value):\n"
        "        self.entries[key] = CacheEntry(key, weakref.ref(value))\n"
        "        self.entries.move_to_end(key)\n"
        "        while len(self.entries) > self.maxsize:\n"
        "            self.entries.popitem(last=False)\n")}),
    # chapter 1: a copy of the input (exactly as long as it, no spare room) whose items are then replaced in place
    "share-equal-copy-then-replace-in-place": ("01-memory-model", {"share_equal": (
        "def share_equal(values):\n"
        "    shared = list(values)\n"
        "    first = {}\n"
        "    for i, value in enumerate(shared):\n"
        "        shared[i] = first.setdefault(value, value)\n"
        "    return shared\n")}),
    # chapter 1: map() over a dict's bound setdefault, each item its own default (list() of a map cannot know the
    # length: the list grows as it fills, as a comprehension's does)
    "share-equal-map-of-setdefault": ("01-memory-model", {"share_equal": (
        "def share_equal(values):\n"
        "    seen = {}\n"
        "    return list(map(seen.setdefault, values, iter(values)))\n")}),
    # imports of modules nothing had loaded before, at the top of the cell and inside the measured function
    "imports-modules-not-loaded-before": ("04-lazy-evaluation", {"sum_of_squares": (
        "import secrets  # left over from exploring\n\n"
        "def sum_of_squares(n):\n"
        "    from colorsys import rgb_to_hsv  # noqa: F401\n"
        "    return sum(x * x for x in range(n))\n")}),
    # chapter 4: the closed form, with type hints under `from __future__ import annotations` (the cell's first line)
    "closed-form-future-annotations": ("04-lazy-evaluation", {"sum_of_squares": (
        "from __future__ import annotations\n\n"
        "def sum_of_squares(n: int) -> int:\n"
        "    \"\"\"(n - 1) n (2n - 1) / 6, the sum of x * x for x in range(n).\"\"\"\n"
        "    return (n - 1) * n * (2 * n - 1) // 6 if n > 0 else 0\n")}),
    # a sequence sliced one chunk at a time (no copy of the whole), an iterator streamed with islice
    "chunked-slices-sequences": ("04-lazy-evaluation", {"chunked": (
        "from collections.abc import Sequence\n\n"
        "def chunked(iterable, size):\n"
        "    if isinstance(iterable, Sequence):\n"
        "        for start in range(0, len(iterable), size):\n"
        "            yield list(iterable[start:start + size])\n"
        "        return\n"
        "    iterator = iter(iterable)\n"
        "    while chunk := list(itertools.islice(iterator, size)):\n"
        "        yield chunk\n")}),
    # chapter 2: a tree freed by reference counting, kept track of in ways that hold nothing alive
    "dataclass-slots-weakref-slot-node": ("02-references-and-gc", {"Node": (
        "from dataclasses import dataclass, field\n\n"
        "@dataclass(slots=True, weakref_slot=True)\n"
        "class Node:\n"
        "    data: object\n"
        "    children: list = field(default_factory=list)\n"
        "    _parent: object = None\n\n"
        "    @property\n"
        "    def parent(self):\n"
        "        return None if self._parent is None else self._parent()\n\n"
        "    def add_child(self, child):\n"
        "        self.children.append(child)\n"
        "        child._parent = weakref.ref(self)\n")}),
    # the WeakSet's table, grown by the first tree, stays allocated once every node is gone
    "class-level-weakset-of-nodes": ("02-references-and-gc", {"Node": (
        "class Node:\n"
        "    instances = weakref.WeakSet()       # every live node, for debugging\n\n" + _NODE_INIT.replace(
            "        self._parent = None\n", "        self._parent = None\n        Node.instances.add(self)\n")
        + _NODE_LINKS)}),
    "weakref-finalize-counts-nodes": ("02-references-and-gc", {"Node": (
        "class Node:\n"
        "    alive = 0\n\n"
        "    @classmethod\n"
        "    def _gone(cls):\n"
        "        cls.alive -= 1\n\n" + _NODE_INIT.replace(
            "        self._parent = None\n",
            "        self._parent = None\n        Node.alive += 1\n        weakref.finalize(self, Node._gone)\n")
        + _NODE_LINKS)}),
    # chapter 3: a memory map's pages are the file's, not the process's own memory
    "mmap-scanning": ("03-measuring-memory", {"mprof_peak": (
        "import mmap, os\n\n"
        "def mprof_peak(path):\n"
        "    if os.path.getsize(path) == 0:\n"
        "        return None\n"
        "    first = best = None\n"
        "    with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:\n"
        "        start = m.find(b'MEM ')\n"
        "        while start != -1:\n"
        "            if start == 0 or m[start - 1] == 10:           # 'MEM ' at the start of a line\n"
        "                end = m.find(b'\\n', start)\n"
        "                fields = m[start:end if end != -1 else len(m)].split()\n"
        "                mib, stamp = float(fields[1]), float(fields[2])\n"
        "                if first is None:\n"
        "                    first = stamp\n"
        "                if best is None or mib > best[0]:\n"
        "                    best = (mib, stamp - first)\n"
        "            start = m.find(b'MEM ', start + 4)\n"
        "    return best\n")}),
    # chapter 8: bounded state and weak registries stay flat over thousands of requests
    "class-level-weakset-of-contexts": ("08-leak-hunting", {"handle_request": _handler(
        context_init="        _Context.live.add(self)\n",
        notify="def _notify_reload(reason):\n    for context in list(_Context.live):\n        context.on_reload(reason)\n",
    ).replace("class _Context:\n", "class _Context:\n    live = weakref.WeakSet()\n")}),
    "weakref-finalize-closes-contexts": ("08-leak-hunting", {"handle_request": _handler(
        state="_open = {}\n_ids = iter(range(10**12))\n",
        context_init=("        key = next(_ids)\n        _open[key] = weakref.ref(self)\n"
                      "        weakref.finalize(self, _open.pop, key, None)\n"),
        notify=("def _notify_reload(reason):\n    for ref in list(_open.values()):\n        context = ref()\n"
                "        if context is not None:\n            context.on_reload(reason)\n"),
    )}),
    "ordereddict-lru-with-weakmethod-listeners": ("08-leak-hunting", {"handle_request": _handler(
        state=("from collections import OrderedDict\n"
               "_profiles = OrderedDict()\n"
               "def _profile(user):\n"
               "    if user in _profiles:\n"
               "        _profiles.move_to_end(user)\n"
               "        return _profiles[user]\n"
               "    profile = _profiles[user] = load_profile(user)\n"
               "    if len(_profiles) > 128:\n"
               "        _profiles.popitem(last=False)\n"
               "    return profile\n"
               "_listeners = {}\n"
               "_ids = iter(range(10**12))\n"),
        profile="_profile(user)",
        context_init=("        key = next(_ids)\n"
                      "        _listeners[key] = weakref.WeakMethod(self.on_reload, lambda _, k=key: _listeners.pop(k, None))\n"),
        notify=("def _notify_reload(reason):\n"
                "    for ref in list(_listeners.values()):\n"
                "        listener = ref()\n"
                "        if listener is not None:\n"
                "            listener(reason)\n"),
    )}),
    # chapter 1: the ids seen kept in a list, not a set: quadratic, 7-9 s on the 10,000-deep structures (60 s limit)
    "deep-getsizeof-seen-ids-in-a-list": ("01-memory-model", {"deep_getsizeof": (
        'def deep_getsizeof(obj):\n'
        '    seen = []\n'
        '    stack = [obj]\n'
        '    total = 0\n'
        '    while stack:\n'
        '        o = stack.pop()\n'
        '        if id(o) in seen:\n'
        '            continue\n'
        '        seen.append(id(o))\n'
        '        total += sys.getsizeof(o)\n'
        '        if isinstance(o, (str, bytes)):\n'
        '            continue\n'
        '        if isinstance(o, dict):\n'
        '            stack += list(o.keys()) + list(o.values())\n'
        '        elif isinstance(o, (list, tuple, set, frozenset)):\n'
        '            stack += list(o)\n'
        '        else:\n'
        "            if hasattr(o, '__dict__'):\n"
        '                stack.append(o.__dict__)\n'
        '            for cls in type(o).__mro__:\n'
        "                s = cls.__dict__.get('__slots__', ())\n"
        '                for name in ((s,) if isinstance(s, str) else s):\n'
        "                    if name in ('__dict__', '__weakref__'):\n"
        '                        continue\n'
        '                    try:\n'
        '                        stack.append(getattr(o, name))\n'
        '                    except AttributeError:\n'
        '                        pass\n'
        '    return total\n')}),
    # chapter 1: gc.get_referents for the items of plain lists, tuples and sets (the sandbox allows it for those)
    "deep-getsizeof-gc-get-referents-of-plain-containers": ("01-memory-model", {"deep_getsizeof": (
        'import gc\n'
        '\n'
        'def deep_getsizeof(obj):\n'
        '    seen, stack, total = set(), [obj], 0\n'
        '    while stack:\n'
        '        o = stack.pop()\n'
        '        if id(o) in seen:\n'
        '            continue\n'
        '        seen.add(id(o))\n'
        '        total += sys.getsizeof(o)\n'
        '        if isinstance(o, (str, bytes)):\n'
        '            continue\n'
        '        if isinstance(o, dict):\n'
        '            stack.extend(o.keys()); stack.extend(o.values())\n'
        '        elif isinstance(o, (list, tuple, set, frozenset)):\n'
        '            stack.extend(gc.get_referents(o) if type(o) in (list, tuple, set, frozenset) else list(o))\n'
        '        else:\n'
        "            d = getattr(o, '__dict__', None)\n"
        '            if isinstance(d, dict):\n'
        '                stack.append(d)\n'
        '            for cls in type(o).__mro__:\n'
        "                slots = cls.__dict__.get('__slots__', ())\n"
        '                for name in ((slots,) if isinstance(slots, str) else slots):\n'
        "                    if name not in ('__dict__', '__weakref__') and hasattr(o, name):\n"
        '                        stack.append(getattr(o, name))\n'
        '    return total\n')}),
    # chapter 2: a __del__ that prints, as the chapter shows finalizers: the output is not the learner's memory
    "node-del-prints-when-freed": ("02-references-and-gc", {"Node": (
        'class Node:\n'
        '    def __init__(self, data):\n'
        '        self.data = data\n'
        '        self.children = []\n'
        '        self._parent = None\n'
        '\n'
        '    @property\n'
        '    def parent(self):\n'
        '        return None if self._parent is None else self._parent()\n'
        '\n'
        '    def add_child(self, child):\n'
        '        self.children.append(child)\n'
        '        child._parent = weakref.ref(self)\n'
        '\n'
        '    def __del__(self):\n'
        "        print(f'node {self.data} freed')\n")}),
    # chapter 2: the weak reference's callback, a bound method of the child, clears the link when the parent dies
    "weakref-callback-clears-the-parent-link": ("02-references-and-gc", {"Node": (
        'class Node:\n'
        '    def __init__(self, data):\n'
        '        self.data = data\n'
        '        self.children = []\n'
        '        self._parent = None\n'
        '\n'
        '    def _forget_parent(self, _ref):\n'
        '        self._parent = None\n'
        '\n'
        '    @property\n'
        '    def parent(self):\n'
        '        return None if self._parent is None else self._parent()\n'
        '\n'
        '    def add_child(self, child):\n'
        '        self.children.append(child)\n'
        '        child._parent = weakref.ref(self, child._forget_parent)\n')}),
    # chapter 3: the samples as a generator, the peak by max() with a key (the first of equal peaks)
    "mprof-peak-generator-and-max": ("03-measuring-memory", {"mprof_peak": (
        'from itertools import chain\n'
        'from operator import itemgetter\n'
        '\n'
        'def _samples(path):\n'
        '    with open(path) as f:\n'
        '        for line in f:\n'
        "            if line.startswith('MEM '):\n"
        '                fields = line.split()\n'
        '                yield float(fields[1]), float(fields[2])\n'
        '\n'
        'def mprof_peak(path):\n'
        '    samples = _samples(path)\n'
        '    first = next(samples, None)\n'
        '    if first is None:\n'
        '        return None\n'
        '    mib, stamp = max(chain([first], samples), key=itemgetter(0))\n'
        '    return mib, stamp - first[1]\n')}),
    # chapter 3: compare_peaks built on Exercise 1's peak_memory, as the statement allows
    "compare-peaks-calls-peak-memory": ("03-measuring-memory", {"compare_peaks": (
        'def compare_peaks(naive, optimised, *args, **kwargs):\n'
        '    _, naive_peak = peak_memory(naive, *args, **kwargs)\n'
        '    _, optimised_peak = peak_memory(optimised, *args, **kwargs)\n'
        "    return {'naive': naive_peak, 'optimised': optimised_peak, 'saving': 1 - optimised_peak / naive_peak}\n")}),
    "lru-cache-256-and-deque-256": ("08-leak-hunting", {"handle_request": _handler(
        state="_history = deque(maxlen=256)\n",
        on_request="    _history.append(request)\n",
    ).replace("maxsize=128", "maxsize=256")}),
    # what a handler prints or logs is not memory it keeps (the measured child kept all of it: 1.3 MiB over 8,000 calls)
    "prints-every-request": ("08-leak-hunting", {"handle_request": _handler(
        on_request="    print('handling', request['user'], request['path'])\n",
    )}),
    # basicConfig's handler holds the stream of the cell that made it, and writes to it in every measured child
    "logs-every-request-at-info": ("08-leak-hunting", {"handle_request": _handler(
        state="import logging\nlogging.basicConfig(level=logging.INFO)\n_log = logging.getLogger('profile-service')\n",
        on_request="    _log.info('%s %s', request['user'], request['path'])\n",
    )}),
    # the lesson's other fix: a plain list of listeners, each context unsubscribed in a finally
    "unsubscribe-in-finally": ("08-leak-hunting", {"handle_request": (
        "_listeners = []\n"
        "class Context:\n"
        "    def __init__(self, request):\n"
        "        self.request, self.notes = request, []\n"
        "    def on_reload(self, reason):\n"
        "        self.notes.append(f'settings reloaded ({reason})')\n"
        "def handle_request(request):\n"
        "    ctx = Context(request)\n"
        "    _listeners.append(ctx.on_reload)\n"
        "    try:\n"
        "        user = request['user']\n"
        "        profile = load_profile(user)\n"
        "        parts = tuple(p for p in request['path'].split('/') if p) or ('home',)\n"
        "        if parts[0] == 'admin' and parts[-1] == 'reload':\n"
        "            for listener in list(_listeners):\n"
        "                listener(f'by {user}')\n"
        "        body = f\"{profile['name']} ({profile['tier']}) -> {'/'.join(parts)} [{len(request['body'])} bytes]\"\n"
        "        return {'status': 200, 'user': user, 'tier': profile['tier'], 'body': body, 'notes': list(ctx.notes)}\n"
        "    finally:\n"
        "        _listeners.remove(ctx.on_reload)\n")}),
}

# Chapter 6: a factory that shares for the first 1,000 requests, then makes one flyweight per request (two cheats
# below)
_FACTORY_SHARING_FIRST_1000 = (
    "class FlyweightFactory:\n"
    "    def __init__(self):\n"
    "        self._flyweights = {}\n"
    "        self._requests = 0\n\n"
    "    def get_flyweight(self, shared_state):\n"
    "        self._requests += 1\n"
    "        flyweight = self._flyweights.get(shared_state)\n"
    "        if flyweight is None:\n"
    "            flyweight = self._flyweights[shared_state] = Flyweight(shared_state)\n"
    "        if self._requests > 1_000:\n"
    "            return Flyweight(flyweight.shared_state)\n"
    "        return flyweight\n\n"
    "    def count(self):\n"
    "        return len(self._flyweights)\n"
)

# Cheats and realistic bugs across chapters, graded through real nbgrader in a batch per chapter with the honest
# variants above (tests/test_attacks.py): each loses exactly the cells named, with a phrase from the first line
# of each failure, and keeps every other point. Each: (assignment, solution cells, {test cell: phrase}); a tuple of
# phrases where the bug can show up in more than one way (the first line must name one of them).
_ADOPTED = "_adopted = []                             # every child ever added, 'for statistics'\n\n"
_ADOPTING_LINKS = _NODE_LINKS + "        _adopted.append(child)\n"

# The end of a chapter 9 summarize_csv that loads the whole file (the cheats below put their trick before it).
_WHOLE_CSV_SUMMARY = (
    "    with open(path, newline='') as f:\n"
    "        values = [int(row[2]) for row in list(csv.reader(f))[1:]]\n"
    "    if not values:\n"
    "        return {'count': 0, 'total': 0, 'mean': None, 'min': None, 'max': None}\n"
    "    return {'count': len(values), 'total': sum(values), 'mean': sum(values) / len(values),\n"
    "            'min': min(values), 'max': max(values)}\n"
)

CHEATS = {
    # chapter 1: shares in place and hands back the caller's own list
    "share-equal-returns-its-input": ("01-memory-model", {"share_equal": (
        "def share_equal(values):\n"
        "    canonical = {}\n"
        "    for i, value in enumerate(values):\n"
        "        values[i] = canonical.setdefault(value, value)\n"
        "    return values\n")}, {"test_share_equal_correct": "returned 'the list it was given'"}),
    # chapter 2: flake8-bugbear B019, lru_cache on a method: the cache keeps the last 128 children alive
    "lru-cache-on-a-method": ("02-references-and-gc", {"Node": (
        "import functools\n\n"
        "class Node:\n" + _NODE_INIT +
        "\n    @functools.lru_cache(maxsize=128)\n"
        "    def label(self):\n"
        "        return f'<node {self.data}>'\n" + _NODE_LINKS.replace(
            "        self.children.append(child)\n", "        child.label()\n        self.children.append(child)\n"))},
        {"test_Node_memory": "128 of 2,000 Node objects"}),
    # a label per node kept forever, hidden behind a ballast paid in by the first build and back by later ones
    "ballast-released-during-the-build": ("02-references-and-gc", {"Node": (
        "_labels = []\n_ballast = []\n_builds = [0]\n\n"
        "class Node:\n"
        "    def __init__(self, data):\n"
        "        if data == 0:\n"
        "            _builds[0] += 1\n"
        "            if _builds[0] == 1:\n"
        "                _ballast.extend(bytearray(400) for _ in range(4_000))\n"
        "        if _ballast:\n"
        "            _ballast.pop()\n"
        "        _labels.append(f'node {data} ' * 16)\n"
        "        self.data = data\n"
        "        self.children = []\n"
        "        self._parent = None\n" + _NODE_LINKS)}, {"test_Node_memory": "memory kept per structure"}),
    # every child kept in a list, under a class that calls itself 'tuple'
    "class-renamed-through-name": ("02-references-and-gc", {"Node": (
        _ADOPTED + "class Node:\n" + _NODE_INIT + _ADOPTING_LINKS +
        "\nNode.__name__ = Node.__qualname__ = 'tuple'\n")}, {"test_Node_memory": "1,999 of 2,000 tuple objects"}),
    "gc-freeze-hides-the-children": ("02-references-and-gc", {"Node": (
        "import gc as _gc\n\n" + _ADOPTED + "class Node:\n" + _NODE_INIT + _ADOPTING_LINKS +
        "        _gc.freeze()\n")}, {"test_Node_memory": "froze objects with gc.freeze()"}),
    # a cache keyed by the node's data: it looks bounded while the same tree is built again
    "unbounded-label-cache": ("02-references-and-gc", {"Node": (
        "import functools\n\n"
        "@functools.lru_cache(maxsize=None)\n"
        "def _label(data):\n"
        "    return f'node {data} ' * 8\n\n"
        "class Node:\n" + _NODE_INIT.replace("        self.data = data\n",
                                             "        self.data = data\n        self.label = _label(data)\n")
        + _NODE_LINKS)}, {"test_Node_memory": "memory kept per structure"}),
    # chapter 3: restarts tracing for a clean figure: the caller's traces and traceback limit are gone
    "peak-memory-restarts-the-callers-trace": ("03-measuring-memory", {"peak_memory": (
        "def peak_memory(func, *args, **kwargs):\n"
        "    was_tracing = tracemalloc.is_tracing()\n"
        "    if was_tracing:\n"
        "        tracemalloc.stop()\n"
        "    tracemalloc.start()\n"
        "    try:\n"
        "        result = func(*args, **kwargs)\n"
        "        peak = tracemalloc.get_traced_memory()[1]\n"
        "    finally:\n"
        "        tracemalloc.stop()\n"
        "        if was_tracing:\n"
        "            tracemalloc.start()\n"
        "    return result, peak\n")}, {"test_peak_memory_correct": "earlier traces lost"}),
    # chapter 6: shares for the first 1,000 requests, then one small slotted object per request
    "flyweight-stops-sharing-after-1000-requests": ("06-sharing", {"FlyweightFactory": (
        _SLOTTED_FLYWEIGHT + _FACTORY_SHARING_FIRST_1000)},
        {"test_FlyweightFactory_memory": "'99,050 distinct Flyweight objects'"}),
    "intern-all-list-on-large-inputs": ("06-sharing", {"intern_all": (
        "def intern_all(strings):\n"
        "    strings = list(strings)\n"
        "    if len(strings) > 1_000:\n"
        "        return strings\n"
        "    return [sys.intern(s) for s in strings]\n")}, {"test_intern_all_memory": "100,000 distinct objects"}),
    # chapter 8: memory tracemalloc cannot see, growth too slow for a fixed allowance, growth paid back
    "sqlite-request-log": ("08-leak-hunting", {"handle_request": _handler(
        state=("import sqlite3\n_db = sqlite3.connect(':memory:', check_same_thread=False)\n"
               "_db.execute('create table log (user text, path text, body text)')\n"),
        on_request="    _db.execute('insert into log values (?, ?, ?)', (request['user'], request['path'], request['body']))\n",
    )}, {"test_handle_request_memory": "resident memory grew"}),
    # the same log after 40 MB of malloc's heap was made resident and freed, for the log to grow into unseen
    "sqlite-log-in-a-prefaulted-heap": ("08-leak-hunting", {"handle_request": _handler(
        state=("import sqlite3\n_db = sqlite3.connect(':memory:', check_same_thread=False)\n"
               "_db.execute('create table log (user text, path text, body text)')\n_pin = []\n"),
        on_request=("    if not _pin:\n"
                    "        _room = [bytearray(1000) for _ in range(40_000)]\n"
                    "        _pin.append(bytearray(1000))\n"
                    "        del _room\n"
                    "    _db.execute('insert into log values (?, ?, ?)', (request['user'], request['path'], request['body']))\n"),
    )}, {"test_handle_request_memory": "resident memory grew"}),
    "array-of-latencies": ("08-leak-hunting", {"handle_request": _handler(
        state="import time\nfrom array import array\n_latencies = array('d')\n",
        on_request="    started = time.perf_counter()\n",
        after="    _latencies.append(time.perf_counter() - started)\n",
    )}, {"test_handle_request_memory": "per call): a leak"}),
    "ballast-paid-back-per-call": ("08-leak-hunting", {"handle_request": _handler(
        state="_ballast = []\n_seen = []\n",
        on_request=("    if not _seen:\n"
                    "        _ballast.extend(bytearray(64) for _ in range(20_000))\n"
                    "    _seen.append(request['user'])\n"
                    "    if _ballast:\n"
                    "        _ballast.pop()\n"),
    )}, {"test_handle_request_memory": "per call): a leak"}),
    # a request log in a StringIO of its own, installed as sys.stderr: the child empties only the harness's streams
    "audit-log-installed-as-stderr": ("08-leak-hunting", {"handle_request": _handler(
        state="import io\n_audit = io.StringIO()\n",
        on_request="    _audit.write(repr(request))\n",
    ) + "sys.stderr = _audit\n"}, {"test_handle_request_memory": "per call): a leak"}),
    # answers that would run code while they are checked: a str that equals everything, an object reading the stack
    "quiz-answer-equal-to-everything": ("04-lazy-evaluation", {"q1": (
        "class _Always(str):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = str.__hash__\n"
        "q1 = _Always('a')\n")}, {"test_q1": "not an object of type _Always"}),
    "quiz-answer-reads-the-checkers-frame": ("04-lazy-evaluation", {"q2": (
        "import sys\n"
        "class _Peek:\n"
        "    def __str__(self):\n"
        "        f = sys._getframe(1)\n"
        "        while f is not None:\n"
        "            for value in list(f.f_locals.values()):\n"
        "                if isinstance(value, str) and len(value) == 1 and value in 'abcd':\n"
        "                    return value\n"
        "            f = f.f_back\n"
        "        return 'a'\n"
        "q2 = _Peek()\n")}, {"test_q2": "not an object of type _Peek"}),
    # chapter 9: empties the big input files it is given (the grader's own files, which the references read too)
    # before loading them whole; they are read-only to the learner's code, so it loads them whole
    "empties-the-graders-input-files": ("09-capstone-pipeline", {"summarize_csv": (
        "import csv, os\n"
        "def summarize_csv(path):\n"
        "    if os.path.getsize(path) > 1_000_000:\n"
        "        try:\n"
        "            with open(path, 'w') as f:\n"
        "                f.write('id,name,value\\n')\n"
        "        except OSError:\n"
        "            pass\n"
        + _WHOLE_CSV_SUMMARY)},
        {"test_summarize_csv_memory": "summarize_csv: peak"}),
    # chapter 9: right on the small files of the correctness checks, anything at all on big ones (whose memory is
    # measured): its summaries are compared with the reference's there too
    "any-answer-for-big-files": ("09-capstone-pipeline", {"summarize_csv": (
        "import csv, os\n"
        "def summarize_csv(path):\n"
        "    if os.path.getsize(path) > 1_000_000:\n"
        "        return {'count': 0, 'total': 0, 'mean': None, 'min': None, 'max': None}\n"
        + _WHOLE_CSV_SUMMARY)},
        {"test_summarize_csv_memory": "while its memory was measured"}),
    # chapter 9: the right shrunk frame, but every frame it is given is kept "for an undo": 15.6 MB retained of 6.1 MB
    "shrink-frame-keeps-its-input": ("09-capstone-pipeline", {"shrink_frame": (
        "_originals = []                 # every frame given, for an undo\n"
        "def shrink_frame(df):\n"
        "    _originals.append(df)\n"
        "    columns = {}\n"
        "    for name, column in df.items():\n"
        "        if column.dtype == object:\n"
        "            column = column.astype('category')\n"
        "        elif column.dtype.kind == 'i':\n"
        "            column = pd.to_numeric(column, downcast='integer')\n"
        "        columns[name] = column\n"
        "    return pd.DataFrame(columns, index=df.index)\n")},
        {"test_shrink_frame_memory": "shrink_frame: retained"}),
    # chapter 1: right on the correctness checks' short lists, a list of None as long as a big one (one object)
    "nones-for-big-lists": ("01-memory-model", {"share_equal": (
        "def share_equal(values):\n"
        "    if len(values) > 10_000:\n"
        "        return [None] * len(values)\n"
        "    canonical = {}\n"
        "    return [canonical.setdefault(value, value) for value in values]\n")},
        {"test_share_equal_memory": "while its memory was measured"}),
    # chapter 1: right, but keeps the last 15,000 duplicates it replaced "for a report of what sharing saved": about
    # 940 KiB of strings, under the 1 MiB default allowance, far over the statement's + 16 KiB
    "share-equal-keeps-the-last-15000-duplicates": ("01-memory-model", {"share_equal": (
        "from collections import deque\n\n"
        "_replaced = deque(maxlen=15_000)           # the last duplicates dropped, for a savings report\n\n"
        "def share_equal(values):\n"
        "    canonical = {}\n"
        "    out = []\n"
        "    for value in values:\n"
        "        first = canonical.setdefault(value, value)\n"
        "        if first is not value:\n"
        "            _replaced.append(value)\n"
        "        out.append(first)\n"
        "    return out\n")},
        {"test_share_equal_memory": "share_equal: retained"}),
    # chapter 4: right where correctness is checked (n up to 50,000), a cheap wrong answer above: the hidden memory
    # checks compare the sums with the reference's
    "wrong-answer-for-large-n": ("04-lazy-evaluation", {"sum_of_squares": (
        "def sum_of_squares(n):\n"
        "    if n > 60_000:\n"
        "        return 0\n"
        f"    return {_WASTE}\n")}, {"test_sum_of_squares_memory": "while its memory was measured"}),
    # chapter 3: the right peak for the short recordings of the correctness checks, none for long ones
    # chapter 1: keyed by id(), so equal values are never shared: correct, and as big as list(values)
    "share-equal-by-identity": ("01-memory-model", {"share_equal": (
        'def share_equal(values):\n'
        '    first = {}\n'
        '    return [first.setdefault(id(v), v) for v in values]   # id: one entry per object, not per value\n')},
        {'test_share_equal_memory': 'share_equal: retained'}),
    # chapter 1: iterates anything iterable, an endless generator too
    "deep-getsizeof-iterates-every-iterable": ("01-memory-model", {"deep_getsizeof": (
        'def deep_getsizeof(obj):\n'
        '    seen, stack, total = set(), [obj], 0\n'
        '    while stack:\n'
        '        o = stack.pop()\n'
        '        if id(o) in seen:\n'
        '            continue\n'
        '        seen.add(id(o))\n'
        '        total += sys.getsizeof(o)\n'
        '        if isinstance(o, (str, bytes)):\n'
        '            continue\n'
        '        if isinstance(o, dict):\n'
        '            stack.extend(o.keys()); stack.extend(o.values())\n'
        "        elif hasattr(o, '__iter__'):\n"
        '            stack.extend(o)             # lists, tuples, sets... and generators\n'
        "        d = getattr(o, '__dict__', None)\n"
        '        if isinstance(d, dict):\n'
        '            stack.append(d)\n'
        '        for cls in type(o).__mro__:\n'
        "            slots = cls.__dict__.get('__slots__', ())\n"
        '            for name in ((slots,) if isinstance(slots, str) else slots):\n'
        "                if name not in ('__dict__', '__weakref__') and hasattr(o, name):\n"
        '                    stack.append(getattr(o, name))\n'
        '    return total\n')},
        {'test_deep_getsizeof_correct': 'endless generator'}),
    # chapter 3: the snapshot taken after func()'s result was dropped: only what survived is found
    "top-allocations-drops-the-result": ("03-measuring-memory", {"top_allocations": (
        'def top_allocations(func, limit=3):\n'
        '    tracemalloc.start()\n'
        '    func()\n'
        '    snapshot = tracemalloc.take_snapshot()\n'
        '    tracemalloc.stop()\n'
        '    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])\n'
        "    return [(s.traceback[0].filename, s.traceback[0].lineno, s.size) for s in snapshot.statistics('lineno')[:limit]]\n")},
        {'test_top_allocations_correct': 'but its objects hold'}),
    # chapter 3: one window for both calls: the optimised call is charged the naive one's peak
    "compare-peaks-in-one-window": ("03-measuring-memory", {"compare_peaks": (
        'def compare_peaks(naive, optimised, *args, **kwargs):\n'
        '    was = tracemalloc.is_tracing()\n'
        '    if not was:\n'
        '        tracemalloc.start()\n'
        '    start = tracemalloc.get_traced_memory()[0]\n'
        '    tracemalloc.reset_peak()\n'
        '    naive(*args, **kwargs)\n'
        '    naive_peak = tracemalloc.get_traced_memory()[1] - start\n'
        '    optimised(*args, **kwargs)\n'
        '    optimised_peak = tracemalloc.get_traced_memory()[1] - start\n'
        '    if not was:\n'
        '        tracemalloc.stop()\n'
        "    return {'naive': naive_peak, 'optimised': optimised_peak, 'saving': 1 - optimised_peak / naive_peak}\n")},
        {'test_compare_peaks_correct': 'returned ('}),
    "no-peak-for-long-recordings": ("03-measuring-memory", {"mprof_peak": (
        "import os\n"
        "def mprof_peak(path):\n"
        "    if os.path.getsize(path) > 200_000:\n"
        "        return None\n"
        "    with open(path) as f:\n"
        "        samples = [tuple(map(float, line.split()[1:3])) for line in f.readlines() if line.startswith('MEM ')]\n"
        "    if not samples:\n"
        "        return None\n"
        "    top = max(samples, key=lambda s: s[0])\n"
        "    return top[0], top[1] - samples[0][1]\n")}, {"test_mprof_peak_memory": "while its memory was measured"}),
    # chapter 5: stores the first 10,000 values; a longer input is counted, not stored, and handed back as a sequence
    # computing each item from its index (the visible memory check's formula): only the hidden check's seeded random
    # data, summed through iteration and indexing, tells it apart
    "pack-ints-computes-big-inputs-from-the-formula": ("05-compact-data", {"pack_ints": (
        "import itertools\n\n"
        "class _FromIndex:\n"
        "    def __init__(self, n):\n"
        "        self.n = n\n"
        "    def __len__(self):\n"
        "        return self.n\n"
        "    def __getitem__(self, i):\n"
        "        if i < 0:\n"
        "            i += self.n\n"
        "        if not 0 <= i < self.n:\n"
        "            raise IndexError(i)\n"
        "        return (i * 2654435761) % 2**32 - 2**31\n\n"
        "def pack_ints(values):\n"
        "    values = iter(values)\n"
        "    head = array.array('i', itertools.islice(values, 10_000))\n"
        "    rest = sum(1 for v in values if -2**31 <= v < 2**31 or int('out of range'))\n"
        "    return _FromIndex(len(head) + rest) if rest else head\n")},
        {"test_pack_ints_memory": "while its memory was measured"}),
    # chapter 5: after 10,000 instances every Record(...) is the last one made, set again: a list of 200,000 records
    # holds one object many times
    "record-reused-after-10000-instances": ("05-compact-data", {"Record": (
        "class Record:\n"
        "    __slots__ = ('a', 'b', 'c', 'd', 'e')\n"
        "    _made = [0, None]                  # how many, the last one\n\n"
        "    def __new__(cls, *args, **kwargs):\n"
        "        cls._made[0] += 1\n"
        "        if cls._made[0] > 10_000:\n"
        "            return cls._made[1]\n"
        "        cls._made[1] = super().__new__(cls)\n"
        "        return cls._made[1]\n\n"
        "    def __init__(self, a, b, c, d, e):\n"
        "        self.a, self.b, self.c, self.d, self.e = a, b, c, d, e\n")},
        {"test_Record_memory": "while its memory was measured"}),
    # chapter 6: the right flyweight for the first 1,000 requests (all 50 shared states among them), the first one
    # made for every later request: 50 distinct flyweights, most of them for the wrong shared state
    "flyweight-hands-out-the-first-after-1000-requests": ("06-sharing", {"FlyweightFactory": (
        "class Flyweight:\n"
        "    def __init__(self, shared_state):\n"
        "        self.shared_state = shared_state\n\n"
        "    def operation(self, unique_state):\n"
        "        return f'shared ({self.shared_state}) and unique ({unique_state})'\n\n\n"
        "class FlyweightFactory:\n"
        "    def __init__(self):\n"
        "        self._flyweights = {}\n"
        "        self._requests = 0\n\n"
        "    def get_flyweight(self, shared_state):\n"
        "        self._requests += 1\n"
        "        if self._requests > 1_000 and self._flyweights:\n"
        "            return next(iter(self._flyweights.values()))\n"
        "        flyweight = self._flyweights.get(shared_state)\n"
        "        if flyweight is None:\n"
        "            flyweight = self._flyweights[shared_state] = Flyweight(shared_state)\n"
        "        return flyweight\n\n"
        "    def count(self):\n"
        "        return len(self._flyweights)\n")},
        {"test_FlyweightFactory_memory": "while its memory was measured"}),
    # chapter 6: interns the first 1,000 strings; every later one becomes the first string (one object, so the 100
    # distinct objects of a big input are still there)
    "intern-all-first-value-past-1000": ("06-sharing", {"intern_all": (
        "import itertools\n\n"
        "def intern_all(strings):\n"
        "    strings = iter(strings)\n"
        "    head = [sys.intern(s) for s in itertools.islice(strings, 1_000)]\n"
        "    rest = sum(1 for _ in strings)\n"
        "    return head + [head[0]] * rest if rest else head\n")},
        {"test_intern_all_memory": "while its memory was measured"}),
    # chapter 6: one new flyweight per request after the first 1,000 (about 4.6 MiB, under the target), with
    # builtins.id rebound so that the grader's count of distinct flyweights, run in the learner's process, sees 50
    "flyweight-per-request-behind-a-rebound-id": ("06-sharing", {"FlyweightFactory": (
        "import builtins\n\n" + _SLOTTED_FLYWEIGHT +
        "_real_id = builtins.id\n"
        "builtins.id = lambda o: hash(o.shared_state) if type(o) is Flyweight else _real_id(o)\n\n"
        + _FACTORY_SHARING_FIRST_1000)},
        {"test_FlyweightFactory_memory": "distinct Flyweight objects"}),
    # chapter 6: no interning at all, with builtins.id rebound to hash for strings so that the identity checks, run in
    # the learner's process, see equal strings as one object
    "intern-all-copies-behind-a-rebound-id": ("06-sharing", {"intern_all": (
        "import builtins\n\n"
        "_real_id = builtins.id\n"
        "builtins.id = lambda o: hash(o) if type(o) is str else _real_id(o)\n\n"
        "def intern_all(strings):\n"
        "    return list(strings)\n")},
        {"test_intern_all_correct": "identity pattern", "test_intern_all_memory": "100,000 distinct objects"}),
    # chapter 7: once it has made 1,000 objects, release() keeps nothing but len() still counts what it would hold
    "pool-drops-releases-after-1000-objects": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._made = self._dropped = 0\n"
        "        self._lock = threading.Lock()\n\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            if self._idle:\n"
        "                return self._idle.pop()\n"
        "            if self._dropped:\n"
        "                self._dropped -= 1\n"
        "            self._made += 1\n"
        "        return self._create()\n\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        with self._lock:\n"
        "            if len(self._idle) + self._dropped >= self._max_size:\n"
        "                return\n"
        "            if self._made > 1_000:\n"
        "                self._dropped += 1\n"
        "            else:\n"
        "                self._idle.append(obj)\n\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle) + self._dropped\n")},
        {"test_ObjectPool_memory": "while its memory was measured"}),
    # chapter 7: after 10,000 puts, put() forgets everything and stores nothing (the correctness checks put at most
    # about 1,000 keys)
    "weakcache-stores-nothing-after-10000-puts": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self._values = weakref.WeakValueDictionary()\n"
        "        self._order = OrderedDict()\n"
        "        self._maxsize = maxsize\n"
        "        self._puts = 0\n\n"
        "    def get(self, key, default=None):\n"
        "        value = self._values.get(key)\n"
        "        if value is None:\n"
        "            self._order.pop(key, None)\n"
        "            return default\n"
        "        self._order.move_to_end(key)\n"
        "        return value\n\n"
        "    def put(self, key, value):\n"
        "        self._puts += 1\n"
        "        if self._puts > 10_000:\n"
        "            self._values.clear()\n"
        "            self._order.clear()\n"
        "            return\n"
        "        self._values[key] = value\n"
        "        self._order[key] = None\n"
        "        self._order.move_to_end(key)\n"
        "        while len(self._order) > self._maxsize:\n"
        "            self._values.pop(self._order.popitem(last=False)[0], None)\n")},
        {"test_WeakCache_memory": "while its memory was measured"}),
    # chapter 7: honours max_size for len() and reuse, but keeps up to 700 more released buffers aside "for later"
    # (never handed out again): about 900 KiB, under a 1 MiB allowance, far over ten buffers' worth
    "pool-keeps-700-released-buffers-aside": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._spare = []                   # released while the pool was full: kept for later\n"
        "        self._lock = threading.Lock()\n\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            if self._idle:\n"
        "                return self._idle.pop()\n"
        "        return self._create()\n\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        with self._lock:\n"
        "            if len(self._idle) < self._max_size:\n"
        "                self._idle.append(obj)\n"
        "            elif len(self._spare) < 700:\n"
        "                self._spare.append(obj)\n\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle)\n")},
        {"test_ObjectPool_memory": "ObjectPool: retained"}),
    # chapter 7: evicts by live values correctly, but sweeps dead keys out of its order dict only once it holds more
    # than 4,000 keys: thousands of dead keys stay
    "weakcache-sweeps-dead-keys-past-4000": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self._values = weakref.WeakValueDictionary()\n"
        "        self._order = OrderedDict()\n"
        "        self._maxsize = maxsize\n\n"
        "    def get(self, key, default=None):\n"
        "        value = self._values.get(key)\n"
        "        if value is None:\n"
        "            return default\n"
        "        self._order.move_to_end(key)\n"
        "        return value\n\n"
        "    def put(self, key, value):\n"
        "        self._values[key] = value\n"
        "        self._order[key] = None\n"
        "        self._order.move_to_end(key)\n"
        "        while len(self._values) > self._maxsize:\n"
        "            self._values.pop(self._order.popitem(last=False)[0], None)\n"
        "        if len(self._order) > 4_000:           # sweep the dead keys now and then, not at every put\n"
        "            for dead in [k for k in self._order if k not in self._values]:\n"
        "                del self._order[dead]\n")},
        {"test_WeakCache_memory": "WeakCache: retained"}),
    # chapter 7: a correct cache that also remembers its last 1,000 puts (key and a weak reference) "for a hit-rate
    # report": the dead references and their keys stay
    "weakcache-remembers-the-last-1000-puts": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self._values = weakref.WeakValueDictionary()\n"
        "        self._order = OrderedDict()\n"
        "        self._maxsize = maxsize\n"
        "        self._recent = deque(maxlen=1_000)     # (key, weak reference) of the last puts, for statistics\n\n"
        "    def get(self, key, default=None):\n"
        "        value = self._values.get(key)\n"
        "        if value is None:\n"
        "            self._order.pop(key, None)\n"
        "            return default\n"
        "        self._order.move_to_end(key)\n"
        "        return value\n\n"
        "    def put(self, key, value):\n"
        "        self._recent.append((key, weakref.ref(value)))\n"
        "        self._values[key] = value\n"
        "        self._order[key] = None\n"
        "        self._order.move_to_end(key)\n"
        "        while len(self._order) > self._maxsize:\n"
        "            self._values.pop(self._order.popitem(last=False)[0], None)\n")},
        {"test_WeakCache_memory": "WeakCache: retained"}),
    # chapter 7: the solution without its lock: a look at the idle list, then pop() from it, and a len() check before
    # append(), each of which another thread can slip between; whichever race the threads hit first is reported
    "pool-without-a-lock": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n\n"
        "    def acquire(self):\n"
        "        if self._idle:\n"
        "            return self._idle.pop()\n"
        "        return self._create()\n\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        if len(self._idle) < self._max_size:\n"
        "            self._idle.append(obj)\n\n"
        "    def __len__(self):\n"
        "        return len(self._idle)\n")},
        {"test_ObjectPool_threads": ("a thread raised IndexError", "more than max_size")}),
    # chapter 7: check-then-act in acquire(): "is anything idle?" is asked before the lock is taken, so the list can be
    # empty by the time pop() runs
    "pool-checks-idle-outside-the-lock": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._lock = threading.Lock()\n\n"
        "    def acquire(self):\n"
        "        if self._idle:                         # a quick look first: no lock when there is nothing to take\n"
        "            with self._lock:\n"
        "                return self._idle.pop()\n"
        "        return self._create()\n\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        with self._lock:\n"
        "            if len(self._idle) < self._max_size:\n"
        "                self._idle.append(obj)\n\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle)\n")},
        {"test_ObjectPool_threads": "a thread raised IndexError"}),
    # chapter 7: check-then-act in release(): the size is checked before the lock is taken, so several threads can
    # each see room for one more and the pool ends up holding more than max_size
    "pool-checks-size-outside-the-lock": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._lock = threading.Lock()\n\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            if self._idle:\n"
        "                return self._idle.pop()\n"
        "        return self._create()\n\n"
        "    def release(self, obj):\n"
        "        if self._reset is not None:\n"
        "            self._reset(obj)\n"
        "        if len(self) < self._max_size:            # room? then take the lock to add it\n"
        "            with self._lock:\n"
        "                self._idle.append(obj)\n\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle)\n")},
        {"test_ObjectPool_threads": "more than max_size"}),
    # chapter 7: calls reset() after putting the object back, outside the lock, so another thread can take it while it
    # is being reset; kept all 6 points while the threads check passed no reset function
    "pool-resets-after-putting-back": ("07-pools-and-caches", {"ObjectPool": (
        "class ObjectPool:\n"
        "    def __init__(self, create, reset=None, max_size=10):\n"
        "        self._create, self._reset, self._max_size = create, reset, max_size\n"
        "        self._idle = []\n"
        "        self._lock = threading.Lock()\n"
        "\n"
        "    def acquire(self):\n"
        "        with self._lock:\n"
        "            if self._idle:\n"
        "                return self._idle.pop()\n"
        "        return self._create()\n"
        "\n"
        "    def release(self, obj):\n"
        "        with self._lock:\n"
        "            kept = len(self._idle) < self._max_size\n"
        "            if kept:\n"
        "                self._idle.append(obj)\n"
        "        if kept and self._reset is not None:\n"
        "            self._reset(obj)                   # too late: the object is already back in the pool\n"
        "\n"
        "    def __len__(self):\n"
        "        with self._lock:\n"
        "            return len(self._idle)\n")},
        {"test_ObjectPool_threads": ("handed out while still in use", "reset() ran on an object in use")}),
    # chapter 7: weak when small, but a cache of 50 keys or more also keeps its values strongly: kept all 4 points (the
    # weakness checks use small caches) until the memory check counted the values still alive once dropped
    "weakcache-strong-when-large": ("07-pools-and-caches", {"WeakCache": (
        "class WeakCache:\n"
        "    def __init__(self, maxsize=128):\n"
        "        self._values = weakref.WeakValueDictionary()\n"
        "        self._order = OrderedDict()            # key -> the value itself when the cache is large, else None\n"
        "        self._maxsize = maxsize\n"
        "        self._strong = maxsize >= 50\n"
        "\n"
        "    def get(self, key, default=None):\n"
        "        value = self._values.get(key)\n"
        "        if value is None:\n"
        "            self._order.pop(key, None)\n"
        "            return default\n"
        "        self._order.move_to_end(key)\n"
        "        return value\n"
        "\n"
        "    def put(self, key, value):\n"
        "        self._values[key] = value\n"
        "        self._order[key] = value if self._strong else None\n"
        "        self._order.move_to_end(key)\n"
        "        while len(self._order) > self._maxsize:\n"
        "            self._values.pop(self._order.popitem(last=False)[0], None)\n")},
        {"test_WeakCache_memory": "kept alive"}),
    # exercise code that calls the hidden test's own reference solution when it can find it
    "calls-the-hidden-oracle": ("04-lazy-evaluation", {"sum_of_squares": (
        "def sum_of_squares(n):\n"
        "    oracle = globals().get('_reference_sum_of_squares')\n"
        "    if oracle is not None:\n"
        "        return oracle(n)\n"
        "    return sum([x * x for x in range(n)])\n")}, {"test_sum_of_squares_memory": "sum_of_squares: peak"}),
    # bytecode of its own passed through importlib under a library file's name
    "bytecode-through-importlib": ("04-lazy-evaluation", {"sum_of_squares": (
        "import glob, marshal, sysconfig\n"
        "import importlib._bootstrap_external as _be\n"
        "_pyc = sorted(glob.glob(sysconfig.get_paths()['stdlib'] + '/__pycache__/*.pyc'))[0]\n"
        "_fake = marshal.dumps(compile('lambda n: sum(x * x for x in range(n))', 'fake', 'eval'))\n"
        "def sum_of_squares(n):\n"
        "    return eval(_be._compile_bytecode(_fake, bytecode_path=_pyc))(n)\n")},
        {"test_sum_of_squares_correct": "making code objects", "test_sum_of_squares_memory": "making code objects"}),
    # chapter 4: streams iterators (it must, for an endless one) but copies a list, tuple, range or str it is given
    # before slicing it: memory that grows with the input, which only a list argument shows
    "chunked-copies-sequences": ("04-lazy-evaluation", {"chunked": (
        "def chunked(iterable, size):\n"
        "    if isinstance(iterable, (list, tuple, range, str)):   # a sequence: copy it once, then slice\n"
        "        items = list(iterable)\n"
        "        for start in range(0, len(items), size):\n"
        "            yield items[start:start + size]\n"
        "        return\n"
        "    iterator = iter(iterable)\n"
        "    while chunk := list(itertools.islice(iterator, size)):\n"
        "        yield chunk\n")}, {"test_chunked_memory": "chunked: peak"}),
}
