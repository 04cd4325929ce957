"""Autograded quiz questions.

A question is a solution cell where the learner sets a variable (``q1 = "b"``).
The visible test calls :func:`check_format` (is it one of the letters offered?);
the hidden test calls :func:`check_choice`, whose failure message carries the
explanation, so a wrong answer teaches something in the feedback.
"""

from __future__ import annotations

from typing import Iterable

from . import report
from .report import CheckFailed


def _normalise(answer) -> str:
    return str(answer).strip().lower().strip("()[]. ") if answer is not None else ""


def check_format(answer, choices: Iterable[str] = "abcd", question: str = "this question") -> None:
    """Fail unless ``answer`` is one of ``choices`` (letters, case and brackets ignored)."""
    __tracebackhide__ = True
    offered = [c.lower() for c in choices]
    given = _normalise(answer)
    if given not in offered:
        shown = ", ".join(f'"{c}"' for c in offered)
        if answer is None or given in ("", "..."):
            message = f"{question}: no answer yet; set it to one of {shown}"
        else:
            message = f"{question}: {answer!r} is not one of the choices {shown}"
        report.emit(report.record(question, "format", "fail"), "✗ " + message)
        raise CheckFailed(message)
    report.emit(report.record(question, "format", "pass"), f"✓ {question}: answered")


def check_choice(answer, expected: str, explanation: str, question: str = "this question") -> None:
    """Fail unless ``answer`` is ``expected``; the failure explains the right answer."""
    __tracebackhide__ = True
    given = _normalise(answer)
    ok = given == expected.lower()
    rec = report.record(question, "quiz", "pass" if ok else "fail")
    if not ok:
        report.emit(rec, f"✗ {question}: {answer!r} is not right")
        raise CheckFailed(f"{question}: {answer!r} is not right. {explanation}")
    report.emit(rec, f"✓ {question}: right. {explanation}")
