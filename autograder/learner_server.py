"""The main thread of the learner's process, in the grading sandbox (loaded privately, see :mod:`autograder.seal`).

It never runs the learner's code itself. The grader sends it requests, one at a time:

* ``("cell", index, source, timeout)``: run a notebook cell on a thread of its own
  (:mod:`autograder.cells`), wait for it, and answer with the cell's outputs and the
  names it bound (plain values -- quiz answers -- travel as data, everything else
  as a name the grader can ask about);
* ``("measure", call, options)``: fork a measured child (:mod:`autograder.child`),
  which rebuilds the test's probe (:mod:`autograder.shipping`) in the learner's
  namespace as it is now, and answer with the child's verified report;
* ``("exit",)``.

Answers are signed with the key the grader gave at start-up, which only this
thread's frames hold: a learner's thread writing to the channel is detected.
"""

from __future__ import annotations

from _thread import allocate_lock as _allocate_lock
from _thread import start_new_thread as _start_new_thread
from hashlib import blake2b as _blake2b
from os import _exit as _exit_now
from os import read as _read
from os import write as _write
from pickle import HIGHEST_PROTOCOL
from pickle import dumps as _dumps
from pickle import loads as _loads

from . import child, learner_thread, shipping, transfer

MAC_SIZE = 32
_LENGTH = 8
MAX_PLAIN = 64 * 1024  # a bound value bigger than this (pickled) travels as a name only
_IPYTHON_NAMES = frozenset(("In", "Out", "get_ipython", "exit", "quit", "_", "__", "___", "_ih", "_oh", "_dh",
                            "_i", "_ii", "_iii", "__builtin__", "__builtins__", "__name__", "__doc__",
                            "__package__", "__loader__", "__spec__"))
_learner_run = learner_thread.run
_encode_dumps = _dumps
_plain_problem = transfer.plain_type_problem
_decode_call = shipping.decode_call
_run_child = child.run
_Options = child.Options
_type_name = type.__dict__["__name__"].__get__


def serve(fd_in: int, fd_out: int, key: bytes, shell, user_ns: dict, run_cell) -> None:
    """Answer the grader's requests until it says exit (or the channel closes)."""
    reader = _Reader(fd_in)
    while True:
        request = reader.next()
        if request is None or request[0] == "exit":
            _exit_now(0)
        kind = request[0]
        if kind == "cell":
            _, index, source, timeout = request
            _send(fd_out, key, ("cell", index) + _run_cell(shell, user_ns, run_cell, source, timeout))
        elif kind == "measure":
            _, data, options = request
            _send(fd_out, key, ("measure", _measure(user_ns, data, options)))
        else:
            _send(fd_out, key, ("error", f"unknown request {kind!r}"))


class _Reader:
    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""

    def next(self):
        while True:
            if len(self.buffer) >= _LENGTH:
                size = int.from_bytes(self.buffer[:_LENGTH], "big")
                if len(self.buffer) >= _LENGTH + size:
                    body = self.buffer[_LENGTH:_LENGTH + size]
                    self.buffer = self.buffer[_LENGTH + size:]
                    return _loads(body)
            chunk = _read(self.fd, 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk


def _send(fd: int, key: bytes, message) -> None:
    data = _dumps(message, protocol=HIGHEST_PROTOCOL)
    mac = _blake2b(data, key=key, digest_size=MAC_SIZE).digest()
    view = memoryview(len(data).to_bytes(_LENGTH, "big") + mac + data)
    while view:
        view = view[_write(fd, view):]


def _run_cell(shell, user_ns: dict, run_cell, source: str, timeout: float) -> tuple:
    """(status, outputs, names) of one cell run on a thread of its own; status is "ok" or "timeout"."""
    before = _identities(user_ns)
    box: list = []
    go, done = _allocate_lock(), _allocate_lock()
    go.acquire()
    done.acquire()
    _start_new_thread(_learner_run, (box, go, done, run_cell, (shell, source), {}, None))
    go.release()
    if not done.acquire(True, timeout):
        return "timeout", [], {}
    outputs = []
    entry = box[0] if type(box) is list and len(box) == 1 else None
    if type(entry) is tuple and len(entry) == 2 and entry[0] == "ok" and _plain_problem(entry[1]) is None \
            and type(entry[1]) is list:
        outputs = entry[1]
    elif type(entry) is tuple and len(entry) == 2 and type(entry[1]) is str:
        outputs = [{"output_type": "error", "ename": "CellError", "evalue": entry[1], "traceback": [entry[1]]}]
    return "ok", outputs, _changed_names(user_ns, before)


def _identities(user_ns: dict) -> dict:
    for _ in range(5):  # a thread the learner left running may change the namespace while it is read
        try:
            return {k: id(v) for k, v in dict.items(user_ns) if type(k) is str}
        except RuntimeError:
            continue
    return {}


def _changed_names(user_ns: dict, before: dict) -> dict:
    """name -> ("plain", value) / ("object", type name, callable) / ("deleted",) for the names a cell changed."""
    after = _identities(user_ns)
    changed: dict = {}
    for name, ident in after.items():
        if name in _IPYTHON_NAMES or (name.startswith("_i") and name[2:].isdigit()) or before.get(name) == ident:
            continue
        value = dict.get(user_ns, name)
        changed[name] = _describe(value)
    for name in before:
        if name not in after and name not in _IPYTHON_NAMES:
            changed[name] = ("deleted",)
    return changed


def _describe(value) -> tuple:
    if _plain_problem(value) is None:
        try:
            if len(_encode_dumps(value, protocol=HIGHEST_PROTOCOL)) <= MAX_PLAIN:
                return ("plain", value)
        except Exception:
            pass
    kind = type(value)
    return ("object", _type_name(kind), callable(value))


def _measure(user_ns: dict, data: bytes, options: dict) -> dict:
    """A measured child's report for the shipped call, as plain data."""
    opts = _Options(memory_cap=options["memory_cap"], time_limit=options["time_limit"], traced=options["traced"],
                    frames=options["frames"], result=options["result"], watch_at=options.get("watch_at"),
                    program=options["program"], calls=options.get("calls", 0), warmup=options.get("warmup", 0))
    report = _run_child(lambda: _decode_call(data, user_ns), opts)
    if _plain_problem(report.get("result")) is not None:
        report["result"] = None
    return report

