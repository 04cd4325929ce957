"""Show a learner's errors in IPython as one clear line and what to do, not a traceback through the autograder.

* A :class:`CheckFailed` shows as its message alone, wherever IPython shows it (a kernel, the terminal,
  ``%run``), through its ``_render_traceback_``: still an ``error`` output, so nbgrader still scores the
  cell 0 and puts the message in the feedback.
* An unsolved cell (``raise NotImplementedError()`` left in a quiz answer or a class) says so in one line.
* A name a cell needs and nobody defined (a test cell run before its exercise, or before the setup cell)
  keeps IPython's traceback and gains a line saying which cell to run or write; a check that failed
  because the learner's code met such a name gains the same line.

The trusted grader formats its own errors (``autograder.grader``); in its learner shell these handlers stay off.
"""

from __future__ import annotations

import linecache
import re
import sys

from .registry import count_calls
from .report import CheckFailed

RED, RESET = "\x1b[0;31m", "\x1b[0m"
UNSOLVED = "not done yet: replace `raise NotImplementedError()` with your answer (or your code) and run this cell again"
_MISSING_IN_CHECK = re.compile(r"raised NameError: name '(\w+)' is not defined")


def failure_lines(etype: type, message: str, hint: str = "") -> list[str]:
    """A traceback made of the message alone: red exception name, first line, the rest, then the hint."""
    lines = message.splitlines() or [""]
    return [f"{RED}{etype.__name__}{RESET}: {lines[0]}", *lines[1:], *([hint] if hint else [])]


def check_failed_traceback(exc: CheckFailed) -> list[str]:
    """What IPython shows for a failed check (``CheckFailed._render_traceback_``)."""
    found = _MISSING_IN_CHECK.search(str(exc))
    return failure_lines(type(exc), str(exc), missing_name_hint(found.group(1), test=True) if found else "")


def missing_name_hint(name: str, test: bool) -> str:
    """Which cell to run (or write) so that ``name`` exists; ``test`` when a test cell needs it."""
    if _from_setup(name):
        return f"{name} comes from the notebook's setup cell: run the setup cell at the top first"
    if test:
        return f"this test needs {name}: write it in its exercise cell above and run that cell, then this one"
    return f"run the cell that defines {name} first (Run → Run All Above Selected Cell runs every cell above)"


def _from_setup(name: str) -> bool:
    """Whether ``name`` is something a setup cell imports: the autograder's API or a module already loaded."""
    import autograder

    return name == "autograder" or hasattr(autograder, name) or name in sys.modules


def _cell_files(tb) -> list[str]:
    """The file names of the traceback's frames below IPython's own ``run_code``, outermost first."""
    files = []
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return files[1:]  # the first frame is IPython running the cell


def _show(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for NameError and NotImplementedError (see the module docstring)."""
    files = _cell_files(tb)
    if issubclass(etype, NotImplementedError) and files and files[-1] == files[0]:
        stb = failure_lines(etype, UNSOLVED)  # raised by the cell's own code: a stub still in place
    else:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        name = getattr(value, "name", None)
        if issubclass(etype, NameError) and not issubclass(etype, UnboundLocalError) and name and files:
            source = "".join(linecache.getlines(files[0]))
            stb = [*stb, missing_name_hint(name, test=count_calls(source) > 0)]
    shell._showtraceback(etype, value, stb)
    return stb


def install() -> bool:
    """Register the handlers in the running IPython shell, if there is one (not the grader's learner shell)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc") or type(shell).__module__ == "autograder.cells":
        return False
    shell.set_custom_exc((NameError, NotImplementedError), _show)
    return True
