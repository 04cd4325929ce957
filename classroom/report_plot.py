"""The class report's chart: per memory check of an exercise, every student's measured memory against their target.

One row per check, one line per student within the row (sorted by how close they came to their target):
a dot for the measured figure (green within the target, red over it), a blue bar at that student's target,
and the reference and naive solutions measured in the same run, in grey. Log scale, binary units.
"""

from __future__ import annotations

from autograder.charts import FAIL_COLOUR, OTHER_COLOUR, PASS_COLOUR, TARGET_COLOUR, figure_png
from autograder.units import format_bytes

from .class_summary import CheckSummary, ExerciseSummary

ROW_SPREAD = 0.32  # students of a row spread over ±this around its centre line
# what a check's figure is when its name does not say, for the row labels and the alternative text
FIGURES = {"scaling": "peak at the larger n", "freed": "memory left after freeing",
           "no_growth": "growth over the longer window"}


def plotted_checks(exercise: ExerciseSummary) -> list[CheckSummary]:
    """The checks of ``exercise`` that have memory figures to plot."""
    return [c for c in exercise.checks if c.points]


def chart_png(exercise: ExerciseSummary) -> bytes | None:
    """PNG bytes of the exercise's chart, or None when none of its checks measures memory."""
    return figure_png(chart_figure, exercise)


def chart_figure(exercise: ExerciseSummary):
    """The chart as a matplotlib Figure (on an Agg canvas), or None when none of its checks measures memory."""
    checks = plotted_checks(exercise)
    if not checks:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from autograder.plots import bytes_axis

    fig = Figure(figsize=(8.0, 1.2 + 1.1 * len(checks)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = []
    for row, check in enumerate(reversed(checks)):  # the first check on top
        points = sorted(check.points, key=lambda p: p.measured / max(p.target, 1))
        step = 2 * ROW_SPREAD / max(len(points) - 1, 1)
        for i, p in enumerate(points):
            y = row if len(points) == 1 else row - ROW_SPREAD + i * step
            ax.plot([max(p.target, 1)], [y], "|", color=TARGET_COLOUR, markersize=12, markeredgewidth=2)
            for value, marker in ((p.reference, "s"), (p.naive, "^")):
                if value is not None:
                    ax.plot([max(value, 1)], [y], marker, color=OTHER_COLOUR, markersize=5)
            ok = p.verdict == "pass"
            ax.plot([max(p.measured, 1)], [y], "o" if ok else "X", color=PASS_COLOUR if ok else FAIL_COLOUR,
                    markersize=7)
            values += [max(v, 1) for v in (p.measured, p.target, p.reference, p.naive) if v is not None]
    ax.set_yticks(range(len(checks)))
    ax.set_yticklabels([f"{row_title(c.check)}\n{len(c.points)} of {c.students} measured" for c in reversed(checks)],
                       fontsize=8)
    ax.set_ylim(-0.6, len(checks) - 0.4)
    ax.set_xlim(min(values) / 2, max(values) * 2)
    bytes_axis(ax, "x", log=True)
    ax.set_xlabel("memory (log scale)")
    ax.set_title(f"{exercise.exercise}: each student's memory against their target", fontsize=10)
    ax.grid(axis="x", which="major", color="#e0e0e0", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    legend = [Line2D([], [], linestyle="", marker="o", color=PASS_COLOUR, label="within target"),
              Line2D([], [], linestyle="", marker="X", color=FAIL_COLOUR, label="over target"),
              Line2D([], [], linestyle="", marker="|", color=TARGET_COLOUR, markersize=12, markeredgewidth=2,
                     label="the student's target"),
              Line2D([], [], linestyle="", marker="s", color=OTHER_COLOUR, label="reference"),
              Line2D([], [], linestyle="", marker="^", color=OTHER_COLOUR, label="naive")]
    ax.legend(handles=legend, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def chart_alt(exercise: ExerciseSummary) -> str:
    """The chart's alternative text: what each row shows, in words and binary units."""
    rows = []
    for c in plotted_checks(exercise):
        measured = [p.measured for p in c.points]
        targets = [p.target for p in c.points]
        within = sum(1 for p in c.points if p.verdict == "pass")
        students = "1 student" if len(c.points) == 1 else f"{len(c.points)} students"
        text = (f"{row_title(c.check)}: {students} measured, {within} within their target; measured "
                f"{_span(measured)} (median {format_bytes(c.median('measured'))}), target {_span(targets)}")
        for name in ("reference", "naive"):
            if c.median(name) is not None:
                text += f", {name} {format_bytes(c.median(name))}"
        rows.append(text)
    return (f"Chart of {exercise.exercise}: each student's measured memory against their target, log scale. "
            + "; ".join(rows) + ".")


def row_title(check: str) -> str:
    return f"{check} ({FIGURES[check]})" if check in FIGURES else check


def _span(values: list[float]) -> str:
    low, high = format_bytes(min(values)), format_bytes(max(values))
    return low if low == high else f"{low} to {high}"
