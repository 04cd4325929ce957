"""`make lab`: the learner's workspace is prepared without overwriting, and JupyterLab serves the start page."""

import datetime
import json
import shutil
import urllib.error

import pytest

import course
import updates
from conftest import ROOT
from lab_server import TOKEN, get, make_lab

CHAPTER = "04-lazy-evaluation/lazy-evaluation.ipynb"
DAY = datetime.date(2030, 1, 31)


def test_workspace_copy_never_overwrites(tmp_path):
    release, workspace = tmp_path / "release", tmp_path / "workspace"
    (release / "a").mkdir(parents=True)
    (release / "a" / "nb.ipynb").write_text("fresh")
    (release / "a" / "data.csv").write_text("x")
    assert len(course.prepare_workspace(release, workspace)) == 2
    (workspace / "a" / "nb.ipynb").write_text("my work")
    (workspace / "a" / "data.csv").unlink()
    copied = course.prepare_workspace(release, workspace)
    assert copied == [workspace / "a" / "data.csv"]  # only what was missing
    assert (workspace / "a" / "nb.ipynb").read_text() == "my work"


def edit_notebook(path, change):
    """Apply ``change(cells)`` to the notebook at ``path``."""
    nb = json.loads(path.read_text())
    change(nb["cells"])
    path.write_text(json.dumps(nb, indent=1))


def answer_first_question(cells):
    cell = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("solution"))
    cell["source"] = 'q1 = "b"\n'


def reword_the_summary(cells):  # what an instructor's fix to a chapter looks like
    cells[-1]["source"] = "".join(cells[-1]["source"]) + "\n\nA sentence the course added later."


@pytest.fixture
def course_copy(tmp_path):
    """A release folder with one real chapter, and a workspace made from it."""
    release, workspace = tmp_path / "release", tmp_path / "workspace"
    (release / CHAPTER).parent.mkdir(parents=True)
    shutil.copy(ROOT / "release" / CHAPTER, release / CHAPTER)
    first = updates.update(release, workspace, DAY - datetime.timedelta(days=30))
    assert [(c.kind, c.path) for c in first] == [(updates.NEW, workspace / CHAPTER)]
    return release, workspace


def test_a_changed_release_goes_beside_an_edited_notebook_never_over_it(course_copy):
    release, workspace = course_copy
    mine = workspace / CHAPTER
    edit_notebook(mine, answer_first_question)
    my_work = mine.read_bytes()
    edit_notebook(release / CHAPTER, reword_the_summary)
    (change,) = updates.update(release, workspace, DAY)
    beside = workspace / "04-lazy-evaluation" / "lazy-evaluation-updated-2030-01-31.ipynb"
    assert (change.kind, change.path, change.beside) == (updates.BESIDE, mine, beside)
    assert mine.read_bytes() == my_work  # the learner's notebook is untouched
    assert beside.read_bytes() == (release / CHAPTER).read_bytes()
    message = change.message(workspace.parent)
    assert message.startswith("workspace/04-lazy-evaluation/lazy-evaluation.ipynb: the course's version changed")
    assert "workspace/04-lazy-evaluation/lazy-evaluation-updated-2030-01-31.ipynb" in message
    assert updates.update(release, workspace, DAY) == []  # told once, not a new copy at every start
    edit_notebook(release / CHAPTER, reword_the_summary)  # a second change on the same day
    (again,) = updates.update(release, workspace, DAY)
    assert again.beside.name == "lazy-evaluation-updated-2030-01-31-2.ipynb" and again.beside.exists()
    assert mine.read_bytes() == my_work and beside.read_bytes() != again.beside.read_bytes()


def test_an_untouched_copy_is_replaced_by_the_new_release(course_copy):
    release, workspace = course_copy
    edit_notebook(release / CHAPTER, reword_the_summary)
    (change,) = updates.update(release, workspace, DAY)
    assert (change.kind, change.path) == (updates.UPDATED, workspace / CHAPTER)
    assert (workspace / CHAPTER).read_bytes() == (release / CHAPTER).read_bytes()
    assert not list((workspace / "04-lazy-evaluation").glob("*-updated-*"))


def test_a_workspace_from_before_the_manifest_is_adopted(course_copy):
    release, workspace = course_copy
    (workspace / updates.MANIFEST).unlink()
    edit_notebook(workspace / CHAPTER, answer_first_question)  # the learner's work on the current release
    assert updates.update(release, workspace, DAY) == []  # recognised as a copy of it: nothing to say
    edit_notebook(release / CHAPTER, reword_the_summary)
    (change,) = updates.update(release, workspace, DAY)
    assert change.kind == updates.BESIDE
    (workspace / updates.MANIFEST).unlink()  # and once more without a manifest, now that the release differs
    (change,) = updates.update(release, workspace, DAY)
    assert change.kind == updates.BESIDE and change.beside.name.endswith("-2.ipynb")


def test_make_update_tells_the_learner(course_copy, monkeypatch, capsys):
    release, workspace = course_copy
    edit_notebook(workspace / CHAPTER, answer_first_question)
    edit_notebook(release / CHAPTER, reword_the_summary)
    monkeypatch.setattr(course, "ROOT", workspace.parent)
    monkeypatch.setattr(course, "RELEASE", release)
    monkeypatch.setattr(course, "WORKSPACE", workspace)
    assert course.main(["update"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("workspace/04-lazy-evaluation/lazy-evaluation.ipynb: the course's version changed")
    assert out[-1] == ("workspace/: 0 file(s) copied from release/, 1 new version(s) put beside your own; "
                       "no file you changed was replaced")
    assert course.main(["update"]) == 0
    assert capsys.readouterr().out == "workspace/ is up to date with release/\n"


@pytest.mark.slow
def test_make_lab_serves_the_start_page():
    token = TOKEN
    with make_lab(token) as base:
        status, page = get(f"{base}/lab/tree/course/start.ipynb?token={token}")
        assert status == 200 and "JupyterLab" in page
        status, body = get(f"{base}/api/contents/course/start.ipynb?token={token}")
        start = json.loads(body)
        assert start["type"] == "notebook"
        text = "".join(c["source"] for c in start["content"]["cells"])
        assert "Python Memory" in text
        status, body = get(f"{base}/api/contents/workspace?token={token}")
        listed = {item["name"] for item in json.loads(body)["content"]}
        assert set(course.assignments()) <= listed
        with pytest.raises(urllib.error.HTTPError):  # the token is required
            get(f"{base}/api/contents/course/start.ipynb")


@pytest.mark.slow
def test_self_study_grading_reads_the_workspace_and_writes_feedback(tmp_path):
    workspace = tmp_path / "workspace"
    aid = "04-lazy-evaluation"
    course.prepare_workspace(ROOT / "release", workspace)
    for other in workspace.iterdir():  # grade one chapter to keep the test short
        if other.is_dir() and other.name != aid:
            shutil.rmtree(other)
    notebook = workspace / aid / "lazy-evaluation.ipynb"
    before = notebook.read_bytes()
    scores = course.selfgrade(workspace)
    assert list(scores) == [aid]
    score, max_score = scores[aid]
    assert score == 0 and max_score > 0  # untouched notebook
    assert notebook.read_bytes() == before  # the learner's work is only read
    feedback = (workspace / "feedback" / aid / "lazy-evaluation.html").read_text()
    assert "no answer yet" in feedback
