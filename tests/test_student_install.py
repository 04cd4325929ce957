"""A student's install from `make student-package`, as a new Unix user in a fresh virtual environment.

The user installs the wheel with pip (dependencies from the package index), runs
`python-memory student-setup`, and executes a released notebook with nbconvert:
with the source solutions filled in every visible check passes, blank every one
fails with a clear CheckFailed or NameError. Before the setup nbgrader cannot
reach the exchange and the formgrader answers; after it, the opposite. Prints the
install's size and time (`pytest -s`).
"""

import json
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest

import unix_users
from autograder.report import MIME
from conftest import ROOT
from test_pipeline import CLEAR_FAILURES, nbgrader_meta, solution_sources, submission

pytestmark = pytest.mark.slow

AID = "04-lazy-evaluation"
NOTEBOOK = "lazy-evaluation.ipynb"
PROBE = "import autograder\nprint('autograder from', autograder.__file__)"
INSTRUCTOR_PLUGINS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_as(user, venv: Path, paths: list[str]) -> dict:
    """Start the user's JupyterLab, GET each path; return path -> (status, body)."""
    port, token = free_port(), secrets.token_hex(8)
    server = subprocess.Popen(
        [str(venv / "bin" / "jupyter"), "lab", "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={user.home}"],
        cwd=user.home, env=unix_users.env_for(user), user=user.uid, group=user.gid, extra_groups=[],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def get(path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?token={token}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, ""

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if get("/api/status")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, f"JupyterLab exited: {server.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "JupyterLab did not start in 120 s"
            time.sleep(0.5)
        return {path: get(path) for path in paths}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def disabled_plugins(lab_html: str) -> set[str]:
    """The disabled plugins JupyterLab's page config hands the browser."""
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab_html, re.S)
    assert found, "no page config in /lab"
    return set(json.loads(found.group(1)).get("disabledExtensions", []))


def du_kib(path: Path) -> int:
    return int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def cell_errors(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def test_student_install_runs_a_released_notebook(tmp_path):
    unix_users.require_root()

    # the instructor builds the package with the make target
    dist = tmp_path / "dist"
    build = subprocess.run(["make", "-s", "student-package", f"DIST={dist}"], cwd=ROOT, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("python_memory_course-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"autograder", "classroom"}, tops
    assert not [n for n in names if n.endswith(".ipynb") or "/source/" in n or "/tests/" in n]

    exchange_base = Path(tempfile.mkdtemp(prefix="pm-student-exchange-"))
    exchange_base.chmod(0o755)
    exchange = exchange_base / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)
    student = unix_users.create("stu")
    try:
        home, venv = student.home, student.home / "venv"
        shutil.copy(wheel, home / wheel.name)
        unix_users.give(student, home / wheel.name)

        # a fresh venv the student owns, and a pip install of the wheel alone
        python = unix_users.usable_python(student)
        unix_users.run(student, [python, "-m", "venv", venv])
        start = time.monotonic()
        unix_users.run(student, [venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check",
                                 home / wheel.name], timeout=1200)
        seconds = time.monotonic() - start
        size = du_kib(venv)
        print(f"\nstudent install: pip install {wheel.name} into a fresh venv took {seconds:.1f} s; "
              f"the venv holds {size / 1024:.1f} MiB ({size:,} KiB); {python}")

        # before the setup: nbgrader does not know the exchange, the formgrader answers
        listing = unix_users.run(student, [venv / "bin" / "nbgrader", "list"], check=False)
        assert "Unwritable directory" in listing.stdout + listing.stderr, listing.stderr[-2000:]
        before = lab_as(student, venv, ["/formgrader", "/lab"])
        assert before["/formgrader"][0] == 200, "the formgrader probe cannot tell on from off"
        assert not disabled_plugins(before["/lab"][1]) & INSTRUCTOR_PLUGINS

        setup = unix_users.run(student, [venv / "bin" / "python-memory", "student-setup", "--exchange", exchange])
        print(setup.stdout)
        listing = unix_users.run(student, [venv / "bin" / "nbgrader", "list"])
        assert "Unwritable directory" not in listing.stdout + listing.stderr
        after = lab_as(student, venv, ["/formgrader", "/lab"])
        assert after["/formgrader"][0] == 404, "the formgrader is still on for the student"
        assert INSTRUCTOR_PLUGINS <= disabled_plugins(after["/lab"][1])

        # the released notebook, with the source solutions and blank, run by nbconvert in the student's venv
        release_nb = nbformat.read(ROOT / "release" / AID / NOTEBOOK, as_version=4)
        good_answers = solution_sources(nbformat.read(ROOT / "source" / AID / NOTEBOOK, as_version=4))
        work = home / "work"
        work.mkdir()
        for name, answers in (("good", good_answers), ("blank", {})):
            nb = submission(release_nb, answers)
            nb.cells.append(nbformat.v4.new_code_cell(PROBE))
            nbformat.write(nb, work / f"{name}.ipynb")
        unix_users.give(student, work)
        ran = {}
        for name in ("good", "blank"):
            start = time.monotonic()
            unix_users.run(student, [venv / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                                     "--allow-errors", "--ExecutePreprocessor.timeout=600",
                                     "--output", f"{name}.out.ipynb", f"{name}.ipynb"], cwd=work, timeout=1200)
            print(f"{name} notebook executed in {time.monotonic() - start:.1f} s")
            ran[name] = nbformat.read(work / f"{name}.out.ipynb", as_version=4)
    finally:
        unix_users.remove(student)
        shutil.rmtree(exchange_base, ignore_errors=True)

    for name, nb in ran.items():
        probe = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
        assert f"autograder from {venv}/lib/" in probe, f"{name}: the kernel did not use the student's install: {probe}"

    checks = [c for c in ran["good"].cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    assert len(checks) >= 5, "too few visible checks found"
    for cell in ran["good"].cells:
        if cell.cell_type == "code":
            errors = cell_errors(cell)
            assert not errors, f"good: {nbgrader_meta(cell).get('grade_id')}: {errors[0].ename}: {errors[0].evalue}"
    for cell in checks:
        records = [o.data[MIME] for o in cell.outputs if o.output_type == "display_data" and MIME in o.get("data", {})]
        assert records and all(r["verdict"] == "pass" for r in records), f"good: {nbgrader_meta(cell)['grade_id']}"

    for cell in ran["blank"].cells:
        if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
            gid, errors = nbgrader_meta(cell)["grade_id"], cell_errors(cell)
            assert errors, f"blank: {gid} passes"
            assert errors[0].ename in CLEAR_FAILURES, f"blank: {gid} fails with {errors[0].ename}: {errors[0].evalue}"
            assert errors[0].evalue.strip(), f"blank: {gid} fails without a message"
