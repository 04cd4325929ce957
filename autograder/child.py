"""Run one measured program in a forked child, and watch it from the parent.

This is where peak memory is measured. The parent (a learner's kernel, or the
grading sandbox's learner process) forks; in the child:

* the learner's code runs on a thread of its own, started by :mod:`autograder.learner_thread`;
* the main thread never runs learner code: it starts tracemalloc, waits until the
  learner's thread has ended, takes the readings with tracemalloc's C functions
  (captured when this module was loaded, so rebinding ``tracemalloc.*`` fools
  nobody), checks for tampering, and signs its report with a key made for this
  child alone, which the learner's code has no way to reach.

The parent reads the child's anonymous resident memory from ``/proc`` while the
call runs -- a second memory signal that sees C allocations and that the child
cannot reset -- enforces the deadline, and kills the child's process group when
the deadline passes and after every call, so nothing outlives a measurement.

In the grading sandbox this module is loaded privately (see :mod:`autograder.seal`):
the functions below must therefore use only the names bound when it is loaded,
never look a module attribute up at call time, and never hand one of their own
functions to learner code.
"""

from __future__ import annotations

import sys as _sys
from _io import StringIO as _StringIO
from _io import TextIOWrapper as _TextIOWrapper
from _io import open as _io_open
from _thread import allocate_lock as _allocate_lock
from _thread import start_new_thread as _start_new_thread
from gc import collect as _gc_collect
from gc import freeze as _gc_freeze
from gc import unfreeze as _gc_unfreeze
from hashlib import blake2b as _blake2b
from os import O_RDONLY, O_RDWR, O_WRONLY, SEEK_END, WNOHANG
from os import _exit as _exit_now
from os import close as _close
from os import closerange as _closerange
from os import dup2 as _dup2
from os import fork as _fork
from os import kill as _kill
from os import killpg as _killpg
from os import listdir as _listdir
from os import open as _os_open
from os import lseek as _lseek
from os import pipe as _pipe
from os import pread as _pread
from os import read as _read
from os import setpgid as _setpgid
from os import sysconf as _sysconf
from os import urandom as _urandom
from os import waitpid as _waitpid
from os import write as _write
from pickle import HIGHEST_PROTOCOL
from pickle import dumps as _dumps
from pickle import loads as _loads
from select import select as _select
from time import monotonic as _monotonic
from time import perf_counter as _perf_counter

from . import leak_probes, learner_thread, sites, tamper, transfer
from .units import MiB, format_bytes

_learner_run = learner_thread.run
_one_line = learner_thread.one_line
try:
    from _thread import _count as _thread_started
except ImportError:
    _thread_started = None
try:
    from os import O_TMPFILE
except ImportError:  # not Linux: the call's output goes to a StringIO
    O_TMPFILE = None
try:
    _PAGE = _sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):
    _PAGE = 4096

try:
    from resource import RLIM_INFINITY, RLIMIT_AS, RLIMIT_CORE, RUSAGE_CHILDREN
    from resource import getrlimit as _getrlimit
    from resource import getrusage as _getrusage
    from resource import setrlimit as _setrlimit
except ImportError:  # not POSIX: measurement.py measures in-process instead
    _setrlimit = None
try:
    from _signal import SIG_DFL, SIGKILL, SIGPIPE, SIG_IGN
    from _signal import signal as _signal
    from _signal import valid_signals as _valid_signals
except ImportError:
    _signal = None
try:
    from signal import Signals as _Signals
    _SIGNAL_NAMES = {int(s): s.name for s in _Signals}
except ImportError:
    _SIGNAL_NAMES = {}

DEFAULT_MEMORY_CAP = 512 * MiB
DEFAULT_TIME_LIMIT = 30.0
SAMPLE_INTERVAL = 0.005  # s between two readings of the child's resident memory
EXIT_GRACE = 2.0  # s the parent waits for a child that sent its report to exit by itself
THREAD_GRACE = 0.5  # s for the learner's thread to finish tearing down after its call returned
WATCH_INTERVAL = 0.002  # s between two looks at the traced peak while a traced call runs
MAX_REPORT = 256 * MiB  # a report bigger than this is an attack on the parent, not a result
OUTPUT_KEPT = 4000  # characters: the end of what the learner's code printed, kept for its report
KEY_SIZE = 32
MAC_SIZE = 32
_LENGTH = 8  # bytes of the big-endian length that starts a frame

# error kinds
EXCEPTION = "exception"
TIMEOUT = "timeout"
MEMORY = "memory"
CRASH = "crash"
UNPICKLABLE = "unpicklable"
TAMPERED = "tampered"

# frames the child sends, and the mark a program sets when the learner's code starts
_MARK, _REPORT = "mark", "report"
_START = "start"
_ACK = b"g"


# The learner's process's own sys.stdout and sys.stderr (autograder.cells), registered when it starts: what holds
# them (a logging handler made in a cell) still writes to them in a child. Files there: each child points their
# descriptors at /dev/null, so what such a handler writes during a measured call costs it nothing; StringIOs where
# no file could be made: a child empties them before a leak program reads memory.
_parent_output: list = []
_parent_fds: list = []


def inherit_output(streams) -> None:
    """Register the parent's output streams (the harness's, made before any learner code ran)."""
    for stream in streams:
        if type(stream) is _StringIO:
            _parent_output.append(stream)
            continue
        try:
            _parent_fds.append(stream.fileno())
        except (AttributeError, OSError, ValueError):
            pass


# --------------------------------------------------------------------------- options

CALL, FREED, NO_GROWTH = "call", "freed", "no_growth"  # the programs a child can run


class Options:
    """How one program is measured (plain attributes: the child reads them after fork)."""

    __slots__ = ("program", "memory_cap", "time_limit", "traced", "frames", "result", "watch_at", "calls", "warmup")

    def __init__(self, memory_cap=DEFAULT_MEMORY_CAP, time_limit=DEFAULT_TIME_LIMIT, traced=True, frames=1,
                 result=transfer.ANY, watch_at=None, program=CALL, calls=0, warmup=0):
        self.program = program
        self.memory_cap = memory_cap
        self.time_limit = time_limit
        self.traced = traced
        self.frames = frames
        self.result = result  # transfer.ANY / PLAIN / NONE
        self.watch_at = watch_at  # diagnostic run: snapshot when traced memory reaches this
        self.calls = calls  # no_growth: calls in the first window (the second has 4x as many)
        self.warmup = warmup  # no_growth: calls before the first window


# --------------------------------------------------------------------------- parent


def run(make_call, options: Options) -> dict:
    """Fork, run ``options.program`` on ``make_call()`` in the child, and return the child's verified report.

    ``make_call`` runs in the child before tracing starts and returns ``(func, args, kwargs)``.
    The report always has ``peak``, ``retained``, ``elapsed``, ``error``, ``error_kind``,
    ``result``, ``output``, ``top_sites``, ``anon_growth`` (the largest growth of the
    child's anonymous resident memory the parent saw once the program started) and
    ``anon_marks`` (that memory at each mark the program set).
    """
    key = _urandom(KEY_SIZE)
    read_fd, write_fd = _pipe()
    ack_read, ack_write = _pipe()
    # Frozen objects are skipped by the cycle collector: the child's gc.collect() then visits only what
    # the call creates, instead of every object of the parent (writing their headers would copy its heap).
    _gc_freeze()
    pid = -1
    try:
        pid = _fork()
    finally:
        if pid != 0:
            _gc_unfreeze()
    if pid == 0:
        _close(read_fd)
        _close(ack_write)
        _child_main(write_fd, ack_read, key, make_call, options)
        _exit_now(0)  # not reached
    _close(write_fd)
    _close(ack_read)
    try:
        return _watch(pid, read_fd, ack_write, key, options)
    finally:
        _close(read_fd)
        _close(ack_write)
        _end(pid)


def _watch(pid: int, read_fd: int, ack_fd: int, key: bytes, options: Options) -> dict:
    """Read the child's frames while sampling its memory; stop at the deadline."""
    deadline = _monotonic() + options.time_limit + EXIT_GRACE
    buffer = b""
    baseline = top = None
    marks: dict = {}
    report = None
    while report is None:
        remaining = deadline - _monotonic()
        if remaining <= 0:
            return _failure(TIMEOUT, f"did not finish within {options.time_limit:g} s (an endless loop?)",
                            options.time_limit)
        ready = _select([read_fd], [], [], min(remaining, SAMPLE_INTERVAL))[0]
        if baseline is not None:
            now = _anon_resident(pid)
            if now is not None and now > top:
                top = now
        if not ready:
            continue
        chunk = _read(read_fd, 1 << 20)
        if not chunk:
            return _ended_without_report(pid, options)
        buffer += chunk
        if len(buffer) > MAX_REPORT:
            return _failure(TAMPERED, "sent more than the measurement's report can hold", 0.0)
        while report is None:
            frame, buffer = _take_frame(buffer, key)
            if frame is None:
                break
            if frame is False:
                return _failure(TAMPERED, "forged the measurement's report (its signature does not match)", 0.0)
            kind, body = frame
            if kind == _MARK and type(body) is str and body not in marks:
                # the learner's code is paused while the child waits for this answer
                now = _anon_resident(pid) or 0
                marks[body] = now
                if baseline is None:
                    baseline = top = now
                _write(ack_fd, _ACK)
            elif kind == _REPORT and type(body) is dict:
                report = body
    end = _anon_resident(pid)
    if baseline is not None and end is not None and end > top:
        top = end
    report["anon_growth"] = max(0, top - baseline) if baseline is not None else 0
    report["anon_marks"] = marks
    return report


def _take_frame(buffer: bytes, key: bytes):
    """(frame or None when incomplete or False when forged, rest of the buffer)."""
    if len(buffer) < _LENGTH + MAC_SIZE:
        return None, buffer
    size = int.from_bytes(buffer[:_LENGTH], "big")
    end = _LENGTH + MAC_SIZE + size
    if size > MAX_REPORT:
        return False, b""
    if len(buffer) < end:
        return None, buffer
    mac, body = buffer[_LENGTH:_LENGTH + MAC_SIZE], buffer[_LENGTH + MAC_SIZE:end]
    if _blake2b(body, key=key, digest_size=MAC_SIZE).digest() != mac:
        return False, b""
    try:
        frame = _loads(body)
    except Exception:
        return False, b""
    if type(frame) is not tuple or len(frame) != 2:
        return False, b""
    return frame, buffer[end:]


def _ended_without_report(pid: int, options: Options) -> dict:
    status = _reap(pid, EXIT_GRACE)
    if status is None:
        return _failure(TAMPERED, "closed the measurement's channel without reporting", 0.0)
    if _wifsignaled(status):
        sig = status & 0x7F
        if sig == SIGKILL:
            return _failure(MEMORY, "was killed (SIGKILL), most likely for using more than "
                                    f"{format_bytes(options.memory_cap)}", 0.0)
        return _failure(CRASH, f"crashed the interpreter ({_SIGNAL_NAMES.get(sig, f'signal {sig}')})", 0.0)
    code = (status >> 8) & 0xFF
    return _failure(CRASH, f"ended its process (exit code {code}) without returning", 0.0)


def _wifsignaled(status: int) -> bool:
    return (status & 0x7F) not in (0, 0x7F)


def _failure(kind: str, message: str, elapsed: float) -> dict:
    return {"peak": 0, "retained": 0, "elapsed": elapsed, "result": None, "error": message, "error_kind": kind,
            "output": "", "top_sites": (), "anon_growth": 0}


def _end(pid: int) -> None:
    """Kill the child's process group (its own and anything it started), then reap it."""
    try:
        _killpg(pid, SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        _kill(pid, SIGKILL)
    except ProcessLookupError:
        pass
    _reap(pid, None)


def _reap(pid: int, timeout):
    """The child's exit status; None if it is still running after ``timeout`` s (None: wait for ever)."""
    end = None if timeout is None else _monotonic() + timeout
    while True:
        try:
            done, status = _waitpid(pid, 0 if end is None else WNOHANG)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if done == pid:
            return status
        if _monotonic() >= end:
            return None
        _select([], [], [], 0.01)


def _anon_resident(pid: int):
    """Bytes of the process's anonymous and shared-memory pages that are resident (file pages excluded)."""
    try:
        fd = _os_open(f"/proc/{pid}/status", O_RDONLY)
    except OSError:
        return None
    try:
        text = _read(fd, 8192)
    finally:
        _close(fd)
    total = 0
    for line in text.split(b"\n"):
        if line.startswith((b"RssAnon:", b"RssShmem:")):
            total += int(line.split()[1]) * 1024
    return total


# --------------------------------------------------------------------------- child


class Session:
    """The child's main thread during a program: runs the learner's code elsewhere, reads everything itself."""

    def __init__(self, write_fd: int, ack_fd: int, key: bytes, options: Options):
        self._write_fd, self._ack_fd, self._key = write_fd, ack_fd, key
        self.options = options
        self.started = _perf_counter()
        self.output, self._output_fd = _output_sink()  # the child's sys.stdout and sys.stderr

    def output_tail(self) -> str:
        """The last OUTPUT_KEPT characters the learner's code printed ("" if it closed the output)."""
        return _output_tail(self.output, self._output_fd)

    def trim_output(self) -> None:
        """Before a leak program reads memory, empty what printing keeps in memory: the learner process's streams
        (a logging handler made in a cell writes to them here) and, where no file could be made, this child's
        own output but its tail. Printed text is not memory the learner's code keeps."""
        tail = self.output_tail()
        mine = (self.output,) if self._output_fd is None else ()  # a file sink holds no memory
        for stream in (*mine, *_parent_output):
            if not stream.closed:
                stream.seek(0)
                stream.truncate(0)
        if mine and not self.output.closed:
            self.output.write(tail)

    def send(self, kind: str, body) -> None:
        data = _dumps((kind, body), protocol=HIGHEST_PROTOCOL)
        mac = _blake2b(data, key=self._key, digest_size=MAC_SIZE).digest()
        view = memoryview(len(data).to_bytes(_LENGTH, "big") + mac + data)
        while view:
            written = _write(self._write_fd, view)
            view = view[written:]

    def start_tracing(self, frames: int):
        """Start a fresh trace with the tripwires armed; a one-line problem if they cannot be."""
        return start_tracing(frames)

    @staticmethod
    def failure(kind, message) -> dict:
        """A report with no figures: an error of ``kind`` (None: a report to fill in)."""
        return _failure(kind, message, 0.0)

    def mark(self, name: str) -> None:
        """Let the parent read the anonymous resident memory now (the learner's code is not running)."""
        self.send(_MARK, name)
        if _read(self._ack_fd, 1) != _ACK:
            raise RuntimeError("the parent did not answer")

    def learner(self, func, args=(), kwargs=None, watcher=None):
        """Run ``func`` on a thread of its own and wait until that thread has ended (see :meth:`finish`)."""
        return self.finish(self.prepare(func, args, kwargs, watcher))

    def prepare(self, func, args=(), kwargs=None, watcher=None):
        """Start the learner's thread, parked until :meth:`finish`: its creation is not part of what is measured."""
        box: list = []
        go, done = _allocate_lock(), _allocate_lock()
        go.acquire()
        done.acquire()
        _start_new_thread(_learner_run, (box, go, done, func, args, kwargs or {}, watcher))
        return box, go, done

    def finish(self, handle, when_done=None, watch=None):
        """Let the parked thread run and wait until it has ended.

        ``watch`` is called every WATCH_INTERVAL while the call runs (the traced peak is
        followed there); ``when_done`` the moment the call has returned, before anything
        here allocates (the peak is read there). Returns ("ok", result) or (kind,
        one-line message); kind is TIMEOUT or TAMPERED when the thread did not end in
        time or left another thread running.
        """
        box, go, done = handle
        go.release()
        while True:
            remaining = self.options.time_limit - (_perf_counter() - self.started)
            if remaining <= 0:
                return TIMEOUT, f"did not finish within {self.options.time_limit:g} s (an endless loop?)"
            if done.acquire(True, min(remaining, WATCH_INTERVAL) if watch is not None else remaining):
                break
            if watch is not None:
                watch()
        if when_done is not None:
            when_done()
        # The lock is released by the learner's thread as its last act; its teardown follows at once.
        end = _perf_counter() + THREAD_GRACE
        while _thread_started is not None and _thread_started() > 0:
            if _perf_counter() > end:
                break
            _select([], [], [], 0.0005)
        while _thread_count() > 1:
            if _perf_counter() > end:
                return TAMPERED, ("left a thread running after it returned; code under test must finish its "
                                  "work before returning")
            _select([], [], [], 0.001)
        return _entry(box)


def _entry(box: list):
    entry = box[0] if type(box) is list and len(box) == 1 else None
    if type(entry) is not tuple or len(entry) != 2 or type(entry[0]) is not str:
        return CRASH, "ended its thread without returning"
    kind, value = entry
    if kind == "ok":
        return entry
    if kind in (EXCEPTION, MEMORY) and type(value) is str:
        return entry
    return CRASH, "ended its thread without returning"


def _child_main(write_fd: int, ack_fd: int, key: bytes, make_call, options: Options) -> None:
    """The child's main thread: never returns, and never runs the learner's code itself."""
    session = None
    try:
        _detach(write_fd, ack_fd)
        session = Session(write_fd, ack_fd, key, options)
        _sys.stdout = _sys.stderr = session.output
        _cap_address_space(options.memory_cap)
        try:
            func, args, kwargs = make_call()
        except BaseException as exc:
            report = _failure(CRASH, f"could not be prepared: {_one_line(exc)}", 0.0)
        else:
            session.started = _perf_counter()
            report = _PROGRAMS[options.program](session, func, args, kwargs)
        report["output"] = session.output_tail()
        _finish_result(report, options.result)
    except BaseException as exc:  # the harness itself failed: report, never hang
        report = _failure(CRASH, f"the measurement itself failed: {_one_line(exc)}", 0.0)
    if session is not None:
        session.send(_REPORT, report)
    _exit_now(0)


def _output_sink():
    """Where the call's prints go, and its descriptor: an unnamed file in the working directory, so printing
    costs the call disk, not traced memory (a StringIO charged the call for every line it printed: 4.4 MiB
    retained for 100,000 short lines); a StringIO (descriptor None) where no such file can be made."""
    if O_TMPFILE is not None:
        try:
            fd = _os_open(".", O_TMPFILE | O_RDWR, 0o600)
        except OSError:
            pass
        else:
            sink = _TextIOWrapper(_io_open(fd, "wb"), encoding="utf-8", errors="backslashreplace", write_through=True)
            return sink, fd
    return _StringIO(), None


def _output_tail(captured, fd) -> str:
    """The last OUTPUT_KEPT characters the call printed ("" if the call broke its output stream)."""
    try:
        if captured.closed:
            return ""
        if fd is None:
            return captured.getvalue()[-OUTPUT_KEPT:]
        captured.flush()
        end = _lseek(fd, 0, SEEK_END)
        start = max(0, end - 4 * OUTPUT_KEPT)  # UTF-8: at most 4 bytes a character
        return _pread(fd, end - start, start).decode("utf-8", "ignore")[-OUTPUT_KEPT:]
    except (OSError, ValueError):
        return ""


def _detach(write_fd: int, ack_fd: int) -> None:
    """Own process group, default signal handling, no inherited descriptors, output to /dev/null."""
    try:
        _setpgid(0, 0)
    except OSError:
        pass
    if _signal is not None:
        for sig in _valid_signals():
            if sig in (SIGKILL, 19):  # SIGKILL and SIGSTOP cannot be changed
                continue
            try:
                _signal(sig, SIG_IGN if sig == SIGPIPE else SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass
    devnull = _os_open("/dev/null", O_WRONLY)
    for fd in (0, 1, 2):  # ipykernel forwards fd 2 to the notebook, where nbgrader scores stderr as a failure
        try:
            _dup2(devnull, fd)
        except OSError:
            pass
    # Everything else the parent had open (its channel to the grader, sockets, files) is closed.
    low = 3
    for fd in sorted((write_fd, ack_fd)):
        if fd > low:
            _closerange(low, fd)
        low = fd + 1
    _closerange(low, 65536)
    for fd in _parent_fds:  # fd 1 is /dev/null by now
        if fd not in (write_fd, ack_fd):
            try:
                _dup2(1, fd)
            except OSError:
                pass


def _thread_count() -> int:
    try:
        fd = _os_open("/proc/self/status", O_RDONLY)
    except OSError:  # not Linux: count the threads started through _thread
        return (_thread_started() + 1) if _thread_started is not None else 1
    try:
        text = _read(fd, 8192)
    finally:
        _close(fd)
    for line in text.split(b"\n"):
        if line.startswith(b"Threads:"):
            return int(line.split()[1])
    return 1


def start_tracing(frames: int):
    """Start a fresh trace with the tripwires armed; a one-line problem if they cannot be."""
    tm = tamper.REAL
    _gc_collect()  # a clean start also makes the cycle collector's timing repeatable
    if tm.is_tracing():
        tm.stop()
    problem = tamper.arm_tripwires()
    if problem:
        return problem
    tm.start(frames)
    tamper.plant_canary()
    return None


def _call_program(session: Session, func, args, kwargs) -> dict:
    """One call: its peak and retained traced memory, and its result."""
    options = session.options
    if not options.traced:
        return _plain_call(session, func, args, kwargs)
    tm = tamper.REAL
    # the watcher runs on the learner's thread: it gets the reading function only, never the controls
    watcher = None if options.watch_at is None else sites.PeakWatcher(tm.get_traced_memory, options.watch_at)
    handle = session.prepare(func, args, kwargs, watcher)
    problem = start_tracing(options.frames)
    if problem:
        return _failure(TAMPERED, problem, 0.0)
    session.mark(_START)
    readings = [(0, 0)]
    read = readings.append
    when_done = lambda: read(tm.get_traced_memory())  # noqa: E731 -- made before the baseline
    highest = [0, False]  # the highest peak seen while the call ran; whether it ever went down
    watch = lambda: _follow_peak(tm.get_traced_memory()[1], highest)  # noqa: E731
    tm.reset_peak()  # what the harness itself allocated until now is not the call's
    baseline = tm.get_traced_memory()[0]
    t0 = _perf_counter()
    outcome = session.finish(handle, when_done, watch)
    elapsed = _perf_counter() - t0
    current, peak = readings[-1]  # the moment the call returned
    _follow_peak(peak, highest)
    tampered = tamper.tamper_after_call() or tamper.started_processes() or (
        tamper.PEAK_RESET if highest[1] else None)
    if tm.is_tracing():
        tm.stop()
    report = _report(outcome, elapsed)
    if tampered and report["error_kind"] not in (TIMEOUT,):
        report.update(error=tampered, error_kind=TAMPERED, result=None)
    elif report["error"] is None:
        report.update(peak=max(0, peak - baseline), retained=max(0, current - baseline))
    report["top_sites"] = _top_sites(watcher)
    return report


def _plain_call(session: Session, func, args, kwargs) -> dict:
    """Isolated but untraced: for code under test that uses tracemalloc itself."""
    handle = session.prepare(func, args, kwargs)
    session.mark(_START)
    t0 = _perf_counter()
    outcome = session.finish(handle)
    return _report(outcome, _perf_counter() - t0)


def _report(outcome, elapsed: float) -> dict:
    kind, value = outcome
    if kind == "ok":
        report = _failure(None, None, elapsed)
        report["result"] = value
        return report
    return _failure(kind, value, elapsed)


def _follow_peak(peak: int, highest: list) -> None:
    """A traced peak only ever rises, unless something resets it: remember when it went down."""
    if peak < highest[0]:
        highest[1] = True
    else:
        highest[0] = peak


def _top_sites(watcher) -> tuple:
    """The learner's lines at the peak (diagnostic runs): ranked after tracing stopped, which is fast."""
    if watcher is None:
        return ()
    try:
        found = watcher.top_sites()
        return tuple(s for s in found if type(s) is sites.AllocationSite)
    except Exception:
        return ()


def _finish_result(report: dict, mode: str) -> None:
    """Keep only what may travel back: nothing, plain data, or anything picklable (lessons)."""
    value = report.get("result")
    if mode == transfer.NONE or report.get("error") is not None:
        report["result"] = None
        return
    if mode == transfer.PLAIN:
        problem = transfer.plain_type_problem(value)
        if problem:
            holder = "" if problem == type(value).__name__ else f"a {type(value).__name__} holding "
            report.update(result=None, error_kind=UNPICKLABLE,
                          error=f"returned {holder}an object of type {problem}; "
                                "return plain data (numbers, strings, lists, tuples, dicts, sets)")
        return
    try:
        _dumps(value, protocol=HIGHEST_PROTOCOL)
    except BaseException as exc:
        report.update(result=None, error_kind=UNPICKLABLE,
                      error=f"returned a {type(value).__name__}, which cannot be sent back for checking "
                            f"({_one_line(exc)})")


def _cap_address_space(cap: int) -> None:
    """Allow ``cap`` bytes of address space beyond what the child inherited, and no core files.

    glibc reserves 64 MiB of address space for each thread's malloc arena, so a
    call that starts 8 threads would hit a 512 MiB cap without using memory; one
    shared arena keeps the cap about memory actually allocated. The hard limit is
    lowered too, so the learner's code cannot raise its own cap.
    """
    _one_malloc_arena()
    if _setrlimit is None:
        return
    try:
        _setrlimit(RLIMIT_CORE, (0, 0))
        fd = _os_open("/proc/self/statm", O_RDONLY)
        try:
            pages = int(_read(fd, 256).split()[0])
        finally:
            _close(fd)
        limit = pages * _PAGE + cap
        soft, hard = _getrlimit(RLIMIT_AS)
        if hard != RLIM_INFINITY:
            limit = min(limit, hard)
        _setrlimit(RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass  # no /proc (macOS): the time limit still applies


def _one_malloc_arena() -> None:
    mallopt = tamper.MALLOPT
    if mallopt is not None:
        mallopt(-8, 1)  # M_ARENA_MAX = 1 (glibc)


_PROGRAMS = {CALL: _call_program, FREED: leak_probes.freed, NO_GROWTH: leak_probes.no_growth}
