"""Progress at a glance (`make progress`, the start page's cell): the learner's own notebooks, graded in a copy.

A workspace with one chapter worked on -- an exercise solved, one solved wastefully, a question answered right and
one wrong -- and one chapter untouched: each item gets the status its code deserves, memory figures come with
their targets, the hidden tests from source/ decide in the course repository and the visible ones without it,
and not a byte of the workspace changes.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import progress, progress_chart
from conftest import ROOT
from test_charts import LABEL
from test_pipeline import load_submissions_module

WORKED, UNTOUCHED = "04-lazy-evaluation", "03-measuring-memory"
ARTIFACTS = Path(os.environ.get("PROGRESS_ARTIFACTS") or ROOT / "build" / "progress")
NOTEBOOK = "lazy-evaluation.ipynb"
SOLUTION = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
LETTER = re.compile(r'^(q\d+) = "([a-d])"$', re.M)


def source_cells(aid=WORKED, name=NOTEBOOK):
    return json.loads((ROOT / "source" / aid / name).read_text())["cells"]


def solution(grade_id):
    cell = next(c for c in source_cells() if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    return SOLUTION.sub("", "".join(cell["source"]))


def letter_questions():
    """(grade_id, right letter) of the chapter's multiple-choice questions, from their solutions in source/."""
    found = []
    for cell in source_cells():
        meta = cell["metadata"].get("nbgrader", {})
        match = LETTER.search(SOLUTION.sub("", "".join(cell["source"]))) if meta.get("solution") else None
        if match:
            found.append((meta["grade_id"], match.group(2)))
    return found


def make_workspace(course):
    """course/workspace with WORKED worked on and UNTOUCHED as released; (right question, wrong question) names."""
    workspace = course / "workspace"
    for aid in (WORKED, UNTOUCHED):
        shutil.copytree(ROOT / "release" / aid, workspace / aid)
    (right, letter), (wrong, other) = letter_questions()[:2]
    answers = {"sum_of_squares": solution("sum_of_squares"),
               "chunked": load_submissions_module(WORKED)[0]["chunked"],
               right: f'{right} = "{letter}"\n',
               wrong: f'{wrong} = "{next(x for x in "abcd" if x != other)}"\n'}
    path = workspace / WORKED / NOTEBOOK
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    path.write_text(json.dumps(nb, indent=1))
    return right.upper(), wrong.upper()


def snapshot(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def by_name(chapter):
    return {item.name: item for item in chapter.items}


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    right, wrong = make_workspace(course)
    return course, right, wrong


@pytest.mark.slow
def test_progress_grades_a_copy_with_the_hidden_tests(worked, tmp_path):
    course, right, wrong = worked
    workspace = course / "workspace"
    before = snapshot(workspace)
    logged = []
    chapters = progress.collect(workspace, ROOT / "source", cache=tmp_path / "cache.json", log=logged.append)
    assert snapshot(workspace) == before  # the learner's notebooks are only read
    assert logged == [f"grading {WORKED}/{NOTEBOOK} ..."]  # the untouched chapter is not graded at all
    chapters = {ch.id: ch for ch in chapters}
    assert {item.status for item in chapters[UNTOUCHED].items} == {progress.NOT_TRIED}
    assert chapters[UNTOUCHED].points[0] == 0
    assert set(chapters) == {p.name for p in (ROOT / "source").iterdir() if p.is_dir()}  # every chapter is listed
    assert chapters["01-memory-model"].notebook is None and chapters["01-memory-model"].title == "The memory model"

    items = by_name(chapters[WORKED])
    solved, wasteful = items["sum_of_squares"], items["chunked"]
    assert solved.status == progress.PASSED and solved.earned == solved.points > 0
    assert solved.figures and all(f["measured"] <= f["target"] and f["verdict"] == "pass" for f in solved.figures)
    assert "peak" in {f["check"] for f in solved.figures}  # the hidden check_memory ran: source/'s tests were used
    assert wasteful.status == progress.FAILED and wasteful.message.startswith("CheckFailed: chunked:")
    assert any(f["measured"] > f["target"] and f["verdict"] == "fail" for f in wasteful.figures)
    assert 0 < wasteful.earned < wasteful.points  # correct, so its correctness points stay
    assert (items[right].status, items[wrong].status) == (progress.PASSED, progress.FAILED)
    others = [i for i in items.values() if i.question and i.name not in (right, wrong)]
    assert others and {i.status for i in others} == {progress.NOT_TRIED}

    lines = progress.summary_lines(list(chapters.values()))
    assert any(re.match(r"\s+✓ sum_of_squares\s+passed\s+peak", line) for line in lines), lines
    assert any(re.match(r"\s+✗ chunked\s+failed\s+CheckFailed: chunked:", line) for line in lines), lines
    assert any(f"quiz: 1 passed, 1 failed ({wrong})" in line for line in lines), lines

    axes = progress_chart.chart_figure(list(chapters.values())).axes[0]
    axes.figure.canvas.draw()
    assert axes.get_xscale() == "log"
    labels = [t.get_text() for t in axes.get_xticklabels() if t.get_text()]
    assert len(labels) >= 2 and all(LABEL.match(label) for label in labels), labels
    rows = [t.get_text() for t in axes.get_yticklabels()]
    assert any(r.startswith("4 chunked: peak at n=") for r in rows) and any("sum_of_squares: peak" in r for r in rows)
    png = progress_chart.chart_png(list(chapters.values()))
    assert png.startswith(b"\x89PNG")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the view this test checked, kept for a look (CI keeps build/)
    (ARTIFACTS / "progress.png").write_bytes(png)
    (ARTIFACTS / "progress.txt").write_text("\n".join(lines) + "\n")

    again = []  # unchanged notebooks come from the cache
    cached = progress.collect(workspace, ROOT / "source", cache=tmp_path / "cache.json", log=again.append)
    assert again == []
    assert [(i.name, i.status, i.earned) for ch in cached for i in ch.items] == \
           [(i.name, i.status, i.earned) for ch in chapters.values() for i in ch.items]


@pytest.mark.slow
def test_without_source_the_visible_tests_decide(worked):
    course, right, wrong = worked
    logged = []
    assert progress.grading_mode(None, logged.append) in (True, False)
    assert logged[0].startswith("no source/ here (a student's install): the visible tests decide")
    (chapter,) = progress.collect(course / "workspace", None, chapters=[WORKED], cache=None, log=logged.append)
    items = by_name(chapter)
    assert items["sum_of_squares"].status == progress.PASSED
    checks = {f["check"] for f in items["sum_of_squares"].figures}
    assert checks == {"scaling"}  # the visible test only: the hidden check_memory is not in a student's notebook
    assert items["chunked"].status == progress.FAILED


def test_a_notebook_the_grader_cannot_grade_is_reported_and_the_rest_shown(tmp_path, monkeypatch):
    right, wrong = make_workspace(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("the grader failed on this notebook:\nTraceback (most recent call last): ...")

    monkeypatch.setattr(progress, "grade_tests", broken)
    chapters = {ch.id: ch for ch in progress.collect(tmp_path / "workspace", None, cache=tmp_path / "cache.json",
                                                     log=lambda line: None)}
    tried = [i for i in chapters[WORKED].items if i.status != progress.NOT_TRIED]
    assert {i.name for i in tried} == {"sum_of_squares", "chunked", right, wrong}
    assert all(i.status == progress.FAILED and i.message == "the grader failed on this notebook:" for i in tried)
    assert {i.status for i in chapters[UNTOUCHED].items} == {progress.NOT_TRIED}
    assert not (tmp_path / "cache.json").exists()  # a failure is not remembered: the next look grades again


def test_make_progress_prints_the_table(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "release" / WORKED, course / "workspace" / WORKED)
    shutil.copy(course / "workspace" / WORKED / NOTEBOOK,  # as `make update` leaves a newer release: beside, dated
                course / "workspace" / WORKED / "lazy-evaluation-updated-2030-01-31.ipynb")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "autograder.progress", "--course", str(course),
                           "--chart", str(tmp_path / "progress.png")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("no source/ here")
    assert lines[-2] == "    a newer version of this chapter is beside yours: lazy-evaluation-updated-2030-01-31.ipynb"
    assert re.match(r" 4  Lazy evaluation  \(0 / \d+ points\)$", lines[1]), lines
    assert re.match(r"\s+· sum_of_squares\s+not tried$", lines[2]), lines
    assert re.match(r"\s+quiz: 0 passed, 0 failed, \d+ not tried, of \d+ questions$", lines[4]), lines
    assert lines[-1] == "no chart yet: no memory figure has been measured"
    assert not (tmp_path / "progress.png").exists()
    (tmp_path / "empty").mkdir()  # no workspace/ there or above it
    proc = subprocess.run([sys.executable, "-m", "autograder.progress", "--course", str(tmp_path / "empty")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1 and proc.stdout.startswith("no workspace/ folder in ")


def test_the_start_page_cell_runs_cleanly_in_a_kernel(tmp_path, monkeypatch):
    (tmp_path / "course").mkdir()
    shutil.copy(ROOT / "course" / "start.ipynb", tmp_path / "course" / "start.ipynb")
    shutil.copytree(ROOT / "release" / WORKED, tmp_path / "workspace" / WORKED)
    nb = nbformat.read(tmp_path / "course" / "start.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert len(cells) == 1 and "progress.show()" in cells[0].source
    nb.cells = cells
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the kernel inherits it
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / "course")}}).execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], outputs
    table = next(o.data["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {}))
    assert "Lazy evaluation" in table and "sum_of_squares" in table and "not in workspace/" not in table
