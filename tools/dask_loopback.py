"""A real Dask cluster on loopback for tests and benchmarks: `dask scheduler` and `dask worker`, as an instructor
would start them (one thread per worker), stopped when done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT = 60  # seconds for the scheduler to write its address


@contextmanager
def cluster(folder: Path, workers: int = 1):
    """Start a scheduler and ``workers`` single-threaded workers, with the class command's Dask settings; yield the
    scheduler's address."""
    from classroom import dask_config

    bin_dir = Path(sys.executable).parent
    env = {**os.environ, **dask_config.environment()}
    info = folder / "scheduler.json"
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not info.exists():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError("the Dask scheduler did not start")
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--nworkers",
                                       str(workers), "--no-dashboard", "--local-directory", str(folder)],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
