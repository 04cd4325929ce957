"""Every memory target keeps clear margins on each CPython version (tools/crossversion.py)."""

import pytest

import crossversion
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))


def test_graded_script_keeps_hidden_tests_and_solutions():
    script = crossversion.graded_script(ROOT / "source" / "04-lazy-evaluation" / "lazy-evaluation.ipynb")
    assert "### BEGIN" not in script
    assert "_reference_sum_of_squares" in script  # hidden tests are in
    assert "return sum(x * x for x in range(n))" in script  # the solution is in
    assert "tank = [x * x for x in range(n)]" not in script  # lesson cells are not
    compile(script, "graded.py", "exec")


@pytest.mark.slow
@pytest.mark.parametrize("version", crossversion.VERSIONS)
def test_margins_hold(version):
    if crossversion.find_python(version) is None:
        pytest.skip(f"CPython {version} is not installed here")
    records, problems = crossversion.measure_all([version], NOTEBOOKS)
    assert not problems, "\n".join(problems)
    assert records, "no memory check ran"
    _, thin = crossversion.table(records)
    assert not thin, "\n".join(thin)
