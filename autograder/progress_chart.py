"""The progress view's chart: every memory figure a learner's code has had measured, against its target.

One bar per figure (green within the target, red over it) and a mark at the target, on a log scale in binary
units (:func:`autograder.plots.bytes_axis`); matplotlib's object API, so the learner's own figures are left alone.
"""

from __future__ import annotations

from .charts import FAIL_COLOUR, PASS_COLOUR, TARGET_COLOUR, figure_png
from .units import format_bytes


def figure_rows(chapters: list) -> list[tuple[str, dict]]:
    """(label, figure) for every memory figure measured, in course order (chapters from autograder.progress)."""
    return [(f"{ch.number} {f['exercise']}: {f['what']}", f)
            for ch in chapters for item in ch.items for f in item.figures]


def chart_figure(chapters: list):
    """Your memory figures against their targets (log scale, binary units); None when nothing was measured yet."""
    rows = figure_rows(chapters)
    if not rows:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .plots import bytes_axis

    fig = Figure(figsize=(7.5, 1.3 + 0.32 * len(rows)), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    rows = rows[::-1]  # the first chapter on top
    values = [max(f["measured"], 1) for _, f in rows]
    targets = [max(f["target"], 1) for _, f in rows]
    colours = [PASS_COLOUR if f["verdict"] == "pass" else FAIL_COLOUR for _, f in rows]
    ax.barh(range(len(rows)), values, color=colours, height=0.6)
    ax.scatter(targets, range(len(rows)), marker="|", s=260, linewidths=2, color=TARGET_COLOUR, zorder=3)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    bytes_axis(ax, "x", log=True)
    ax.set_xlim(left=min(values + targets) / 2, right=max(values + targets) * 4)
    ax.set_xlabel("memory (log scale)")
    ax.set_title("Your memory figures against their targets", fontsize=10)
    ax.legend(handles=[Patch(color=PASS_COLOUR, label="yours, within the target"),
                       Patch(color=FAIL_COLOUR, label="yours, over the target"),
                       Line2D([], [], color=TARGET_COLOUR, marker="|", linestyle="", markersize=12, label="target")],
              fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def chart_png(chapters: list) -> bytes | None:
    return figure_png(chart_figure, chapters)


def chart_alt(chapters: list) -> str:
    rows = figure_rows(chapters)
    return "chart of your memory figures against their targets: " + "; ".join(
        f"{label} {format_bytes(f['measured'])} (target {format_bytes(f['target'])})" for label, f in rows)
