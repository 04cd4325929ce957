"""Submissions that try to fool the memory grading of chapter 4, and what catches each one.

Every trick is a set of solution cells (grade_id -> source) for 04-lazy-evaluation.
``caught`` is a phrase that must appear in a failed test cell's message; ``limit``
instead marks a trick the autograder cannot defeat, with the reason -- each limit
is described in course/instructor-guide.md. The honest entries must score full marks.
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
        caught="another process",
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
        caught="tracemalloc saw a peak of only",
    ),
    "small-hidden-store-in-mmap": dict(
        # 2 bytes per item read, off the books: under 1 MiB at the graded sizes, clearly below the threshold
        answers={"chunked": "import mmap, struct\n"
                            "def chunked(iterable, size):\n"
                            "    store = mmap.mmap(-1, 4 * 2**20)\n    chunk = []\n"
                            "    for item in iterable:\n"
                            "        if isinstance(item, int) and store.tell() + 2 <= len(store):\n"
                            "            store.write(struct.pack('H', item & 0xFFFF))\n"
                            "        chunk.append(item)\n"
                            "        if len(chunk) == size:\n            yield chunk\n            chunk = []\n"
                            "    if chunk:\n        yield chunk\n"},
        limit="memory tracemalloc cannot see (mmap, ctypes, C extensions) is caught by the resident-memory signal "
              "only beyond 2 MiB + 5x the traced peak (+ the reference's resident growth); a store under 1 MiB passes",
    ),
    "efficient-only-on-the-graders-thread": dict(
        answers={"sum_of_squares": "import threading\ndef sum_of_squares(n):\n"
                                   "    if threading.current_thread() is not threading.main_thread():\n"
                                   f"        return sum(x * x for x in range(n))\n    return {_WASTE}\n"},
        limit="code can inspect its surroundings (thread, stack, process id) and tell that it is being graded; "
              "it then scores what it does when graded, which only cheats the learner",
    ),
}

# Tricks only a real kernel and nbgrader's own process can catch: graded by tests/test_pipeline.py
# as extra students of 04-lazy-evaluation. Each: solution cells, and {test cell: phrase in its failure}.
KERNEL_TRICKS = {
    "replaces-the-checks": (
        {"sum_of_squares": "import autograder\n_noop = lambda *args, **kwargs: None\n"
                           "autograder.check_memory = autograder.check_scaling = _noop\n"
                           "check_memory = check_scaling = _noop\n"
                           f"def sum_of_squares(n):\n    return {_WASTE}\n"},
        {"test_sum_of_squares_memory": "checks did not all run"},
    ),
    "hides-the-check-output": (
        {"sum_of_squares": "import IPython.display\nIPython.display.display = lambda *args, **kwargs: None\n"
                           "import autograder.report\nautograder.report._ipython_display = lambda: None\n"
                           "def sum_of_squares(n):\n    return sum(x * x for x in range(n))\n"},
        {"test_sum_of_squares_memory": "checks did not all run"},
    ),
}
