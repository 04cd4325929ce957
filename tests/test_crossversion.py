"""Every memory target keeps clear margins on each CPython version (tools/crossversion.py)."""

import pytest

import crossversion
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))


def test_requirements_add_what_the_grader_needs_to_the_project_pins():
    wanted = crossversion.requirements()
    assert any(r.startswith("numpy") and "<" in r for r in wanted)  # pinned like pyproject.toml
    assert set(crossversion.GRADER_PACKAGES) <= set(wanted)


@pytest.mark.slow
@pytest.mark.parametrize("version", crossversion.VERSIONS)
def test_margins_hold(version):
    if crossversion.find_python(version) is None:
        pytest.skip(f"CPython {version} is not installed here")
    records, problems = crossversion.measure_all([version], NOTEBOOKS)
    assert not problems, "\n".join(problems)
    assert records, "no memory check ran"
    _, thin = crossversion.table(records)
    thin += crossversion.leak_rows(records)[1]
    assert not thin, "\n".join(thin)
