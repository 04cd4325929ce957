"""Run one notebook cell in IPython, as a kernel would, and return its outputs as notebook data.

Used by the learner's process in the grading sandbox, on the thread the learner's
code runs on: outputs come back as plain data (nbformat output dicts), magics and
rich display work as in JupyterLab, and an error becomes an ``error`` output with
IPython's traceback. Nothing here decides a grade.
"""

from __future__ import annotations

import io
import sys
import tempfile

from IPython.core.displayhook import DisplayHook
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from . import learner_thread

STREAM_LIMIT = 100_000  # characters of printed output kept per stream

# What the learner's cells print goes to one pair of streams for the whole process, emptied before each cell and
# left in place between cells, as a kernel's sys.stdout and sys.stderr are: a logging handler made in one cell
# (logging.basicConfig) writes to the same stream later, also in a measured child. They are unnamed files, as a
# kernel's are pipes, so that what such a handler writes during a measured call is not memory of the call; a
# StringIO only where no file can be made, which a measured child empties before a leak check reads memory
# (autograder.child.inherit_output). A stream the learner closed stays closed, as in a kernel.
STREAMS: dict = {}


def streams() -> dict:
    """The learner's process's sys.stdout and sys.stderr, made on first use (see STREAMS)."""
    if not STREAMS:
        for name in ("stdout", "stderr"):
            try:
                STREAMS[name] = tempfile.TemporaryFile("w+", encoding="utf-8", errors="backslashreplace")
            except OSError:
                STREAMS[name] = io.StringIO()
    return STREAMS


def _empty(stream) -> None:
    try:
        stream.seek(0)
        stream.truncate(0)
    except (OSError, ValueError):  # closed or detached by the learner's code
        pass


def _printed(stream) -> str:
    """The first STREAM_LIMIT characters printed to ``stream`` since it was emptied ("" if the learner broke it)."""
    try:
        stream.flush()
        stream.seek(0)
        return stream.read(STREAM_LIMIT)
    except (OSError, ValueError):
        return ""


class _ResultHook(DisplayHook):
    """Keep a cell's value as an execute_result instead of printing ``Out[n]:``."""

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        self.shell._cell_result = (dict(format_dict), dict(md_dict or {}))


class GradingShell(InteractiveShell):
    """An IPython shell whose cells' tracebacks are kept as data, like ipykernel's."""

    def _showtraceback(self, etype, evalue, stb):
        self._cell_error = {"output_type": "error", "ename": etype.__name__, "evalue": str(evalue),
                            "traceback": [str(line) for line in stb]}

    def showtraceback(self, exc_tuple=None, *args, **kwargs):
        """IPython's traceback; where it cannot be drawn (the sandbox hides the grader's frames), the error alone."""
        etype, value, tb = exc_tuple if exc_tuple is not None else sys.exc_info()
        try:
            super().showtraceback(exc_tuple, *args, **kwargs)
        except Exception:
            pass
        if self._cell_error is None or self._cell_error.get("ename") != getattr(etype, "__name__", None):
            text = f"{getattr(etype, '__name__', 'Error')}: {value}"
            self._cell_error = {"output_type": "error", "ename": getattr(etype, "__name__", "Error"),
                                "evalue": str(value), "traceback": [text + learner_thread.where(value)]}


def make_shell() -> GradingShell:
    """The learner's shell: no history file, results kept as data."""
    shell = GradingShell.instance(displayhook_class=_ResultHook, history_length=0)
    shell.history_manager.enabled = False
    return shell


def run(shell: GradingShell, source: str) -> list:
    """The outputs of running ``source`` in ``shell``, as a list of nbformat output dicts."""
    shell._cell_result = shell._cell_error = None
    out = streams()
    for stream in out.values():
        _empty(stream)
    sys.stdout, sys.stderr = out["stdout"], out["stderr"]  # left in place after the cell, as a kernel's
    with capture_output(stdout=False, stderr=False, display=True) as captured:
        result = shell.run_cell(source, store_history=False)
    outputs = []
    for name, stream in out.items():
        text = _printed(stream)
        if text:
            outputs.append({"output_type": "stream", "name": name, "text": _plain_text(text)[:STREAM_LIMIT]})
    for output in captured.outputs:
        outputs.append({"output_type": "display_data", "data": _mime_bundle(output.data),
                        "metadata": _mime_bundle(output.metadata or {})})
    if shell._cell_result is not None:
        data, metadata = shell._cell_result
        outputs.append({"output_type": "execute_result", "data": _mime_bundle(data), "metadata": _mime_bundle(metadata),
                        "execution_count": None})
    failure = result.error_before_exec or result.error_in_exec
    if shell._cell_error is not None:
        outputs.append(shell._cell_error)
    elif failure is not None:  # IPython could not format the traceback (the sandbox hides the grader's frames)
        outputs.append({"output_type": "error", "ename": type(failure).__name__, "evalue": str(failure),
                        "traceback": [f"{type(failure).__name__}: {failure}"]})
    return outputs


def _plain_text(text) -> str:
    return text if type(text) is str else str(text)


def _mime_bundle(data: dict) -> dict:
    """Only JSON-like values: strings, numbers, and dicts/lists of them."""
    out = {}
    for key, value in dict(data).items():
        if isinstance(key, str):
            out[key] = _jsonish(value)
    return out


def _jsonish(value):
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonish(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonish(v) for k, v in value.items()}
    return str(value)
