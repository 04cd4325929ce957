"""The checks test cells call: correctness and memory targets, each isolated.

Every learner call goes through :func:`autograder.measurement.measure`, so an
exception, an endless loop or a memory bomb becomes a :class:`CheckFailed` with
one clear line, never a dead kernel. Memory targets are set relative to a
reference solution measured in the same run, or as a scaling law (peak at n vs
k·n), so they hold across Python versions.
"""

from __future__ import annotations

import re

from dataclasses import replace
from typing import Any, Callable, Sequence

from . import reference_cache, report, tamper, transfer
from .measurement import (DEFAULT_MEMORY_CAP, DEFAULT_TIME_LIMIT, TAMPERED, Measurement, diagnose_learner, measure,
                          measure_learner)
from .units import KiB, MiB, format_bytes, format_count

# Room above factor × the reference for an honest fixed-size buffer and what it holds: a 64 KiB read and
# the lines it splits into, a numpy block of 4,096 values. Naive solutions sit megabytes above it
# (course/cross-version.md shows both margins on every Python).
DEFAULT_ALLOWANCE = 1 * MiB


def _name(func: Callable, exercise: str | None) -> str:
    return exercise or getattr(func, "__name__", "your function")


def _call_text(func: Callable, args: Sequence, kwargs: dict) -> str:
    parts = [report.short_repr(a, 40) for a in args] + [f"{k}={report.short_repr(v, 40)}" for k, v in kwargs.items()]
    return f"{getattr(func, '__name__', 'function')}({', '.join(parts)})"


def _fail(rec: dict, headline: str, *details: str) -> None:
    __tracebackhide__ = True
    report.fail(rec, "\n".join([headline, *[d for d in details if d]]))


def _run_learner(func, args, kwargs, exercise: str, check: str, time_limit, memory_cap, call=None, traced=True,
                 result=transfer.NONE, reference_anon: int = 0, expected=None, compare=None) -> Measurement:
    """Measure the learner's call; a call that did not finish fails the check.

    With ``expected`` (a reference's result, for memory checks), a call that returns
    something else fails too: a memory figure counts only for the right answer.
    """
    __tracebackhide__ = True
    m = measure_learner(func, args, kwargs, memory_cap=memory_cap, time_limit=time_limit, traced=traced, result=result)
    if m.ok and check != "result":
        m = _hidden_memory(m, reference_anon)
    if m.ok and expected is not None and not (compare or transfer.same)(m.result, expected[0]):
        rec = report.record(exercise, check, "fail", error="a different result while measured")
        call = call or _call_text(func, args, kwargs)
        _fail(rec, f"{exercise}: {call} returned {report.short_repr(m.result)} while its memory was measured, but "
                   f"the reference returned {report.short_repr(expected[0])}: memory counts only for the right answer",
              report.output_text(m.output))
    if not m.ok:
        rec = report.record(exercise, check, "error", error=m.error, error_kind=m.error_kind)
        call = call or _call_text(func, args, kwargs)
        _fail(rec, f"{exercise}: {call} {m.error}", _hint(m), report.output_text(m.output))
    return m


def _hidden_memory(m: Measurement, reference_anon: int = 0) -> Measurement:
    """The measurement as a tampering failure when resident memory tells of memory tracemalloc did not see."""
    problem = tamper.hidden_memory(m.peak, m.anon_growth, reference_anon)
    return replace(m, error_kind=TAMPERED, error=problem) if problem else m


UNDEFINED_NAME = re.compile(r"NameError: name '(\w+)' is not defined")


def _hint(m: Measurement) -> str:
    """What to do about a call that raised: a stub left in place, or a name the notebook never defined."""
    if m.error and "NotImplementedError" in m.error:
        return "replace the `raise NotImplementedError()` line with your solution, then run the cell again"
    missing = UNDEFINED_NAME.search(m.error or "")
    if missing:
        return f"write {missing.group(1)} in its exercise cell and run that cell (the code under test needs it)"
    return ""


def _run_instructor(func, args, kwargs, role: str, result: str = transfer.NONE) -> Measurement:
    """Measure a reference or naive solution (or reuse an identical call's figures, while a class is graded);
    its failure is the instructor's bug, said so."""
    m = reference_cache.measured(func, args, kwargs, result, lambda: measure(func, *args, result=result, **kwargs))
    if not m.ok:
        raise report.TargetError(f"the {role} solution failed: {m.error}")
    return m


def check_result(
    func: Callable,
    *args: Any,
    expected: Any,
    exercise: str | None = None,
    compare: Callable[[Any, Any], bool] | None = None,
    call: str | None = None,
    traced: bool = True,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_cap: int = DEFAULT_MEMORY_CAP,
    **kwargs: Any,
) -> None:
    """Fail unless ``func(*args, **kwargs)``, run isolated, returns ``expected``.

    ``call`` describes the call in messages when ``func`` is a wrapper (a lambda).
    ``traced=False`` runs it isolated but without tracemalloc, for code that uses tracemalloc itself.
    """
    __tracebackhide__ = True
    exercise = _name(func, exercise)
    call = call or _call_text(func, args, kwargs)
    m = _run_learner(func, args, kwargs, exercise, "result", time_limit, memory_cap, call=call, traced=traced,
                     result=transfer.PLAIN)
    same = compare(m.result, expected) if compare else transfer.same(m.result, expected)
    if not same:
        rec = report.record(exercise, "result", "fail", call=call)
        got = report.short_repr(m.result)
        if m.result == expected:  # equal but of another type, e.g. 285.0 for 285
            got += f" (of type {type(m.result).__name__}; expected type {type(expected).__name__})"
        _fail(rec, f"{exercise}: {call} returned {got}; expected {report.short_repr(expected)}", report.output_text(m.output))
    report.emit(report.record(exercise, "result", "pass", call=call), f"✓ {exercise}: {call} is correct")


def check_memory(
    func: Callable,
    args: Sequence = (),
    kwargs: dict | None = None,
    *,
    reference: Callable,
    naive: Callable | None = None,
    factor: float = 2.0,
    allowance: int = DEFAULT_ALLOWANCE,
    metric: str = "peak",
    exercise: str | None = None,
    same_result: bool = False,
    compare: Callable[[Any, Any], bool] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_cap: int = DEFAULT_MEMORY_CAP,
) -> None:
    """Fail unless the learner's ``metric`` ("peak" or "retained") is within ``factor`` × the reference's + ``allowance``.

    ``reference`` (and ``naive``, if given, for the record and the message) are
    called with the same arguments in the same run. With ``same_result`` the
    learner's call must also return what the reference returns (plain data), so
    code cannot take a cheap wrong path when its input is large; leave it False
    when the reference is only a baseline that computes something else. ``compare(got, expected)`` replaces
    plain equality for that (floats computed another way, for instance).
    """
    __tracebackhide__ = True
    if metric not in ("peak", "retained"):
        raise ValueError("metric is 'peak' or 'retained'")
    kwargs = kwargs or {}
    exercise = _name(func, exercise)
    mode = transfer.PLAIN if same_result else transfer.NONE
    ref_m = _run_instructor(reference, args, kwargs, "reference", mode)
    ref = getattr(ref_m, metric)
    nai = getattr(_run_instructor(naive, args, kwargs, "naive"), metric) if naive else None
    target = int(factor * ref + allowance)
    m = _run_learner(func, args, kwargs, exercise, metric, time_limit, memory_cap, result=mode,
                     reference_anon=ref_m.anon_growth, expected=(ref_m.result,) if same_result else None,
                     compare=compare)
    got = getattr(m, metric)
    rec = report.record(
        exercise, metric, "pass" if got <= target else "fail",
        measured=got, target=target, reference=ref, naive=nai,
        factor=factor, allowance=allowance, elapsed=m.elapsed, anon=m.anon_growth, reference_anon=ref_m.anon_growth,
    )
    others = f"reference: {format_bytes(ref)}" + (f", naive: {format_bytes(nai)}" if nai is not None else "")
    if got > target:
        found = diagnose_learner(func, args, kwargs, got, memory_cap=memory_cap, time_limit=time_limit) \
            if metric == "peak" else ()
        _fail(
            rec,
            f"{exercise}: {metric} {format_bytes(got)} is over the target {format_bytes(target)} ({others})",
            report.sites_text(found),
        )
    report.emit(rec, f"✓ {exercise}: {metric} {format_bytes(got)} is within the target {format_bytes(target)} ({others})")


def check_scaling(
    func: Callable[[int], Any],
    sizes: tuple[int, int],
    *,
    growth: str = "constant",
    reference: Callable[[int], Any] | None = None,
    naive: Callable[[int], Any] | None = None,
    slack: float = 1.25,
    allowance: int = DEFAULT_ALLOWANCE,
    exercise: str | None = None,
    same_result: bool = False,
    compare: Callable[[Any, Any], bool] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_cap: int = DEFAULT_MEMORY_CAP,
) -> None:
    """Fail unless ``func(n)``'s peak grows no faster than ``growth`` ("constant" or "linear") from n to k·n.

    The bound at the larger size is ``slack`` × (peak at the smaller size, times k
    for "linear") + ``allowance``. With a ``reference`` and ``same_result``, the
    learner's calls must also return what the reference returns at both sizes (as ``compare`` judges, if given).
    """
    __tracebackhide__ = True
    if growth not in ("constant", "linear"):
        raise ValueError("growth is 'constant' or 'linear'")
    small, big = sizes
    exercise = _name(func, exercise)
    scale = big / small if growth == "linear" else 1.0

    def bound(peak_small: int) -> int:
        return int(slack * scale * peak_small + allowance)

    ref = naive_peaks = None
    ref_anon = (0, 0)
    expected = (None, None)
    mode = transfer.PLAIN if reference and same_result else transfer.NONE
    if reference:
        ref_ms = [_run_instructor(reference, (n,), {}, "reference", mode) for n in sizes]
        ref, ref_anon = tuple(m.peak for m in ref_ms), tuple(m.anon_growth for m in ref_ms)
        if same_result:
            expected = tuple((m.result,) for m in ref_ms)
    if naive:
        naive_peaks = tuple(_run_instructor(naive, (n,), {}, "naive").peak for n in sizes)
    m_small = _run_learner(func, (small,), {}, exercise, "scaling", time_limit, memory_cap, result=mode,
                           reference_anon=ref_anon[0], expected=expected[0], compare=compare)
    m_big = _run_learner(func, (big,), {}, exercise, "scaling", time_limit, memory_cap, result=mode,
                         reference_anon=ref_anon[1], expected=expected[1], compare=compare)
    limit = bound(m_small.peak)
    ok = m_big.peak <= limit
    rec = report.record(
        exercise, "scaling", "pass" if ok else "fail", growth=growth, sizes=list(sizes),
        measured=[m_small.peak, m_big.peak], target=limit,
        reference=list(ref) if ref else None, naive=list(naive_peaks) if naive_peaks else None,
        reference_target=bound(ref[0]) if ref else None, naive_target=bound(naive_peaks[0]) if naive_peaks else None,
        anon=[m_small.anon_growth, m_big.anon_growth], reference_anon=list(ref_anon),
    )
    n1, n2 = format_count(small), format_count(big)
    ref_text = f"; reference: {format_bytes(ref[0])} → {format_bytes(ref[1])}" if ref else ""
    law = "stay constant" if growth == "constant" else f"grow at most linearly (×{big / small:g})"
    if not ok:
        found = diagnose_learner(func, (big,), {}, m_big.peak, memory_cap=memory_cap, time_limit=time_limit)
        _fail(
            rec,
            f"{exercise}: peak grew from {format_bytes(m_small.peak)} at n={n1} to {format_bytes(m_big.peak)} at n={n2}, "
            f"but should {law} (at most {format_bytes(limit)} at n={n2}{ref_text})",
            report.sites_text(found),
        )
    report.emit(
        rec,
        f"✓ {exercise}: memory scales as it should ({growth}): peak {format_bytes(m_small.peak)} at n={n1}, "
        f"{format_bytes(m_big.peak)} at n={n2} (limit {format_bytes(limit)}{ref_text})",
    )
