"""Partial credit for a test cell that grades several things.

nbgrader gives a test cell the float its last expression evaluates to (up to the
cell's points). ``partial_credit`` runs each check, adds up the points of those
that pass, prints why the others failed (to stdout: stderr would zero the cell)
and returns the sum. When nothing passes it raises, so the cell shows the failure.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .report import CheckFailed


def partial_credit(*checks: Callable[[], None], points: Sequence[float] | None = None) -> float:
    """Run zero-argument ``checks``; return the points earned (1 each unless ``points`` says otherwise).

    Make the call the last line of the test cell, and the cell's points their sum.
    """
    __tracebackhide__ = True
    weights = list(points) if points is not None else [1.0] * len(checks)
    if len(weights) != len(checks):
        raise ValueError("give one weight per check")
    earned, failures = 0.0, []
    for check, weight in zip(checks, weights):
        try:
            check()
        except CheckFailed as exc:
            failures.append((weight, str(exc)))
        else:
            earned += weight
    if failures and earned == 0:
        raise CheckFailed("\n".join(message for _, message in failures))
    for weight, message in failures:
        first, *rest = message.splitlines()
        print(f"✗ lost {weight:g} point{'s' if weight != 1 else ''}: {first}", *rest, sep="\n")
    return earned
