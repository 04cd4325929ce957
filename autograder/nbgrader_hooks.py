"""nbgrader preprocessors that run in the grader's process, out of the learner's reach.

* :class:`GradeInSandbox` (autograde): replaces nbgrader's Execute. It hands the
  notebook to the trusted grader (:mod:`autograder.grader`), which runs the
  learner's cells in a sandboxed process and the test cells where the learner's
  code cannot reach them, and writes back every cell's outputs.
* :class:`RequireCheckRecords` (autograde): the learner's code shares the kernel with
  the test cells, so it could replace the autograder's functions
  (``check_memory = lambda *a, **k: None``) and every test cell would pass in
  silence. Every real check publishes a record (see :mod:`autograder.report`);
  this fails any test cell that calls checks but shows fewer records than it has
  check calls, and stamps each record with the student, assignment and notebook.
* :class:`DeduplicateIds` (autograde): a learner who copies an answer or test cell
  (JupyterLab copies its nbgrader metadata too) is graded, not failed.
* :class:`RedactFeedback` (generate_feedback): feedback pages keep the verdicts,
  figures and charts but never the hidden tests' code (reference and naive
  solutions, oracles, answers), not even inside a traceback.
"""

from __future__ import annotations

import os

import nbformat
from nbformat.v4 import new_output
from nbgrader.preprocessors import DeduplicateIds as NbgraderDeduplicateIds
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

from . import graded_outputs, grader, hidden, lessons, registry
from .report import MIME

RED, RESET = "\x1b[0;31m", "\x1b[0m"
FIGURE_ALT = "a figure drawn by this notebook cell"


def count_check_calls(source: str) -> int:
    """Check calls written in a cell (see :func:`autograder.registry.count_calls`)."""
    return registry.count_calls(source)


def _grade_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _is_test(cell) -> bool:
    """An autograded test cell: graded, not the learner's answer."""
    meta = _grade_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


class DeduplicateIds(NbgraderDeduplicateIds):
    """autograde: of cells that share a grade_id, the last keeps it; the others become the learner's own cells.

    nbgrader's DeduplicateIds means to do this, but it leaves an empty ``nbgrader`` entry on the copies, which its
    CheckCellMetadata then rejects as "an old version of the nbgrader metadata format": the whole submission fails
    (nbgrader issue #1083). The copies run like any cell the learner added.
    """

    def preprocess_cell(self, cell, resources, index):
        meta = _grade_meta(cell)
        if not (meta.get("grade") or meta.get("solution") or meta.get("locked")):
            return cell, resources
        if meta.get("grade_id") in self.grade_ids:
            self.log.warning("Cell with id '%s' exists more than once: graded the last one, ran the others as the "
                             "learner's own cells", meta.get("grade_id"))
            del cell.metadata["nbgrader"]
            cell.metadata.pop("deletable", None)
            cell.metadata.pop("editable", None)
        else:
            self.grade_ids.add(meta.get("grade_id"))
        return cell, resources


class StampLessons(NbGraderPreprocessor):
    """generate_assignment: stamp every lesson code cell with a hash of its source (see :mod:`autograder.lessons`).

    Autograding skips an unchanged lesson cell that no later cell needs; a cell the
    learner edited no longer matches its stamp and runs, as does any cell they added.
    """

    def preprocess_cell(self, cell, resources, index):
        if lessons.is_lesson(cell):
            lessons.stamp_cell(cell)
        return cell, resources


class GradeInSandbox(NbGraderPreprocessor):
    """Execute a submission for autograding: learner's cells sandboxed, test cells by the trusted grader.

    Settings: ``timeout`` per cell (default: nbgrader's ``Execute.timeout``), ``sandbox``
    ("auto": bubblewrap, refusing to grade where it cannot be made unless
    AUTOGRADER_SANDBOX=off; or "off"), ``scratch_root`` (where each submission's
    scratch directory is made and removed; default: the system's temporary folder), ``save_outputs``
    and ``graded_outputs`` (how the class command grades on its workers and records on its coordinator).
    """

    timeout = Integer(0, help="Seconds per cell; 0 means nbgrader's Execute.timeout").tag(config=True)
    sandbox = Unicode("auto", help='"auto" (bubblewrap, required unless AUTOGRADER_SANDBOX=off) or "off"').tag(config=True)
    scratch_root = Unicode("", help="Where submissions' scratch directories are made").tag(config=True)
    save_outputs = Unicode("", help="Keep each notebook's graded outputs in this folder (the class command's "
                           "workers; see autograder/graded_outputs.py)").tag(config=True)
    graded_outputs = Unicode("", help="Take outputs graded elsewhere from this folder when the notebook's "
                             "fingerprint matches (the class command's coordinator)").tag(config=True)

    def _cell_timeout(self) -> int:
        if self.timeout:
            return self.timeout
        configured = self.config.get("Execute", {}).get("timeout")
        return int(configured) if configured else 300

    def preprocess(self, nb, resources):
        context = {k: resources.get("nbgrader", {}).get(k) for k in ("student", "assignment", "notebook")}
        cwd = resources.get("metadata", {}).get("path") or os.getcwd()
        timeout = self._cell_timeout()
        key = graded_outputs.fingerprint(nb)
        result = graded_outputs.load(self.graded_outputs, context, key)
        if result is None:
            job = {"notebook": nbformat.from_dict(nb), "cwd": cwd, "timeout": timeout, "sandbox": self.sandbox,
                   "context": context, "scratch_root": self.scratch_root or None}
            code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
            result = grader.run_in_subprocess(job, timeout=timeout * (code_cells + 2))
            graded_outputs.save(self.save_outputs, context, key, result)
        else:
            self.log.info("%s: outputs graded by the class command", context.get("student"))
        for cell, entry in zip(nb.cells, result["cells"]):
            if entry is None or cell.cell_type != "code":
                continue
            cell.execution_count = entry[0]
            cell.outputs = [nbformat.from_dict(o) for o in entry[1]]
        if result.get("restarts"):
            self.log.warning("%s: the learner's process was restarted %d time(s)", context.get("student"),
                             result["restarts"])
        resources.setdefault("autograder", {}).update(seed=result["seed"], sandboxed=result["sandboxed"])
        return nb, resources


class RequireCheckRecords(NbGraderPreprocessor):
    """A test cell keeps its points only with a passing record for each check it calls.

    The trusted grader writes the records; this is a second look, in nbgrader's own
    process, that also holds for notebooks executed another way (a kernel): a cell
    with fewer records than check calls, or with a failing record but no failure
    shown (and no partial credit), gets an error output -- nbgrader then scores it 0.
    """

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
        partial = any(o.output_type == "execute_result" for o in outputs)
        failing = [o.data[MIME] for o in records if o.data[MIME].get("verdict") != "pass"]
        message = None
        if len(records) < expected:
            message = (f"the autograder's checks did not all run in this cell ({expected} written, {len(records)} ran): "
                       "its functions were replaced or its output hidden")
        elif failing and not partial:
            message = f"a check did not pass ({failing[0].get('exercise')}: {failing[0].get('check')}) but the cell shows no failure"
        if message:
            cell.outputs.append(new_output("error", ename="CheckFailed", evalue=message,
                                           traceback=[f"CheckFailed: {message}"]))
            self.log.warning("%s: %s", meta.get("grade_id"), message)
        return cell, resources


class RedactFeedback(NbGraderPreprocessor):
    """Keep hidden tests out of feedback: errors shrink to their message, hidden code lines are removed.

    Put it before nbgrader's ClearHiddenTests, which then removes the hidden regions
    from the cells' source: this preprocessor needs them to know what to redact. A hidden line the
    student's notebook shows anyway (their own code written the same way as a naive solution, a
    lesson's line) is no secret and stays: a wasteful solution's own line at the peak is what to fix.
    """

    def preprocess(self, nb, resources):
        self._shown = {line.strip() for cell in nb.cells if cell.cell_type == "code" and not _is_test(cell)
                       for line in cell.source.split("\n")}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        graded = bool(_grade_meta(cell).get("grade"))
        secrets = [line for line in hidden.hidden_lines(cell.source) if line not in getattr(self, "_shown", ())]
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
