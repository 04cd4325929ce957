"""Binary units (KiB, MiB, GiB) for every message, table and plot the course shows."""

from __future__ import annotations

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

_UNITS = ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB"))


def format_bytes(n: float, digits: int = 1) -> str:
    """Format a byte count with a binary unit: ``format_bytes(39_950_000) == '38.1 MiB'``."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for size, name in _UNITS:
        if n >= size:
            return f"{sign}{n / size:.{digits}f} {name}"
    if n == int(n):
        return f"{sign}{int(n)} B"
    return f"{sign}{n:.{digits}f} B"


def format_count(n: int) -> str:
    """Format an integer with thousands separators: ``400,000``."""
    return f"{n:,}"
