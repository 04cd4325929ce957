"""classroom/job_order.py: each assignment's first submission first, then the longest first."""

from dataclasses import dataclass

from classroom.job_order import JobOrder


@dataclass(frozen=True)
class Job:
    assignment: str
    student: str


def test_first_one_of_each_assignment_in_the_plans_order_then_the_longest_first():
    plan = [Job(a, s) for s in ("ann", "bob", "cy") for a in ("short", "long", "unknown")]
    order = JobOrder(plan)
    firsts = [order.next() for _ in range(3)]
    assert firsts == [Job("short", "ann"), Job("long", "ann"), Job("unknown", "ann")]
    order.done(firsts[0], 2.0)
    order.done(firsts[1], 20.0)
    # "unknown" has none back yet: it counts as the mean of those back (11 s)
    assert [order.next() for _ in range(2)] == [Job("long", "bob"), Job("long", "cy")]
    assert order.next() == Job("unknown", "bob")
    order.done(firsts[2], 1.0)
    assert [order.next() for _ in range(3)] == [Job("short", "bob"), Job("short", "cy"), Job("unknown", "cy")]
    assert not order


def test_one_assignment_keeps_the_plans_order():
    plan = [Job("a", s) for s in ("ann", "bob", "cy", "dee")]
    order = JobOrder(plan)
    out = [order.next()]
    order.done(out[0], 3.0)
    out += [order.next() for _ in range(3)]
    assert out == plan
