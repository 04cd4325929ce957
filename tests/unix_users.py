"""Throwaway Unix users for tests that play students: create one, run commands as it, remove it.

Needs root; ``require_root`` skips the test with the reason otherwise.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Network settings a pip install needs on this machine (a student's own machine has its own).
PASSED_ON = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT",
             "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE")


BIN_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: Path


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: it creates Unix users to act as students (run the suite as root, as CI does)")
    if not shutil.which("useradd"):
        pytest.skip("needs useradd to create the students' Unix users")


def create(tag: str) -> User:
    """A new user ``pm-<tag>-<random>`` with a private home (0700: students must not read each other's files)."""
    name = f"pm-{tag}-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, capture_output=True)
    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    home.chmod(0o700)
    return User(name, entry.pw_uid, entry.pw_gid, home)


def remove(user: User) -> None:
    """Delete the user and its home; tolerant, as it runs in `finally` blocks."""
    subprocess.run(["userdel", "--force", "--remove", user.name], capture_output=True)
    shutil.rmtree(user.home, ignore_errors=True)


def env_for(user: User, path_first: str | os.PathLike | None = None, **extra: str) -> dict:
    """A login-like environment: the user's HOME and name, no Jupyter or nbgrader settings of the caller."""
    path = BIN_PATH
    env = {"HOME": str(user.home), "USER": user.name, "LOGNAME": user.name, "SHELL": "/bin/bash",
           "LANG": "C.UTF-8", "PATH": f"{path_first}:{path}" if path_first else path}
    env.update({k: os.environ[k] for k in PASSED_ON if k in os.environ})
    env.update(extra)
    return env


def give(user: User, path: Path) -> None:
    """Make ``path`` (and everything under it) the user's own."""
    for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
        os.chown(p, user.uid, user.gid)


def run(user: User, args: list, env: dict | None = None, cwd: Path | None = None, timeout: float = 600,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run ``args`` as ``user``, without root's supplementary groups; fail with the output when it fails."""
    proc = subprocess.run([str(a) for a in args], cwd=cwd or user.home, env=env or env_for(user),
                          user=user.uid, group=user.gid, extra_groups=[], capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"as {user.name}: {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def usable_python(user: User) -> Path:
    """A Python >= 3.10 with venv that ``user`` can run: the tests' own base Python, else the system's python3.

    The tests' Python may live where other users cannot reach it (pyenv under /root).
    """
    check = "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))"
    for candidate in (getattr(sys, "_base_executable", sys.executable), shutil.which("python3", path=BIN_PATH)):
        try:
            if candidate and run(user, [candidate, "-c", check], check=False).returncode == 0:
                return Path(candidate)
        except PermissionError:
            continue
    pytest.skip(f"no Python >= 3.10 with venv that a new user ({user.name}) can run")
