"""Course housekeeping with the real nbgrader: generate release/, prepare the learner's workspace.

    python tools/course.py generate [ASSIGNMENT ...]   regenerate release/ from source/ (all by default)
    python tools/course.py gradebook [ASSIGNMENT ...]  put assignments into this course's gradebook, for a class
    python tools/course.py check                       exit 1 if release/ differs from what generation gives
    python tools/course.py update                      bring release/ into workspace/, never over the learner's work
    python tools/course.py selfgrade                   grade workspace/ with the hidden tests (self-study)

Generation runs in a temporary copy of the course, so the repository's own
gradebook is never touched and several generations can run side by side;
`gradebook` is the one command that works on the course itself.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import updates

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
WORKSPACE = ROOT / "workspace"


def assignments() -> list[str]:
    """Assignment ids, in course order."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and not p.name.startswith("."))


def nbgrader_env() -> dict:
    """The environment nbgrader needs: it runs `alembic` from the same bin directory."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("NBGRADER_DB_URL", None)
    return env


def nbgrader(course: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in ``course`` and return its completed process."""
    cmd = [str(Path(sys.executable).parent / "nbgrader"), *args]
    proc = subprocess.run(cmd, cwd=course, env={**nbgrader_env(), **(env or {})}, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_course_copy(dest: Path, ids: list[str]) -> Path:
    """A throwaway course directory with the config and the given source assignments."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    for aid in ids:
        # tools/nbedit.py's lock files are no course files: nbgrader would copy them into release/
        shutil.copytree(SOURCE / aid, dest / "source" / aid,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.ipynb.lock"))
    return dest


def generate(ids: list[str], out: Path) -> None:
    """Run `nbgrader generate_assignment` for ``ids``; write the results under ``out``/<id>."""
    with tempfile.TemporaryDirectory() as tmp:
        course = make_course_copy(Path(tmp) / "course", ids)
        for aid in ids:
            nbgrader(course, "generate_assignment", aid, "--force")
            target = out / aid
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course / "release" / aid, target)


def fill_gradebook(ids: list[str], course: Path = ROOT) -> None:
    """Run `nbgrader generate_assignment ID --force` in ``course``, which puts each assignment into its gradebook.

    --force because release/ is committed: without it nbgrader logs "Skipping existing assignment",
    exits 0 and leaves the gradebook empty. Unlike `generate`, an instructor's NBGRADER_DB_URL is kept.
    """
    db = {"NBGRADER_DB_URL": os.environ["NBGRADER_DB_URL"]} if "NBGRADER_DB_URL" in os.environ else {}
    for aid in ids:
        nbgrader(course, "generate_assignment", aid, "--force", env=db)


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side included)."""
    cmp = filecmp.dircmp(a, b, ignore=[".ipynb_checkpoints", "__pycache__"])
    out: list[str] = []

    def walk(c: filecmp.dircmp, prefix: str) -> None:
        out.extend(prefix + n for n in c.left_only + c.right_only + c.funny_files)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        out.extend(prefix + n for n in mismatch + errors)
        for name, sub in c.subdirs.items():
            walk(sub, prefix + name + "/")

    walk(cmp, "")
    return sorted(out)


def prepare_workspace(release: Path = RELEASE, workspace: Path = WORKSPACE) -> list[Path]:
    """Bring release files into the workspace (tools/updates.py): the files written in place, none a learner changed."""
    return [c.path for c in updates.update(release, workspace) if c.kind in (updates.NEW, updates.UPDATED)]


def selfgrade(workspace: Path = WORKSPACE, student: str = "me") -> dict[str, tuple[float, float]]:
    """Autograde the learner's workspace copy like an instructor would; feedback goes to workspace/feedback/.

    The learner's notebooks are only read: grading happens in a temporary course.
    """
    ids = [aid for aid in assignments() if (workspace / aid).is_dir()]
    scores: dict[str, tuple[float, float]] = {}
    if not ids:
        return scores
    from nbgrader.api import Gradebook

    # a self-study learner grades their own code: without bubblewrap, unsandboxed is a fine choice -- said once
    env = {"AUTOGRADER_EXPLAIN": "1"}
    sys.path.insert(0, str(ROOT))
    from autograder import sandbox

    if os.environ.get(sandbox.SANDBOX_ENV, "").lower() != sandbox.OFF and sandbox.problem():
        print(f"grading without a sandbox: {sandbox.problem()}")
        env[sandbox.SANDBOX_ENV] = sandbox.OFF

    with tempfile.TemporaryDirectory() as tmp:
        course = make_course_copy(Path(tmp) / "course", ids)
        for aid in ids:
            nbgrader(course, "generate_assignment", aid, "--force")
            shutil.copytree(workspace / aid, course / "submitted" / student / aid,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            # a self-study learner may read the quiz explanations that an instructor's feedback leaves out
            nbgrader(course, "autograde", aid, "--student", student, "--force", env=env)
            nbgrader(course, "generate_feedback", aid, "--student", student, "--force")
            out = workspace / "feedback" / aid
            out.mkdir(parents=True, exist_ok=True)
            for page in (course / "feedback" / student / aid).glob("*.html"):
                shutil.copy(page, out / page.name)
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for aid in ids:
                sub = gb.find_submission(aid, student)
                scores[aid] = (sub.score, sub.max_score)
    return scores


def main(argv: list[str]) -> int:
    cmd, rest = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "generate":
        ids = rest or assignments()
        generate(ids, RELEASE)
        print(f"regenerated release/ for {', '.join(ids)}")
        return 0
    if cmd == "gradebook":
        ids = rest or assignments()
        fill_gradebook(ids)
        print(f"gradebook: {', '.join(ids)} generated with --force (release/ rewritten from source/)")
        return 0
    if cmd == "check":
        with tempfile.TemporaryDirectory() as tmp:
            generate(assignments(), Path(tmp))
            diff = differences(Path(tmp), RELEASE)
        for d in diff:
            print(f"release/{d} differs from generation")
        return 1 if diff else 0
    if cmd in ("update", "workspace"):
        changes = updates.update(RELEASE, WORKSPACE)
        for change in changes:
            print(change.message(ROOT))
        beside = sum(c.kind == updates.BESIDE for c in changes)
        print(f"workspace/: {len(changes) - beside} file(s) copied from release/, {beside} new version(s) put beside "
              "your own; no file you changed was replaced" if changes else "workspace/ is up to date with release/")
        return 0
    if cmd == "selfgrade":
        scores = selfgrade()
        if not scores:
            print("workspace/ has no assignments yet: run `make lab` first")
            return 1
        for aid, (score, max_score) in scores.items():
            print(f"{aid:24} {score:5.1f} / {max_score:g}   feedback: workspace/feedback/{aid}/")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
