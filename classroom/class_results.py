"""How a class did on one assignment: scores from nbgrader's gradebook, check records from the autograded notebooks.

Only graded cells are read: their outputs come from the trusted grader, while a learner's own cells
could display anything. The course's ``nbgrader_config.py`` says where the gradebook and the
autograded notebooks are (``NBGRADER_DB_URL`` included), as it does for nbgrader itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.report import MIME


class ReportError(Exception):
    """The report cannot be built: one line saying why."""


@dataclass
class Check:
    """One check's machine-readable record and the line the notebook showed for it (without its ✓/✗ mark)."""

    record: dict
    shown: str

    @property
    def exercise(self) -> str:
        return str(self.record.get("exercise"))

    @property
    def passed(self) -> bool:
        return self.record.get("verdict") == "pass"


@dataclass
class CellResult:
    """One graded cell of one student: its points, the checks it ran, and a failure no check explains."""

    notebook: str
    grade_id: str
    max_score: float
    score: float | None = None
    checks: list[Check] = field(default_factory=list)
    # the cell's error when no check failed: a name the tests need is missing, or the test cell itself broke
    unexplained: str | None = None


@dataclass
class StudentResult:
    student: str
    submitted: bool
    score: float | None = None
    max_score: float | None = None
    autograded: bool = False
    cells: list[CellResult] = field(default_factory=list)


@dataclass
class ClassResults:
    assignment: str
    max_score: float
    cells: list[tuple[str, str, float]]  # (notebook, grade_id, max_score) in notebook order
    students: list[StudentResult]


def course_directory(course_root: Path):
    """nbgrader's CourseDirectory for ``course_root``, configured by its nbgrader_config.py if there is one."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course_root / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    if "root" not in config.CourseDirectory:
        config.CourseDirectory.root = str(course_root.resolve())
    return CourseDirectory(config=config)


def load(course_root: Path, assignment: str) -> ClassResults:
    """Every student of the gradebook, with their scores and, when autograded, their cells' records."""
    from nbgrader.api import Gradebook, MissingEntry

    coursedir = course_directory(Path(course_root))
    db_url = coursedir.db_url
    # opening a missing SQLite gradebook would create an empty one
    if db_url.startswith("sqlite:///") and not os.path.exists(db_url[len("sqlite:///"):]):
        raise ReportError(f"no gradebook at {db_url[len('sqlite:///'):]}: run `make gradebook` and "
                          f"`nbgrader autograde {assignment}` in the course first")
    with Gradebook(db_url) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise ReportError(f"the gradebook has no assignment {assignment!r}") from None
        cells = [(nb.name, gc.name, float(gc.max_score)) for nb in found.notebooks for gc in nb.grade_cells]
        max_score = float(found.max_score)
        students = []
        for student in sorted(gb.students, key=lambda s: s.id):
            try:
                sub = gb.find_submission(assignment, student.id)
            except MissingEntry:
                students.append(StudentResult(student.id, submitted=False))
                continue
            scores = {(nb.name, g.name): g.score for nb in sub.notebooks for g in nb.grades}
            result = StudentResult(student.id, True, float(sub.score), float(sub.max_score))
            result.cells = [CellResult(nb, gid, top, scores.get((nb, gid))) for nb, gid, top in cells]
            students.append(result)
    for result in students:
        if result.submitted:
            folder = Path(coursedir.format_path(coursedir.autograded_directory, result.student, assignment))
            result.autograded = _read_outputs(folder, result.cells)
    return ClassResults(assignment, max_score, cells, students)


def _read_outputs(folder: Path, cells: list[CellResult]) -> bool:
    """Fill ``cells`` from the autograded notebooks in ``folder``; False if there are none."""
    import nbformat

    by_id = {(c.notebook, c.grade_id): c for c in cells}
    found = False
    for name in sorted({c.notebook for c in cells}):
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            continue
        found = True
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            target = by_id.get((name, meta.get("grade_id")))
            if target is None or not meta.get("grade") or cell.cell_type != "code":
                continue
            _read_cell(cell.get("outputs", []), target)
    return found


def _read_cell(outputs: list, target: CellResult) -> None:
    error = None
    for out in outputs:
        data = out.get("data", {})
        if out.get("output_type") == "display_data" and isinstance(data.get(MIME), dict):
            target.checks.append(Check(dict(data[MIME]), _shown(data.get("text/plain"))))
        elif out.get("output_type") == "error":
            error = f"{out.get('ename', 'Error')}: {first_line(out.get('evalue', ''))}"
    if error and all(c.passed for c in target.checks):
        target.unexplained = error


def _shown(text) -> str:
    if isinstance(text, list):
        text = "".join(text)
    return first_line(text or "").lstrip("✓✗").strip()


def first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0].strip()
