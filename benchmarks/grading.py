"""What the sandbox and the trusted grader cost: `nbgrader autograde` per submission, side by side (`make bench-grading`).

    python benchmarks/grading.py [--assignments 04-lazy-evaluation ...] [--students 2] [--rounds 2]

For each assignment, a throwaway course gets N identical good submissions, and the
same `nbgrader autograde` runs with four configurations, interleaved round by round
so they share the machine's noise:

* kernel        -- the path before the trusted grader: nbgrader's Execute in a Jupyter kernel, every cell run;
* sandbox+all   -- the trusted grader in bubblewrap, every lesson cell run (what sandbox and grader add);
* nosandbox     -- the trusted grader, unsandboxed (AUTOGRADER_SANDBOX=off), lessons skipped;
* sandbox       -- the default: the trusted grader in bubblewrap, unneeded lesson cells skipped.

It prints seconds per submission (medians over rounds) and the ratios to the kernel
path. The goal for what the sandbox and the trusted run add is sandbox+all / kernel <= 1.20.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests"), str(ROOT)]

import course  # noqa: E402
import nbformat  # noqa: E402
from test_pipeline import solution_sources, submission  # noqa: E402

GOAL = 1.20
KERNEL_EXECUTE = '"nbgrader.preprocessors.Execute",'
VARIANTS = {
    "kernel": {"preprocessor": KERNEL_EXECUTE, "env": {}},
    "sandbox+all": {"preprocessor": None, "env": {"AUTOGRADER_SKIP_LESSONS": "0"}},
    "nosandbox": {"preprocessor": None, "env": {"AUTOGRADER_SANDBOX": "off"}},
    "sandbox": {"preprocessor": None, "env": {}},
}
DEFAULT_ASSIGNMENTS = ("04-lazy-evaluation", "02-references-and-gc", "08-leak-hunting")


def make_course(tmp: Path, aid: str, students: int, variant: str) -> Path:
    """A course copy for one variant, with ``students`` good submissions of ``aid``."""
    root = course.make_course_copy(tmp / variant, [aid])
    if VARIANTS[variant]["preprocessor"]:
        config = (root / "nbgrader_config.py").read_text()
        config = re.sub(r'"autograder\.nbgrader_hooks\.GradeInSandbox",', VARIANTS[variant]["preprocessor"], config)
        (root / "nbgrader_config.py").write_text(config)
    course.nbgrader(root, "generate_assignment", aid, "--force")
    for src in sorted((root / "source" / aid).glob("*.ipynb")):
        good = solution_sources(nbformat.read(src, as_version=4))
        release_nb = nbformat.read(root / "release" / aid / src.name, as_version=4)
        for k in range(students):
            dest = root / "submitted" / f"student{k:02d}" / aid / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission(release_nb, good), dest)
    for extra in (root / "release" / aid).rglob("*"):
        if extra.is_file() and extra.suffix != ".ipynb":
            for k in range(students):
                dest = root / "submitted" / f"student{k:02d}" / aid / extra.relative_to(root / "release" / aid)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(extra, dest)
    return root


def autograde_seconds(root: Path, aid: str, variant: str) -> float:
    t0 = time.perf_counter()
    proc = course.nbgrader(root, "autograde", aid, "--force", check=False, env=VARIANTS[variant]["env"])
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} {aid}: autograde failed\n{(proc.stdout + proc.stderr)[-2000:]}")
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="*", default=list(DEFAULT_ASSIGNMENTS))
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{args.students} submissions per run, {args.rounds} rounds")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        for aid in args.assignments:
            courses = {v: make_course(Path(tmp) / aid, aid, args.students, v) for v in VARIANTS}
            seconds: dict[str, list[float]] = {v: [] for v in VARIANTS}
            for _ in range(args.rounds):
                for variant in VARIANTS:
                    seconds[variant].append(autograde_seconds(courses[variant], aid, variant) / args.students)
            per = {v: median(s) for v, s in seconds.items()}
            rows.append((aid, per))
            print(f"  {aid}: " + ", ".join(f"{v} {per[v]:.1f} s" for v in VARIANTS))
    print("\nseconds per submission (median over rounds) and ratio to the kernel path")
    header = f"  {'assignment':24}" + "".join(f"{v:>16}" for v in VARIANTS)
    print(header)
    for aid, per in rows:
        print(f"  {aid:24}" + "".join(f"{per[v]:>7.1f} s {per[v] / per['kernel']:>5.2f}x" for v in VARIANTS))
    added = median(per["sandbox+all"] / per["kernel"] for _, per in rows)
    net = median(per["sandbox"] / per["kernel"] for _, per in rows)
    verdict = "PASS" if added <= GOAL else "FAIL"
    print(f"\nsandbox and trusted grader, every cell run: {added:.2f}x the kernel path (goal <= {GOAL:.2f}x: {verdict}); "
          f"as configured (unneeded lessons skipped): {net:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
