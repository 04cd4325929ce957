"""End to end in a real headless browser: JupyterLab renders the course, and a memory check's chart shows in a notebook.

Debian's Chromium (`make browser` installs it) driven by Playwright; Playwright's own browser
downloads are never used. Only 127.0.0.1 is reached. Screenshots go to BROWSER_SCREENSHOTS if set,
otherwise to the test's temporary directory.
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

from conftest import ROOT
from lab_server import TOKEN, make_lab

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CHECK_CELL = (
    "from autograder import check_memory\n"
    "def ref(n): return sum(x*x for x in range(n))\n"
    "def naive(n): return sum([x*x for x in range(n)])\n"
    'check_memory(naive, (200_000,), reference=ref, exercise="sum_of_squares")'
)

pytestmark = pytest.mark.slow


@pytest.fixture
def chromium(tmp_path):
    """A browser context of the system Chromium with a fresh profile, allowed to reach 127.0.0.1 only."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (as root)"
        if os.environ.get("CI"):  # CI must test JupyterLab in a real browser, not skip it
            pytest.fail(reason)
        pytest.skip(reason)
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
            yield context
        finally:
            context.close()
    assert not blocked, f"the page tried to leave 127.0.0.1: {blocked[:5]}"


def api(base, method, path, body=None):
    req = urllib.request.Request(
        f"{base}/api/contents/{urllib.parse.quote(path)}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def notebook(*sources):
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": s}
             for s in sources]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}}


def test_lab_renders_the_course_and_the_memory_check_chart(chromium, tmp_path):
    shots = Path(os.environ.get("BROWSER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    # the learner's JupyterLab layout and settings are left alone: the test's own go to tmp_path
    settings = tmp_path / "lab-settings"
    lab_env = {"JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"), "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    for plugin, values in {  # never save course/start.ipynb; no news prompt over the page
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    }.items():
        (settings / f"{plugin}.jupyterlab-settings").parent.mkdir(parents=True, exist_ok=True)
        (settings / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))
    (ROOT / "build").mkdir(exist_ok=True)  # git ignores build/, so a test killed midway leaves no stray files
    scratch = Path(tempfile.mkdtemp(prefix="browser-test-", dir=ROOT / "build"))
    rel = scratch.relative_to(ROOT).as_posix()
    try:
        with make_lab(TOKEN, env=lab_env) as base:
            page = chromium.new_page()
            page.set_default_timeout(60_000)

            # (1) the course's start page, rendered
            page.goto(f"{base}/lab/tree/course/start.ipynb?token={TOKEN}")
            heading = page.locator(".jp-RenderedMarkdown h1", has_text="Python Memory — start here")
            heading.first.wait_for(state="visible")
            page.screenshot(path=shots / "start.png")

            # (2) a scratch notebook with a failing memory check, run from the browser
            api(base, "PUT", f"{rel}/chart.ipynb", {"type": "notebook", "content": notebook(
                "import sys; print(sys.executable)", CHECK_CELL)})
            page.goto(f"{base}/lab/tree/{rel}/chart.ipynb?token={TOKEN}")
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.locator(".jp-Cell").nth(1).wait_for(state="visible")
            # "Run All Cells" before the kernel is connected is silently dropped: wait until it is idle
            page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\| Idle")).first.wait_for(state="visible")
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            outputs = panel.locator(".jp-OutputArea-output")
            try:
                outputs.filter(has_text="CheckFailed: sum_of_squares: peak").first.wait_for(state="visible")
            except Exception:
                page.screenshot(path=shots / "failure.png")
                raise
            # the default python3 kernel is the project's venv
            outputs.filter(has_text=str(ROOT / ".venv" / "bin" / "python")).first.wait_for(state="visible")
            chart = panel.locator(".jp-OutputArea-output img[src^='data:image/png']")
            chart.first.wait_for(state="visible")
            chart.first.scroll_into_view_if_needed()
            width = page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0 && img.naturalWidth", arg=chart.first.element_handle(),
            ).json_value()
            assert width > 100, f"the chart is {width} px wide"
            page.screenshot(path=shots / "chart.png")
            sessions = json.loads(urllib.request.urlopen(
                f"{base}/api/sessions?token={TOKEN}", timeout=10).read())
            kernels = {s["kernel"]["name"] for s in sessions if s["path"].startswith(rel)}
            assert kernels == {"python3"}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
