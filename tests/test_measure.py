"""The isolated measurement: right numbers, and every failure mode becomes a message while the parent lives on."""

import ctypes
import os
import sys
import threading
import time
import tracemalloc
import warnings

import pytest

from autograder import KiB, MiB, measure
from autograder.measurement import CRASH, EXCEPTION, MEMORY, TAMPERED, TIMEOUT, UNPICKLABLE


def squares_sum_lazy(n):
    return sum(x * x for x in range(n))


def squares_sum_list(n):
    return sum([x * x for x in range(n)])


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_lazy_and_list_peaks_differ_by_orders_of_magnitude():
    lazy = measure(squares_sum_lazy, 200_000)
    eager = measure(squares_sum_list, 200_000)
    assert lazy.ok and eager.ok
    assert lazy.result == eager.result == squares_sum_lazy(200_000)
    assert lazy.peak < 4096
    # 200,000 list slots (8 B) + ints (28-32 B): at least 6 MiB
    assert eager.peak > 6 * MiB
    assert eager.peak > 1000 * lazy.peak


def test_peak_grows_linearly_for_a_list():
    small = measure(squares_sum_list, 100_000).peak
    big = measure(squares_sum_list, 400_000).peak
    assert 3.5 < big / small < 4.5


def test_retained_counts_the_returned_result():
    m = measure(lambda: list(range(100_000)))
    assert m.retained >= 100_000 * 8  # the list's slots at least
    assert m.peak >= m.retained
    assert len(m.result) == 100_000


def test_repeated_measurements_agree():
    peaks = {measure(squares_sum_list, 50_000).peak for _ in range(5)}
    assert max(peaks) - min(peaks) <= 0.005 * max(peaks)


def test_memory_bomb_is_capped_and_parent_memory_unaffected():
    before = rss_bytes()

    def bomb():
        hoard = []
        while True:
            hoard.append(bytearray(1 << 20))

    m = measure(bomb, memory_cap=64 * MiB)
    assert not m.ok and m.error_kind == MEMORY
    assert "64.0 MiB" in m.error
    assert rss_bytes() - before < 16 * MiB


def test_endless_loop_hits_the_time_limit():
    t0 = time.monotonic()
    m = measure(lambda: time.sleep(60), time_limit=1)
    assert m.error_kind == TIMEOUT and "1 s" in m.error
    assert time.monotonic() - t0 < 10


def test_busy_loop_in_pure_python_hits_the_time_limit():
    def spin():
        while True:
            pass

    m = measure(spin, time_limit=1)
    assert m.error_kind == TIMEOUT


def test_segfault_is_a_crash_message():
    m = measure(lambda: ctypes.string_at(0))
    assert m.error_kind == CRASH and "SIGSEGV" in m.error


def test_exception_names_type_message_and_line():
    def broken(x):
        return x[9]

    m = measure(broken, [1, 2])
    assert m.error_kind == EXCEPTION
    assert m.error.startswith("raised IndexError: list index out of range at test_measure.py line")
    assert "return x[9]" in m.error


def test_unpicklable_result_is_reported():
    m = measure(lambda: (x for x in range(3)))
    assert m.error_kind == UNPICKLABLE and "generator" in m.error


def test_exit_without_result_is_reported():
    m = measure(lambda: os._exit(3))
    assert m.error_kind == CRASH and "exit code 3" in m.error


def test_sys_exit_is_an_ordinary_failure():
    m = measure(lambda: sys.exit(2))
    assert m.error_kind == EXCEPTION and "SystemExit" in m.error


def test_stopping_tracemalloc_is_tampering_and_parent_state_kept():
    tracemalloc.start()
    try:
        # by module attribute (tripwires) and through references taken beforehand (the canary)
        stop, clear = tracemalloc.stop, tracemalloc.clear_traces
        tampers = [
            lambda: tracemalloc.stop(), lambda: tracemalloc.clear_traces(), lambda: tracemalloc.reset_peak(),
            lambda: tracemalloc.start(5), stop, clear, lambda: (stop(), tracemalloc.start()),
        ]
        for i, tamper in enumerate(tampers):
            m = measure(tamper)
            assert m.error_kind == TAMPERED, i
            assert "must not control tracemalloc" in m.error
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()
    assert not tracemalloc.is_tracing()
    # the child traces, but code under test is told it is not, so it cannot behave differently when measured
    assert measure(lambda: (tracemalloc.is_tracing(), tracemalloc.get_traced_memory())).result == (False, (0, 0))


from tracemalloc import reset_peak as captured_reset_peak  # noqa: E402  (a reference taken before measuring)


def test_a_control_function_captured_beforehand_is_still_caught():
    def sneaky(n):
        big = [0] * n
        del big
        captured_reset_peak()  # hides the peak above, if it worked
        return 1

    m = measure(sneaky, 1_000_000)
    assert m.error_kind == TAMPERED and "reset_peak" in m.error


def test_work_in_another_process_is_not_allowed():
    import subprocess

    m = measure(lambda: subprocess.run([sys.executable, "-c", "x = [0] * 10**6"]).returncode)
    assert m.error_kind == TAMPERED and "another process" in m.error


def test_plain_results_only_for_checks():
    class LazyList(list):
        def __eq__(self, other):  # would run in the grading kernel if compared there
            return True

    m = measure(lambda: LazyList([1]), result="plain")
    assert m.error_kind == UNPICKLABLE and "LazyList" in m.error
    m = measure(lambda: [1, (2, "x"), {3: frozenset({4})}], result="plain")
    assert m.ok and m.result == [1, (2, "x"), {3: frozenset({4})}]
    assert measure(lambda: list(range(10**5)), result="none").result is None


def test_output_is_captured_and_nothing_reaches_parent_fds(capfd):
    def noisy():
        print("to stdout")
        print("to stderr", file=sys.stderr)
        os.write(2, b"raw fd 2\n")
        warnings.warn("a warning")
        return 7

    m = measure(noisy)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert m.result == 7
    assert "to stdout" in m.output and "to stderr" in m.output


def test_printing_costs_the_measured_call_no_memory():
    """What the call prints goes to a file, not to a StringIO in the measured process: 20,000 progress lines
    (about 640 KB of text) cost the call nothing (a StringIO charged all of it to peak and retained)."""
    def quiet(n):
        return n

    def progress(n):
        for i in range(n):
            print(f"line {i} of the progress report")
        return n

    q, m = measure(quiet, 20_000), measure(progress, 20_000)
    assert m.result == 20_000 and m.output.endswith("line 19999 of the progress report\n")
    assert m.peak < 16 * KiB and m.retained - q.retained < 1 * KiB


def test_code_that_closes_or_detaches_its_stdout_is_still_measured():
    def closes():
        print("before")
        sys.stdout.close()
        return 1

    def detaches():
        print("before")
        sys.stdout.detach()
        return 2

    assert measure(closes).result == 1 and measure(detaches).result == 2


def test_forking_with_threads_raises_no_warning():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m = measure(squares_sum_lazy, 10)
    finally:
        stop.set()
    assert m.ok and m.result == 285


def test_diagnosis_names_the_wasteful_line():
    m = measure(squares_sum_list, 100_000, diagnose=True)
    assert m.top_sites, "no allocation sites found"
    top = m.top_sites[0]
    assert top.filename.endswith("test_measure.py")
    assert "sum([x * x for x in range(n)])" in top.code
    assert top.size > 0.5 * m.peak


def test_rss_signal_sees_memory_tracemalloc_cannot():
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p

    def c_alloc():
        p = libc.malloc(64 * MiB)
        ctypes.memset(p, 1, 64 * MiB)  # touch the pages so they are resident
        return 0

    m = measure(c_alloc)
    assert m.ok
    assert m.peak < 64 * 1024  # tracemalloc is blind to malloc from C
    assert m.anon_growth > 48 * MiB


@pytest.mark.parametrize("n", [0, 1])
def test_trivial_calls(n):
    m = measure(squares_sum_lazy, n)
    assert m.ok and m.result == 0 and m.peak < 2048
