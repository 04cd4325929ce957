"""``python-memory grade-class ASSIGNMENT...``: grade a whole class in parallel on Dask, then feedback, export, report.

One run, on one or more assignments (sharing one Dask cluster):

1. collects the submissions from the nbgrader exchange, when the course has one (``--no-collect`` skips it);
2. grades every new or changed submission in ``submitted/`` on Dask -- each task in a scratch copy of the course,
   with nbgrader's Autograde and the course's sandboxed grader (:mod:`classroom.grading_task`);
3. records each result in the real gradebook as it arrives, through nbgrader's API in this process, the only
   writer (SQLite is never written concurrently); nbgrader restores the locked cells, scores and applies late
   penalties exactly as ``nbgrader autograde`` would, taking the graded outputs instead of running the notebook
   again (:mod:`autograder.graded_outputs`), and the student's feedback is filed (generated on the worker from
   the same gradebook figures; generated here when they differ, as after an instructor's manual grading);
4. exports ``grades.csv`` with ``nbgrader export`` and writes the class report (:mod:`classroom.report`).

A re-run grades only new or changed submissions (``--force`` regrades all; :mod:`classroom.class_state`).
Students' failing tests are the grades; the exit status is 1 only when a submission could not be graded at all
(the grader or a worker failed), 2 when the run could not start. Plain nbgrader commands keep working on the
same course.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from autograder import reference_cache
from autograder.grader import SEED_ENV, new_seed

from . import class_state, dask_config, grading_task, job_order
from .class_state import ClassState
from .nbgrader_course import open_course, quiet_warnings

# A submission bigger than this is not shipped to a worker (grade it with `nbgrader autograde --student`).
MAX_SUBMISSION_BYTES = 256 * 1024 * 1024
SCHEDULER_TIMEOUT = "30s"  # to connect to --scheduler
# Dask's own retry when a worker dies under a task (the grader bounds every notebook's time itself).
TASK_RETRIES = 1
EXIT_GRADER_ERRORS, EXIT_CANNOT_START, EXIT_INTERRUPTED = 1, 2, 130
# What GradeInSandbox logs when it takes a worker's outputs (autograder/nbgrader_hooks.py)
REUSED_OUTPUTS = "outputs graded by the class command"


class CannotStart(Exception):
    """The run cannot start: one line saying why and what to do."""


@dataclass(frozen=True)
class Job:
    """One submission to grade."""

    assignment: str
    student: str
    folder: Path
    fingerprint: str

    @property
    def name(self) -> str:
        return f"{self.student} ({self.assignment})"


@dataclass
class Outcome:
    """How the run went, for the summary."""

    found: int = 0
    unchanged: int = 0
    graded: list[Job] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # who or what -> one line
    warnings: list[str] = field(default_factory=list)
    failed_jobs: list[Job] = field(default_factory=list)


def default_workers() -> int:
    """This machine's usable cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def submissions(course: Path, assignment: str) -> dict[str, Path]:
    """student -> their submission folder ``submitted/<student>/<assignment>``."""
    root = course / "submitted"
    if not root.is_dir():
        return {}
    return {p.parent.name: p for p in sorted(root.glob(f"*/{assignment}"))
            if p.is_dir() and not p.parent.name.startswith(".")}


def _first_line(text: str) -> str:
    return grading_task.failure_reason("", text or "")


def _nbgrader(course: Path, *args: str) -> subprocess.Popen:
    """Start an nbgrader command in the course, as an instructor would (with this Python's nbgrader)."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.Popen([str(bin_dir / "nbgrader"), *args], cwd=course, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class _Background:
    """``func(*args)`` run in a thread; :meth:`result` waits for it and returns its value or raises its error."""

    def __init__(self, func, *args):
        self._value, self._error = None, None
        self._thread = threading.Thread(target=self._run, args=(func, args), daemon=True)
        self._thread.start()

    def _run(self, func, args):
        try:
            self._value = func(*args)
        except BaseException as exc:  # handed to result()
            self._error = exc

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _stop_workers(client, cluster, references=None) -> None:
    client.close()
    if cluster is not None:
        cluster.close()
    if references is not None:
        references.cleanup()


class ClassGrading:
    """One run of the class command on one or more assignments (see the module's docstring)."""

    def __init__(self, course: Path, assignments: list[str], *, workers: int | None = None,
                 scheduler: str | None = None, force: bool = False, collect: bool = True,
                 release_feedback: bool = False, report_dir: Path | None = None, progress: bool | None = None,
                 out=sys.stdout):
        self.course, self.assignments = course, list(dict.fromkeys(assignments))
        self.workers, self.scheduler = workers or default_workers(), scheduler
        self.force, self.collect, self.release_feedback = force, collect, release_feedback
        self.report_dir, self.progress, self.out = report_dir, progress, out
        self.states = {aid: ClassState(course, aid) for aid in self.assignments}
        self.outcome = Outcome()
        self._closing: _Background | None = None  # Dask stopping after the grading

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    # -- before grading -------------------------------------------------------------------------------------
    def check_course(self):
        if not (self.course / "nbgrader_config.py").is_file():
            raise CannotStart(f"{self.course} is not a course folder: it has no nbgrader_config.py")
        for aid in self.assignments:
            if not (self.course / "source" / aid).is_dir():
                raise CannotStart(f"no source/{aid} in {self.course}")
        api = open_course(self.course)
        with api.gradebook as gb:
            known = {a.name for a in gb.assignments}
        missing = [aid for aid in self.assignments if aid not in known]
        if missing:
            raise CannotStart(f"{', '.join(missing)} not in the gradebook ({api.coursedir.db_url}): run "
                              f"`nbgrader generate_assignment {missing[0]}` first (or `make gradebook`)")
        return api

    def collect_submissions(self, api) -> None:
        if not self.collect:
            return
        if not api.exchange_is_functional:
            self.say(f"no exchange at {api.exchange_root or '(none configured)'}: grading the submissions already "
                     "in submitted/")
            return
        for aid in self.assignments:
            outcome = api.collect(aid, update=True)
            if not outcome["success"]:
                raise CannotStart(f"nbgrader collect {aid} failed: {_first_line(outcome.get('error', ''))}")
            self.say(f"collected {aid} from the exchange at {api.exchange_root}")

    def plan(self) -> list[Job]:
        """Every submission this run must grade: new, changed, never recorded, or all with ``force``.

        Taken in turn from each assignment (one of each, then the next of each, ...); :mod:`classroom.job_order`
        hands them to Dask in this order at first, then the longest first."""
        per_assignment = []
        for aid in self.assignments:
            jobs = []
            per_assignment.append(jobs)
            key = class_state.assignment_digest(self.course, aid)
            recorded = self.states[aid].recorded()
            found = submissions(self.course, aid)
            self.outcome.found += len(found)
            for student, folder in found.items():
                fingerprint = class_state.submission_fingerprint(folder, key)
                autograded = self.course / "autograded" / student / aid
                if self.force or recorded.get(student) != fingerprint or not autograded.is_dir():
                    jobs.append(Job(aid, student, folder, fingerprint))
        jobs = [job for turn in itertools.zip_longest(*per_assignment) for job in turn if job is not None]
        self.outcome.unchanged = self.outcome.found - len(jobs)
        return jobs

    # -- grading --------------------------------------------------------------------------------------------
    def _start_workers(self):
        """The Dask client and cluster, and the workers' warm-up tasks (held until the end: a future let go of is
        cancelled)."""
        client, cluster = self.client()
        warming = [client.submit(grading_task.warm_up, pure=False, workers=[worker], key=f"warm-up-{worker}")
                   for worker in client.scheduler_info()["workers"]]
        return client, cluster, warming

    def client(self):
        """A Dask client: on ``--scheduler``, else on a LocalCluster of this machine's cores (one thread each)."""
        from distributed import Client, LocalCluster

        dask_config.apply()
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout=SCHEDULER_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise CannotStart(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
            threads = client.nthreads()
            if not threads:
                client.close()
                raise CannotStart(f"the Dask scheduler at {self.scheduler} has no workers: start them with "
                                  f"`dask worker {self.scheduler} --nthreads 1`")
            if any(n > 1 for n in threads.values()):
                self.say("note: some Dask workers run several threads; each grades one submission at a time, so "
                         "start them with `dask worker --nthreads 1` (one per core)")
            self.workers = len(threads)
            return client, None
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster

    def record(self, recorder, job: Job, result: dict) -> None:
        """Record one task's result in the real gradebook (nbgrader's Autograde with the outputs) and feedback."""
        state = self.states[job.assignment]
        state.keep_outputs(job.student, result["outputs"])
        state.write_log(job.student, result.get("log", ""), "worker")
        outcome = recorder.autograde(job.assignment, job.student, force=True, create=True)
        log = state.write_log(job.student, outcome.get("log", "") + outcome.get("error", ""), "record")
        if not outcome["success"]:
            reason = grading_task.failure_reason(outcome.get("log", ""), outcome.get("error", ""))
            self.fail(job, f"recording in the gradebook failed: {reason} (log: {log})")
            return
        reused = outcome.get("log", "").count(REUSED_OUTPUTS)
        if reused != len(result["outputs"]):
            self.outcome.warnings.append(f"{job.name}: {len(result['outputs']) - reused} notebook(s) graded again on "
                                         f"this machine (their cells differ from what the worker graded; log: {log})")
        basis = grading_task.feedback_basis(recorder, job.assignment, job.student)
        if grading_task.scores(basis) != result["scores"]:
            self.outcome.warnings.append(f"{job.name}: the worker's scores and the gradebook's differ (log: {log})")
        if result.get("feedback_basis") != basis or not self.file_feedback(recorder, job, result["feedback"]):
            feedback = recorder.generate_feedback(job.assignment, job.student, force=True)
            if not feedback["success"]:
                reason = grading_task.failure_reason(feedback.get("log", ""), feedback.get("error", ""))
                self.fail(job, f"generating feedback failed: {reason} (log: {log})")
                return
        state.mark_recorded(job.student, job.fingerprint)
        self.outcome.graded.append(job)

    def file_feedback(self, recorder, job: Job, feedback: bytes) -> bool:
        """Put the worker's feedback (made from what the real gradebook holds too: record() compares the two,
        since an instructor's manual grading is not in the worker's gradebook) in the course's feedback folder;
        False, when that fails, leaves it to nbgrader here."""
        from nbgrader.converters import GenerateFeedback

        converter = GenerateFeedback(coursedir=recorder.coursedir, parent=recorder)
        folder = Path(converter._format_dest(job.assignment, job.student))
        try:
            shutil.rmtree(folder, ignore_errors=True)
            grading_task.unpack(feedback, folder)
            converter.set_permissions(job.assignment, job.student)  # nbgrader's modes (group-shared courses too)
        except (OSError, ValueError, tarfile.TarError):  # then nbgrader makes it here
            return False
        return True

    def fail(self, job: Job, message: str) -> None:
        self.outcome.errors[job.name] = message
        self.outcome.failed_jobs.append(job)
        self.states[job.assignment].forget(job.student)

    def grade(self, jobs: list[Job]) -> None:
        from distributed import as_completed
        from tqdm import tqdm

        sources = {aid: grading_task.course_files(self.course, aid) for aid in sorted({j.assignment for j in jobs})}
        client, cluster, warming = self._start_workers()
        references = tempfile.TemporaryDirectory(prefix="python-memory-references-")
        try:
            recorders = {aid: open_course(self.course, {"GradeInSandbox": {"graded_outputs": str(state.outputs)}})
                         for aid, state in self.states.items()}
            env = {k: v for k, v in os.environ.items() if k.startswith(grading_task.FORWARDED_PREFIX)}
            if cluster is not None:  # the local workers share one folder of reference measurements
                env.setdefault(reference_cache.ENV, references.name)
            # One seed for the run: every student is graded on the same hidden inputs, so each worker measures
            # the reference and naive solutions once (autograder/reference_cache.py); a new run draws new ones.
            if not env.get(SEED_ENV, "").strip():
                env[SEED_ENV] = str(new_seed())
            where = f"Dask scheduler {self.scheduler}" if self.scheduler else "local Dask workers"
            unchanged = (f" ({self.outcome.unchanged} unchanged since the last run; --force regrades them)"
                         if self.outcome.unchanged else "")
            self.say(f"{', '.join(self.assignments)}: grading {len(jobs)} of {self.outcome.found} submissions on "
                     f"{self.workers} {where}{unchanged}")
            # Each assignment's scratch course (grading_task.make_template) is a task too, submitted just before
            # the assignment's first submission: the workers make them side by side and start grading an
            # assignment as soon as its own is ready.
            templates: dict = {}

            def submit(job: Job):
                if job.assignment not in templates:
                    templates[job.assignment] = client.submit(
                        grading_task.make_template, sources[job.assignment], job.assignment, pure=False,
                        key=f"template-{job.assignment}-{time.time_ns()}")
                files = grading_task.pack(job.folder)
                if len(files) > MAX_SUBMISSION_BYTES:
                    self.fail(job, f"the submission is {len(files) / 2**20:.0f} MiB compressed, over the "
                                   f"{MAX_SUBMISSION_BYTES // 2**20} MiB a task ships: grade it with "
                                   f"`nbgrader autograde {job.assignment} --student {job.student}`")
                    return None
                return client.submit(grading_task.grade_submission, templates[job.assignment], job.assignment,
                                     job.student, files, env, pure=False, retries=TASK_RETRIES,
                                     key=f"grade-{job.assignment}-{job.student}-{time.time_ns()}")

            order = job_order.JobOrder(jobs)
            running: dict = {}
            arriving = as_completed()
            with tqdm(total=len(jobs), unit="submission", disable=self._no_bar(), file=sys.stderr,
                      smoothing=0.1) as bar:

                def top_up():
                    while order and len(running) < self.workers * (1 + job_order.QUEUED_PER_WORKER):
                        job = order.next()
                        future = submit(job)
                        if future is None:
                            bar.update()
                        else:
                            running[future] = job
                            arriving.add(future)

                top_up()
                for future in arriving:
                    job = running.pop(future)
                    try:
                        result = future.result()
                    except grading_task.TemplateFailed as exc:
                        self.fail(job, f"nbgrader generate_assignment {job.assignment} failed on a copy of the "
                                       f"course: {_first_line(str(exc))}")
                    except Exception as exc:  # the worker died twice, or the task itself crashed
                        self.fail(job, f"the Dask task failed: {type(exc).__name__}: {_first_line(str(exc))}")
                    else:
                        order.done(job, result.get("seconds", 0.0))
                        top_up()  # before recording, so that no worker waits for this process
                        if "error" in result:
                            log = self.states[job.assignment].write_log(job.student, result.get("log", ""), "worker")
                            self.fail(job, f"{result['error']} (log: {log})")
                        else:
                            self.record(recorders[job.assignment], job, result)
                    top_up()
                    bar.update()
                    if self.outcome.errors:
                        bar.set_postfix(errors=len(self.outcome.errors))
        finally:
            # stopping Dask takes a second or two: the export and the report go on meanwhile (run() waits for it)
            self._closing = _Background(_stop_workers, client, cluster, references)

    def _no_bar(self):
        # tqdm's own rule when not told: no bar unless the terminal is interactive
        return None if self.progress is None else not self.progress

    # -- after grading --------------------------------------------------------------------------------------
    def finish(self, api) -> None:
        with api.gradebook as gb:
            # every student who submitted appears in the export, graded or not
            for job in self.outcome.failed_jobs:
                gb.update_or_create_student(job.student)
        export = _nbgrader(self.course, "export")  # runs while the reports are drawn
        from .report import ReportError, write_report

        try:
            for aid in self.assignments:
                try:
                    paths = write_report(self.course, aid, self.report_dir)
                except ReportError as exc:
                    self.outcome.warnings.append(f"no class report for {aid}: {exc}")
                else:
                    self.say(f"class report: {paths[0]} (tables: {', '.join(p.name for p in paths[1:])})")
        finally:
            stdout, stderr = export.communicate()
        if export.returncode != 0:
            self.outcome.errors["nbgrader export"] = _first_line(stderr or stdout)
        else:
            self.say(f"grades: {self.course / 'grades.csv'}")
        if self.release_feedback:
            if not api.exchange_is_functional:
                self.outcome.warnings.append("--release-feedback: the course has no exchange to release into")
                return
            for aid in self.assignments:
                outcome = api.release_feedback(aid)
                if not outcome["success"]:
                    self.outcome.errors[f"nbgrader release_feedback {aid}"] = _first_line(outcome.get("error", ""))
                else:
                    self.say(f"feedback on {aid} released to the exchange at {api.exchange_root}")

    def summary(self, seconds: float) -> None:
        o = self.outcome
        if o.graded or o.failed_jobs:
            rate = len(o.graded) / seconds * 60 if seconds else 0.0
            self.say(f"graded {len(o.graded)} submission(s) in {seconds:.0f} s ({rate:.1f} per minute on "
                     f"{self.workers} worker(s))")
        elif o.found:
            self.say(f"nothing new to grade: all {o.found} submissions are recorded (--force regrades them)")
        else:
            self.say(f"no submissions of {', '.join(self.assignments)} in {self.course / 'submitted'}")
        for line in o.warnings:
            self.say(f"warning: {line}")
        if o.errors:
            self.say(f"{len(o.errors)} could not be done (a re-run retries them):")
            for name, message in sorted(o.errors.items()):
                self.say(f"  {name}: {message}")

    def run(self) -> int:
        started = time.monotonic()
        api = self.check_course()
        with ExitStack() as stack:
            for state in self.states.values():
                stack.enter_context(state.lock())
            stack.enter_context(quiet_warnings())
            self.collect_submissions(api)
            jobs = self.plan()
            try:
                if jobs:
                    self.grade(jobs)
                self.finish(api)
            finally:
                if self._closing is not None:
                    self._closing.result()
        self.summary(time.monotonic() - started)
        return EXIT_GRADER_ERRORS if self.outcome.errors else 0


def run(args: argparse.Namespace) -> int:
    grading = ClassGrading(args.course.resolve(), args.assignments, workers=args.workers, scheduler=args.scheduler,
                           force=args.force, collect=not args.no_collect, release_feedback=args.release_feedback,
                           report_dir=args.report_dir, progress=args.progress)
    try:
        return grading.run()
    except (CannotStart, class_state.Busy) as exc:
        print(f"grade-class: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    except KeyboardInterrupt:
        print(f"grade-class: interrupted after recording {len(grading.outcome.graded)} submission(s); "
              "run it again to grade the rest", file=sys.stderr)
        return EXIT_INTERRUPTED


DESCRIPTION = """\
Grade every submission of ASSIGNMENT in parallel on Dask, then generate feedback, export grades.csv and
write the class report (reports/ in the course).

  1. collect from the nbgrader exchange, when the course has one (--no-collect skips it);
  2. grade each new or changed submission in submitted/ on a Dask worker: a scratch copy of the course,
     nbgrader's autograde, every learner cell in its bubblewrap sandbox, and the student's feedback; one
     seed per run (unless AUTOGRADER_SEED is set), so every student gets the same hidden inputs and each
     worker measures the reference solutions once;
  3. record each result in the course's gradebook as it arrives (this process is its only writer) and
     file that student's feedback (made again here when the gradebook holds more, e.g. manual grades);
  4. nbgrader export, then the class report.

A re-run grades only new or changed submissions (--force regrades all); a change to source/ASSIGNMENT,
nbgrader_config.py or the autograder regrades everyone. Exit status: 0 when every submission was graded,
whatever the students scored; 1 when some could not be graded (listed at the end; a re-run retries them);
2 when the run could not start. Plain nbgrader commands keep working on the same course.
"""
EPILOG = """\
examples:
  python-memory grade-class 04-lazy-evaluation                 # in the course folder, on this machine's cores
  python-memory grade-class 04-lazy-evaluation --workers 2 --course /srv/course
  python-memory grade-class 04-lazy-evaluation --scheduler tcp://10.0.0.5:8786

past one machine: start a Dask cluster whose workers have this package installed, one thread each
(`dask worker tcp://HOST:8786 --nthreads 1` per core; dask-jobqueue starts them as Slurm jobs, the Dask
Kubernetes operator or a Dask Gateway as pods) and pass --scheduler. Workers need bubblewrap, not the course
folder: each task carries the course template and the submission. NBGRADER_DB_URL selects the gradebook
(SQLite by default, PostgreSQL for instance postgresql+psycopg://user@host/course); AUTOGRADER_* variables
(for example AUTOGRADER_SEED) are passed on to every task.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("grade-class", help="grade every submission of an assignment in parallel on Dask",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="+", metavar="ASSIGNMENT",
                        help="assignment ids, as in source/<assignment> (several share one Dask cluster)")
    parser.add_argument("--course", type=Path, default=Path.cwd(),
                        help="the course folder, with nbgrader_config.py (default: the current folder)")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"local Dask workers, one submission each at a time (default: this machine's cores, {default_workers()})")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="grade on this existing Dask cluster instead")
    parser.add_argument("--force", action="store_true", help="regrade every submission, changed or not")
    parser.add_argument("--no-collect", action="store_true", help="do not collect from the exchange first")
    parser.add_argument("--release-feedback", action="store_true",
                        help="release the feedback to the exchange after grading")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="where the class report goes (default: reports/ in the course)")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show the progress bar (default: only on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    parser.set_defaults(run=run)
