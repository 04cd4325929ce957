"""The class report (`python-memory report`): its figures against nbgrader's gradebook and the check records.

The slow test grades a small simulated class of 04-lazy-evaluation through real nbgrader (good, wasteful,
blank, a student with some wrong quiz answers and a wasteful sum_of_squares, one whose function has
another name, and one on the roster who never submitted), writes the report, checks its CSV tables
against the gradebook and the autograded notebooks, and renders the HTML page in headless Debian
Chromium from a file, with every request other than the file itself and data: URIs refused. The
screenshot goes to build/screenshots/ (ignored by git).
"""

import csv
import re
import statistics
import urllib.parse

import nbformat
import pytest
from nbgrader.api import Gradebook

import course
from autograder.report import MIME
from classroom import cli
from classroom.class_results import Check, CellResult, ClassResults, StudentResult
from classroom.class_summary import NEAR_MISS, message_template, summarize
from classroom.report_plot import chart_alt, chart_figure
from conftest import ROOT
from test_attacks import make_course, submit
from test_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from test_charts import assert_binary_axis
from test_pipeline import load_submissions_module, nbgrader_meta, submission

AID = "04-lazy-evaluation"
NB = "lazy-evaluation"
QUIZ = [f"Q{i}" for i in range(1, 8)]
# who passes what, by how each submission was made (the good solutions wherever a student is not named)
EXPECTED_PASSED = {
    **{q: {"good", "wasteful", "half", "renamed"} for q in QUIZ},
    "Q2": {"good", "wasteful", "renamed"},
    "Q3": {"good", "wasteful", "renamed"},
    "sum_of_squares": {"good"},
    "chunked": {"good", "half", "renamed"},
}
NEED_ATTENTION = {"blank": "scored 0 of", "renamed": "NameError", "absent": "did not submit"}
UNIT = re.compile(r"\d (B|KiB|MiB|GiB)\b")
SCREENSHOTS = ROOT / "build" / "screenshots"


def exercise_cells(exercise):
    """The test cells of an exercise of this chapter, by the chapter's naming of its cells."""
    if exercise in QUIZ:
        return [f"test_q{exercise[1:]}"]
    return [f"test_{exercise}_correct", f"test_{exercise}_memory"]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def graded_records(root, student):
    """Every check record in the graded cells of a student's autograded notebook."""
    nb = nbformat.read(root / "autograded" / student / AID / f"{NB}.ipynb", as_version=4)
    return [o.data[MIME] for c in nb.cells if nbgrader_meta(c).get("grade")
            for o in c.get("outputs", []) if o.output_type == "display_data" and MIME in o.get("data", {})]


def last(value):
    return value[-1] if isinstance(value, list) else value


def deciding(records):
    """A student's deciding record for a check: the one that failed, else the one closest to its target."""
    measured = [r for r in records if r["verdict"] in ("pass", "fail") and r.get("measured") is not None]
    return max(measured, key=lambda r: (r["verdict"] == "fail", last(r["measured"]) / r["target"]), default=None)


@pytest.mark.slow
def test_report_of_a_graded_class(tmp_path, capsys):
    root = make_course(tmp_path, AID)
    course.nbgrader(root, "db", "student", "add", "absent")  # on the roster, never submits
    wasteful, _ = load_submissions_module(AID)
    submit(root, AID, "good", {})
    submit(root, AID, "wasteful", wasteful)
    submit(root, AID, "half", {"sum_of_squares": wasteful["sum_of_squares"], "q2": 'q2 = "a"\n', "q3": 'q3 = "a"\n'})
    submit(root, AID, "renamed", {"sum_of_squares": "def sum_squares(n):\n    return sum(x * x for x in range(n))\n"})
    blank = root / "submitted" / "blank" / AID / f"{NB}.ipynb"
    blank.parent.mkdir(parents=True)
    nbformat.write(submission(nbformat.read(root / "release" / AID / f"{NB}.ipynb", as_version=4), {}), blank)
    submitted = ["blank", "good", "half", "renamed", "wasteful"]
    proc = course.nbgrader(root, "autograde", AID, "--force", check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    out = tmp_path / "reports"
    assert cli.main(["report", AID, "--course", str(root), "--out", str(out)]) == 0
    page, checks_csv, students_csv = (out / f"{AID}-{name}" for name in ("report.html", "checks.csv", "students.csv"))
    assert capsys.readouterr().out.split() == ["written:", str(page), "written:", str(checks_csv),
                                               "written:", str(students_csv)]

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        max_points = {gc.name: gc.max_score for gc in gb.find_assignment(AID).notebooks[0].grade_cells}
        scores = {s: {g.name: g.score for g in gb.find_submission_notebook(NB, AID, s).grades} for s in submitted}
        totals = {s: (gb.find_submission(AID, s).score, gb.find_submission(AID, s).max_score) for s in submitted}
    records = {s: graded_records(root, s) for s in submitted}
    assert all(r["student"] == s and r["assignment"] == AID for s in submitted for r in records[s])

    # per exercise: who passed, and the points from the gradebook
    rows = read_csv(checks_csv)
    by_exercise = {}
    for row in rows:
        by_exercise.setdefault(row["exercise"], row)
    assert list(by_exercise) == QUIZ + ["sum_of_squares", "chunked"]
    for exercise, row in by_exercise.items():
        cells = exercise_cells(exercise)
        passed = EXPECTED_PASSED[exercise]
        assert int(row["exercise_passed"]) == len(passed) and int(row["students"]) == len(submitted), (exercise, row)
        assert float(row["exercise_pass_rate"]) == pytest.approx(len(passed) / len(submitted), abs=5e-4)
        # a record-based pass is exactly full marks in the gradebook here (no partial credit in this chapter)
        full = {s for s in submitted if all(scores[s][c] == max_points[c] for c in cells)}
        assert full == passed, (exercise, full)
        mean = statistics.fmean(sum(scores[s][c] for c in cells) for s in submitted)
        assert float(row["exercise_mean_points"]) == pytest.approx(mean, abs=5e-4), exercise
        assert float(row["exercise_max_points"]) == sum(max_points[c] for c in cells)

    # per check: counts and memory figures against the records in the notebooks
    for row in rows:
        mine = {s: [r for r in records[s] if r["exercise"] == row["exercise"] and r["check"] == row["check"]]
                for s in submitted}
        verdicts = {s: {r["verdict"] for r in recs} for s, recs in mine.items() if recs}
        assert int(row["reached"]) == len(verdicts), row
        assert int(row["errors"]) == sum("error" in v for v in verdicts.values()), row
        assert int(row["passed"]) == sum(v == {"pass"} for v in verdicts.values()), row
        assert int(row["failed"]) == len(verdicts) - int(row["errors"]) - int(row["passed"]), row
        decided = [d for d in (deciding(recs) for recs in mine.values()) if d]
        if not decided:
            assert row["measured_median_bytes"] == row["target_median_bytes"] == "", row
            continue
        measured = [last(d["measured"]) for d in decided]
        assert int(row["measured_min_bytes"]) == min(measured) and int(row["measured_max_bytes"]) == max(measured)
        assert int(row["measured_median_bytes"]) == round(statistics.median(measured)), row
        assert int(row["target_median_bytes"]) == round(statistics.median(d["target"] for d in decided)), row
        near = sum(1 for d in decided if d["verdict"] == "fail" and last(d["measured"]) <= NEAR_MISS * d["target"])
        assert int(row["near_misses"]) == near, row
    scaling = next(r for r in rows if r["exercise"] == "sum_of_squares" and r["check"] == "scaling")
    assert (scaling["passed"], scaling["failed"], scaling["errors"]) == ("1", "2", "1"), scaling
    assert by_exercise["sum_of_squares"]["exercise_top_failure_students"] == "2"
    assert "peak grew from … at n=… to … at n=…" in by_exercise["sum_of_squares"]["exercise_top_failure"]

    # per student: the gradebook's scores and who needs attention
    students = {r["student"]: r for r in read_csv(students_csv)}
    assert set(students) == {*submitted, "absent"}
    assert students["absent"]["submitted"] == "no" and students["absent"]["score"] == ""
    for s in submitted:
        assert (float(students[s]["score"]), float(students[s]["max_score"])) == totals[s], s
        assert int(students[s]["checks_passed"]) == sum(r["verdict"] == "pass" for r in records[s]), s
        assert int(students[s]["checks_errored"]) == sum(r["verdict"] == "error" for r in records[s]), s
    flagged = {s: r["reasons"] for s, r in students.items() if r["needs_attention"] == "yes"}
    assert set(flagged) == set(NEED_ATTENTION), flagged
    for student, reason in NEED_ATTENTION.items():
        assert reason in flagged[student], (student, flagged[student])

    # the page: self-contained, rendered by a real browser from the file alone
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html), "the page links to something outside itself"
    render_in_chromium(page, set(NEED_ATTENTION))


def render_in_chromium(page, attention):
    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: `make setup`")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    blocked = []

    def this_file_only(route):
        url = route.request.url
        if url.startswith("data:") or urllib.parse.unquote(urllib.parse.urlsplit(url).path) == page.as_posix():
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.route("**/*", this_file_only)
            tab.goto(page.as_uri())
            tab.get_by_role("heading", name=f"Class report: {AID}").wait_for(state="visible")
            images = tab.locator("img")
            assert images.count() == 2, "one chart per exercise with memory checks (sum_of_squares, chunked)"
            for i in range(images.count()):
                image = images.nth(i)
                image.scroll_into_view_if_needed()
                width = tab.wait_for_function("img => img.complete && img.naturalWidth", arg=image.element_handle())
                assert width.json_value() > 300, f"chart {i} is {width.json_value()} px wide"
                alt = image.get_attribute("alt")
                assert alt and UNIT.search(alt) and "target" in alt, alt
            table = tab.locator("#attention + p + table")
            assert set(table.locator("tbody tr td:first-child").all_inner_texts()) == attention
            for exercise in ("sum_of_squares", "chunked", "Quiz questions", "All students"):
                assert tab.get_by_role("heading", name=exercise, exact=True).is_visible(), exercise
            tab.screenshot(path=SCREENSHOTS / f"report-{AID}.png", full_page=True)
        finally:
            browser.close()
    assert not blocked, f"the page asked for more than itself: {blocked[:5]}"


# --- without nbgrader: the figures from records made by hand -------------------------------------------------

def test_failure_messages_group_by_their_words_not_their_figures():
    a = "sum_of_squares: peak grew from 1.9 MiB at n=50,000 to 7.7 MiB at n=200,000, but should stay constant"
    b = "sum_of_squares: peak grew from 2.0 MiB at n=50,000 to 512 KiB at n=80,123, but should stay constant"
    assert message_template(a) == message_template(b) == (
        "sum_of_squares: peak grew from … at n=… to … at n=…, but should stay constant")
    assert message_template("Q1: 'a' is not right") == "Q1: 'a' is not right"
    assert message_template("Q1: 'a' is not right") != message_template("Q1: 'b' is not right")


def memory_record(student, verdict, measured, target, check="peak"):
    return Check({"exercise": "f", "check": check, "verdict": verdict, "measured": measured, "target": target,
                  "reference": 1000, "naive": 5 * 2**20, "student": student}, f"f: {check} {verdict}")


def synthetic_class():
    """f: one memory cell (2 points). ok passes, near and far fail, broken errs, missing fails without a record."""
    cells = [("nb", "test_f_memory", 2.0)]

    def student(name, score, *checks, unexplained=None):
        cell = CellResult("nb", "test_f_memory", 2.0, score, list(checks), unexplained)
        return StudentResult(name, True, score, 2.0, autograded=True, cells=[cell])

    return ClassResults("a1", 2.0, cells, [
        student("ok", 2.0, memory_record("ok", "pass", 300 * 2**10, 2**20)),
        student("near", 0.0, memory_record("near", "fail", 1.2 * 2**20, 2**20)),
        student("far", 0.0, memory_record("far", "pass", 900 * 2**10, 2**20, "scaling"),
                memory_record("far", "fail", 6 * 2**20, 2**20)),
        student("broken", 0.0, Check({"exercise": "f", "check": "peak", "verdict": "error"}, "f: f(3) raised")),
        student("missing", 0.0, unexplained="NameError: name 'f' is not defined"),
        StudentResult("absent", False),
    ])


def test_summary_counts_near_misses_and_names_students_who_need_attention():
    summary = summarize(synthetic_class())
    (exercise,) = summary.exercises
    assert exercise.passed == ["ok"] and exercise.submitted == 5 and exercise.pass_rate == 0.2
    peak = next(c for c in exercise.checks if c.check == "peak")
    assert (peak.reached, peak.passed, peak.failed, peak.errors) == (4, 1, 2, 1)
    assert peak.near_misses == 1  # near is 1.2x its target, far 6x
    assert peak.median("measured") == 1.2 * 2**20
    attention = {s.student: s.reasons for s in summary.attention}
    assert set(attention) == {"absent", "near", "far", "broken", "missing"}  # all but ok scored under half
    assert any("error" in r for r in attention["broken"])
    assert any("NameError" in r for r in attention["missing"])
    messages = {g.template: g.students for g in exercise.failures}
    assert messages["NameError: name 'f' is not defined"] == ["missing"]


def test_chart_has_binary_log_axis_and_says_what_it_shows():
    (exercise,) = summarize(synthetic_class()).exercises
    fig = chart_figure(exercise)
    axes = fig.axes[0]
    assert axes.get_xscale() == "log"
    assert_binary_axis(axes.xaxis)
    alt = chart_alt(exercise)
    assert "peak: 3 students measured, 1 within their target" in alt, alt
    assert "300.0 KiB to 6.0 MiB" in alt and "target 1.0 MiB" in alt, alt


def test_report_without_a_gradebook_says_so_in_one_line(tmp_path, capsys):
    assert cli.main(["report", AID, "--course", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("report: no gradebook at ") and len(out.strip().splitlines()) == 1, out
    assert not (tmp_path / "gradebook.db").exists() and not (tmp_path / "reports").exists()
