"""Bring new release files into the learner's workspace, never in place of the learner's work.

``workspace/.course-manifest.json`` records, for every file copied from ``release/``, the hash of the
release file it was copied from. On each update (``make lab``, ``make update``):

* a file the workspace lacks is copied;
* a file whose release is unchanged is left alone;
* a file whose release changed, and which the learner never changed, is replaced by the new release;
* a file whose release changed, and which the learner did change, is kept as it is: the new release goes
  beside it under a dated name (``memory-model-updated-2030-01-31.ipynb``), and the learner is told.

A workspace from before the manifest existed is adopted: a notebook whose markdown and locked cells match
the current release is taken to be a copy of it; any other differing file gets the new release beside it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".course-manifest.json"
NEW, UPDATED, BESIDE = "new", "updated", "beside"
SKIPPED = (".ipynb_checkpoints", "__pycache__")


@dataclass
class Change:
    """What one update did to one workspace file."""

    kind: str  # NEW, UPDATED or BESIDE
    path: Path  # the learner's file
    beside: Path | None = None  # the new release, for BESIDE

    def message(self, root: Path) -> str:
        where = self.path.relative_to(root).as_posix()
        if self.kind == NEW:
            return f"{where}: new, copied in"
        if self.kind == UPDATED:
            return f"{where}: replaced by the course's new version (you had not changed it)"
        return (f"{where}: the course's version changed after your copy was made; yours is kept as it is, and the "
                f"new version is beside it: {self.beside.relative_to(root).as_posix()}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def release_files(release: Path) -> list[Path]:
    """The files a learner gets: not checkpoints, caches or an editor's lock files (tools/nbedit.py)."""
    return sorted(p for p in release.rglob("*")
                  if p.is_file() and not set(SKIPPED) & set(p.parts) and p.suffix != ".lock")


def dated_name(path: Path, day: datetime.date) -> Path:
    """``path`` with ``-updated-<day>`` before its suffix (and ``-2``, ``-3`` ... if that name is taken)."""
    base = path.with_name(f"{path.stem}-updated-{day.isoformat()}{path.suffix}")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.stem}-{n}{base.suffix}")
    return candidate


def fixed_cells(path: Path) -> list | None:
    """A notebook's markdown and locked cells (what a learner does not edit), or None for other files."""
    if path.suffix != ".ipynb":
        return None
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None

    def text(cell):
        src = cell.get("source", "")
        return "".join(src) if isinstance(src, list) else src

    return [text(c) for c in cells
            if c.get("cell_type") == "markdown" or c.get("metadata", {}).get("nbgrader", {}).get("locked")]


def load_manifest(workspace: Path) -> dict:
    try:
        return json.loads((workspace / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def update(release: Path, workspace: Path, today: datetime.date | None = None) -> list[Change]:
    """Bring ``release`` into ``workspace`` as the module docstring says; what was done, file by file."""
    today = today or datetime.date.today()
    manifest = load_manifest(workspace)
    changes: list[Change] = []
    for src in release_files(release):
        rel = src.relative_to(release).as_posix()
        dest = workspace / rel
        new = digest(src)
        entry = manifest.get(rel)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            manifest[rel] = {"sha256": new, "copied": today.isoformat()}
            changes.append(Change(NEW, dest))
            continue
        if entry is None:  # copied before the manifest existed
            mine = fixed_cells(dest)
            same = digest(dest) == new or (mine is not None and mine == fixed_cells(src))
            entry = manifest[rel] = {"sha256": new if same else None, "copied": None}
        if new in (entry["sha256"], entry.get("offered")):
            continue  # nothing new since the copy, or the new version is already beside it
        if entry["sha256"] is not None and digest(dest) == entry["sha256"]:
            shutil.copy2(src, dest)  # the learner never changed it: nothing of theirs to lose
            manifest[rel] = {"sha256": new, "copied": today.isoformat()}
            changes.append(Change(UPDATED, dest))
            continue
        beside = dated_name(dest, today)
        shutil.copy2(src, beside)
        entry.update(offered=new, beside=beside.relative_to(workspace).as_posix())
        changes.append(Change(BESIDE, dest, beside))
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return changes
