"""Every chart the course draws labels its byte axes in binary units (256 KiB, 1 MiB), readably.

Each chart kind is rendered with matplotlib's Agg backend; the tick labels are read back after drawing
and must be "<number> <B|KiB|MiB|GiB>", name the value at their tick, and not overlap. Raw byte counts,
scientific notation and powers of ten fail.
"""

import re

import nbformat
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograder import GiB, KiB, MiB
from autograder.charts import chart_figure
from autograder.plots import MAX_TICKS, bytes_axis
from conftest import ROOT

UNITS = {"B": 1, "KiB": KiB, "MiB": MiB, "GiB": GiB}
# a number below 1024 (so never a raw count of bytes) with at most two decimals, then a binary unit
LABEL = re.compile(r"^(?P<number>0|[1-9]\d{0,3}(?:\.\d{1,2})?) (?P<unit>B|KiB|MiB|GiB)$")
MIN_LABELS = 2

# (low, high) byte ranges from ~100 B to ~1 GiB: wide, narrow, and narrow far from zero
RANGES = [
    (100, 200), (100, 2 * KiB), (300, 20 * KiB), (1 * KiB, 700 * KiB), (100, 11 * MiB), (2_000_000, 6_000_000),
    (3.1 * MiB, 3.3 * MiB), (900 * KiB, 1.1 * MiB), (40 * MiB, 120 * MiB), (300 * MiB, 1 * GiB), (100, 1 * GiB),
]
# lesson figures: (width, height) in inches, and the number of side-by-side panels
LESSON_FIGURES = [((6.5, 3.6), 1), ((9, 3.4), 2)]
# lesson code cells whose plots are not of bytes (counters, counts of collections)
NOT_BYTES = {("02-references-and-gc", "c029")}


def labelled_ticks(axis):
    """(text, tick value, label) of every labelled tick, major and minor, of a drawn axis."""
    axis.figure.canvas.draw()
    low, high = sorted(axis.get_view_interval())
    out = []
    for minor in (False, True):
        locations = axis.get_minorticklocs() if minor else axis.get_majorticklocs()
        ticks = axis.get_minor_ticks(len(locations)) if minor else axis.get_major_ticks(len(locations))
        for value, tick in zip(locations, ticks):
            label = tick.label1
            if label.get_visible() and label.get_text() and low <= value <= high:
                out.append((label.get_text(), value, label))
    return out


def assert_binary_axis(axis):
    """Fail unless every label of ``axis`` is a binary-unit figure that names its tick, and labels do not collide."""
    ticks = labelled_ticks(axis)
    texts = [text for text, _, _ in ticks]
    assert MIN_LABELS <= len(ticks) <= MAX_TICKS + 1, f"{len(ticks)} labels: {texts}"
    for text, value, _ in ticks:
        match = LABEL.match(text)
        assert match, f"not a binary-unit label: {text!r} (all: {texts})"
        shown = float(match["number"]) * UNITS[match["unit"]]
        assert shown == pytest.approx(value, rel=0.005, abs=0.5), f"{text!r} labels a tick at {value:,.1f} bytes"
        if match["unit"] != "B":  # 1 KiB and up: "1024 KiB" means the unit is wrong
            assert float(match["number"]) < 1024, text
    assert not axis.get_offset_text().get_text(), f"offset text {axis.get_offset_text().get_text()!r}"
    renderer = axis.figure.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for _, _, label in ticks]
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            assert not a.overlaps(boxes[j]), f"labels {texts[i]!r} and {texts[j]!r} overlap"


def lesson_figure(size=(6.5, 3.6), panels=1):
    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(1, panels, k + 1) for k in range(panels)]


# --- the autograder's charts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("check", ["peak", "retained"])
@pytest.mark.parametrize("low, high", RANGES)
def test_bar_chart_of_a_memory_check_has_a_binary_axis(check, low, high):
    for verdict, measured, target in (("fail", high, low), ("pass", low, high)):
        rec = {"exercise": "e", "check": check, "verdict": verdict, "measured": measured, "target": target,
               "reference": low, "naive": high}
        assert_binary_axis(chart_figure(rec).axes[0].xaxis)


@pytest.mark.parametrize("low, high", RANGES)
def test_scaling_chart_has_a_binary_axis(low, high):
    sizes = [100_000, 400_000]
    for rec in (
        {"measured": [low, high], "target": int(low * 1.25), "reference": [low, low], "naive": [low, high]},
        {"measured": [high, high], "target": int(high * 1.25), "reference": None, "naive": None},
    ):
        rec.update(exercise="sum_of_squares", check="scaling", verdict="fail", growth="constant", sizes=sizes)
        ax = chart_figure(rec).axes[0]
        assert_binary_axis(ax.yaxis)
        assert [text for text, _, _ in labelled_ticks(ax.xaxis)] == ["100,000", "400,000"]


# --- the lessons' helper ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("low, high", RANGES)
@pytest.mark.parametrize("size, panels", LESSON_FIGURES)
def test_lesson_helper_labels_linear_and_log_axes_in_binary_units(log, low, high, size, panels):
    fig, axes = lesson_figure(size, panels)
    for ax in axes:
        ax.plot([1, 2, 3, 4], [low, (2 * low + high) / 3, high, (low + high) / 2], "o-")
        bytes_axis(ax, log=log)
    for ax in axes:
        assert_binary_axis(ax.yaxis)


@pytest.mark.parametrize("low, high", RANGES)
def test_lesson_helper_labels_a_horizontal_bar_chart(low, high):
    fig, (ax,) = lesson_figure((6.5, 3.4))
    ax.barh(["dict", "plain class", "tuple", "__slots__ class"], [high, (low + high) / 2, low * 1.5, low])
    bytes_axis(ax, "x")
    assert_binary_axis(ax.xaxis)


def test_lesson_helper_keeps_a_log_scale_set_before_it():
    fig, (ax,) = lesson_figure()
    ax.plot([1, 2], [100, 1 * GiB])
    ax.set_yscale("log")
    bytes_axis(ax)
    assert ax.get_yscale() == "log"
    assert [t for t, _, _ in labelled_ticks(ax.yaxis)] == ["256 B", "4 KiB", "64 KiB", "1 MiB", "16 MiB", "256 MiB"]


@pytest.mark.parametrize("width", [1.5, 2.5, 4])
def test_lesson_helper_puts_fewer_ticks_on_a_short_axis(width):
    fig, (ax,) = lesson_figure((width, 1.2))
    ax.plot([0, 1 * GiB], [0, 10 * MiB])
    bytes_axis(ax, "x")
    bytes_axis(ax, "y")
    assert_binary_axis(ax.xaxis)
    assert_binary_axis(ax.yaxis)


def test_log_axis_ticks_at_powers_of_two():
    fig, (ax,) = lesson_figure()
    ax.plot([1, 2], [200 * KiB, 5 * MiB])
    bytes_axis(ax, log=True)
    assert [t for t, _, _ in labelled_ticks(ax.yaxis)] == ["256 KiB", "512 KiB", "1 MiB", "2 MiB", "4 MiB"]


# --- the checker itself can fail ---------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["matplotlib log", "matplotlib linear", "divided by 2**20"])
def test_the_check_rejects_powers_of_ten_scientific_notation_and_bare_numbers(style):
    fig, (ax,) = lesson_figure()
    values = [2_000_000, 6_000_000]
    if style == "divided by 2**20":
        ax.plot([1, 2], [v / 2**20 for v in values])
        ax.set_ylabel("peak (MiB)")
    else:
        ax.plot([1, 2], values)
        ax.set_yscale("log" if style == "matplotlib log" else "linear")
    with pytest.raises(AssertionError):
        assert_binary_axis(ax.yaxis)


def test_the_check_rejects_crowded_labels():
    fig, (ax,) = lesson_figure((1.5, 3.6))
    ax.plot([0, 10 * MiB], [1, 2])
    ax.set_xticks([k * 2 * MiB for k in range(6)], [f"{2 * k} MiB" for k in range(6)])
    with pytest.raises(AssertionError, match="overlap"):
        assert_binary_axis(ax.xaxis)


# --- the lesson notebooks use the helper --------------------------------------------------------------------------

def lesson_plot_cells():
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            nbgrader = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and "plt.subplots(" in cell.source and not nbgrader.get("grade"):
                yield path.parent.name, cell.get("id"), cell.source


@pytest.mark.parametrize("assignment, cell_id, source", list(lesson_plot_cells()),
                         ids=lambda v: v if isinstance(v, str) and "\n" not in v else None)
def test_lesson_plots_of_bytes_use_the_helper(assignment, cell_id, source):
    assert not re.search(r"/\s*(2\s*\*\*\s*(10|20|30)|1024\b|1048576\b)", source), "divides bytes by hand"
    assert not re.search(r"set_[xy]label\(\s*f?[\"'][^\"']*\b(bytes|KiB|MiB|GiB)\b", source), "writes the unit by hand"
    if (assignment, cell_id) not in NOT_BYTES:
        assert "bytes_axis(" in source
