"""Set-up files agree with each other: pip and conda pins, the nbgrader config, the README's two commands."""

import os
import re
import subprocess
import sys

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from traitlets.config.loader import PyFileConfigLoader

from conftest import ROOT

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib


# programs conda installs beside the Python packages, which pip cannot (make lab apt-installs graphviz, make hub
# npm-installs the proxy)
CONDA_ONLY_TOOLS = {"graphviz", "configurable-http-proxy"}


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def specs(lines):
    out = {}
    for line in lines:
        req = Requirement(line)
        out[canonicalize_name(req.name)] = req.specifier
    return out


def test_environment_yml_has_the_same_packages_and_bounds_as_pyproject():
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    pip_side = specs(project["dependencies"] + extras["dev"] + extras["class"] + extras["bench"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_lines = [d for d in env["dependencies"]
                   if isinstance(d, str) and not re.match(r"^(python|pip)\b", d) and d not in CONDA_ONLY_TOOLS]
    conda_side = specs(conda_lines)
    assert conda_side == pip_side
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section  # the autograder package itself


def load_nbgrader_config(env=None):
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_nbgrader_config():
    c = load_nbgrader_config()
    assert c.CourseDirectory.course_id == "python-memory"
    assert c.CourseDirectory.db_url == f"sqlite:///{ROOT / 'gradebook.db'}"
    assert c.Execute.timeout >= 120
    assert "ExecutePreprocessor" not in c  # nbgrader reads Execute.timeout, not ExecutePreprocessor.timeout
    moved = load_nbgrader_config({"NBGRADER_EXCHANGE": "/tmp/somewhere", "NBGRADER_DB_URL": "postgresql://x/y"})
    assert moved.Exchange.root == "/tmp/somewhere"
    assert moved.CourseDirectory.db_url == "postgresql://x/y"


def test_gradebook_and_workspace_are_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text().split()
    for name in ("gradebook.db", "workspace/", ".venv/", "grades.csv", "roster.csv", "dist/"):
        assert name in ignored


def test_readme_commands_are_the_ci_and_make_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "lab", "test"):
        assert re.search(rf"^{target}:", makefile, re.M)
    assert re.search(r"^lab: .*workspace", makefile, re.M) and re.search(r"^test: setup", makefile, re.M)


def test_setup_is_a_quick_no_op_when_nothing_changed():
    proc = subprocess.run(["make", "-q", "setup"], cwd=ROOT, capture_output=True)
    assert proc.returncode == 0, "make setup would reinstall although pyproject.toml did not change"


def test_python_version_is_supported():
    assert sys.version_info >= (3, 10)


def test_the_guide_lists_every_check_of_the_registry():
    from autograder import registry

    guide = (ROOT / "course" / "instructor-guide.md").read_text()
    section = guide[guide.index("## 3. Writing memory tests"):guide.index("## 4.")]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    for name in registry.CHECKS:
        assert any(f"{name}(" in line for line in table), f"{name} is missing from the guide's table of checks"
    for line in table:
        called = line.split("`")[1].split("(")[0].split(".")[-1]
        assert called in registry.CHECKS or called in ("partial_credit", "measure"), f"the guide lists {called}, " \
            "which autograder/registry.py does not know"
