"""Measure one call's memory in a forked child process.

This is where peak memory is measured. The call runs in a child forked from the
current process (a Jupyter kernel, ``nbgrader autograde``'s kernel or pytest),
with tracemalloc started fresh there, a memory cap and a time limit. Whatever the
call does -- allocate without bound, loop forever, crash the interpreter, stop
tracemalloc, print -- the parent only receives a :class:`Measurement`, and its
own memory, tracemalloc state and stderr are untouched.
"""

from __future__ import annotations

import faulthandler
import gc
import io
import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from . import guard, sites
from .units import MiB, format_bytes

DEFAULT_MEMORY_CAP = 512 * MiB
DEFAULT_TIME_LIMIT = 30.0

# error kinds
EXCEPTION = "exception"
TIMEOUT = "timeout"
MEMORY = "memory"
CRASH = "crash"
UNPICKLABLE = "unpicklable"
TAMPERED = "tampered"


@dataclass(frozen=True)
class Measurement:
    """What one isolated call did: its result and the memory and time it used."""

    peak: int  # bytes: tracemalloc's high-water mark above the baseline
    retained: int  # bytes still allocated when the call returned (its result included)
    elapsed: float  # seconds, wall clock, under tracemalloc
    result: Any = field(default=None, repr=False)
    error: str | None = None  # one line, when the call did not finish normally
    error_kind: str | None = None
    output: str = ""  # what the call printed
    top_sites: tuple = ()  # AllocationSite tuples at the peak (diagnostic runs only)
    max_rss_growth: int = 0  # bytes: growth of the child's resident set (sees C allocations)
    python: str = field(default_factory=lambda: sys.version.split()[0])

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        if self.ok:
            return f"peak {format_bytes(self.peak)}, retained {format_bytes(self.retained)}, {self.elapsed:.3f} s"
        return self.error or "failed"


def measure(
    func: Callable,
    *args: Any,
    memory_cap: int = DEFAULT_MEMORY_CAP,
    time_limit: float = DEFAULT_TIME_LIMIT,
    diagnose: bool = False,
    traced: bool = True,
    frames: int = 1,
    **kwargs: Any,
) -> Measurement:
    """Call ``func(*args, **kwargs)`` in a forked child and measure its memory.

    ``memory_cap`` bounds what the call may allocate (address space beyond what the
    process already had); ``time_limit`` bounds its wall time. With ``diagnose``,
    tracemalloc keeps deep tracebacks and the allocation sites alive at the peak
    are reported in ``top_sites`` (slower; used to explain a failure). With
    ``traced=False`` the call is only isolated (cap, time limit, no stderr) and may
    use tracemalloc itself; peak and retained are then 0. ``frames`` is how many
    frames tracemalloc keeps per allocation (more lets a snapshot taken inside
    ``func`` charge allocations to the learner's lines).
    """
    if not hasattr(os, "fork"):  # Windows: no isolation possible; measure in-process
        return _measure_here(func, args, kwargs)
    guard.verify()
    first = _isolated(func, args, kwargs, memory_cap, time_limit, None, traced, frames)
    if diagnose and first.ok and first.peak > 0:
        # a second run snapshots near the peak the first one found
        second = _isolated(func, args, kwargs, memory_cap, time_limit, int(first.peak * 0.9), traced, 16)
        return replace(first, top_sites=second.top_sites)
    return first


def _isolated(func, args, kwargs, memory_cap: int, time_limit: float, watch_at: int | None, traced: bool, frames: int) -> Measurement:
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process (every Jupyter kernel)
        # may deadlock; the child touches no lock another thread could hold, and a
        # warning would reach stderr, which nbgrader scores as a failed cell.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        _child(write_fd, func, args, kwargs, memory_cap, watch_at, traced, frames)
        os._exit(0)  # not reached
    os.close(write_fd)
    return _parent(pid, read_fd, time_limit, memory_cap)


# --------------------------------------------------------------------------- child


def _child(write_fd: int, func, args, kwargs, memory_cap: int, watch_at: int | None, traced: bool, frames: int) -> None:
    """Runs in the forked child; never returns (ends with os._exit)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        faulthandler.disable()  # it may hold a copy of the parent's stderr and print a crash there
        _silence_fds()
        captured = io.StringIO()
        sys.stdout = sys.stderr = captured
        _cap_address_space(memory_cap)
        if traced:
            payload = _on_fresh_thread(_traced_call, func, args, kwargs, watch_at, frames, captured)
        else:
            payload = _plain_call(func, args, kwargs, captured)
    except BaseException as exc:  # the harness itself failed: report, never hang
        payload = {"error": f"the measurement itself failed: {_one_line(exc)}", "error_kind": CRASH}
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:
        type_name = type(payload.get("result")).__name__
        payload["result"] = None
        if payload.get("error") is None:
            payload["error"] = f"returned a {type_name}, which cannot be sent back for checking ({_one_line(exc)})"
            payload["error_kind"] = UNPICKLABLE
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(data)
    while view:
        written = os.write(write_fd, view)
        view = view[written:]
    os._exit(0)


def _on_fresh_thread(target, *args) -> dict:
    """Run ``target`` on a new thread and return its payload.

    A Jupyter kernel calls us ~30 frames deep; tracemalloc's cost per allocation
    grows with the frames it records, so deep tracebacks (diagnosis, leak checks)
    were ~25x slower there. A new thread starts with a shallow stack.
    """
    box: dict = {}

    def run():
        try:
            box["payload"] = target(*args)
        except BaseException as exc:
            box["payload"] = {"error": f"the measurement itself failed: {_one_line(exc)}", "error_kind": CRASH}

    thread = threading.Thread(target=run, name="autograder-measured-call")
    thread.start()
    thread.join()
    return box["payload"]


def _traced_call(func, args, kwargs, watch_at: int | None, frames: int, captured: io.StringIO) -> dict:
    tm = guard.REAL
    gc.collect()  # a clean start also makes the cycle collector's timing repeatable
    if tm.is_tracing():
        tm.stop()
    rss_before = _reset_peak_rss()
    guard.arm_tripwires()
    tm.start(frames)
    guard.plant_canary()
    watcher = None if watch_at is None else sites.PeakWatcher(tm, watch_at)
    baseline = tm.get_traced_memory()[0]
    error = kind = None
    result = None
    t0 = time.perf_counter()
    try:
        if watcher:
            watcher.install()
        try:
            result = func(*args, **kwargs)
        finally:
            if watcher:
                watcher.uninstall()
    except MemoryError:
        error, kind = "ran out of memory", MEMORY
    except RecursionError:
        error, kind = "raised RecursionError: maximum recursion depth exceeded", EXCEPTION
    except BaseException as exc:
        error, kind = f"raised {_one_line(exc)}{_where(exc)}", EXCEPTION
    elapsed = time.perf_counter() - t0
    tamper = guard.tamper_after_call()
    if tamper:
        current = peak = 0
        error, kind = tamper, TAMPERED
    else:
        current, peak = tm.get_traced_memory()
    if tm.is_tracing():
        tm.stop()
    top = watcher.top_sites() if watcher else ()
    return {
        "peak": max(0, peak - baseline),
        "retained": max(0, current - baseline),
        "elapsed": elapsed,
        "result": result if error is None else None,
        "error": error,
        "error_kind": kind,
        "output": captured.getvalue()[-4000:],
        "top_sites": top,
        "max_rss_growth": max(0, _peak_rss() - rss_before) if rss_before else 0,
    }


def _plain_call(func, args, kwargs, captured: io.StringIO) -> dict:
    """Isolated but untraced: for code under test that uses tracemalloc itself."""
    error = kind = result = None
    t0 = time.perf_counter()
    try:
        result = func(*args, **kwargs)
    except MemoryError:
        error, kind = "ran out of memory", MEMORY
    except BaseException as exc:
        error, kind = f"raised {_one_line(exc)}{_where(exc)}", EXCEPTION
    return {
        "peak": 0, "retained": 0, "elapsed": time.perf_counter() - t0,
        "result": result, "error": error, "error_kind": kind, "output": captured.getvalue()[-4000:],
    }


def _silence_fds() -> None:
    """Point fds 1 and 2 at /dev/null: ipykernel forwards fd 2 to the notebook as stderr."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
    os.close(devnull)


def _cap_address_space(cap: int) -> None:
    """Allow ``cap`` bytes of address space beyond what the child inherited."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            vm_size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = vm_size + cap
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError, ImportError):
        pass  # no /proc (macOS): the time limit still applies


def _reset_peak_rss() -> int:
    """Reset the kernel's peak-RSS mark for this process; return the current RSS (0 if unsupported)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kib("VmRSS") * 1024
    except OSError:
        return 0


def _peak_rss() -> int:
    try:
        return _status_kib("VmHWM") * 1024
    except OSError:
        return 0


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise OSError(key)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text and text[0] else type(exc).__name__


def _where(exc: BaseException) -> str:
    """' (cell line 4: `x = y[9]`)' for the innermost frame of the learner's own code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if sites.is_learner_file(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    code = f": `{f.line.strip()}`" if f.line else ""
    return f" at {sites.describe_file(f.filename)} line {f.lineno}{code}"


# --------------------------------------------------------------------------- parent


def _parent(pid: int, read_fd: int, time_limit: float, memory_cap: int) -> Measurement:
    chunks = []
    deadline = time.monotonic() + time_limit
    timed_out = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            _kill(pid)
        status = _reap(pid)
    if timed_out:
        return Measurement(0, 0, time_limit, error=f"did not finish within {time_limit:g} s (an endless loop?)", error_kind=TIMEOUT)
    data = b"".join(chunks)
    if data:
        try:
            payload = pickle.loads(data)
        except Exception as exc:
            return Measurement(0, 0, 0.0, error=f"its result could not be read back: {_one_line(exc)}", error_kind=UNPICKLABLE)
        if payload.get("error_kind") == MEMORY:
            payload["error"] = f"ran out of memory: it tried to use more than the cap of {format_bytes(memory_cap)}"
        payload.setdefault("peak", 0)
        payload.setdefault("retained", 0)
        payload.setdefault("elapsed", 0.0)
        return Measurement(**payload)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGKILL:
            return Measurement(0, 0, 0.0, error=f"was killed ({name}), most likely for using more than {format_bytes(memory_cap)}", error_kind=MEMORY)
        return Measurement(0, 0, 0.0, error=f"crashed the interpreter ({name})", error_kind=CRASH)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return Measurement(0, 0, 0.0, error=f"ended its process (exit code {code}) without returning", error_kind=CRASH)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            return status
        except InterruptedError:
            continue
        except ChildProcessError:
            return 0


# --------------------------------------------------------------------------- fallback


def _measure_here(func, args, kwargs) -> Measurement:
    """No fork (Windows): measure in this process, without a memory cap or time limit."""
    tm = guard.REAL
    was_tracing = tm.is_tracing()
    if was_tracing:
        tm.stop()
    gc.collect()
    tm.start(1)
    t0 = time.perf_counter()
    try:
        result = func(*args, **kwargs)
        error = kind = None
    except BaseException as exc:
        result, error, kind = None, f"raised {_one_line(exc)}", EXCEPTION
    elapsed = time.perf_counter() - t0
    current, peak = tm.get_traced_memory()
    tm.stop()
    if was_tracing:
        tm.start()
    return Measurement(peak, current, elapsed, result=result, error=error, error_kind=kind)
