"""What must never reach a learner: the hidden part of a test cell.

nbgrader marks hidden tests with ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``.
They hold the reference and naive solutions, the oracles, the random inputs and
the quiz answers, so one class's feedback must not become the next class's answer
sheet. :func:`hidden_lines` lists the code lines of those regions, so feedback can
be checked (and redacted) line by line.
"""

from __future__ import annotations

import re

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
# Shorter lines (`else:`, `return out`, `pass`) are too common to identify a hidden test.
MIN_LINE = 16
_PURE_LITERAL = re.compile(r"""^[rbuf]*("[^"]*"|'[^']*')[,)]*$""", re.I)


def split(source: str) -> tuple[str, list[str]]:
    """(the cell without its hidden regions, the lines inside them)."""
    shown, hidden, inside = [], [], False
    for line in source.split("\n"):
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            shown.append(line)
    return "\n".join(shown), hidden


def hidden_lines(source: str) -> list[str]:
    """The hidden regions' code lines that identify them: stripped, long enough, not comments or bare strings.

    Lines that also appear in the visible part of the cell are not secret and are left out.
    """
    shown, hidden = split(source)
    visible = {line.strip() for line in shown.split("\n")}
    out = []
    for line in hidden:
        text = line.strip()
        if len(text) < MIN_LINE or text.startswith("#") or text in visible or _PURE_LITERAL.match(text):
            continue
        out.append(text)
    return out


def redact(text: str, secrets: list[str]) -> str:
    """``text`` without the lines that contain one of ``secrets``."""
    if not secrets or not text:
        return text
    return "\n".join(line for line in text.split("\n") if not any(s in line for s in secrets))
