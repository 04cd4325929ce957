"""Measure a reference or naive solution once per worker, not once per submission.

The class command grades every submission of a run on the same hidden inputs (one seed per run), so a check
measures the instructor's reference and naive solutions on the same arguments for every student. A worker keeps
each such measurement in a folder and reuses it, keyed by a digest of everything the measured call can depend on:

* the function's code, defaults and closure, and the globals its code names, followed into the functions and
  classes the test cells defined (library functions and modules count by name);
* the arguments, by value (a string naming a file: the file's bytes, wherever it lies);
* how the result comes back, the random module's state, the Python version and the measuring engine's source.

A value it cannot digest (a generator, a lock) means measuring afresh, as does a measurement that failed.
Only the trusted grader uses the cache, and only while the learner's code runs sandboxed: the sandbox shows
neither the cache's folder nor a writable view of the files test cells write (see :mod:`autograder.remote`),
so one submission cannot change what another is compared with.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import random
import sys
import time
import types
from pathlib import Path, PurePath
from typing import Callable

from .shipping import GRADER_MODULE, LearnerName

ENV = "AUTOGRADER_REFERENCE_CACHE"  # the folder; unset, nothing is cached
MAX_DEPTH = 64  # nesting followed before giving up on a value
MAX_FILE_BYTES = 1 << 30  # a file named by an argument bigger than this is not digested (measured afresh)
CLAIM_WAIT = 60.0  # s a process waits for another's measurement of the same call before measuring it too
CLAIM_POLL = 0.02  # s between two tries of that call's lock
_CHUNK = 1 << 20
_PLAIN_NUMBERS = (type(None), bool, int, float)
_REDUCE_PROTOCOL = 4  # not 5: its out-of-band buffers (numpy's) have no state to digest
_SKIPPED_CLASS_ATTRIBUTES = frozenset({"__dict__", "__weakref__", "__doc__", "__module__", "__qualname__"})

_folder: Path | None = None
_engine: bytes | None = None


class Undigestible(Exception):
    """A value with no stable digest: the call is measured afresh."""


def enable(folder: str | os.PathLike) -> None:
    """Keep and reuse measurements in ``folder`` (created if need be)."""
    global _folder
    _folder = Path(folder)
    _folder.mkdir(parents=True, exist_ok=True)


def disable() -> None:
    global _folder
    _folder = None


def measured(func: Callable, args: tuple, kwargs: dict, result: str, measure: Callable):
    """``measure()``'s Measurement of ``func(*args, **kwargs)``, or the one kept from an identical call."""
    if _folder is None:
        return measure()
    # The cache only saves time: whatever goes wrong with it (a value that will not digest, an unreadable or
    # unwritable file), the call is measured as if there were none.
    try:
        path = _folder / f"{digest(func, args, kwargs, result)}.pickle"
    except Exception:
        return measure()
    kept = _kept(path)
    if kept is not None:
        return kept
    # Workers that reach the same call together (two starting on one assignment) measure it once: the others
    # wait for that measurement instead of slowing it down with copies of it.
    with _claimed(path):
        kept = _kept(path)
        if kept is not None:
            return kept
        m = measure()
        if m.ok:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            try:
                tmp.write_bytes(pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL))
                os.replace(tmp, path)
            except Exception:
                with contextlib.suppress(OSError):
                    tmp.unlink()
    return m


def _kept(path: Path):
    try:
        return pickle.loads(path.read_bytes())
    except Exception:
        return None


@contextlib.contextmanager
def _claimed(path: Path):
    """Hold the call's lock file while measuring it; after CLAIM_WAIT s of waiting for another process's hold,
    or when locking fails, go on without it."""
    fd = None
    try:
        import fcntl

        fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + CLAIM_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(CLAIM_POLL)
    except Exception:
        pass
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def digest(func: Callable, args: tuple, kwargs: dict, result: str) -> str:
    """The hex digest that identifies a measured call (see the module's docstring); raises Undigestible."""
    h = hashlib.sha256(_engine_digest())
    h.update(f"{sys.version}|{result}|".encode())
    # the random module's state too: a solution may draw from it while measured
    _Digest(h).feed((func, tuple(args), dict(kwargs), random.getstate()), 0)
    return h.hexdigest()


def _engine_digest() -> bytes:
    """The autograder package's source, once: a change to how measuring works is a new cache."""
    global _engine
    if _engine is None:
        h = hashlib.sha256()
        for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        _engine = h.digest()
    return _engine


def _named(obj) -> str | None:
    """``module:qualname`` when ``obj`` is what that name imports (a library's function or class), else None."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    qualname = getattr(obj, "__qualname__", None)
    if module is None or not qualname or "<" in qualname:
        return None
    found = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{module.__name__}:{qualname}" if found is obj else None


class _Digest:
    def __init__(self, h):
        self.h = h
        self.seen: dict[int, int] = {}
        self.keep: list = []  # objects made while digesting, kept alive so their ids stay unique

    def tag(self, text: str) -> None:
        self.h.update(text.encode("utf-8", "surrogatepass") + b"\0")

    def feed(self, obj, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise Undigestible("nested too deeply")
        kind = type(obj)
        if obj is None or kind in (bool, int, float, complex):
            return self.tag(f"{kind.__name__}:{obj!r}")
        if kind is str or isinstance(obj, PurePath):
            return self._text_or_file(str(obj), kind)
        if kind in (bytes, bytearray):
            self.tag(f"{kind.__name__}:{len(obj)}")
            return self.h.update(obj)
        if isinstance(obj, LearnerName):  # calling it in the grader raises, so no measurement of it is kept
            return self.tag(f"learner:{obj.name}:{obj.kind}")
        if id(obj) in self.seen:  # shared or cyclic
            return self.tag(f"seen:{self.seen[id(obj)]}")
        self.seen[id(obj)] = len(self.seen)
        self.keep.append(obj)
        if kind in (tuple, list):
            self.tag(f"{kind.__name__}:{len(obj)}")
            if all(type(item) in _PLAIN_NUMBERS for item in obj):  # a long list of numbers at C speed
                return self.tag(repr(obj))
            for item in obj:
                self.feed(item, depth + 1)
        elif kind in (set, frozenset):
            parts = sorted(_sub_digest(item, depth + 1) for item in obj)
            self.tag(f"{kind.__name__}:{''.join(parts)}")
        elif kind is dict:
            self.tag(f"dict:{len(obj)}")
            for key, value in obj.items():
                self.feed(key, depth + 1)
                self.feed(value, depth + 1)
        elif isinstance(obj, types.CodeType):
            self._code(obj, depth)
        elif isinstance(obj, types.FunctionType):
            self._function(obj, depth)
        elif isinstance(obj, type):
            self._class(obj, depth)
        elif isinstance(obj, types.ModuleType):
            self.tag(f"module:{obj.__name__}")
        elif isinstance(obj, (types.MethodType, types.BuiltinMethodType, types.BuiltinFunctionType)):
            owner = getattr(obj, "__self__", None)
            self.tag(f"method:{getattr(obj, '__qualname__', '')}")
            if not isinstance(owner, types.ModuleType):
                self.feed(owner, depth + 1)
            if isinstance(obj, types.MethodType):
                self.feed(obj.__func__, depth + 1)
        elif isinstance(obj, functools.partial):
            self.tag("partial")
            self.feed((obj.func, obj.args, obj.keywords), depth + 1)
        elif isinstance(obj, (staticmethod, classmethod)):
            self.tag(type(obj).__name__)
            self.feed(obj.__func__, depth + 1)
        elif isinstance(obj, property):
            self.tag("property")
            self.feed((obj.fget, obj.fset, obj.fdel), depth + 1)
        else:
            self._reduced(obj, depth)

    def _text_or_file(self, text: str, kind) -> None:
        if os.path.isabs(text) and os.path.isfile(text):
            size = os.path.getsize(text)
            if size > MAX_FILE_BYTES:
                raise Undigestible(f"{text} is too big to digest")
            self.tag(f"file:{size}")  # its bytes, not its name: test cells write to fresh temporary folders
            with open(text, "rb") as f:
                while chunk := f.read(_CHUNK):
                    self.h.update(chunk)
            return None
        self.tag(f"{kind.__name__}:{len(text)}")
        return self.tag(text)

    def _code(self, code: types.CodeType, depth: int) -> None:
        self.tag(f"code:{code.co_name}:{code.co_argcount}:{code.co_posonlyargcount}:{code.co_kwonlyargcount}:"
                 f"{code.co_flags}:{code.co_names}:{code.co_varnames}:{code.co_freevars}:{code.co_cellvars}")
        self.h.update(code.co_code)
        self.h.update(getattr(code, "co_exceptiontable", b""))
        self.feed(code.co_consts, depth + 1)

    def _function(self, func: types.FunctionType, depth: int) -> None:
        name = _named(func)
        if name and func.__module__ not in (GRADER_MODULE, "__main__"):
            return self.tag(f"function:{name}")
        self.tag("function")
        self.feed(func.__code__, depth + 1)
        self.feed((func.__defaults__, func.__kwdefaults__), depth + 1)
        cells = tuple(_cell_value(cell) for cell in func.__closure__ or ())
        self.feed(cells, depth + 1)
        names = sorted(_global_names(func.__code__))
        space = func.__globals__
        self.feed({name: space[name] for name in names if name in space}, depth + 1)

    def _class(self, cls: type, depth: int) -> None:
        name = _named(cls)
        if name and cls.__module__ != GRADER_MODULE:
            return self.tag(f"class:{name}")
        self.tag(f"class:{cls.__qualname__}")
        self.feed(cls.__bases__, depth + 1)
        attributes = {k: v for k, v in vars(cls).items() if k not in _SKIPPED_CLASS_ATTRIBUTES}
        for key in sorted(attributes):
            self.tag(key)
            value = attributes[key]
            if type(value).__name__ in ("member_descriptor", "getset_descriptor"):  # slots
                self.tag(type(value).__name__)
            else:
                self.feed(value, depth + 1)

    def _reduced(self, obj, depth: int) -> None:
        """Anything else as pickle sees it: its class and the state its ``__reduce_ex__`` gives."""
        try:
            reduced = obj.__reduce_ex__(_REDUCE_PROTOCOL)
        except Exception as exc:
            raise Undigestible(f"{type(obj).__name__}: {exc}") from None
        if isinstance(reduced, str):  # a global: pickled by name
            return self.tag(f"global:{_named(obj) or reduced}")
        parts = list(reduced) + [None] * (5 - len(reduced))
        made, args, state, items, pairs = parts[:5]
        self.tag(f"object:{type(obj).__qualname__}")
        self.feed(type(obj), depth + 1)
        self.feed((made, args, state), depth + 1)
        if items is not None:
            self.feed(list(items), depth + 1)
        if pairs is not None:
            self.feed(list(pairs), depth + 1)


def _sub_digest(item, depth: int) -> str:
    h = hashlib.sha256()
    _Digest(h).feed(item, depth)
    return h.hexdigest()


def _cell_value(cell):
    try:
        return ("cell", cell.cell_contents)
    except ValueError:  # empty
        return ("empty cell",)


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
