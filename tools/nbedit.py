"""Edit a source notebook safely while others edit it too: ``with nbedit.notebook(path) as nb: ...``.

Several people (and tools) may change different cells of one notebook at the same time. The context
manager takes an exclusive lock on ``<path>.lock``, reads the notebook, yields it for changes and writes it
back before releasing the lock, so no one's change is lost to a stale copy. Find cells by their nbgrader
``grade_id`` or cell ``id`` (:func:`cell`), never by position: positions change when cells are added.

    import sys; sys.path.insert(0, "tools")
    import nbedit
    with nbedit.notebook("source/04-lazy-evaluation/lazy-evaluation.ipynb") as nb:
        nbedit.cell(nb, grade_id="test_q1").source = "..."
"""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path

import nbformat


@contextlib.contextmanager
def notebook(path):
    """The notebook at ``path``, locked against other editors while the block runs, written back afterwards."""
    path = Path(path)
    with open(path.with_suffix(path.suffix + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            nb = nbformat.read(path, as_version=4)
            yield nb
            nbformat.validate(nb)
            nbformat.write(nb, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def cell(nb, *, grade_id: str | None = None, cell_id: str | None = None):
    """The one cell with this nbgrader grade_id (or cell id); an error if there is not exactly one."""
    found = [c for c in nb.cells
             if (grade_id is not None and c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
             or (cell_id is not None and c.get("id") == cell_id)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} cells with grade_id={grade_id!r} cell_id={cell_id!r}")
    return found[0]
