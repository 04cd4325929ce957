"""autograder/reference_cache.py: a reference's measurement is reused only for a call identical in everything it
can depend on, and kept only from the trusted grader with the learner's code sandboxed."""

import random
import shutil

import pytest

from autograder import measurement, reference_cache
from autograder.shipping import LearnerName
from test_checks import ref_sum as _reference


@pytest.fixture
def cache(tmp_path):
    reference_cache.enable(tmp_path / "cache")
    yield tmp_path / "cache"
    reference_cache.disable()


def _counting(func, args=(), kwargs=None, result="none"):
    """(Measurement, whether it was measured now) for func(*args, **kwargs) through the cache."""
    calls = []

    def measure():
        calls.append(1)
        return measurement.measure(func, *args, result=result, **(kwargs or {}))

    return reference_cache.measured(func, tuple(args), dict(kwargs or {}), result, measure), bool(calls)


def test_an_identical_call_reuses_the_measurement(cache):
    first, measured = _counting(_reference, (50_000,))
    assert measured and first.ok
    again, measured_again = _counting(_reference, (50_000,))
    assert not measured_again
    assert (again.peak, again.retained, again.elapsed) == (first.peak, first.retained, first.elapsed)
    assert len(list(cache.glob("*.pickle"))) == 1


def test_other_arguments_or_result_modes_are_measured_afresh(cache):
    _counting(_reference, (50_000,))
    assert _counting(_reference, (50_001,))[1]
    assert _counting(_reference, (50_000,), result="plain")[1]


def test_without_a_folder_nothing_is_kept(tmp_path):
    reference_cache.disable()
    assert _counting(_reference, (1_000,))[1]
    assert _counting(_reference, (1_000,))[1]


def test_failed_measurements_are_not_kept(cache):
    def broken(n):
        raise ValueError("instructor bug")

    assert not _counting(broken, (1,))[0].ok
    assert _counting(broken, (1,))[1]
    assert not list(cache.glob("*.pickle"))


def _digest(func, *args, **kwargs):
    return reference_cache.digest(func, args, kwargs, "none")


def test_the_digest_follows_code_closures_defaults_and_globals():
    def make(step):
        return lambda n: sum(range(0, n, step))

    assert _digest(make(1), 10) == _digest(make(1), 10)
    assert _digest(make(1), 10) != _digest(make(2), 10)  # closure
    assert _digest(lambda n: n + 1, 1) != _digest(lambda n: n + 2, 1)  # code

    def with_default(n, k=3):
        return n * k

    before = _digest(with_default, 1)
    with_default.__defaults__ = (4,)
    assert _digest(with_default, 1) != before  # defaults

    space = {"SCALE": 2}
    exec("def scaled(n):\n    return helper(n) * SCALE\ndef helper(n):\n    return n + 1\n", space)
    before = _digest(space["scaled"], 5)
    space["SCALE"] = 3  # a global the function names
    after_scale = _digest(space["scaled"], 5)
    assert after_scale != before
    exec("def helper(n):\n    return n + 2\n", space)  # a function it calls, followed into its code
    assert _digest(space["scaled"], 5) != after_scale


def test_classes_defined_by_tests_count_by_content_library_ones_by_name():
    def make_class(slots):
        return type("Record", (), {"__slots__": slots, "__init__": lambda self: None})

    assert _digest(make_class(("a", "b"))) == _digest(make_class(("a", "b")))
    assert _digest(make_class(("a", "b"))) != _digest(make_class(("a",)))
    import collections

    assert _digest(collections.OrderedDict) == _digest(collections.OrderedDict)


def test_a_file_argument_counts_by_its_bytes_not_its_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = tmp_path / "a" / "rows.csv", tmp_path / "b" / "rows.csv"
    one.write_text("id,value\n1,2\n")
    two.write_text("id,value\n1,2\n")
    assert _digest(_reference, str(one)) == _digest(_reference, str(two))  # fresh temporary folders, same data
    two.write_text("id,value\n1,3\n")
    assert _digest(_reference, str(one)) != _digest(_reference, str(two))
    files = {1: str(one)}  # a path inside a structure a function reads through a global, too
    space = {"FILES": files}
    exec("def read(key):\n    return open(FILES[key]).read()\n", space)
    before = _digest(space["read"], 1)
    one.write_text("id,value\n9,9\n")
    assert _digest(space["read"], 1) != before


def test_the_random_state_counts():
    random.seed(1)
    before = _digest(_reference, 5)
    random.random()
    assert _digest(_reference, 5) != before


def test_values_with_no_stable_form_are_measured_afresh(cache):
    with pytest.raises(reference_cache.Undigestible):
        _digest(_reference, (x for x in range(3)))
    assert _counting(lambda gen: sum(gen), ((x for x in range(3)),))[1]


def test_learner_names_and_big_lists_of_numbers():
    assert _digest(_reference, LearnerName("f", "function")) != _digest(_reference, LearnerName("g", "function"))
    holder = [None] * 200_000
    assert _digest(_reference, holder) == _digest(_reference, [None] * 200_000)
    assert _digest(_reference, holder) != _digest(_reference, [None] * 199_999 + [0])


def test_a_broken_cache_never_changes_a_measurement(cache):
    first, _ = _counting(_reference, (20_000,))
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(b"not a pickle")  # unreadable: measured afresh, and kept again
    again, measured = _counting(_reference, (20_000,))
    assert measured and again.ok and again.peak > 0
    shutil.rmtree(cache)
    cache.write_text("a file where the folder was")  # nothing can be read or written there, even by root
    third, measured = _counting(_reference, (20_001,))
    assert measured and third.ok and third.peak > 0


def test_a_call_another_process_is_measuring_is_waited_for_not_measured_twice(cache, monkeypatch):
    import fcntl
    import os
    import pickle
    import threading
    import time

    path = cache / f"{reference_cache.digest(_reference, (50_000,), {}, 'none')}.pickle"
    holder = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT)  # another worker, measuring it
    fcntl.flock(holder, fcntl.LOCK_EX)
    got = {}
    waiting = threading.Thread(target=lambda: got.update(zip(("m", "measured"), _counting(_reference, (50_000,)))))
    waiting.start()
    time.sleep(0.3)
    assert waiting.is_alive()
    theirs = measurement.measure(_reference, 50_000, result="none")
    path.write_bytes(pickle.dumps(theirs))
    os.close(holder)
    waiting.join(10)
    assert not got["measured"] and got["m"].peak == theirs.peak

    # a holder that never finishes delays the call by CLAIM_WAIT at most
    monkeypatch.setattr(reference_cache, "CLAIM_WAIT", 0.2)
    path.unlink()
    holder = os.open(path.with_suffix(".lock"), os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        m, measured = _counting(_reference, (50_000,))
        assert measured and m.ok
    finally:
        os.close(holder)
