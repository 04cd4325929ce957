"""The grader's side of the learner's process: start it (sandboxed), run cells there, measure calls there.

The grader holds no object of the learner's: it sends cell sources and shipped
calls (:mod:`autograder.shipping`), and reads back signed, plain answers through
a restricted unpickler. If the learner's process dies or a cell never finishes,
it is started again and the cells that ran before are replayed, so the remaining
checks still run.
"""

from __future__ import annotations

import glob
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import time
from hashlib import blake2b
from pathlib import Path

from . import child, sandbox, shipping, transfer
from .measurement import Measurement, from_report

KEY_SIZE = child.KEY_SIZE
MAC_SIZE = child.MAC_SIZE
START_TIMEOUT = 120.0  # s to start the process and load what notebooks use
ANSWER_GRACE = 30.0  # s beyond a measurement's own deadline before its process counts as stuck
# Folders of the scratch directory: the grader's temporary files (test cells' inputs) and the learner's own
GRADER_TMP, LEARNER_TMP = "tmp", "learner-tmp"


class LearnerProcessError(RuntimeError):
    """The learner's process died, stopped answering, or sent something forged."""


class LearnerProcess:
    """One notebook's learner process, driven cell by cell by the grader."""

    def __init__(self, cwd: Path, scratch: Path, *, sandboxed: bool, python: str = sys.executable,
                 pythonpath: str | None = None):
        self.cwd, self.scratch = Path(cwd), Path(scratch)
        self.sandboxed = sandboxed
        self.python = python
        self.pythonpath = pythonpath
        self.proc: subprocess.Popen | None = None
        self.key = b""
        self.buffer = b""
        self.replay: list[tuple[int, str]] = []  # (cell index, source) of the cells run so far
        self.restarts = 0
        self.dirty = False  # a request was interrupted: its answer may still come, so start afresh
        self.preload: list[str] = []  # modules to load besides learner_process.PRELOAD (see preload_for)

    # ------------------------------------------------------------------ process

    def start(self) -> None:
        self.key = os.urandom(KEY_SIZE)
        self.buffer = b""
        # The learner's own temporary files go to learner-tmp; the grader's (the test cells' input files, in
        # tmp) are read-only to the learner's code, which may read them but not change what a reference reads.
        home, tmp, mpl, inputs = (self.scratch / d for d in ("home", LEARNER_TMP, "mpl", GRADER_TMP))
        for d in (home, tmp, mpl, inputs):
            d.mkdir(parents=True, exist_ok=True)
        _share_font_cache(mpl)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(tmp), "LANG": "C.UTF-8",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": str(mpl),
               "PYTHONDONTWRITEBYTECODE": "1", "IPYTHONDIR": str(home / ".ipython")}
        # the learner's process imports the very autograder this grader runs (the sandbox shows only that one)
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent)]
                                            + ([self.pythonpath] if self.pythonpath else []))
        argv = [self.python, "-m", "autograder.learner_process"]
        if self.sandboxed:
            argv = sandbox.command(argv, scratch=self.scratch, cwd=self.cwd, read_only=(inputs,))
        self.stderr = open(self.scratch / "learner-process.log", "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     env=env, cwd=self.cwd, preexec_fn=sandbox.limits, start_new_session=True)
        hello = pickle.dumps({"key": self.key, "cwd": str(self.cwd), "preload": list(self.preload)},
                             protocol=pickle.HIGHEST_PROTOCOL)
        self._write(len(hello).to_bytes(8, "big") + hello)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.stderr.close()
        self.proc = None

    def restart(self) -> None:
        """A fresh process with the cells run so far replayed (their outputs were already shown)."""
        self.stop()
        self.restarts += 1
        self.start()
        for index, source in self.replay:
            status, _, _ = self._cell(index, source, START_TIMEOUT)
            if status != "ok":
                raise LearnerProcessError(f"cell {index} no longer runs when replayed")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return (self.scratch / "learner-process.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # ------------------------------------------------------------------ requests

    def run_cell(self, index: int, source: str, timeout: float) -> tuple[str, list, dict]:
        """(status, outputs, names) of a cell: status "ok", "timeout" or "died" (then restarted without it)."""
        self._ready()
        try:
            status, outputs, names = self._exchange(lambda: self._cell(index, source, timeout))
        except LearnerProcessError as exc:
            self.restart()
            return "died", [_error("DeadKernelError", f"the notebook's process died while this cell ran ({exc})")], {}
        if status == "timeout":
            self.restart()
            return "timeout", [_error("CellTimeoutError", f"the cell did not finish within {timeout:g} s")], {}
        self.replay.append((index, source))
        return status, outputs, names

    def _cell(self, index, source, timeout):
        self._request(("cell", index, source, float(timeout)))
        answer = self._answer(timeout + ANSWER_GRACE)
        if answer[0] != "cell" or answer[1] != index:
            raise LearnerProcessError("an answer to another request")
        return answer[2], answer[3], answer[4]

    def measure(self, func, args: tuple, kwargs: dict, **options) -> Measurement:
        """Measure ``func(*args, **kwargs)`` in a child of the learner's process (see :mod:`autograder.child`)."""
        data = shipping.encode_call(func, args, kwargs)
        wanted = {"memory_cap": options.get("memory_cap", child.DEFAULT_MEMORY_CAP),
                  "time_limit": options.get("time_limit", child.DEFAULT_TIME_LIMIT),
                  "traced": options.get("traced", True), "frames": options.get("frames", 1),
                  "result": options.get("result", transfer.NONE), "watch_at": options.get("watch_at"),
                  "program": options.get("program", child.CALL), "calls": options.get("calls", 0),
                  "warmup": options.get("warmup", 0)}
        if wanted["result"] == transfer.ANY or wanted["program"] != child.CALL:
            wanted["result"] = transfer.PLAIN  # nothing but plain data leaves the learner's process
        self._ready()
        try:
            answer = self._exchange(lambda: self._ask(("measure", data, wanted),
                                                      wanted["time_limit"] + child.EXIT_GRACE + ANSWER_GRACE))
        except LearnerProcessError as exc:
            self.restart()
            return Measurement(0, 0, 0.0, error=f"could not be measured: the notebook's process {exc}",
                               error_kind=child.CRASH)
        if answer[0] != "measure" or type(answer[1]) is not dict:
            raise LearnerProcessError("an answer to another request")
        report = answer[1]
        report["cap"] = wanted["memory_cap"]
        if report.get("error") is None and wanted["program"] != child.CALL and isinstance(report.get("result"), dict):
            report["result"]["anon"] = dict(report.get("anon_marks") or {})
        return from_report(report)

    def _ready(self) -> None:
        if self.proc is None:
            self.start()
        elif self.dirty:
            self.restart()
        self.dirty = False

    def _exchange(self, ask):
        """One request and its answer; interrupted (a test cell's timeout), the process must start afresh."""
        try:
            return ask()
        except LearnerProcessError:
            raise
        except BaseException:
            self.dirty = True
            raise

    def _ask(self, message, timeout: float):
        self._request(message)
        return self._answer(timeout)

    def _request(self, message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self._write(len(data).to_bytes(8, "big") + data)

    def _write(self, data: bytes) -> None:
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise LearnerProcessError(f"stopped listening ({exc.__class__.__name__})") from None

    def _answer(self, timeout: float):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            frame = self._take()
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LearnerProcessError(f"did not answer within {timeout:g} s")
            ready = select.select([fd], [], [], min(remaining, 1.0))[0]
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    code = self.proc.poll()
                    raise LearnerProcessError(f"ended (exit status {code})")
                self.buffer += chunk

    def _take(self):
        header = 8 + MAC_SIZE
        if len(self.buffer) < header:
            return None
        size = int.from_bytes(self.buffer[:8], "big")
        if size > child.MAX_REPORT:
            raise LearnerProcessError("sent a forged answer (too large)")
        if len(self.buffer) < header + size:
            return None
        mac, body = self.buffer[8:header], self.buffer[header:header + size]
        self.buffer = self.buffer[header + size:]
        if blake2b(body, key=self.key, digest_size=MAC_SIZE).digest() != mac:
            raise LearnerProcessError("sent a forged answer (its signature does not match)")
        try:
            return transfer.loads(body, transfer.PLAIN)
        except Exception as exc:
            raise LearnerProcessError(f"sent an answer that is not plain data ({exc})") from None


def _error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def _share_font_cache(mpl: Path) -> None:
    """Copy matplotlib's font list, so the sandboxed process does not rebuild it (seconds) on every start."""
    try:
        import matplotlib

        for found in glob.glob(os.path.join(matplotlib.get_cachedir(), "fontlist-*.json")):
            shutil.copy(found, mpl)
    except Exception:
        pass
