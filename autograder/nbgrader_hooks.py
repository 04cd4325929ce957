"""nbgrader preprocessors that run in the grader's process, out of the learner's reach.

* :class:`RequireCheckRecords` (autograde): the learner's code shares the kernel with
  the test cells, so it could replace the autograder's functions
  (``check_memory = lambda *a, **k: None``) and every test cell would pass in
  silence. Every real check publishes a record (see :mod:`autograder.report`);
  this fails any test cell that calls checks but shows fewer records than it has
  check calls, and stamps each record with the student, assignment and notebook.
* :class:`RedactFeedback` (generate_feedback): feedback pages keep the verdicts,
  figures and charts but never the hidden tests' code (reference and naive
  solutions, oracles, answers), not even inside a traceback.
"""

from __future__ import annotations

import re

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from . import hidden
from .report import MIME

CHECK_CALL = re.compile(
    r"\b(?:check_(?:result|memory|scaling|freed|no_growth|format|choice|filled|short))\s*\("
)
RED, RESET = "\x1b[0;31m", "\x1b[0m"
FIGURE_ALT = "a figure drawn by this notebook cell"


def count_check_calls(source: str) -> int:
    """Check calls written in a cell (comments and docstring-free code lines only)."""
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
    return len(CHECK_CALL.findall(code))


def _grade_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


class RequireCheckRecords(NbGraderPreprocessor):
    """Fail a test cell whose checks left no records: they were replaced or silenced."""

    def preprocess_cell(self, cell, resources, index):
        meta = _grade_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade"):
            return cell, resources
        context = {k: resources.get("nbgrader", {}).get(k) for k in ("student", "assignment", "notebook")}
        outputs = cell.get("outputs", [])
        records = [o for o in outputs if o.output_type == "display_data" and MIME in o.get("data", {})]
        for output in records:
            output.data[MIME] = {**output.data[MIME], **{k: v for k, v in context.items() if v}}
        expected = count_check_calls(cell.source)
        if expected == 0 or any(o.output_type == "error" for o in outputs):
            return cell, resources
        if len(records) < expected:
            message = (f"the autograder's checks did not all run in this cell ({expected} written, {len(records)} ran): "
                       "its functions were replaced or its output hidden")
            cell.outputs.append(new_output("error", ename="CheckFailed", evalue=message,
                                           traceback=[f"CheckFailed: {message}"]))
            self.log.warning("%s: %s", meta.get("grade_id"), message)
        return cell, resources


class RedactFeedback(NbGraderPreprocessor):
    """Keep hidden tests out of feedback: errors shrink to their message, hidden code lines are removed.

    Put it before nbgrader's ClearHiddenTests, which then removes the hidden regions
    from the cells' source: this preprocessor needs them to know what to redact.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        graded = bool(_grade_meta(cell).get("grade"))
        secrets = hidden.hidden_lines(cell.source)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                if graded:  # a traceback through a test cell quotes its (hidden) lines: keep the message only
                    output.traceback = [f"{RED}{output.ename}{RESET}: {output.evalue}"]
                output.evalue = hidden.redact(output.evalue, secrets)
                output.traceback = [hidden.redact(line, secrets) for line in output.traceback]
            elif output.output_type == "stream":
                output.text = hidden.redact(output.text, secrets)
            else:
                data = output.get("data", {})
                for mime in ("text/plain", "text/html", "text/markdown"):
                    if isinstance(data.get(mime), str):
                        data[mime] = hidden.redact(data[mime], secrets)
                if "image/png" in data and not output.get("metadata", {}).get("image/png", {}).get("alt"):
                    # nbconvert warns about (and screen readers lose) images without alternative text
                    output.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = FIGURE_ALT
        return cell, resources
