"""The trusted grader: run one submitted notebook the way a kernel would, with verdicts out of the learner's reach.

``python -m autograder.grader`` reads a job (the notebook and how to grade it) as
JSON on stdin and writes the notebook's new outputs as JSON on stdout. The
nbgrader preprocessor :class:`autograder.nbgrader_hooks.GradeInSandbox` and the
self-study grader use it; so do the course's own tests.

Two processes share the work. The learner's process (:mod:`autograder.remote`),
sandboxed, runs every cell the learner could have written or changed -- solution
cells, lessons, added cells -- in notebook order, and its outputs become those
cells' outputs. This process, which never runs the learner's code, runs the setup
cell and the test cells (restored by nbgrader from its database): hidden inputs
are drawn here, from a recorded seed; reference and naive solutions run here, in
children of this process; expected values are computed here; and every check that
needs the learner's code asks the learner's process to measure a call, by name.
A name the learner bound is visible to a test cell as a plain value (a quiz answer)
or as a reference into the learner's process; it never hides a name the setup or
a test cell bound (a learner's ``from array import array`` cannot break a test).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from . import learner_process, lessons, measurement, reference_cache, remote, report, sandbox
from .report import CheckFailed
from .shipping import GRADER_MODULE, LearnerName, ShippingError

SEED_ENV = "AUTOGRADER_SEED"
SKIP_LESSONS_ENV = "AUTOGRADER_SKIP_LESSONS"  # "0" runs every lesson cell too (to compare, or to debug a test)
RED, RESET = "\x1b[0;31m", "\x1b[0m"
TEST, TRUSTED, LEARNER = "test", "trusted", "learner"


class CellTimeout(Exception):
    """A test cell ran longer than the per-cell timeout."""


def source_of(cell) -> str:
    """A cell's source as one string (notebook files may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def classify(cell) -> str:
    """TEST (an autograded test cell), TRUSTED (a locked cell that is no test), or LEARNER (everything else)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return TEST
    if meta.get("locked") and not meta.get("solution"):
        return TRUSTED
    return LEARNER


def new_seed() -> int:
    """The seed of this grading run's hidden inputs: AUTOGRADER_SEED, or a fresh one (recorded in every check)."""
    given = os.environ.get(SEED_ENV, "").strip()
    return int(given) if given else random.SystemRandom().randrange(10**9)


class _SeededRandom(random.Random):
    """``random.Random()`` in a test cell: seeded from the cell's seed, so hidden inputs can be replayed."""

    def __init__(self, x=None):
        super().__init__(_GLOBAL.getrandbits(64) if x is None else x)


_GLOBAL = random.Random()


class Grader:
    """Grade one notebook: see the module docstring."""

    def __init__(self, cells: list, *, cwd: Path, scratch: Path, timeout: float, sandboxed: bool,
                 seed: int, context: dict, skip_lessons: bool = True, only_tests: tuple = ()):
        self.cells = cells
        self.skip_lessons = skip_lessons
        self.only_tests = tuple(only_tests)
        self.timeout = timeout
        self.seed = seed
        self.learner = remote.LearnerProcess(cwd, scratch, sandboxed=sandboxed,
                                             pythonpath=os.environ.get("PYTHONPATH"))
        self.namespace: dict = {"__name__": GRADER_MODULE, "__builtins__": builtins}
        self.trusted_names: set = set()
        self.view: dict = {}  # what the learner's cells bound: plain values, or LearnerName references
        self.bound: set = set()  # the names of self.view copied into the namespace for the last test cell
        self.broken: dict = {}  # name -> the error of the learner's cell that should have bound it
        self.count = 0
        report.CONTEXT.clear()
        report.CONTEXT.update({k: v for k, v in context.items() if v}, seed=seed)

    def run(self) -> list:
        """Every code cell's (execution count, outputs), in order; None for cells not run."""
        results = []
        code = [(i, c) for i, c in enumerate(self.cells) if c.get("cell_type") == "code"]
        flags = lessons.needed([(source_of(c), self.skip_lessons and classify(c) == LEARNER
                                 and lessons.unchanged_lesson(c, source_of(c))) for _, c in code])
        runs = {i for (i, c), run in zip(code, flags) if run and self._wanted(c)}
        self.skipped = len(code) - len(runs)
        self.learner.preload = learner_process.preload_for([source_of(c) for i, c in code if i in runs])
        measurement.route_learner_calls(self.learner.measure)
        self._seed_random()
        try:
            for index, cell in enumerate(self.cells):
                if cell.get("cell_type") != "code" or index not in runs:
                    results.append(None if cell.get("cell_type") != "code" else (None, []))
                    continue
                self.count += 1
                kind = classify(cell)
                if kind == TEST:
                    outputs = self._test(cell)
                else:
                    outputs = self._learner_side(index, cell, trusted=kind == TRUSTED)
                results.append((self.count, outputs))
        finally:
            measurement.route_learner_calls(None)
            self.learner.stop()
        return results

    def _wanted(self, cell) -> bool:
        """Whether a test cell is among ``only_tests`` (all cells are, without that option)."""
        if not self.only_tests or classify(cell) != TEST:
            return True
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        return any(name in grade_id for name in self.only_tests)

    def _seed_random(self) -> None:
        random.Random = _SeededRandom  # this process runs only the instructor's code

    # ------------------------------------------------------------------ learner's side

    def _learner_side(self, index: int, cell, trusted: bool) -> list:
        source = source_of(cell)
        if trusted:
            # the setup cell and locked cells: the test cells may use what they define (the learner's copy may
            # have been rebound since); their shown outputs come from the learner's process, as in a kernel
            self._exec_trusted(source, f"<locked cell {index}>")
        status, outputs, names = self.learner.run_cell(index, source, self.timeout)
        errors = [o for o in outputs if o.get("output_type") == "error"]
        failure = None
        if errors:
            first = (str(errors[0].get("evalue", "")).splitlines() or [""])[0]
            failure = f"{errors[0].get('ename')}: {first}"
        for name in lessons.names(source)[0]:
            if failure:
                self.broken[name] = failure
            else:
                self.broken.pop(name, None)
        for name, described in names.items():
            if described[0] == "plain":
                self.view[name] = described[1]
            elif described[0] == "object":
                self.view[name] = LearnerName(name, described[1])
            else:
                self.view.pop(name, None)
        return outputs

    def _exec_trusted(self, source: str, filename: str) -> None:
        before = {k: id(v) for k, v in self.namespace.items()}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                exec(compile(_without_magics(source), filename, "exec"), self.namespace)
            except Exception:
                pass  # its failure shows in the learner's process, which runs the same cell
        self._note_trusted(before)

    def _note_trusted(self, before: dict) -> None:
        for name, value in self.namespace.items():
            if before.get(name) != id(value) and not isinstance(value, LearnerName):
                self.trusted_names.add(name)

    # ------------------------------------------------------------------ test cells

    def _test(self, cell) -> list:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "test")
        self._sync_view()
        _GLOBAL.seed(f"{self.seed}/{grade_id}")
        random.seed(f"{self.seed}/{grade_id}")
        outputs: list = []

        def publish(bundle, raw=True, metadata=None):
            outputs.append({"output_type": "display_data", "data": dict(bundle), "metadata": dict(metadata or {})})

        report.set_publisher(publish)
        stdout, stderr = io.StringIO(), io.StringIO()
        before = {k: id(v) for k, v in self.namespace.items()}
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        value = error = None
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                value = _exec_cell(source_of(cell), f"<test cell {grade_id}>", self.namespace,
                                   lambda: _flush(stdout, outputs))
        except BaseException as exc:  # every failure is the cell's, reported as nbgrader expects
            error = exc
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            report.set_publisher(None)
        self._note_trusted(before)
        _flush(stdout, outputs)
        if stderr.getvalue():
            outputs.append({"output_type": "stream", "name": "stderr", "text": stderr.getvalue()})
        if error is not None:
            outputs.append(_error_output(error, self.seed, self._hint(error)))
        elif value is not None:
            outputs.append({"output_type": "execute_result", "execution_count": self.count,
                            "data": {"text/plain": repr(value)}, "metadata": {}})
        return outputs

    def _hint(self, error: BaseException) -> str:
        """For a name the test needs and the notebook does not define: why, in one line."""
        name = getattr(error, "name", None)
        if not isinstance(error, NameError) or not name:
            return ""
        if name in self.broken:
            return f"the cell that defines {name} failed ({self.broken[name]}): fix it and run it again"
        return f"write {name} in its exercise cell and run that cell (the tests need it)"

    def _sync_view(self) -> None:
        """Show the test cell the learner's names -- except where the setup or a test cell bound the name."""
        for name in self.bound - set(self.view):
            if name not in self.trusted_names:
                self.namespace.pop(name, None)  # the learner deleted it since
        self.bound = set()
        for name, value in self.view.items():
            if name not in self.trusted_names:
                self.namespace[name] = value
                self.bound.add(name)


def _flush(stdout: io.StringIO, outputs: list) -> None:
    """Move what the cell printed so far into its outputs, keeping prints and displays in order."""
    text = stdout.getvalue()
    if text:
        if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1].get("name") == "stdout":
            outputs[-1]["text"] += text
        else:
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        stdout.seek(0)
        stdout.truncate()


def _alarm(signum, frame):
    raise CellTimeout()


def _exec_cell(source: str, filename: str, namespace: dict, flush):
    """Run a test cell like IPython: statements, then the value of a final expression (nbgrader's partial credit)."""
    tree = ast.parse(_without_magics(source), filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), namespace)
    flush()
    return eval(compile(last, filename, "eval"), namespace) if last is not None else None


def _without_magics(source: str) -> str:
    """Test and setup cells are plain Python; a line magic in one is a bug the cross-version check reports."""
    return source


def _error_output(exc: BaseException, seed: int, hint: str = "") -> dict:
    """An error output that names the failure and never quotes the (hidden) test code."""
    if isinstance(exc, CellTimeout):
        name, value = "CellTimeoutError", "the test cell did not finish in time"
    else:
        name, value = type(exc).__name__, str(exc)
    lines = (value.splitlines() or [""]) + ([hint] if hint else [])
    if isinstance(exc, CheckFailed):
        lines.append(f"(hidden inputs drawn with seed {seed}: {SEED_ENV}={seed} replays them)")
    return {"output_type": "error", "ename": name, "evalue": "\n".join(lines),
            "traceback": [f"{RED}{name}{RESET}: {lines[0]}", *lines[1:]]}


def grade(job: dict) -> dict:
    """Grade ``job["notebook"]`` (nbformat JSON); return {"cells": [[count, outputs] or None, ...], ...}."""
    sandboxed = sandbox.require() if job.get("sandbox", "auto") != "off" else False
    cwd = Path(job["cwd"]).resolve()
    with tempfile.TemporaryDirectory(prefix="autograder-", dir=job.get("scratch_root")) as tmp:
        scratch = Path(tmp).resolve()
        work = scratch / "work"
        _copy_tree(cwd, work)
        # files a test cell writes must be readable in the sandbox (where they are read-only)
        os.environ["TMPDIR"] = str(scratch / remote.GRADER_TMP)
        (scratch / remote.GRADER_TMP).mkdir()
        tempfile.tempdir = None
        os.chdir(work)
        if sandboxed and os.environ.get(reference_cache.ENV):  # unsandboxed, learner code could reach the cache
            reference_cache.enable(os.environ[reference_cache.ENV])
        grader = Grader(job["notebook"]["cells"], cwd=work, scratch=scratch, timeout=float(job.get("timeout", 300)),
                        sandboxed=sandboxed, seed=job.get("seed") or new_seed(), context=job.get("context", {}),
                        skip_lessons=job.get("skip_lessons", os.environ.get(SKIP_LESSONS_ENV, "1") != "0"),
                        only_tests=job.get("only_tests", ()))
        cells = grader.run()
        return {"cells": cells, "seed": grader.seed, "sandboxed": sandboxed, "restarts": grader.learner.restarts,
                "skipped": grader.skipped,
                "log": grader.learner.log_tail() if grader.learner.restarts else ""}


def _copy_tree(src: Path, dest: Path) -> None:
    import shutil

    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"), symlinks=False)


def run_in_subprocess(job: dict, *, python: str = sys.executable, env: dict | None = None,
                      timeout: float | None = None) -> dict:
    """Grade ``job`` with ``python -m autograder.grader`` (a fresh process: test cells leave nothing behind here)."""
    with tempfile.TemporaryDirectory(prefix="autograder-result-") as tmp:
        result_path = os.path.join(tmp, "result.json")
        proc = subprocess.run([python, "-m", "autograder.grader"], input=json.dumps({**job, "result": result_path}),
                              text=True, capture_output=True, timeout=timeout, env=env)
        if proc.returncode != 0 or not os.path.exists(result_path):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            raise RuntimeError("the grader failed on this notebook:\n" + "\n".join(tail))
        with open(result_path, encoding="utf-8") as f:
            return json.load(f)


def failures(notebook: dict, result: dict) -> dict:
    """grade_id -> the first line of its error, for every test cell that failed."""
    failed = {}
    for cell, entry in zip(notebook["cells"], result["cells"]):
        if entry is None or classify(cell) != TEST:
            continue
        errors = [o for o in entry[1] if o.get("output_type") == "error"]
        if errors:
            grade_id = cell["metadata"]["nbgrader"]["grade_id"]
            failed[grade_id] = f"{errors[0]['ename']}: {errors[0]['evalue']}"
    return failed


def main() -> int:
    """Read a job from stdin; write the result to the job's ``result`` path (stdout may carry stray prints)."""
    job = json.load(sys.stdin)
    result = grade(job)
    with open(job["result"], "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
