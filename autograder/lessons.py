"""Which lesson cells a graded run must execute: only those a later cell needs.

Three quarters of autograding time used to go to lesson cells that no test uses.
Every lesson code cell of a released notebook carries a stamp (``metadata.autograder.lesson``,
a hash of its source, written when the assignment is generated). While grading, a
stamped cell whose source still matches its stamp is the instructor's, unchanged;
it is skipped unless a cell that runs -- a solution, a test, a locked cell, a cell
the learner added or edited, or another lesson cell that runs -- uses a name it
binds. The analysis reads names statically (function bodies included, so it errs
on the side of running a cell); a lesson with ``from x import *`` counts as binding
every name. An instructor can force a lesson cell to run with
``metadata.autograder.grading = "run"``.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import symtable

STAMP_KEY = "autograder"
_BUILTINS = frozenset(dir(builtins))
ANY = "*"


def stamp(source: str) -> str:
    """The stamp of a lesson cell's source."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def is_lesson(cell: dict) -> bool:
    """A code cell that nbgrader does not grade, lock or expect a solution in."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and not (meta.get("grade") or meta.get("solution") or meta.get("locked"))


def stamp_cell(cell: dict) -> None:
    """Stamp a lesson cell with its source's hash (what generate_assignment does)."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    cell.setdefault("metadata", {}).setdefault(STAMP_KEY, {})["lesson"] = stamp(source)


def stamp_notebook(notebook: dict) -> dict:
    """Stamp every lesson cell of ``notebook`` in place (and return it)."""
    for cell in notebook.get("cells", []):
        if is_lesson(cell):
            stamp_cell(cell)
    return notebook


def unchanged_lesson(cell: dict, source: str) -> bool:
    """True for a stamped lesson cell whose source is still the instructor's."""
    meta = cell.get("metadata", {}).get(STAMP_KEY, {})
    return isinstance(meta, dict) and meta.get("lesson") == stamp(source) and meta.get("grading") != "run"


def names(source: str) -> tuple[set, set]:
    """(names the cell binds at top level, global names it reads anywhere) -- (∅, {ANY}) when it cannot be parsed.

    A function's parameters and local variables are not global reads (Python's own symbol tables say which
    names are local), so a test's ``def f(values)`` does not need a lesson's ``values``.
    """
    code = python_source(source)
    tree = _parse(source)
    if tree is None:
        return set(), {ANY}
    bound = set()
    for node in tree.body:
        bound |= _top_bindings(node)
    try:
        table = symtable.symtable(code, "<cell>", "exec")
    except SyntaxError:
        return bound, {ANY}
    used = set()
    _global_reads(table, used, top=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and _reads_any_name(node):
            used.add(ANY)
    return bound, used - _BUILTINS


def _global_reads(table, out: set, top: bool) -> None:
    for symbol in table.get_symbols():
        if not symbol.is_referenced():
            continue
        if top or table.get_type() == "class":
            if not symbol.is_imported():
                out.add(symbol.get_name())  # module and class bodies read globals unless they bound the name first
        elif symbol.is_global() or symbol.is_declared_global():
            out.add(symbol.get_name())
    for child in table.get_children():
        _global_reads(child, out, top=False)


def needed(cells: list[tuple[str, bool]]) -> list[bool]:
    """For each (source, is an unchanged lesson) in notebook order: must the cell run?

    Cells that are not unchanged lessons always run; an unchanged lesson runs when a
    running cell after it reads a name it was the last to bind before that cell --
    unless the lesson only imports again what an earlier running cell imported under
    that name (a lesson's own ``import sys``).
    """
    analysed = [names(source) for source, _ in cells]
    imports = [import_bindings(source) for source, _ in cells]
    run = [not lesson for _, lesson in cells]
    changed = True
    while changed:  # a lesson that runs may in turn need earlier lessons
        changed = False
        for i, (_, used) in enumerate(analysed):
            if not run[i]:
                continue
            for name in used:
                for j in range(i - 1, -1, -1):
                    bound = analysed[j][0]
                    if not (name in bound or ANY in bound or name == ANY):
                        continue
                    if not run[j] and not _imported_earlier(name, j, imports, run):
                        run[j] = changed = True
                    if name in bound:
                        break
    return run


def _imported_earlier(name: str, j: int, imports: list, run: list) -> bool:
    """Whether cell j's binding of ``name`` is an import that a running cell before it made the same way."""
    mine = imports[j].get(name)
    return mine is not None and any(run[k] and imports[k].get(name) == mine for k in range(j))


def import_bindings(source: str) -> dict:
    """name -> what a top-level import binds to it ("sys", "collections.deque"), for the cell's imports."""
    tree = _parse(source)
    out: dict = {}
    for node in tree.body if tree is not None else ():
        if isinstance(node, ast.Import):
            for alias in node.names:
                out[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def _reads_any_name(call: ast.Call) -> bool:
    """globals(), locals(), vars() without an argument, eval and exec: names no parser can see."""
    name = call.func.id
    return name in ("globals", "eval", "exec") or (name in ("locals", "vars") and not call.args)


def _parse(source: str):
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def python_source(source: str) -> str:
    """The cell as plain Python: IPython's magics turned into calls, as IPython itself does."""
    if "%" not in source and "!" not in source:
        return source
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _top_bindings(node) -> set:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        out = set()
        for alias in node.names:
            if alias.name == "*":
                out.add(ANY)
            else:
                out.add((alias.asname or alias.name).split(".")[0])
        return out
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    out = set()
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                out.add(sub.id)
    # assignments nested in if/for/while/try/with blocks at top level bind too
    if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith)):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                out |= _top_bindings(child)
    if isinstance(node, ast.Delete):
        for target in node.targets:
            if isinstance(target, ast.Name):
                out.add(target.id)
    return out
