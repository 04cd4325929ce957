"""Progress at a glance: every chapter's exercises and questions -- passed, failed or not tried -- and your memory
figures against their targets, read from your own notebooks in ``workspace/``.

    python -m autograder.progress [--course DIR] [--chart FILE]         (`make progress`)
    from autograder import progress; progress.show()                    (a cell of the start page)

An exercise or question whose answer cell is still as released is *not tried* and is not graded. Each
notebook with a tried one is graded by the trusted grader (:mod:`autograder.grader`) from a temporary copy
of its folder: your notebooks are only read. In the course repository the hidden tests come from
``source/``, as in ``make grade``; a student's install has no ``source/``, so the visible tests decide
there (the instructor's grading adds hidden inputs). Results are cached by content
(``~/.cache/python-memory/progress.json``), so only notebooks changed since the last look are graded again.
No account and no server are involved.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import progress_chart, sandbox
from .report import MIME
from .units import format_bytes

PASSED, FAILED, NOT_TRIED = "passed", "failed", "not tried"
MARKS = {PASSED: "✓", FAILED: "✗", NOT_TRIED: "·"}
PACKAGE = Path(__file__).resolve().parent
QUESTION = re.compile(r"q\d+", re.I)
DATED_COPY = re.compile(r"-updated-\d{4}-\d{2}-\d{2}(-\d+)?$")  # a newer release put beside the learner's copy
# what each memory check measures, in words, for the chart and the table
FIGURES = {"peak": "peak", "retained": "retained", "scaling": "peak at the larger n", "freed": "left after freeing",
           "no_growth": "growth over the longer window"}


@dataclass
class Item:
    """One exercise or quiz question: its answer cell and the test cells after it."""

    name: str
    question: bool
    tests: list[str]
    points: float
    status: str = NOT_TRIED
    earned: float = 0.0
    message: str = ""  # the first line of the first failure
    figures: list[dict] = field(default_factory=list)  # memory checks' records: check, measured, target, verdict


@dataclass
class Chapter:
    """One assignment folder of the workspace (``notebook`` None when it is not there yet)."""

    id: str
    title: str
    notebook: Path | None
    items: list[Item] = field(default_factory=list)
    newer: list[str] = field(default_factory=list)  # newer releases put beside the learner's copy (make update)

    @property
    def number(self) -> str:
        """The chapter's number, as in "04-lazy-evaluation" -> "4"."""
        return self.id.split("-")[0].lstrip("0") or self.id

    @property
    def points(self) -> tuple[float, float]:
        return sum(i.earned for i in self.items), sum(i.points for i in self.items)


# ------------------------------------------------------------------------------------------------ reading notebooks

def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_test(cell: dict) -> bool:
    return bool(_meta(cell).get("grade")) and not _meta(cell).get("solution")


def untouched(cell: dict) -> bool:
    """Whether an answer cell is exactly as released: nbgrader stored the checksum of the released cell."""
    from nbgrader.utils import compute_checksum  # nbgrader is installed wherever the notebooks are

    stored = _meta(cell).get("checksum")
    return stored is not None and compute_checksum(_nbformat(cell)) == stored


def _nbformat(cell: dict):
    import nbformat

    return nbformat.from_dict({**cell, "source": _source(cell)})  # a file may store the source as a list of lines


def items_of(cells: list[dict]) -> list[Item]:
    """Each answer cell with the test cells that follow it, up to the next answer cell."""
    items: list[Item] = []
    for cell in cells:
        meta = _meta(cell)
        if cell.get("cell_type") == "code" and meta.get("solution"):
            name = meta.get("grade_id", "?")
            items.append(Item(name=name.upper() if QUESTION.fullmatch(name) else name,
                              question=bool(QUESTION.fullmatch(name)), tests=[], points=0.0))
            items[-1].status = NOT_TRIED if untouched(cell) else FAILED  # FAILED until its tests pass
        elif _is_test(cell) and items:
            items[-1].tests.append(meta["grade_id"])
            items[-1].points += float(meta.get("points") or 0)
    return [item for item in items if item.tests]


def newer_copies(folder: Path) -> list[str]:
    """The dated copies of newer releases that `make update` put beside the learner's notebook."""
    return sorted(p.name for p in folder.glob("*.ipynb") if DATED_COPY.search(p.stem))


def chapter_notebook(folder: Path) -> Path | None:
    """The learner's notebook of an assignment folder (not a dated copy of a newer release)."""
    found = sorted(p for p in folder.glob("*.ipynb") if not DATED_COPY.search(p.stem))
    return found[0] if found else None


def title_of(cells: list[dict], default: str) -> str:
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            first = _source(cell).strip().splitlines()[0] if _source(cell).strip() else ""
            if first.startswith("# "):
                return re.sub(r"^Chapter \d+\s*[—-]\s*", "", first[2:].split(":")[0]).strip()
    return default


# ------------------------------------------------------------------------------------------------ grading

def with_hidden_tests(cells: list[dict], source_cells: list[dict]) -> list[dict]:
    """The learner's cells with every locked cell put back from ``source/``, hidden tests included (as nbgrader
    does)."""
    locked = {_meta(c)["grade_id"]: c for c in source_cells if _meta(c).get("locked") and _meta(c).get("grade_id")}
    out = []
    for cell in cells:
        gid = _meta(cell).get("grade_id")
        if gid in locked and _meta(cell).get("locked") and not _meta(cell).get("solution"):
            cell = {**cell, "source": _source(locked[gid])}
        out.append(cell)
    return out


def _code_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def grade_tests(notebook: Path, source: Path | None, tests: list[str], *, sandboxed: bool) -> dict[str, dict]:
    """grade_id -> {"error", "earned", "records"} for ``tests``, graded from a temporary copy of the notebook's
    folder."""
    from . import grader

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    if source is not None:
        nb["cells"] = with_hidden_tests(nb["cells"], json.loads(source.read_text(encoding="utf-8"))["cells"])
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_RESULTS", "NBGRADER_EXECUTION")}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE.parent), env.get("PYTHONPATH")])),
               MPLBACKEND="Agg", AUTOGRADER_CHARTS="0")
    with tempfile.TemporaryDirectory(prefix="progress-") as tmp:
        copy = Path(tmp) / notebook.parent.name
        shutil.copytree(notebook.parent, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__",
                                                                             "feedback", "*.ipynb"))
        job = {"notebook": nb, "cwd": str(copy), "timeout": 300, "only_tests": tests,
               "sandbox": "auto" if sandboxed else "off"}
        result = grader.run_in_subprocess(job, env=env)
    found = {}
    for cell, entry in zip(nb["cells"], result["cells"]):
        if entry is None or not _is_test(cell) or _meta(cell)["grade_id"] not in tests:
            continue
        outputs = entry[1]
        errors = [o for o in outputs if o.get("output_type") == "error"]
        points = float(_meta(cell).get("points") or 0)
        found[_meta(cell)["grade_id"]] = {
            "error": f"{errors[0]['ename']}: {(errors[0]['evalue'].splitlines() or [''])[0]}" if errors else None,
            "earned": 0.0 if errors else _earned(outputs, points),
            "records": [o["data"][MIME] for o in outputs
                        if o.get("output_type") == "display_data" and MIME in o.get("data", {})],
        }
    return found


def _earned(outputs: list[dict], points: float) -> float:
    """A passed test cell's points; partial credit when its last value is a number (nbgrader's rule)."""
    for o in outputs:
        if o.get("output_type") == "execute_result":
            try:
                return max(0.0, min(points, float(o["data"]["text/plain"])))
            except (KeyError, ValueError):
                pass
    return points


class Cache:
    """Test results per notebook, kept while the notebook, its source and the autograder are the same."""

    def __init__(self, path: Path | None):
        self.path = path
        try:
            self.data = json.loads(path.read_text()) if path else {}
        except (OSError, ValueError):
            self.data = {}

    @staticmethod
    def key(notebook: Path, source: Path | None, tests: list[str], sandboxed: bool) -> str:
        digest = hashlib.sha256(notebook.read_bytes())
        digest.update(source.read_bytes() if source else b"-")
        digest.update(json.dumps([sorted(tests), sandboxed, _code_hash()]).encode())
        return digest.hexdigest()

    def get(self, notebook: Path, key: str) -> dict | None:
        entry = self.data.get(str(notebook.resolve()))
        return entry["tests"] if entry and entry.get("key") == key else None

    def put(self, notebook: Path, key: str, tests: dict) -> None:
        if self.path is None:
            return
        self.data[str(notebook.resolve())] = {"key": key, "tests": tests}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data))


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "python-memory" / "progress.json"


def collect(workspace: Path, source: Path | None = None, *, chapters: list[str] | None = None,
            cache: Path | None = None, sandboxed: bool = True, log=print) -> list[Chapter]:
    """Every chapter of ``workspace`` (and of ``source``, when a chapter is not in the workspace yet), graded."""
    ids = chapters or sorted({p.name for p in workspace.iterdir() if p.is_dir() and not p.name.startswith(".")
                              and p.name != "feedback"}
                             | ({p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")}
                                if source else set()))
    store = Cache(cache)
    out = []
    for aid in ids:
        notebook = chapter_notebook(workspace / aid) if (workspace / aid).is_dir() else None
        if notebook is None:
            known = chapter_notebook(source / aid) if source and (source / aid).is_dir() else None
            title = title_of(json.loads(known.read_text(encoding="utf-8"))["cells"], aid) if known else aid
            out.append(Chapter(aid, title, None))
            continue
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        chapter = Chapter(aid, title_of(cells, aid), notebook, items_of(cells), newer_copies(workspace / aid))
        tried = [t for item in chapter.items if item.status != NOT_TRIED for t in item.tests]
        hidden = source / aid / notebook.name if source else None
        hidden = hidden if hidden is not None and hidden.exists() else None
        results: dict = {}
        if tried:
            key = Cache.key(notebook, hidden, tried, sandboxed)
            results = store.get(notebook, key)
            if results is None:
                log(f"grading {aid}/{notebook.name} ...")
                try:
                    results = grade_tests(notebook, hidden, tried, sandboxed=sandboxed)
                    store.put(notebook, key, results)
                except RuntimeError as exc:  # the grader itself failed: say so on each tried item, go on
                    problem = str(exc).splitlines()[0]
                    results = {t: {"error": problem, "earned": 0.0, "records": []} for t in tried}
        for item in chapter.items:
            _settle(item, results)
        out.append(chapter)
    return out


def _settle(item: Item, results: dict) -> None:
    """An item's status, points, first failure and memory figures from its test cells' results."""
    if item.status == NOT_TRIED:
        return
    found = [results.get(t) for t in item.tests]
    failures = [r["error"] if r else "not graded" for r in found if not r or r["error"]]
    item.status = FAILED if failures or not found else PASSED
    item.message = failures[0] if failures else ""
    item.earned = sum(r["earned"] for r in found if r)
    for r in found:
        for rec in (r or {}).get("records", []):
            if rec.get("check") in FIGURES and rec.get("measured") is not None and rec.get("target") is not None:
                measured = rec["measured"][-1] if isinstance(rec["measured"], list) else rec["measured"]
                what = FIGURES[rec["check"]]
                if rec["check"] == "scaling" and rec.get("sizes"):
                    what = f"peak at n={rec['sizes'][-1]:,}"
                item.figures.append({"check": rec["check"], "what": what, "measured": measured,
                                     "target": rec["target"], "verdict": rec.get("verdict"),
                                     "exercise": rec.get("exercise", item.name)})


# ------------------------------------------------------------------------------------------------ showing

def summary_lines(chapters: list[Chapter]) -> list[str]:
    """The plain-text table: one block per chapter, one line per exercise, the questions on one line."""
    lines = []
    for ch in chapters:
        if ch.notebook is None:
            lines.append(f"{ch.number:>2}  {ch.title}: not in workspace/ yet")
            continue
        earned, total = ch.points
        lines.append(f"{ch.number:>2}  {ch.title}  ({earned:g} / {total:g} points)")
        for item in (i for i in ch.items if not i.question):
            detail = item.message if item.status == FAILED else _closest(item.figures)
            lines.append(f"    {MARKS[item.status]} {item.name:22} {item.status:9}  {detail}".rstrip())
        questions = [i for i in ch.items if i.question]
        if questions:
            counts = {s: [q.name for q in questions if q.status == s] for s in (PASSED, FAILED, NOT_TRIED)}
            failed = f" ({', '.join(counts[FAILED])})" if counts[FAILED] else ""
            lines.append(f"    quiz: {len(counts[PASSED])} passed, {len(counts[FAILED])} failed{failed}, "
                         f"{len(counts[NOT_TRIED])} not tried, of {len(questions)} questions")
        if ch.newer:
            lines.append(f"    a newer version of this chapter is beside yours: {', '.join(ch.newer)}")
    return lines


def _closest(figures: list[dict]) -> str:
    """The memory figure nearest its target (the one to watch), in words."""
    if not figures:
        return ""
    f = max(figures, key=lambda f: f["measured"] / max(f["target"], 1))
    return f"{f['what']} {format_bytes(f['measured'])} (target {format_bytes(f['target'])})"


# ------------------------------------------------------------------------------------------------ entry points

def find_course(start: Path | None = None) -> Path:
    """The folder holding ``workspace/``: ``start`` (default: the current folder) or one of its parents."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "workspace").is_dir():
            return folder
    raise FileNotFoundError(f"no workspace/ folder in {start} or above it: run `make lab` (or unzip the notebooks) "
                            "first")


def grading_mode(source: Path | None, log=print) -> bool:
    """Say which tests decide and whether there is a sandbox; True to sandbox."""
    if source is None:
        log("no source/ here (a student's install): the visible tests decide; your instructor's grading adds hidden "
            "inputs, so a pass here is a good sign, not yet a grade")
    problem = sandbox.problem() if sandbox.mode() != sandbox.OFF else None
    if problem:
        log(f"grading without a sandbox: {problem}")
    return sandbox.mode() != sandbox.OFF and problem is None


def run(course: Path | None = None, *, cache: Path | None = None, log=print) -> list[Chapter]:
    """Grade the course's workspace as :func:`collect` does, with ``source/`` when the course has it."""
    course = find_course(course)
    source = course / "source" if (course / "source").is_dir() else None
    sandboxed = grading_mode(source, log)
    return collect(course / "workspace", source, cache=cache if cache is not None else default_cache(),
                   sandboxed=sandboxed, log=log)


def show(course: Path | None = None) -> None:
    """For a notebook cell: the table and the chart of :func:`run`."""
    from IPython.display import Markdown, display

    chapters = run(course)
    display(Markdown("```\n" + "\n".join(summary_lines(chapters)) + "\n```"))
    png = progress_chart.chart_png(chapters)
    if png:
        display({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<progress chart>"},
                metadata={"image/png": {"alt": progress_chart.chart_alt(chapters)}}, raw=True)
    else:
        print("no memory figures yet: they appear once you have tried an exercise with a memory target")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--course", type=Path, default=None, help="the folder holding workspace/ (default: here)")
    parser.add_argument("--chart", type=Path, default=None, help="also write the chart to this PNG file")
    args = parser.parse_args(argv)
    try:
        chapters = run(args.course)
    except FileNotFoundError as exc:
        print(exc)
        return 1
    print("\n".join(summary_lines(chapters)))
    if args.chart:
        png = progress_chart.chart_png(chapters)
        if png:
            args.chart.parent.mkdir(parents=True, exist_ok=True)
            args.chart.write_bytes(png)
            print(f"chart: {args.chart}")
        else:
            print("no chart yet: no memory figure has been measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
