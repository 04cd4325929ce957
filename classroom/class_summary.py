"""The figures of a class report: per exercise and check, who passed, the measured memory against the
target, the failures grouped by message, and the students who need attention.

A student passes an exercise when every check of it that ran for them passed and none of its test
cells failed otherwise. A check no student reached (an earlier check of its cell failed) counts as not
passed. Memory figures are each student's deciding record for the check: the one that failed, or
else the one closest to its target.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from .class_results import Check, ClassResults, StudentResult

# A failure within 25 % of its target is a near miss: many of them say the target is tight, not the code wasteful.
NEAR_MISS = 1.25
# Under this share of the assignment's points, a student needs attention.
ATTENTION_SHARE = 0.5
TOP_FAILURES = 5
QUIZ_CHECKS = {"format", "quiz"}  # what autograder.quiz records
ATTENTION_RULE = (
    f"A student needs attention when they did not submit, scored under {ATTENTION_SHARE:.0%} of the points, "
    "had a check end in an error (their code raised, ran out of time or memory, or did something the grader "
    "refuses) rather than miss a target, or had a test cell fail before any check ran (a name the tests need "
    "is missing)."
)
# Numbers, with their binary unit if they have one: "7.7 MiB", "n=200,000", "(24075)"; not the 1 of "Q1".
_FIGURE = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?(?:B|KiB|MiB|GiB)\b)?")


def message_template(line: str) -> str:
    """A failure's first line with its figures replaced by "…", so that the same failure groups together."""
    return _FIGURE.sub("…", line)


@dataclass
class Point:
    """One student's deciding figures (bytes) for one memory check."""

    student: str
    verdict: str
    measured: float
    target: float
    reference: float | None = None
    naive: float | None = None


@dataclass
class CheckSummary:
    exercise: str
    check: str
    students: int  # who submitted
    reached: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    points: list[Point] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0

    @property
    def near_misses(self) -> int:
        return sum(1 for p in self.points if p.verdict == "fail" and p.measured <= NEAR_MISS * p.target)

    def median(self, name: str) -> float | None:
        values = [getattr(p, name) for p in self.points if getattr(p, name) is not None]
        return statistics.median(values) if values else None


@dataclass
class FailureGroup:
    template: str
    students: list[str]
    example: str  # the most frequent actual line of the group


@dataclass
class ExerciseSummary:
    exercise: str
    cells: list[str]  # grade ids of the test cells that check it
    max_points: float
    submitted: int
    passed: list[str] = field(default_factory=list)
    points: dict[str, float] = field(default_factory=dict)
    checks: list[CheckSummary] = field(default_factory=list)
    failures: list[FailureGroup] = field(default_factory=list)
    other_failures: int = 0  # students whose failures fall outside the top groups

    @property
    def pass_rate(self) -> float:
        return len(self.passed) / self.submitted if self.submitted else 0.0

    @property
    def mean_points(self) -> float | None:
        return statistics.fmean(self.points.values()) if self.points else None

    @property
    def is_quiz(self) -> bool:
        return bool(self.checks) and all(c.check in QUIZ_CHECKS for c in self.checks)


@dataclass
class StudentSummary:
    student: str
    submitted: bool
    score: float | None
    max_score: float | None
    checks_passed: int = 0
    checks_failed: int = 0
    checks_errored: int = 0
    exercises_passed: list[str] = field(default_factory=list)
    exercises_missed: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(self.reasons)


@dataclass
class ClassSummary:
    assignment: str
    max_score: float
    exercises: list[ExerciseSummary]
    students: list[StudentSummary]

    @property
    def submitted(self) -> list[StudentSummary]:
        return [s for s in self.students if s.submitted]

    @property
    def attention(self) -> list[StudentSummary]:
        """Students who need attention, lowest score first (no submission first of all)."""
        return sorted((s for s in self.students if s.needs_attention),
                      key=lambda s: (s.score is not None, s.score or 0.0, s.student))


def summarize(results: ClassResults) -> ClassSummary:
    submitted = [s for s in results.students if s.submitted]
    cell_exercises = _cell_exercises(results, submitted)
    order = list(dict.fromkeys(ex for key in cell_exercises for ex in cell_exercises[key]))
    exercises = [_exercise(ex, results, submitted, cell_exercises) for ex in order]
    passed_by = {s.student: [e.exercise for e in exercises if s.student in e.passed] for s in submitted}
    students = [_student(s, order, passed_by.get(s.student, []), results.max_score, cell_exercises)
                for s in results.students]
    return ClassSummary(results.assignment, results.max_score, exercises, students)


def _cell_exercises(results: ClassResults, submitted: list[StudentResult]) -> dict[tuple[str, str], list[str]]:
    """(notebook, grade id) -> the exercises its checks named for anyone; a cell without any, its grade id."""
    found: dict[tuple[str, str], dict[str, None]] = {(nb, gid): {} for nb, gid, _ in results.cells}
    for student in submitted:
        for cell in student.cells:
            for check in cell.checks:
                found[(cell.notebook, cell.grade_id)][check.exercise] = None
    return {key: list(names) or [key[1]] for key, names in found.items()}


def _exercise(name: str, results: ClassResults, submitted: list[StudentResult], cell_exercises) -> ExerciseSummary:
    keys = [key for key, names in cell_exercises.items() if name in names]
    summary = ExerciseSummary(name, [gid for _, gid in keys], sum(top for nb, gid, top in results.cells
                                                                    if (nb, gid) in keys), len(submitted))
    check_names: dict[str, None] = {}
    per_student: dict[str, list[Check]] = {}
    messages: dict[str, list[str]] = {}
    for student in submitted:
        cells = [c for c in student.cells if (c.notebook, c.grade_id) in keys]
        checks = [c for cell in cells for c in cell.checks if c.exercise == name]
        per_student[student.student] = checks
        check_names.update((str(c.record.get("check")), None) for c in checks)
        unexplained = [cell.unexplained for cell in cells if cell.unexplained]
        messages[student.student] = [_failure_line(c) for c in checks if not c.passed] + unexplained
        if checks and not messages[student.student]:
            summary.passed.append(student.student)
        scores = [c.score for c in cells if c.score is not None]
        if scores:
            summary.points[student.student] = sum(scores)
    summary.checks = [_check(name, check, per_student) for check in check_names]
    summary.failures, summary.other_failures = _failure_groups(messages)
    return summary


def _check(exercise: str, check: str, per_student: dict[str, list[Check]]) -> CheckSummary:
    summary = CheckSummary(exercise, check, len(per_student))
    for student, checks in per_student.items():
        mine = [c.record for c in checks if c.record.get("check") == check]
        if not mine:
            continue
        summary.reached += 1
        verdicts = {r.get("verdict") for r in mine}
        if "error" in verdicts:
            summary.errors += 1
        elif verdicts != {"pass"}:
            summary.failed += 1
        else:
            summary.passed += 1
        point = _deciding_point(student, mine)
        if point:
            summary.points.append(point)
    return summary


def _deciding_point(student: str, records: list[dict]) -> Point | None:
    """The record that decided the check for this student (failed, or closest to its target), as a Point."""
    points = []
    for r in records:
        measured, target = _figure(r.get("measured")), _figure(r.get("target"))
        if measured is None or target is None or r.get("verdict") not in ("pass", "fail"):
            continue
        points.append(Point(student, r["verdict"], measured, target, _figure(r.get("reference")),
                            _figure(r.get("naive"))))
    return max(points, key=lambda p: (p.verdict == "fail", p.measured / max(p.target, 1)), default=None)


def _figure(value) -> float | None:
    """A record's byte figure; for a scaling check (one per size), the one at the larger size."""
    if isinstance(value, list):
        value = value[-1] if value else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _failure_line(check: Check) -> str:
    r = check.record
    return check.shown or f"{r.get('exercise')}: {r.get('check')} check {r.get('verdict')}"


def _failure_groups(messages: dict[str, list[str]]) -> tuple[list[FailureGroup], int]:
    """The most common failures (by template, counted once per student), and how many students failed otherwise."""
    students: dict[str, set[str]] = {}
    examples: dict[str, Counter] = {}
    for student, lines in messages.items():
        for line in lines:
            template = message_template(line)
            students.setdefault(template, set()).add(student)
            examples.setdefault(template, Counter())[line] += 1
    ranked = sorted(students, key=lambda t: (-len(students[t]), t))
    top = [FailureGroup(t, sorted(students[t]), examples[t].most_common(1)[0][0]) for t in ranked[:TOP_FAILURES]]
    shown = {s for g in top for s in g.students}
    others = {s for t in ranked[TOP_FAILURES:] for s in students[t]} - shown
    return top, len(others)


def _student(result: StudentResult, order: list[str], passed: list[str], max_score: float,
             cell_exercises) -> StudentSummary:
    summary = StudentSummary(result.student, result.submitted, result.score, result.max_score)
    if not result.submitted:
        summary.reasons.append("did not submit")
        return summary
    summary.exercises_passed = passed
    summary.exercises_missed = [ex for ex in order if ex not in passed]
    errored, unexplained = {}, {}
    for cell in result.cells:
        for check in cell.checks:
            verdict = check.record.get("verdict")
            if verdict == "pass":
                summary.checks_passed += 1
            elif verdict == "error":
                summary.checks_errored += 1
                errored.setdefault(check.exercise, _failure_line(check))
            else:
                summary.checks_failed += 1
        if cell.unexplained:
            for ex in cell_exercises[(cell.notebook, cell.grade_id)]:
                unexplained.setdefault(ex, cell.unexplained)
    if not result.autograded:
        summary.reasons.append("submitted but not autograded yet: run `nbgrader autograde`")
    top = result.max_score or max_score
    if result.score is not None and top and result.score < ATTENTION_SHARE * top:
        summary.reasons.append(f"scored {result.score:g} of {top:g}")
    # the autograder's failure lines start with the exercise's name
    summary.reasons += [f"a check ended in an error: {line}" for line in errored.values()]
    summary.reasons += [f"{ex}: a test cell failed before any check ran ({line})" for ex, line in unexplained.items()]
    return summary
