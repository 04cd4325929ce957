"""The audit hook (PEP 578) of the learner's process: what graded code may not do, with one clear line why.

Installed before the learner's first cell runs, and impossible to remove. Each rule
names the escape hatch it closes:

* frames of the measuring harness: ``sys._getframe``, a traceback's, generator's or
  coroutine's frame -- refused when the frame reached leads into the private
  measuring code (:mod:`autograder.seal`); ``sys._current_frames`` always;
* the interpreter's object lists (``gc.get_objects``, ``get_referrers``,
  ``get_referents``), ``sys.monitoring`` callbacks, new audit hooks (tracing and
  profiling hooks for all threads are refused by :mod:`autograder.learner_process`,
  which replaces them: ``sys.settrace`` and ``sys.setprofile`` themselves only see
  the calling thread, so they stay allowed);
* memory tracemalloc cannot see: ctypes, anonymous ``mmap``; writing to ``/proc``,
  reading a process's memory (``/proc/*/mem``) or resetting its counters (``clear_refs``);
* other processes: fork, exec, spawn, subprocess, signals to other processes,
  resource limits;
* forged code: new code objects or bytecode from ``marshal`` (the import system may load a
  library module's cached bytecode, compared byte for byte with the file), source compiled
  under the harness's file names, a fresh copy of ``_tracemalloc``.

"The caller" is the innermost frame that is not a library's (standard library,
site-packages, the autograder's public modules): the measuring harness's private
code may do all of this; the learner's code -- and a library called for it, or a
thread started with a library function as its target -- may not. Libraries keep
what they do while they are being imported (numpy loads its C parts with ctypes).
"""

from __future__ import annotations

import sys
from _thread import get_ident as _get_ident
from sys import _getframe
from sysconfig import get_paths as _get_paths

from posix import O_RDONLY as _O_RDONLY
from posix import close as _os_close
from posix import fstat as _os_fstat
from posix import open as _os_open
from posix import read as _os_read

_HERE = __file__.rsplit("/", 1)[0] + "/"
_LIBRARY = tuple(sorted({p + "/" for p in (_get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib"))
                         if p})) + (_HERE,)
_IMPORTING = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")

_PYC_HEADER = 16  # magic, flags and source stamp before the marshalled code (PEP 552)
_FRAME_ATTRIBUTES = frozenset(("tb_frame", "gi_frame", "cr_frame", "ag_frame"))
_PROCESS_EVENTS = frozenset(("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
                             "subprocess.Popen", "pty.spawn", "os.startfile", "os.kill", "os.killpg",
                             "signal.pthread_kill", "resource.setrlimit", "resource.prlimit"))
_OBJECT_LISTS = frozenset(("gc.get_objects", "gc.get_referrers", "gc.get_referents"))
_IMPORT_TIME = frozenset(("ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "marshal.loads", "marshal.load",
                          "code.__new__", "function.__new__"))
_DENIED_FILES = frozenset(("mem", "clear_refs", "pagemap", "kpagecount", "kpageflags", "kcore", "sysrq-trigger"))
_PRIVATE_MODULES = frozenset(("_tracemalloc", "posix", "_posixsubprocess", "_ctypes"))
_WATCHED = (frozenset(("sys._getframe", "object.__getattr__", "sys._current_frames", "sys._current_exceptions",
                       "sys.addaudithook", "mmap.__new__", "open", "import",
                       "compile", "sys.monitoring.register_callback", "sys.monitoring.use_tool_id"))
            | _PROCESS_EVENTS | _OBJECT_LISTS | _IMPORT_TIME)

HARNESS, LIBRARY, LEARNER, NOBODY = "harness", "library", "learner", "nobody"


class Refused(PermissionError):
    """Graded code tried something the grading sandbox does not allow."""


def install(sealed_codes, sealed_files) -> None:
    """Add the hook: ``sealed_codes`` are the private harness's code objects, ``sealed_files`` their file names."""
    sealed = frozenset(id(c) for c in sealed_codes)
    keep = tuple(sealed_codes)  # the ids above stay valid while these live
    files = frozenset(sealed_files)
    busy: set = set()

    def caller(frame):
        """(HARNESS / LEARNER / NOBODY, importing) for the innermost frame that is not a library's."""
        importing = False
        while frame is not None:
            code = frame.f_code
            if id(code) in sealed:
                return HARNESS, importing
            filename = code.co_filename
            if filename in _IMPORTING:
                importing = True
            elif not (filename.startswith(_LIBRARY) or filename.startswith("<frozen")):
                return LEARNER, importing
            frame = frame.f_back
        return NOBODY, importing

    def reaches_harness(frame) -> bool:
        while frame is not None:
            if id(frame.f_code) in sealed:
                return True
            frame = frame.f_back
        return False

    def refuse(what: str, why: str):
        raise Refused(f"{what} is not allowed in graded code: {why}")

    def hook(event, args):
        if event not in _WATCHED and not event.startswith("ctypes."):
            return
        me = _get_ident()
        if me in busy:  # the hook's own frame and attribute reads raise events too
            return
        busy.add(me)
        try:
            check(event, args)
        finally:
            busy.discard(me)

    def check(event, args):
        if event == "sys._getframe":
            if reaches_harness(args[0]):
                refuse("reading the grader's frames", "they belong to the measurement")
            return
        if event == "object.__getattr__":
            if args[1] in _FRAME_ATTRIBUTES and reaches_harness(getattr(args[0], args[1], None)):
                refuse("reading the grader's frames", "they belong to the measurement")
            return
        if event == "open":
            _check_open(args, refuse)
            return
        if event in ("sys._current_frames", "sys._current_exceptions"):
            refuse(f"{event}()", "it shows the grader's frames")
        who, importing = caller(_getframe(2))
        if who == HARNESS:
            return
        if importing and (event in _IMPORT_TIME or event.startswith("ctypes.dl")) and who == NOBODY:
            return  # a library loading itself
        if event.startswith("ctypes."):
            refuse("ctypes", "memory it reaches is invisible to tracemalloc and to the grader")
        if event in _PROCESS_EVENTS:
            refuse(event.replace("os.", "os.").split(".")[-1] if event != "subprocess.Popen" else "subprocess",
                   "graded code must do its work in its own process, where its memory is measured")
        if event == "gc.get_referents" and _only_plain_containers(args):
            return  # a list's, tuple's, set's or dict's referents are what iterating it gives (deep-size code)
        if event in _OBJECT_LISTS:
            refuse(f"{event}()", "it reaches the grader's objects")
        if event.startswith("sys.monitoring") or event == "sys.addaudithook":
            refuse(event, "such hooks can reach the grader's frames")
        if event == "mmap.__new__":
            if args[0] == -1:
                refuse("anonymous mmap", "memory it maps is invisible to tracemalloc")
            return
        if event == "import":
            if args[0] in _PRIVATE_MODULES:
                refuse(f"importing a fresh copy of {args[0]}", "the measurement depends on it")
            return
        if event == "compile":
            filename = args[1] if len(args) > 1 else None
            if isinstance(filename, (str, bytes)) and (str(filename) in files or str(filename).startswith("<autograder")):
                refuse("compiling code under the grader's file names", "it would pass for the grader's code")
            return
        if event == "marshal.loads" and importing and _library_bytecode(_getframe(2), args[0]):
            return  # a module of the standard library or site-packages, imported when learner code asked for it
        if event in ("code.__new__", "marshal.loads", "marshal.load"):
            refuse("making code objects", "hand-made bytecode can read the grader's memory")
        if event == "function.__new__":
            if id(args[0]) in sealed:
                refuse("reusing the grader's code", "it belongs to the measurement")
            return

    keep_alive = (keep, hook)
    sys.addaudithook(hook)
    return keep_alive


def _library_bytecode(frame, data) -> bool:
    """True when ``data``, unmarshalled by importlib, is the body of a cached-bytecode file in the library tree.

    The bytes are compared with the file itself, read here through functions bound before any learner code,
    so a patched loader, a crafted path or a file the learner wrote cannot pass (the library tree is read-only
    in the sandbox).
    """
    if frame is None or frame.f_code.co_name != "_compile_bytecode" or frame.f_code.co_filename not in _IMPORTING:
        return False
    path = frame.f_locals.get("bytecode_path")
    if type(path) is not str or not path.startswith(_LIBRARY) or "/../" in path or "/./" in path:
        return False
    try:
        fd = _os_open(path, _O_RDONLY)
    except OSError:
        return False
    try:  # read exactly the file's size: in a measured call, what the hook allocates is charged to the learner
        size = _os_fstat(fd).st_size
        if size != _PYC_HEADER + len(data):
            return False
        content = b""
        while len(content) < size:
            chunk = _os_read(fd, size - len(content))
            if not chunk:
                return False
            content += chunk
    except OSError:
        return False
    finally:
        _os_close(fd)
    return content[_PYC_HEADER:] == data


def _only_plain_containers(args) -> bool:
    """True when gc.get_referents was given only exact lists, tuples, dicts, sets and frozensets (compared by
    identity: no learner code runs here, not even a metaclass's __hash__)."""
    objects = args[0] if len(args) == 1 and type(args[0]) is tuple else None
    if objects is None:
        return False
    for obj in objects:
        kind = type(obj)
        if kind is not list and kind is not tuple and kind is not dict and kind is not set and kind is not frozenset:
            return False
    return True


def _check_open(args, refuse) -> None:
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(path, bytes):
        path = path.decode("utf-8", "replace")
    if not isinstance(path, str):
        return
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if name in _DENIED_FILES:
        refuse(f"opening {path}", "it reads or resets a process's memory behind the measurement")
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & 3 != 0)  # O_WRONLY or O_RDWR
    if writing and path.startswith(("/proc", "/sys", "/dev/fd")):
        refuse(f"writing to {path}", "the kernel's view of this process belongs to the measurement")
