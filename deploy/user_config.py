"""The Jupyter settings of the hub's user servers: one folder per role, which the hub puts on JUPYTER_CONFIG_PATH.

* ``students``: what ``python-memory student-setup`` writes (course id, exchange, nbgrader's instructor tools off);
* ``hub``: nbgrader asks JupyterHub which courses a user takes, from the ``nbgrader-``/``formgrade-`` groups;
* ``instructors``: nbgrader's course list back on; it links to the formgrader service.

A server reads the first folder of its path first, so an instructor's ``instructors`` folder wins over the
``students`` folder beneath it. The folders live in the hub's own directory because users cannot read the
course repository (``source/`` holds the solutions).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from classroom.student_setup import setup as student_setup

COURSE_LIST_SERVER = "nbgrader.server_extensions.course_list"
COURSE_LIST_PLUGIN = "@jupyter/nbgrader:course-list"
OWN_JSON = "python-memory-hub.json"
HUB_NBGRADER_CONFIG = (
    "# Written by deploy/user_config.py when JupyterHub starts: edit that file, not this one.\n"
    "c = get_config()  # noqa: F821 -- provided by nbgrader\n"
    "# course membership from JupyterHub's groups: nbgrader-<course> (students), formgrade-<course> (instructors)\n"
    'c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"\n'
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _json(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def write(root: Path, exchange: str) -> dict[str, str]:
    """Write the three folders under ``root``; return each role's JUPYTER_CONFIG_PATH."""
    root = Path(root)
    student_setup(root / "students", exchange, force=True)
    _write(root / "hub" / "nbgrader_config.py", HUB_NBGRADER_CONFIG)
    instructors = root / "instructors"
    _write(instructors / "jupyter_server_config.d" / OWN_JSON,
           _json({"ServerApp": {"jpserver_extensions": {COURSE_LIST_SERVER: True}}}))
    _write(instructors / "labconfig" / "page_config.d" / OWN_JSON,
           _json({"disabledExtensions": {COURSE_LIST_PLUGIN: False}, "lockedExtensions": {COURSE_LIST_PLUGIN: False}}))
    # every user's server reads these, whatever the hub's umask
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    students = os.pathsep.join(str(root / name) for name in ("hub", "students"))
    return {"students": students, "instructors": os.pathsep.join((str(instructors), students))}
