"""An nbgrader preprocessor that runs in the grader's process, out of the learner's reach.

The learner's code shares the kernel with the test cells, so it could replace the
autograder's functions (``check_memory = lambda *a, **k: None``) and every test
cell would pass in silence. Every real check publishes a record (see
:mod:`autograder.report`); this preprocessor, placed before nbgrader's
SaveAutoGrades in nbgrader_config.py, fails any test cell that calls checks but
shows fewer records than it has check calls.
"""

from __future__ import annotations

import re

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from .report import MIME

CHECK_CALL = re.compile(
    r"\b(?:check_(?:result|memory|scaling|freed|no_growth|format|choice|filled|short))\s*\("
)


def count_check_calls(source: str) -> int:
    """Check calls written in a cell (comments and docstring-free code lines only)."""
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
    return len(CHECK_CALL.findall(code))


class RequireCheckRecords(NbGraderPreprocessor):
    """Fail a test cell whose checks left no records: they were replaced or silenced."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            return cell, resources
        expected = count_check_calls(cell.source)
        outputs = cell.get("outputs", [])
        if expected == 0 or any(o.output_type == "error" for o in outputs):
            return cell, resources
        records = sum(1 for o in outputs if o.output_type == "display_data" and MIME in o.get("data", {}))
        if records < expected:
            message = (f"the autograder's checks did not all run in this cell ({expected} written, {records} ran): "
                       "its functions were replaced or its output hidden")
            cell.outputs.append(new_output("error", ename="CheckFailed", evalue=message,
                                           traceback=[f"CheckFailed: {message}"]))
            self.log.warning("%s: %s", meta.get("grade_id"), message)
        return cell, resources
