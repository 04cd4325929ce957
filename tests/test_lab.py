"""`make lab`: the learner's workspace is prepared without overwriting, and JupyterLab serves the start page."""

import json
import shutil
import urllib.error

import pytest

import course
from conftest import ROOT
from lab_server import TOKEN, get, make_lab


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
        if other.name != aid:
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
