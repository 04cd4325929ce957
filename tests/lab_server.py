"""Start JupyterLab the learner's way (`make lab`) on a free port for a test, and stop it afterwards."""

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from conftest import ROOT

TOKEN = "course-test-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


@contextlib.contextmanager
def make_lab(token=TOKEN, env=None, startup_timeout=180):
    """Run `make lab PORT=<free> LAB_ARGS=--no-browser` with JUPYTER_TOKEN; yield its base URL once it answers."""
    port = free_port()
    env = {**os.environ, "JUPYTER_TOKEN": token, **(env or {})}
    log = tempfile.TemporaryFile()  # not a pipe: a chatty server would block once a pipe nobody reads is full
    proc = subprocess.Popen(
        ["make", "lab", f"PORT={port}", "LAB_ARGS=--no-browser"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                status, _ = get(f"{base}/api/status?token={token}", timeout=2)
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert proc.poll() is None, tail(log)
            assert time.monotonic() < deadline, f"JupyterLab did not start within {startup_timeout} s"
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def tail(log, chars=3000):
    log.seek(0)
    return log.read().decode(errors="replace")[-chars:]
