"""``python build.py``: parse the command line, run one build, print a summary, exit with a code.

Exit codes: 0 all built; 1 a section failed, a claim no longer holds, or --check found a
mismatch; 2 bad input (unknown section or flag, malformed --set, missing data, ...).
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import re
import signal
import sys
import threading
from pathlib import Path

from tabulate import tabulate

from report import archive, diff, history, machine
from report.compare import summary_line
from report.context import OFFSCREEN_BACKEND
from report.errors import BuildError, CheckFailed, Interrupted, UsageError
from report.pipeline import Options, build, build_lock, check, check_out_dir, plan_all, validate
from report.project import Project
from report.serve import DEFAULT_PORT
from report.status import Outcome
from report.verify import Verified, table, verify
from report.watch import watch


SCHEDULER_ADDRESS = re.compile(r"[a-z]+://[^\s/:]+:\d+")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one paragraph with a hint, exit 2, like every other bad input
        raise UsageError(f"{message}", "see `python build.py --help`")


def parser(project: Project) -> argparse.ArgumentParser:
    p = _Parser(prog="python build.py", description="Run the experiments that are stale and "
                "render the report (HTML and PDF) from their stored results.")
    p.add_argument("sections", nargs="*", metavar="SECTION",
                   help=f"rebuild only these sections ({', '.join(project.names)}); the others come from the store")
    p.add_argument("--list", action="store_true", help="show each section as fresh / stale / missing, and why")
    p.add_argument("--check", action="store_true",
                   help="verify the report against the stored results (trains nothing); exit 1 on any mismatch")
    p.add_argument("--verify", action="store_true",
                   help="rerun the sections (all, or those named) into a scratch store and compare every "
                        "number with the stored one, within the sections' tolerances; exit 1 on any beyond")
    p.add_argument("--profile", default="full", choices=["quick", "full"],
                   help="quick: tiny runs for tests (the report says so); full: the report's settings")
    p.add_argument("--force", action="store_true", help="rerun the named sections (all, if none named)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value, e.g. --set kmnist.lr=0.01 (repeatable)")
    p.add_argument("--to", default="html,pdf", help="output formats: html,pdf,md (default html,pdf)")
    p.add_argument("--out", default="_build", type=Path, help="output folder (default _build)")
    p.add_argument("--engine", default="auto", choices=["auto", "quarto", "pandoc"],
                   help="renderer: quarto when installed (auto), else pandoc+typst")
    p.add_argument("--jobs", type=int, help="parallel jobs for stale sections and seeds")
    p.add_argument("--executor", default="local", choices=["local", "dask"],
                   help="where units run: local processes, or a Dask cluster (--scheduler)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--worker-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="how long to wait for a Dask worker to join the scheduler (default 60)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="torch device")
    p.add_argument("--draft", action="store_true", help="render false claims highlighted instead of failing")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--diff", nargs="?", const="", metavar="REF",
                   help="the printed numbers that changed since the previous build, or since REF: a build "
                        "kept in OUT/history, a commit prefix, or another output folder (creates nothing)")
    p.add_argument("--format", default="text", choices=["text", "md"],
                   help="--diff output: text for the terminal, md for a pull-request comment")
    p.add_argument("--export", type=Path, metavar="FILE.zip",
                   help="pack the report, its stored results and this environment into FILE.zip")
    p.add_argument("--import", dest="import_from", type=Path, metavar="FILE.zip",
                   help="unpack an --export into the empty --out folder; then --check it there")
    p.add_argument("--watch", action="store_true",
                   help="build, then serve the report on http://127.0.0.1:PORT/ and show each edit (Ctrl-C stops)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                   help=f"--watch: the port to serve on (default {DEFAULT_PORT}; a free one when taken)")
    p.add_argument("--run", action="store_true",
                   help="--watch: retrain sections a code change made stale, in a fresh process")
    return p


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535; 0 picks a free one)")
    return int(text)


def options_from(args) -> Options:
    if args.executor == "dask" and not args.scheduler:
        raise UsageError("--executor dask needs --scheduler tcp://HOST:PORT",
                         "give the address of a running Dask scheduler")
    if args.executor == "dask" and not SCHEDULER_ADDRESS.fullmatch(args.scheduler):
        raise UsageError(f"--scheduler {args.scheduler!r} is not a scheduler address",
                         "write it as PROTOCOL://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    modes = [flag for flag, given in (("--list", args.list), ("--check", args.check), ("--diff", args.diff is not None),
                                      ("--export", args.export), ("--import", args.import_from)) if given]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined", "give one of them per command")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}", "use --jobs 1 or more")
    if not 0 < args.worker_timeout < math.inf:  # nan fails both comparisons
        raise UsageError(f"--worker-timeout must be a positive number of seconds, got {args.worker_timeout:g}",
                         "use --worker-timeout 60, say")
    return Options(sections=args.sections, profile=args.profile, force=args.force, sets=args.sets,
                   to=[fmt.strip() for fmt in args.to.split(",") if fmt.strip()], out=args.out,
                   engine=args.engine, jobs=args.jobs,
                   scheduler=args.scheduler if args.executor == "dask" else None, worker_timeout=args.worker_timeout,
                   device=args.device, draft=args.draft, show_progress=not args.quiet)


def list_sections(project: Project, options: Options) -> None:
    sets = validate(project, options)
    paths = check_out_dir(project, options.out, writable=False)  # pragma: no mutate (None is as false as False)
    with build_lock(paths, exclusive=False):  # pragma: no mutate (None is as false as False)
        units, _ = plan_all(project, options, paths, sets, remember=False)  # pragma: no mutate (None is as false as False)
    rows = [(u.section, u.seed, u.freshness.value, "; ".join(u.reasons)) for u in units]
    print(tabulate(rows, ["section", "seed", "state", "why"]))


def show_diff(project: Project, options: Options, ref: str, fmt: str) -> None:
    """Print the numbers that changed between an earlier build and the report in ``options.out``."""
    for name in options.sections:
        project.section(name)
    paths = check_out_dir(project, options.out, writable=False)  # pragma: no mutate (None is as false as False)
    with build_lock(paths, exclusive=False):  # pragma: no mutate (None is as false as False)
        changes = diff.compare(*diff.builds_to_compare(paths, ref), options.sections)
    _print_out(diff.as_markdown(changes) if fmt == "md" else diff.as_text(changes))


def _print_out(text: str) -> None:
    """Print to stdout; a reader that stops early (``| head``) is no error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's own flush is quiet


def export_build(project: Project, options: Options, target: Path) -> None:
    paths = check_out_dir(project, options.out, writable=False)  # pragma: no mutate (None is as false as False)
    with build_lock(paths, exclusive=False):  # pragma: no mutate (None is as false as False)
        manifest = archive.export(paths, target)
    records = sum(name.startswith("results/") and name.endswith(".json") for name in manifest["files"])
    print(f"wrote {target}: the {manifest['profile']} report of commit {manifest['commit'][:12]}, "
          f"{records} stored result{'s' if records != 1 else ''} and this environment", file=sys.stderr)


def import_build(project: Project, options: Options, source: Path) -> None:
    paths = check_out_dir(project, options.out)
    with build_lock(paths):
        manifest = archive.unpack(source, paths)
        history.keep(paths)  # so that `--diff` after a rebuild here compares with the build imported
    print(f"imported {source} into {paths.root}: the {manifest['profile']} report of commit "
          f"{manifest['commit'][:12]}, exported on {manifest['machine']}", file=sys.stderr)
    here = archive.environment()
    for difference in archive.differences(_read_text(paths.environment), here, project.libraries):
        print(f"note: {difference}", file=sys.stderr)
    print(f"this machine: {machine.one_line(machine.host())}; check the import with "
          f"`python build.py --check --profile {manifest['profile']} --out {options.out}`", file=sys.stderr)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")  # pragma: no mutate (codec names are case-blind; UTF-8 is the default here)
    except OSError:
        return ""  # pragma: no mutate (any text without a version line lists no versions, as "" does)


def print_verification(verified: Verified) -> int:
    """The notes, the table of numbers that differ, the summary line; the exit code."""
    for note in verified.notes:
        print(note, file=sys.stderr)
    listing = table(verified)
    if listing:
        print(listing)
    print(summary_line(verified.rows))
    print_failures(verified.failed)
    if verified.recorded:
        print(f"recorded in {verified.recorded}; the next `python build.py` shows it in the report's appendix",
              file=sys.stderr)
    if verified.passed:
        return 0
    return 2 if any(r.user_error for r in verified.failed) else 1


def print_failures(failed) -> None:
    for result in failed:
        print(f"FAILED {result.label}: {result.error}" + (f" (log: {result.log_path})" if result.log_path else ""),
              file=sys.stderr)


def print_summary(summary) -> None:
    rows = [(r.section, r.seed, r.outcome.value, f"{r.wall_time:.1f} s" if r.outcome is Outcome.RAN else "")
            for r in summary.results]
    print(tabulate(rows, ["section", "seed", "result", "wall time"]), file=sys.stderr)
    print_failures(summary.failed)
    for fmt, path in summary.outputs.items():
        print(f"wrote {path}", file=sys.stderr)
    print(f"build took {summary.wall_time:.1f} s", file=sys.stderr)


def main(project: Project, argv: list[str] | None = None) -> int:
    """Run the command line for ``project`` (``build.py`` describes it); return the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("MPLBACKEND", OFFSCREEN_BACKEND)
    with terminate_as_interrupt():
        return _run(project, argv)


@contextlib.contextmanager
def terminate_as_interrupt():
    """SIGTERM (a scheduler or `kill` ending the build) and SIGHUP (its terminal closing) unwind
    like Ctrl-C: worker processes are ended, temporary folders removed, and the same message is
    printed. Only the main thread may set a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(project: Project, argv: list[str] | None) -> int:
    try:
        args = parser(project).parse_args(argv)
        options = options_from(args)
        if args.run and not args.watch:
            raise UsageError("--run retrains on change, which only --watch follows", "use --watch --run")
        if args.watch:
            if args.list or args.check:
                raise UsageError("--watch cannot be combined with --list or --check", "give one of them per command")
            return watch(project, options, args.port, args.run, print_summary)
        if args.list:
            list_sections(project, options)
            return 0
        if args.diff is not None:
            show_diff(project, options, args.diff, args.format)
            return 0
        if args.export:
            export_build(project, options, args.export)
            return 0
        if args.import_from:
            import_build(project, options, args.import_from)
            return 0
        if args.check:
            problems = check(project, options)
            if problems:
                raise CheckFailed(problems)
            print("check passed: every number in the report equals its stored result, "
                  "every claim and invariant holds", file=sys.stderr)
            return 0
        if args.verify:
            return print_verification(verify(project, options))
        summary = build(project, options)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # from a build: what it changed; elsewhere nothing was
        print(f"interrupted: {exc if isinstance(exc, Interrupted) else Interrupted()}", file=sys.stderr)
        return 130
    print_summary(summary)
    if not summary.failed:
        return 0
    return 2 if any(r.user_error for r in summary.failed) else 1
