"""One Dask task of the class command: grade one submission in a scratch copy of the course.

The task receives everything as bytes -- the course template (its ``nbgrader_config.py``, ``source/<assignment>``
and a gradebook holding the assignment) and the submission's files -- so a worker on another machine needs this
package installed, not the course folder. It runs nbgrader's own Autograde there, in this process, with the
course's trusted grader (every learner cell in its sandbox), against the scratch gradebook: the real gradebook is
written by the coordinator alone. It returns each notebook's graded outputs (see
:mod:`autograder.graded_outputs`), the scores nbgrader gave them, and the student's feedback, generated there by
nbgrader's GenerateFeedback with what it read from the scratch gradebook (:func:`feedback_basis`): the coordinator
files that feedback when the real gradebook holds the same, and generates it again itself otherwise.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import re
import shutil
import socket
import tarfile
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from autograder import reference_cache

from .nbgrader_course import open_course, quiet_warnings

# Environment variables the coordinator forwards to every task (the grader's seed, sandbox switch, ...).
FORWARDED_PREFIX = "AUTOGRADER_"
# The exception line of a traceback nbgrader logged: "module.SomeError: message"
EXCEPTION_LINE = re.compile(r"^\s*(?:[\w]+\.)*(\w*(?:Error|Exception|Exit|Timeout\w*)): (.+)$")
# How nbgrader's closing NbGraderException points back at the exception that says why
SEE_ABOVE = "above traceback"
# A worker grades one submission at a time: nbgrader's apps and the environment are per process.
_ONE_AT_A_TIME = threading.Lock()
_references: str | None = None  # this worker's folder of reference measurements


def reference_folder() -> str:
    """This worker's folder for :mod:`autograder.reference_cache`, made on first use: in the Dask worker's own
    scratch space (Dask removes it with the worker), or a temporary folder removed when this process ends."""
    global _references
    if _references is None or not os.path.isdir(_references):
        try:
            from distributed import get_worker

            base = get_worker().local_directory
        except (ImportError, ValueError):  # not in a Dask worker
            base = None
        _references = tempfile.mkdtemp(prefix="reference-measurements-", dir=base)
        if base is None:
            atexit.register(shutil.rmtree, _references, True)
    return _references


def pack(folder: Path, *, only: list[str] | None = None) -> bytes:
    """The regular files under ``folder`` (or under its entries named in ``only``) as a gzipped tar; links are left out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        roots = [folder / name for name in only] if only else [folder]
        for root in roots:
            paths = [root] if root.is_file() else sorted(root.rglob("*"))
            for path in paths:
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> None:
    """Extract a :func:`pack` archive into ``dest``, refusing absolute paths and links."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if not member.isfile() or not target.is_relative_to(dest.resolve()):
                raise ValueError(f"unexpected entry in the archive: {member.name}")
        tar.extractall(dest, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))


@contextmanager
def _environment(env: dict):
    saved = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIX)}
    for key in saved:
        del os.environ[key]
    os.environ.update(env)
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith(FORWARDED_PREFIX)]:
            del os.environ[key]
        os.environ.update(saved)


@contextmanager
def _working_directory(folder: str):
    """Work in ``folder``: nbgrader reads the working directory, and a worker's may be gone (a worker process
    keeps the folder it was started in, perhaps a temporary one)."""
    try:
        previous = os.getcwd()
    except FileNotFoundError:
        previous = None
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous if previous and os.path.isdir(previous) else tempfile.gettempdir())


def scores(basis: dict) -> dict:
    """notebook -> grade_id -> [score, max_score], from a :func:`feedback_basis`."""
    return {notebook: recorded["grades"] for notebook, recorded in basis.items()}


def feedback_basis(api, assignment: str, student: str) -> dict:
    """notebook -> everything nbgrader's feedback takes from the gradebook: the notebook's score, maximum and late
    penalty, and each grade's score, maximum and comment (manual or automatic)."""
    with api.gradebook as gb:
        submission = gb.find_submission(assignment, student)
        return {nb.name: {"score": nb.score, "max_score": nb.max_score, "late_penalty": nb.late_submission_penalty,
                          "grades": {g.name: [g.score, g.max_score] for g in nb.grades},
                          "comments": {c.name: c.comment for c in nb.comments}}
                for nb in submission.notebooks}


def failure_reason(log: str, error: str) -> str:
    """The one line that says why nbgrader failed: the last exception it logged, not its closing "see above"."""
    found = [m for m in map(EXCEPTION_LINE.match, (log + "\n" + error).splitlines()) if m]
    theirs = [m for m in found if m.group(1) != "NbGraderException"]
    nbgraders = [m for m in found if m.group(1) == "NbGraderException" and SEE_ABOVE not in m.group(2)]
    for matches in (theirs, nbgraders):
        if matches:
            return f"{matches[-1].group(1)}: {matches[-1].group(2).strip()}"
    lines = [line.strip() for line in (error or log).splitlines() if line.strip()]
    return lines[-1] if lines else "nbgrader's autograde failed without a message"


def missing_notebooks(course: Path, assignment: str, student: str) -> str:
    """One line when the submission holds none of the assignment's notebooks (nbgrader's own message then blames
    generate_assignment), naming what it holds instead: a renamed copy, say; "" otherwise."""
    expected = sorted(p.name for p in (course / "source" / assignment).glob("*.ipynb"))
    found = sorted(p.name for p in (course / "submitted" / student / assignment).glob("*.ipynb"))
    if not expected or set(expected) & set(found):
        return ""
    if found:
        return f"the submission has no {' or '.join(expected)} (it holds {', '.join(found)}): rename it, or ask for it"
    return f"the submission has no {' or '.join(expected)} (it holds no notebook): ask for it"


def warm_up() -> None:
    """Load what grading a submission needs (nbgrader, the grader's hooks), before the first task arrives."""
    import nbgrader.apps  # noqa: F401

    import autograder.nbgrader_hooks  # noqa: F401


class TemplateFailed(Exception):
    """nbgrader's generate_assignment failed on the scratch course: one line saying why."""


def course_files(course: Path, assignment: str) -> bytes:
    """What :func:`make_template` needs of the course: its ``nbgrader_config.py`` and ``source/<assignment>``."""
    return pack(course, only=["nbgrader_config.py", f"source/{assignment}"])


def make_template(files: bytes, assignment: str) -> bytes:
    """The scratch course the assignment's tasks start from: :func:`course_files` and a gradebook holding the
    assignment, made by nbgrader's generate_assignment. A Dask task too, so that the workers make an assignment
    each side by side while the command is starting."""
    with _ONE_AT_A_TIME, quiet_warnings(), tempfile.TemporaryDirectory(prefix="python-memory-template-") as tmp, \
            _working_directory(tmp):
        scratch = Path(tmp) / "course"
        unpack(files, scratch)
        api = open_course(scratch, {"CourseDirectory": {"db_url": f"sqlite:///{scratch / 'gradebook.db'}"}})
        outcome = api.generate_assignment(assignment, force=True, create=True)
        if not outcome["success"]:
            raise TemplateFailed(failure_reason(outcome.get("log", ""), outcome.get("error", "")))
        return pack(scratch, only=["nbgrader_config.py", f"source/{assignment}", "gradebook.db"])


def _autograde(course: Path, assignment: str, student: str, saved: Path) -> dict:
    """nbgrader's autograde and feedback of the submission in ``course``: its log, and either its error or its
    graded outputs, scores and feedback."""
    api = open_course(course, {"CourseDirectory": {"db_url": f"sqlite:///{course / 'gradebook.db'}"},
                               "GradeInSandbox": {"save_outputs": str(saved)}})
    outcome = api.autograde(assignment, student, force=True, create=True)
    result = {"log": outcome.get("log", "")}
    if not outcome["success"]:
        result["error"] = failure_reason(result["log"], outcome.get("error", ""))
        result["log"] += outcome.get("error", "")
        return result
    result["outputs"] = {p.stem: json.loads(p.read_text()) for p in sorted((saved / student).glob("*.json"))}
    basis = feedback_basis(api, assignment, student)
    result["scores"] = scores(basis)
    # Feedback here rather than on the coordinator, which every submission passes through
    feedback = api.generate_feedback(assignment, student, force=True)
    folder = Path(api.coursedir.format_path(api.coursedir.feedback_directory, student, assignment))
    if feedback["success"] and folder.is_dir():
        result["feedback"] = pack(folder)
        result["feedback_basis"] = basis
    return result


def grade_submission(template: bytes, assignment: str, student: str, files: bytes, env: dict) -> dict:
    """Grade one submission; see the module's docstring. Never raises for a learner's failures."""
    started = time.monotonic()
    if not env.get(reference_cache.ENV):  # the coordinator names a folder its local workers share
        env = {**env, reference_cache.ENV: reference_folder()}
    with _ONE_AT_A_TIME, quiet_warnings(), _environment(env), \
            tempfile.TemporaryDirectory(prefix="python-memory-task-") as tmp, _working_directory(tmp):
        course = Path(tmp) / "course"
        unpack(template, course)
        unpack(files, course / "submitted" / student / assignment)
        result = {"student": student, "worker": f"{socket.gethostname()}:{os.getpid()}"}
        missing = missing_notebooks(course, assignment, student)
        if missing:
            result.update(log=missing + "\n", error=missing)
        else:
            result.update(_autograde(course, assignment, student, Path(tmp) / "outputs"))
        result["seconds"] = time.monotonic() - started
        return result
