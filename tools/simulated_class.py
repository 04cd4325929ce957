"""Simulated students for tests and benchmarks: submissions built from the course's own notebooks.

Three kinds of student, per assignment: "good" hands in the source solutions, "wasteful" the correct but
memory-hungry ones of tests/submissions/<assignment>.py (they must lose exactly the memory points), "blank" the
untouched release notebook. Each submission is what nbgrader's collect leaves in ``submitted/``: the notebooks,
the files the assignment ships and a ``timestamp.txt``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("good", "wasteful", "blank")
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
TIMESTAMP = "2026-11-20 09:00:00.000000 UTC"


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_sources(notebook) -> dict[str, str]:
    """grade_id -> source of each solution cell, with the solution markers removed."""
    return {nbgrader_meta(c)["grade_id"]: SOLUTION_MARKERS.sub("", c.source)
            for c in notebook.cells if nbgrader_meta(c).get("solution")}


def submission(release_nb, answers: dict[str, str]):
    """A copy of the release notebook with the given solution cells filled in."""
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def load_submissions_module(assignment: str):
    """WASTEFUL (grade_id -> cell source) and MEMORY_TESTS from tests/submissions/<assignment>.py."""
    path = ROOT / "tests" / "submissions" / f"{assignment}.py"
    assert path.exists(), f"tests/submissions/{assignment}.py is missing"
    spec = importlib.util.spec_from_file_location(f"submissions_{assignment.replace('-', '_')}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.WASTEFUL, set(mod.MEMORY_TESTS)


def answers(course: Path, assignment: str, kind: str) -> dict[str, dict[str, str]]:
    """notebook name -> the solution cells a student of ``kind`` hands in."""
    wasteful, _ = load_submissions_module(assignment)
    out = {}
    for path in sorted((course / "source" / assignment).glob("*.ipynb")):
        good = solution_sources(nbformat.read(path, as_version=4))
        out[path.stem] = {"good": good, "wasteful": {**good, **{k: v for k, v in wasteful.items() if k in good}},
                          "blank": {}}[kind]
    return out


def write_submission(course: Path, assignment: str, student: str, kind: str, timestamp: str = TIMESTAMP) -> Path:
    """Put a ``kind`` submission by ``student`` in ``course``/submitted, as nbgrader's collect would."""
    release = course / "release" / assignment
    dest = course / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    for name, cells in answers(course, assignment, kind).items():
        nbformat.write(submission(nbformat.read(release / f"{name}.ipynb", as_version=4), cells), dest / f"{name}.ipynb")
    for extra in release.rglob("*"):
        target = dest / extra.relative_to(release)
        if extra.is_file() and extra.suffix != ".ipynb" and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(extra.read_bytes())
    (dest / "timestamp.txt").write_text(timestamp)
    return dest


def simulate(course: Path, assignment: str, size: int, kinds=KINDS) -> dict[str, str]:
    """``size`` students cycling through ``kinds`` (a kind may repeat, to weigh it); returns student -> kind."""
    students = {f"{kinds[i % len(kinds)]}-{i:03d}": kinds[i % len(kinds)] for i in range(size)}
    for student, kind in students.items():
        write_submission(course, assignment, student, kind)
    return students
