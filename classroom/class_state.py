"""What the class command remembers between runs, so that a re-run grades only new or changed submissions.

Kept in the course under ``.grade-class/<assignment>/`` (nbgrader ignores dot folders):

* ``recorded.json``: student -> the fingerprint of the submission recorded in the gradebook. A fingerprint
  covers the submission's files and everything its grade depends on besides (the course's
  ``nbgrader_config.py``, ``source/<assignment>`` and the autograder package), so editing a hidden test or
  the grader regrades the class;
* ``outputs/``: the graded outputs the workers returned (:mod:`autograder.graded_outputs`);
* ``logs/record/<student>.log``: nbgrader's log of recording the student's last grading in the course (what
  ``nbgrader autograde`` would print); ``logs/worker/<student>.log``: the worker's, in its scratch course;
* ``lock``: held while a run is going, so two runs never grade the same assignment at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path

import autograder

FOLDER = ".grade-class"
IGNORED = {".ipynb_checkpoints", "__pycache__"}


class Busy(Exception):
    """Another run holds the assignment's lock."""


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not IGNORED & set(p.relative_to(folder).parts))


def digest_tree(digest, folder: Path, label: str) -> None:
    """Feed every file under ``folder`` (name and bytes) into ``digest``."""
    for path in _files(folder):
        digest.update(f"{label}/{path.relative_to(folder).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def assignment_digest(course: Path, assignment: str) -> str:
    """What every grade of ``assignment`` depends on besides the submission itself."""
    digest = hashlib.sha256()
    digest.update((course / "nbgrader_config.py").read_bytes())
    digest_tree(digest, course / "source" / assignment, "source")
    digest_tree(digest, Path(autograder.__file__).parent, "autograder")
    return digest.hexdigest()


def submission_fingerprint(folder: Path, assignment_key: str) -> str:
    """The submission in ``folder`` (every file, its timestamp.txt included) under ``assignment_key``."""
    digest = hashlib.sha256(assignment_key.encode())
    digest_tree(digest, folder, "submission")
    return digest.hexdigest()


class ClassState:
    """The class command's memory of one assignment in one course."""

    def __init__(self, course: Path, assignment: str):
        self.folder = course / FOLDER / assignment
        self.outputs = self.folder / "outputs"
        self.logs = self.folder / "logs"
        self._recorded_path = self.folder / "recorded.json"

    @contextmanager
    def lock(self):
        """Hold the assignment's lock for a run; :class:`Busy` if another run has it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy(f"another grade-class run is grading this assignment (lock: {self.folder / 'lock'})") from None
            yield

    def recorded(self) -> dict[str, str]:
        """student -> fingerprint of what is recorded in the gradebook."""
        try:
            return json.loads(self._recorded_path.read_text())
        except (OSError, ValueError):
            return {}

    def _write(self, recorded: dict[str, str]) -> None:
        tmp = self._recorded_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(recorded, indent=1, sort_keys=True))
        os.replace(tmp, self._recorded_path)

    def mark_recorded(self, student: str, fingerprint: str) -> None:
        self._write({**self.recorded(), student: fingerprint})

    def forget(self, student: str) -> None:
        recorded = self.recorded()
        if recorded.pop(student, None) is not None:
            self._write(recorded)

    def keep_outputs(self, student: str, outputs: dict) -> Path:
        """Write a task's outputs where the coordinator's recording reads them; returns the folder."""
        folder = self.outputs / student
        if folder.exists():
            for old in folder.glob("*.json"):
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for notebook, stored in outputs.items():
            (folder / f"{notebook}.json").write_text(json.dumps(stored))
        return folder

    def write_log(self, student: str, text: str, kind: str) -> Path:
        """Keep nbgrader's log of ``kind`` ("worker" or "record") for ``student``; returns its path."""
        folder = self.logs / kind
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{student}.log"
        path.write_text(text)
        return path
