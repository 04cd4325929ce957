"""generate_assignment: let JupyterLab's *Run All* go past the cells a learner has yet to complete.

A released answer cell starts as ``raise NotImplementedError()`` and its test cell fails until it is answered;
on an error JupyterLab stops *Run All* and skips every cell below, lessons included. JupyterLab (and nbclient)
go on after a cell tagged ``raises-exception``, so every answer and test cell gets that tag: an unanswered
question still fails its test, with one line saying what to do (:mod:`autograder.display`), and the rest of the
notebook runs. Grading is unaffected: the trusted grader runs every cell whatever its tags.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

TAG = "raises-exception"


class KeepRunAllGoing(NbGraderPreprocessor):
    """Tag every solution and autograded test cell ``raises-exception``."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("solution") or meta.get("grade")):
            tags = cell.metadata.setdefault("tags", [])
            if TAG not in tags:
                tags.append(TAG)
        return cell, resources
