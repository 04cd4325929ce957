"""The instructor guide, followed as written: its command blocks, in order, on a fresh copy of the course.

The blocks of course/instructor-guide.md whose first line is `# as root`, `# as the
instructor` or `# as each student` run in bash, each role in its own persistent shell
(exports and the current folder carry over, as in one terminal). Only the placeholders
the guide's table documents are replaced. The instructor is root, working in a copy of
the files git tracks (plus new, unignored ones) with the project's .venv; four students
are new Unix users with private homes, running the project's .venv too when they can reach
it, else one shared install of the student wheel (as on a JupyterHub image), and meet the
instructor only through the exchange: "good" submits the
source solutions, "wasteful" tests/submissions' wasteful ones, "blank" nothing, "late"
the solutions after the due date. The export, the gradebook, each student's feedback and
the checksum warnings the guide explains are checked.
"""

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from traitlets.config.loader import PyFileConfigLoader

import unix_users
from autograder import hidden
from conftest import ROOT
from test_pipeline import (feedback_secrets, load_submissions_module, nbgrader_meta, page_text, solution_sources,
                           submission)

pytestmark = pytest.mark.slow

GUIDE = ROOT / "course" / "instructor-guide.md"
ROLES = ("# as root", "# as the instructor", "# as each student")
AID, NB = "04-lazy-evaluation", "lazy-evaluation"
EXCHANGE, DUE = "/srv/nbgrader/exchange", "2030-01-31 23:59:00 UTC"  # the guide's placeholders this test replaces
DUE_IN = timedelta(seconds=45)  # on-time students fetch and submit within this; the late one after it
# nbgrader's steps, and the class command that collects, autogrades, generates and releases feedback and exports
STEPS = ("release_assignment", "fetch_assignment", "submit", "grade-class", "fetch_feedback")
CHECKSUM_WARNING = re.compile(r"Attribute 'checksum' for cell (\S+) has changed")


def guide_blocks(text: str) -> list[tuple[str, str]]:
    """(role, script) of each ```bash block whose first line names a role, in the guide's order."""
    blocks = re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S)
    return [(b.split("\n", 1)[0].strip(), b) for b in blocks if b.split("\n", 1)[0].strip() in ROLES]


def documented_placeholders(text: str) -> set[str]:
    """The first column of the guide's placeholder table."""
    table = text[text.index("| placeholder | what |"):].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", table, re.M))


def course_copy(dest: Path) -> Path:
    """The files a fresh clone would have (tracked, or new and not ignored), with the project's .venv linked in."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)  # keeps mtimes, so `make setup` stays a no-op against the linked .venv
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


class Shell:
    """One person's terminal: each script runs in bash as that user; exported variables and the folder carry over."""

    def __init__(self, user, env: dict, cwd: Path, state: Path):
        self.user, self.env, self.cwd, self.state = user, env, str(cwd), state
        state.mkdir(mode=0o700)
        if user:
            unix_users.give(user, state)

    def run(self, script: str, timeout: float = 900) -> str:
        env_file, pwd_file = self.state / "env", self.state / "pwd"
        start = time.monotonic()
        wrapped = (f"trap 'env -0 > {env_file}; pwd > {pwd_file}' EXIT\nset -eo pipefail\n"
                   f"cd {shlex.quote(self.cwd)}\n{script}\n")
        if self.user:
            proc = unix_users.run(self.user, ["bash", "-c", wrapped], env=self.env, timeout=timeout, check=False)
        else:
            proc = subprocess.run(["bash", "-c", wrapped], env=self.env, capture_output=True, text=True,
                                  timeout=timeout)
        log = proc.stdout + proc.stderr
        who = self.user.name if self.user else "root"
        print(f"{time.monotonic() - start:6.1f} s  {who}: {'; '.join(script.strip().splitlines()[1:])}")
        assert proc.returncode == 0, f"as {who}, the guide's block failed ({proc.returncode}):\n{script}\n{log[-4000:]}"
        pairs = [item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item]
        self.env = {k: v for k, v in pairs if k not in ("PWD", "OLDPWD", "SHLVL", "_")}
        self.cwd = pwd_file.read_text().strip()
        return log


def instructor_env(home: Path) -> dict:
    """The caller's environment without its Jupyter/nbgrader settings, the project's .venv first on PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBGRADER_", "JUPYTER_", "PYTEST_")) and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(HOME=str(home), PATH=f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}")
    return env


def students_bin(base: Path, env: dict, student) -> Path:
    """Where the students' `nbgrader` and `python-memory` come from.

    The project's .venv when other users can run it (fast); otherwise, as when its Python is
    pyenv's under /root, the student wheel installed once into a root-owned venv every student
    uses, as on a JupyterHub image. Built from the repository, not the copy, whose release/
    the instructor's blocks rewrite meanwhile.
    """
    start = time.monotonic()
    project = ROOT / ".venv" / "bin"
    try:
        probe = unix_users.run(student, [project / "python", "-c", "import nbgrader, classroom"], check=False)
        if probe.returncode == 0:
            print(f"the students run the project's .venv: {project}")
            return project
    except PermissionError:
        pass
    proc = subprocess.run(["make", "-s", "student-package", f"DIST={base / 'dist'}"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (base / "dist").glob("python_memory_course-*.whl")
    venv = base / "students-venv"
    subprocess.run([str(unix_users.usable_python(student)), "-m", "venv", str(venv)], check=True)
    proc = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"{time.monotonic() - start:6.1f} s  the students' shared install of the wheel (while the blocks above ran)")
    return venv / "bin"


def fill_in(user, answers: dict) -> None:
    """The student's work: their fetched notebook with ``answers`` in its solution cells (blank: none)."""
    path = user.home / AID / f"{NB}.ipynb"
    assert path.exists(), f"{user.name} has no fetched {path.name}"
    if answers:
        nbformat.write(submission(nbformat.read(path, as_version=4), answers), path)
        unix_users.give(user, path)


def test_the_guide_runs_a_class(tmp_path):
    unix_users.require_root()
    guide = GUIDE.read_text()
    blocks = guide_blocks(guide)
    assert {role for role, _ in blocks} == set(ROLES), "the guide lost a role's command blocks"
    order = [m for _, b in blocks for m in re.findall(r"(?:nbgrader|python-memory) ([\w-]+)", b)]
    steps = [s for s in order if s in STEPS]
    assert list(dict.fromkeys(steps)) == list(STEPS), f"the guide's workflow is incomplete or out of order: {steps}"
    placeholders = documented_placeholders(guide)
    assert {EXCHANGE, DUE, AID} <= placeholders, f"the guide documents {placeholders}"

    course = course_copy(tmp_path / "course")
    assert subprocess.run(["make", "-q", "setup"], cwd=course).returncode == 0, \
        "the project's .venv is out of date (run `make setup`); this test must not reinstall it from a copy"
    base = Path(tempfile.mkdtemp(prefix="pm-guide-"))  # reachable by the students, unlike tmp_path
    base.chmod(0o755)
    exchange = base / "exchange"
    wasteful_answers, memory_tests = load_submissions_module(AID)
    source_nb = nbformat.read(course / "source" / AID / f"{NB}.ipynb", as_version=4)
    good = solution_sources(source_nb)
    plans = {"good": good, "wasteful": {**good, **wasteful_answers}, "blank": {}, "late": good}
    students = {}
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        for tag in plans:
            students[tag] = unix_users.create(tag)
        header = (ROOT / "course" / "roster-example.csv").read_text().split("\n", 1)[0]
        (course / "roster.csv").write_text(header + "\n" + "".join(
            f"{u.name},{tag.title()},Student,{u.name}@example.org\n" for tag, u in students.items()))

        home = tmp_path / "instructor-home"
        home.mkdir()
        env = instructor_env(home)
        print()
        tools = pool.submit(students_bin, base, env, students["good"])  # alongside the instructor's first blocks
        root = Shell(None, dict(env), base, base / "state-root")
        instructor = Shell(None, env, course, base / "state-instructor")
        shells = {}

        logs, due = [], None
        for role, script in blocks:
            # the students' tools are ready before they are needed, and before the due date's clock starts
            if (role == "# as each student" or DUE in script) and not shells:
                shells = {tag: Shell(u, unix_users.env_for(u, path_first=tools.result()), u.home, base / f"state-{tag}")
                          for tag, u in students.items()}
            script = script.replace(EXCHANGE, str(exchange))
            if DUE in script:
                due = datetime.now(timezone.utc).replace(microsecond=0) + DUE_IN
                script = script.replace(DUE, due.strftime("%Y-%m-%d %H:%M:%S UTC"))
            if role == "# as root":
                logs.append(root.run(script))
            elif role == "# as the instructor":
                logs.append(instructor.run(script))
            else:
                for tag, shell in shells.items():
                    if tag == "late" and "nbgrader submit" in script:
                        assert due and datetime.now(timezone.utc) < due, \
                            f"the on-time students submitted after the due date: raise DUE_IN ({DUE_IN})"
                        time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 2)
                    shell.run(script)
                    if "nbgrader fetch_assignment" in script:
                        fill_in(students[tag], plans[tag])
        assert due, "the guide sets no due date"

        # the export: every student, the right totals, the late one known late
        with open(course / "grades.csv", newline="") as f:
            rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == AID}
        ids = {tag: u.name for tag, u in students.items()}
        assert set(rows) == set(ids.values()), f"grades.csv lists {sorted(rows)}"
        row = {tag: rows[name] for tag, name in ids.items()}
        max_score = float(row["good"]["max_score"])
        assert float(row["good"]["score"]) == max_score > 0
        assert float(row["blank"]["score"]) == 0
        assert 0 < float(row["wasteful"]["score"]) < max_score
        for tag in ("good", "wasteful", "blank"):
            assert datetime.fromisoformat(row[tag]["timestamp"]) <= datetime.fromisoformat(row[tag]["duedate"]), tag
        late = row["late"]
        assert datetime.fromisoformat(late["timestamp"]) > datetime.fromisoformat(late["duedate"])
        assert float(late["raw_score"]) == max_score
        policy = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        if policy.LateSubmissionPlugin.get("penalty_method", "none") == "zero":
            assert float(late["score"]) == 0
        else:
            assert float(late["score"]) == max_score and float(late["late_submission_penalty"]) == 0

        # the wasteful submission loses exactly its memory cells
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            grades = {tag: {g.name: (g.score, g.max_score) for g in gb.find_submission_notebook(NB, AID, name).grades}
                      for tag, name in ids.items()}
        for cell, (score, most) in grades["wasteful"].items():
            if cell.startswith("test"):
                assert score == (0 if cell in memory_tests else most), f"wasteful: {cell} scores {score} / {most}"

        # each student fetched their own feedback, without hidden tests, and can read no one else's
        secret_lines, explanations = feedback_secrets(source_nb)
        pages = {}
        for tag, user in students.items():
            found = list((user.home / AID / "feedback").glob(f"*/{NB}.html"))
            assert len(found) == 1, f"{tag} fetched {found}"
            pages[tag] = found[0]
            text = page_text(found[0])
            shown = re.search(rf"{NB} \(Score: ([\d.]+) / ([\d.]+)\)", text)
            assert shown, f"{tag}'s feedback shows no score"
            assert float(shown.group(1)) == float(row[tag]["raw_score"]), f"{tag} got someone else's feedback"
            own = (user.home / AID / f"{NB}.ipynb").read_text()
            leaked = [line for line in secret_lines if line in text and json.dumps(line)[1:-1] not in own]
            assert not leaked and not [e for e in explanations if e in text], f"{tag}'s feedback shows hidden tests"
        course_dir = exchange / "python-memory"
        for tag, user in students.items():
            others = [p for t, p in pages.items() if t != tag]
            for target in [*others, course_dir / "feedback", course_dir / "inbound"]:
                proc = unix_users.run(user, ["cat" if target.suffix else "ls", target], check=False)
                assert proc.returncode != 0 and "Permission denied" in proc.stderr, f"{tag} can read {target}"

        # the checksum warnings are the ones the guide explains: every test cell with hidden tests, every student
        # (the class command keeps nbgrader's log of recording each student's grade)
        records = sorted((course / ".grade-class" / AID / "logs" / "record").glob("*.log"))
        warned = CHECKSUM_WARNING.findall("\n".join(logs + [p.read_text() for p in records]))
        with_hidden = {nbgrader_meta(c)["grade_id"] for c in source_nb.cells
                       if nbgrader_meta(c).get("grade") and hidden.BEGIN in c.source}
        assert with_hidden and set(warned) == with_hidden, f"checksum warnings for {sorted(set(warned))}"
        assert len(warned) == len(with_hidden) * len(students)
    finally:
        pool.shutdown(wait=True)
        for user in students.values():
            unix_users.remove(user)
        shutil.rmtree(base, ignore_errors=True)
