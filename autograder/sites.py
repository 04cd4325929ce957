"""Which lines of the learner's own code held the memory at the peak.

tracemalloc only snapshots what is allocated *now*, and a peak is usually freed
again before the call returns. In a diagnostic run, :class:`PeakWatcher` watches
the traced memory at every line of the learner's code and every call into C, and
snapshots each time it reaches a new high (geometrically, so only a handful of
snapshots are taken). Each allocation is charged to the innermost frame that is
the learner's own code -- not the standard library, not site-packages, not the
autograder -- so ``sum([x * x for x in range(n)])`` is blamed on that line rather
than on a frame inside ``sum``.
"""

from __future__ import annotations

import _tracemalloc
import functools
import linecache
import os
import re
import sys
import sysconfig
import tracemalloc
from typing import NamedTuple

_AUTOGRADER_DIR = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_DIRS = tuple(
    {os.path.realpath(p) for p in (sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")) if p}
)
_IPYKERNEL_CELL = re.compile(r"ipykernel_\d+[/\\]\d+\.py$")


class AllocationSite(NamedTuple):
    """One line of the learner's code and what it held at the peak."""

    filename: str
    lineno: int
    size: int
    count: int
    code: str

    @property
    def where(self) -> str:
        return f"{describe_file(self.filename)} line {self.lineno}"


LEARNER, AUTOGRADER, LIBRARY = "learner", "autograder", "library"


@functools.lru_cache(maxsize=4096)
def owner(filename: str) -> str:
    """Who wrote the code in ``filename``: the learner (or a notebook cell), the autograder, or a library."""
    if not filename or filename.startswith("<frozen") or filename == "<string>":
        return LIBRARY
    if filename.startswith("<"):  # <ipython-input-...>, <stdin>
        return LEARNER
    path = os.path.realpath(filename)
    if path.startswith(_AUTOGRADER_DIR + os.sep):
        return AUTOGRADER
    return LIBRARY if path.startswith(_LIBRARY_DIRS) else LEARNER


def is_learner_file(filename: str) -> bool:
    """True for code the learner (or a notebook cell) wrote; False for libraries and the autograder."""
    return owner(filename) == LEARNER


def describe_file(filename: str) -> str:
    """'your cell' for a notebook cell, else the file's base name."""
    if _IPYKERNEL_CELL.search(filename) or filename.startswith("<ipython-input"):
        return "notebook cell"
    return os.path.basename(filename)


class PeakWatcher:
    """Snapshot tracemalloc once, when the traced memory first reaches ``threshold``.

    The threshold comes from a first, plain measurement of the same call (a forked
    child repeats the same allocations), so a single snapshot is taken near the peak.
    """

    LIMIT = 3

    def __init__(self, get_traced_memory, threshold: int):
        self._traced = get_traced_memory
        self._threshold = threshold
        self._snapshot = None
        self._old_trace = self._old_profile = None

    def install(self) -> None:
        self._old_trace, self._old_profile = sys.gettrace(), sys.getprofile()
        sys.settrace(self._global_trace)
        sys.setprofile(self._profile)

    def uninstall(self) -> None:
        sys.settrace(self._old_trace)
        sys.setprofile(self._old_profile)

    def _check(self) -> None:
        if self._snapshot is None and self._traced()[0] >= self._threshold:
            self._snapshot = take_snapshot()
            sys.settrace(None)
            sys.setprofile(None)

    def _global_trace(self, frame, event, arg):
        if is_learner_file(frame.f_code.co_filename):
            return self._local_trace
        return None

    def _local_trace(self, frame, event, arg):
        self._check()
        return self._local_trace if self._snapshot is None else None

    def _profile(self, frame, event, arg):
        if event == "c_call":
            self._check()

    def top_sites(self) -> tuple:
        """Rank the snapshot's lines; call after tracing stopped (ranking allocates, and traced allocation is slow)."""
        return learner_sites(self._snapshot, self.LIMIT) if self._snapshot is not None else ()


def take_snapshot() -> tracemalloc.Snapshot:
    """A snapshot of the traces, through the C module (the measured child replaces tracemalloc's functions)."""
    return tracemalloc.Snapshot(_tracemalloc._get_traces(), _tracemalloc.get_traceback_limit())


def learner_sites(snapshot, limit: int = 3) -> tuple:
    """The ``limit`` learner lines holding the most memory in ``snapshot``, largest first."""
    return _rank(_grouped_raw(snapshot), limit)


def _grouped_raw(snapshot):
    """(frames innermost first, size, count) per distinct traceback.

    _tracemalloc shares one tuple per distinct traceback, so grouping the raw
    traces by that tuple is much faster than ``statistics("traceback")``, which
    builds objects for every trace. Falls back to the public API if the layout changes.
    """
    raw = getattr(getattr(snapshot, "traces", None), "_traces", None)
    if not isinstance(raw, list) or (raw and not (isinstance(raw[0], tuple) and len(raw[0]) >= 3)):
        for st in snapshot.statistics("traceback"):
            yield tuple(reversed(st.traceback)), st.size, st.count
        return
    groups: dict[tuple, list] = {}
    for trace in raw:
        size, tb = trace[1], trace[2]
        group = groups.get(tb)  # one shared tuple per traceback (no id(): it raises an audit event per trace)
        if group is None:
            groups[tb] = [tb, size, 1]
        else:
            group[1] += size
            group[2] += 1
    for tb, size, count in groups.values():
        yield tuple(_RawFrame(f[0], f[1]) for f in tb), size, count


class _RawFrame(NamedTuple):
    filename: str
    lineno: int


def learner_growth_sites(new, old, limit: int = 3) -> tuple:
    """The ``limit`` learner lines whose memory grew most from snapshot ``old`` to ``new``."""
    diffs = new.compare_to(old, "traceback")
    return _rank(((tuple(reversed(d.traceback)), d.size_diff, d.count_diff) for d in diffs if d.size_diff > 0), limit)


def _rank(stats, limit: int) -> tuple:
    """Charge each (frames innermost first, size, count) to its innermost learner frame; the top ``limit`` lines.

    Library frames are looked through; an allocation whose innermost non-library
    frame is the autograder's is the harness's own and is not charged at all.
    """
    totals: dict[tuple[str, int], list[int]] = {}
    for tb, size, count in stats:
        for frame in tb:
            who = owner(frame.filename)
            if who == AUTOGRADER:
                break
            if who == LEARNER:
                entry = totals.setdefault((frame.filename, frame.lineno), [0, 0])
                entry[0] += size
                entry[1] += count
                break
    ranked = sorted(totals.items(), key=lambda kv: kv[1][0], reverse=True)[:limit]
    return tuple(
        AllocationSite(fn, ln, size, count, linecache.getline(fn, ln).strip()) for (fn, ln), (size, count) in ranked
    )
