"""Outputs graded in one place, used in another: how the class command grades in parallel and still lets
nbgrader itself write the gradebook.

Each Dask task grades one submission with nbgrader's own Autograde in a scratch copy of the course, with
``GradeInSandbox.save_outputs`` set: the trusted grader's result for each notebook is kept under
<folder>/<student>/<notebook>.json with a fingerprint of the notebook it graded (every cell's type and source,
after nbgrader restored the locked cells). The coordinator then autogrades the same submission in the real
course through nbgrader's API, with ``GradeInSandbox.graded_outputs`` pointing at the collected results:
GradeInSandbox takes the outputs whose fingerprint matches instead of grading again, and nbgrader does
everything else -- restoring cells, scoring, late penalties, the gradebook -- exactly as a sequential run
would. A result whose fingerprint does not match is ignored, and that notebook is graded on the spot.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def fingerprint(nb) -> str:
    """What the grading depends on: every cell's type and source, in order."""
    digest = hashlib.sha256()
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        digest.update(cell.get("cell_type", "").encode() + b"\0" + source.encode() + b"\0\0")
    return digest.hexdigest()


def _path(root: str, context: dict) -> Path | None:
    student, notebook = context.get("student"), context.get("notebook")
    if not root or not student or not notebook:
        return None
    return Path(root) / student / f"{notebook}.json"


def save(root: str, context: dict, key: str, result: dict) -> None:
    """Keep ``result`` under ``root`` for the coordinator (nothing when ``root`` is empty)."""
    path = _path(root, context)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fingerprint": key, "result": result}))


def load(root: str, context: dict, key: str) -> dict | None:
    """The result graded elsewhere for this notebook, if ``root`` holds one with this fingerprint."""
    path = _path(root, context)
    if path is None or not path.exists():
        return None
    try:
        stored = json.loads(path.read_text())
    except ValueError:
        return None
    return stored["result"] if stored.get("fingerprint") == key else None
