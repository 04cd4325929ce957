"""Measure every memory target's reference and naive figures on CPython 3.10-3.13.

    python tools/crossversion.py [--write course/cross-version.md] [--versions 3.10 3.12]

For each Python version it builds a small virtual environment (`.venv-cv/<version>`,
reused while the dependency list is unchanged), then grades each source notebook --
its solutions are a good submission, its hidden tests are in -- with the trusted
grader on that version (`python -m autograder.grader`: the learner's cells in the
sandbox, lesson cells skipped as in autograding), with AUTOGRADER_RESULTS set, so every
check writes its record (measured, target, reference, naive). A margin is thin when
the reference's figure is not clearly under its target, or the naive one not clearly
over it; the exit status is 1 if any margin is thin, a check failed, or a version is missing.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from autograder import grader, lessons  # noqa: E402
from autograder.units import format_bytes  # noqa: E402
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
THIN = 1.5  # the reference must sit at most target/1.5, the naive at least 1.5 x target
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)[ \t]*\n?", re.M)
# packages the graded cells' setup may import (the lesson-only ones, such as memray, are not needed)
PACKAGES = ("objgraph", "matplotlib", "numpy", "psutil", "memory_profiler", "pandas", "pyarrow")
# what the grader's learner process needs besides them (not pinned by the project: any version for that Python)
GRADER_PACKAGES = ("ipython", "matplotlib-inline")


def find_python(version: str) -> str | None:
    """An interpreter for ``version``: a pyenv installation, else a working python3.X on PATH."""
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")))
    if candidates:
        return candidates[-1]
    found = shutil.which(f"python{version}")  # may be a pyenv shim for a version that is not installed
    if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
        return found
    return None


def requirements() -> list[str]:
    """The pyproject pins of PACKAGES, so every version gets the same bounds."""
    text = (ROOT / "pyproject.toml").read_text()
    pins = re.findall(r'"([A-Za-z_][A-Za-z0-9_.-]*[<>=!~][^"]*)"', text)
    return [p for p in pins if re.split(r"[<>=!~]", p)[0].lower() in PACKAGES] + list(GRADER_PACKAGES)


def ensure_env(version: str) -> Path:
    """A venv for ``version`` with the packages the graded cells import (cached)."""
    python = find_python(version)
    if python is None:
        raise FileNotFoundError(f"no CPython {version} found (python{version} on PATH or pyenv)")
    env = ROOT / ".venv-cv" / version
    stamp = env / "requirements.txt"
    wanted = "\n".join(requirements())
    if stamp.exists() and stamp.read_text() == wanted:
        return env / "bin" / "python"
    subprocess.run([python, "-m", "venv", "--clear", str(env)], check=True)
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *requirements()], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stamp.write_text(wanted)
    return env / "bin" / "python"


def grade(python, notebook: Path, answers: dict[str, str] | None = None, only: tuple[str, ...] = (),
          results: Path | None = None) -> dict:
    """Failed test cells {grade_id: message} of ``notebook`` graded by the trusted grader on ``python``.

    ``answers`` (grade_id -> source) replaces solution cells, to grade other submissions;
    ``only`` keeps just the test cells whose grade_id contains one of these names.
    """
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if answers and gid in answers:
            cell["source"] = answers[gid]
        elif cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell["source"] = MARKERS.sub("", "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
    lessons.stamp_notebook(nb)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    if results is not None:
        env["AUTOGRADER_RESULTS"] = str(results)
    job = {"notebook": nb, "cwd": str(notebook.parent), "timeout": 600, "only_tests": list(only)}
    result = grader.run_in_subprocess(job, python=str(python), env=env, timeout=1800)
    return grader.failures(nb, result)


def run_notebook(python: Path, notebook: Path, results: Path) -> tuple[int, str]:
    failed = grade(python, notebook, results=results)
    return (1 if failed else 0), "\n".join(f"FAILED {g} {m}" for g, m in failed.items())


def margins(rec: dict) -> tuple[float | None, float | None]:
    """(target / reference figure, naive figure / target) for a record; None where not measured."""
    if rec["check"] in ("peak", "retained"):
        ref, naive, target = rec.get("reference"), rec.get("naive"), rec.get("target")
    elif rec["check"] == "scaling":
        ref = rec["reference"][1] if rec.get("reference") else None
        naive = rec["naive"][1] if rec.get("naive") else None
        target = rec.get("reference_target")
        naive_target = rec.get("naive_target")
        ref_margin = target / max(ref, 1) if ref is not None and target else None
        naive_margin = naive / naive_target if naive is not None and naive_target else None
        return ref_margin, naive_margin
    else:
        return None, None
    ref_margin = target / max(ref, 1) if ref is not None else None
    naive_margin = naive / target if naive is not None else None
    return ref_margin, naive_margin


def measure_all(versions, notebooks) -> tuple[list[dict], list[str]]:
    records, problems = [], []
    for version in versions:
        try:
            python = ensure_env(version)
        except (FileNotFoundError, subprocess.CalledProcessError) as exc:
            problems.append(f"{version}: {exc}")
            continue
        for nb in notebooks:
            with tempfile.TemporaryDirectory() as tmp:
                results = Path(tmp) / "results.jsonl"
                code, output = run_notebook(python, nb, results)
                recs = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
            for r in recs:
                r["assignment"] = nb.parent.name
            records.extend(recs)
            if code != 0:
                problems.append(f"{version} {nb.parent.name}: graded cells failed\n{output}")
            print(f"  {version} {nb.parent.name}: {len(recs)} checks", file=sys.stderr)
    return records, problems


def fmt(n) -> str:
    return format_bytes(n) if n is not None else "–"


def table(records: list[dict]) -> tuple[str, list[str]]:
    rows, thin = [], []
    memory = [r for r in records if r["check"] in ("peak", "retained", "scaling") and (r.get("reference") or r.get("naive"))]
    memory.sort(key=lambda r: (r["assignment"], r["exercise"], r["check"], json.dumps(r.get("sizes")), r["python"]))
    rows.append("| assignment | exercise | check | Python | reference | target | naive | reference margin | naive margin |")
    rows.append("|---|---|---|---|---|---|---|---|---|")
    for r in memory:
        ref_m, naive_m = margins(r)
        if r["check"] == "scaling":
            n1, n2 = r["sizes"]
            check = f"scaling {n1:,}→{n2:,}"
            ref = f"{fmt(r['reference'][0])} → {fmt(r['reference'][1])}" if r.get("reference") else "–"
            naive = f"{fmt(r['naive'][0])} → {fmt(r['naive'][1])}" if r.get("naive") else "–"
            target = fmt(r.get("reference_target"))
        else:
            check, ref, naive, target = r["check"], fmt(r.get("reference")), fmt(r.get("naive")), fmt(r["target"])
        flags = []
        for name, m in (("reference", ref_m), ("naive", naive_m)):
            if m is not None and m < THIN:
                flags.append(name)
                thin.append(f"{r['assignment']} {r['exercise']} {check} on {r['python']}: {name} margin {m:.2f}x")
        cell = lambda m: "–" if m is None else (f"**{m:.1f}×**" if m < THIN else f"{m:.1f}×")  # noqa: E731
        rows.append(f"| {r['assignment']} | {r['exercise']} | {check} | {r['python']} | {ref} | {target} | {naive} "
                    f"| {cell(ref_m)} | {cell(naive_m)} |")
    return "\n".join(rows), thin


LEAK_HEADER = (
    "## Leak checks\n\n"
    "The course's own solution against each limit of `check_freed` and `check_no_growth` (no reference or naive "
    "solution here: a leak fails by objects that survive, or by growth in both windows). *Margin* = limit ÷ what the "
    "solution left; under {thin}× (bold) fails the check.\n\n"
    "| assignment | exercise | signal | Python | solution | limit | margin |\n"
    "|---|---|---|---|---|---|---|"
)


def leak_rows(records: list[dict]) -> tuple[list[str], list[str]]:
    """Markdown rows for the leak checks' records, and the thin margins among them."""
    rows, thin = [], []
    signals = {"freed": (("memory left per structure", "measured", "target"),
                         ("memory left by the first structure", "first_left", "first_target")),
               "no_growth": (("traced growth, longer window", "measured", "target"),
                             ("anonymous resident growth", "anon", "anon_target"))}
    leaks = [r for r in records if r["check"] in signals]
    leaks.sort(key=lambda r: (r["assignment"], r["exercise"], r["check"], r.get("target", 0), r["python"]))
    for r in leaks:
        for signal, measured_key, limit_key in signals[r["check"]]:
            measured, limit = r.get(measured_key), r.get(limit_key)
            if measured is None or limit is None:
                continue
            margin = limit / measured if measured > 0 else None
            if margin is not None and margin < THIN:
                thin.append(f"{r['assignment']} {r['exercise']} {signal} on {r['python']}: margin {margin:.2f}x")
            cell = "nothing left" if margin is None else (f"**{margin:.1f}×**" if margin < THIN else f"{margin:.1f}×")
            rows.append(f"| {r['assignment']} | {r['exercise']} | {r['check']}: {signal} | {r['python']} "
                        f"| {fmt(measured)} | {fmt(limit)} | {cell} |")
    return rows, thin


def _row_group(row: str) -> tuple[str, str]:
    """(assignment, exercise) of a table row: a stable sort on it keeps each group's own order."""
    cells = row.split("|")
    return cells[1].strip(), cells[2].strip()


def kept_rows(path: Path, measured: set[str]) -> tuple[list[str], list[str]]:
    """Rows of assignments this run did not measure, from an earlier table (memory targets, leak checks)."""
    if not path.exists():
        return [], []
    sections, current = ([], []), 0
    for line in path.read_text().splitlines():
        if line.startswith("## Leak checks"):
            current = 1
        cells = line.split("|")
        if line.startswith("| ") and len(cells) > 2 and cells[1].strip() not in measured | {"assignment"}:
            sections[current].append(line)
    return sections


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", nargs="*", default=list(VERSIONS))
    parser.add_argument("--assignments", nargs="*", default=None)
    parser.add_argument("--write", type=Path, help="write the markdown table to this file")
    args = parser.parse_args(argv)
    ids = args.assignments or sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
    notebooks = [nb for aid in ids for nb in sorted((ROOT / "source" / aid).glob("*.ipynb"))]
    records, problems = measure_all(args.versions, notebooks)
    text, thin = table(records)
    leaks, leak_thin = leak_rows(records)
    thin += leak_thin
    if args.write:  # a run over some assignments keeps the others' rows
        old_targets, old_leaks = kept_rows(args.write, set(ids))
        head, body = text.splitlines()[:2], text.splitlines()[2:]
        text = "\n".join(head + sorted(old_targets + body, key=_row_group))
        leaks = sorted(old_leaks + leaks, key=_row_group)
    text += "\n\n" + LEAK_HEADER.format(thin=THIN) + ("\n" + "\n".join(leaks) if leaks else "")
    header = (
        "# Memory targets across Python versions\n\n"
        "Generated by `make crossversion` (tools/crossversion.py): every graded cell of every source notebook run on each "
        "CPython version. *Reference margin* = target ÷ the reference solution's figure; *naive margin* = the naive "
        f"solution's figure ÷ target. A margin under {THIN}× (bold) fails the check. Binary units.\n\n"
        "For scaling checks the figures are the peaks at the smaller → larger size and the target is the bound at the "
        "larger size computed from the reference's own smaller peak (the naive margin uses the naive's own bound).\n\n"
    )
    print(text)
    if args.write:
        args.write.write_text(header + text + "\n")
    for p in problems + thin:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems or thin else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
