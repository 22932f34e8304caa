"""Writing a file so that readers see the old one or the new one, never a mix.

Used for everything the engine writes: records, the report and its ledger, the hash memo,
and (through ``replacing``) the files that pandoc, typst and quarto write themselves.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a mix."""
    with replacing(path) as tmp:
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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")  # tools read the suffix
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
