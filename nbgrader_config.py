"""nbgrader configuration for the Python Memory course.

Paths are relative to this file, so a copy of the course (for example the test
suite's temporary course) works the same. Override without editing this file:
  NBGRADER_DB_URL    gradebook URL (default: sqlite gradebook.db beside this file)
  NBGRADER_EXCHANGE  exchange root for release/collect (default: /srv/nbgrader/exchange)
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "python-memory"
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL", "sqlite:///" + os.path.join(HERE, "gradebook.db"))
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Per-cell limit while autograding. A memory check runs the learner's code, the
# reference and the naive solution, each capped at 30 s by the autograder itself.
c.Execute.timeout = 300
c.Execute.startup_timeout = 120

# Late submissions (after the due date set with `nbgrader db assignment add ID --duedate=...`) keep their
# points: nbgrader logs how late each is and grades.csv shows its timestamp next to the due date, so the
# course's late policy is applied by the instructor. "zero" would score them 0 automatically (raw_score keeps
# what they earned).
c.LateSubmissionPlugin.penalty_method = "none"

# Course files that are not part of an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# A learner who copies an answer or test cell in JupyterLab copies its nbgrader metadata too: the last copy is
# graded and the others run as the learner's own cells (nbgrader's DeduplicateIds fails the whole submission).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "autograder.nbgrader_hooks.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Autograding runs each submission through the trusted grader instead of a kernel: the learner's
# cells in a bubblewrap sandbox, the test cells where the learner's code cannot reach them
# (autograder/grader.py; AUTOGRADER_SANDBOX=off grades unsandboxed on purpose). A test cell that
# calls the autograder's checks must show their records, checked in nbgrader's own process.
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_hooks.GradeInSandbox",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "autograder.nbgrader_hooks.RequireCheckRecords",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Generation stamps each lesson code cell with a hash of its source: autograding skips unchanged lesson
# cells that no graded, solution or added cell needs (autograder/lessons.py). Before the cells are saved and
# the hidden tests stripped, each quiz cell's visible check gets its answer key, made from the hidden check,
# so learners' notebooks tell right from wrong (autograder/quiz_keys.py; c.StampQuizKeys.enabled = False
# releases quizzes that only check the form). Answer and test cells are tagged "raises-exception", so that
# JupyterLab's Run All goes past an unanswered question instead of stopping there (autograder/run_all.py).
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "autograder.run_all.KeepRunAllGoing",
    "autograder.quiz_stamp.StampQuizKeys",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "autograder.nbgrader_hooks.StampLessons",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback shows verdicts, measured figures and charts, never the hidden tests: RedactFeedback
# shrinks tracebacks through test cells to their message and drops hidden code lines from the
# outputs, then nbgrader's ClearHiddenTests removes the hidden regions from the cells themselves.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.nbgrader_hooks.RedactFeedback",
    "nbgrader.preprocessors.ClearHiddenTests",
]
