"""Correct but wasteful solutions for 03-measuring-memory: they must lose exactly the memory points."""
WASTEFUL = {  # solution cell grade_id -> the whole cell source a wasteful-but-correct learner would write
    "mprof_peak": (
        "def mprof_peak(path):\n"
        "    \"\"\"Reads every line first, then looks for the peak.\"\"\"\n"
        "    with open(path) as f:\n"
        "        lines = f.readlines()\n"
        "    samples = [line.split()[1:3] for line in lines if line.startswith(\"MEM \")]\n"
        "    if not samples:\n"
        "        return None\n"
        "    values = [(float(m), float(t)) for m, t in samples]\n"
        "    peak = max(m for m, _ in values)\n"
        "    when = next(t for m, t in values if m == peak)\n"
        "    return peak, when - values[0][1]\n"
    ),
    # compare_peaks has no memory test: this other harness (it reuses peak_memory and keeps both results
    # alive) must keep every point, so the correctness tests accept any honest harness.
    "compare_peaks": (
        "def compare_peaks(naive, optimised, *args, **kwargs):\n"
        '    """Reuses peak_memory, and keeps both results alive until it returns."""\n'
        "    naive_result, naive_peak = peak_memory(naive, *args, **kwargs)\n"
        "    optimised_result, optimised_peak = peak_memory(optimised, *args, **kwargs)\n"
        '    return {"naive": naive_peak, "optimised": optimised_peak, "saving": 1 - optimised_peak / naive_peak}\n'
    ),
}
MEMORY_TESTS = {"test_mprof_peak_memory"}  # the test cells WASTEFUL must fail; every other must pass
