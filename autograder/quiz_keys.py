"""Quiz keys: a question's right answers, hashed, and its explanation, encrypted with a key derived from them.

A released quiz cell carries its key (``quiz.check_answer(q1, "Q1", key="k1...")``), so
the learner's notebook tells right from wrong at once, without a server. The key holds,
for each accepted answer, a salted hash and the explanation's content key wrapped with
a key derived from that answer: reading the notebook reveals neither the answer nor the
explanation, but an answer that is right opens both. This is feedback, not secrecy:
trying every letter finds the right one, and the hidden check stays the grade.

:func:`stamp` writes the key into a test cell from its hidden check, when nbgrader
generates the assignment (:class:`autograder.quiz_stamp.StampQuizKeys`), so ``source/``
stays the one place where answers are written.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import re
import zlib

from . import hidden

VERSION = "k1"
SALT_BYTES, CHECK_BYTES, CONTENT_BYTES = 8, 8, 16
VISIBLE_CHECK = "check_answer"
HIDDEN_CHECKS = {"check_choice": ("answer", "expected", "explanation", "question"),
                 "check_short": ("answer", "accepted", "explanation", "question", "tolerance")}


# ---------------------------------------------------------------------------------------------- canonical answers

def choice_text(answer: str) -> str:
    """A letter as compared: case, spaces, brackets and a final dot ignored ("(B)." is "b")."""
    return answer.strip().lower().strip("()[]. ")


def words_text(text: str) -> str:
    """A short text answer as compared: case, repeated spaces, backticks and a final dot ignored."""
    return " ".join(text.lower().replace("`", "").split()).strip(" .")


def short_text(answer) -> str | None:
    """A short answer as hashed: "w:" and its words for text, "n:" and the float's repr for a number."""
    if type(answer) is str:
        return "w:" + words_text(answer)
    if type(answer) in (int, float):
        return "n:" + repr(float(answer))
    return None


# ---------------------------------------------------------------------------------------------- keys

def _derive(label: bytes, salt: bytes, text: str, size: int) -> bytes:
    return hashlib.sha256(label + b"\0" + salt + b"\0" + text.encode("utf-8")).digest()[:size]


def _xor(data: bytes, key: bytes) -> bytes:
    stream = b"".join(hashlib.sha256(key + i.to_bytes(4, "big")).digest() for i in range(len(data) // 32 + 1))
    return bytes(a ^ b for a, b in zip(data, stream))


def make_key(accepted: list[str], explanation: str, question: str) -> str:
    """The key of a question whose right answers are ``accepted`` (canonical texts); deterministic."""
    if not accepted or len(accepted) > 255:
        raise ValueError("a key needs between 1 and 255 accepted answers")
    salt = _derive(b"salt", b"", f"{question}\0{explanation}", SALT_BYTES)  # deterministic: generation is reproducible
    content = _derive(b"content", salt, "\0".join(sorted(accepted)), CONTENT_BYTES)
    entries = b"".join(_derive(b"check", salt, a, CHECK_BYTES)
                       + _xor(content, _derive(b"wrap", salt, a, CONTENT_BYTES)) for a in accepted)
    sealed = _xor(zlib.compress(explanation.encode("utf-8"), 9), content)
    return VERSION + base64.b85encode(salt + bytes([len(accepted)]) + entries + sealed).decode("ascii")


def open_key(key: str, answer: str | None) -> str | None:
    """The explanation if ``answer`` (canonical text) is right, else None; ValueError for a key that is not one."""
    if not isinstance(key, str) or not key.startswith(VERSION):
        raise ValueError("not a quiz key")
    if answer is None:
        return None
    try:
        blob = base64.b85decode(key[len(VERSION):])
        salt, count = blob[:SALT_BYTES], blob[SALT_BYTES]
        entry = CHECK_BYTES + CONTENT_BYTES
        start = SALT_BYTES + 1
        for i in range(count):
            record = blob[start + i * entry:start + (i + 1) * entry]
            if record[:CHECK_BYTES] == _derive(b"check", salt, answer, CHECK_BYTES):
                content = _xor(record[CHECK_BYTES:], _derive(b"wrap", salt, answer, CONTENT_BYTES))
                return zlib.decompress(_xor(blob[start + count * entry:], content)).decode("utf-8")
    except (ValueError, IndexError, zlib.error) as exc:
        raise ValueError(f"a damaged quiz key: {exc}") from None
    return None


# ---------------------------------------------------------------------------------------------- test cells

def hidden_check(source: str) -> dict | None:
    """The one quiz check of a test cell's hidden part, as {"check", "expected"/"accepted", "explanation", ...}."""
    _, lines = hidden.split(source)
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in HIDDEN_CHECKS:
            names = HIDDEN_CHECKS[_name(node.func)]
            args = {names[i]: a for i, a in enumerate(node.args) if i < len(names)}
            args.update({k.arg: k.value for k in node.keywords if k.arg})
            try:  # only literal answers and explanations can be hashed at generation
                call = {k: ast.literal_eval(v) for k, v in args.items() if k != "answer"}
                found.append({"check": _name(node.func), "answer": ast.unparse(args["answer"]), **call})
            except (ValueError, KeyError, TypeError, SyntaxError):
                found.append(None)
    return found[0] if len(found) == 1 else None


def key_for(check: dict) -> str | None:
    """The key of a hidden check, or None when its answers cannot be hashed honestly (a numeric tolerance)."""
    question = check.get("question", "this question")
    if check["check"] == "check_choice":
        return make_key([choice_text(check["expected"])], check["explanation"], question)
    accepted = check["accepted"] if isinstance(check["accepted"], (list, tuple, set)) else [check["accepted"]]
    if check.get("tolerance", 0) and any(type(a) in (int, float) for a in accepted):
        return None
    texts = sorted({short_text(a) for a in accepted if short_text(a) is not None})
    return make_key(texts, check["explanation"], question) if texts else None


def visible_key(source: str) -> str | None:
    """The key the visible ``check_answer`` call of a test cell carries, if any."""
    call = _visible_call(source)
    if call is None:
        return None
    keys = [k.value for k in call[1].keywords if k.arg == "key"]
    return ast.literal_eval(keys[0]) if keys else None


def stamp(source: str, with_key: bool = True) -> str:
    """``source`` with its visible ``check_answer(...)`` carrying the key of its hidden check.

    Without ``with_key``, or when no key can be made honestly, the call carries no key. Cells without
    exactly one visible ``check_answer`` and one hidden quiz check are returned unchanged.
    """
    found = _visible_call(source)
    check = hidden_check(source) if found else None
    if check is None:
        return source
    (index, call, line) = found
    key = key_for(check) if with_key else None
    parts = [ast.get_source_segment(line.strip(), a) for a in call.args]
    parts += [ast.get_source_segment(line.strip(), k) for k in call.keywords if k.arg != "key"]
    if key is not None:
        parts.append(f'key="{key}"')
    func = ast.get_source_segment(line.strip(), call.func)
    indent = line[:len(line) - len(line.lstrip())]
    lines = source.split("\n")
    lines[index] = f"{indent}{func}({', '.join(parts)})"
    return "\n".join(lines)


def _name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


_CALL_LINE = re.compile(rf"\b{VISIBLE_CHECK}\(")


def _visible_call(source: str):
    """(line index, the ast.Call, the line) of the one visible one-line ``check_answer`` call, or None."""
    found, inside = [], False
    for index, line in enumerate(source.split("\n")):
        if hidden.BEGIN in line or hidden.END in line:
            inside = hidden.BEGIN in line
            continue
        if inside or not _CALL_LINE.search(line):
            continue
        try:
            tree = ast.parse(line.strip())
        except SyntaxError:
            continue
        if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Call) \
                and _name(tree.body[0].value.func) == VISIBLE_CHECK:
            found.append((index, tree.body[0].value, line))
    return found[0] if len(found) == 1 else None
