"""Checks: verdicts, one-line messages in binary units, hints, and machine-readable records."""

import json
import weakref

import pytest

from autograder import (CheckFailed, KiB, check_freed, check_memory, check_no_growth, check_result, check_scaling,
                        format_bytes, partial_credit, quiz)


def ref_sum(n):
    total = 0
    for x in range(n):
        total += x * x
    return total


def naive_sum(n):
    return sum([x * x for x in range(n)])


def lazy_sum(n):
    return sum(x * x for x in range(n))


@pytest.mark.parametrize("n, text", [(0, "0 B"), (512, "512 B"), (1536, "1.5 KiB"), (39_950_000, "38.1 MiB"),
                                     (3 * 2**30, "3.0 GiB"), (-2048, "-2.0 KiB")])
def test_format_bytes_uses_binary_units(n, text):
    assert format_bytes(n) == text


def test_check_result_passes_and_fails_with_the_call_in_the_message():
    check_result(lazy_sum, 10, expected=285)
    with pytest.raises(CheckFailed) as e:
        check_result(lambda n: 284, 10, expected=285, exercise="sum_of_squares")
    assert str(e.value) == "sum_of_squares: <lambda>(10) returned 284; expected 285"


def test_check_result_rejects_an_equal_value_of_another_type():
    with pytest.raises(CheckFailed, match="of type float; expected type int"):
        check_result(lambda: 285.0, expected=285, exercise="x")


def test_unimplemented_solution_gets_a_hint():
    def sum_of_squares(n):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as e:
        check_result(sum_of_squares, 3, expected=5)
    first, hint = str(e.value).splitlines()[:2]
    assert first.startswith("sum_of_squares: sum_of_squares(3) raised NotImplementedError")
    assert "replace the `raise NotImplementedError()` line" in hint


def test_a_name_the_notebook_never_defined_gets_a_hint():
    def build_tree(n):
        return Node(n)  # noqa: F821 -- the exercise cell that defines Node was never written

    with pytest.raises(CheckFailed) as e:
        check_result(build_tree, 3, expected=None)
    first, hint = str(e.value).splitlines()[:2]
    assert "raised NameError" in first
    assert hint == "write Node in its exercise cell and run that cell (the code under test needs it)"


def test_endless_loop_in_a_correctness_check_fails_cleanly():
    def forever(n):
        while True:
            pass

    with pytest.raises(CheckFailed, match=r"forever\(1\) did not finish within 1 s"):
        check_result(forever, 1, expected=0, time_limit=1)


def test_check_memory_passes_the_lazy_way_and_fails_the_naive_way(tmp_path, monkeypatch):
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv("AUTOGRADER_RESULTS", str(results))
    check_memory(lazy_sum, (200_000,), reference=ref_sum, naive=naive_sum, exercise="sum_of_squares")
    with pytest.raises(CheckFailed) as e:
        check_memory(naive_sum, (200_000,), reference=ref_sum, naive=naive_sum, exercise="sum_of_squares")
    lines = str(e.value).splitlines()
    assert lines[0].startswith("sum_of_squares: peak ")
    assert " MiB is over the target " in lines[0] and " (reference: " in lines[0] and ", naive: " in lines[0]
    assert lines[1] == "where your code held memory at the peak:"
    assert "return sum([x * x for x in range(n)])" in lines[2]
    recs = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["verdict"] for r in recs] == ["pass", "fail"]
    passed, failed = recs
    assert passed["exercise"] == "sum_of_squares" and passed["check"] == "peak"
    assert passed["measured"] <= passed["target"] < failed["measured"]
    assert passed["reference"] == failed["reference"] and passed["naive"] > 6 * 2**20
    assert passed["python"].count(".") == 2


def test_check_memory_on_retained_memory():
    def keeps_list(n):
        return list(range(n))

    def keeps_nothing(n):
        return len(list(range(n)))

    check_memory(keeps_nothing, (50_000,), reference=keeps_nothing, metric="retained", exercise="r")
    with pytest.raises(CheckFailed, match=r"^r: retained .* is over the target"):
        check_memory(keeps_list, (50_000,), reference=keeps_nothing, metric="retained", exercise="r",
                     same_result=False)


def test_memory_counts_only_for_the_right_answer():
    def cheap_when_large(n):  # right on the small inputs a correctness check would try, cheap and wrong on large ones
        return 0 if n > 100_000 else sum([x * x for x in range(n)])

    with pytest.raises(CheckFailed, match=r"^s: cheap_when_large\(200000\) returned 0 while its memory was measured, "
                                          r"but the reference returned \d+: memory counts only for the right answer"):
        check_memory(cheap_when_large, (200_000,), reference=ref_sum, exercise="s", same_result=True)
    with pytest.raises(CheckFailed, match="memory counts only for the right answer"):
        check_scaling(cheap_when_large, (50_000, 200_000), reference=ref_sum, exercise="s", same_result=True)


def test_check_scaling_constant_and_linear():
    check_scaling(lazy_sum, (50_000, 200_000), growth="constant", reference=ref_sum, naive=naive_sum, exercise="s")
    with pytest.raises(CheckFailed, match=r"^s: peak grew from .* at n=50,000 to .* at n=200,000, but should stay constant"):
        check_scaling(naive_sum, (50_000, 200_000), growth="constant", exercise="s")
    check_scaling(naive_sum, (50_000, 200_000), growth="linear", exercise="s")

    def quadratic(n):
        return len([0] * (n * n // 1000))

    with pytest.raises(CheckFailed, match="grow at most linearly"):
        check_scaling(quadratic, (5_000, 20_000), growth="linear", exercise="s")


def test_quiz_format_and_choice():
    quiz.check_format("B", "abcd", "Q1")
    quiz.check_format(" (c) ", "abcd", "Q1")
    with pytest.raises(CheckFailed, match="Q1: no answer yet"):
        quiz.check_format(None, "abcd", "Q1")
    with pytest.raises(CheckFailed, match=r"Q1: 'e' is not one of the choices"):
        quiz.check_format("e", "abcd", "Q1")
    quiz.check_choice("b", "b", "because.", "Q1")
    with pytest.raises(CheckFailed, match=r"^Q1: 'a' is not right\. Generators keep one value\.$"):
        quiz.check_choice("a", "b", "Generators keep one value.", "Q1")


class StrongNode:
    def __init__(self, data):
        self.data, self.children, self.parent = data, [], None

    def add_child(self, child):
        self.children.append(child)
        child.parent = self


class WeakNode(StrongNode):
    def add_child(self, child):
        self.children.append(child)
        child.parent = weakref.ref(self)


def tree(cls, depth=3, width=4):
    root = level = cls(0)
    level = [root]
    for d in range(depth):
        level = [c for n in level for c in [cls(d) for _ in range(width)] if not n.add_child(c)]
    return root


def test_check_freed_tells_weak_from_strong_parents():
    check_freed(lambda: tree(WeakNode), types=["WeakNode"], exercise="Node")
    with pytest.raises(CheckFailed) as e:
        check_freed(lambda: tree(StrongNode), types=["StrongNode"], exercise="Node")
    lines = str(e.value).splitlines()
    assert lines[0].startswith("Node: 85 of 85 StrongNode objects")
    assert "survived dropping the structure" in lines[0]
    assert "weakref.ref" in lines[1]
    assert lines[2] == "where the memory left was allocated:"
    assert any("self.data, self.children, self.parent = data, [], None" in line for line in lines[3:])


_log = []


def test_check_no_growth_finds_the_leaking_line():
    def fine(i):
        return {"id": i}

    def leaky(i):
        _log.append({"id": i, "payload": "x" * 100})
        return i

    check_no_growth(fine, exercise="handler", calls=1000, warmup=100, allowance=16 * KiB)
    with pytest.raises(CheckFailed) as e:
        check_no_growth(leaky, exercise="handler", calls=1000, warmup=100, allowance=16 * KiB)
    lines = str(e.value).splitlines()
    assert lines[0].startswith("handler: memory grew by ") and "over 1,000 then 4,000 calls" in lines[0]
    assert "per call): a leak" in lines[0]
    assert any('_log.append({"id": i, "payload": "x" * 100})' in line for line in lines[1:])
    assert _log == []  # the leak happened in the child only


def test_check_no_growth_does_not_count_what_is_printed():
    import io
    import sys

    def chatty(i):  # a handler that prints and logs to stderr on every call: its output is not kept memory
        print(f"request {i}: " + "x" * 100)
        sys.stderr.write(f"request {i} done\n")
        return i

    check_no_growth(chatty, exercise="handler", calls=1000, warmup=100)

    own = io.StringIO()  # but a log the code keeps in a stream of its own is

    def logging_to_its_own_stream(i):
        own.write(f"request {i}: " + "x" * 100)
        return i

    with pytest.raises(CheckFailed, match="per call\\): a leak"):
        check_no_growth(logging_to_its_own_stream, exercise="handler", calls=1000, warmup=100)


class _ChattyNode:
    def __init__(self, data):
        self.data, self.children = data, []
        print(f"made node {data} " + "x" * 50)  # before the output was trimmed: 255 KiB 'left' per structure


def test_check_freed_does_not_count_what_is_printed():
    def build():
        root = _ChattyNode(0)
        root.children.extend(_ChattyNode(i) for i in range(2000))
        return root

    check_freed(build, exercise="Node")


def test_memory_hidden_from_tracemalloc_fails_the_memory_check():
    import mmap

    def hidden(n):
        m = mmap.mmap(-1, 64 * 2**20)
        for _ in range(64):  # touch every page, 1 MiB at a time
            m.write(b"x" * 2**20)
        return n

    with pytest.raises(CheckFailed, match=r"grew its resident memory by .* MiB while tracemalloc saw a peak of only"):
        check_memory(hidden, (1,), reference=lambda n: n, exercise="x")


def test_a_result_object_cannot_fool_the_comparison():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    with pytest.raises(CheckFailed, match="returned an object of type AlwaysEqual; return plain data"):
        check_result(lambda: AlwaysEqual(), expected=285, exercise="x")

    class Exploit:
        def __reduce__(self):  # would run in the grading kernel when unpickled
            import os
            return (os._exit, (0,))

    with pytest.raises(CheckFailed, match="returned a list holding an object of type Exploit"):
        check_result(lambda: [Exploit()], expected=[285], exercise="x")


def test_partial_credit_adds_up_passing_checks(capsys):
    def passing():
        check_result(lazy_sum, 3, expected=5)

    def failing():
        check_result(lazy_sum, 3, expected=6, exercise="sum_of_squares")

    assert partial_credit(passing, passing, points=[1, 2]) == 3
    capsys.readouterr()
    assert partial_credit(passing, failing, points=[1, 2]) == 1
    out, err = capsys.readouterr()
    assert "✗ lost 2 points: sum_of_squares: lazy_sum(3) returned 5; expected 6" in out and err == ""
    with pytest.raises(CheckFailed, match="returned 5; expected 6"):
        partial_credit(failing)


def test_chart_is_a_png_for_memory_checks_only():
    from autograder.charts import chart_png

    rec = {"exercise": "e", "check": "peak", "verdict": "fail", "measured": 10 * 2**20, "target": 20 * KiB,
           "reference": 300, "naive": 11 * 2**20}
    assert chart_png(rec).startswith(b"\x89PNG")
    scaling = {"exercise": "e", "check": "scaling", "verdict": "pass", "growth": "constant", "sizes": [10, 40],
               "measured": [300, 300], "target": 20 * KiB, "reference": [200, 200], "naive": None}
    assert chart_png(scaling).startswith(b"\x89PNG")
    assert chart_png({"exercise": "Q1", "check": "quiz", "verdict": "pass"}) is None


def test_quiz_short_answers():
    quiz.check_filled("reference counting", "Q8")
    quiz.check_filled(56, "Q9", kind=(int, float))
    with pytest.raises(CheckFailed, match="Q8: no answer yet; set it to text"):
        quiz.check_filled("  ", "Q8", kind=str)
    with pytest.raises(CheckFailed, match="Q9: 'many' is not a number"):
        quiz.check_filled("many", "Q9", kind=(int, float))
    quiz.check_short("  Reference   Counting. ", ["reference counting", "refcounting"], "…", "Q8")
    quiz.check_short("`sys.intern`", "sys.intern", "…", "Q10")
    quiz.check_short(57, [56], "…", "Q9", tolerance=0.05)
    with pytest.raises(CheckFailed, match=r"^Q8: 'garbage collection' is not right\. Refcounts free it\.$"):
        quiz.check_short("garbage collection", ["reference counting"], "Refcounts free it.", "Q8")


def test_quiz_answers_must_be_plain_values():
    from autograder.shipping import LearnerName

    class Sneaky(str):  # equal to every letter
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    refused = r'^Q1: answer with a plain str such as "a", not an object of type Sneaky \(its comparisons could lie\)$'
    # in a kernel the answer is the object itself; in the trusted grader, a reference into the learner's process
    for answer in (Sneaky("b"), LearnerName("q1", "Sneaky")):
        for check in (lambda a: quiz.check_format(a, "abcd", "Q1"), lambda a: quiz.check_choice(a, "b", "…", "Q1"),
                      lambda a: quiz.check_answer(a, "Q1")):
            with pytest.raises(CheckFailed, match=refused):
                check(answer)

    class Count(int):
        pass

    with pytest.raises(CheckFailed, match="^Q9: answer with a plain str or number .* not an object of type Count"):
        quiz.check_short(Count(56), [56], "…", "Q9")
    with pytest.raises(CheckFailed, match="^Q9: answer with a plain number such as 42, not an object of type Count"):
        quiz.check_filled(Count(56), "Q9", kind=(int, float))


def test_record_requirement_counts_check_calls():
    from autograder.nbgrader_hooks import count_check_calls

    source = ('check_result(f, 1, expected=2)\n# check_memory(f) in a comment\nquiz.check_short(q, "x", "y")\n'
              '"""a docstring that mentions check_result( is not a call"""\nmessage = "check_memory(f)"\n')
    assert count_check_calls(source) == 2
