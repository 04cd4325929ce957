"""Benchmarks of the autograder's measuring engine (`make benchmarks`).

1. overhead: what one isolated ``measure(f)`` costs beyond the traced call itself
2. determinism: spread of ``measure(f).peak`` over repeats, in one process and in fresh ones
3. pytest-memray: do its ``limit_memory`` verdicts agree with ours, and what does it cost
4. slowdown: tracemalloc's cost on the exercises, and the headroom under the 30 s time limit

Every comparison is between medians measured side by side in this run (the machine
is shared and noisy); the two fixed goals (30 ms overhead, 0.5 % spread) are
printed as PASS/FAIL, never asserted. The report is also written to
benchmarks/results-latest.json.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import exercises as ex  # noqa: E402
from autograder.checks import DEFAULT_ALLOWANCE  # noqa: E402
from autograder.measurement import DEFAULT_TIME_LIMIT, measure  # noqa: E402
from autograder.units import format_bytes  # noqa: E402

OVERHEAD_GOAL = 0.030  # s, median
SPREAD_GOAL = 0.005  # (max - min) / median
FACTOR = 2.0  # check_memory's default


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def table(title: str, headers: list[str], rows: list[list]) -> None:
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for j, r in enumerate(cells):
        print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if j == 0:
            print("  " + "  ".join("-" * w for w in widths))


def traced_here(f, *args) -> float:
    """Seconds ``f(*args)`` takes in this process under tracemalloc (one frame, as measure() does)."""
    gc.collect()
    tracemalloc.start(1)
    t0 = time.perf_counter()
    f(*args)
    elapsed = time.perf_counter() - t0
    tracemalloc.stop()
    return elapsed


def untraced_here(f, *args) -> float:
    gc.collect()
    t0 = time.perf_counter()
    f(*args)
    return time.perf_counter() - t0


def rss() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def python_cmd(code: str) -> list[str]:
    return [sys.executable, "-c", f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(HERE)!r}]\n{code}"]


# --------------------------------------------------------------------------- 1. overhead

OVERHEAD_FUNCS = [("no-op", ex.noop), ("sum of a 10k generator", ex.sum_generator_10k), ("build a 100k list", ex.build_list_100k)]


def overhead_rows(runs: int = 30) -> list[dict]:
    rows = []
    for name, f in OVERHEAD_FUNCS:
        measure(f)  # warm-up
        here, wall, paired = [], [], []
        for _ in range(runs):  # interleaved, so both sides see the same noise
            here.append(traced_here(f))
            t0 = time.perf_counter()
            m = measure(f)
            wall.append(time.perf_counter() - t0)
            paired.append(wall[-1] - m.elapsed)
        overhead = median(wall) - median(here)
        rows.append({
            "function": name, "rss_bytes": rss(), "runs": runs,
            "traced_in_process_s": median(here), "measure_wall_s": median(wall),
            "overhead_s": overhead, "paired_overhead_s": median(paired),
            "goal_s": OVERHEAD_GOAL, "verdict": "PASS" if overhead <= OVERHEAD_GOAL else "FAIL",
        })
    return rows


def bench_overhead() -> dict:
    plain = overhead_rows()
    code = "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot, numpy, run, json; print(json.dumps(run.overhead_rows()))"
    out = subprocess.run(python_cmd(code), capture_output=True, text=True, check=True).stdout
    heavy = json.loads(out.strip().splitlines()[-1])
    rows = [[process, r["function"], format_bytes(r["rss_bytes"]), ms(r["traced_in_process_s"]), ms(r["measure_wall_s"]),
             ms(r["overhead_s"]), ms(r["paired_overhead_s"]), r["verdict"]]
            for process, results in (("plain", plain), ("matplotlib+numpy", heavy)) for r in results]
    table(f"1. Overhead of one measure() beyond the traced call (medians of {plain[0]['runs']}; goal <= {ms(OVERHEAD_GOAL)})",
          ["process", "function", "RSS", "traced here", "measure() wall", "overhead", "wall - elapsed", "goal"], rows)
    print("  overhead = median measure() wall - median traced run here; wall - elapsed: per run, against the child's own timing")
    return {"plain": plain, "matplotlib_numpy": heavy}


# --------------------------------------------------------------------------- 2. determinism

DETERMINISM_FUNCS = [
    ("sum of squares, list, 300k", "sum_of_squares_list", 300_000),
    ("sum of squares, generator, 300k", "sum_of_squares_generator", 300_000),
    ("chunked consume, chunks of 100, 200k", "consume_reference", 200_000),
]


def spread(peaks: list[int]) -> float:
    return (max(peaks) - min(peaks)) / median(peaks) if median(peaks) else float(max(peaks) > 0)


def bench_determinism(repeats: int = 20, processes: int = 10) -> list[dict]:
    code = ("import json, exercises as ex; from autograder.measurement import measure\n"
            f"print(json.dumps([measure(getattr(ex, f), n).peak for _, f, n in {DETERMINISM_FUNCS!r}]))")
    fresh = [json.loads(subprocess.run(python_cmd(code), capture_output=True, text=True, check=True).stdout)
             for _ in range(processes)]
    results, rows = [], []
    for i, (name, func, n) in enumerate(DETERMINISM_FUNCS):
        same = [measure(getattr(ex, func), n).peak for _ in range(repeats)]
        across = [peaks[i] for peaks in fresh]
        r = {"function": name, "median_peak_bytes": median(same), "same_process_peaks": same, "fresh_process_peaks": across,
             "same_process_spread": spread(same), "fresh_process_spread": spread(across)}
        r["verdict"] = "PASS" if max(r["same_process_spread"], r["fresh_process_spread"]) <= SPREAD_GOAL else "FAIL"
        results.append(r)
        rows.append([name, format_bytes(median(same)), f"{r['same_process_spread']:.3%}", format_bytes(max(same) - min(same)),
                     f"{r['fresh_process_spread']:.3%}", format_bytes(max(across) - min(across)), r["verdict"]])
    table(f"2. Determinism of measure().peak: spread = (max - min) / median (goal <= {SPREAD_GOAL:.1%})",
          ["function", "median peak", f"spread, {repeats} in 1 process", "max-min",
           f"spread, {processes} fresh processes", "max-min", "goal"], rows)
    return results


# --------------------------------------------------------------------------- 3. pytest-memray

MEMRAY_PAIRS = [("sum_of_squares", "sum_of_squares_generator", "sum_of_squares_list", 300_000),
                ("chunked", "consume_reference", "consume_naive", 200_000)]


def run_memray(tests: list[dict], tmp: Path, mode: str) -> dict:
    """Run the generated limit_memory tests under ``pytest --memray``; per test: passed, memray's peak, seconds."""
    from memray import FileReader

    bins, xml = tmp / f"bins-{mode}", tmp / f"junit-{mode}.xml"
    bins.mkdir()
    cmd = [sys.executable, "-m", "pytest", "--memray", "--memray-bin-path", str(bins), "--memray-bin-prefix", "bench",
           "-p", "no:cacheprovider", "-q", "-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp), "--junitxml", str(xml),
           str(tmp / "test_limits.py")] + (["--trace-python-allocators"] if mode == "pymalloc" else [])
    env = {k: v for k, v in os.environ.items() if k != "MEMRAY_RESULT_PATH"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=env)
    wall = time.perf_counter() - t0
    cases = {c.get("name"): c for c in ET.parse(xml).iter("testcase")}
    out = {"wall_s": wall, "exit_code": proc.returncode, "tests": {}}
    for t in tests:
        case = cases[t["test"]]
        if case.find("error") is not None or case.find("skipped") is not None:
            raise RuntimeError(f"pytest --memray could not run {t['test']}:\n{proc.stdout[-3000:]}")
        [binary] = bins.glob(f"*-{t['test']}.bin")
        peak = sum(rec.size for rec in FileReader(binary).get_high_watermark_allocation_records(merge_threads=True))
        out["tests"][t["test"]] = {"passed": case.find("failure") is None, "peak_bytes": peak, "seconds": float(case.get("time"))}
    return out


def bench_memray() -> dict:
    tests = []
    for exercise, ref, naive, n in MEMRAY_PAIRS:
        target = int(FACTOR * measure(getattr(ex, ref), n).peak + DEFAULT_ALLOWANCE)  # as check_memory computes it
        for role, func in (("reference", ref), ("naive", naive)):
            t0 = time.perf_counter()
            m = measure(getattr(ex, func), n)
            wall = time.perf_counter() - t0
            tests.append({"test": f"test_{exercise}_{role}", "func": func, "n": n, "role": role, "target_bytes": target,
                          "peak_bytes": m.peak, "passed": m.peak <= target, "measure_wall_s": wall})
    source = [f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport pytest\nimport exercises\n"]
    for t in tests:
        source.append(f'\n@pytest.mark.limit_memory("{t["target_bytes"]}B")\ndef {t["test"]}():\n    exercises.{t["func"]}({t["n"]})\n')
    with tempfile.TemporaryDirectory(prefix="memray-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "pytest.ini").write_text("[pytest]\n")
        (tmp / "test_limits.py").write_text("".join(source))
        runs = {mode: run_memray(tests, tmp, mode) for mode in ("default", "pymalloc")}
    ours_wall = sum(t["measure_wall_s"] for t in tests)
    rows = []
    for t in tests:
        d, p = runs["default"]["tests"][t["test"]], runs["pymalloc"]["tests"][t["test"]]
        verdict = lambda ok: "pass" if ok else "FAIL"  # noqa: E731
        rows.append([t["test"], format_bytes(t["target_bytes"]), format_bytes(t["peak_bytes"]), verdict(t["passed"]),
                     format_bytes(d["peak_bytes"]), verdict(d["passed"]), format_bytes(p["peak_bytes"]), verdict(p["passed"]),
                     ms(t["measure_wall_s"]), ms(d["seconds"]), ms(p["seconds"])])
    expected = {t["test"]: t["role"] == "reference" for t in tests}
    summary = {
        "ours_as_expected": all(t["passed"] == expected[t["test"]] for t in tests),
        **{f"{mode}_agrees": all(r["tests"][k]["passed"] == v for k, v in expected.items()) for mode, r in runs.items()},
        "our_measure_wall_s": ours_wall,
        **{f"{mode}_run_wall_s": r["wall_s"] for mode, r in runs.items()},
        **{f"{mode}_ratio_run": r["wall_s"] / ours_wall for mode, r in runs.items()},
        **{f"{mode}_ratio_tests": sum(x["seconds"] for x in r["tests"].values()) / ours_wall for mode, r in runs.items()},
    }
    table(f"3. pytest-memray's limit_memory vs our check_memory (target = {FACTOR:g} x reference peak + {format_bytes(DEFAULT_ALLOWANCE)})",
          ["test", "target", "tracemalloc", "ours", "memray", "verdict", "memray pymalloc", "verdict",
           "measure()", "memray test", "pymalloc test"], rows)
    yes = lambda ok: "yes" if ok else "NO"  # noqa: E731
    print("  memray sees malloc only by default (pymalloc's arenas, not objects); pymalloc = --trace-python-allocators")
    print(f"  verdicts as expected (reference passes, naive fails): ours {yes(summary['ours_as_expected'])}, "
          f"memray default {yes(summary['default_agrees'])}, memray pymalloc {yes(summary['pymalloc_agrees'])}")
    print(f"  time: our {len(tests)} measure() calls {ms(ours_wall)}; whole `pytest --memray` run "
          f"{summary['default_run_wall_s']:.2f} s (x{summary['default_ratio_run']:.1f}), with pymalloc "
          f"{summary['pymalloc_run_wall_s']:.2f} s (x{summary['pymalloc_ratio_run']:.1f}); "
          f"its 4 tests alone x{summary['default_ratio_tests']:.2f} and x{summary['pymalloc_ratio_tests']:.2f} of ours")
    return {"tests": tests, "memray": runs, "summary": summary}


# --------------------------------------------------------------------------- 4. slowdown

SLOWDOWN_FUNCS = [
    ("sum_of_squares (loop reference), 300k", ex.sum_of_squares_loop, 300_000),
    ("chunked consume (reference), 200k", ex.consume_reference, 200_000),
    ("share_equal (reference), 100k labels", ex.share_equal_reference, 100_000),
    ("Record (slotted reference), 200k", ex.fill_records, 200_000),
    ("pack_ints (reference), 1M", ex.pack_ints_reference, 1_000_000),
]


def bench_slowdown(runs: int = 5) -> list[dict]:
    results, rows = [], []
    for name, f, n in SLOWDOWN_FUNCS:
        f(n)  # warm-up
        plain, traced = [], []
        for _ in range(runs):
            plain.append(untraced_here(f, n))
            traced.append(traced_here(f, n))
        r = {"function": name, "untraced_s": median(plain), "traced_s": median(traced),
             "slowdown": median(traced) / median(plain), "headroom_30s": DEFAULT_TIME_LIMIT / median(traced)}
        results.append(r)
        rows.append([name, ms(r["untraced_s"]), ms(r["traced_s"]), f"x{r['slowdown']:.2f}", f"{r['headroom_30s']:,.0f}x"])
    table(f"4. tracemalloc slowdown on the exercises (medians of {runs}); headroom = {DEFAULT_TIME_LIMIT:g} s per call / traced time",
          ["function", "untraced", "traced", "slowdown", "headroom"], rows)
    return results


def main() -> None:
    t0 = time.perf_counter()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    report = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0]}
    report["seconds"] = {}
    for name, bench in (("overhead", bench_overhead), ("determinism", bench_determinism),
                        ("memray", bench_memray), ("slowdown", bench_slowdown)):
        start = time.perf_counter()
        report[name] = bench()
        report["seconds"][name] = time.perf_counter() - start
        print(f"  ({report['seconds'][name]:.0f} s)")
    report["total_s"] = time.perf_counter() - t0
    report["load_average_after"] = os.getloadavg()[0]
    (HERE / "results-latest.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"\n{report['total_s']:.0f} s in all (load average {report['load_average_after']:.2f}); written to {(HERE / 'results-latest.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
