"""Binary-unit axes (B, KiB, MiB, GiB) for every chart the course draws, the autograder's and the lessons'.

Plot raw byte counts, then call :func:`bytes_axis` (never divide by ``2**20`` and write "(MiB)" by hand).
Log axes get ticks at powers of two (256 KiB, 1 MiB, 4 MiB); linear axes at multiples of a power of two
(0, 2 MiB, 4 MiB). Minor ticks are never labelled, and there are at most ``MAX_TICKS`` labels (fewer
on a short axis), so they never crowd each other.
"""

from __future__ import annotations

import math

from matplotlib import rcParams
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter, Locator, LogLocator, NullFormatter, NullLocator

from .units import GiB, KiB, MiB, format_bytes

MAX_TICKS = 6
# Room one label takes along its axis, in font sizes: "1.25 GiB" side by side on x, a line of text on y.
# A short axis gets fewer ticks than MAX_TICKS, so labels never overlap.
LABEL_LENGTH_EMS = {"x": 5.0, "y": 2.0}
MIN_TICKS = 2
# A log axis spanning fewer powers of two than this (2 MiB to 6 MiB, say) is ticked at linear steps instead.
MIN_POWERS_OF_TWO = 3
# Steps between the exponents of labelled powers of two, the densest that fits first (2 gives 256 KiB, 1 MiB, 4 MiB).
EXPONENT_STEPS = (1, 2, 3, 4, 5, 10, 20, 30, 60)
# More powers of two than this in view and the unlabelled minor ticks would blur into a bar.
MAX_MINOR_TICKS = 40
# Labels need at most this many decimals (1.25 MiB); a narrow range whose power-of-two steps would need
# more (3.1875 MiB) is ticked at decimal fractions of its unit instead (3.1, 3.15, 3.2 MiB).
MAX_DIGITS = 2
UNIT_FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
_RELATIVE_SLOP = 1e-9


def binary_label(value: float) -> str:
    """A tick label in binary units with the fewest decimals that keep it exact: ``'1.25 MiB'``, ``'512 B'``."""
    digits = _digits(value)
    return format_bytes(value, MAX_DIGITS + 1 if digits is None else digits)


def linear_ticks(vmin: float, vmax: float, max_ticks: int = MAX_TICKS) -> list[float]:
    """Multiples of the smallest power-of-two byte step that puts at most ``max_ticks`` ticks in [vmin, vmax].

    A narrow range far from zero, where such steps would need long labels, gets decimal fractions of its unit.
    """
    vmin, vmax = sorted((vmin, vmax))
    span = vmax - vmin
    if not math.isfinite(span) or span <= 0:
        return [vmin] if math.isfinite(vmin) else []
    step = 2.0 ** max(0, math.floor(math.log2(span / max_ticks)))  # no fractions of a byte
    while len(ticks := _multiples(step, vmin, vmax)) > max_ticks:
        step *= 2
    if all(_digits(t) is not None for t in ticks):
        return ticks
    unit = _unit(max(abs(vmin), abs(vmax)))
    for fraction in UNIT_FRACTIONS:
        decimal = _multiples(fraction * unit, vmin, vmax)
        if 2 <= len(decimal) <= max_ticks and all(_digits(t) is not None for t in decimal):
            return decimal
    return ticks


def log_ticks(vmin: float, vmax: float, max_ticks: int = MAX_TICKS) -> list[float]:
    """At most ``max_ticks`` powers of two in [vmin, vmax]; linear ticks when the range is too narrow for them."""
    exponents = _exponents(vmin, vmax)
    if len(exponents) < MIN_POWERS_OF_TWO:
        return [t for t in linear_ticks(vmin, vmax, max_ticks) if t > 0]
    for step in EXPONENT_STEPS:
        ticks = [2.0**e for e in exponents if e % step == 0]
        if len(ticks) <= max_ticks:
            return ticks
    return [2.0 ** exponents[0], 2.0 ** exponents[-1]]


def bytes_axis(ax, which: str = "y", *, log: bool | None = None, max_ticks: int = MAX_TICKS) -> None:
    """Label the ``which`` ("x" or "y") axis of ``ax`` in binary units; the data are plain byte counts.

    ``log=True`` switches the axis to a log scale, ``log=False`` to a linear one; the default keeps
    its current scale. Call it after the last ``set_xscale``/``set_yscale``, which reset the ticks.
    """
    axis = {"x": ax.xaxis, "y": ax.yaxis}[which]
    if log is not None:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log" if log else "linear")
    if axis.get_scale() == "log":
        axis.set_major_locator(_PowersOfTwo(max_ticks))
        axis.set_minor_locator(_PowersOfTwo(max_ticks, minor=True))
    else:
        axis.set_major_locator(_BinarySteps(max_ticks))
        axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: binary_label(value)))
    axis.set_minor_formatter(NullFormatter())


def _room(axis, max_ticks: int) -> int:
    """max_ticks, or as many labels as fit along the axis if that is fewer."""
    which = axis.axis_name
    box = axis.axes.bbox
    length = (box.width if which == "x" else box.height) * 72 / axis.figure.dpi
    font = FontProperties(size=rcParams[f"{which}tick.labelsize"]).get_size_in_points()
    return max(MIN_TICKS, min(max_ticks, int(length // (font * LABEL_LENGTH_EMS[which]))))


def _unit(value: float) -> int:
    return next((size for size in (GiB, MiB, KiB) if abs(value) >= size), 1)


def _digits(value: float) -> int | None:
    """The fewest decimals that label ``value`` exactly in its unit, or None if more than MAX_DIGITS would be needed."""
    unit = _unit(value)
    for digits in range(MAX_DIGITS + 1):
        if abs(round(value / unit, digits) * unit - value) <= _RELATIVE_SLOP * max(abs(value), 1):
            return digits
    return None


def _multiples(step: float, vmin: float, vmax: float) -> list[float]:
    return [k * step for k in range(math.ceil(vmin / step - _RELATIVE_SLOP), math.floor(vmax / step + _RELATIVE_SLOP) + 1)]


def _exponents(vmin: float, vmax: float) -> list[int]:
    vmin, vmax = sorted((vmin, vmax))
    if not (math.isfinite(vmin) and math.isfinite(vmax)) or vmax <= 0:
        return []
    low = max(0, math.ceil(math.log2(max(vmin, 1)) - _RELATIVE_SLOP))
    high = math.floor(math.log2(vmax) + _RELATIVE_SLOP)
    return list(range(low, high + 1))


class _BinarySteps(Locator):
    """Linear ticks at multiples of a power-of-two number of bytes."""

    def __init__(self, max_ticks: int):
        self.max_ticks = max_ticks

    def __call__(self):
        return linear_ticks(*self.axis.get_view_interval(), _room(self.axis, self.max_ticks))

    def tick_values(self, vmin, vmax):
        return linear_ticks(vmin, vmax, self.max_ticks)


class _PowersOfTwo(LogLocator):
    """Log ticks at powers of two (LogLocator's autoscaling kept); the minor ones fill the gaps between them."""

    def __init__(self, max_ticks: int, minor: bool = False):
        super().__init__(base=2)
        self.max_ticks, self.minor = max_ticks, minor

    def __call__(self):
        return self._ticks(*self.axis.get_view_interval(), _room(self.axis, self.max_ticks))

    def tick_values(self, vmin, vmax):
        return self._ticks(vmin, vmax, self.max_ticks)

    def _ticks(self, vmin, vmax, max_ticks):
        major = log_ticks(vmin, vmax, max_ticks)
        if not self.minor:
            return major
        exponents = _exponents(vmin, vmax)
        if len(exponents) < MIN_POWERS_OF_TWO or len(exponents) > MAX_MINOR_TICKS:
            return []
        return [2.0**e for e in exponents if 2.0**e not in major]
