"""Submissions that attack the grading, and honest ones that are merely unusual, through real `nbgrader autograde`.

The attacks (tests/tamper_corpus.py ATTACKS) are graded in a batch of their own, after an honest and a
wasteful student and before another such pair. Whatever they do, autograde exits 0, they get exactly
the grade their code deserves, the other students keep theirs (their gradebook rows are not touched),
no file outside the graded folders changes (submissions, source/, the autograder package), and the
hidden tests show up in nothing they print. Honest variants across chapters keep every point, and
cheats and realistic bugs (tamper_corpus.CHEATS) lose exactly the cells they target, each with a
failure whose first line names what was wrong; both are graded in one batch per chapter.
"""

import hashlib
import json
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

import course
import tamper_corpus
from autograder import hidden
from conftest import ROOT
from test_pipeline import load_submissions_module, nbgrader_meta, solution_sources, submission

pytestmark = pytest.mark.slow
AID = "04-lazy-evaluation"
NB = "lazy-evaluation"
CELL_TIMEOUT = "--Execute.timeout=60"  # an attack that hangs a cell costs a minute, not the course's five


def make_course(tmp_path, aid):
    root = course.make_course_copy(tmp_path / "course", [aid])
    course.nbgrader(root, "generate_assignment", aid, "--force")
    return root


def submit(root, aid, student, answers):
    """Put a submission of ``aid`` with these solution cells (the rest: the good solutions) in place."""
    for src in sorted((root / "source" / aid).glob("*.ipynb")):
        good = solution_sources(nbformat.read(src, as_version=4))
        release_nb = nbformat.read(root / "release" / aid / src.name, as_version=4)
        dest = root / "submitted" / student / aid / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission(release_nb, {**good, **answers}), dest)
    for extra in (root / "release" / aid).rglob("*"):
        dest = root / "submitted" / student / aid / extra.relative_to(root / "release" / aid)
        if extra.is_file() and not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(extra, dest)


def autograde(root, aid, student, *options):
    proc = course.nbgrader(root, "autograde", aid, "--force", f"--student={student}", *options, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


def scores(root, aid, student):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {g.name: (g.score, g.max_score) for nb in gb.find_submission(aid, student).notebooks for g in nb.grades}


def digest(folder):
    """name -> hash of every file below ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_attacks_change_nothing_but_their_own_grade(tmp_path):
    root = make_course(tmp_path, AID)
    wasteful, memory_tests = load_submissions_module(AID)
    for pair in ("a", "y"):
        submit(root, AID, f"{pair}-honest", {})
        submit(root, AID, f"{pair}-wasteful", wasteful)
    for name, (answers, _) in tamper_corpus.ATTACKS.items():
        submit(root, AID, f"m-{name}", answers)
    package = ROOT / "autograder"
    before = {"package": digest(package), "source": digest(root / "source"), "submitted": digest(root / "submitted")}

    autograde(root, AID, "a-*", CELL_TIMEOUT)
    first = {s: scores(root, AID, s) for s in ("a-honest", "a-wasteful")}
    autograde(root, AID, "m-*", CELL_TIMEOUT)
    autograde(root, AID, "y-*", CELL_TIMEOUT)

    assert digest(package) == before["package"], "an attack changed the installed autograder"
    assert digest(root / "source") == before["source"], "an attack changed source/"
    assert digest(root / "submitted") == before["submitted"], "an attack changed a submission"
    for pair in ("a", "y"):
        honest, waste = scores(root, AID, f"{pair}-honest"), scores(root, AID, f"{pair}-wasteful")
        assert all(s == m for s, m in honest.values()), f"{pair}-honest lost points: {honest}"
        for cell, (score, max_score) in waste.items():
            expected = 0 if cell in memory_tests else max_score
            assert score == expected, f"{pair}-wasteful: {cell} scored {score}, expected {expected}"
    assert {s: scores(root, AID, s) for s in first} == first, "grading the attacks changed earlier students' grades"

    secrets = hidden_lines(root, AID)
    problems = []
    for name, (_, lost) in tamper_corpus.ATTACKS.items():
        student = f"m-{name}"
        got = scores(root, AID, student)
        nb = nbformat.read(root / "autograded" / student / AID / f"{NB}.ipynb", as_version=4)
        own = (root / "submitted" / student / AID / f"{NB}.ipynb").read_text()  # their own lines are no secret
        mine = {line for line in secrets if json.dumps(line)[1:-1] in own}
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type != "code":
                continue
            text = "\n".join(str(o.get("text", "")) + str(o.get("evalue", "")) + str(o.get("data", {}).get("text/plain", ""))
                             for o in cell.get("outputs", []))
            if any(line in text for line in secrets - mine):
                problems.append(f"{student}: hidden-test text in the outputs of {gid or 'a cell'}")
            if gid not in got:
                continue
            score, max_score = got[gid]
            if gid in lost:
                errors = [o.evalue for o in cell.outputs if o.output_type == "error"]
                if score != 0:
                    problems.append(f"{student}: keeps {score} of {gid}")
                elif not any(lost[gid] in e for e in errors):
                    problems.append(f"{student}: {gid} fails without naming {lost[gid]!r}: {errors}")
            elif score != max_score and gid not in tamper_corpus.MAY_LOSE.get(name, ()):
                problems.append(f"{student}: loses {gid} ({score}/{max_score})")
    assert not problems, "\n".join(problems)


def phrases(expected):
    """The phrases a cheat's failure may name: one, or a tuple of the ways its bug can show up."""
    return (expected,) if isinstance(expected, str) else expected


def hidden_lines(root, aid):
    lines = set()
    for src in (root / "source" / aid).glob("*.ipynb"):
        for cell in nbformat.read(src, as_version=4).cells:
            if nbgrader_meta(cell).get("grade"):
                lines.update(hidden.hidden_lines(cell.source))
    return lines


def _by_chapter():
    """assignment -> {student: (solution cells, {cell: phrase} it must lose)} of the honest variants and cheats."""
    batches: dict = {}
    for name, (aid, answers) in tamper_corpus.HONEST_VARIANTS.items():
        batches.setdefault(aid, {})[f"h-{name}"] = (answers, {})
    for name, (aid, answers, lost) in tamper_corpus.CHEATS.items():
        batches.setdefault(aid, {})[f"c-{name}"] = (answers, lost)
    return batches


BATCHES = _by_chapter()


@pytest.mark.parametrize("aid", sorted(BATCHES))
def test_honest_variants_keep_every_point_and_cheats_lose_their_cells(aid, tmp_path):
    root = make_course(tmp_path, aid)
    for student, (answers, _) in BATCHES[aid].items():
        submit(root, aid, student, answers)
    # no CELL_TIMEOUT here: nothing in this batch hangs a cell on purpose, and a cell may take as long as its checks'
    # own time limits (chapter 7's threads check allows 120 s), so it gets the course's cell timeout
    # (nbgrader_config.py: 300 s), as in a real class; with 60 s an honest variant once lost a cell to a loaded machine
    autograde(root, aid, "*")
    problems = []
    for student, (_, lost) in BATCHES[aid].items():
        nb = next((root / "autograded" / student / aid).glob("*.ipynb"))
        errors = {nbgrader_meta(c).get("grade_id"): [o.evalue for o in c.outputs if o.output_type == "error"]
                  for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code" and nbgrader_meta(c).get("grade")}
        for gid, (score, max_score) in scores(root, aid, student).items():
            first_lines = [e.splitlines()[0] if e else "" for e in errors.get(gid, [])]
            if gid not in lost:
                if score != max_score:
                    problems.append(f"{student}: loses {gid} ({score}/{max_score}): {first_lines}")
            elif score != 0:
                problems.append(f"{student}: keeps {score} of {gid}")
            elif not any(phrase in line for phrase in phrases(lost[gid]) for line in first_lines):
                problems.append(f"{student}: {gid} fails without naming {lost[gid]!r} in its first line: {first_lines}")
        missing = set(lost) - set(scores(root, aid, student))
        if missing:
            problems.append(f"{student}: no such test cells {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_a_learner_who_copies_answer_and_test_cells_is_graded_not_failed(tmp_path):
    """JupyterLab copies a cell's nbgrader metadata with it; nbgrader alone then fails the whole submission with
    "an old version of the nbgrader metadata format" (its issue #1083). The last copy is graded, the others run."""
    aid = "01-memory-model"
    root = make_course(tmp_path, aid)
    submit(root, aid, "copies", {})
    path = next((root / "submitted" / "copies" / aid).glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    answer = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("solution"))
    right = nb.cells[answer].source
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[answer])))
    copy["id"] = "copied-answer"
    nb.cells[answer].source = right.replace(" = ", " = 'a first try' or ", 1)  # the first copy: overwritten below
    nb.cells.insert(answer + 1, copy)
    test = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution"))
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[test])))
    copy["id"] = "copied-test"
    nb.cells.insert(test, copy)
    nbformat.write(nb, path)

    autograde(root, aid, "copies")
    got = scores(root, aid, "copies")
    assert got and all(score == max_score for score, max_score in got.values()), got
    graded = [nbgrader_meta(c)["grade_id"] for c in nbformat.read(root / "autograded" / "copies" / aid / path.name,
                                                                    as_version=4).cells if nbgrader_meta(c)]
    assert len(graded) == len(set(graded)), "each grade_id is graded once"
