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

# Course files that are not part of an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# A test cell that calls the autograder's checks must show their records; this runs in
# nbgrader's process, where a learner's code in the kernel cannot replace it.
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "autograder.nbgrader_hooks.RequireCheckRecords",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
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
