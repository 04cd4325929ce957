"""Load the measuring code privately, where the learner's code cannot rebind it.

In the grading sandbox the learner's cells run in the same process as the code
that measures them. Modules the learner can import are modules the learner can
patch, so the learner process loads a second, private copy of the measuring
modules: their source is executed into fresh module objects that are never
registered in ``sys.modules``. Those modules bind every function they use when
they load (``from os import write as _write``), so patching ``os.write`` or
``autograder.child`` later changes nothing they do; their builtins (``id``, ``len``, ``isinstance``) are a
copy taken then, so rebinding ``builtins.id`` changes nothing either. The code objects of the
private copy are returned too: the audit hook (:mod:`autograder.audit`) knows
frames running them, and refuses the learner's code a view of those frames.
"""

from __future__ import annotations

import builtins
import os
import sys
from types import CodeType, ModuleType

PACKAGE = "autograder"
HERE = os.path.dirname(os.path.abspath(__file__))


def load(names: tuple[str, ...]) -> tuple[dict[str, ModuleType], frozenset]:
    """Private copies of ``autograder.<name>`` for ``names`` (dependencies first), and their code objects.

    While they load, ``from . import x`` and ``from .x import y`` inside them find
    the private copies loaded before them; afterwards ``sys.modules`` and the
    package's attributes are exactly as they were.
    """
    package = sys.modules[PACKAGE]
    saved_modules = {n: sys.modules.get(f"{PACKAGE}.{n}") for n in names}
    saved_attributes = {n: package.__dict__.get(n) for n in names}
    sealed: dict[str, ModuleType] = {}
    codes: list[CodeType] = []
    private_builtins = dict(builtins.__dict__)  # the learner's code has not run yet
    try:
        for name in names:
            path = os.path.join(HERE, name + ".py")
            with open(path, encoding="utf-8") as f:
                code = compile(f.read(), path, "exec")
            module = ModuleType(f"{PACKAGE}.{name}")
            module.__file__ = path
            module.__package__ = PACKAGE
            module.__builtins__ = private_builtins
            sys.modules[module.__name__] = module
            setattr(package, name, module)
            exec(code, module.__dict__)
            sealed[name] = module
            _collect_codes(code, codes)
    finally:
        for name in names:
            if saved_modules[name] is None:
                sys.modules.pop(f"{PACKAGE}.{name}", None)
            else:
                sys.modules[f"{PACKAGE}.{name}"] = saved_modules[name]
            if saved_attributes[name] is None:
                package.__dict__.pop(name, None)
            else:
                setattr(package, name, saved_attributes[name])
    return sealed, frozenset(codes)


def _collect_codes(code: CodeType, out: list) -> None:
    out.append(code)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _collect_codes(const, out)
