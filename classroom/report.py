"""``python-memory report ASSIGNMENT``: how a class did, as an HTML page and two CSV tables.

Built from nbgrader's gradebook (scores) and the check records in the autograded notebooks
(``application/vnd.python-memory.check+json`` outputs): per exercise the pass rate, every student's
measured memory against their target, the most common failures, and the students who need attention.
Writes, into the output folder (default: ``reports/`` in the course):

* ``<assignment>-report.html``: one self-contained page (charts inline), readable without a server;
* ``<assignment>-checks.csv``: one row per exercise and check (figures in bytes, rates as fractions);
* ``<assignment>-students.csv``: one row per student of the gradebook.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from . import class_results, class_summary, report_page
from .class_results import ReportError
from .class_summary import ClassSummary

CHECK_COLUMNS = [
    "assignment", "exercise", "check", "students", "reached", "passed", "failed", "errors", "pass_rate",
    "near_misses", "measured_median_bytes", "measured_min_bytes", "measured_max_bytes", "target_median_bytes",
    "reference_median_bytes", "naive_median_bytes", "exercise_passed", "exercise_pass_rate", "exercise_mean_points",
    "exercise_max_points", "exercise_top_failure", "exercise_top_failure_students",
]
STUDENT_COLUMNS = [
    "assignment", "student", "submitted", "score", "max_score", "checks_passed", "checks_failed", "checks_errored",
    "exercises_passed", "exercises_not_passed", "needs_attention", "reasons",
]
# a text cell starting with one of these is a formula to a spreadsheet
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_report(course_root, assignment: str, out_dir=None) -> list[Path]:
    """Write the class report of ``assignment``; the paths of the HTML page and the two CSV files.

    Raises :class:`ReportError` (one line) when there is no gradebook or no such assignment in it.
    """
    course_root = Path(course_root)
    out = Path(out_dir) if out_dir else course_root / "reports"
    summary = class_summary.summarize(class_results.load(course_root, assignment))
    out.mkdir(parents=True, exist_ok=True)
    page = out / f"{assignment}-report.html"
    page.write_text(report_page.render(summary), encoding="utf-8")
    checks = out / f"{assignment}-checks.csv"
    _write_csv(checks, CHECK_COLUMNS, check_rows(summary))
    students = out / f"{assignment}-students.csv"
    _write_csv(students, STUDENT_COLUMNS, student_rows(summary))
    return [page, checks, students]


def check_rows(summary: ClassSummary) -> list[dict]:
    rows = []
    for e in summary.exercises:
        top = e.failures[0] if e.failures else None
        common = {
            "assignment": summary.assignment, "exercise": e.exercise, "students": e.submitted,
            "exercise_passed": len(e.passed), "exercise_pass_rate": _rate(e.pass_rate),
            "exercise_mean_points": "" if e.mean_points is None else round(e.mean_points, 3),
            "exercise_max_points": f"{e.max_points:g}",
            "exercise_top_failure": top.template if top else "",
            "exercise_top_failure_students": len(top.students) if top else 0,
        }
        if not e.checks:  # no check of it ran for anyone: the exercise still gets its row
            rows.append({**common, "check": ""})
        for c in e.checks:
            measured = [p.measured for p in c.points]
            rows.append({
                **common, "check": c.check, "reached": c.reached, "passed": c.passed, "failed": c.failed,
                "errors": c.errors, "pass_rate": _rate(c.pass_rate),
                "near_misses": c.near_misses if c.points else "",
                "measured_median_bytes": _int(c.median("measured")),
                "measured_min_bytes": _int(min(measured, default=None)),
                "measured_max_bytes": _int(max(measured, default=None)),
                "target_median_bytes": _int(c.median("target")),
                "reference_median_bytes": _int(c.median("reference")),
                "naive_median_bytes": _int(c.median("naive")),
            })
    return rows


def student_rows(summary: ClassSummary) -> list[dict]:
    return [{
        "assignment": summary.assignment, "student": s.student, "submitted": "yes" if s.submitted else "no",
        "score": "" if s.score is None else f"{s.score:g}", "max_score": f"{s.max_score or summary.max_score:g}",
        "checks_passed": s.checks_passed, "checks_failed": s.checks_failed, "checks_errored": s.checks_errored,
        "exercises_passed": "; ".join(s.exercises_passed), "exercises_not_passed": "; ".join(s.exercises_missed),
        "needs_attention": "yes" if s.needs_attention else "no", "reasons": "; ".join(s.reasons),
    } for s in summary.students]


def _rate(value: float) -> str:
    return f"{value:.3f}"


def _int(value) -> str | int:
    return "" if value is None else round(value)


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)


def _cell(value):
    # failure lines quote learners' values: a spreadsheet must not run one as a formula
    return "'" + value if isinstance(value, str) and value[:1] in FORMULA_STARTS else value


def run(args: argparse.Namespace) -> int:
    try:
        paths = write_report(Path(args.course), args.assignment, args.out)
    except ReportError as err:
        print(f"report: {err}")
        return 1
    print("\n".join(f"written: {p}" for p in paths))
    return 0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="write a class report (HTML and CSV) of an autograded assignment",
        description="How a class did on one assignment, from the gradebook and the autograded notebooks: per "
                    "exercise the pass rate, every student's memory against the target, the most common failures, "
                    "and the students who need attention. Run it after `nbgrader autograde`.")
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment id, e.g. 04-lazy-evaluation")
    parser.add_argument("--course", metavar="DIR", default=".",
                        help="the course folder, with nbgrader_config.py and the gradebook (default: here)")
    parser.add_argument("--out", metavar="DIR",
                        help="where to write the report (default: reports/ in the course folder)")
    parser.set_defaults(run=run)
