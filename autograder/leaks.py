"""Leak checks: is a structure freed, and does repeating an operation keep memory flat?

Both run as programs in the isolated child (:mod:`autograder.leak_probes`): the
learner's code runs on a thread of its own, and everything the verdict rests on is
read by the child's main thread or, for resident memory, by the parent. A leak,
however large, dies with the child.
"""

from __future__ import annotations

import linecache
from typing import Any, Callable, Iterable

from . import report, sites
from .child import FREED, NO_GROWTH
from .measurement import DEFAULT_MEMORY_CAP, DEFAULT_TIME_LIMIT, Measurement, measure_learner
from .units import KiB, format_bytes, format_count

# check_freed: the structure is built and dropped twice. What the second round leaves may be this much plus
# this share of what it built; the first round may leave up to FIRST_SHARE of what it built, because a registry
# that emptied keeps the table the first structure grew (a WeakSet's table can be half a small node per node).
FREED_ALLOWANCE = 4 * KiB
FREED_SHARE = 0.125
FREED_FIRST_SHARE = 1.0
# check_no_growth: a leak grows in both windows, by more than this per call on top of the allowance;
# a one-off growth (a table resized once, a bounded cache still filling) shows in one window only.
GROWTH_PER_CALL = 2  # bytes
GROWTH_ALLOWANCE = 4 * KiB
# Resident anonymous memory moves in pages and allocator arenas: a looser budget, on the longer window.
ANON_PER_CALL = 32  # bytes
ANON_SLACK = 512 * KiB


def _run(func: Callable, exercise: str, check: str, **options: Any) -> Measurement:
    __tracebackhide__ = True
    m = measure_learner(func, program=check, **options)
    if not m.ok:
        rec = report.record(exercise, check, "error", error=m.error, error_kind=m.error_kind)
        report.fail(rec, f"{exercise}: {m.error}\n{report.output_text(m.output)}".rstrip())
    return m


def _sites_text(found, heading: str) -> str:
    if not found:
        return ""
    lines = [heading]
    for filename, lineno, size in found:
        code = linecache.getline(filename, lineno).strip()
        lines.append(f"  {format_bytes(size):>10}  {sites.describe_file(filename)} line {lineno}"
                     + (f": {code}" if code else ""))
    return "\n".join(lines)


def check_freed(
    build: Callable[[], Any],
    *,
    exercise: str,
    types: Iterable[str] = (),
    allowance: int = FREED_ALLOWANCE,
    share: float = FREED_SHARE,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_cap: int = DEFAULT_MEMORY_CAP,
) -> None:
    """Fail unless the structure ``build()`` returns is freed by reference counting alone.

    With the cycle collector off, ``build()`` runs twice; each time every object
    reachable from its result that it allocated is recorded, and once the result is
    dropped none of them may still be alive. Memory left (growth per allocation site)
    must stay within ``allowance`` + ``share`` × what was built in the second round,
    and within ``allowance`` + FREED_FIRST_SHARE × what was built in the first (a
    registry's table grows once). ``types`` (class names) are named first in the message.
    """
    __tracebackhide__ = True
    r = _run(build, exercise, FREED, time_limit=time_limit, memory_cap=memory_cap).result
    named = list(types)
    survivors = {n: c for n, c in sorted(r["survivors"].items(), key=lambda nc: (nc[0] not in named, -nc[1])) if c > 0}
    limit = int(allowance + share * r["built"])
    first_limit = int(allowance + FREED_FIRST_SHARE * r["first_built"])
    again = r["left"] > limit
    once = r["first_left"] > first_limit
    ok = not survivors and not again and not once
    rec = report.record(exercise, "freed", "pass" if ok else "fail", measured=r["left"], target=limit,
                        built=r["built"], first_left=r["first_left"], first_target=first_limit,
                        first_built=r["first_built"], survivors=survivors, built_counts=r["built_counts"])
    if not ok:
        sites = r["sites"]
        if survivors:
            what = ", ".join(f"{format_count(c)} of {format_count(max(c, r['built_counts'].get(n, 0)))} {n} objects"
                             for n, c in list(survivors.items())[:4])
            left, built = r["left"], r["built"]
            if r.get("survivors_round") == 1:
                left, built, sites = r["first_left"], r["first_built"], r["first_sites"]
            headline = (f"{exercise}: {what} survived dropping the structure with the cycle collector off; "
                        f"{format_bytes(left)} of {format_bytes(built)} not freed")
            hint = ("a reference cycle, or a cache or registry holding them, keeps them alive: hold back-references "
                    "(such as a parent) with weakref.ref, and keep caches bounded")
        elif again:
            headline = (f"{exercise}: {format_bytes(r['left'])} of the {format_bytes(r['built'])} a structure was "
                        f"built from stayed allocated after it was dropped, again for a second structure (allowed: "
                        f"{format_bytes(limit)}): memory kept per structure")
            hint = "something outside the structure (a list, a cache, a log) keeps what each build made"
        else:
            sites = r["first_sites"]
            headline = (f"{exercise}: {format_bytes(r['first_left'])} stayed allocated after a structure of "
                        f"{format_bytes(r['first_built'])} was dropped (allowed: {format_bytes(first_limit)})")
            hint = "something outside the structure (a list, a cache, a log) keeps what the build made"
        report.fail(rec, "\n".join(x for x in (headline, hint,
                                                _sites_text(sites, "where the memory left was allocated:")) if x))
    report.emit(rec, f"✓ {exercise}: freed by reference counting alone "
                     f"({format_bytes(r['built'])} built, {format_bytes(r['left'])} left)")


def check_no_growth(
    operation: Callable[[int], Any],
    *,
    exercise: str,
    calls: int = 2000,
    warmup: int = 200,
    per_call: float = GROWTH_PER_CALL,
    allowance: int = GROWTH_ALLOWANCE,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_cap: int = DEFAULT_MEMORY_CAP,
) -> None:
    """Fail unless memory stays flat while ``operation(i)`` is called again and again.

    After ``warmup`` calls, two windows of ``calls`` and 4 × ``calls`` calls run;
    garbage the cycle collector can free is collected before each reading. A leak
    grows in both windows: traced memory by more than ``allowance`` + ``per_call``
    bytes per call (growth summed per allocation site, so memory paid back elsewhere
    does not hide it), or anonymous resident memory, read from outside the measured
    process, by more than its own looser budget in the longer window (memory
    tracemalloc cannot see: SQLite, mmap, C extensions).
    """
    __tracebackhide__ = True
    r = _run(operation, exercise, NO_GROWTH, calls=calls, warmup=warmup, time_limit=time_limit,
             memory_cap=memory_cap).result
    windows, growth = r["windows"], r["growth"]
    limits = [int(allowance + per_call * n) for n in windows]
    traced_leak = all(g > limit for g, limit in zip(growth, limits))
    anon = r.get("anon", {})
    anon_growth = anon.get("window 2", 0) - anon.get("window 1", 0) if len(anon) >= 3 else 0
    anon_limit = int(ANON_SLACK + ANON_PER_CALL * windows[-1])
    anon_leak = anon_growth > anon_limit
    ok = not traced_leak and not anon_leak
    rec = report.record(exercise, "no_growth", "pass" if ok else "fail", measured=growth[-1], target=limits[-1],
                        calls=windows, growth=growth, anon=anon_growth, anon_target=anon_limit)
    span = f"{format_count(windows[0])} then {format_count(windows[1])} calls"
    if traced_leak:
        rates = " and ".join(f"{format_bytes(g / n)}" for g, n in zip(growth, windows))
        headline = (f"{exercise}: memory grew by {format_bytes(growth[0])} and {format_bytes(growth[1])} over "
                    f"{span} ({rates} per call): a leak; allowed: {format_bytes(limits[1])} on the longer window")
    elif anon_leak:
        headline = (f"{exercise}: resident memory grew by {format_bytes(anon_growth)} over {format_count(windows[1])} "
                    f"calls ({format_bytes(anon_growth / windows[1])} per call) although tracemalloc saw only "
                    f"{format_bytes(growth[1])}: memory kept where tracemalloc cannot see it (SQLite, mmap, a C "
                    f"extension); allowed: {format_bytes(anon_limit)}")
    if not ok:
        types_text = ("objects left over, by type: " + ", ".join(f"{n} +{format_count(c)}" for n, c in r["types"])
                      if r["types"] else "")
        report.fail(rec, "\n".join(x for x in (headline, types_text,
                                                _sites_text(r["sites"], "where the growth was allocated:")) if x))
    report.emit(rec, f"✓ {exercise}: memory stayed flat over {span} "
                     f"(grew {format_bytes(max(growth[0], 0))} and {format_bytes(max(growth[1], 0))}, "
                     f"allowed {format_bytes(limits[0])} and {format_bytes(limits[1])})")
