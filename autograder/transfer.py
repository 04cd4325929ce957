"""Bring a measured call's result from the child back to the grading kernel, safely.

Unpickling can run arbitrary code (``__reduce__``), and comparing a result with
``==`` runs the result's own ``__eq__``. A learner's object could use either to
do its work -- or hang -- in the grading kernel, after the measurement. So checks
accept *plain data* only: builtin scalars and containers, rebuilt by a restricted
unpickler, and compared with exact types all the way down.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

# how a result travels back
ANY = "any"  # whatever pickles (lessons: the learner inspects their own objects)
PLAIN = "plain"  # builtin data only (correctness checks)
NONE = "none"  # not sent at all (memory checks need only the numbers)

_SCALARS = frozenset((type(None), bool, int, float, complex, str, bytes, bytearray, range))
_PLAIN_TYPES = tuple(_SCALARS) + (list, tuple, dict, set, frozenset)
_ALLOWED_GLOBALS = {
    ("builtins", t.__name__) for t in (complex, bytearray, range, set, frozenset, slice, bool, int, float, str, bytes)
} | {("autograder.sites", "AllocationSite"), ("copyreg", "_reconstructor")}


class NotPlainData(pickle.UnpicklingError):
    """The result holds something other than builtin data."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise NotPlainData(f"{module}.{name}")


def loads(data: bytes, mode: str) -> Any:
    """Unpickle a payload; with PLAIN, only builtin data and the autograder's own records."""
    if mode == ANY:
        return pickle.loads(data)
    return _PlainUnpickler(io.BytesIO(data)).load()


def plain_type_problem(value: Any, depth: int = 0) -> str | None:
    """The name of the first non-builtin type inside ``value``, or None when it is plain data."""
    if depth > 100:
        return "a structure nested more than 100 levels deep"
    if type(value) not in _PLAIN_TYPES:
        return type(value).__name__
    if type(value) in (list, tuple, set, frozenset):
        items = value
    elif type(value) is dict:
        items = [x for kv in value.items() for x in kv]
    else:
        return None
    if all(type(item) in _SCALARS for item in items):  # the common flat case, without recursion
        return None
    for item in items:
        problem = plain_type_problem(item, depth + 1)
        if problem:
            return problem
    return None


def same(result: Any, expected: Any) -> bool:
    """Equal, with exactly the same types throughout (285.0 is not 285, True is not 1)."""
    if type(result) is not type(expected):
        return False
    if type(result) in (list, tuple):
        return len(result) == len(expected) and all(same(a, b) for a, b in zip(result, expected))
    if type(result) is dict:
        return result.keys() == expected.keys() and all(same(result[k], expected[k]) for k in expected)
    return result == expected
