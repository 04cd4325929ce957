"""Dask settings for the class command's cluster: Dask's own bookkeeping that a class run never reads, made rarer
or turned off.

A worker samples its running task's stack every 10 ms for the dashboard's profiles, and its event loop ticks every
20 ms, reads system figures every 500 ms and the worker's memory every 100 ms. The class command has no dashboard,
and every learner's code is bounded by its sandbox, so these only take CPU from the grading: on two cores, about
0.14 core-seconds per chapter-4 submission (worker and command together), 4 % of its grading.
"""

from __future__ import annotations

SETTINGS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",  # still warns of an event loop blocked for distributed.admin.tick.limit
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",  # memory limits still apply, checked every second
}


def apply() -> None:
    """Use :data:`SETTINGS` in this process and the LocalCluster workers it starts (they inherit its config)."""
    import dask

    dask.config.set(SETTINGS)


def environment() -> dict[str, str]:
    """:data:`SETTINGS` as the environment variables that set them in a ``dask scheduler`` or ``dask worker``
    process started elsewhere."""
    return {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
            for key, value in SETTINGS.items()}
