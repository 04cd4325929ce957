"""Every rule that decides a measurement was tampered with, in one place.

* tracemalloc: tripwires, disarmed references, the canary (:func:`arm_tripwires`,
  :func:`tamper_after_call`);
* other processes: a measured call that started one (:func:`started_processes`);
* memory tracemalloc cannot see: anonymous resident growth far beyond the traced peak
  (:func:`hidden_memory`);
* the leak checks' conditions: ``gc.freeze()``, ``gc.callbacks``, the collector switched
  back on (:func:`gc_conditions`, :func:`gc_changed`).

What graded code may not do at all is enforced separately, by the audit hook of the
grading sandbox (:mod:`autograder.audit`).

Keep the learner's code from switching off or resetting the measurement.

The real tracemalloc functions are captured from the C module ``_tracemalloc``
when this module is loaded, so a learner who later replaces ``tracemalloc.start``
or ``tracemalloc.get_traced_memory`` fools nobody. Inside a traced child the
public control functions become tripwires: a call to stop, clear, reset or
restart tracing is recorded and ignored, and the check fails with a message
naming it. References to the real functions that the learner's code took
beforehand are disarmed too, or, where they cannot be (inside a
``functools.partial``, a tuple...), the measurement fails, naming where they are.
A canary allocation whose trace must survive the call catches whatever else
clears or restarts tracing.
"""

from __future__ import annotations

import _tracemalloc
import tracemalloc
from gc import callbacks as _gc_callbacks
from gc import freeze as _gc_freeze
from gc import get_freeze_count as _get_freeze_count
from gc import isenabled as _gc_isenabled
from gc import get_referrers as _get_referrers
from gc import unfreeze as _gc_unfreeze
from sys import getrefcount as _getrefcount
from os import O_RDONLY
from os import close as _close
from os import listdir as _listdir
from os import open as _os_open
from os import read as _read
from types import CellType, FunctionType, SimpleNamespace

from .units import MiB, format_bytes

try:
    from resource import RUSAGE_CHILDREN
    from resource import getrusage as _getrusage
except ImportError:
    _getrusage = None

# Anonymous resident growth allowed per traced byte: tracemalloc's own per-block bookkeeping is
# resident but untraced (~1.3x the traced bytes for 32-byte blocks), plus arenas: 3.5x seen.
RSS_FACTOR, RSS_SLACK = 5, 2 * MiB

_get_traces = _tracemalloc._get_traces
_get_traceback_limit = _tracemalloc.get_traceback_limit
_Snapshot = tracemalloc.Snapshot
_MODULES = (tracemalloc, _tracemalloc)


def _take_snapshot() -> tracemalloc.Snapshot:
    """tracemalloc.take_snapshot, without its module-level lookups (which the child replaces)."""
    return _Snapshot(_get_traces(), _get_traceback_limit())


REAL = SimpleNamespace(
    start=_tracemalloc.start,
    stop=_tracemalloc.stop,
    is_tracing=_tracemalloc.is_tracing,
    get_traced_memory=_tracemalloc.get_traced_memory,
    clear_traces=_tracemalloc.clear_traces,
    reset_peak=getattr(_tracemalloc, "reset_peak", None),
    get_object_traceback=_tracemalloc._get_object_traceback,
    get_traces=_get_traces,
    get_traceback_limit=_get_traceback_limit,
    take_snapshot=_take_snapshot,
)

# functions a measured call must not call, on both modules
CONTROLS = ("start", "stop", "clear_traces", "reset_peak")
_REAL_CONTROLS = tuple(getattr(REAL, name) for name in CONTROLS if getattr(REAL, name) is not None)
_canary: list = []
# The measuring thread follows the traced peak while the call runs: a peak that goes down was reset, through
# whatever path (a fresh copy of _tracemalloc, a reference nothing could disarm).
PEAK_RESET = "reset tracemalloc's peak while being measured; code under test must not control tracemalloc"

try:  # glibc's mallopt, for one malloc arena in the measured child (see child._cap_address_space)
    import ctypes as _ctypes

    MALLOPT = _ctypes.CDLL(None).mallopt
except (OSError, AttributeError, ImportError):
    MALLOPT = None

# The tripwires are handed to the learner's code (as tracemalloc's functions), so they live in a
# namespace of their own: it holds nothing but their record, never a real function.
_WIRES_SOURCE = '''
tripped = []
def make(name):
    def tripwire(*args, **kwargs):
        tripped.append(name)
    tripwire.__name__ = tripwire.__qualname__ = name
    return tripwire
def is_tracing():
    return False
def get_traced_memory():
    return (0, 0)
'''


def verify() -> None:
    """Raise if the captured functions are not the interpreter's own (tampered before import)."""
    for name in ("start", "stop", "is_tracing", "get_traced_memory", "clear_traces"):
        fn = getattr(REAL, name)
        if type(fn).__name__ != "builtin_function_or_method" or getattr(fn, "__module__", None) != "_tracemalloc":
            raise RuntimeError(f"tracemalloc.{name} was replaced before the autograder was imported")


_wires: dict = {}


def arm_tripwires() -> str | None:
    """In the measured child only: replace tracemalloc's control functions by recorders.

    References to them that the learner's code took beforehand (``from tracemalloc
    import reset_peak``, a default argument, a closure) are replaced as well; a
    reference that cannot be replaced is reported as a one-line problem. Also
    ``is_tracing``/``get_traced_memory`` answer as if nothing were traced, so code
    cannot behave differently because it is being measured.
    """
    namespace: dict = {}
    exec(compile(_WIRES_SOURCE, "<autograder tripwires>", "exec"), namespace)
    _wires.clear()
    _wires.update(namespace=namespace)
    wires = {id(fn): namespace["make"](name) for name, fn in zip(CONTROLS, _REAL_CONTROLS)}
    names = {id(fn): name for name, fn in zip(CONTROLS, _REAL_CONTROLS)}
    for module in _MODULES:
        for name, fn in zip(CONTROLS, _REAL_CONTROLS):
            if hasattr(module, name):
                setattr(module, name, wires[id(fn)])
        module.is_tracing = namespace["is_tracing"]
        module.get_traced_memory = namespace["get_traced_memory"]
    return _disarm_captured(wires, names)


def _disarm_captured(wires: dict, names: dict) -> str | None:
    # REAL's own dict and the argument tuple of this call are the only expected holders
    if all(_getrefcount(fn) <= 3 for fn in _REAL_CONTROLS):
        return None
    _gc_unfreeze()  # get_referrers does not search frozen objects (measure() freezes the parent's before forking)
    try:
        return _disarm_holders(_get_referrers(*_REAL_CONTROLS), wires, names)
    finally:
        _gc_freeze()  # frozen again: the collector and the leak checks then see only what the call makes


def _disarm_holders(holders: list, wires: dict, names: dict) -> str | None:
    own = vars(REAL)
    stuck = []
    for holder in holders:
        if holder is own or holder is _REAL_CONTROLS or holder is holders:
            continue
        if isinstance(holder, dict):  # dict's own methods: a subclass's overrides are the learner's code
            for key, value in list(dict.items(holder)):
                if id(value) in wires:
                    dict.__setitem__(holder, key, wires[id(value)])
        elif type(holder) is list:
            for i, value in enumerate(holder):
                if id(value) in wires:
                    holder[i] = wires[id(value)]
        elif type(holder) is CellType:
            holder.cell_contents = wires[id(holder.cell_contents)]
        elif type(holder) is tuple and (_replace_defaults(holder, wires) or _replace_tuple(holder, wires, holders)):
            continue
        else:
            held = [names[id(v)] for v in _contents(holder) if id(v) in names]
            stuck.append(f"tracemalloc.{held[0] if held else 'a control function'} inside a {type(holder).__name__}")
    if stuck:
        return (f"holds {stuck[0]}, where it cannot be disarmed; code under test must not control tracemalloc")
    return None


def _replace_defaults(defaults: tuple, wires: dict) -> bool:
    """A tuple that is some functions' default arguments: give them new defaults; True if that was all it was."""
    owners = [f for f in _get_referrers(defaults) if type(f) is FunctionType and f.__defaults__ is defaults]
    if not owners:
        return False
    fresh = tuple(wires.get(id(v), v) for v in defaults)
    for function in owners:
        function.__defaults__ = fresh
    return True


def _replace_tuple(held: tuple, wires: dict, searched: list) -> bool:
    """A tuple kept only in dicts (a module's or an object's attributes): put a disarmed copy there; True if done."""
    owners = [r for r in _get_referrers(held) if r is not searched]
    if not owners or not all(isinstance(r, dict) for r in owners):
        return False
    fresh = tuple(wires.get(id(v), v) for v in held)
    for owner in owners:
        for key, value in list(dict.items(owner)):
            if value is held:
                dict.__setitem__(owner, key, fresh)
    return True


def _contents(holder) -> tuple:
    try:
        return tuple(holder) if isinstance(holder, (tuple, frozenset, set)) else ()
    except Exception:
        return ()


def plant_canary() -> None:
    """Just after tracing starts: allocate an object whose trace must survive the call.

    Clearing traces, or stopping and restarting tracing, forgets it -- even when
    the learner reached the real function through a reference taken earlier.
    """
    _canary.clear()
    _canary.append(bytearray(64))


def tamper_after_call() -> str | None:
    """A one-line reason when the measured call interfered with tracemalloc, else None."""
    if _canary and REAL.get_object_traceback(_canary[0]) is None and REAL.is_tracing():
        return "cleared or restarted tracemalloc while being measured; code under test must not control tracemalloc"
    tripped = _wires.get("namespace", {}).get("tripped", [])
    if tripped and type(tripped) is list:
        called = [n for n in tripped if type(n) is str]
        if called:
            names = ", ".join(f"tracemalloc.{n}()" for n in dict.fromkeys(called))
            return f"called {names} while being measured; code under test must not control tracemalloc"
    if not REAL.is_tracing():
        return "stopped tracemalloc while being measured; code under test must not control tracemalloc"
    return None


def started_processes() -> str | None:
    """Work done in another process is invisible to tracemalloc: not allowed in a measured call."""
    running = False
    try:
        for tid in _listdir("/proc/self/task"):
            fd = _os_open(f"/proc/self/task/{tid}/children", O_RDONLY)
            try:
                running = running or bool(_read(fd, 4096).strip())
            finally:
                _close(fd)
    except OSError:
        pass
    waited = _getrusage(RUSAGE_CHILDREN) if _getrusage is not None else None
    if running or (waited is not None and (waited.ru_maxrss or waited.ru_utime or waited.ru_stime)):
        return ("started another process while being measured; memory used there is invisible to "
                "tracemalloc, so code under test must do its work in this process")
    return None


def hidden_memory(peak: int, anon_growth: int, reference_anon: int = 0) -> str | None:
    """A second signal: anonymous resident memory that grew far beyond what tracemalloc saw.

    Memory from a C extension that does not report to tracemalloc -- or hidden by
    resetting tracemalloc -- still shows in the process's anonymous resident pages,
    which the parent reads from outside the measured process. Pages of mapped files
    do not count. Honest Python code stays within a small factor of its traced peak
    (tracemalloc's own bookkeeping, allocator arenas, page rounding) and of the
    reference's own growth, measured the same way in the same run.
    """
    if anon_growth > RSS_FACTOR * (peak + reference_anon) + RSS_SLACK:
        return (f"grew its resident memory by {format_bytes(anon_growth)} while tracemalloc saw a peak of only "
                f"{format_bytes(peak)}: memory allocated where tracemalloc cannot see it (a C extension, memory "
                "hidden from tracemalloc) is not allowed here")
    return None


def gc_conditions() -> tuple:
    """What the leak checks rely on and the learner's code could change: frozen objects, gc callbacks, gc on/off."""
    return _get_freeze_count(), tuple(id(c) for c in list(_gc_callbacks)), _gc_isenabled()


def gc_changed(before: tuple, after: tuple) -> str | None:
    """A one-line reason when the leak check's conditions changed while the learner's code ran."""
    if after[0] > before[0]:  # (frozen objects that die lower the count: only a rise means gc.freeze())
        return "froze objects with gc.freeze() while being checked: frozen objects would hide from the check"
    if after[1] != before[1]:
        return "changed gc.callbacks while being checked"
    if after[2] != before[2]:
        return "switched the cycle collector back on while being checked, which the check turns off on purpose"
    return None
