"""Keep the learner's code from switching off or resetting the measurement.

The real tracemalloc functions are captured from the C module ``_tracemalloc``
when the autograder is imported (the locked first cell of every notebook), so a
learner who later replaces ``tracemalloc.start`` or ``tracemalloc.get_traced_memory``
fools nobody. Inside the measured child the public control functions are replaced
by tripwires: a call to stop, clear, reset or restart tracing is recorded and
ignored, and the check fails with a message naming it.
"""

from __future__ import annotations

import _tracemalloc
import gc
import sys
import tracemalloc
from types import SimpleNamespace

_get_traces = _tracemalloc._get_traces
_get_traceback_limit = _tracemalloc.get_traceback_limit
_Snapshot = tracemalloc.Snapshot


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
    take_snapshot=_take_snapshot,
)

# functions a measured call must not call, on both modules
_CONTROLS = ("start", "stop", "clear_traces", "reset_peak")
_tripped: list[str] = []
_canary: list[bytearray] = []


def verify() -> None:
    """Raise if the captured functions are not the interpreter's own (tampered before import)."""
    for name in ("start", "stop", "is_tracing", "get_traced_memory", "clear_traces"):
        fn = getattr(REAL, name)
        if type(fn).__name__ != "builtin_function_or_method" or getattr(fn, "__module__", None) != "_tracemalloc":
            raise RuntimeError(f"tracemalloc.{name} was replaced before the autograder was imported")


def arm_tripwires() -> None:
    """In the measured child only: replace tracemalloc's control functions by recorders.

    Also replaced: references to them the learner's code took beforehand (``from
    tracemalloc import reset_peak``) wherever they sit in a dict, list or closure;
    and ``is_tracing``/``get_traced_memory`` answer as if nothing were traced, so
    code cannot behave differently because it is being measured.
    """
    wires = {name: _tripwire(name) for name in _CONTROLS if getattr(REAL, name, None) is not None}
    for module in (tracemalloc, _tracemalloc):
        for name, wire in wires.items():
            if hasattr(module, name):
                setattr(module, name, wire)
        module.is_tracing = _not_tracing
        module.get_traced_memory = _nothing_traced
    _replace_captured({id(getattr(REAL, name)): wire for name, wire in wires.items()})


def _not_tracing() -> bool:
    return False


def _nothing_traced() -> tuple[int, int]:
    return (0, 0)


def _replace_captured(wires: dict[int, object]) -> None:
    originals = [getattr(REAL, name) for name in _CONTROLS if getattr(REAL, name, None) is not None]
    # sys.getrefcount is 2 for a function only REAL's namespace holds (plus the argument): cheap to test
    if all(sys.getrefcount(f) <= 2 for f in originals):
        return
    gc.unfreeze()  # get_referrers does not search the objects measure() froze before forking
    holders = [r for r in gc.get_referrers(*originals) if r is not vars(REAL)]
    for holder in holders:
        if isinstance(holder, dict):
            for key, value in list(holder.items()):
                if id(value) in wires:
                    holder[key] = wires[id(value)]
        elif isinstance(holder, list):
            for i, value in enumerate(holder):
                if id(value) in wires:
                    holder[i] = wires[id(value)]
        elif type(holder).__name__ == "cell":
            holder.cell_contents = wires[id(holder.cell_contents)]


def _tripwire(name: str):
    def tripwire(*args, **kwargs):
        _tripped.append(name)

    tripwire.__name__ = name
    return tripwire


def plant_canary() -> None:
    """Just after tracing starts: allocate an object whose trace must survive the call.

    Clearing traces, or stopping and restarting tracing, forgets it -- even when
    the learner reached the real function through a reference taken earlier.
    """
    _canary.append(bytearray(64))


def tamper_after_call() -> str | None:
    """A one-line reason when the measured call interfered with tracemalloc, else None."""
    if _canary and REAL.get_object_traceback(_canary[0]) is None and REAL.is_tracing():
        return "cleared or restarted tracemalloc while being measured; code under test must not control tracemalloc"
    if _tripped:
        names = ", ".join(f"tracemalloc.{n}()" for n in dict.fromkeys(_tripped))
        return f"called {names} while being measured; code under test must not control tracemalloc"
    if not REAL.is_tracing():
        return "stopped tracemalloc while being measured; code under test must not control tracemalloc"
    return None
