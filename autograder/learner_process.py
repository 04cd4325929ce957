"""The learner's process in the grading sandbox: ``python -m autograder.learner_process``.

Started by the grader (:mod:`autograder.remote`), usually inside bubblewrap
(:mod:`autograder.sandbox`), with its channel on file descriptors 0 (requests) and
1 (answers). Before any of the learner's code runs it reads its start-up message
(the signing key among it), loads what graded notebooks use, loads the measuring
code privately (:mod:`autograder.seal`), installs the audit hook
(:mod:`autograder.audit`) and hands the main thread to the private server loop
(:mod:`autograder.learner_server`), which never returns.
"""

from __future__ import annotations

import os
import pickle
import sys

# The private copy of the measuring code, dependencies first.
SEALED = ("units", "transfer", "tamper", "leak_probes", "child", "shipping", "audit", "learner_server")
# Loaded before the learner's code: their import-time work (ctypes, font caches, subprocesses) is done by then,
# and the probes a test ships can name them without importing anything in the measured child.
PRELOAD = ("array", "bisect", "collections", "contextlib", "copy", "csv", "ctypes", "dataclasses", "functools",
           "gc", "hashlib", "heapq", "io", "itertools", "json", "math", "mmap", "operator", "os", "random", "re",
           "statistics", "string", "struct", "sys", "tempfile", "threading", "time", "tracemalloc", "types",
           "typing", "weakref", "numpy", "objgraph", "memory_profiler", "psutil")
# Loaded as well when a cell the grader runs imports the package named (anywhere in the cell, functions included):
# each costs 0.2-0.3 s per notebook. pandas imports pyarrow's parts lazily, at first use: inside a measured call.
_PYARROW = ("pyarrow", "pyarrow.pandas_compat", "pyarrow.vendored.version")
PRELOAD_WHEN_IMPORTED = {
    "matplotlib": ("matplotlib", "matplotlib.pyplot"),
    "pandas": ("pandas", *_PYARROW),
    "pyarrow": _PYARROW,
}
REQUESTS_FD, ANSWERS_FD = 0, 1


def _read_hello(fd: int) -> dict:
    header = b""
    while len(header) < 8:
        chunk = os.read(fd, 8 - len(header))
        if not chunk:
            raise SystemExit("no start-up message")
        header += chunk
    size = int.from_bytes(header, "big")
    body = b""
    while len(body) < size:
        chunk = os.read(fd, size - len(body))
        if not chunk:
            raise SystemExit("start-up message cut short")
        body += chunk
    return pickle.loads(body)


def preload_for(sources: list[str]) -> list[str]:
    """The modules of PRELOAD_WHEN_IMPORTED that cells with these sources import (all of them when a cell
    cannot be read as Python)."""
    import ast

    from .lessons import python_source

    packages = set()
    for source in sources:
        try:
            tree = ast.parse(python_source(source))
        except SyntaxError:
            packages = set(PRELOAD_WHEN_IMPORTED)
            break
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                packages.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                packages.add(node.module.split(".")[0])
    return list(dict.fromkeys(m for p in sorted(packages & set(PRELOAD_WHEN_IMPORTED))
                              for m in PRELOAD_WHEN_IMPORTED[p]))


def _preload(extra=()) -> None:
    import importlib

    for name in (*PRELOAD, *extra):
        try:
            importlib.import_module(name)
        except Exception:
            pass  # a package the course does not install: the learner's import will say so


def _refuse_unaudited() -> None:
    """What no audit event covers, replaced before the learner's first cell (the fresh copies of these
    modules a learner could import are refused by the audit hook).

    memfd_create: storage there is memory neither tracemalloc nor the grader can see. Trace and profile
    functions for all threads (3.12+) would run in the grader's own thread and receive its frames.
    """
    def refusing(what: str, why: str):
        def refused(*args, **kwargs):
            raise PermissionError(f"{what} is not allowed in graded code: {why}")
        return refused

    import posix

    for module in (os, posix):
        if hasattr(module, "memfd_create"):
            module.memfd_create = refusing("memfd_create", "memory it holds is invisible to tracemalloc")
    for name in ("_settraceallthreads", "_setprofileallthreads"):
        if hasattr(sys, name):
            setattr(sys, name, refusing(f"sys.{name}", "it would reach the grader's frames"))


def main() -> None:
    """Start the learner's process: never returns."""
    requests = os.dup(REQUESTS_FD)
    answers = os.dup(ANSWERS_FD)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # the learner's prints go to its cells' outputs, never into the channel
        os.dup2(devnull, fd)
    hello = _read_hello(requests)
    key = hello["key"]
    os.chdir(hello["cwd"])
    sys.path.insert(0, hello["cwd"])
    _preload(hello.get("preload", ()))
    from . import cells, measurement

    shell = cells.make_shell()
    # The learner's own calls of measure() (lessons, exploring) do not count for the grade: they run unmeasured.
    measurement.stub_measure(measurement.unmeasured)
    _refuse_unaudited()
    from . import seal

    sealed, codes = seal.load(SEALED)
    sealed["child"].inherit_output(cells.streams().values())
    files = [m.__file__ for m in sealed.values()]
    sealed["audit"].install(codes, files)
    sealed["learner_server"].serve(requests, answers, key, shell, shell.user_ns, cells.run)


if __name__ == "__main__":
    main()
