"""A real PostgreSQL server for a test: Debian's binaries, a cluster in a temporary folder, started and stopped here.

As root the server runs as the system's ``postgres`` user (PostgreSQL refuses to run as root); otherwise as the
current user. ``make postgres`` installs the binaries; without them ``require_binaries`` skips the test, saying so
(fails it under CI).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from glob import glob
from pathlib import Path

import pytest

SERVER_USER = "postgres"
START_TIMEOUT = 60  # seconds pg_ctl waits for the server


def binaries() -> Path | None:
    """The newest installed PostgreSQL bin folder (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):  # CI must test the PostgreSQL gradebook, not skip it
        pytest.fail(reason)
    pytest.skip(reason)


def require_binaries() -> Path:
    bin_dir = binaries()
    if bin_dir is None:
        _unavailable("PostgreSQL's server binaries are missing: run `make postgres` (apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            _unavailable(f"running as root, and there is no {SERVER_USER!r} user to run PostgreSQL as")
    return bin_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(database: str = "gradebook"):
    """Start a server with its data in a new temporary folder; yield a SQLAlchemy URL (psycopg 3) of an empty
    ``database``. (Not pytest's tmp_path: the server's user must be able to reach the folder.)"""
    bin_dir = require_binaries()
    folder = Path(tempfile.mkdtemp(prefix="pm-postgres-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", SERVER_USER, "--"]
    data, port = folder / "data", _free_port()
    owner = SERVER_USER if as_user else pwd.getpwuid(os.geteuid()).pw_name

    def run(*argv: str) -> None:
        subprocess.run([*as_user, *argv], check=True, capture_output=True, text=True, cwd=folder)

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", owner, "--no-sync")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", str(START_TIMEOUT), "-l", str(folder / "server.log"),
        "-o", f"-h 127.0.0.1 -p {port} -k {folder} -F", "start")
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", owner, database)
        yield f"postgresql+psycopg://{owner}@127.0.0.1:{port}/{database}"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)
