"""`python-memory student-setup` and the student package's leak checks, without installing anything."""

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

import student_package
from classroom import cli, student_setup
from conftest import ROOT


def nbgrader_config(config_dir):
    return PyFileConfigLoader("nbgrader_config.py", path=str(config_dir)).load_config()


def written(config_dir):
    server = json.loads((config_dir / "jupyter_server_config.d" / student_setup.OWN_JSON).read_text())
    lab = json.loads((config_dir / "labconfig" / "page_config.d" / student_setup.OWN_JSON).read_text())
    return server["ServerApp"]["jpserver_extensions"], lab


def test_setup_writes_course_exchange_and_turns_instructor_tools_off(tmp_path):
    assert cli.main(["student-setup", "--config-dir", str(tmp_path), "--exchange", "/srv/x/exchange"]) == 0
    c = nbgrader_config(tmp_path)
    assert c.CourseDirectory.course_id == "python-memory"
    assert c.Exchange.root == "/srv/x/exchange"
    server, lab = written(tmp_path)
    assert server == {"nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.course_list": False,
                      "nbgrader.server_extensions.assignment_list": True}
    off = {name for name, disabled in lab["disabledExtensions"].items() if disabled}
    assert off == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                   "@jupyter/nbgrader:course-list"}
    assert set(lab["lockedExtensions"]) == off


def test_without_exchange_the_assignment_list_is_off_too(tmp_path):
    assert cli.main(["student-setup", "--config-dir", str(tmp_path)]) == 0
    assert "Exchange" not in nbgrader_config(tmp_path)
    server, lab = written(tmp_path)
    assert server["nbgrader.server_extensions.assignment_list"] is False
    assert lab["disabledExtensions"]["@jupyter/nbgrader:assignment-list"] is True


def test_rerun_updates_its_own_file_and_says_so(tmp_path):
    first = student_setup.setup(tmp_path, "/srv/a")
    assert first[0].startswith("written:")
    assert student_setup.setup(tmp_path, "/srv/a")[0].startswith("unchanged:")
    assert student_setup.setup(tmp_path, "/srv/b")[0].startswith("updated:")
    assert nbgrader_config(tmp_path).Exchange.root == "/srv/b"


def test_a_config_it_did_not_write_is_kept_unless_forced(tmp_path, capsys):
    mine = tmp_path / "nbgrader_config.py"
    mine.write_text("c = get_config()\nc.CourseDirectory.course_id = 'another-course'\n")
    assert cli.main(["student-setup", "--config-dir", str(tmp_path), "--exchange", "/srv/x"]) == 1
    assert "not written by student-setup" in capsys.readouterr().out
    assert "another-course" in mine.read_text()
    with pytest.raises(student_setup.SetupError):
        student_setup.setup(tmp_path, "/srv/x")

    report = student_setup.setup(tmp_path, "/srv/x", force=True)
    assert report[0].startswith("replaced:") and "nbgrader_config.py.bak" in report[0]
    assert "another-course" in (tmp_path / "nbgrader_config.py.bak").read_text()
    assert nbgrader_config(tmp_path).CourseDirectory.course_id == "python-memory"
    student_setup.setup(tmp_path, "/srv/y", force=True)  # its own file now: updated, no second backup
    assert not (tmp_path / "nbgrader_config.py.bak.1").exists()


def test_it_refuses_to_turn_off_the_instructors_formgrader():
    """The project's own venv runs the repository: its environment config is the instructor's."""
    with pytest.raises(student_setup.SetupError, match="formgrader"):
        student_setup.refuse_the_course_repository(student_setup.sys_prefix_config_dir())


def test_it_writes_anywhere_else(tmp_path):
    student_setup.refuse_the_course_repository(tmp_path)


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "python-memory"
    assert script.exists(), "run `make setup`: pyproject.toml declares the python-memory script"
    proc = subprocess.run([str(script), "student-setup", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--exchange" in proc.stdout


def test_the_names_it_turns_off_exist_in_the_installed_nbgrader():
    """A renamed extension or plugin would leave the tool on without a word."""
    for module in student_setup.INSTRUCTOR_SERVER_EXTENSIONS + student_setup.EXCHANGE_SERVER_EXTENSIONS:
        assert importlib.util.find_spec(module), module
    static = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader" / "static"
    bundle = "".join(p.read_text(errors="replace") for p in static.glob("*.js"))
    for plugin in student_setup.INSTRUCTOR_LAB_PLUGINS + student_setup.EXCHANGE_LAB_PLUGINS:
        assert f'"{plugin}"' in bundle, plugin


def fake_wheel(path, files):
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_secret_lines_cover_hidden_tests_and_solutions():
    secrets = student_package.secret_lines()
    source = json.loads((ROOT / "source" / "04-lazy-evaluation" / "lazy-evaluation.ipynb").read_text())
    hidden_cells = [c for c in source["cells"] if student_package.hidden.BEGIN in "".join(c["source"])]
    assert hidden_cells
    for cell in hidden_cells:
        lines = student_package.hidden.hidden_lines("".join(cell["source"]))
        assert set(lines) & secrets, f"no hidden line of {cell['metadata']['nbgrader']['grade_id']} is checked"
    solutions = {line.strip() for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
                 for region in student_package.SOLUTION.findall("".join(c["source"])) for line in region.split("\n")}
    assert solutions & secrets, "no solution line of chapter 4 is checked"
    public = student_package.public_text()
    assert not [line for line in secrets if line in public]


def test_the_wheel_check_rejects_solutions_tests_and_notebooks(tmp_path):
    packages = ["autograder", "classroom"]
    secret = sorted(student_package.secret_lines())[0]
    good = {"autograder/__init__.py": "x = 1\n", "python_memory_course-0.1.0.dist-info/METADATA": "Name: x\n"}
    student_package.check_wheel(fake_wheel(tmp_path / "ok.whl", good), packages, {secret})
    for name, extra in {"leak": {"autograder/refs.py": f"    {secret}\n"},
                        "tests": {"tests/test_x.py": "pass\n"},
                        "source": {"autograder/source/x.py": "pass\n"},
                        "notebook": {"autograder/x.ipynb": "{}"}}.items():
        with pytest.raises(SystemExit):
            student_package.check_wheel(fake_wheel(tmp_path / f"{name}.whl", {**good, **extra}), packages, {secret})


def test_the_notebook_check_rejects_markers_and_secret_lines(tmp_path):
    secret = sorted(student_package.secret_lines())[0]
    (tmp_path / "ok.ipynb").write_text(json.dumps({"cells": [{"source": "print('hello')"}]}))
    student_package.check_notebooks(tmp_path, {secret})
    (tmp_path / "bad.ipynb").write_text(json.dumps({"cells": [{"source": secret}]}))
    with pytest.raises(SystemExit):
        student_package.check_notebooks(tmp_path, {secret})
    (tmp_path / "bad.ipynb").write_text(json.dumps({"cells": [{"source": "### BEGIN HIDDEN TESTS\n"}]}))
    with pytest.raises(SystemExit):
        student_package.check_notebooks(tmp_path, {secret})
