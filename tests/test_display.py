"""What a learner sees when something fails outside the grader: in a Jupyter kernel and in IPython in a terminal.

One line first, what to do next, never the autograder's own frames or the same message twice; and Run All goes
on past the cells a learner has yet to answer.
"""

import os
import re
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WASTEFUL_CHECK = (
    "from autograder import check_memory\n"
    "def ref(n): return sum(x*x for x in range(n))\n"
    "def naive(n): return sum([x*x for x in range(n)])\n"
    'check_memory(naive, (200_000,), reference=ref, exercise="sum_of_squares")\n'
)
FIRST_LINE = "CheckFailed: sum_of_squares: peak"
UNSOLVED = "NotImplementedError: not done yet: replace `raise NotImplementedError()`"


def run_in_kernel(cells: list[str]) -> list:
    """Run code cells in a fresh python3 kernel (errors allowed); the executed cells."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return nb.cells


def error_text(cell) -> str:
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    return ANSI.sub("", "\n".join(error.traceback))


def test_kernel_errors_say_which_cell_to_run_or_write():
    cells = run_in_kernel([
        "import autograder\nfrom autograder import check_result, quiz",
        'q1 = None\n# YOUR CODE HERE\nraise NotImplementedError()',  # an unanswered quiz question
        'class Node:\n    """A tree node."""\n    # YOUR CODE HERE\n    raise NotImplementedError()',  # a class
        'check_result(lambda: Node("root").data, expected="root", exercise="Node")',  # its test: Node undefined
        'check_memory(handle_request, ("GET /",), exercise="handle_request")',  # a test whose exercise was never run
        "print(total_rows)",  # a lesson cell run before the cell that defines its name
        'def later():\n    raise NotImplementedError("from a helper")',
        "later()",  # raised elsewhere: the usual traceback
    ])
    quiz_cell, class_cell, check_cell, test_cell, lesson_cell, _, elsewhere = cells[1:]
    for stub in (quiz_cell, class_cell):
        text = error_text(stub)
        assert text.splitlines()[0].startswith(UNSOLVED)
        assert "Traceback" not in text and len(text.splitlines()) == 1, text
    text = error_text(check_cell)
    assert text.splitlines()[0].startswith("CheckFailed: Node:") and "NameError: name 'Node' is not defined" in text
    assert text.splitlines()[-1] == ("this test needs Node: write it in its exercise cell above and run that cell, "
                                     "then this one")
    text = error_text(test_cell)  # check_memory was never imported, and the setup cell provides it
    assert text.splitlines()[-1] == ("check_memory comes from the notebook's setup cell: run the setup cell at the "
                                     "top first")
    text = error_text(lesson_cell)
    assert "NameError" in text and text.splitlines()[-1].startswith("run the cell that defines total_rows first")
    text = error_text(elsewhere)
    assert "from a helper" in text and "not done yet" not in text and "Traceback" in text


def test_kernel_test_cell_hint_names_the_exercise():
    cells = run_in_kernel(["from autograder import check_memory",
                           'check_memory(handle_request, ("GET /",), exercise="handle_request")'])
    text = error_text(cells[1])
    assert "NameError" in text
    assert text.splitlines()[-1] == ("this test needs handle_request: write it in its exercise cell above and run "
                                     "that cell, then this one")


def test_run_all_goes_past_unanswered_cells_to_the_end_of_a_fresh_chapter():
    path = ROOT / "release" / "04-lazy-evaluation" / "lazy-evaluation.ipynb"
    nb = nbformat.read(path, as_version=4)
    graded = [c for c in nb.cells if c.cell_type == "code"
              and (c.metadata.get("nbgrader", {}).get("solution") or c.metadata.get("nbgrader", {}).get("grade"))]
    assert graded and all("raises-exception" in c.metadata.get("tags", []) for c in graded)
    # like JupyterLab's Run All, nbclient stops at an error unless the cell is tagged raises-exception
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)  # every cell ran, the last one included
    failed = {c.metadata["nbgrader"]["grade_id"] for c in code if any(o.output_type == "error" for o in c.outputs)}
    tests = {c.metadata["nbgrader"]["grade_id"] for c in graded if c.metadata["nbgrader"].get("grade")}
    questions = {c.metadata["nbgrader"]["grade_id"] for c in graded if c.source.startswith("q")}
    assert tests and questions and failed == tests | questions  # every test fails, and every unanswered question
    lessons = [c for c in code if not c.metadata.get("nbgrader")]
    assert not [o for c in lessons for o in c.outputs if o.output_type == "error" or o.get("name") == "stderr"]


@pytest.mark.parametrize("how", ["typed", "script"])
def test_a_failed_check_in_terminal_ipython_is_its_message_once(tmp_path, how):
    script = tmp_path / "wasteful.py"
    script.write_text(WASTEFUL_CHECK + 'print("after")\n')
    ipython = [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor", "--no-confirm-exit"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    if how == "typed":  # an interactive session: each line is a cell
        proc = subprocess.run(ipython, input=script.read_text(), capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
    else:  # `ipython wasteful.py`, the same as %run
        proc = subprocess.run([*ipython, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=120)
    out = ANSI.sub("", proc.stdout + proc.stderr)
    assert out.count("sum_of_squares: peak") == 1, out  # no "✗" line repeating the exception's first line
    assert FIRST_LINE in out and "where your code held memory at the peak" in out, out
    assert "autograder" not in out.replace("from autograder import", ""), out  # no frame of the autograder's code
    assert "Traceback" not in out and "<memory chart>" not in out, out
