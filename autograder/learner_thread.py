"""The learner's side of a measured call: the body of the thread the learner's code runs on.

This module is deliberately public and holds nothing that matters: the learner's
code can reach this thread's frames, so nothing here takes a reading, holds a key
or decides a verdict. It only calls the function, turns an exception into one line
of text (``str(exc)`` runs the learner's code, so it happens on this thread), and
releases ``done`` as its very last act.
"""

from __future__ import annotations

import linecache

from . import sites

EXCEPTION, MEMORY = "exception", "memory"


def run(box: list, go, done, func, args, kwargs, watcher=None) -> None:
    """Once ``go`` is released, call ``func(*args, **kwargs)``; leave ("ok", result) or (kind, message) in ``box``;
    release ``done``."""
    go.acquire()
    try:
        if watcher is not None:
            watcher.install()
        try:
            box.append(("ok", func(*args, **kwargs)))
        finally:
            if watcher is not None:
                watcher.uninstall()
    except MemoryError:
        box.append((MEMORY, "ran out of memory"))
    except RecursionError:
        box.append((EXCEPTION, "raised RecursionError: maximum recursion depth exceeded"))
    except BaseException as exc:
        try:
            box.append((EXCEPTION, f"raised {one_line(exc)}{where(exc)}"))
        except BaseException:
            box.append((EXCEPTION, f"raised {type(exc).__name__}"))
    finally:
        done.release()


def calls(operation, start: int, stop: int) -> None:
    """``operation(i)`` for i in range(start, stop): a window of a leak check."""
    for i in range(start, stop):
        operation(i)


def one_line(exc: BaseException) -> str:
    """'ValueError: first line of the message' for an exception."""
    try:
        text = str(exc).strip().splitlines()
    except Exception:
        text = []
    return f"{type(exc).__name__}: {text[0]}" if text and text[0] else type(exc).__name__


def where(exc: BaseException) -> str:
    """' at notebook cell line 4: `x = y[9]`' for the innermost frame of the learner's own code."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        try:  # the grading sandbox refuses a view of the grader's own frames (its audit hook raised this one)
            code = tb.tb_frame.f_code
        except Exception:
            code = None
        if code is not None and sites.is_learner_file(code.co_filename):
            found = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return ""
    filename, lineno = found
    line = linecache.getline(filename, lineno).strip()
    code_text = f": `{line}`" if line else ""
    return f" at {sites.describe_file(filename)} line {lineno}{code_text}"
