"""``python-memory student-setup``: point a student's nbgrader at the class, and hide the instructor tools.

Writes three files into one Jupyter config directory:

* ``nbgrader_config.py``: the course id and the exchange root, which nbgrader's student
  commands (fetch, submit, fetch_feedback) and JupyterLab's Assignment List need;
* ``jupyter_server_config.d/python-memory-student.json``: nbgrader's formgrader and course
  list server extensions off (and the assignment list too when there is no exchange);
* ``labconfig/page_config.d/python-memory-student.json``: the matching JupyterLab plugins
  (formgrader, create-assignment, course list) off and locked.

The directory is, by default, the first one Jupyter reads for this user and this Python:
the virtual environment's ``etc/jupyter`` when the student owns it (Jupyter then prefers it
over ``~/.jupyter``, and nbgrader enables its formgrader there, so a setting in
``~/.jupyter`` would lose), otherwise ``~/.jupyter``. ``--sys-prefix`` writes into the
environment's directory for every user of a shared install (a JupyterHub image).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

COURSE_ID = "python-memory"
MARKER = "# Written by `python-memory student-setup`"
# Sorts after nbgrader's own "nbgrader.json" in the same .d folder, so it wins there too.
OWN_JSON = "python-memory-student.json"

# nbgrader 0.9's instructor tools, as named by its server extensions and JupyterLab plugins.
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list")
# The Assignment List shows the exchange: useful with one, an error message without.
EXCHANGE_SERVER_EXTENSIONS = ("nbgrader.server_extensions.assignment_list",)
EXCHANGE_LAB_PLUGINS = ("@jupyter/nbgrader:assignment-list",)


class SetupError(Exception):
    """Set-up refused, with the reason and what to do."""


def default_config_dir() -> Path:
    """The first directory Jupyter reads config from, for this user and this Python."""
    from jupyter_core.paths import jupyter_config_path

    return Path(jupyter_config_path()[0])


def sys_prefix_config_dir() -> Path:
    """This Python environment's Jupyter config directory, shared by all its users."""
    from jupyter_core.paths import ENV_CONFIG_PATH

    return Path(ENV_CONFIG_PATH[0])


def refuse_the_course_repository(config_dir: Path) -> None:
    """Refuse to write into the environment of a Python that runs the course repository itself.

    There it would turn the instructor's formgrader off; students install the wheel instead.
    """
    repo = Path(__file__).resolve().parent.parent
    if (repo / "source").is_dir() and (repo / "nbgrader_config.py").is_file() \
            and config_dir.resolve() == sys_prefix_config_dir().resolve():
        raise SetupError(
            f"this Python runs the course repository itself ({repo} has source/), so writing into its environment "
            "would turn the instructor's formgrader off.\nStudents install the wheel from `make student-package`; "
            "use --config-dir DIR to write somewhere on purpose.")


def nbgrader_config_text(exchange: str | None) -> str:
    lines = [
        MARKER + " for the Python Memory course.",
        "# Run it again to change these settings; remove the first line before editing by hand.",
        "c = get_config()  # noqa: F821 -- provided by nbgrader",
        f"c.CourseDirectory.course_id = {COURSE_ID!r}",
    ]
    if exchange:
        lines.append(f"c.Exchange.root = {exchange!r}")
    else:
        lines.append("# No exchange: assignments come as files (set one with --exchange).")
    return "\n".join(lines) + "\n"


def _free_backup_name(path: Path) -> Path:
    candidate, n = path.with_name(path.name + ".bak"), 1
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}.bak.{n}"), n + 1
    return candidate


def write_nbgrader_config(path: Path, text: str, force: bool) -> str:
    """Write ``text`` to ``path``; a file this command did not write is replaced only with ``force``, and kept."""
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old == text:
            return f"unchanged: {path}"
        if not old.startswith(MARKER):
            if not force:
                raise SetupError(
                    f"{path} exists and was not written by student-setup, so it is left alone.\n"
                    "Add its settings by hand, or re-run with --force to replace it (the old file is kept as a .bak).")
            backup = _free_backup_name(path)
            path.rename(backup)
            path.write_text(text, encoding="utf-8")
            return f"replaced: {path} (your previous file is now {backup})"
        path.write_text(text, encoding="utf-8")
        return f"updated: {path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return f"written: {path}"


def _write_json(path: Path, data: dict) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return f"written: {path}"


def extension_settings(exchange: str | None) -> tuple[dict, dict]:
    """(Jupyter server config, JupyterLab page config) that turn the instructor tools off."""
    with_exchange = bool(exchange)
    server = {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}
    server.update({name: with_exchange for name in EXCHANGE_SERVER_EXTENSIONS})
    disabled = {name: True for name in INSTRUCTOR_LAB_PLUGINS}
    disabled.update({name: not with_exchange for name in EXCHANGE_LAB_PLUGINS})
    # locked: JupyterLab's plugin manager shows no switch to turn them back on
    locked = {name: True for name in INSTRUCTOR_LAB_PLUGINS}
    return ({"ServerApp": {"jpserver_extensions": server}},
            {"disabledExtensions": disabled, "lockedExtensions": locked})


def setup(config_dir: Path, exchange: str | None, force: bool = False) -> list[str]:
    """Write the student's settings into ``config_dir``; return one line per file."""
    if exchange:
        exchange = os.path.abspath(os.path.expanduser(exchange))
    server, lab = extension_settings(exchange)
    return [
        write_nbgrader_config(config_dir / "nbgrader_config.py", nbgrader_config_text(exchange), force),
        _write_json(config_dir / "jupyter_server_config.d" / OWN_JSON, server),
        _write_json(config_dir / "labconfig" / "page_config.d" / OWN_JSON, lab),
    ]


def run(args: argparse.Namespace) -> int:
    if args.config_dir:
        config_dir = Path(args.config_dir).expanduser()
    elif args.sys_prefix:
        config_dir = sys_prefix_config_dir()
    else:
        config_dir = default_config_dir()
    try:
        if not args.config_dir:
            refuse_the_course_repository(config_dir)
        report = setup(config_dir, args.exchange, force=args.force)
    except (SetupError, OSError) as err:
        print(f"student-setup: {err}")
        return 1
    print("\n".join(report))
    if args.exchange and not os.path.isdir(os.path.abspath(os.path.expanduser(args.exchange))):
        print(f"note: the exchange {args.exchange} does not exist yet; your instructor creates it.")
    print(f"Course {COURSE_ID!r} set up; nbgrader's formgrader and instructor tools are off in JupyterLab here "
          "(restart JupyterLab to see it).")
    return 0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "student-setup", help="set up this account for the course (once per student)",
        description="Tell nbgrader the course id and the class's exchange, and turn the instructor tools off.")
    parser.add_argument("--exchange", metavar="DIR",
                        help="the class's nbgrader exchange root, from your instructor (omit when you get "
                             "assignments as files)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sys-prefix", action="store_true",
                       help="set up every user of this Python environment (a JupyterHub image); needs write access")
    where.add_argument("--config-dir", metavar="DIR", help="write into this Jupyter config directory instead")
    parser.add_argument("--force", action="store_true",
                        help="replace an nbgrader_config.py that this command did not write (kept as .bak)")
    parser.set_defaults(run=run)
