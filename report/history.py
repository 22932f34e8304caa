"""The last builds of an output folder, kept for ``--diff``: one folder per rendered report.

    <out>/history/2025-06-01T120003Z-0ab152d/ledger.json        every number it printed
                                            /provenance.json    commit, date, machines, runs
                                            /report.qmd.gz      its text, for the sentence around a number

Folders are named by the time the report was written and its commit, so that sorting by
name puts them in the order they were built; beyond the last ``KEEP`` the oldest go.

    >>> keep(paths)                     # after a build wrote its report
    >>> builds(paths.history)[-1]       # that build, newest last
"""
from __future__ import annotations

import gzip
import json
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from report.paths import OutputPaths

KEEP = 50
STAGING_PREFIX = ".staging-"
LEDGER, PROVENANCE, DOCUMENT = "ledger.json", "provenance.json", "report.qmd"


class UnreadableBuild(Exception):
    """A build folder whose ledger or provenance is missing or not JSON; the message names the file."""


@dataclass(frozen=True)
class Build:
    """One build's ledger, provenance and text, in an output folder or a history entry."""

    name: str
    folder: Path

    def ledger(self) -> list[dict]:
        return self._json(LEDGER)

    def provenance(self) -> dict:
        return self._json(PROVENANCE)

    def document(self) -> str:
        """The rendered Markdown, or nothing when it was not kept."""
        plain, packed = self.folder / DOCUMENT, self.folder / f"{DOCUMENT}.gz"
        if plain.exists():
            return plain.read_text(encoding="utf-8")  # pragma: no mutate (codec name's case)
        return gzip.decompress(packed.read_bytes()).decode() if packed.exists() else ""

    def same_report_as(self, other: "Build") -> bool:
        return all((self.folder / name).read_bytes() == (other.folder / name).read_bytes()
                   for name in (LEDGER, PROVENANCE))

    def _json(self, name: str):
        path = self.folder / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))  # pragma: no mutate (codec name's case)
        except (OSError, ValueError) as exc:
            raise UnreadableBuild(f"{path} is missing or not valid JSON ({exc})") from None


def keep(paths: OutputPaths, now: datetime | None = None) -> Path:
    """Copy the report just written (or imported) into a new history entry: its ledger, its
    provenance and its compressed text."""
    paths.history.mkdir(parents=True, exist_ok=True)
    _sweep(paths.history)
    staging = paths.history / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"  # pragma: no mutate (name length: unread)
    staging.mkdir()  # as any folder is made, so the umask decides who else may read it
    shutil.copyfile(paths.ledger, staging / LEDGER)
    shutil.copyfile(paths.provenance, staging / PROVENANCE)
    if paths.document.exists():
        (staging / f"{DOCUMENT}.gz").write_bytes(gzip.compress(paths.document.read_bytes(), mtime=0))
    commit = Build("", staging).provenance().get("commit", "")
    entry = _free_name(paths.history, _entry_name(now or datetime.now(timezone.utc), commit))
    staging.rename(entry)  # a kill leaves a whole entry or a staging folder, never half an entry
    prune(paths.history)
    return entry


def builds(folder: Path) -> list[Build]:
    """The kept builds, oldest first."""
    if not folder.is_dir():
        return []
    return [Build(entry.name, entry) for entry in sorted(folder.iterdir())
            if entry.is_dir() and not entry.name.startswith(".")]


def prune(folder: Path, keep_last: int = KEEP) -> None:
    """Remove all but the newest ``keep_last`` entries."""
    for old in builds(folder)[:-keep_last]:
        shutil.rmtree(old.folder, ignore_errors=True)


def commit_of(build: Build) -> str:
    """The commit a build came from, or an empty string when its provenance cannot be read."""
    try:
        return str(build.provenance().get("commit", ""))
    except UnreadableBuild:
        return ""


def _entry_name(when: datetime, commit: str) -> str:
    short = commit[:7] if re.fullmatch(r"[0-9a-f]{7,40}", commit) else "nocommit"
    return f"{when.astimezone(timezone.utc):%Y-%m-%dT%H%M%SZ}-{short}"


def _free_name(folder: Path, name: str) -> Path:
    """``name``, or ``name-2``, ``name-3``, ... when builds came within the same second."""
    candidate, n = folder / name, 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{name}-{n}"
    return candidate


def _sweep(folder: Path) -> None:
    """Staging folders left by a build that was killed (a build holds the folder's lock)."""
    for leftover in folder.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
