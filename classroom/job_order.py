"""Which submission the class command hands to Dask next.

First the first submission of each assignment, in the plan's order: it measures the assignment's reference
solutions, which its other submissions then reuse, and tells how long the assignment's submissions take. Then, of
the rest, one of the assignment whose submissions have taken longest so far, so that a run does not end with one
worker on a long submission while the others have nothing left to do. The command keeps only a few submissions
queued beyond the running ones (:data:`QUEUED_PER_WORKER`), so the order follows what it learns.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

QUEUED_PER_WORKER = 1  # submissions waiting for each worker, so that none waits for the command


class JobOrder:
    """The jobs (anything with an ``assignment``) still to hand out, and how long each assignment's took."""

    def __init__(self, jobs):
        self.pending = list(jobs)
        self.started: set = set()
        self.seconds: dict = defaultdict(list)

    def __len__(self) -> int:
        return len(self.pending)

    def done(self, job, seconds: float) -> None:
        """``job`` took ``seconds`` on its worker."""
        self.seconds[job.assignment].append(seconds)

    def next(self):
        """The next job to hand out (there must be one)."""
        for i, job in enumerate(self.pending):
            if job.assignment not in self.started:
                self.started.add(job.assignment)
                return self.pending.pop(i)
        known = [s for taken in self.seconds.values() for s in taken]
        unknown = statistics.mean(known) if known else 0.0  # an assignment none of whose submissions is back yet

        def expected(i: int) -> float:
            taken = self.seconds.get(self.pending[i].assignment)
            return statistics.mean(taken) if taken else unknown

        # max() keeps the first of equals: the plan's order
        return self.pending.pop(max(range(len(self.pending)), key=expected))
