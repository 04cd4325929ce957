"""Leak programs, run by the measured child's main thread (see :mod:`autograder.child`).

* :func:`freed`: with the cycle collector off, the learner's ``build()`` runs on its
  own thread, twice; each time the main thread records every tracked object reachable
  from what it returned and allocated during the build (by identity and type), drops
  it, and lists the recorded objects still alive -- whatever their class is called.
  Memory left behind is the positive growth per allocation site, so churn cancels but
  a ballast released during the build cannot hide a leak; the second round shows what
  every further structure leaves (a registry's table, grown by the first, is reused).
* :func:`no_growth`: the learner's operation runs in a warm-up, then in two windows
  of N and 4N calls; between windows the main thread collects garbage, reads the
  growth per allocation site, gives free malloc pages back and lets the parent read
  the anonymous resident memory (which sees SQLite and C allocations tracemalloc cannot).

Both empty, before every reading, what printing keeps in memory (the learner process's
streams, which a logging handler made in a cell writes to): printed text is not memory the
code keeps. The child's own output goes to a file.

Everything here runs on the main thread, which never runs the learner's code
except its finalizers when a dropped structure dies; it uses only functions bound
when the module is loaded (in the grading sandbox it is loaded privately).
"""

from __future__ import annotations

from _tracemalloc import _get_traces
from gc import collect as _collect
from gc import disable as _disable
from gc import enable as _enable
from gc import get_objects as _get_objects
from gc import get_referents as _get_referents
from gc import is_tracked as _is_tracked
from sysconfig import get_paths as _get_paths

from . import learner_thread, tamper

try:  # glibc's malloc_trim: free pages inside malloc's heap stop being resident (bound before any learner code)
    import ctypes as _ctypes

    _malloc_trim = _ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError, ImportError):
    _malloc_trim = None

FRAMES = 16  # deep enough to find the learner's line under library calls, and a thread's learner frames
FREE_LIST_WARMING = 2100  # objects of each kind allocated and dropped to fill the interpreter's free lists
WARMED_TUPLE_SIZES = range(1, 11)
FREE_LIST_CAPACITY = 200  # lists, dicts, floats: their free lists hold 80-100  # the tuple free lists that fill up in ordinary structures
TOP_SITES = 3
ROUNDS = 2  # freed: the second build shows what every further structure leaves behind
TOP_TYPES = 5

_type_name = type.__dict__["__name__"].__get__  # the class's own name, without running a metaclass's code
# An object's identity without id(): id() raises an audit event, and the grading sandbox's hook (a Python function)
# would run for every one of the hundreds of thousands of objects a leak check visits. object.__hash__ is the
# object's address rotated by four bits -- as unique among live objects as id() -- and runs no learner code.
_identity = object.__hash__
_REPEAT = (None,) * FREE_LIST_WARMING  # iterating a tuple allocates nothing, unlike range() past 256
_calls = learner_thread.calls
_HERE = __file__.rsplit("/", 1)[0] + "/"
_CHILD = _HERE + "child.py"  # the measured child's main thread runs from there
_LIBRARY = tuple(sorted({p + "/" for p in (_get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib"))
                         if p}))


_owners: dict = {}


def _owner(filename: str) -> str:
    """'harness' for the autograder's own files, 'library' for the standard library and site-packages, else 'learner'."""
    who = _owners.get(filename)
    if who is None:
        if filename.startswith(_HERE):
            who = "harness"
        elif filename.startswith(_LIBRARY) or filename.startswith("<frozen") or filename == "<string>":
            who = "library"
        else:
            who = "learner"
        _owners[filename] = who
    return who


def _warm_free_lists() -> None:
    """Fill the interpreter's free lists with the harness's own objects, so the learner's build is not shaped by them."""
    junk = []
    for size in WARMED_TUPLE_SIZES:
        longer = tuple(range(size + 1))
        junk.extend([longer[:size] for _ in _REPEAT])  # one allocation per tuple: each is traced, at a cost
    junk.extend([i] for i in range(FREE_LIST_CAPACITY))
    junk.extend({i: i} for i in range(FREE_LIST_CAPACITY))
    junk.extend(i + 0.5 for i in range(FREE_LIST_CAPACITY))
    junk.clear()


def _by_site() -> dict:
    """Traced bytes per allocation traceback, the harness's own bookkeeping left out."""
    # _tracemalloc shares one tuple per distinct traceback: group by it, classify each group once. Every object
    # made here is traced at a cost, so nothing is made per trace: the tuple's hash allocates nothing, and the
    # sizes are summed in C at the end instead of one int at a time.
    groups: dict = {}
    for trace in _get_traces():
        sizes_of = groups.get(trace[2])
        if sizes_of is None:
            groups[trace[2]] = [trace[1]]
        else:
            sizes_of.append(trace[1])
    return {frames: sum(sizes_of) for frames, sizes_of in groups.items() if not _is_harness(frames)}


def _is_harness(frames: tuple) -> bool:
    """An allocation of the harness's own bookkeeping on the child's main thread.

    ``frames`` are innermost first. The innermost frame that is not a library's must
    be the autograder's, and the main thread's program must be on the stack: the
    learner's thread starts elsewhere, so an autograder function called by the
    learner's code there is charged to the learner.
    """
    for filename, _ in frames:
        who = _owner(filename)
        if who == "learner":
            return False
        if who == "harness":
            return any(f[0] == _CHILD for f in frames)
    return False


def _growth(before: dict, after: dict) -> tuple[int, list]:
    """(sum of the positive growth per site, the sites that grew most as (frames, bytes))."""
    grown = []
    total = 0
    for frames, size in after.items():
        delta = size - before.get(frames, 0)
        if delta > 0:
            total += delta
            grown.append((frames, delta))
    grown.sort(key=lambda fd: fd[1], reverse=True)
    return total, grown[:50]


def _learner_line(frames: tuple):
    """(filename, lineno) of the innermost learner frame of a traceback (innermost first), or None."""
    for filename, lineno in frames:
        if _owner(filename) == "learner":
            return filename, lineno
    return None


def _sites(grown: list) -> list:
    """[(filename, lineno, bytes, blocks)] of the learner lines that grew most."""
    lines: dict = {}
    for frames, delta in grown:
        where = _learner_line(frames)
        if where is not None:
            lines[where] = lines.get(where, 0) + delta
    ranked = sorted(lines.items(), key=lambda kv: kv[1], reverse=True)[:TOP_SITES]
    return [(filename, lineno, size) for (filename, lineno), size in ranked]


def _type_counts() -> dict:
    counts: dict = {}
    for obj in _get_objects():
        name = _type_name(type(obj))
        counts[name] = counts.get(name, 0) + 1
    return counts


# --------------------------------------------------------------------------- freed


def freed(session, build, args, kwargs) -> dict:
    """Build, record what was built, drop it, twice; report what survived and what memory each round left."""
    _collect()
    # What the build did not make. The parent froze its objects before forking, so the cycle collector's lists
    # (and this set, made before tracing starts) hold only what the child made itself: a few thousand objects.
    existing = {_identity(obj) for obj in _get_objects()}
    problem = session.start_tracing(FRAMES)
    if problem:
        return session.failure("tampered", problem)
    _disable()
    before_conditions = tamper.gc_conditions()
    rounds = []
    try:
        _warm_free_lists()  # while tracing: blocks the build reuses are charged to the harness, not to the learner
        before = _by_site()
        session.mark("start")
        for _ in range(ROUNDS):
            outcome = _one_round(session, build, args, kwargs, before, existing)
            if type(outcome) is not dict:
                return session.failure(outcome[0], outcome[1])
            changed = tamper.gc_changed(before_conditions, tamper.gc_conditions())
            if changed:
                break
            rounds.append(outcome)
            before = _by_site()
            existing = {_identity(obj) for obj in _get_objects()}  # while tracing: charged to the harness
        existing = None
    finally:
        _enable()
    if changed:
        return session.failure("tampered", changed)
    first, last = rounds[0], rounds[-1]
    return {**session.failure(None, None),
            "result": {"built": last["built"], "left": last["left"], "sites": last["sites"],
                       "first_built": first["built"], "first_left": first["left"], "first_sites": first["sites"],
                       "survivors": first["survivors"] or last["survivors"],
                       "survivors_round": 1 if first["survivors"] else 2,
                       "built_counts": first["built_counts"] if first["survivors"] else last["built_counts"]}}


def _one_round(session, build, args, kwargs, before: dict, existing: set):
    """One build, recorded and dropped: a dict of its figures, or (kind, message) when the build failed."""
    outcome = session.learner(build, args, kwargs)
    if outcome[0] != "ok":
        return outcome
    session.trim_output()
    built, _ = _growth(before, _by_site())
    made = {_identity(obj) for obj in _get_objects()}
    made.difference_update(existing)
    recorded = _record_reachable(outcome[1], made)
    made = None
    # Full free lists now: what the drop frees is given back, instead of parked in a free list at its site.
    _warm_free_lists()
    outcome = None  # the only reference to the structure: dropping it is the test
    survivors = _survivors(recorded)
    built_counts: dict = {}
    for _, name in recorded.values():
        built_counts[name] = built_counts.get(name, 0) + 1
    recorded = None
    session.trim_output()
    left, grown = _growth(before, _by_site())
    return {"built": built, "left": left, "survivors": survivors, "built_counts": built_counts,
            "sites": _sites(grown)}


def _record_reachable(root, made: set) -> dict:
    """identity -> (type's identity, type name) of every object the cycle collector tracks that is reachable
    from ``root`` and was made by the build (what existed before -- classes, modules, shared constants -- is
    not the build's)."""
    recorded: dict = {}
    kinds: dict = {}  # one entry per type, shared by its objects
    frontier = [root]
    root = None
    while frontier:  # breadth first: one gc.get_referents call (one audit event) per level, not per object
        kept = []
        for obj in frontier:
            key = _identity(obj)
            if key in recorded or key not in made or not _is_tracked(obj):
                continue
            kind = type(obj)
            entry = kinds.get(_identity(kind))
            if entry is None:
                entry = kinds[_identity(kind)] = (_identity(kind), _type_name(kind))
            recorded[key] = entry
            kept.append(obj)
        frontier = _get_referents(*kept) if kept else None
    return recorded


def _survivors(recorded: dict) -> dict:
    """Type name -> how many recorded objects are still alive (same address and type)."""
    found: dict = {}
    objects = _get_objects()
    for obj in objects:
        entry = recorded.get(_identity(obj))
        if entry is None or _identity(type(obj)) != entry[0] or obj is objects or obj is found:
            continue
        found[entry[1]] = found.get(entry[1], 0) + 1
    return found


# --------------------------------------------------------------------------- no_growth


def _give_back() -> None:
    """Free pages inside malloc's heap stop being resident: memory freed earlier cannot make room that later
    untraced growth (SQLite's pages) fills without showing in the resident reading."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def no_growth(session, operation, args, kwargs) -> dict:
    """Call ``operation(i)`` for a warm-up, then two windows of N and 4N calls; report each window's growth."""
    options = session.options
    n = max(1, options.calls)
    windows = ((options.warmup, options.warmup + n), (options.warmup + n, options.warmup + 5 * n))
    _collect()
    problem = session.start_tracing(FRAMES)
    if problem:
        return session.failure("tampered", problem)
    outcome = session.learner(_calls, (operation, 0, options.warmup))
    if outcome[0] != "ok":
        return session.failure(outcome[0], outcome[1])
    _collect()
    session.trim_output()
    _give_back()
    session.mark("window 0")
    readings = [(_by_site(), _type_counts())]
    for k, (start, stop) in enumerate(windows, 1):
        outcome = session.learner(_calls, (operation, start, stop))
        if outcome[0] != "ok":
            return session.failure(outcome[0], outcome[1])
        _collect()
        session.trim_output()
        readings.append((_by_site(), _type_counts() if k == len(windows) else None))
        _give_back()
        session.mark(f"window {k}")
    tampered = tamper.tamper_after_call()
    if tampered:
        return session.failure("tampered", tampered)
    growth, grown = [], []
    for (before, _), (after, _) in zip(readings, readings[1:]):
        total, sites_grown = _growth(before, after)
        growth.append(total)
        grown = sites_grown
    first_types, last_types = readings[0][1], readings[-1][1]
    types = sorted(((name, count - first_types.get(name, 0)) for name, count in last_types.items()
                    if count > first_types.get(name, 0)), key=lambda nc: nc[1], reverse=True)[:TOP_TYPES]
    return {**session.failure(None, None),
            "result": {"windows": [stop - start for start, stop in windows], "growth": growth,
                       "sites": _sites(grown), "types": types}}
