"""Build what students get, without source/ (`make student-package`).

    python tools/student_package.py [--out DIR]      (DIR defaults to dist/)

* ``python_memory_course-<version>-py3-none-any.whl``: the ``autograder`` runtime the notebooks
  import and the ``python-memory`` command (``student-setup``); pip installs the course's
  dependencies (JupyterLab, nbgrader, ...) with it. Every student needs it.
* ``python-memory-notebooks/`` and ``python-memory-notebooks-<version>.zip``: the release notebooks
  (``workspace/<assignment>/``, where the start page's links point) and ``course/start.ipynb``, for
  students who do not fetch from an nbgrader exchange: the zip to hand out, the folder to publish
  as a release-only git repository for nbgitpuller.

The notebooks are kept out of the wheel: exchange students get each chapter when the instructor
releases it, notebooks are files a student edits (not something to keep in site-packages, where
an upgrade replaces them), and nbgitpuller pulls from a git repository, not from a wheel.

Both are checked before they are written: the wheel holds nothing but the runtime packages and
no line of a solution or a hidden test (a line the release notebooks show anyway, such as a
lesson's example, is not a secret); no notebook carries nbgrader's solution or hidden-test markers.
That release/ is exactly what nbgrader generates from source/ is tests/test_pipeline.py's check.
"""

from __future__ import annotations

import argparse
import builtins
import importlib.util
import json
import keyword
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_hidden():
    """autograder/hidden.py on its own: importing the whole package would start its display hooks."""
    spec = importlib.util.spec_from_file_location("autograder_hidden", ROOT / "autograder" / "hidden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hidden = _load_hidden()

NOTEBOOKS = "python-memory-notebooks"
SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*$(.*?)^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", hidden.BEGIN, hidden.END)
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
# A line made only of Python's own words (`except Exception:`), or an import, identifies no solution.
PYTHON_WORDS = set(keyword.kwlist) | set(dir(builtins))
IMPORT = re.compile(r"^(import|from)\s")


def project_packages() -> list[str]:
    """The packages pyproject.toml puts in the wheel."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        from pip._vendor import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def public_text(release: Path = ROOT / "release") -> str:
    """Every cell of the release notebooks and the start page: what any student reads anyway."""
    notebooks = [*release.rglob("*.ipynb"), ROOT / "course" / "start.ipynb"]
    return "\n".join(_source(cell) for nb in notebooks for cell in _cells(nb))


def secret_lines(source: Path = ROOT / "source", release: Path = ROOT / "release") -> set[str]:
    """Solution and hidden-test lines of every source notebook that no release notebook shows."""
    shown = public_text(release)
    found: set[str] = set()
    for nb in source.rglob("*.ipynb"):
        if ".ipynb_checkpoints" in nb.parts:
            continue
        for cell in _cells(nb):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            text = _source(cell)
            if meta.get("solution"):
                regions = SOLUTION.findall(text) or [text]  # no markers: nbgrader replaces the whole cell
                found.update(line.strip() for region in regions for line in region.split("\n"))
            if meta.get("grade"):
                found.update(hidden.hidden_lines(text))
    return {line for line in found
            if len(line) >= hidden.MIN_LINE and not line.startswith("#") and not IMPORT.match(line)
            and line not in shown and set(re.findall(r"[A-Za-z_]\w*", line)) - PYTHON_WORDS}


def leaks(files: dict[str, str], secrets: set[str]) -> list[str]:
    """'name: line' for every secret line found in ``files`` (name -> text); notebooks hold JSON-escaped text."""
    out = []
    for name, text in files.items():
        for line in secrets:
            if line in text or json.dumps(line)[1:-1] in text:
                out.append(f"{name}: {line}")
    return sorted(out)


def check_wheel(wheel: Path, packages: list[str], secrets: set[str]) -> None:
    """Fail unless the wheel holds only the runtime packages and its metadata, and no secret line."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        texts = {n: zf.read(n).decode("utf-8", "replace") for n in names}
    allowed = tuple(p + "/" for p in packages)
    stray = [n for n in names if not (n.startswith(allowed) or n.split("/")[0].endswith(".dist-info"))]
    stray += [n for n in names if {"source", "tests", "release"} & set(n.split("/")[:-1]) or n.endswith(".ipynb")]
    if stray:
        raise SystemExit(f"{wheel.name} holds files students must not get: {sorted(set(stray))[:5]}")
    found = leaks(texts, secrets)
    if found:
        raise SystemExit(f"{wheel.name} contains solution or hidden-test lines: {found[:3]}")


def _files(folder: Path) -> list[Path]:
    """The folder's files, without a .git a published copy may have."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts)


def check_notebooks(folder: Path, secrets: set[str]) -> None:
    """Fail if a notebook in ``folder`` carries solution/hidden-test markers, or any file (the README) a secret line."""
    texts = {str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace") for p in _files(folder)}
    marked = [n for n, t in texts.items() if n.endswith(".ipynb") and any(m in t for m in MARKERS)]
    if marked:
        raise SystemExit(f"notebooks with solution or hidden-test markers: {marked}")
    found = leaks(texts, secrets)
    if found:
        raise SystemExit(f"{folder.name} contains solution or hidden-test lines: {found[:3]}")


def build_wheel(dest: Path, packages: list[str]) -> Path:
    """pip-build the wheel from a staging copy holding only pyproject.toml, README.md and ``packages``.

    A staging copy, so no stale build/ folder or stray file of the repository can end up in it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "project"
        stage.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, stage / name)
        for pkg in packages:
            shutil.copytree(ROOT / pkg, stage / pkg, ignore=IGNORED)
        out = Path(tmp) / "wheel"
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                        "--wheel-dir", str(out), str(stage)], check=True)
        (wheel,) = out.glob("*.whl")
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheel, dest / wheel.name))


def build_notebooks(folder: Path) -> None:
    """The release notebooks under workspace/ and the start page under course/, as ``make lab`` lays them out."""
    for assignment in sorted(p for p in (ROOT / "release").iterdir() if p.is_dir()):
        shutil.copytree(assignment, folder / "workspace" / assignment.name, ignore=IGNORED)
    (folder / "course").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "course" / "start.ipynb", folder / "course" / "start.ipynb")
    shutil.copy2(ROOT / "course" / "student-readme.md", folder / "README.md")


def zip_folder(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in _files(folder):
            zf.write(path, Path(folder.name) / path.relative_to(folder))


def clean(out: Path) -> None:
    """Remove what an earlier build wrote, so a stale version is never handed out."""
    for old in [*out.glob("python_memory_course-*.whl"), *out.glob(f"{NOTEBOOKS}-*.zip")]:
        old.unlink()
    folder = out / NOTEBOOKS
    # A folder published for nbgitpuller keeps its .git: a rebuilt chapter is then one more commit.
    for child in (folder.iterdir() if folder.is_dir() else []):
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def build(out: Path) -> tuple[Path, Path]:
    """Build and check both artifacts in ``out``; return (wheel, zip)."""
    packages = project_packages()
    secrets = secret_lines()
    clean(out)
    wheel = build_wheel(out, packages)
    try:
        check_wheel(wheel, packages, secrets)
    except SystemExit:
        wheel.unlink()
        raise
    version = wheel.name.split("-")[1]
    folder = out / NOTEBOOKS
    build_notebooks(folder)
    check_notebooks(folder, secrets)
    archive = out / f"{NOTEBOOKS}-{version}.zip"
    zip_folder(folder, archive)
    return wheel, archive


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "dist"), help="where to write (default: dist/)")
    out = Path(parser.parse_args(argv).out).resolve()
    wheel, archive = build(out)
    for path in (wheel, archive):
        print(f"{path}  ({path.stat().st_size / 1024:.1f} KiB)")
    print(f"{out / NOTEBOOKS}/  (the same notebooks as a folder, for a release-only git repository)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
