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
import tracemalloc
from types import SimpleNamespace

REAL = SimpleNamespace(
    start=_tracemalloc.start,
    stop=_tracemalloc.stop,
    is_tracing=_tracemalloc.is_tracing,
    get_traced_memory=_tracemalloc.get_traced_memory,
    clear_traces=_tracemalloc.clear_traces,
    reset_peak=getattr(_tracemalloc, "reset_peak", None),
    take_snapshot=tracemalloc.take_snapshot,
    Snapshot=tracemalloc.Snapshot,
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
    """In the measured child only: replace tracemalloc's control functions by recorders."""
    for module in (tracemalloc, _tracemalloc):
        for name in _CONTROLS:
            if hasattr(module, name):
                setattr(module, name, _tripwire(name))


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
    if _canary and tracemalloc.get_object_traceback(_canary[0]) is None and REAL.is_tracing():
        return "cleared or restarted tracemalloc while being measured; code under test must not control tracemalloc"
    if _tripped:
        names = ", ".join(f"tracemalloc.{n}()" for n in dict.fromkeys(_tripped))
        return f"called {names} while being measured; code under test must not control tracemalloc"
    if not REAL.is_tracing():
        return "stopped tracemalloc while being measured; code under test must not control tracemalloc"
    return None
