"""Finding one's way through the course: links, "Next", time estimates, names, and where `measure()` is explained.

Checked on release/ (what learners get; its notebooks sit in workspace/ beside course/ the same way) and on
source/. Quiz questions are left out of the link and naming rules: they are rewritten on their own schedule.
"""

import json
import re

import pytest

from conftest import ROOT

CHAPTERS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and not p.name.startswith("."))
START = ROOT / "course" / "start.ipynb"
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
MENTION = re.compile(r"\b[Cc]hapters? \d")
QUIZ_START = re.compile(r"^(## Quiz|\*\*Q\d+\.)", re.M)
MEASURE_DOC = "../../course/start.ipynb#Measuring-a-call"
TIME = re.compile(r"\*\*Time:\*\* about (?:(\d+) h)?(?: ?(\d+) min)?")
# the one name of the texts the course grew from, and the names it replaced
OTHER_NAMES = re.compile(r"(?i)\bseed(s|'s|s')?\b|seed texts?|reference texts?|popular article")
# a time estimate: reading at 100 words a minute, half a minute per lesson code cell, 30 min per exercise,
# 1.5 min per quiz question (the start page says so)
WORDS_PER_MINUTE, PER_CELL, PER_EXERCISE, PER_QUESTION = 100, 0.5, 30, 1.5
QUESTION = re.compile(r"q\d+", re.I)


def notebook_path(tree, aid):
    return tree / aid / f"{aid.split('-', 1)[1]}.ipynb"


def cells(path):
    return json.loads(path.read_text())["cells"]


def text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def lesson_part(cell):
    """A markdown cell's text up to the quiz (a question, or the quiz's heading), which other rules govern."""
    found = QUIZ_START.search(text(cell))
    return text(cell)[:found.start()] if found else text(cell)


def heading_ids(path):
    """The ids JupyterLab gives a notebook's headings: their text, spaces turned into dashes."""
    ids = set()
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            for line in text(cell).splitlines():
                if re.match(r"#{1,6} ", line):
                    shown = re.sub(r"[`*]", "", line.lstrip("#").strip())
                    shown = LINK.sub(lambda m: m.group(1), shown)
                    ids.add(shown.replace(" ", "-"))
    return ids


def estimate_minutes(path):
    """The time a chapter takes by the start page's rule of thumb, in minutes."""
    words = lesson_cells = exercises = questions = 0
    for cell in cells(path):
        meta = nbgrader(cell)
        if cell["cell_type"] == "markdown":
            words += len(text(cell).split())
        elif meta.get("solution"):
            questions += bool(QUESTION.fullmatch(meta.get("grade_id", "")))
            exercises += not QUESTION.fullmatch(meta.get("grade_id", ""))
        elif not meta:
            lesson_cells += 1
    return words / WORDS_PER_MINUTE + PER_CELL * lesson_cells + PER_EXERCISE * exercises + PER_QUESTION * questions


def stated_minutes(match):
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


@pytest.mark.parametrize("tree", ["release", "source"])
def test_every_link_between_notebooks_resolves(tree):
    checked = 0
    for path in [notebook_path(ROOT / tree, aid) for aid in CHAPTERS] + [START]:
        for cell in cells(path):
            if cell["cell_type"] != "markdown":
                continue
            for label, target in LINK.findall(text(cell)):
                if re.match(r"[a-z]+:", target):
                    continue  # a web address
                file, _, fragment = target.partition("#")
                # chapters link to each other as they sit in workspace/, which has release/'s layout
                where = (path.parent / file).resolve() if file else path
                if path == START and file.startswith("../workspace/"):
                    where = ROOT / "release" / file.removeprefix("../workspace/")
                assert where.exists(), f"{path.relative_to(ROOT)}: [{label}]({target}) leads nowhere"
                if fragment:
                    assert fragment in heading_ids(where), \
                        f"{path.relative_to(ROOT)}: [{label}]({target}): no such heading in {where.name}"
                number = re.fullmatch(r"(?:[Cc]hapters? )?(\d)", label)
                if number:
                    wanted = CHAPTERS[int(number.group(1)) - 1]
                    assert where.parent.name == wanted, f"{path.relative_to(ROOT)}: [{label}]({target}) is not {wanted}"
                checked += 1
    assert checked > 50, checked


@pytest.mark.parametrize("aid", CHAPTERS)
def test_every_chapter_reference_is_a_link(aid):
    for cell in cells(notebook_path(ROOT / "release", aid)):
        if cell["cell_type"] == "markdown":
            lesson = lesson_part(cell)
            if lesson.startswith("# Chapter"):
                lesson = lesson.split("\n", 1)[-1]  # the chapter's own title
            unlinked = MENTION.findall(LINK.sub("", lesson))
            assert not unlinked, f"{aid}, cell {cell.get('id')}: a chapter named without a link: {lesson[:300]}"


@pytest.mark.parametrize("index", range(len(CHAPTERS)))
def test_every_chapter_ends_with_next(index):
    aid = CHAPTERS[index]
    path = notebook_path(ROOT / "release", aid)
    last = [c for c in cells(path) if c["cell_type"] == "markdown"][-1]
    lines = [line for line in text(last).splitlines() if line.startswith("Next:")]
    assert len(lines) == 1, f"{aid}: its last cell has {len(lines)} 'Next:' lines"
    targets = [target for _, target in LINK.findall(lines[0])]
    if index + 1 < len(CHAPTERS):
        following = CHAPTERS[index + 1]
        assert targets and targets[0] == f"../{following}/{notebook_path(ROOT, following).name}", lines[0]
    else:
        assert targets and targets[0].startswith("../../course/start.ipynb#"), lines[0]


def test_every_chapter_states_a_time_that_fits_its_content():
    start = "".join(text(c) for c in cells(START))
    for aid in CHAPTERS:
        path = notebook_path(ROOT / "source", aid)
        stated = TIME.search(text(cells(path)[0]))
        assert stated, f"{aid}: the title cell states no time (**Time:** about ...)"
        minutes, estimate = stated_minutes(stated), estimate_minutes(path)
        assert abs(minutes - estimate) <= 0.25 * estimate, f"{aid}: {minutes} min stated, {estimate:.0f} min estimated"
        number = int(aid.split("-")[0])
        row = re.search(rf"^\| {number} \|.*\| about ([^|]*?) \|$", start, re.M)
        assert row and f"about {row.group(1)}" == stated.group(0).removeprefix("**Time:** "), \
            f"{aid}: the start page's table says {row and row.group(1)!r}, the chapter {stated.group(0)!r}"


def test_the_source_texts_have_one_name():
    start = "".join(text(c) for c in cells(START) if c["cell_type"] == "markdown")
    assert "**the source texts**" in start  # introduced on the start page
    for aid in CHAPTERS:
        for cell in cells(notebook_path(ROOT / "release", aid)):
            part = lesson_part(cell) if cell["cell_type"] == "markdown" else \
                text(cell) if not nbgrader(cell) else ""  # lesson code: its comments, names and printed text
            found = OTHER_NAMES.search(re.sub(r"(random\.seed|seed=|_seed)", "", part))
            assert not found, \
                f"{aid}, cell {cell.get('id')}: {found.group(0)!r} where the course says 'the source texts'"


def test_measure_is_documented_once_and_linked_before_its_first_use():
    start = [c for c in cells(START) if c["cell_type"] == "markdown"]
    documented = [c for c in start if "Measuring-a-call" in heading_ids_of(c)]
    assert len(documented) == 1 and "`Measurement`" in text(documented[0])
    for field in ("peak", "retained", "elapsed", "result", "error", "output"):
        assert f"`m.{field}`" in text(documented[0]), field
    for aid in CHAPTERS:
        first_link = first_use = None
        for index, cell in enumerate(cells(notebook_path(ROOT / "release", aid))):
            if first_link is None and cell["cell_type"] == "markdown" and MEASURE_DOC in text(cell):
                first_link = index
            if first_use is None and cell["cell_type"] == "code" and not nbgrader(cell) \
                    and re.search(r"(?<![\w.])measure\(", text(cell)):
                first_use = index
        assert first_link is not None, f"{aid} never links to the start page's 'Measuring a call'"
        assert first_use is None or first_link < first_use, f"{aid} uses measure() before linking to its description"


def heading_ids_of(cell):
    return {re.sub(r"[`*]", "", line.lstrip("#").strip()).replace(" ", "-")
            for line in text(cell).splitlines() if re.match(r"#{1,6} ", line)}
