"""Autograded quiz questions.

A question is a solution cell where the learner sets a variable (``q1 = "b"``).
The visible test only checks the form -- :func:`check_format` (one of the letters
offered?) or, for short answers, :func:`check_filled` (text or a number given?);
the hidden test, :func:`check_choice` or :func:`check_short`, checks the answer,
and its failure message carries the explanation, so a wrong answer teaches
something in the feedback.
"""

from __future__ import annotations

import os
from typing import Iterable

from . import report

# Explanations are hidden-test text: a class's feedback must not become the next class's
# answer key. nbgrader sets NBGRADER_EXECUTION=autograde while grading; self-study
# grading (`make grade`) sets AUTOGRADER_EXPLAIN=1 to get them back.
EXPLAIN_ENV = "AUTOGRADER_EXPLAIN"


def explanations_shown() -> bool:
    """Whether answer checks may explain the right answer (not in an instructor's autograding)."""
    if os.environ.get(EXPLAIN_ENV) is not None:
        return os.environ[EXPLAIN_ENV] == "1"
    return os.environ.get("NBGRADER_EXECUTION") != "autograde"


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
        report.fail(report.record(question, "format", "fail"), message)
    report.emit(report.record(question, "format", "pass"), f"✓ {question}: answered")


def check_choice(answer, expected: str, explanation: str, question: str = "this question") -> None:
    """Fail unless ``answer`` is ``expected``; the failure explains the right answer."""
    __tracebackhide__ = True
    given = _normalise(answer)
    ok = given == expected.lower()
    _answer_verdict(ok, answer, explanation, question)


def _words(text) -> str:
    return " ".join(str(text).lower().replace("`", "").split()).strip(" .")


def check_filled(answer, question: str = "this question", kind: type | tuple = (str, int, float)) -> None:
    """Visible test of a short answer: fail unless it was given, with the expected kind (text or a number)."""
    __tracebackhide__ = True
    kinds = kind if isinstance(kind, tuple) else (kind,)
    empty = answer is None or answer is ... or (isinstance(answer, str) and not answer.strip())
    if empty or isinstance(answer, bool) or not isinstance(answer, kinds):
        wanted = " or ".join("text" if k is str else "a number" for k in kinds if k in (str, int, float)) or "an answer"
        message = f"{question}: no answer yet; set it to {wanted}" if empty else \
            f"{question}: {answer!r} is not {wanted}"
        report.fail(report.record(question, "format", "fail"), message)
    report.emit(report.record(question, "format", "pass"), f"✓ {question}: answered")


def check_short(answer, accepted, explanation: str, question: str = "this question", tolerance: float = 0.0) -> None:
    """Hidden test of a short answer: one of ``accepted`` words/phrases (case, spaces and backticks ignored),
    or, for numbers, within ``tolerance`` (relative) of an accepted number. The failure explains."""
    __tracebackhide__ = True
    options = accepted if isinstance(accepted, (list, tuple, set)) else [accepted]
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        ok = any(isinstance(a, (int, float)) and abs(answer - a) <= tolerance * abs(a) for a in options)
    else:
        ok = _words(answer) in {_words(a) for a in options if isinstance(a, str)}
    _answer_verdict(ok, answer, explanation, question)


def _answer_verdict(ok: bool, answer, explanation: str, question: str) -> None:
    __tracebackhide__ = True
    rec = report.record(question, "quiz", "pass" if ok else "fail")
    why = f" {explanation}" if explanations_shown() else ""
    if not ok:
        report.fail(rec, f"{question}: {answer!r} is not right.{why}", shown=f"{question}: {answer!r} is not right")
    report.emit(rec, f"✓ {question}: right.{why}")
