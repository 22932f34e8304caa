"""The results store: one JSON record and one artifact folder per section result and seed.

    <root>/<profile>/<section>/seed-<seed>.json        the record (data, fingerprint, checksum)
    <root>/<profile>/<section>/seed-<seed>.<id>/       its figures, named in the record

A new result is staged in a temporary folder, renamed to a fresh ``seed-<seed>.<id>`` folder,
and only then made current by atomically replacing the record, so an interruption at any
moment leaves either the old result or the new one. The record carries a schema version
and a checksum of its own content and of each artifact: a truncated, hand-edited or old
record is reported as corrupt and never used. Records are JSON; nothing is unpickled.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from report.atomic import sweep_temporaries, write_atomic, writing
from report.errors import OutputError
from report.fingerprint import sha256_file

SCHEMA_VERSION = 1
STAGING_PREFIX = ".staging-"


@dataclass(frozen=True)
class Record:
    """A stored result as the renderer and the checks see it."""

    section: str
    seed: int
    fingerprint: str
    parts: dict
    data: dict
    meta: dict
    artifact_dir: Path
    damaged: tuple[str, ...] = ()  # artifact files that are missing or changed (DamagedArtifacts)


class CorruptRecord(Exception):
    """A record that exists but cannot be trusted; the message says why."""


class DamagedArtifacts(CorruptRecord):
    """A sound record some of whose artifact files are missing or changed: its numbers can still
    be shown (``record``, with ``record.damaged`` naming the files), its figures cannot."""

    def __init__(self, message: str, record: Record):
        super().__init__(message)
        self.record = record


class Store:
    def __init__(self, root: Path, profile: str):
        self.root = Path(root) / profile

    def section_dir(self, section: str) -> Path:
        return self.root / section

    def record_path(self, section: str, seed: int) -> Path:
        return self.section_dir(section) / f"seed-{seed}.json"

    def failure_path(self, section: str, seed: int) -> Path:
        return self.section_dir(section) / f"seed-{seed}.failed"

    def mark_failed(self, section: str, seed: int, message: str) -> None:
        """Remember that the last run failed, so the next build reruns it despite the old result."""
        write_atomic(self.failure_path(section, seed), message.encode())

    def last_failure(self, section: str, seed: int) -> str | None:
        path = self.failure_path(section, seed)
        return path.read_bytes().decode(errors="replace") if path.exists() else None  # UTF-8, whatever the locale

    def load(self, section: str, seed: int) -> Record | None:
        """The stored record, ``None`` when there is none; raises ``CorruptRecord``."""
        path = self.record_path(section, seed)
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_bytes())  # JSON is UTF-8, whatever the locale
        except (OSError, ValueError) as exc:
            raise CorruptRecord(f"{path} is not valid JSON ({exc})") from None
        _verify(raw, path)
        if (raw["section"], raw["seed"]) != (section, seed):
            raise CorruptRecord(f"{path} holds the result of {raw['section']} seed {raw['seed']} "
                                "(a record copied or moved by hand)")
        artifact_dir = path.parent / raw["artifact_dir"]
        record = Record(section, seed, raw["fingerprint"], raw["parts"], raw["data"], raw["meta"], artifact_dir)
        damaged = _damaged_artifacts(raw["artifacts"], artifact_dir)
        if damaged:
            more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
            raise DamagedArtifacts(f"artifact {artifact_dir / damaged[0]} is missing or changed{more}",
                                   dataclasses.replace(record, damaged=damaged))
        return record

    def read_unverified(self, section: str, seed: int) -> dict | None:
        """The record's JSON without its checksums, for ``--check`` to name what was edited;
        ``None`` when there is none, or it is another unit's record (copied in by hand)."""
        try:
            raw = json.loads(self.record_path(section, seed).read_bytes())
        except (OSError, ValueError):
            return None
        mine = isinstance(raw, dict) and (raw.get("section"), raw.get("seed")) == (section, seed)
        return raw if mine and isinstance(raw.get("data"), dict) and isinstance(raw.get("meta"), dict) else None

    def files(self, section: str, seed: int) -> list[Path]:
        """The files a run of this unit writes (its artifact folders go beside them)."""
        return [self.record_path(section, seed), self.failure_path(section, seed)]

    def save(self, section: str, seed: int, files: dict[str, bytes], *, fingerprint: str, parts: dict,
             data: dict, meta: dict) -> Record:
        """Store a new result with its artifacts (``{file name: bytes}``) and make it current.

        A write that fails (a full disk) raises ``OutputError``, leaves nothing of the new
        result behind, and keeps the previous result current.
        """
        with writing(self.record_path(section, seed)):
            staged = self.stage(section)
            try:
                for name, content in files.items():
                    (staged / name).write_bytes(content)
                return self.commit(section, seed, staged, fingerprint=fingerprint, parts=parts, data=data,
                                   meta=meta)
            finally:
                shutil.rmtree(staged, ignore_errors=True)  # gone already when committed

    def stage(self, section: str) -> Path:
        """A fresh temporary folder for a result's artifacts, inside the store (same filesystem);
        made as any folder is, so the umask decides who else may read the results."""
        staged = self.section_dir(section) / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"  # pragma: no mutate (any unique name will do)
        staged.mkdir(parents=True)
        return staged

    def commit(self, section: str, seed: int, staged: Path, *, fingerprint: str, parts: dict,
               data: dict, meta: dict) -> Record:
        """Make a staged result current, atomically; the previous one is removed afterwards."""
        path = self.record_path(section, seed)
        final_dir = path.parent / f"seed-{seed}.{uuid.uuid4().hex[:12]}"  # pragma: no mutate (any unique name will do: the record names it)
        artifacts = {f.name: sha256_file(f) for f in sorted(staged.iterdir()) if f.is_file()}
        staged.rename(final_dir)
        raw = {"schema": SCHEMA_VERSION, "section": section, "seed": seed,
               "fingerprint": fingerprint, "parts": parts, "data": data, "meta": meta,
               "artifact_dir": final_dir.name, "artifacts": artifacts}
        raw["checksum"] = _checksum(raw)
        try:
            write_atomic(path, json.dumps(raw, indent=1, sort_keys=True).encode())  # pragma: no mutate (layout only: readers parse it, the checksum is over the parsed content)
        except OutputError:  # the record was not replaced: its new figures belong to nothing
            shutil.rmtree(final_dir, ignore_errors=True)
            raise
        self.failure_path(section, seed).unlink(missing_ok=True)
        self.sweep(section)
        return Record(section, seed, fingerprint, parts, data, meta, final_dir)

    def sweep(self, section: str) -> None:
        """Remove staging folders and artifact folders that no record names (left by a kill)."""
        folder = self.section_dir(section)
        if not folder.exists():
            return
        referenced = set()
        for record in folder.glob("seed-*.json"):
            try:
                referenced.add(json.loads(record.read_bytes()).get("artifact_dir"))
            except (OSError, ValueError, AttributeError):
                continue
        for entry in folder.iterdir():
            if entry.is_dir() and entry.name not in referenced:
                shutil.rmtree(entry, ignore_errors=True)
        sweep_temporaries(folder)


def _checksum(raw: dict) -> str:
    body = {key: value for key, value in raw.items() if key != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _verify(raw, path: Path) -> None:
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA_VERSION:
        found = raw.get("schema") if isinstance(raw, dict) else None
        raise CorruptRecord(f"{path} has schema {found!r}, this build reads schema {SCHEMA_VERSION}")
    if raw.get("checksum") != _checksum(raw):
        raise CorruptRecord(f"{path} was changed after it was written (checksum mismatch)")


def _damaged_artifacts(artifacts: dict, folder: Path) -> tuple[str, ...]:
    return tuple(name for name, expected in artifacts.items()
                 if not (folder / name).is_file() or sha256_file(folder / name) != expected)
