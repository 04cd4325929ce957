"""End to end in a real headless browser: JupyterLab renders what learners see.

The course's start page, a memory check's chart, the scaling chart in binary units, an objgraph reference
graph drawn in chapter 8, the course's Mermaid diagrams, a whole chapter worked the learner's way (Run All, a
solved exercise, a wasteful one, a quiz answer, nbgrader's Validate button) — and no news prompt over the notebook.

Debian's Chromium (`make browser` installs it) driven by Playwright; Playwright's own browser
downloads are never used. Only 127.0.0.1 is reached. JupyterLab starts the learner's way (`make lab`),
so it uses the course's shipped settings (course/jupyter-config); the test's own user settings only turn
autosave off, so that neither course/start.ipynb nor a scratch notebook is ever saved. Scratch notebooks
live under build/ (ignored by git); workspace/ and release/ are never modified by the tests themselves (`make lab`
brings new release notebooks into workspace/, as it does for a learner). Screenshots go to BROWSER_SCREENSHOTS if
set, otherwise to build/screenshots/ (ignored by git, kept by CI).
"""

import json
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import updates
from conftest import ROOT
from lab_server import TOKEN, make_lab
from test_charts import LABEL
from test_pipeline import load_submissions_module

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# generous: a loaded 2-core machine starts kernels and forks measurements slowly
TIMEOUT_MS = 120_000
CHAPTER_RUN_TIMEOUT_MS = 420_000
TALL_VIEWPORT = {"width": 1280, "height": 2400}
CHECK_CELL = (
    "from autograder import check_memory\n"
    "def ref(n): return sum(x*x for x in range(n))\n"
    "def naive(n): return sum([x*x for x in range(n)])\n"
    'check_memory(naive, (200_000,), reference=ref, exercise="sum_of_squares")'
)
SCALING_CELL = (
    "from autograder import CheckFailed, check_scaling\n"
    "def ref(n): return sum(x*x for x in range(n))\n"
    "def naive(n): return sum([x*x for x in range(n)])\n"
    "try:\n"
    '    check_scaling(naive, (100_000, 400_000), growth="constant", reference=ref, exercise="sum_of_squares")\n'
    "except CheckFailed:\n"
    '    print("the wasteful version failed, as it should")'
)
# the tick labels of the chart the check above drew, rebuilt from the record it published
TICK_LABELS_CELL = (
    "import json, os\n"
    "from autograder.charts import chart_figure\n"
    'record = json.loads(open(os.environ["AUTOGRADER_RESULTS"]).read().splitlines()[-1])\n'
    "axes = chart_figure(record).axes[0]\n"
    "axes.figure.canvas.draw()\n"
    'print("y tick labels:", " | ".join(t.get_text() for t in axes.get_yticklabels() if t.get_text()))'
)
GRAPH_CELL_MARK = "draw_inline(objgraph.show_chain, chain)"
WORKFLOW_DIAGRAM_MARK = "```mermaid"
CHAPTER_8 = ROOT / "release" / "08-leak-hunting" / "leak-hunting.ipynb"
MERMAID_BLOCK = re.compile(r"^```mermaid\n.*?^```$", re.M | re.S)
# records every notification toast the page shows, however briefly, so that none can slip past a check
TOAST_RECORDER = """
window.__toasts = [];
new MutationObserver(() => {
  for (const toast of document.querySelectorAll('.Toastify__toast')) {
    if (!toast.__recorded) { toast.__recorded = true; window.__toasts.push(toast.innerText); }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
NEWS_PROMPT = "official Jupyter news"
# JupyterLab shows an error output, like a stderr stream, with the application/vnd.jupyter.stderr renderer
# (it has none for application/vnd.jupyter.error), so this one selector finds both
STDERR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"

pytestmark = pytest.mark.slow


def require_chromium():
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (as root)"
        if os.environ.get("CI"):  # CI must test JupyterLab in a real browser, not skip it
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started by `make lab` for this module's tests; its base URL."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("lab")
    # the learner's own JupyterLab layout and settings are left alone: the test's go to tmp
    autosave = tmp / "lab-settings" / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    autosave.parent.mkdir(parents=True)
    autosave.write_text(json.dumps({"autosave": False}))
    env = {"JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"), "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings")}
    with make_lab(TOKEN, env=env) as base:
        yield base


@pytest.fixture
def chromium(tmp_path):
    """A browser context of the system Chromium with a fresh profile, allowed to reach 127.0.0.1 only."""
    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: `make setup`")
    blocked = []

    def local_only(route):
        host = urllib.parse.urlsplit(route.request.url).hostname
        if host == "127.0.0.1" or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            context.route("**/*", local_only)
            context.add_init_script(TOAST_RECORDER)
            context.set_default_timeout(TIMEOUT_MS)
            yield context
        finally:
            context.close()
    assert not blocked, f"the page tried to leave 127.0.0.1: {blocked[:5]}"


@pytest.fixture
def shots():
    path = Path(os.environ.get("BROWSER_SCREENSHOTS") or ROOT / "build" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def scratch(lab):
    """A scratch folder under build/ (ignored by git, so a test killed midway leaves no stray files)."""
    (ROOT / "build").mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="browser-test-", dir=ROOT / "build"))
    try:
        yield path
    finally:
        for session in get_json(lab, "/api/sessions"):  # frees the machine for the next test
            if session["path"].startswith(path.relative_to(ROOT).as_posix()):
                request(lab, "DELETE", f"/api/sessions/{session['id']}")
        shutil.rmtree(path, ignore_errors=True)


def request(base, method, path, body=None):
    req = urllib.request.Request(
        f"{base}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def get_json(base, path):
    return request(base, "GET", path)


def put_notebook(base, rel_path, cells):
    request(base, "PUT", f"/api/contents/{urllib.parse.quote(rel_path)}", {"type": "notebook", "content": notebook(cells)})


def notebook(cells):
    """A notebook of ("code" | "markdown", source) cells for the project's python3 kernel."""
    out = []
    for kind, source in cells:
        cell = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    return {"cells": out, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}}


def open_notebook(page, base, rel_path):
    """Open a notebook in a fresh layout; the visible notebook panel."""
    page.goto(f"{base}/lab/tree/{rel_path}?token={TOKEN}&reset")  # reset: no tabs restored from an earlier test
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Cell").first.wait_for(state="visible")
    return panel


def wait_for_idle_kernel(page):
    # a Run command given before the kernel is connected is silently dropped
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\| Idle")).first.wait_for(state="visible")


def run_menu(page, item):
    page.get_by_role("menuitem", name="Run", exact=True).click()
    # a menu item's accessible name ends with its shortcut, if it has one: "... Ctrl+Enter"
    page.get_by_role("menuitem", name=re.compile(rf"^{re.escape(item)}( \S+\+\S+)?$")).click()


def wait_for_image(page, image, timeout=TIMEOUT_MS):
    """Wait until ``image`` (a locator) has loaded; its natural width in pixels."""
    image.wait_for(state="visible", timeout=timeout)
    image.scroll_into_view_if_needed()
    return page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0 && img.naturalWidth", arg=image.element_handle(),
    ).json_value()


def assert_no_news_prompt(page):
    """No notification covers the page now, and none asked for news since the page was loaded."""
    assert page.get_by_text(NEWS_PROMPT).count() == 0, "the news prompt covers the notebook"
    shown = page.locator(".Toastify__toast")
    assert shown.count() == 0, f"a notification covers the notebook: {shown.all_inner_texts()}"
    seen = page.evaluate("window.__toasts")
    assert not [t for t in seen if NEWS_PROMPT in t], f"a news prompt was shown: {seen}"


def screenshot_on_failure(page, path):
    """Context manager: a screenshot at ``path`` if the block fails, then the failure."""
    class _Guard:
        def __enter__(self):
            return self

        def __exit__(self, kind, *_):
            if kind is not None:
                page.screenshot(path=path)
            return False
    return _Guard()


def test_lab_renders_the_course_and_the_memory_check_chart(lab, chromium, scratch, shots):
    rel = scratch.relative_to(ROOT).as_posix()
    page = chromium.new_page()
    with screenshot_on_failure(page, shots / "failure-start.png"):
        # (1) the course's start page, rendered, with no news prompt
        page.goto(f"{lab}/lab/tree/course/start.ipynb?token={TOKEN}&reset")
        heading = page.locator(".jp-RenderedMarkdown h1", has_text="Python Memory — start here")
        heading.first.wait_for(state="visible")
        page.screenshot(path=shots / "start.png")

        # (2) a scratch notebook with a failing memory check, run from the browser
        put_notebook(lab, f"{rel}/chart.ipynb", [("code", "import sys; print(sys.executable)"), ("code", CHECK_CELL)])
        panel = open_notebook(page, lab, f"{rel}/chart.ipynb")
        panel.locator(".jp-Cell").nth(1).wait_for(state="visible")
        wait_for_idle_kernel(page)
        run_menu(page, "Run All Cells")
        outputs = panel.locator(".jp-OutputArea-output")
        outputs.filter(has_text="CheckFailed: sum_of_squares: peak").first.wait_for(state="visible")
        # the default python3 kernel is the project's venv
        outputs.filter(has_text=str(ROOT / ".venv" / "bin" / "python")).first.wait_for(state="visible")
        width = wait_for_image(page, panel.locator(".jp-OutputArea-output img[src^='data:image/png']").first)
        assert width > 100, f"the chart is {width} px wide"
        page.screenshot(path=shots / "chart.png")
        sessions = get_json(lab, "/api/sessions")
        assert {s["kernel"]["name"] for s in sessions if s["path"].startswith(rel)} == {"python3"}
        assert_no_news_prompt(page)


def test_the_news_prompt_and_update_check_are_off_by_the_courses_own_defaults(lab):
    plugin = get_json(lab, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {name: spec.get("default") for name, spec in plugin["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
    assert plugin["settings"] == {}, "the test's user settings must not decide this: the course's defaults do"


def test_scaling_chart_has_binary_unit_axes(lab, chromium, scratch, shots):
    rel = scratch.relative_to(ROOT).as_posix()
    results = scratch / "results.jsonl"
    put_notebook(lab, f"{rel}/scaling.ipynb", [
        ("code", f"import os\nos.environ['AUTOGRADER_RESULTS'] = {str(results)!r}"),
        ("code", SCALING_CELL),
        ("code", TICK_LABELS_CELL),
    ])
    page = chromium.new_page()
    with screenshot_on_failure(page, shots / "failure-scaling.png"):
        panel = open_notebook(page, lab, f"{rel}/scaling.ipynb")
        wait_for_idle_kernel(page)
        run_menu(page, "Run All Cells")
        ticks = panel.locator(".jp-OutputArea-output", has_text="y tick labels:").first
        ticks.wait_for(state="visible")
        labels = ticks.inner_text().split("y tick labels:", 1)[1].strip().split(" | ")
        assert len(labels) >= 2 and all(LABEL.match(label) for label in labels), labels
        check_cell = panel.locator(".jp-Cell").nth(1)
        check_cell.locator(".jp-OutputArea-output", has_text="the wasteful version failed").wait_for(state="visible")
        width = wait_for_image(page, check_cell.locator(".jp-OutputArea-output img[src^='data:image/png']").first)
        assert width > 100, f"the chart is {width} px wide"
        page.screenshot(path=shots / "scaling-chart.png")
        assert_no_news_prompt(page)


def test_chapter_8_draws_its_reference_graph_and_diagram(lab, chromium, scratch, shots):
    rel = scratch.relative_to(ROOT).as_posix()
    if not shutil.which("dot"):
        reason = "Graphviz's `dot` is missing: `make graphviz` installs Debian's graphviz (as root)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    cells = json.loads(CHAPTER_8.read_text())["cells"]
    graph_index = next(i for i, c in enumerate(cells) if GRAPH_CELL_MARK in "".join(c["source"]))
    diagram_index = next(i for i, c in enumerate(cells)
                         if c["cell_type"] == "markdown" and WORKFLOW_DIAGRAM_MARK in "".join(c["source"]))
    shutil.copy(CHAPTER_8, scratch / CHAPTER_8.name)
    page = chromium.new_page()
    with screenshot_on_failure(page, shots / "failure-chapter-8.png"):
        panel = open_notebook(page, lab, f"{rel}/{CHAPTER_8.name}")
        # (1) the workflow diagram, drawn by JupyterLab's Mermaid renderer
        diagram = panel.locator(".jp-Cell").nth(diagram_index).locator(".jp-RenderedMermaid")
        diagram.scroll_into_view_if_needed()
        width = wait_for_image(page, diagram.locator("img[src^='data:image/svg+xml']"))
        assert width > 100, f"the diagram is {width} px wide"
        assert panel.locator(".jp-RenderedMermaid.jp-mod-warning").count() == 0
        wait_for_idle_kernel(page)
        page.screenshot(path=shots / "mermaid.png")
        assert_no_news_prompt(page)

        # (2) the reference graph: run the lesson up to its cell, then the cell
        graph_cell = panel.locator(".jp-Cell").nth(graph_index)
        graph_cell.scroll_into_view_if_needed()
        graph_cell.locator(".jp-InputArea-prompt").click()
        run_menu(page, "Run All Above Selected Cell")
        graph_cell.locator(".jp-InputArea-prompt").click()
        run_menu(page, "Run Selected Cell and Do not Advance")
        graph = graph_cell.locator(".jp-OutputArea-output img[src^='data:image/png']")
        width = wait_for_image(page, graph, timeout=CHAPTER_RUN_TIMEOUT_MS)
        assert width > 100, f"the graph is {width} px wide"
        assert panel.locator(STDERR_OUTPUT).count() == 0  # no error and no stderr in any lesson cell run
        page.screenshot(path=shots / "reference-graph.png")
        assert_no_news_prompt(page)


def test_every_course_diagram_renders(lab, chromium, scratch, shots):
    rel = scratch.relative_to(ROOT).as_posix()
    diagrams = []  # (chapter, Mermaid block) for every diagram in the course's notebooks
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                diagrams += [(path.parent.name, block) for block in MERMAID_BLOCK.findall("".join(cell["source"]))]
    assert len(diagrams) >= 3, diagrams
    # a heading first, so that the active cell's toolbar covers no diagram
    put_notebook(lab, f"{rel}/diagrams.ipynb", [("markdown", "# The course's diagrams")]
                 + [("markdown", block) for _, block in diagrams])
    page = chromium.new_page()
    page.set_viewport_size(TALL_VIEWPORT)  # a whole diagram fits in each screenshot
    with screenshot_on_failure(page, shots / "failure-diagrams.png"):
        panel = open_notebook(page, lab, f"{rel}/diagrams.ipynb")
        for index, (chapter, block) in enumerate(diagrams):
            rendered = panel.locator(".jp-Cell").nth(index + 1).locator(".jp-RenderedMermaid")
            rendered.scroll_into_view_if_needed()
            # either the drawing or Mermaid's error message, whichever the renderer produces
            rendered.locator("img[src^='data:image/svg+xml'], .jp-RenderedMermaid-Details").first.wait_for(state="visible")
            error = rendered.locator(".jp-RenderedMermaid-Details")
            assert error.count() == 0, f"{chapter}: Mermaid cannot draw\n{block}\n{error.first.inner_text()}"
            wait_for_image(page, rendered.locator("img[src^='data:image/svg+xml']"))
            rendered.screenshot(path=shots / f"diagram-{index + 1}-{chapter}.png")
        assert_no_news_prompt(page)


# --------------------------------------------------------------------------- a chapter, worked as a learner would

WORKED_CHAPTER = "04-lazy-evaluation"
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def workspace_copy(aid):
    """The learner's copy of a chapter in workspace/ as `make lab` left it: theirs, or the release beside it."""
    release = ROOT / "release" / aid / f"{aid.split('-', 1)[1]}.ipynb"
    mine = ROOT / "workspace" / release.relative_to(ROOT / "release")
    assert mine.exists(), "make lab did not bring the chapter into workspace/"
    if updates.fixed_cells(mine) == updates.fixed_cells(release):
        return mine
    # an older copy of the learner's own: `make lab` put the current release beside it under a dated name
    newer = sorted(mine.parent.glob(f"{mine.stem}-updated-*.ipynb"), key=lambda p: p.stat().st_mtime)
    assert newer and updates.fixed_cells(newer[-1]) == updates.fixed_cells(release), "no current copy in workspace/"
    return newer[-1]


def grade_ids(cells):
    return {c["metadata"]["nbgrader"]["grade_id"]: i for i, c in enumerate(cells) if c["metadata"].get("nbgrader")}


def source_solution(aid, grade_id):
    path = ROOT / "source" / aid / f"{aid.split('-', 1)[1]}.ipynb"
    cell = next(c for c in json.loads(path.read_text())["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    return SOLUTION_MARKERS.sub("", "".join(cell["source"]))


def write_cell(page, cell, text):
    """Replace a cell's code the way a learner does, in its editor (inserted at once: no auto-indent)."""
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    written = cell.locator(".cm-content").inner_text()
    assert written.strip() == text.strip(), f"the editor holds:\n{written}"


def run_cell(page, cell):
    cell.locator(".jp-InputArea-prompt").click()
    run_menu(page, "Run Selected Cell and Do not Advance")


def output(cell, text):
    """The first output of ``cell`` showing ``text``, once it shows."""
    found = cell.locator(".jp-OutputArea-output", has_text=text).first
    found.wait_for(state="visible", timeout=CHAPTER_RUN_TIMEOUT_MS)
    return found


def errors(cell):
    """A cell's error outputs and stderr: JupyterLab renders both as application/vnd.jupyter.stderr."""
    return cell.locator(STDERR_OUTPUT)


def test_a_chapter_from_the_workspace_worked_in_the_browser(lab, chromium, scratch, shots):
    rel = scratch.relative_to(ROOT).as_posix()
    copy = workspace_copy(WORKED_CHAPTER)
    name = f"{WORKED_CHAPTER.split('-', 1)[1]}.ipynb"
    shutil.copy(copy, scratch / name)
    at = grade_ids(json.loads((scratch / name).read_text())["cells"])
    right = re.search(r'"([a-d])"', source_solution(WORKED_CHAPTER, "q1")).group(1)
    page = chromium.new_page()
    page.set_viewport_size(TALL_VIEWPORT)
    with screenshot_on_failure(page, shots / "failure-chapter.png"):
        panel = open_notebook(page, lab, f"{rel}/{name}")
        cell = panel.locator(".jp-Cell").nth
        wait_for_idle_kernel(page)

        # (1) Run All on the fresh chapter runs to the end, past every unanswered question and exercise
        run_menu(page, "Run All Cells")
        last_test = cell(at["test_chunked_memory"])
        output(last_test, "CheckFailed: chunked")
        unanswered = output(cell(at["q1"]), "NotImplementedError: not done yet")
        assert "Traceback" not in unanswered.inner_text()
        output(cell(at["test_q1"]), "Q1")
        assert errors(cell(at["test_q1"])).count() == 1  # the unanswered question still fails its test
        unanswered.scroll_into_view_if_needed()
        page.screenshot(path=shots / "chapter-run-all.png")

        # (2) a quiz answer, checked at once
        write_cell(page, cell(at["q1"]), f'q1 = "{right}"\n')
        run_cell(page, cell(at["q1"]))
        run_cell(page, cell(at["test_q1"]))
        answered = output(cell(at["test_q1"]), "✓ Q1")
        assert errors(cell(at["test_q1"])).count() == 0 and errors(cell(at["q1"])).count() == 0
        answered.scroll_into_view_if_needed()
        page.screenshot(path=shots / "chapter-quiz.png")

        # (3) a solved exercise passes its correctness and memory tests
        write_cell(page, cell(at["sum_of_squares"]), source_solution(WORKED_CHAPTER, "sum_of_squares"))
        for grade_id in ("sum_of_squares", "test_sum_of_squares_correct", "test_sum_of_squares_memory"):
            run_cell(page, cell(at[grade_id]))
        output(cell(at["test_sum_of_squares_correct"]), "✓ sum_of_squares")
        passed = output(cell(at["test_sum_of_squares_memory"]), "✓ sum_of_squares: memory scales as it should")
        assert errors(cell(at["test_sum_of_squares_correct"])).count() == 0
        assert errors(cell(at["test_sum_of_squares_memory"])).count() == 0
        passed.scroll_into_view_if_needed()
        page.screenshot(path=shots / "chapter-solved.png")

        # (4) a wasteful exercise: right, but its memory test fails with one line, its lines and a chart
        write_cell(page, cell(at["chunked"]), load_submissions_module(WORKED_CHAPTER)[0]["chunked"])
        for grade_id in ("chunked", "test_chunked_correct", "test_chunked_memory"):
            run_cell(page, cell(at[grade_id]))
        output(cell(at["test_chunked_correct"]), "✓ chunked")
        assert errors(cell(at["test_chunked_correct"])).count() == 0
        failed = output(cell(at["test_chunked_memory"]), "CheckFailed: chunked: peak grew")
        assert "where your code held memory at the peak" in failed.inner_text()
        assert "Traceback" not in failed.inner_text() and "autograder/" not in failed.inner_text()
        chart = cell(at["test_chunked_memory"]).locator(".jp-OutputArea-output img[src^='data:image/png']").first
        assert wait_for_image(page, chart) > 100
        failed.scroll_into_view_if_needed()
        page.screenshot(path=shots / "chapter-wasteful.png")

        # (5) nbgrader's Validate button: saves, runs the notebook afresh, lists the cells that fail
        panel.locator(".validate-button").first.click()
        dialog = page.locator(".jp-Dialog", has_text="Validation Results")
        dialog.wait_for(state="visible", timeout=CHAPTER_RUN_TIMEOUT_MS)
        body = dialog.locator(".validation-failed")
        body.wait_for(state="visible")
        text = body.inner_text()
        assert "The following cell failed:" in text and "_consume_chunks" in text  # the wasteful one's memory test
        assert "check_scaling(sum_of_squares" not in text and 'quiz.check_answer(q1, "Q1"' not in text, text
        page.screenshot(path=shots / "chapter-validate.png")
        dialog.get_by_role("button", name="Ok").click()
        assert_no_news_prompt(page)
