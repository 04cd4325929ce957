"""Autograded quiz questions.

A question is a solution cell where the learner sets a variable (``q1 = "b"``) and a
test cell. Its visible line, :func:`check_answer`, checks the answer's form and, in the
learner's notebook, says at once whether it is right (with the explanation) from the
key that generation wrote into it (:mod:`autograder.quiz_keys`). Its hidden check,
:func:`check_choice` or :func:`check_short`, is the grade. :func:`check_format` and
:func:`check_filled` check only the form.

Answers must be exactly what is asked for -- a ``str``, or an ``int``/``float`` for a
number -- since a subclass's comparisons could say anything.
"""

from __future__ import annotations

import os
from typing import Iterable

from . import quiz_keys, report
from .shipping import LearnerName

# Explanations are hidden-test text: a class's feedback must not become the next class's
# answer key. nbgrader sets NBGRADER_EXECUTION=autograde while grading; self-study
# grading (`make grade`) sets AUTOGRADER_EXPLAIN=1 to get them back.
EXPLAIN_ENV = "AUTOGRADER_EXPLAIN"
NUMBER = (int, float)


def explanations_shown() -> bool:
    """Whether answer checks may explain the right answer (not in an instructor's autograding)."""
    if os.environ.get(EXPLAIN_ENV) is not None:
        return os.environ[EXPLAIN_ENV] == "1"
    return not autograding()


def autograding() -> bool:
    """Whether nbgrader is autograding: the hidden checks decide then, so visible checks check only the form."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def _lookalike(answer, question: str, wanted: str, example: str) -> str | None:
    """The message refusing an answer that only looks like a plain one (a subclass, or an object of the learner's)."""
    kind = answer.kind if isinstance(answer, LearnerName) else None
    if kind is None and isinstance(answer, (str, int, float)) and not isinstance(answer, bool) \
            and type(answer) not in (str, int, float):
        kind = type(answer).__name__
    if kind is None:
        return None
    return (f"{question}: answer with a plain {wanted} such as {example}, not an object of type {kind} "
            "(its comparisons could lie)")


def _choice_problem(answer, offered: list[str], question: str) -> str | None:
    """Why ``answer`` is not one of the letters ``offered`` (None when it is)."""
    shown = ", ".join(f'"{c}"' for c in offered)
    refused = _lookalike(answer, question, "str", f'"{offered[0]}"')
    if refused:
        return refused
    if answer is None or answer is ... or (type(answer) is str and quiz_keys.choice_text(answer) in ("", "...")):
        return f"{question}: no answer yet; set it to one of {shown}"
    if type(answer) is not str or quiz_keys.choice_text(answer) not in offered:
        return f"{question}: {report.short_repr(answer)} is not one of the choices {shown}"
    return None


def _short_problem(answer, kinds: tuple, question: str) -> str | None:
    """Why ``answer`` is not an answer of the kinds asked for (text, a number); None when it is."""
    names = (["text"] if str in kinds else []) + (["a number"] if any(k in kinds for k in NUMBER) else [])
    wanted = " or ".join(names) or "an answer"
    number = any(k in kinds for k in NUMBER)
    refused = _lookalike(answer, question, "number" if number and str not in kinds else "str",
                         "42" if number and str not in kinds else '"reference counting"')
    if refused:
        return refused
    if answer is None or answer is ... or (type(answer) is str and not answer.strip()):
        return f"{question}: no answer yet; set it to {wanted}"
    if type(answer) not in kinds or type(answer) is bool:
        return f"{question}: {report.short_repr(answer)} is not {wanted}"
    return None


def _form(answer, choices, question: str) -> str | None:
    if isinstance(choices, str):
        return _choice_problem(answer, [c.lower() for c in choices], question)
    kinds = choices if isinstance(choices, tuple) else (choices,)
    return _short_problem(answer, kinds, question)


def _canonical(answer, choices) -> str | None:
    return quiz_keys.choice_text(answer) if isinstance(choices, str) else quiz_keys.short_text(answer)


def check_answer(answer, question: str = "this question", choices: str | type | tuple = "abcd",
                 key: str | None = None) -> None:
    """Visible test of a quiz answer: its form, then -- with a key, outside autograding -- right or wrong at once.

    ``choices`` are the letters offered, or for a short answer the kind wanted (``str``, ``(int, float)``).
    Right shows the explanation; wrong fails with one line. While nbgrader autogrades it checks only the
    form: the hidden check grades, and feedback must not explain answers.
    """
    __tracebackhide__ = True
    problem = _form(answer, choices, question)
    if problem:
        report.fail(report.record(question, "format", "fail"), problem)
    try:
        explanation = None if key is None or autograding() else quiz_keys.open_key(key, _canonical(answer, choices))
    except ValueError:
        key = None  # a damaged key: the grader still checks the answer
    if key is None or autograding():
        note = "" if autograding() else " (the grader checks the answer)"
        report.emit(report.record(question, "format", "pass"), f"✓ {question}: answered{note}")
        return
    rec = report.record(question, "quiz", "pass" if explanation is not None else "fail")
    if explanation is None:
        report.fail(rec, f"{question}: {report.short_repr(answer)} is not right; "
                         "change your answer and run this cell again")
    report.emit(rec, f"✓ {question}: right. {explanation}")


def check_format(answer, choices: Iterable[str] = "abcd", question: str = "this question") -> None:
    """Fail unless ``answer`` is one of ``choices`` (letters, case and brackets ignored)."""
    __tracebackhide__ = True
    problem = _choice_problem(answer, [c.lower() for c in choices], question)
    if problem:
        report.fail(report.record(question, "format", "fail"), problem)
    report.emit(report.record(question, "format", "pass"), f"✓ {question}: answered")


def check_choice(answer, expected: str, explanation: str, question: str = "this question") -> None:
    """Fail unless ``answer`` is ``expected`` (an exact str); the failure explains the right answer."""
    __tracebackhide__ = True
    refused = _lookalike(answer, question, "str", '"a"')
    if refused:
        report.fail(report.record(question, "quiz", "fail"), refused)
    ok = type(answer) is str and quiz_keys.choice_text(answer) == expected.lower()
    _answer_verdict(ok, answer, explanation, question)


def check_filled(answer, question: str = "this question", kind: type | tuple = (str, int, float)) -> None:
    """Visible test of a short answer: fail unless it was given, with the expected kind (text or a number)."""
    __tracebackhide__ = True
    problem = _short_problem(answer, kind if isinstance(kind, tuple) else (kind,), question)
    if problem:
        report.fail(report.record(question, "format", "fail"), problem)
    report.emit(report.record(question, "format", "pass"), f"✓ {question}: answered")


def check_short(answer, accepted, explanation: str, question: str = "this question", tolerance: float = 0.0) -> None:
    """Hidden test of a short answer: one of ``accepted`` words/phrases (case, spaces and backticks ignored),
    or, for numbers, within ``tolerance`` (relative) of an accepted number. The failure explains."""
    __tracebackhide__ = True
    refused = _lookalike(answer, question, "str or number", '"reference counting"')
    if refused:
        report.fail(report.record(question, "quiz", "fail"), refused)
    options = accepted if isinstance(accepted, (list, tuple, set)) else [accepted]
    if type(answer) in (int, float):
        ok = any(type(a) in (int, float) and abs(answer - a) <= tolerance * abs(a) for a in options)
    elif type(answer) is str:
        ok = quiz_keys.words_text(answer) in {quiz_keys.words_text(a) for a in options if isinstance(a, str)}
    else:
        ok = False
    _answer_verdict(ok, answer, explanation, question)


def _answer_verdict(ok: bool, answer, explanation: str, question: str) -> None:
    __tracebackhide__ = True
    rec = report.record(question, "quiz", "pass" if ok else "fail")
    why = f" {explanation}" if explanations_shown() else ""
    if not ok:
        report.fail(rec, f"{question}: {answer!r} is not right.{why}", shown=f"{question}: {answer!r} is not right")
    report.emit(rec, f"✓ {question}: right.{why}")
