"""Grade every submission of the tamper corpus: each trick loses points with a clear message, or is a documented limit."""

import sys

import pytest

import crossversion
from conftest import ROOT
from tamper_corpus import HONEST, TRICKS

NOTEBOOK = ROOT / "source" / "04-lazy-evaluation" / "lazy-evaluation.ipynb"
GUIDE = ROOT / "course" / "instructor-guide.md"


def grade(answers):
    """Failed test cells {grade_id: message} of chapter 4's graded cells with these solution cells."""
    return crossversion.grade(sys.executable, NOTEBOOK, answers, only=tuple(answers))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_solution_scores_full_marks(name):
    assert grade(HONEST[name]) == {}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TRICKS))
def test_trick(name):
    trick = TRICKS[name]
    failed = grade(trick["answers"])
    if "limit" in trick:
        assert name in GUIDE.read_text(), f"documented limit {name!r} is missing from the instructor guide"
        assert not failed, f"{name} is now caught: move it from the limits to the caught tricks ({failed})"
        return
    assert failed, f"{name} scores full marks"
    assert any(trick["caught"] in message for message in failed.values()), failed
    for message in failed.values():
        assert message.split(":")[0] in ("CheckFailed", "NameError"), message
