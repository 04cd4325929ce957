"""A compact chart for a memory check: your figure vs the reference, the naive way and the target.

Rendered with matplotlib's object API (no pyplot: the learner's own figures and
backend are left alone) to PNG, so it shows in JupyterLab and is carried into
nbgrader's feedback HTML. Binary units throughout, through :func:`autograder.plots.bytes_axis`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

from .units import format_bytes

PASS_COLOUR, FAIL_COLOUR, OTHER_COLOUR, TARGET_COLOUR = "#2e7d32", "#c62828", "#9e9e9e", "#1565c0"


def chart_png(rec: dict) -> bytes | None:
    """PNG bytes for a peak/retained/scaling record, or None for other checks."""
    return figure_png(chart_figure, rec)


def figure_png(make_figure, *args) -> bytes | None:
    """PNG bytes of the Figure ``make_figure(*args)`` draws, or None when it draws none; matplotlib kept quiet."""
    with quiet_matplotlib():
        fig = make_figure(*args)
        if fig is None:
            return None
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()


def chart_figure(rec: dict):
    """The matplotlib Figure (on an Agg canvas) for a peak/retained/scaling record, or None for other checks."""
    if rec.get("check") not in ("peak", "retained", "scaling") or rec.get("measured") is None:
        return None
    with quiet_matplotlib():
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.0, 1.9 if rec["check"] != "scaling" else 2.4), dpi=90)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        (_scaling if rec["check"] == "scaling" else _bars)(ax, rec)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return fig


@contextlib.contextmanager
def quiet_matplotlib():
    """Silence matplotlib's log and warnings while a chart is drawn."""
    # matplotlib logs "building the font cache" on first use; a log line would reach stderr,
    # and nbgrader scores a test cell with stderr output as 0
    logger = logging.getLogger("matplotlib")
    old_level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old_level)


def _bars(ax, rec: dict) -> None:
    from .plots import bytes_axis  # imports matplotlib, so only once a chart is drawn

    rows = [("yours", rec["measured"], PASS_COLOUR if rec["verdict"] == "pass" else FAIL_COLOUR)]
    if rec.get("reference") is not None:
        rows.append(("reference", rec["reference"], OTHER_COLOUR))
    if rec.get("naive") is not None:
        rows.append(("naive", rec["naive"], OTHER_COLOUR))
    rows.reverse()  # "yours" on top
    values = [max(v, 1) for _, v, _ in rows]
    ax.barh([r[0] for r in rows], values, color=[r[2] for r in rows], height=0.6)
    for y, v in enumerate(values):
        ax.text(v, y, " " + format_bytes(v), va="center", fontsize=8)
    ax.axvline(rec["target"], color=TARGET_COLOUR, linestyle="--", linewidth=1.5,
               label=f"target {format_bytes(rec['target'])}")
    bytes_axis(ax, "x", log=True)
    ax.set_xlim(left=min(values + [rec["target"]]) / 2, right=max(values + [rec["target"]]) * 8)
    ax.set_xlabel(f"{rec['check']} memory (log scale)")
    ax.set_title(f"{rec['exercise']}: {rec['check']} vs target", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))


def _scaling(ax, rec: dict) -> None:
    from matplotlib.ticker import FuncFormatter

    from .plots import bytes_axis

    sizes = rec["sizes"]
    series = [("yours", rec["measured"], PASS_COLOUR if rec["verdict"] == "pass" else FAIL_COLOUR, "o-")]
    if rec.get("reference"):
        series.append(("reference", rec["reference"], OTHER_COLOUR, "s--"))
    if rec.get("naive"):
        series.append(("naive", rec["naive"], OTHER_COLOUR, "^:"))
    for label, peaks, colour, style in series:
        ax.plot(sizes, [max(p, 1) for p in peaks], style, color=colour, label=label)
    ax.plot([sizes[-1]], [rec["target"]], "_", color=TARGET_COLOUR, markersize=24, markeredgewidth=2,
            label=f"your limit {format_bytes(rec['target'])}")
    bytes_axis(ax, "y", log=True)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xticks(sizes)
    ax.set_xlabel("n")
    ax.set_ylabel("peak (log scale)")
    ax.set_title(f"{rec['exercise']}: peak vs n (should be {rec['growth']})", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
