"""Writing a file so that readers see the old one or the new one, never a mix.

Used for everything the engine writes: records, the report and its ledger, the hash memo,
and (through ``replacing``) the files that pandoc, typst and quarto write themselves. A
write that fails (a full disk, a read-only folder) raises ``OutputError`` naming the path
and leaves no temporary file; ``ensure_writable`` finds such problems before a build trains.
"""
from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from report.errors import OutputError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a mix."""
    with replacing(path) as tmp, writing(path):
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


@contextmanager
def replacing(path: Path):
    """A temporary path beside ``path`` for a writer (a tool writing its own output file) to fill;
    it replaces ``path`` in one rename when the block succeeds and is removed when it fails.

        >>> with replacing(Path("report.html")) as tmp:
        ...     subprocess.run(["pandoc", ..., "--output", str(tmp)], check=True)
    """
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")  # tools read the suffix
    try:
        yield tmp
        with writing(path):
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sweep_temporaries(folder: Path) -> None:
    """Remove the temporary files that ``replacing`` leaves when a build is killed outright."""
    for tmp in folder.glob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)


@contextmanager
def writing(path: Path):
    """Turn an ``OSError`` while writing ``path`` into an ``OutputError`` that names it and the fix."""
    try:
        yield
    except OSError as exc:
        raise write_error(path, exc) from None


def write_error(path: Path, exc: OSError) -> OutputError:
    """What the user is told when ``path`` cannot be written: where, why, and what to do."""
    if exc.errno in NO_SPACE:
        folder = path if path.is_dir() else path.parent
        return OutputError(f"no space left on {path}",
                           f"free some space on that disk (`df -h {folder}` shows how much is left) or build "
                           "in another folder with --out; no half-written file was kept")
    return OutputError(f"cannot write {path}: {exc.strerror or exc}",
                       "make it writable for you, or build in another folder with --out")


def raise_if_disk_full(path: Path, complaint: str) -> None:
    """The no-space ``OutputError`` for ``path`` when a tool (pandoc, quarto) failed writing it
    because the disk was full, which it says in the C library's words."""
    if os.strerror(errno.ENOSPC) in complaint:  # "No space left on device"
        raise write_error(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))


def ensure_writable(files: Iterable[Path], folders: Iterable[Path] = ()) -> None:
    """Refuse, before anything is computed, to build when one of ``files`` (each replaced by a
    rename) or a file in one of ``folders`` could not be written: a folder where a file
    belongs, a file where a folder belongs, or a folder this user may not write to."""
    files = list(files)
    for file in files:
        if file.is_dir():
            raise OutputError(f"{file} is a folder, where the build writes a file",
                              "move it out of the way, or build in another folder with --out")
    for folder in sorted({*folders, *(file.parent for file in files)}):
        _ensure_folder(folder)


def _ensure_folder(folder: Path) -> None:
    existing = folder
    while not (existing.exists() or existing.is_symlink()):  # the build creates the rest
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{existing} is not a folder, but the build keeps one there",
                          "move it out of the way, or build in another folder with --out")
    try:
        with tempfile.TemporaryFile(dir=existing):  # only a real file tells: os.access() misjudges root and ACLs
            pass
    except OSError as exc:
        raise write_error(existing, exc) from None
