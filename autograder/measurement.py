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

from . import guard, sites, transfer

try:
    import resource
except ImportError:  # Windows: measured in-process, see _measure_here
    resource = None
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
    max_rss_growth: int = 0  # bytes: growth of the child's resident set (sees C allocations too)
    python: str = field(default_factory=lambda: sys.version.split()[0])

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        if self.ok:
            return f"peak {format_bytes(self.peak)}, retained {format_bytes(self.retained)}, {self.elapsed:.3f} s"
        return self.error or "failed"


@dataclass(frozen=True)
class _Options:
    memory_cap: int
    time_limit: float
    traced: bool
    frames: int
    result: str  # transfer.ANY / PLAIN / NONE
    watch_at: int | None = None  # diagnostic run: snapshot when traced memory reaches this


def measure(
    func: Callable,
    *args: Any,
    memory_cap: int = DEFAULT_MEMORY_CAP,
    time_limit: float = DEFAULT_TIME_LIMIT,
    diagnose: bool = False,
    traced: bool = True,
    frames: int = 1,
    result: str = transfer.ANY,
    **kwargs: Any,
) -> Measurement:
    """Call ``func(*args, **kwargs)`` in a forked child and measure its memory.

    ``memory_cap`` bounds what the call may allocate (address space beyond what the
    process already had); ``time_limit`` bounds its wall time. With ``diagnose``,
    a second run reports in ``top_sites`` the learner's lines holding memory at the
    peak (slower; used to explain a failure). With ``traced=False`` the call is
    only isolated and may use tracemalloc itself; peak and retained are then 0.
    ``frames`` is how many frames tracemalloc keeps per allocation. ``result`` says
    how the return value comes back: "any" (default), "plain" (builtin data only,
    for checks) or "none".
    """
    if not hasattr(os, "fork"):  # Windows: no isolation possible; measure in-process
        return _measure_here(func, args, kwargs)
    guard.verify()
    opts = _Options(memory_cap, time_limit, traced, frames, result)
    first = _isolated(func, args, kwargs, opts)
    if diagnose and first.ok and first.peak > 0:
        # a second run, with deep tracebacks, snapshots near the peak the first one found
        second = _isolated(func, args, kwargs, replace(opts, frames=16, result=transfer.NONE,
                                                       watch_at=int(first.peak * 0.9)))
        return replace(first, top_sites=second.top_sites)
    return first


def _isolated(func, args, kwargs, opts: _Options) -> Measurement:
    read_fd, write_fd = os.pipe()
    pid = -1
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process (every Jupyter kernel)
        # may deadlock; the child touches no lock another thread could hold, and a
        # warning would reach stderr, which nbgrader scores as a failed cell.
        warnings.simplefilter("ignore", DeprecationWarning)
        # Frozen objects are skipped by the cycle collector: the child's gc.collect() then
        # visits only what the call creates, instead of every object of the kernel (and
        # writing to their headers, which would copy every page of the parent's heap).
        gc.freeze()
        try:
            pid = os.fork()
        finally:
            if pid != 0:
                gc.unfreeze()
    if pid == 0:  # child
        os.close(read_fd)
        _child(write_fd, func, args, kwargs, opts)
        os._exit(0)  # not reached
    os.close(write_fd)
    return _parent(pid, read_fd, opts)


# --------------------------------------------------------------------------- child


def _child(write_fd: int, func, args, kwargs, opts: _Options) -> None:
    """Runs in the forked child; never returns (ends with os._exit)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        faulthandler.disable()  # it may hold a copy of the parent's stderr and print a crash there
        _silence_fds()
        captured = io.StringIO()
        sys.stdout = sys.stderr = captured
        _cap_address_space(opts.memory_cap)
        if opts.traced:
            payload = _on_fresh_thread(_traced_call, func, args, kwargs, opts, captured)
        else:
            payload = _plain_call(func, args, kwargs, captured)
        payload["output"] = captured.getvalue()[-4000:]
    except BaseException as exc:  # the harness itself failed: report, never hang
        payload = {"error": f"the measurement itself failed: {_one_line(exc)}", "error_kind": CRASH}
    _send(write_fd, payload, opts.result)
    os._exit(0)


def _send(write_fd: int, payload: dict, mode: str) -> None:
    value = payload.get("result")
    if mode == transfer.NONE:
        payload["result"] = None
    elif mode == transfer.PLAIN and payload.get("error") is None:
        problem = transfer.plain_type_problem(value)
        if problem:
            holder = "" if problem == type(value).__name__ else f"a {type(value).__name__} holding "
            payload.update(result=None, error_kind=UNPICKLABLE,
                           error=f"returned {holder}an object of type {problem}; "
                                 "return plain data (numbers, strings, lists, tuples, dicts, sets)")
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:
        payload["result"] = None
        if payload.get("error") is None:
            payload["error"] = f"returned a {type(value).__name__}, which cannot be sent back for checking ({_one_line(exc)})"
            payload["error_kind"] = UNPICKLABLE
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(data)
    while view:
        written = os.write(write_fd, view)
        view = view[written:]


def _on_fresh_thread(target, *args) -> dict:
    """Run ``target`` on a new thread and return its payload.

    A Jupyter kernel calls us ~30 frames deep; tracemalloc's cost per allocation
    grows with the frames it records, so deep tracebacks (diagnosis, leak checks)
    were ~25x slower there. A new thread starts with a shallow stack.
    """
    box: dict = {}
    go, done = threading.Lock(), threading.Lock()
    go.acquire()
    done.acquire()

    def run():
        go.acquire()  # wait until the main thread is parked: its allocations would be traced too
        try:
            box["payload"] = target(*args)
        except BaseException as exc:
            box["payload"] = {"error": f"the measurement itself failed: {_one_line(exc)}", "error_kind": CRASH}
        finally:
            done.release()

    thread = threading.Thread(target=run, name="autograder-measured-call")
    thread.start()  # returns while the new thread may already run; hence the locks
    go.release()
    done.acquire()  # parked in C, allocating nothing, until the call is measured
    thread.join()
    return box["payload"]


def _call(func, args, kwargs) -> tuple[Any, str | None, str | None]:
    """(result, error, kind) of the learner's call."""
    try:
        return func(*args, **kwargs), None, None
    except MemoryError:
        return None, "ran out of memory", MEMORY
    except RecursionError:
        return None, "raised RecursionError: maximum recursion depth exceeded", EXCEPTION
    except BaseException as exc:
        return None, f"raised {_one_line(exc)}{_where(exc)}", EXCEPTION


def _traced_call(func, args, kwargs, opts: _Options, captured: io.StringIO) -> dict:
    tm = guard.REAL
    gc.collect()  # a clean start also makes the cycle collector's timing repeatable
    if tm.is_tracing():
        tm.stop()
    rss_before = _reset_peak_rss()
    guard.arm_tripwires()
    tm.start(opts.frames)
    guard.plant_canary()
    watcher = None if opts.watch_at is None else sites.PeakWatcher(tm, opts.watch_at)
    baseline = tm.get_traced_memory()[0]
    t0 = time.perf_counter()
    if watcher:
        watcher.install()
    try:
        result, error, kind = _call(func, args, kwargs)
    finally:
        if watcher:
            watcher.uninstall()
    elapsed = time.perf_counter() - t0
    current, peak = tm.get_traced_memory()  # before the checks below, which allocate
    tamper = guard.tamper_after_call() or _started_processes()
    if tamper:
        current = peak = 0
        error, kind = tamper, TAMPERED
    if tm.is_tracing():
        tm.stop()
    return {
        "peak": max(0, peak - baseline),
        "retained": max(0, current - baseline),
        "elapsed": elapsed,
        "result": result if error is None else None,
        "error": error,
        "error_kind": kind,
        "top_sites": watcher.top_sites() if watcher else (),  # ranked after tracing stopped: fast
        "max_rss_growth": max(0, _peak_rss() - rss_before) if rss_before else 0,
    }


def _plain_call(func, args, kwargs, captured: io.StringIO) -> dict:
    """Isolated but untraced: for code under test that uses tracemalloc itself."""
    t0 = time.perf_counter()
    result, error, kind = _call(func, args, kwargs)
    return {"peak": 0, "retained": 0, "elapsed": time.perf_counter() - t0,
            "result": result, "error": error, "error_kind": kind}


def _started_processes() -> str | None:
    """Work done in another process is invisible to tracemalloc: not allowed in a measured call."""
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    running = False
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as f:
                running = running or bool(f.read().strip())
    except OSError:
        pass
    if running or waited.ru_maxrss or waited.ru_utime or waited.ru_stime:
        return ("started another process while being measured; memory used there is invisible to "
                "tracemalloc, so code under test must do its work in this process")
    return None


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
    """Allow ``cap`` bytes of address space beyond what the child inherited.

    glibc reserves 64 MiB of address space for each thread's malloc arena, so a
    call that starts 8 threads would hit a 512 MiB cap without using memory; one
    shared arena keeps the cap about memory actually allocated.
    """
    _one_malloc_arena()
    try:
        with open("/proc/self/statm") as f:
            vm_size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = vm_size + cap
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        pass  # no /proc (macOS): the time limit still applies


def _one_malloc_arena() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX = 1 (glibc)
    except (OSError, AttributeError, ImportError):
        pass  # not glibc: nothing to do


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
    """' at notebook cell line 4: `x = y[9]`' for the innermost frame of the learner's own code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if sites.is_learner_file(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    code = f": `{f.line.strip()}`" if f.line else ""
    return f" at {sites.describe_file(f.filename)} line {f.lineno}{code}"


# --------------------------------------------------------------------------- parent


def _parent(pid: int, read_fd: int, opts: _Options) -> Measurement:
    chunks = []
    deadline = time.monotonic() + opts.time_limit
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
        return Measurement(0, 0, opts.time_limit, error=f"did not finish within {opts.time_limit:g} s (an endless loop?)",
                           error_kind=TIMEOUT)
    data = b"".join(chunks)
    if data:
        try:
            payload = transfer.loads(data, opts.result)
        except Exception as exc:
            return Measurement(0, 0, 0.0, error=f"its result could not be read back: {_one_line(exc)}", error_kind=UNPICKLABLE)
        if payload.get("error_kind") == MEMORY:
            payload["error"] = f"ran out of memory: it tried to use more than the cap of {format_bytes(opts.memory_cap)}"
        payload.setdefault("peak", 0)
        payload.setdefault("retained", 0)
        payload.setdefault("elapsed", 0.0)
        return Measurement(**payload)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGKILL:
            return Measurement(0, 0, 0.0, error=f"was killed ({name}), most likely for using more than "
                                                f"{format_bytes(opts.memory_cap)}", error_kind=MEMORY)
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
    result, error, kind = _call(func, args, kwargs)
    elapsed = time.perf_counter() - t0
    current, peak = tm.get_traced_memory()
    tm.stop()
    if was_tracing:
        tm.start()
    return Measurement(peak, current, elapsed, result=result, error=error, error_kind=kind)
