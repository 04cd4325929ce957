"""Open a course folder through nbgrader's own API, in this process, with its own configuration.

The class command records grades, generates feedback and collects through :class:`nbgrader.apps.NbGraderAPI`
(what the formgrader uses) instead of starting an ``nbgrader`` process per student: nbgrader's import alone
takes about two seconds. The configuration is what ``nbgrader`` run in that folder would read (the user's
Jupyter config folders and the course's ``nbgrader_config.py``; not the working directory's, which may be
another course), plus any ``overrides``.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

LOG_NAME = "python-memory.nbgrader"


def quiet_log(name: str = LOG_NAME) -> logging.Logger:
    """A logger that keeps nbgrader's messages off the terminal (NbGraderAPI captures them per call)."""
    log = logging.getLogger(name)
    if not log.handlers:
        log.addHandler(logging.NullHandler())
    log.propagate = False
    log.setLevel(logging.INFO)
    return log


def alembic_head() -> str:
    """The gradebook schema's newest revision, as :func:`nbgrader.api.get_alembic_version` finds it, read with
    alembic's own API in this process instead of an ``alembic heads`` process (about 1 s here, paid for every new
    gradebook, as the scratch course of a class run)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite://") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_current_head()


@functools.cache
def _use_alembic_head() -> None:
    import nbgrader.api

    try:
        head = alembic_head()
    except Exception:  # nbgrader's own way, then
        return
    if head:
        nbgrader.api.get_alembic_version = lambda: head


def open_course(root: Path, overrides: dict | None = None):
    """An :class:`NbGraderAPI` on the course at ``root``; ``overrides`` like ``{"GradeInSandbox": {...}}``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader
    from traitlets.config import Config

    _use_alembic_head()
    # nbgrader's Gradebook runs `alembic` from this Python's bin folder, which need not be on PATH
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    path = list(sys.path)
    app = NbGrader(log=quiet_log())
    app.load_cwd_config = False
    try:
        # nbgrader's initialize also puts the working directory on sys.path: leave sys.path as it was
        app.initialize([], root=str(root))
    finally:
        sys.path[:] = path
    if overrides:
        app.update_config(Config(overrides))
    return NbGraderAPI(app.coursedir, parent=app, log=quiet_log())


@contextmanager
def quiet_warnings():
    """Keep SQLAlchemy's warnings about nbgrader's own sessions ("... not in session") off the terminal."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield
