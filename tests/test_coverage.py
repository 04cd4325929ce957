"""course/coverage.md maps every section of the seed documents to a real heading of a chapter notebook.

Fast: reads markdown and notebook JSON only, starts no kernel.
"""

import re
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = ROOT / "course" / "coverage.md"
SOURCE = ROOT / "source"
SEEDS_DIR = Path("/work/shared/seeds")

SEED_IDS = ("000", "001", "002", "003", "004")
ASSIGNMENTS = (
    "01-memory-model",
    "02-references-and-gc",
    "03-measuring-memory",
    "04-lazy-evaluation",
    "05-compact-data",
    "06-sharing",
    "07-pools-and-caches",
    "08-leak-hunting",
    "09-capstone-pipeline",
)

HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def normalise(text):
    """Compare headings without '#', markdown emphasis/code marks and whitespace differences."""
    text = text.strip().lstrip("#")
    text = re.sub(r"[*_`]", "", text)
    return " ".join(text.split())


def split_row(line):
    """Cells of a markdown table row (a `\\|` inside a cell is not a separator)."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)]


def read_tables(text):
    """Every markdown table in `text`, as (header cells, list of row cells)."""
    tables, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
                and re.fullmatch(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*", lines[i + 1])):
            header = split_row(lines[i])
            rows, i = [], i + 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            tables.append((header, rows))
        else:
            i += 1
    return tables


@lru_cache(maxsize=None)
def coverage_rows():
    tables = [t for t in read_tables(COVERAGE.read_text(encoding="utf-8"))
              if t[0] and t[0][0].lower() == "seed"]
    assert len(tables) == 1, f"expected one coverage table (first column 'Seed'), found {len(tables)}"
    header, rows = tables[0]
    assert [h.lower() for h in header[:4]] == ["seed", "seed section", "assignment", "notebook section"], header
    return tuple(tuple(r) for r in rows), len(header)


@lru_cache(maxsize=None)
def notebook_headings(assignment):
    notebooks = sorted((SOURCE / assignment).glob("*.ipynb"))
    assert notebooks, f"no notebook in source/{assignment}"
    headings = set()
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            fence = None
            for line in cell.source.splitlines():
                m = FENCE.match(line)
                if m:
                    mark = m.group(1)
                    if fence is None:
                        fence = mark[0] * len(mark)
                    elif mark.startswith(fence):
                        fence = None
                    continue
                if fence is None:
                    h = HEADING.match(line)
                    if h:
                        headings.add(normalise(h.group(2)))
    return frozenset(headings)


def test_table_is_well_formed():
    rows, width = coverage_rows()
    assert len(rows) >= 100, f"only {len(rows)} rows: every seed section needs at least one"
    for row in rows:
        assert len(row) == width, f"row has {len(row)} cells, header has {width}: {row}"
        seed, section, assignment, heading = row[:4]
        assert seed in SEED_IDS, f"unknown seed id {seed!r} in {row}"
        assert section, f"empty seed section: {row}"
        assert assignment, f"row leaves the chapter empty: {row}"
        assert heading and heading not in {"—", "-"}, f"row leaves the heading empty: {row}"


def test_every_seed_is_covered():
    rows, _ = coverage_rows()
    assert {r[0] for r in rows} == set(SEED_IDS)


@pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason="seed documents not available here")
def test_seed_ids_match_the_seed_files():
    ids = {p.name[:3] for p in SEEDS_DIR.glob("[0-9][0-9][0-9]_*.txt")}
    assert ids == set(SEED_IDS)


def test_rows_point_at_real_headings():
    rows, _ = coverage_rows()
    missing = []
    for seed, section, assignment, heading, *_ in rows:
        if not (SOURCE / assignment).is_dir():
            missing.append(f"{seed} {section!r}: no assignment source/{assignment}")
        elif normalise(heading) not in notebook_headings(assignment):
            missing.append(f"{seed} {section!r}: {assignment} has no heading {heading!r}")
    assert not missing, "\n".join(missing)


def test_every_assignment_is_referenced():
    rows, _ = coverage_rows()
    referenced = {r[2] for r in rows}
    on_disk = {p.name for p in SOURCE.iterdir() if p.is_dir() and re.match(r"\d\d-", p.name)}
    assert set(ASSIGNMENTS) <= on_disk, f"missing assignments: {set(ASSIGNMENTS) - on_disk}"
    assert not set(ASSIGNMENTS) - referenced, f"never referenced: {sorted(set(ASSIGNMENTS) - referenced)}"
    assert not on_disk - referenced, f"assignments with no coverage row: {sorted(on_disk - referenced)}"


def test_syllabus_lists_every_assignment():
    tables = [t for t in read_tables(COVERAGE.read_text(encoding="utf-8"))
              if t[0] and t[0][0].lower() == "assignment"]
    assert len(tables) == 1, "expected one syllabus table (first column 'Assignment')"
    syllabus = tables[0][1]
    assert [row[0].strip("`") for row in syllabus] == list(ASSIGNMENTS)
    rows, _ = coverage_rows()
    for row in syllabus:
        assignment = row[0].strip("`")
        listed = {s.strip() for s in row[-1].split(",")}
        used = {r[0] for r in rows if r[2] == assignment}
        assert listed == used, f"{assignment}: syllabus lists seeds {sorted(listed)}, table uses {sorted(used)}"
