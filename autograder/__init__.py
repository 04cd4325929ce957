"""Grade Python code by the memory it uses.

Test cells use the public API below. Every learner call runs in a forked child
(:mod:`autograder.measurement`), so the grading kernel survives whatever it does.
"""

from . import quiz
from .checks import check_memory, check_result, check_scaling
from .credit import partial_credit
from .leaks import check_freed, check_no_growth
from .measurement import Measurement, measure
from .report import CheckFailed, TargetError
from .units import GiB, KiB, MiB, format_bytes
from .display import install as _install_display

_install_display()

__all__ = [
    "check_memory", "check_result", "check_scaling", "check_freed", "check_no_growth", "partial_credit", "quiz",
    "Measurement", "measure",
    "CheckFailed", "TargetError",
    "format_bytes", "KiB", "MiB", "GiB",
]
