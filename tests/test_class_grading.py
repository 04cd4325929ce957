"""The class command (`python-memory grade-class`) against nbgrader itself, on real Dask and a real PostgreSQL.

* the same class graded by plain sequential `nbgrader autograde` and by the class command on a LocalCluster gets
  the same scores, late penalties and autograded notebooks (measured figures and timestamps aside), with
  AUTOGRADER_SEED fixed so both draw the same hidden inputs; the feedback the workers generate is what
  `nbgrader generate_feedback` writes, and after manual grading it comes from the real gradebook;
* on an external `dask scheduler` + `dask worker` pair started on loopback: a submission nbgrader cannot read is
  reported, exits 1 and still appears in the export; a re-run grades only new or changed submissions;
* with NBGRADER_DB_URL on a PostgreSQL server started for the test, the class command and plain nbgrader write
  the same gradebook; without AUTOGRADER_SEED, one seed serves all the run's students.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

import course
import dask_loopback
import postgres_server
import simulated_class
from autograder.report import MIME
from classroom import class_state, grade_class as grade_class_module, grading_task
from conftest import ROOT

AID = "04-lazy-evaluation"
SEED = "20261129"
DUE = "2026-11-20 10:00:00 UTC"
LATE = "2026-11-20 12:30:00.000000 UTC"  # 2.5 hours after DUE
NUMBER = re.compile(r"\d+(\.\d+)?")
# check-record fields that are timings or resident-memory samples, which no two runs share
VOLATILE = {"elapsed", "anon", "reference_anon"}


def class_course(dest: Path, students: dict[str, str], db_url: str | None = None) -> Path:
    """A course copy with ``students`` (name -> kind) submitted, "late-…" ones after the due date."""
    root = course.make_course_copy(dest, [AID])
    env = {"NBGRADER_DB_URL": db_url} if db_url else {}
    course.nbgrader(root, "generate_assignment", AID, "--force", env=env)
    course.nbgrader(root, "db", "assignment", "add", AID, f"--duedate={DUE}", env=env)
    for student, kind in students.items():
        simulated_class.write_submission(root, AID, student, kind,
                                         timestamp=LATE if student.startswith("late") else simulated_class.TIMESTAMP)
    return root


def grade_class(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "classroom.cli", "grade-class", AID, "--course", str(root),
                           "--no-progress", *args], capture_output=True, text=True,
                          env={**course.nbgrader_env(), "AUTOGRADER_SEED": SEED, **(env or {})}, timeout=1800)
    print(proc.stdout, proc.stderr[-3000:])
    return proc


def gradebook_view(url: str) -> dict:
    """student -> (timestamp, late penalty, {notebook: {grade_id: (score, max_score)}})."""
    with Gradebook(url) as gb:
        return {s.student.id: (str(s.timestamp), s.late_submission_penalty,
                               {nb.name: {g.name: (g.score, g.max_score) for g in nb.grades} for nb in s.notebooks})
                for s in gb.find_assignment(AID).submissions}


def _masked(value):
    if isinstance(value, str):
        return NUMBER.sub("#", value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "#"
    return value


def notebook_view(path: Path) -> list:
    """What an autograded notebook shows, measured figures masked: cells, their outputs, verdicts, images' presence."""
    nb = nbformat.read(path, as_version=4)
    view = []
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            data = {mime: ("<image>" if mime.startswith("image/") else _masked(value))
                    for mime, value in out.get("data", {}).items()}
            outputs.append((out.output_type, out.get("name"), out.get("ename"), _masked(out.get("text", "")),
                            _masked(out.get("evalue", "")), json.dumps(data, sort_keys=True)))
        view.append((cell.cell_type, cell.source, cell.metadata.get("nbgrader", {}).get("grade_id"),
                     cell.get("execution_count"), outputs))
    return view


def record_seeds(folder: Path) -> set:
    """The seeds of the hidden inputs named by the check records in a folder's autograded notebooks."""
    seeds = set()
    for path in folder.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                record = out.get("data", {}).get(MIME)
                if record:
                    seeds.add(record["seed"])
    return seeds


def feedback_files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "feedback").rglob("*")) if p.is_file()}


def export_rows(root: Path) -> dict[str, dict]:
    with open(root / "grades.csv", newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == AID}


@pytest.mark.slow
def test_class_command_grades_as_nbgrader_does(tmp_path):
    students = {"good-1": "good", "wasteful-1": "wasteful", "blank-1": "blank", "late-1": "good", "good-2": "good"}
    plain = class_course(tmp_path / "plain", students)
    parallel = tmp_path / "parallel"
    shutil.copytree(plain, parallel, symlinks=True)

    proc = course.nbgrader(plain, "autograde", AID, check=False, env={"AUTOGRADER_SEED": SEED})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    run = grade_class(parallel, "--workers", "2")
    assert run.returncode == 0
    assert "grading 5 of 5 submissions on 2 local Dask workers" in run.stdout
    assert "graded 5 submission(s)" in run.stdout and "could not be done" not in run.stdout

    expected = gradebook_view(f"sqlite:///{plain / 'gradebook.db'}")
    got = gradebook_view(f"sqlite:///{parallel / 'gradebook.db'}")
    assert got == expected
    assert expected["late-1"][1] == 0 and expected["good-1"][2] == expected["late-1"][2]  # late, policy "none"
    for student in students:
        for path in sorted((plain / "autograded" / student / AID).glob("*.ipynb")):
            twin = parallel / "autograded" / student / AID / path.name
            assert notebook_view(twin) == notebook_view(path), f"{student}/{path.name} differs"
        assert sorted((parallel / "feedback" / student / AID).glob("*.html")), f"no feedback for {student}"
    rows = export_rows(parallel)
    assert set(rows) == set(students)
    assert float(rows["good-1"]["score"]) == float(rows["good-1"]["max_score"]) > float(rows["wasteful-1"]["score"]) > 0
    assert float(rows["blank-1"]["score"]) == 0
    report = parallel / "reports" / f"{AID}-report.html"
    assert report.exists() and str(report) in run.stdout

    # the feedback generated on the workers is nbgrader's own: generate_feedback here writes the very same files
    filed = feedback_files(parallel)
    assert len(filed) == 2 * len(students)  # a page and the timestamp each
    course.nbgrader(parallel, "generate_feedback", AID, "--force")
    assert feedback_files(parallel) == filed
    # after manual grading the worker's gradebook no longer tells the whole story: the comment reaches the page
    with Gradebook(f"sqlite:///{parallel / 'gradebook.db'}") as gb:
        comment = gb.find_submission_notebook("lazy-evaluation", AID, "good-1").comments[0]
        comment.manual_comment = "Mind the size of the chunks you keep"
        gb.db.commit()
    assert grade_class(parallel, "--workers", "1", "--force").returncode == 0
    page = (parallel / "feedback" / "good-1" / AID / "lazy-evaluation.html").read_text()
    assert "Mind the size of the chunks you keep" in page


@pytest.mark.slow
def test_class_command_on_an_external_cluster_resumes_and_reports_what_it_cannot_grade(tmp_path):
    root = class_course(tmp_path / "course", {"good-1": "good", "blank-1": "blank", "broken-1": "blank"})
    broken = root / "submitted" / "broken-1" / AID / "lazy-evaluation.ipynb"
    broken.write_text("{ this is not a notebook")
    with dask_loopback.cluster(tmp_path) as address:
        first = grade_class(root, "--scheduler", address)
        assert first.returncode == 1, "a submission that cannot be graded is a grader error"
        assert "grading 3 of 3 submissions on 1 Dask scheduler" in first.stdout
        assert re.search(rf"^  broken-1 \({AID}\): NotJSONError: Notebook does not appear to be JSON: .*\(log: ",
                         first.stdout, re.M), first.stdout
        rows = export_rows(root)
        assert set(rows) == {"good-1", "blank-1", "broken-1"}, "every student is in the export"
        assert float(rows["good-1"]["score"]) == float(rows["good-1"]["max_score"]) > 0

        # the student resubmits: only that submission is graded again
        simulated_class.write_submission(root, AID, "broken-1", "good")
        second = grade_class(root, "--scheduler", address)
        assert second.returncode == 0
        assert "grading 1 of 3 submissions" in second.stdout and "2 unchanged since the last run" in second.stdout
        assert float(export_rows(root)["broken-1"]["score"]) == float(rows["good-1"]["max_score"])

        third = grade_class(root, "--scheduler", address)
        assert third.returncode == 0 and "nothing new to grade: all 3 submissions are recorded" in third.stdout

    # the plain nbgrader commands still work on the course the class command graded
    proc = course.nbgrader(root, "autograde", AID, "--student", "blank-1", "--force", check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]


@pytest.mark.slow
def test_class_command_with_a_postgresql_gradebook(tmp_path):
    with postgres_server.running() as url:
        root = class_course(tmp_path / "course", {"good-1": "good", "wasteful-1": "wasteful"}, db_url=url)
        # no AUTOGRADER_SEED: the run draws one seed for all its students
        run = grade_class(root, "--workers", "2", env={"NBGRADER_DB_URL": url, "AUTOGRADER_SEED": ""})
        assert run.returncode == 0
        seeds = {student: record_seeds(root / "autograded" / student / AID) for student in ("good-1", "wasteful-1")}
        assert len(seeds["good-1"]) == 1 and seeds["good-1"] == seeds["wasteful-1"], seeds
        assert not (root / "gradebook.db").exists(), "the class command wrote a SQLite gradebook"
        view = gradebook_view(url)
        assert set(view) == {"good-1", "wasteful-1"}
        good = view["good-1"][2]["lazy-evaluation"]
        assert all(score == most for score, most in good.values())
        assert export_rows(root).keys() == {"good-1", "wasteful-1"}
        # plain nbgrader regrades one student into the same PostgreSQL gradebook, to the same scores
        proc = course.nbgrader(root, "autograde", AID, "--student", "wasteful-1", "--force", check=False,
                               env={"NBGRADER_DB_URL": url, "AUTOGRADER_SEED": SEED})
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
        assert gradebook_view(url) == view


def test_failure_reason_is_the_exception_nbgrader_logged_not_its_see_above():
    log = ("[ERROR] Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
           "    nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{ oops'\n"
           "[ERROR] There was an error processing assignment 'a' for student 's'\n")
    error = "nbgrader.converters.base.NbGraderException: Please see the the above traceback for details"
    assert grading_task.failure_reason(log, error) == "NotJSONError: Notebook does not appear to be JSON: '{ oops'"
    assert grading_task.failure_reason("", "just a line") == "just a line"
    said = "    nbgrader.converters.base.NbGraderException: No notebooks were matched by 'x'\n"
    assert grading_task.failure_reason(said, error) == "NbGraderException: No notebooks were matched by 'x'"


def test_a_submission_without_the_assignments_notebook_says_what_it_holds(tmp_path):
    (tmp_path / "source" / AID).mkdir(parents=True)
    (tmp_path / "source" / AID / "lazy-evaluation.ipynb").write_text("{}")
    folder = tmp_path / "submitted" / "s" / AID
    folder.mkdir(parents=True)
    assert grading_task.missing_notebooks(tmp_path, AID, "s") == (
        "the submission has no lazy-evaluation.ipynb (it holds no notebook): ask for it")
    (folder / "lazy-evaluation (1).ipynb").write_text("{}")
    assert grading_task.missing_notebooks(tmp_path, AID, "s") == (
        "the submission has no lazy-evaluation.ipynb (it holds lazy-evaluation (1).ipynb): rename it, or ask for it")
    (folder / "lazy-evaluation.ipynb").write_text("{}")
    assert grading_task.missing_notebooks(tmp_path, AID, "s") == ""


def test_the_gradebook_revision_read_in_process_is_the_one_alembic_heads_prints():
    from nbgrader.dbutil import _temp_alembic_ini

    from classroom.nbgrader_course import alembic_head

    # what nbgrader.api.get_alembic_version runs, as its own process
    with _temp_alembic_ini("sqlite://") as ini:
        printed = subprocess.run([str(Path(sys.executable).parent / "alembic"), "-c", ini, "heads"], check=True,
                                 capture_output=True, text=True).stdout
    assert printed.split()[0] == alembic_head()
    assert re.fullmatch(r"[0-9a-f]{12}", alembic_head())


def test_grading_workers_run_without_dasks_dashboard_bookkeeping(tmp_path):
    import dask
    from distributed import Client

    from classroom import dask_config

    def settings():
        return {key: dask.config.get(key) for key in dask_config.SETTINGS}

    client, cluster = grade_class_module.ClassGrading(tmp_path, [AID], workers=1).client()
    try:
        assert list(client.run(settings).values()) == [dask_config.SETTINGS]
    finally:
        client.close()
        cluster.close()
    # workers started elsewhere get them from the environment, as tools/dask_loopback.py starts them
    with dask_loopback.cluster(tmp_path, workers=1) as address, Client(address, timeout="30s") as external:
        external.wait_for_workers(1)
        assert list(external.run(settings).values()) == [dask_config.SETTINGS]


def test_task_archives_carry_regular_files_only(tmp_path):
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    (src / "nb.ipynb").write_text("{}")
    (src / "data" / "rows.csv").write_text("1,2\n")
    (src / "link").symlink_to("/etc/passwd")
    dest = tmp_path / "dest"
    grading_task.unpack(grading_task.pack(src), dest)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == ["data/rows.csv", "nb.ipynb"]

    import tarfile
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="unexpected entry"):
        grading_task.unpack(evil.getvalue(), tmp_path / "other")
    assert not (tmp_path / "escape.txt").exists()


def test_a_submission_fingerprint_follows_its_files_and_the_assignment(tmp_path):
    sub = tmp_path / "submitted" / "ann" / AID
    sub.mkdir(parents=True)
    (sub / "nb.ipynb").write_text("{}")
    (sub / "timestamp.txt").write_text(simulated_class.TIMESTAMP)
    first = class_state.submission_fingerprint(sub, "key-1")
    assert class_state.submission_fingerprint(sub, "key-1") == first
    assert class_state.submission_fingerprint(sub, "key-2") != first, "a changed assignment regrades everyone"
    (sub / "timestamp.txt").write_text(LATE)
    assert class_state.submission_fingerprint(sub, "key-1") != first, "a resubmission is graded again"
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text("{}")
    (sub / "timestamp.txt").write_text(simulated_class.TIMESTAMP)
    assert class_state.submission_fingerprint(sub, "key-1") == first, "checkpoints are not part of a submission"


def test_the_class_command_refuses_to_start_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(grade_class_module, "SCHEDULER_TIMEOUT", "2s")
    args = grade_class_module_parser().parse_args(["grade-class", AID, "--course", str(tmp_path)])
    assert args.run(args) == grade_class_module.EXIT_CANNOT_START
    err = capsys.readouterr().err
    assert err.strip() == f"grade-class: {tmp_path} is not a course folder: it has no nbgrader_config.py"

    root = course.make_course_copy(tmp_path / "course", [AID])
    args = grade_class_module_parser().parse_args(["grade-class", AID, "--course", str(root)])
    assert args.run(args) == grade_class_module.EXIT_CANNOT_START
    err = capsys.readouterr().err
    assert err.startswith(f"grade-class: {AID} not in the gradebook") and "nbgrader generate_assignment" in err

    course.nbgrader(root, "generate_assignment", AID, "--force")
    simulated_class.write_submission(root, AID, "ann", "blank")
    args = grade_class_module_parser().parse_args(["grade-class", AID, "--course", str(root), "--no-progress",
                                                   "--scheduler", "tcp://127.0.0.1:9"])
    assert args.run(args) == grade_class_module.EXIT_CANNOT_START
    assert capsys.readouterr().err.startswith("grade-class: cannot reach the Dask scheduler at tcp://127.0.0.1:9")

    # a source notebook nbgrader cannot read: the assignment's scratch course cannot be made, which each of its
    # submissions reports in one line (nbgrader's reason); the student is still exported
    source = next((root / "source" / AID).glob("*.ipynb"))
    source.write_text("{ oops")
    said = io.StringIO()
    grading = grade_class_module.ClassGrading(root, [AID], workers=1, progress=False, out=said)
    assert grading.run() == grade_class_module.EXIT_GRADER_ERRORS
    out = said.getvalue()
    line = next(x for x in out.splitlines() if x.strip().startswith(f"ann ({AID}):"))
    assert f"nbgrader generate_assignment {AID} failed on a copy of the course: " in line and "JSON" in line, out
    assert "ann" in (root / "grades.csv").read_text()

    state = class_state.ClassState(root, AID)
    with state.lock(), pytest.raises(class_state.Busy, match="another grade-class run"):
        with class_state.ClassState(root, AID).lock():
            pass


def grade_class_module_parser():
    from classroom.cli import build_parser

    return build_parser()
