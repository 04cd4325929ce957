"""Chapter 7's threads test against every pool it must pass and every racy pool it must fail, repeatedly.

    python benchmarks/pool_threads.py [--reps 10] [--rev main] [--only NAME ...]

Runs the `_hammer` of the test cell `test_ObjectPool_threads` (read from source/07-pools-and-caches, or from
git revision ``--rev``) against the course's solution, each chapter-7 ObjectPool of tests/tamper_corpus.py
HONEST_VARIANTS, and each racy ObjectPool of CHEATS that targets that cell, ``--reps`` times each, in this
interpreter (any of 3.10-3.13: only the standard library is used). A trivial audit hook is installed first, as
the learner's process has one (time.sleep raises an audit event on 3.11+). One line per pool:

    honest  solution                 10/10 no problems   median 0.41 s  max 0.52 s
    racy    pool-without-a-lock      10/10 caught        median 0.12 s  max 0.20 s   (a thread raised ...)

Run it beside a CPU hog (``python -c 'while 1: pass' &`` once per core) to see it under load.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "source/07-pools-and-caches/pools-and-caches.ipynb"
sys.path.insert(0, str(ROOT / "tests"))
import tamper_corpus  # noqa: E402

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def cells(rev: str | None) -> dict:
    text = (subprocess.run(["git", "show", f"{rev}:{NOTEBOOK}"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout if rev else (ROOT / NOTEBOOK).read_text())
    out = {}
    for cell in json.loads(text)["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid:
            src = "".join(cell["source"])
            out[gid] = "\n".join(line for line in src.splitlines() if line.strip() not in MARKERS)
    return out


def hammer_source(test_cell: str) -> str:
    """The test cell without its check_result call (everything from the first line that starts it)."""
    lines = test_cell.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("check_result("))
    while end and lines[end - 1].startswith("#"):
        end -= 1
    return "\n".join(lines[:end])


def pools(solution: str) -> list[tuple[str, str, str]]:
    """(kind, name, source of an ObjectPool class) for the solution, the honest variants and the racy cheats."""
    found = [("honest", "solution", solution)]
    for name, (aid, answers) in tamper_corpus.HONEST_VARIANTS.items():
        if aid == "07-pools-and-caches" and "ObjectPool" in answers:
            found.append(("honest", name, answers["ObjectPool"]))
    for name, (aid, answers, lost) in tamper_corpus.CHEATS.items():
        if aid == "07-pools-and-caches" and "test_ObjectPool_threads" in lost:
            found.append(("racy", name, answers["ObjectPool"]))
    return found


def run_once(pool_source: str, hammer: str, **params) -> tuple[float, str]:
    ns = {"sys": sys, "threading": threading, "weakref": weakref, "OrderedDict": OrderedDict, "deque": deque}
    exec(pool_source, ns)
    exec(hammer, ns)
    interval = sys.getswitchinterval()
    start = time.perf_counter()
    try:
        result = ns["_hammer"](**params)
    finally:
        sys.setswitchinterval(interval)
        threading.setprofile(None)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--rev", help="read the test cell from this git revision (default: the working tree)")
    parser.add_argument("--only", nargs="*", help="only these pools (names as printed)")
    parser.add_argument("--json", action="store_true", help="one JSON object per pool instead of a line")
    parser.add_argument("--threads", type=int, help="to try other figures: passed to _hammer")
    parser.add_argument("--cycles", type=int, help="to try other figures: passed to _hammer")
    parser.add_argument("--interval", help="to try other figures: replaces the argument of sys.setswitchinterval")
    parser.add_argument("--sleep", help="to try other figures: replaces the argument of the hook's _time.sleep")
    args = parser.parse_args()
    sys.addaudithook(lambda event, arguments: None)
    nb = cells(args.rev)
    hammer = hammer_source(nb["test_ObjectPool_threads"])
    if args.interval:
        hammer = re.sub(r"sys\.setswitchinterval\([^)]*\)", f"sys.setswitchinterval({args.interval})", hammer)
    if args.sleep:
        hammer = re.sub(r"_time\.sleep\([^)]*\)", f"_time.sleep({args.sleep})", hammer)
    params = {k: getattr(args, k) for k in ("threads", "cycles") if getattr(args, k) is not None}
    for kind, name, source in pools(nb["ObjectPool"]):
        if args.only and name not in args.only:
            continue
        times, results = [], []
        for _ in range(args.reps):
            elapsed, result = run_once(source, hammer, **params)
            times.append(elapsed)
            results.append(result)
        good = sum(r == "no problems" for r in results)
        hits = good if kind == "honest" else len(results) - good
        problems = sorted({r for r in results if r != "no problems"})
        if args.json:
            print(json.dumps({"python": sys.version.split()[0], "params": params, "interval": args.interval, "sleep": args.sleep,
                              "rev": args.rev, "kind": kind, "name": name, "reps": args.reps,
                              "ok": hits, "median": statistics.median(times), "max": max(times),
                              "problems": problems}), flush=True)
        else:
            verdict = "no problems" if kind == "honest" else "caught"
            print(f"{kind:7} {name:40} {hits:>2}/{args.reps} {verdict:11} median {statistics.median(times):6.2f} s"
                  f"  max {max(times):6.2f} s  {'; '.join(problems)[:120]}", flush=True)


if __name__ == "__main__":
    main()
