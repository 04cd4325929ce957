"""Leak checks: is a structure freed, and does repeating an operation keep memory flat?

Both run inside the isolated child (:func:`autograder.measurement.measure`), so a
leak, however large, dies with the child. Object counts come from objgraph
(which walks the objects the cycle collector tracks); byte counts and the
learner's lines come from tracemalloc.
"""

from __future__ import annotations

import gc
from typing import Any, Callable, Iterable

import objgraph

from . import report, sites
from .guard import REAL
from .measurement import DEFAULT_MEMORY_CAP, DEFAULT_TIME_LIMIT, measure
from .units import KiB, format_bytes, format_count

_FRAMES = 16  # deep enough to charge an allocation to the learner's line through library calls


def _type_diff(before: dict, after: dict, limit: int = 5) -> list[tuple[str, int]]:
    grown = [(name, after.get(name, 0) - before.get(name, 0)) for name in after]
    grown = [(n, d) for n, d in grown if d > 0]
    return sorted(grown, key=lambda nd: nd[1], reverse=True)[:limit]


def _types_text(grown: list[tuple[str, int]]) -> str:
    if not grown:
        return ""
    return "objects left over, by type: " + ", ".join(f"{name} +{format_count(d)}" for name, d in grown)


def _run(probe: Callable, exercise: str, check: str, time_limit: float, memory_cap: int) -> dict:
    __tracebackhide__ = True
    m = measure(probe, memory_cap=memory_cap, time_limit=time_limit, frames=_FRAMES)
    if not m.ok:
        rec = report.record(exercise, check, "error", error=m.error, error_kind=m.error_kind)
        report.fail(rec, f"{exercise}: {m.error}\n{report.output_text(m.output)}".rstrip())
    return m.result


def check_freed(
    build: Callable[[], Any],
    *,
    types: Iterable[str],
    exercise: str,
    allowance: int = 4 * KiB,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_cap: int = DEFAULT_MEMORY_CAP,
) -> None:
    """Fail unless the structure ``build()`` returns is freed by reference counting alone.

    With the cycle collector disabled, ``build()`` is called, its result dropped,
    and no instance of ``types`` (class names) may survive, and traced memory must
    come back within ``allowance`` of where it started.
    """
    __tracebackhide__ = True
    names = tuple(types)

    def probe():
        # A full collection empties the interpreter's free lists; a first build and drop then
        # refills them, so the ~80 freed lists, dicts... they keep do not look like a leak.
        gc.collect()
        build()
        gc.disable()
        try:
            snapshot = REAL.take_snapshot()
            before = objgraph.typestats()  # after the snapshot, so its own objects are in both counts
            base = REAL.get_traced_memory()[0]
            root = build()
            built_level = REAL.get_traced_memory()[0]
            built_counts = {n: objgraph.count(n) - before.get(n, 0) for n in names}
            bookkeeping = REAL.get_traced_memory()[0] - built_level  # the dict above is ours, not the learner's
            del root
            built = built_level - base
            left = REAL.get_traced_memory()[0] - base - bookkeeping
            after = objgraph.typestats()
            survivors = {n: after.get(n, 0) - before.get(n, 0) for n in names}
            leaked = left > allowance or any(survivors.values())
            found = sites.learner_growth_sites(REAL.take_snapshot(), snapshot) if leaked else ()
            return {"built": built, "left": left, "built_counts": built_counts, "survivors": survivors,
                    "grown": _type_diff(before, after), "sites": found}
        finally:
            gc.enable()

    r = _run(probe, exercise, "freed", time_limit, memory_cap)
    survivors = {n: c for n, c in r["survivors"].items() if c > 0}
    ok = not survivors and r["left"] <= allowance
    rec = report.record(exercise, "freed", "pass" if ok else "fail", measured=r["left"], target=allowance,
                        built=r["built"], survivors=r["survivors"], built_counts=r["built_counts"])
    if not ok:
        what = ", ".join(f"{format_count(c)} of {format_count(max(c, r['built_counts'].get(n, 0)))} {n} objects"
                         for n, c in survivors.items())
        headline = (
            f"{exercise}: {what or 'memory'} survived dropping the structure with the cycle collector off; "
            f"{format_bytes(r['left'])} of {format_bytes(r['built'])} not freed (allowed: {format_bytes(allowance)})"
        )
        hint = "a reference cycle keeps them alive: hold back-references (such as a parent) with weakref.ref" if survivors else ""
        report.fail(rec, "\n".join(x for x in (headline, hint, _types_text(r["grown"]),
                                                report.sites_text(r["sites"], "where the survivors were allocated:")) if x))
    report.emit(rec, f"✓ {exercise}: freed by reference counting alone "
                     f"({format_bytes(r['built'])} built, {format_bytes(r['left'])} left)")


def check_no_growth(
    operation: Callable[[int], Any],
    *,
    exercise: str,
    calls: int = 2000,
    warmup: int = 200,
    allowance: int = 64 * KiB,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_cap: int = DEFAULT_MEMORY_CAP,
) -> None:
    """Fail unless calling ``operation(i)`` ``calls`` more times (after ``warmup``) leaves retained memory flat.

    Garbage the cycle collector can free is collected before each reading, so
    only memory that is still reachable counts as growth.
    """
    __tracebackhide__ = True

    def probe():
        for i in range(warmup):
            operation(i)
        gc.collect()
        before = REAL.take_snapshot()
        before_types = objgraph.typestats()  # after the snapshot, so its own objects are in both counts
        base = REAL.get_traced_memory()[0]
        for i in range(warmup, warmup + calls):
            operation(i)
        gc.collect()
        growth = REAL.get_traced_memory()[0] - base
        if growth <= allowance:
            return {"growth": growth, "grown": [], "sites": ()}
        after_types = objgraph.typestats()
        found = sites.learner_growth_sites(REAL.take_snapshot(), before)
        return {"growth": growth, "grown": _type_diff(before_types, after_types), "sites": found}

    r = _run(probe, exercise, "no_growth", time_limit, memory_cap)
    growth = r["growth"]
    ok = growth <= allowance
    rec = report.record(exercise, "no_growth", "pass" if ok else "fail", measured=growth, target=allowance, calls=calls)
    per_call = f"about {format_bytes(growth / calls)} per call" if growth > 0 else "none"
    if not ok:
        headline = (f"{exercise}: retained memory grew by {format_bytes(growth)} over {format_count(calls)} calls "
                    f"({per_call}); allowed: {format_bytes(allowance)}")
        report.fail(rec, "\n".join(x for x in (headline, _types_text(r["grown"]),
                                                report.sites_text(r["sites"], "where the growth was allocated:")) if x))
    report.emit(rec, f"✓ {exercise}: retained memory stayed flat over {format_count(calls)} calls "
                     f"(grew {format_bytes(max(growth, 0))}, allowed {format_bytes(allowance)})")
