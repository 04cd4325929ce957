"""Show a failed check in a notebook as its message alone, not a traceback through the autograder.

IPython lets a package handle chosen exception types (``set_custom_exc``). A
:class:`CheckFailed` is still shown as an ``error`` output -- so nbgrader still
scores the cell 0 and puts the message in the feedback -- but its "traceback"
is the message itself. Every other exception keeps IPython's usual traceback.
"""

from __future__ import annotations

from .report import CheckFailed

RED, RESET = "\x1b[0;31m", "\x1b[0m"


def _show_check_failed(shell, etype, value, tb, tb_offset=None):
    lines = str(value).splitlines() or [""]
    stb = [f"{RED}{etype.__name__}{RESET}: {lines[0]}", *lines[1:]]
    shell._showtraceback(etype, value, stb)
    return stb


def install() -> bool:
    """Register the handler in the running IPython kernel, if there is one."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    shell.set_custom_exc((CheckFailed,), _show_check_failed)
    return True
