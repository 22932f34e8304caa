"""The report as one unit: its formats, document, ledger and provenance are written under
temporary names and then replace the last ones together, so a build leaves the last report
or the new one, never a new HTML beside an old ledger.

    >>> with staging(paths) as stage:
    ...     write_atomic(stage.name(paths.document), text)
    ...     written = backend.render(stage.name(paths.document), ["html", "pdf"])  # staged names
    ...     publish(stage, [paths.document, paths.report("html"), paths.report("pdf")], paths.render_key, key)

Provenance lists each format it was published with and its checksum (``outputs``), so
``--check`` can tell a format left from an earlier build (``--to html`` after html and pdf)
from the ones that belong to the ledger beside them.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from report.atomic import write_atomic
from report.errors import RendererError
from report.fingerprint import sha256_file
from report.paths import OutputPaths

STAGED = "staged"


@dataclass(frozen=True)
class Stage:
    root: Path
    token: str

    def name(self, final: Path) -> Path:
        """The temporary name of ``final``; a backend writing beside the staged document names its
        outputs the same way (``.report.staged-T.qmd`` -> ``.report.staged-T.html``)."""
        return final.with_name(f".{final.stem}.{STAGED}-{self.token}{final.suffix}")

    def files(self) -> list[Path]:
        """Everything written under this stage's names, a renderer's own temporary files included."""
        return sorted(self.root.glob(f".*.{STAGED}-{self.token}*"))


@contextlib.contextmanager
def staging(paths: OutputPaths):
    """A stage for one render. Whatever of it is not published is removed afterwards, and so is
    what a killed build left; the document and Typst source a renderer failed on stay for the
    user to inspect (the error names them) until the next render."""
    for leftover in paths.root.glob(f".*.{STAGED}-*"):
        _remove(leftover)
    stage = Stage(paths.root, uuid.uuid4().hex[:12])
    keep: tuple[Path, ...] = ()
    try:
        yield stage
    except RendererError:
        document = stage.name(paths.document)
        keep = (document, document.with_suffix(".typ"))
        raise
    finally:
        for file in stage.files():
            if file not in keep:
                _remove(file)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():  # quarto's <name>_files folder
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def manifest(written: dict[str, Path]) -> dict[str, str]:
    """``{format: sha256}`` of the files a render wrote, for provenance's ``outputs``."""
    return {fmt: sha256_file(path) for fmt, path in sorted(written.items())}


def publish(stage: Stage, finals: list[Path], key_file: Path, key: str) -> None:
    """Replace each final file by its staged version, in one step that Ctrl-C and SIGTERM wait
    for. The render key goes first and comes back last, so a kill between two renames makes
    the next build render again."""
    with signals_deferred():
        key_file.unlink(missing_ok=True)
        for final in finals:
            os.replace(stage.name(final), final)
        write_atomic(key_file, key.encode())


@contextlib.contextmanager
def signals_deferred(signums=(signal.SIGINT, signal.SIGTERM)):
    """Hold Ctrl-C and SIGTERM until the block is done, then act on them as usual: the block is
    never cut short halfway. Only the main thread may set handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
        if received:
            signal.raise_signal(received[0])  # as it would have arrived: the handler now in place decides


def stale_outputs(paths: OutputPaths, outputs: dict[str, str] | None, formats) -> dict[str, str]:
    """``{format: problem}`` for report files that do not belong with the ledger and provenance
    beside them: left from an earlier build, changed since, or missing. ``outputs`` is
    provenance's manifest (absent from a report built before there was one: nothing to compare)."""
    return {fmt: problem for fmt in formats if outputs is not None
            and (problem := _stale_output(paths.report(fmt), fmt, outputs))}


def _stale_output(path: Path, fmt: str, outputs: dict[str, str]) -> str:
    if fmt not in outputs:
        return (f"{path.name} is left from an earlier build: the last build wrote {', '.join(outputs)} only; "
                f"rebuild with `--to {','.join([*outputs, fmt])}`, or delete it") if path.exists() else ""
    if not path.exists():
        return f"{path.name} is missing; the next `python build.py` writes it again"
    if sha256_file(path) != outputs[fmt]:
        return (f"{path.name} is not the file the last build wrote with this ledger (changed since, or a build "
                "was killed while replacing the report); rebuild with `python build.py`")
    return ""
