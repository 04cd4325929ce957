"""Tell the learner (and the instructor's tools) what a check found.

Every check ends in :func:`emit`: one readable line in the notebook, a chart for
memory checks, and a machine-readable record (MIME type :data:`MIME`, JSON) that
reports can be built from without parsing text. Set ``AUTOGRADER_RESULTS=/path/file.jsonl`` to also
append each record to a file (the cross-version table uses this).
"""

from __future__ import annotations

import base64
import json
import os
import sys
from typing import Any

from .units import format_bytes

MIME = "application/vnd.python-memory.check+json"
RESULTS_ENV = "AUTOGRADER_RESULTS"
CHARTS_ENV = "AUTOGRADER_CHARTS"  # "0" turns the charts off


# Set by the trusted grader: where a check's outputs go (instead of IPython's display), and what every record
# names (student, assignment, notebook, the seed of the hidden inputs).
_PUBLISHER = None
CONTEXT: dict = {}


def set_publisher(publish) -> None:
    """Send checks' outputs to ``publish(bundle, raw=True, metadata=None)`` (the grader), or back to IPython (None)."""
    global _PUBLISHER
    _PUBLISHER = publish


class CheckFailed(AssertionError):
    """A learner's code missed a target: the first line says why, the rest how to act on it."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback, wherever it shows the exception (kernel, terminal, %run)
        from .display import check_failed_traceback

        return check_failed_traceback(self)


class TargetError(RuntimeError):
    """The instructor's reference or naive solution failed: a bug in the test cell, not the learner's."""


def record(exercise: str, check: str, verdict: str, **fields: Any) -> dict:
    """A machine-readable result: what was checked, the verdict and the numbers behind it."""
    rec = {"exercise": exercise, "check": check, "verdict": verdict}
    rec.update(fields)
    rec["python"] = sys.version.split()[0]
    rec.update(CONTEXT)
    return rec


def emit(rec: dict, text: str, raising: bool = False) -> None:
    """Show ``text`` in the notebook (stdout only) and publish ``rec`` for tools.

    ``raising``: a CheckFailed with the same message follows. Where there is no notebook to keep the
    record and chart (plain Python, IPython in a terminal), the exception alone says it, once.
    """
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
    display = _PUBLISHER or _ipython_display()
    if display is None:
        if not raising:
            print(text)
        return
    display({MIME: rec, "text/plain": text}, raw=True)
    if os.environ.get(CHARTS_ENV, "1") != "0":
        from .charts import chart_png

        png = chart_png(rec)
        if png:
            display({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<memory chart>"},
                    metadata={"image/png": {"alt": chart_alt(rec)}}, raw=True)


def chart_alt(rec: dict) -> str:
    """The alternative text of a memory check's chart: what it shows, in words."""
    if rec.get("check") == "scaling":
        small, big = rec["sizes"]
        peaks = rec["measured"]
        return (f"chart of {rec['exercise']}'s peak memory against n: {format_bytes(peaks[0])} at n={small:,}, "
                f"{format_bytes(peaks[1])} at n={big:,}, limit {format_bytes(rec['target'])}")
    others = "".join(f", {name} {format_bytes(rec[name])}" for name in ("reference", "naive") if rec.get(name) is not None)
    return (f"chart of {rec['exercise']}'s {rec['check']} memory: yours {format_bytes(rec['measured'])}, "
            f"target {format_bytes(rec['target'])}{others}")


def fail(rec: dict, message: str, shown: str | None = None) -> None:
    """Publish a failed check and raise it: ``shown`` (default: the first line) in the notebook, ``message`` raised."""
    __tracebackhide__ = True
    emit(rec, "✗ " + (shown or message.splitlines()[0]), raising=True)
    raise CheckFailed(message)


def _ipython_display():
    """IPython's display where outputs are kept (a kernel, the grader's shell); None elsewhere, a terminal included."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or any(cls.__name__ == "TerminalInteractiveShell" for cls in type(shell).__mro__):
        return None  # a terminal would print the record's text and "<memory chart>" before the exception
    return display


def sites_text(sites, heading: str = "where your code held memory at the peak:") -> str:
    """Indented lines naming where the learner's code held memory."""
    if not sites:
        return ""
    lines = [heading]
    top = sites[0].size
    for s in sites:
        if s.size < top / 50:  # a line holding 2 % of the top one is noise, usually the test's own
            break
        code = f": {s.code}" if s.code else ""
        blocks = "block" if s.count == 1 else "blocks"
        lines.append(f"  {format_bytes(s.size):>10} in {s.count:,} {blocks}  {s.where}{code}")
    return "\n".join(lines)


def output_text(output: str) -> str:
    if not output.strip():
        return ""
    tail = output.strip().splitlines()[-5:]
    return "it printed (last lines):\n" + "\n".join("  " + line for line in tail)


def short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
