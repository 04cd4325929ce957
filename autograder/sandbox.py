"""Run the learner's process inside an OS sandbox: bubblewrap (the tool Flatpak uses).

The sandbox has its own PID, IPC, network (loopback only), UTS and user
namespaces; the file system is read-only and shows only the operating system's
libraries, the Python installation, the ``autograder`` package and the
submission's own scratch directory, which is the only place it can write. No
course files (``source/``, the gradebook, the exchange, other submissions) exist
in it. It dies with the grader, and its processes have resource limits.

``AUTOGRADER_SANDBOX`` chooses: ``bwrap`` (the default: refuse to grade when the
sandbox cannot be made) or ``off`` (an explicit choice to grade unsandboxed, for
a machine without bubblewrap; the audit hook and the trusted grader still apply).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .units import GiB

SANDBOX_ENV = "AUTOGRADER_SANDBOX"
BWRAP, OFF = "bwrap", "off"
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`, or `make sandbox`)"
# Limits of the learner's process and everything it starts (measured calls lower their own memory cap further).
MEMORY_LIMIT = 4 * GiB  # address space
FILE_SIZE_LIMIT = 1 * GiB
SANDBOX_UID = 65534  # "nobody" inside the sandbox's user namespace
# What of /etc a Python process and matplotlib need: the dynamic linker's cache, time zone, users, fonts.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
             "fonts", "mime.types")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be made here, and grading unsandboxed was not chosen explicitly."""


def mode() -> str:
    """"bwrap" or "off", from AUTOGRADER_SANDBOX."""
    value = os.environ.get(SANDBOX_ENV, BWRAP).strip().lower() or BWRAP
    if value not in (BWRAP, OFF):
        raise SandboxUnavailable(f"{SANDBOX_ENV}={value!r}: use {BWRAP!r} (the default) or {OFF!r}")
    return value


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """Why a bubblewrap sandbox cannot be made on this machine, or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap sandboxes need Linux (this is {sys.platform})"
    binary = shutil.which(BWRAP)
    if binary is None:
        return f"bubblewrap is not installed: {INSTALL_HINT}"
    probe = subprocess.run(_bwrap_args(Path("/"), Path("/"), use_userns=_userns()) + ["--", sys.executable, "-c", "pass"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"bubblewrap cannot make a sandbox here ({probe.stderr.strip().splitlines()[-1:] or ['no reason given']})"
    return None


def require() -> bool:
    """True to sandbox; False when the instructor chose AUTOGRADER_SANDBOX=off; raise when it cannot be made."""
    if mode() == OFF:
        return False
    reason = problem()
    if reason:
        raise SandboxUnavailable(f"refusing to grade without a sandbox: {reason}; or set {SANDBOX_ENV}={OFF} to "
                                 "grade unsandboxed on purpose")
    return True


@functools.lru_cache(maxsize=1)
def _userns() -> bool:
    """Whether bubblewrap can make a user namespace here (then the sandbox runs as an unprivileged user)."""
    args = ["bwrap", "--ro-bind", "/", "/", "--unshare-user", "--uid", str(SANDBOX_UID), "--", "true"]
    return shutil.which(BWRAP) is not None and subprocess.run(args, capture_output=True).returncode == 0


def command(argv: list[str], *, scratch: Path, cwd: Path, read_only: tuple = ()) -> list[str]:
    """``argv`` wrapped in bubblewrap: read-only system and Python, ``scratch`` writable but for the folders in
    ``read_only`` (inside it), ``cwd`` inside it."""
    return _bwrap_args(scratch, cwd, use_userns=_userns(), read_only=read_only) + ["--", *argv]


def _bwrap_args(scratch: Path, cwd: Path, use_userns: bool, read_only: tuple = ()) -> list[str]:
    args = [BWRAP, "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if use_userns:
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    for name in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            args += ["--ro-bind", str(path), str(path)]
    # first the fresh /dev, /proc and /tmp: what is bound afterwards may live below /tmp and stays visible
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for path in _python_paths():
        args += ["--ro-bind", str(path), str(path)]
    if scratch != Path("/"):
        args += ["--bind", str(scratch), str(scratch)]
        for path in read_only:  # bound after scratch, so they stay read-only below it
            args += ["--ro-bind", str(path), str(path)]
    # the root and /tmp tmpfs are read-only too: memory there would escape every measurement
    args += ["--remount-ro", "/tmp", "--remount-ro", "/", "--chdir", str(cwd)]
    return args


def _python_paths() -> list[Path]:
    """The interpreter's installation, the virtual environment, and the autograder package -- nothing else."""
    package = Path(__file__).resolve().parent
    wanted = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), package}
    executable = Path(sys.executable)
    wanted.add(executable.parent.resolve() if not executable.is_symlink() else executable.resolve().parent)
    kept: list[Path] = []
    for path in sorted(wanted, key=lambda p: len(p.parts)):
        if not any(path == k or k in path.parents for k in kept):
            kept.append(path)
    return kept


def limits() -> None:
    """Resource limits of the sandboxed process (a ``preexec_fn``): memory, file size, no core files."""
    import resource

    for limit, value in ((resource.RLIMIT_AS, MEMORY_LIMIT), (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT),
                         (resource.RLIMIT_CORE, 0)):
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, hard))
