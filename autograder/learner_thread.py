"""The learner's side of a measured call: the body of the thread the learner's code runs on.

This module is deliberately public and holds nothing that matters: the learner's
code can reach this thread's frames, so nothing here takes a reading, holds a key
or decides a verdict. It only calls the function, turns an exception into one line
of text (``str(exc)`` runs the learner's code, so it happens on this thread), and
releases ``done`` as its very last act.
"""

from __future__ import annotations

import traceback

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
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if sites.is_learner_file(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    code = f": `{f.line.strip()}`" if f.line else ""
    return f" at {sites.describe_file(f.filename)} line {f.lineno}{code}"
