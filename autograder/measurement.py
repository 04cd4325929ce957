"""Measure one call's memory in an isolated child process: the public API.

``measure(func, *args)`` forks (see :mod:`autograder.child`, where peak memory is
measured), runs the call under tracemalloc with a memory cap and a time limit, and
returns a :class:`Measurement`. Whatever the call does -- allocate without bound,
loop forever, crash the interpreter, stop tracemalloc, print -- the caller only
receives a Measurement, and its own memory, tracemalloc state and stderr are untouched.

Checks measure the learner's code through :func:`measure_learner`. In a notebook
that is ``measure`` itself; while an instructor grades, the trusted grader
(:mod:`autograder.grader`) routes it to the learner's sandboxed process instead.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from . import child, tamper, transfer
from .child import (CRASH, DEFAULT_MEMORY_CAP, DEFAULT_TIME_LIMIT, EXCEPTION, MEMORY, TAMPERED, TIMEOUT,  # noqa: F401
                    UNPICKLABLE)
from .units import format_bytes

DIAGNOSE_FRAMES = 16  # deep enough to charge an allocation to the learner's line through library calls
DIAGNOSE_AT = 0.9  # the diagnostic run snapshots when traced memory reaches this share of the first run's peak


@dataclass(frozen=True)
class Measurement:
    """What one isolated call did: its result and the memory and time it used."""

    peak: int  # bytes: tracemalloc's high-water mark above the baseline
    retained: int  # bytes still allocated when the call returned (its result included)
    elapsed: float  # seconds, wall clock, under tracemalloc
    result: Any = field(default=None, repr=False)
    error: str | None = None  # one line, when the call did not finish normally
    error_kind: str | None = None
    output: str = ""  # what the call printed
    top_sites: tuple = ()  # AllocationSite tuples at the peak (diagnostic runs only)
    anon_growth: int = 0  # bytes: growth of the child's anonymous resident memory, read from outside it
    python: str = field(default_factory=lambda: sys.version.split()[0])

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        if self.ok:
            return f"peak {format_bytes(self.peak)}, retained {format_bytes(self.retained)}, {self.elapsed:.3f} s"
        return self.error or "failed"


_FIELDS = {f for f in Measurement.__dataclass_fields__ if f != "python"}


def from_report(report: dict) -> Measurement:
    """A Measurement from a child's report (unknown keys ignored, missing numbers 0)."""
    values = {k: v for k, v in report.items() if k in _FIELDS}
    values.setdefault("peak", 0)
    values.setdefault("retained", 0)
    values.setdefault("elapsed", 0.0)
    if values.get("error_kind") == MEMORY and values.get("error") == "ran out of memory":
        values["error"] = f"ran out of memory: it tried to use more than the cap of {format_bytes(report.get('cap', DEFAULT_MEMORY_CAP))}"
    return Measurement(**values)


def measure(
    func: Callable,
    *args: Any,
    memory_cap: int = DEFAULT_MEMORY_CAP,
    time_limit: float = DEFAULT_TIME_LIMIT,
    diagnose: bool = False,
    traced: bool = True,
    frames: int = 1,
    result: str = transfer.ANY,
    **kwargs: Any,
) -> Measurement:
    """Call ``func(*args, **kwargs)`` in a forked child and measure its memory.

    ``memory_cap`` bounds what the call may allocate (address space beyond what the
    process already had); ``time_limit`` bounds its wall time. With ``diagnose``,
    a second run reports in ``top_sites`` the learner's lines holding memory at the
    peak (slower; used to explain a failure). With ``traced=False`` the call is
    only isolated and may use tracemalloc itself; peak and retained are then 0.
    ``frames`` is how many frames tracemalloc keeps per allocation. ``result`` says
    how the return value comes back: "any" (default), "plain" (builtin data only,
    for checks) or "none".
    """
    if _STUB is not None:
        return _STUB(func, args, kwargs)
    if not hasattr(os, "fork"):  # Windows: no isolation possible; measure in-process
        return _measure_here(func, args, kwargs)
    tamper.verify()
    options = child.Options(memory_cap, time_limit, traced, frames, result)
    first = _run(lambda: (func, args, kwargs), options)
    if diagnose and first.ok and first.peak > 0:
        return replace(first, top_sites=_diagnose(lambda: (func, args, kwargs), options, first.peak))
    return first


def _run(make_call, options: child.Options) -> Measurement:
    report = child.run(make_call, options)
    report["cap"] = options.memory_cap
    return from_report(report)


def _diagnose(make_call, options: child.Options, peak: int) -> tuple:
    """A second run, with deep tracebacks, that snapshots near the peak the first one found."""
    second = child.Options(options.memory_cap, options.time_limit, True, DIAGNOSE_FRAMES, transfer.NONE,
                           watch_at=int(peak * DIAGNOSE_AT))
    return _run(make_call, second).top_sites


# --------------------------------------------------------------------------- who runs the learner's code

_LEARNER_RUNNER: Callable[..., Measurement] | None = None
_STUB: Callable[..., Measurement] | None = None


def diagnose_learner(func: Callable, args: tuple, kwargs: dict, peak: int, **options: Any) -> tuple:
    """The learner's lines holding memory at ``peak``, the peak a first run already found: one diagnostic run."""
    options.update(frames=DIAGNOSE_FRAMES, watch_at=int(peak * DIAGNOSE_AT), result=transfer.NONE)
    return measure_learner(func, args, kwargs, **options).top_sites


def measure_learner(func: Callable, args: tuple = (), kwargs: dict | None = None, *, program: str = child.CALL,
                    calls: int = 0, warmup: int = 0, **options: Any) -> Measurement:
    """Measure the learner's ``func`` for a check: here, or in the learner's process while an instructor grades.

    ``program`` is "call" (one call: peak, retained, result), or a leak check, "freed" or
    "no_growth", whose findings come back as the Measurement's ``result`` (plain data).
    """
    if _LEARNER_RUNNER is not None:
        return _LEARNER_RUNNER(func, tuple(args), dict(kwargs or {}), program=program, calls=calls, warmup=warmup,
                               **options)
    if program == child.CALL and "watch_at" in options:  # a diagnostic run (see diagnose_learner)
        limits = {k: options[k] for k in ("memory_cap", "time_limit") if k in options}
        opts = child.Options(traced=True, frames=options["frames"], result=transfer.NONE, watch_at=options["watch_at"],
                             **limits)
        return _run(lambda: (func, tuple(args), dict(kwargs or {})), opts)
    if program == child.CALL:
        return measure(func, *args, **options, **(kwargs or {}))
    return run_program(lambda: (func, tuple(args), dict(kwargs or {})), program=program, calls=calls, warmup=warmup,
                       **options)


def run_program(make_call, *, program: str, memory_cap: int = DEFAULT_MEMORY_CAP,
                time_limit: float = DEFAULT_TIME_LIMIT, calls: int = 0, warmup: int = 0, **ignored: Any) -> Measurement:
    """Run a leak program (see :mod:`autograder.leak_probes`) in a forked child; its findings are the ``result``."""
    tamper.verify()
    options = child.Options(memory_cap, time_limit, True, 1, transfer.PLAIN, program=program, calls=calls,
                            warmup=warmup)
    report = child.run(make_call, options)
    report["cap"] = memory_cap
    marks = report.get("anon_marks") or {}
    if report.get("error") is None and isinstance(report.get("result"), dict):
        report["result"]["anon"] = dict(marks)
    return from_report(report)


def route_learner_calls(runner: Callable[..., Measurement] | None) -> None:
    """Send every :func:`measure_learner` call to ``runner`` (the trusted grader does this), or back here."""
    global _LEARNER_RUNNER
    _LEARNER_RUNNER = runner


def stub_measure(stub: Callable[..., Measurement] | None) -> None:
    """Make :func:`measure` return ``stub(func, args, kwargs)`` instead (the learner's own cells while grading)."""
    global _STUB
    _STUB = stub


def unmeasured(func: Callable, args: tuple, kwargs: dict) -> Measurement:
    """The call's result, without isolation or tracemalloc: peak and retained are 0 (lessons while grading)."""
    t0 = time.perf_counter()
    try:
        return Measurement(0, 0, time.perf_counter() - t0, result=func(*args, **kwargs))
    except Exception as exc:
        from .learner_thread import one_line

        return Measurement(0, 0, time.perf_counter() - t0, error=f"raised {one_line(exc)}", error_kind=EXCEPTION)


# --------------------------------------------------------------------------- fallback


def _measure_here(func, args, kwargs) -> Measurement:
    """No fork (Windows): measure in this process, without a memory cap or time limit."""
    tm = tamper.REAL
    was_tracing = tm.is_tracing()
    if was_tracing:
        tm.stop()
    gc.collect()
    tm.start(1)
    t0 = time.perf_counter()
    try:
        result, error, kind = func(*args, **kwargs), None, None
    except MemoryError:
        result, error, kind = None, "ran out of memory", MEMORY
    except BaseException as exc:
        from .learner_thread import one_line

        result, error, kind = None, f"raised {one_line(exc)}", EXCEPTION
    elapsed = time.perf_counter() - t0
    current, peak = tm.get_traced_memory()
    tm.stop()
    if was_tracing:
        tm.start()
    return Measurement(peak, current, elapsed, result=result, error=error, error_kind=kind)
