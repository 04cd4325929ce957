"""How fast a class is graded: plain nbgrader against the class command, side by side in one run (`make bench-class`).

    python benchmarks/class_grading.py [--students 20] [--course-students 3] [--plain-sample 2]

A simulated class (tools/simulated_class.py: of every five submissions three good, one wasteful, one blank; a
failed check ends its test cell under either grader, so failing submissions cost less than good ones) of ``--students`` on chapters 4 and 9, and of ``--course-students`` on every
assignment of the course, is graded by:

* plain     -- stock `nbgrader autograde` (nbgrader's Execute in a Jupyter kernel, every cell run, one student
               after another): what nbgrader does without this course's grader. Sequential, so its rate does not
               depend on the class size: it grades ``--plain-sample`` students of chapters 4 and 9 and
               ``--plain-course-sample`` of the whole course;
* 1 worker  -- `python-memory grade-class` on a LocalCluster of one worker;
* 2 workers -- the same with two;
* external  -- the same on a real `dask scheduler` and two `dask worker` processes started on loopback.

Every figure is wall-clock time of the whole command (the class command's includes starting Dask, feedback, the
export and the class report), in one run, groups in turn so that they share the machine's noise. The last line:

    class grading: A submissions/min at 1 worker, B at 2 workers (S× scaling), R× plain nbgrader autograde, D at 2 external Dask workers

with R = B / plain. Goals: R >= 10, S >= 1.7.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tools")]

import course  # noqa: E402
import dask_loopback  # noqa: E402
import simulated_class  # noqa: E402

GOAL_RATIO, GOAL_SCALING = 10.0, 1.7
CLASS_MIX = ("good", "good", "wasteful", "good", "blank")
CHAPTERS = ("04-lazy-evaluation", "09-capstone-pipeline")
KERNEL_EXECUTE = '"nbgrader.preprocessors.Execute",'
GRADER_STEP = re.compile(r'"autograder\.nbgrader_hooks\.GradeInSandbox",')
CLASS_TIMEOUT = 4 * 3600  # seconds: a generous bound on one class command


def sample_mix(count: int) -> tuple[str, ...]:
    """``count`` kinds spread over CLASS_MIX, for a sample that stands for the class (good, wasteful, ...)."""
    return tuple(CLASS_MIX[j * len(CLASS_MIX) // count] for j in range(count))


def make_course(dest: Path, assignments: list[str], students: int, *, plain: bool = False) -> Path:
    """A course copy with ``students`` simulated submissions of each assignment (stock nbgrader's config if plain,
    with a sample spread over the class's mix)."""
    root = course.make_course_copy(dest, assignments)
    if plain:
        config = (root / "nbgrader_config.py").read_text()
        (root / "nbgrader_config.py").write_text(GRADER_STEP.sub(KERNEL_EXECUTE, config))
    for aid in assignments:
        course.nbgrader(root, "generate_assignment", aid, "--force")
        simulated_class.simulate(root, aid, students, kinds=sample_mix(students) if plain else CLASS_MIX)
    return root


def plain_seconds(root: Path, assignments: list[str]) -> float:
    t0 = time.perf_counter()
    for aid in assignments:
        proc = course.nbgrader(root, "autograde", aid, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"plain autograde of {aid} failed:\n{(proc.stdout + proc.stderr)[-2000:]}")
    return time.perf_counter() - t0


def class_seconds(root: Path, assignments: list[str], *args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "classroom.cli", "grade-class", *assignments, "--course", str(root),
                           "--no-progress", "--no-collect", *args], capture_output=True, text=True,
                          env=course.nbgrader_env(), timeout=CLASS_TIMEOUT)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"grade-class {' '.join(assignments)} {' '.join(args)} failed:\n"
                           f"{(proc.stdout + proc.stderr)[-3000:]}")
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20, help="class size on chapters 4 and 9")
    parser.add_argument("--course-students", type=int, default=3, help="class size on the whole course")
    parser.add_argument("--plain-sample", type=int, default=2,
                        help="students plain nbgrader grades on chapters 4 and 9 (it is sequential: its rate does "
                             "not depend on the class size)")
    parser.add_argument("--plain-course-sample", type=int, default=1,
                        help="students plain nbgrader grades on the whole course")
    args = parser.parse_args(argv)
    # stopped with SIGTERM, still stop the Dask processes and remove the courses (the finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    groups = [(aid, [aid], args.students, args.plain_sample) for aid in CHAPTERS]
    groups.append(("whole course", course.assignments(), args.course_students, args.plain_course_sample))
    totals = {"plain": [0, 0.0], "1 worker": [0, 0.0], "2 workers": [0, 0.0], "external": [0, 0.0]}
    print(f"{'group':<22} {'submissions':>11} {'plain':>10} {'1 worker':>10} {'2 workers':>10} {'external':>10}"
          "   (submissions per minute)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        tmp = Path(tmp)
        with dask_loopback.cluster(tmp, workers=2) as address:
            for name, assignments, size, plain_size in groups:
                count = size * len(assignments)
                sample = min(size, plain_size)
                runs = {
                    "plain": (sample * len(assignments), lambda r: plain_seconds(r, assignments), sample, True),
                    "1 worker": (count, lambda r: class_seconds(r, assignments, "--workers", "1"), size, False),
                    "2 workers": (count, lambda r: class_seconds(r, assignments, "--workers", "2"), size, False),
                    "external": (count, lambda r: class_seconds(r, assignments, "--scheduler", address), size, False),
                }
                rates = {}
                for mode, (graded, timed, students, plain) in runs.items():
                    root = make_course(tmp / re.sub(r"\W", "-", f"{name}-{mode}"), assignments, students, plain=plain)
                    seconds = timed(root)
                    totals[mode][0] += graded
                    totals[mode][1] += seconds
                    rates[mode] = graded / seconds * 60
                    shutil.rmtree(root, ignore_errors=True)
                print(f"{name:<22} {count:>11} " + " ".join(f"{rates[m]:>10.2f}" for m in totals), flush=True)
    rate = {mode: n / s * 60 for mode, (n, s) in totals.items()}
    scaling = rate["2 workers"] / rate["1 worker"]
    ratio = rate["2 workers"] / rate["plain"]
    print(f"goals: R >= {GOAL_RATIO:g} ({'met' if ratio >= GOAL_RATIO else 'NOT met'}), "
          f"S >= {GOAL_SCALING:g} ({'met' if scaling >= GOAL_SCALING else 'NOT met'}); plain graded "
          f"{totals['plain'][0]} submissions, each class command {totals['1 worker'][0]}")
    print(f"class grading: {rate['1 worker']:.1f} submissions/min at 1 worker, {rate['2 workers']:.1f} at 2 workers "
          f"({scaling:.2f}× scaling), {ratio:.1f}× plain nbgrader autograde, {rate['external']:.1f} at 2 external "
          "Dask workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
