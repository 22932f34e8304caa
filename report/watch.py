"""``python build.py --watch``: build once, serve the report on loopback, and show every edit.

    >>> watch(project, options, port=8765, retrain=False, announce=print_summary)  # until Ctrl-C

What a change is decides what happens; the fingerprints say which files a result depends on:

    a template              the Markdown is rendered again and every open page reloads (well
                            under a second after a small edit); report.html, self-contained as
                            a build writes it, and the other ``--to`` formats (the PDF) follow
                            in the background
    a section's code or     the sections are planned again with the code as it now is: the page
    config, an input file   shows the stale banner with the ``--list`` reasons; with ``--run``, a
                            fresh ``python build.py`` retrains them, so no stale import survives
    a result in the store   (the ``--run`` build, or one in another terminal) the page shows it

A template error, an undefined value or a typed number shows an error page naming the
template and line; the watcher goes on, and the save that fixes it brings the report back.
Planning reads the store without the build lock (records are replaced atomically), so the
preview follows edits while a build trains; writing the report files takes the lock. File
events come from ``watchfiles`` (inotify and its kin, not a polling loop of ours).
"""
from __future__ import annotations

import codecs
import dataclasses
import fcntl
import importlib.util
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import watchfiles

from report.backends.pandoc import PandocBackend
from report.errors import BuildError, UsageError
from report.paths import OutputPaths
from report.pipeline import (Options, Summary, build, build_lock, check_out_dir, enforce_invariants, plan_all,
                             render, render_text, settle, validate)
from report.preview import STYLE, PreviewHtml
from report.project import Project
from report.serve import ASSET_PREFIX, Excerpt, PreviewServer, error_page
from report.status import Freshness
from report.units import Result

log = logging.getLogger("report")

WRITER_NICENESS = 10  # the report files yield the processor to the page being rendered
WRITER_PAUSE_S = 1.0  # ... and wait for this long without a new change before they start
QUIET_MS = 20  # a save is taken once its files have been still this long (an editor writes in one go)
TICK_MS = 250  # how often the loop looks at a running --run build when no file changes
PLACE = re.compile(r"(?P<file>[\w./-]+\.(?:j2|py))(?::|, line )(?P<line>\d+)")  # "x.qmd.j2:12", "x.py, line 3"
CONTEXT_LINES = 3
READ_BYTES = 4096  # what the --run build's output is relayed in, at most, as it comes
CSS_URL = f"{ASSET_PREFIX}report.css"  # the page links the style sheet that report.html embeds


class Change(Enum):
    """What a changed file is to the report."""

    TEMPLATE = "template"
    SOURCE = "source"    # a file a section's fingerprint reads: its code and config
    INPUT = "input"      # a data file a section's fingerprint checksums
    RESULTS = "results"  # a record in the store


REPLANS = {Change.SOURCE, Change.INPUT, Change.RESULTS}
RETRAINS = {Change.SOURCE, Change.INPUT}


@dataclass(frozen=True)
class WatchedFiles:
    """The files whose changes the report shows: its templates and what the fingerprints cover."""

    templates: Path
    results: Path
    sources: frozenset[Path] = frozenset()
    inputs: frozenset[Path] = frozenset()

    @classmethod
    def of(cls, project: Project, units, results: Path) -> "WatchedFiles":
        sources = {project.root / name for unit in units for name in unit.parts["sources"]}
        inputs = {Path(path).resolve() for unit in units
                  for path in project.section(unit.section).input_files(unit.config).values()}
        return cls(project.templates, results.resolve(), frozenset(sources), frozenset(inputs))

    def folders(self) -> frozenset[Path]:
        """The folders to watch: those of every watched file that exist."""
        named = {self.templates, self.results, *(file.parent for file in self.sources | self.inputs)}
        return frozenset(folder for folder in named if folder.is_dir())

    def kind(self, path: Path) -> Change | None:
        if path in self.sources:
            return Change.SOURCE
        if path in self.inputs:
            return Change.INPUT
        if path.is_relative_to(self.templates) and path.name.endswith(".j2"):  # the engine renders *.j2 only
            return Change.TEMPLATE
        if path.is_relative_to(self.results) and path.suffix in (".json", ".failed") and not any(
                part.startswith(".") for part in path.relative_to(self.results).parts):  # not a staging folder
            return Change.RESULTS
        return None


def watch(project: Project, options: Options, port: int, retrain: bool,
          announce: Callable[[Summary], None]) -> int:
    """Build, then serve and re-render on every change until Ctrl-C; return the exit code."""
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # its "1 change detected" says less than ours
    sets = validate(project, options)
    paths = check_out_dir(project, options.out)
    command = run_command(build_script(), dataclasses.replace(options, out=paths.root)) if retrain else None
    with claim(paths) as record_address:
        _first_build(project, options, announce)
        preview = PreviewHtml(PandocBackend.find().pandoc, CSS_URL)
        with PreviewServer.start(paths.root, port, {CSS_URL: STYLE}) as server:
            record_address(server.url)
            watcher = Watcher(project, options, paths, sets, server, preview, command)
            try:
                watcher.refresh({Change.RESULTS}, write=False)  # the first build wrote the files
                log.info("serving the report on %s; watching %s and the sections' sources%s (Ctrl-C stops)",
                         server.url, _shown(project, project.templates), "; retraining on change" if retrain else "")
                watcher.follow()
            except KeyboardInterrupt:
                log.info("stopping")
            finally:
                watcher.close()
    log.info("stopped; the files in %s are whole%s", paths.root, "; `python build.py` brings them up to date "
             "with the last edit" if watcher.writer.behind else " and show the last edit")
    return 0


def _first_build(project: Project, options: Options, announce: Callable[[Summary], None]) -> None:
    """The build any ``python build.py`` would do; an error in it goes to the page, not out of the watcher."""
    try:
        announce(build(project, options))
    except BuildError as exc:
        log.error("error: %s", exc)


@contextmanager
def claim(paths: OutputPaths):
    """One ``--watch`` per output folder; a second one is told where the first one serves.

    Yields ``record(url)``, which writes this watcher's address into the folder's ``.watch`` file.
    """
    handle = open(paths.watch, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        address = handle.read().strip() or "the address it printed"
        handle.close()
        raise UsageError(f"another `--watch` already serves {paths.root} at {address}",
                         "open that address, stop it (Ctrl-C in its terminal), or preview another folder "
                         "with --out") from None

    def record(url: str) -> None:
        handle.seek(0)
        handle.truncate()
        handle.write(url)
        handle.flush()

    with handle:
        yield record


def build_script() -> Path:
    """The script this process runs (``build.py``); ``--run`` starts it afresh for each retraining."""
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if script is None or script.suffix != ".py" or not script.is_file():
        raise UsageError("--run starts the build script again, but this process was not started as "
                         "`python SCRIPT.py`", "run `python build.py --watch --run`")
    return script


def run_command(script: Path, options: Options) -> list[str]:
    """``python build.py`` with this watcher's options: it reruns what is stale among its sections."""
    command = [sys.executable, str(script), *options.sections, "--profile", options.profile,
               "--out", str(options.out), "--to", ",".join(options.to), "--engine", options.engine,
               "--device", options.device, *(f"--set={assignment}" for assignment in options.sets)]
    if options.jobs:
        command += ["--jobs", str(options.jobs)]
    if options.scheduler:
        command += ["--executor", "dask", "--scheduler", options.scheduler,
                    "--worker-timeout", str(options.worker_timeout)]
    if options.draft:
        command.append("--draft")
    if not options.show_progress:
        command.append("--quiet")
    return command  # not --force: a change reruns what it made stale, not every section named


class Watcher:
    """Turns file changes into what the open pages show, and into report files on disk."""

    def __init__(self, project: Project, options: Options, paths: OutputPaths, sets, server: PreviewServer,
                 preview: PreviewHtml, command: list[str] | None):
        self.project, self.options, self.paths, self.sets, self.server = project, options, paths, sets, server
        self.files = WatchedFiles(project.templates, paths.results / options.profile)
        self.results: list[Result] | None = None
        self.shown_text: str | None = None  # the Markdown of the report the pages show; None: an error
        self.preview = preview
        self.writer = ReportWriter(project, options, sets, server.show_status)
        self.retraining = Retraining(command, server.show_status) if command else None

    def follow(self) -> None:
        """Handle changes until Ctrl-C, watching anew when a plan adds or drops a folder."""
        while True:
            folders = self.files.folders()
            for batch in watchfiles.watch(*folders, watch_filter=self._relevant, step=QUIET_MS, rust_timeout=TICK_MS,
                                          yield_on_timeout=True):
                self.handle(batch)
                if self.files.folders() != folders:
                    break

    def _relevant(self, change, path: str) -> bool:
        return self.files.kind(Path(path).resolve()) is not None

    def handle(self, batch) -> None:
        """One batch of file events: show the report as it now is; start or finish a retraining."""
        changed = {Path(path).resolve() for _, path in batch}
        kinds = {kind for kind in map(self.files.kind, changed) if kind}
        if kinds:
            log.info("%s changed", ", ".join(sorted(_shown(self.project, path) for path in changed)))
            self.refresh(kinds)
        if self.retraining:
            if kinds & RETRAINS:
                self.retraining.want()
            if self.retraining.tick() is not None:
                self.refresh({Change.RESULTS})

    def refresh(self, kinds: set[Change], write: bool = True) -> None:
        """Show the report as the templates, code and store now say, or the error that stops it;
        then have the report files written (unless a build has just written them)."""
        start = time.perf_counter()
        try:
            if self.results is None or kinds & REPLANS:
                self._plan(kinds)
            text = render_text(self.project, self.results, self.options, self.paths)
            if text == self.shown_text:
                return  # a save that changed nothing the report says
            page = self.preview.html(text)
        except Exception as exc:  # a broken template or section must not end the watcher
            self._show_error(exc)
            return
        self.server.show(page)
        self.shown_text = text
        if write:
            self.writer.request()
        log.info("page updated in %.2f s", time.perf_counter() - start)

    def _plan(self, kinds: set[Change]) -> None:
        self.results = None  # until a plan succeeds: a failed one is tried again on the next change
        if Change.SOURCE in kinds:
            forget_modules(self.files.sources)
        units, store = plan_all(self.project, self.options, self.paths, self.sets, remember=False)
        self.files = WatchedFiles.of(self.project, units, store.root)
        self.results = enforce_invariants(self.project, settle(units, []))
        for unit in units if kinds & RETRAINS else ():
            if unit.freshness is Freshness.STALE:
                log.info("%s is stale: %s%s", unit.label, "; ".join(unit.reasons),
                         "" if self.retraining else " (the page says so; `--watch --run` retrains on change)")

    def _show_error(self, exc: Exception) -> None:
        message, hint = describe(exc, self.project.root)
        log.error("error: %s%s", message, f"\n  hint: {hint}" if hint else "")
        kept = f"The files in {self.paths.root} are left as the last good build wrote them."
        self.server.show(error_page(message, hint, excerpts(message, self.project), kept))
        self.shown_text = None

    def close(self) -> None:
        """Stop a retraining (it unwinds as on Ctrl-C), then finish writing the report files."""
        if self.retraining:
            self.retraining.stop()
        self.writer.close()


def forget_modules(files: frozenset[Path]) -> None:
    """Drop the modules read from ``files``, so that the next plan imports each section's code
    and Config as they now are. Their cached bytecode goes too: Python checks it by modification
    time in seconds and size, so an edit within the second that keeps the size would be missed."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve() in files:
            del sys.modules[name]
            with suppress(OSError, ValueError):
                Path(importlib.util.cache_from_source(file)).unlink(missing_ok=True)
    importlib.invalidate_caches()


def describe(exc: Exception, root: Path) -> tuple[str, str]:
    """What the page and the terminal say about an error: the message, naming the file and line, and a hint."""
    if isinstance(exc, BuildError):
        return exc.message, exc.hint
    if isinstance(exc, SyntaxError):
        return (f"{_shown_name(exc.filename, root)}, line {exc.lineno}: {exc.msg}",
                "fix the code at that line; the page comes back when it imports")
    frames = traceback.extract_tb(exc.__traceback__)
    in_templates = [frame for frame in frames if frame.filename.endswith(".j2")]
    frame = (in_templates or frames)[-1]
    return (f"{_shown_name(frame.filename, root)}:{frame.lineno}: {type(exc).__name__}: {exc}",
            "fix the template or code at that line")


def excerpts(message: str, project: Project) -> list[Excerpt]:
    """The lines around each template or source line that ``message`` names."""
    found = []
    for name, line in dict.fromkeys((m.group("file"), int(m.group("line"))) for m in PLACE.finditer(message)):
        path = project.templates / name if name.endswith(".j2") else project.root / name
        with suppress(OSError, UnicodeDecodeError):
            text = path.read_text(encoding="utf-8").splitlines()
            first = max(1, line - CONTEXT_LINES)
            found.append(Excerpt(_shown(project, path), line,
                                 [(n, text[n - 1]) for n in range(first, min(len(text), line + CONTEXT_LINES) + 1)]))
    return found


def _shown(project: Project, path: Path) -> str:
    """A path as the user knows it: relative to the project where it lies there."""
    return str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path)


def _shown_name(file: str | None, root: Path) -> str:
    if not file:
        return "a file"
    path = Path(file)
    return Path(path.name).as_posix() if file.endswith(".j2") else (
        str(path.relative_to(root)) if path.is_absolute() and path.is_relative_to(root) else file)


class ReportWriter:
    """Writes the report files as a build that runs nothing does (report.html self-contained, the
    PDF, the ledger), under the build lock, in a fresh process at low priority, so the page never
    waits for them nor shares this process's interpreter with them. Requests that arrive while
    it writes are folded into one."""

    def __init__(self, project: Project, options: Options, sets, show_status: Callable[[str], None]):
        self.project, self.options, self.sets, self.show_status = project, options, sets, show_status
        self.behind = False  # a change shown on the page is not yet in the files on disk
        self._asked = 0.0  # when the last change was shown
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="report-writer", daemon=True)
        self._thread.start()

    def request(self) -> None:
        with self._changed:
            self.behind, self._asked = True, time.monotonic()
            self._changed.notify()

    def close(self) -> None:
        """Stop once the write under way (if any) ends; ``behind`` then says whether one was left."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join()

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closing or self.behind)
                while not self._closing and time.monotonic() - self._asked < WRITER_PAUSE_S:
                    self._changed.wait(WRITER_PAUSE_S)  # saves come in bursts: write after the last one
                if self._closing:
                    return
                self.behind = False
            self._write()

    def _write(self) -> None:
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: the sections' code as it now is
        try:
            with ProcessPoolExecutor(1, mp_context=spawn, initializer=os.nice, initargs=(WRITER_NICENESS,)) as pool:
                written, problem = pool.submit(write_report, self.project, self.options, self.sets).result()
        except BrokenProcessPool:  # Ctrl-C reached it too; its files are replaced whole or not at all
            with self._changed:
                self.behind = True
            return
        if problem:
            log.warning("the report files were not written: %s", problem)
        else:
            log.info("wrote %s", ", ".join(written))
        self.show_status(f"The report files were not written: {problem}" if problem else "")


def write_report(project: Project, options: Options, sets) -> tuple[list[str], str]:
    """Plan and write the report files as a build that runs nothing would: the names of the
    files written, or what stopped it (an exception would lose its hint on its way back)."""
    try:
        paths = check_out_dir(project, options.out)
        with build_lock(paths):
            units, _ = plan_all(project, options, paths, sets)
            written = render(project, enforce_invariants(project, settle(units, [])), options, paths)
    except BuildError as exc:
        return [], str(exc)
    return [path.name for path in written.values()], ""


class Retraining:
    """``--run``: ``python build.py`` in a fresh process when a change makes sections stale, one
    at a time; its output goes to this terminal and its last line to the open pages."""

    def __init__(self, command: list[str], show_status: Callable[[str], None]):
        self.command, self.show_status = command, show_status
        self.process: subprocess.Popen | None = None
        self._wanted = False
        self._started = 0.0  # pragma: no mutate (set again by _start before anything reads it)

    def want(self) -> None:
        self._wanted = True

    def tick(self) -> int | None:
        """Start a wanted run once none is running; return the exit code of a run that has just ended."""
        ended = None
        if self.process is not None and self.process.poll() is not None:
            ended = self._finish()
        if self._wanted and self.process is None:
            self._wanted = False  # pragma: no mutate (None is as false as False)
            self._start()
        return ended

    def stop(self) -> None:
        """End a running build as Ctrl-C would (it keeps the last good results), and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()

    def _start(self) -> None:
        log.info("retraining: %s", " ".join(self.command[1:]))
        self._started = time.perf_counter()
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._relay, args=(self.process,), name="retraining-output", daemon=True).start()
        self.show_status("Retraining…")

    def _relay(self, process: subprocess.Popen) -> None:
        """Copy the build's output to this terminal as it comes (progress bars too); its last line to the pages."""
        utf8 = codecs.getincrementaldecoder("utf-8")  # pragma: no mutate (codec names ignore case)
        decoder = utf8("replace")  # a character may span two reads
        for chunk in iter(lambda: os.read(process.stdout.fileno(), READ_BYTES), b""):
            text = decoder.decode(chunk)
            sys.stderr.write(text)
            sys.stderr.flush()
            lines = [line.strip() for line in re.split(r"[\r\n]", text) if line.strip()]
            if lines:
                self.show_status(f"Retraining ({time.perf_counter() - self._started:.0f} s): {lines[-1]}")

    def _finish(self) -> int:
        code = self.process.wait()
        self.process = None
        seconds = time.perf_counter() - self._started
        if code == 0:
            log.info("retraining finished in %.1f s", seconds)
            self.show_status("")
        else:
            log.warning("retraining failed (exit code %d) after %.1f s; the page shows what the store holds",
                        code, seconds)
            self.show_status(f"Retraining failed (exit code {code}); see the terminal.")
        return code
