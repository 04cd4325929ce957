"""generate_assignment: write each quiz question's key into its visible check (see :mod:`autograder.quiz_keys`).

Runs before nbgrader saves the cells to the gradebook and strips the hidden tests, so
the key is made from the hidden check that ``source/`` holds, and the released cell
and the gradebook's copy agree. ``c.StampQuizKeys.enabled = False`` releases quizzes
without instant feedback (the visible check then checks only the form).
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from . import quiz_keys


class StampQuizKeys(NbGraderPreprocessor):
    """Give every quiz test cell's ``check_answer`` the key of its hidden check (or remove a key when disabled)."""

    enabled = Bool(True, help="Write answer keys into quiz cells, so learners' notebooks tell right from wrong"
                   ).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = quiz_keys.stamp(cell.source, with_key=self.enabled)
        return cell, resources
