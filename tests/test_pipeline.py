"""Every assignment through the real nbgrader pipeline, end to end.

For each assignment, in a throwaway course: `nbgrader generate_assignment` must
reproduce the committed release/; then three simulated students submit -- one
with the source solutions ("good"), one with correct but wasteful solutions
("wasteful", from tests/submissions/<id>.py), one with the untouched release
notebook ("blank") -- and `nbgrader autograde`, `generate_feedback` and `export`
run. Good gets full marks, wasteful loses exactly the memory points and sees the
measured-vs-target message, blank gets 0 with clear failures, nothing crashes. The same
three are graded again with every lesson cell run (AUTOGRADER_SKIP_LESSONS=0), hidden
inputs seeded alike: skipping the lessons no graded cell needs changes no score.
"""

import ast
import csv
import html
import re
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

import course
import tamper_corpus
from simulated_class import load_submissions_module, nbgrader_meta, solution_sources, submission
from autograder import hidden
from autograder.report import MIME
from conftest import ROOT

ASSIGNMENTS = course.assignments()
CLEAR_FAILURES = {"CheckFailed", "NameError"}  # what a blank notebook may fail with
CHARTED = {"peak", "retained", "scaling"}  # the checks that draw a chart
SEED = "4242"  # both gradings of step 8 draw the same hidden inputs
HONEST = ("good", "wasteful", "blank")


def kernel_tricks(aid):
    """Extra students whose submissions attack the kernel (chapter 4 only: see tests/tamper_corpus.py)."""
    return tamper_corpus.KERNEL_TRICKS if aid == "04-lazy-evaluation" else {}


def feedback_secrets(notebook):
    """What no feedback page may show: every identifying hidden-test line, and every quiz explanation."""
    lines, explanations = set(), set()
    for cell in notebook.cells:
        if not nbgrader_meta(cell).get("grade"):
            continue
        lines.update(hidden.hidden_lines(cell.source))
        _, hidden_code = hidden.split(cell.source)
        for node in ast.walk(ast.parse("\n".join(hidden_code))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("check_choice", "check_short"):
                texts = [a.value for a in node.args[2:3]] + [k.value.value for k in node.keywords if k.arg == "explanation"]
                explanations.update(t for t in texts if isinstance(t, str))
    return lines, explanations


def page_text(path):
    """The text a reader sees on an HTML page."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_every_assignment_has_a_release_and_submissions():
    released = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())
    assert released == ASSIGNMENTS
    for aid in ASSIGNMENTS:
        assert (ROOT / "tests" / "submissions" / f"{aid}.py").exists(), aid


@pytest.mark.slow
@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_assignment_through_nbgrader(aid, tmp_path):
    root = course.make_course_copy(tmp_path / "course", [aid])

    # 1. generation reproduces the committed release exactly
    course.nbgrader(root, "generate_assignment", aid, "--force")
    assert course.differences(root / "release" / aid, ROOT / "release" / aid) == [], \
        "release/ is stale: run `make release` and commit"

    # 2. three students submit
    wasteful, memory_tests = load_submissions_module(aid)
    notebooks = sorted((root / "source" / aid).glob("*.ipynb"))
    assert notebooks, f"no notebook in source/{aid}"
    graded_ids = {}
    for src_path in notebooks:
        source_nb = nbformat.read(src_path, as_version=4)
        release_nb = nbformat.read(root / "release" / aid / src_path.name, as_version=4)
        good = solution_sources(source_nb)
        unknown = set(wasteful) - set(good)
        assert not unknown, f"WASTEFUL names solution cells that do not exist: {unknown}"
        variants = {"good": good, "wasteful": {**good, **wasteful}, "blank": {}}
        for student, (answers, _) in kernel_tricks(aid).items():
            variants[student] = {**good, **answers}
        for student, answers in variants.items():
            dest = root / "submitted" / student / aid / src_path.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission(release_nb, answers), dest)
        graded_ids[src_path.stem] = [nbgrader_meta(c)["grade_id"] for c in source_nb.cells if nbgrader_meta(c).get("grade")]
    # extra files (data) the assignment ships go to every student too
    students = ["good", "wasteful", "blank", *kernel_tricks(aid)]
    for student in students:
        for extra in (root / "release" / aid).rglob("*"):
            dest = root / "submitted" / student / aid / extra.relative_to(root / "release" / aid)
            if extra.is_file() and not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(extra.read_bytes())
    assert set(memory_tests) <= {g for ids in graded_ids.values() for g in ids}, "MEMORY_TESTS names unknown cells"

    # the same class, its honest students only, for grading with every lesson cell run (step 8)
    all_lessons = tmp_path / "all-lessons"
    shutil.copytree(root, all_lessons, symlinks=True)
    for student in set(students) - set(HONEST):
        shutil.rmtree(all_lessons / "submitted" / student)

    # 3. autograde, feedback, export: nothing crashes
    proc = course.nbgrader(root, "autograde", aid, "--force", check=False, env={"AUTOGRADER_SEED": SEED})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    for bad in ("DeadKernelError", "Kernel died", "CellTimeoutError", "Timeout waiting"):
        assert bad not in log, f"{bad} while autograding:\n{log[-3000:]}"
    course.nbgrader(root, "generate_feedback", aid, "--force")
    course.nbgrader(root, "export")

    # 4. scores
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for nb_name, ids in graded_ids.items():
            for student in ("good", "wasteful", "blank"):
                sub = gb.find_submission_notebook(nb_name, aid, student)
                scores = {g.name: (g.score, g.max_score) for g in sub.grades}
                test_cells = {g: s for g, s in scores.items() if g.startswith("test")}
                if student == "good":
                    lost = {g: s for g, s in scores.items() if s[0] != s[1]}
                    assert not lost, f"the source solutions lose points in {nb_name}: {lost}"
                elif student == "wasteful":
                    for g, (score, max_score) in test_cells.items():
                        if g in memory_tests:
                            assert score == 0, f"wasteful solution passes memory test {g}"
                        else:
                            assert score == max_score, f"wasteful solution loses non-memory points in {g}"
                else:
                    earned = {g: s for g, s in test_cells.items() if s[0] != 0}
                    assert not earned, f"a blank notebook earns points: {earned}"

    # 5. what the students see
    for nb_name in graded_ids:
        outputs = {}
        for student in ("good", "wasteful", "blank"):
            nb = nbformat.read(root / "autograded" / student / aid / f"{nb_name}.ipynb", as_version=4)
            outputs[student] = {nbgrader_meta(c)["grade_id"]: c.get("outputs", [])
                                for c in nb.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"}
        for gid, outs in outputs["good"].items():
            assert not [o for o in outs if o.output_type == "stream" and o.name == "stderr"], f"stderr in {gid}"
        # every cell, lessons included, runs cleanly top to bottom with the solutions in place
        good_nb = nbformat.read(root / "autograded" / "good" / aid / f"{nb_name}.ipynb", as_version=4)
        for i, cell in enumerate(c for c in good_nb.cells if c.cell_type == "code"):
            bad = [o for o in cell.get("outputs", []) if o.output_type == "error"
                   or (o.output_type == "stream" and o.name == "stderr")]
            assert not bad, f"{nb_name} code cell {i} does not run cleanly: {bad[0].get('evalue', bad[0].get('text'))}"
        for gid in memory_tests & set(outputs["wasteful"]):
            errors = [o for o in outputs["wasteful"][gid] if o.output_type == "error"]
            assert errors and errors[0].ename == "CheckFailed", f"{gid}: {errors}"
            assert re.search(r"\d (B|KiB|MiB|GiB)\b", errors[0].evalue), errors[0].evalue
        for gid, outs in outputs["blank"].items():
            errors = [o for o in outs if o.output_type == "error"]
            assert errors, f"blank notebook: {gid} shows no failure"
            assert errors[0].ename in CLEAR_FAILURES, f"blank notebook: {gid} fails with {errors[0].ename}: {errors[0].evalue}"
            assert errors[0].evalue.strip(), f"blank notebook: {gid} fails without a message"
        html = (root / "feedback" / "wasteful" / aid / f"{nb_name}.html").read_text()
        if memory_tests & set(outputs["wasteful"]):
            assert "CheckFailed" in html
            charted = [gid for gid in memory_tests & set(outputs["wasteful"])
                       if any(o.output_type == "display_data" and o.data.get(MIME, {}).get("check") in CHARTED
                              and o.data[MIME]["verdict"] == "fail" for o in outputs["wasteful"][gid])]
            for gid in charted:
                assert any(o.output_type == "display_data" and "image/png" in o.get("data", {})
                           for o in outputs["wasteful"][gid]), f"{gid}: the memory chart is missing"
            assert not charted or "data:image/png;base64" in html, "the memory chart is missing from the feedback"
        # feedback never reveals the hidden tests, the reference/naive solutions or the quiz answers
        secret_lines, explanations = feedback_secrets(nbformat.read(root / "source" / aid / f"{nb_name}.ipynb", as_version=4))
        assert secret_lines, f"{nb_name} has no hidden tests to protect"
        for student in ("good", "wasteful", "blank"):
            text = page_text(root / "feedback" / student / aid / f"{nb_name}.html")
            # a line the student already has (a lesson, their own solution, the exercise's text) is no secret to them
            submitted = nbformat.read(root / "submitted" / student / aid / f"{nb_name}.ipynb", as_version=4)
            own = "\n".join(c.source.replace("`", "") for c in submitted.cells)
            leaked = sorted(line for line in secret_lines if line in text and line not in own)
            assert not leaked, f"{student}'s feedback shows hidden-test lines: {leaked[:3]}"
            assert hidden.BEGIN not in text and hidden.END not in text
            told = sorted(e for e in explanations if e in text)
            assert not told, f"{student}'s feedback explains quiz answers: {told[:2]}"
            # ...but the student's own lines named at a failure's peak stay: they are what to fix
            quoted = {m.group(1).strip() for outs in outputs[student].values() for o in outs
                      if o.output_type == "error" for line in o.evalue.splitlines()
                      for m in [re.search(r"\bnotebook cell line \d+: (.+)$", line)] if m}
            kept = {line for line in quoted if line in own}
            missing = sorted(line for line in kept if line not in text)
            assert not missing, f"{student}'s feedback drops their own lines at the peak: {missing[:3]}"
        records = [o.data[MIME] for outs in outputs["good"].values() for o in outs
                   if o.output_type == "display_data" and MIME in o.get("data", {})]
        assert records and all(r["verdict"] == "pass" for r in records), "machine-readable records missing"

    # 6. tricks against the checks change nothing: the targeted cells fail for what the code does, others keep points
    for student, (_, targets) in kernel_tricks(aid).items():
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            for nb_name in graded_ids:
                for grade in gb.find_submission_notebook(nb_name, aid, student).grades:
                    if grade.name not in targets:
                        assert grade.score == grade.max_score, f"{student} loses the points of {grade.name}"
        for nb_name in graded_ids:
            nb = nbformat.read(root / "autograded" / student / aid / f"{nb_name}.ipynb", as_version=4)
            with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
                scores = {g.name: g.score for g in gb.find_submission_notebook(nb_name, aid, student).grades}
            for cell in nb.cells:
                gid = nbgrader_meta(cell).get("grade_id")
                if gid in targets:
                    assert scores[gid] == 0, f"{student} keeps the points of {gid}"
                    errors = [o.evalue for o in cell.outputs if o.output_type == "error"]
                    assert any(targets[gid] in e for e in errors), errors

    # 7. the export lists every student with the right totals
    with open(root / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == aid}
    assert set(rows) == set(students)
    max_score = float(rows["good"]["max_score"])
    assert float(rows["good"]["score"]) == max_score > 0
    assert float(rows["blank"]["score"]) == 0
    assert 0 < float(rows["wasteful"]["score"]) < max_score

    # 8. lessons skipped or run, the scores are the same
    proc = course.nbgrader(all_lessons, "autograde", aid, "--force", check=False,
                           env={"AUTOGRADER_SEED": SEED, "AUTOGRADER_SKIP_LESSONS": "0"})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    def scores(course_root):
        with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}") as gb:
            return {(student, nb_name): {g.name: g.score for g in gb.find_submission_notebook(nb_name, aid, student).grades}
                    for student in HONEST for nb_name in graded_ids}

    assert scores(all_lessons) == scores(root), "running every lesson cell changes a score"

    def executed(course_root, nb_name):
        nb = nbformat.read(course_root / "autograded" / "good" / aid / f"{nb_name}.ipynb", as_version=4)
        return sum(1 for c in nb.cells if c.cell_type == "code" and c.get("execution_count") is not None)

    for nb_name in graded_ids:  # the second grading did run the lessons the first skipped
        assert executed(all_lessons, nb_name) > executed(root, nb_name), f"{nb_name}: no lesson cell was skipped"
