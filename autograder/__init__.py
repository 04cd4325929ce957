"""Grade Python code by the memory it uses.

Test cells use the public API below; everything runs the learner's code in a
forked child (see :mod:`autograder.measure`) so the grading kernel survives it.
"""

from .measure import Measurement, measure
from .units import GiB, KiB, MiB, format_bytes

__all__ = ["Measurement", "measure", "format_bytes", "KiB", "MiB", "GiB"]
