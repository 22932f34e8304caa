"""One build, phase by phase: plan, run, render, check, write.

    >>> summary = build(project, Options(sections=["toy_mlp"], profile="quick", out=Path("_build")))

Each phase raises its own ``BuildError`` subclass; a failing section is not an exception
but an outcome, so the other sections still build and the report shows a placeholder.
Each phase returns new values and changes nothing it was given.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from report import backends, card, checks, history, provenance, verification, webfonts
from report import config as configs
from report.context import check_figure_backend
from report.errors import CheckFailed, Interrupted, OutputError, UsageError
from report.fingerprint import HashMemo, library_versions, sha256_file
from report.paths import OutputPaths
from report.project import ENGINE_DIR, Project
from report.publish import manifest, publish, stale_outputs, staging
from report.render import Renderer
from report.runner import Runner, capped_jobs, default_jobs, plan
from report.status import Freshness, Outcome
from report.atomic import ensure_writable, sweep_temporaries, write_atomic
from report.store import Record, Store
from report.units import Result, Unit
from report.view import SectionView, provenance_entries, results_view, section_views

log = logging.getLogger("report")


@dataclass(frozen=True)
class Options:
    sections: list[str] = field(default_factory=list)  # empty: all
    profile: str = "full"
    force: bool = False
    sets: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=lambda: ["html", "pdf"])
    out: Path = Path("_build")
    engine: str = "auto"
    jobs: int | None = None
    scheduler: str | None = None
    worker_timeout: float = 60.0
    device: str = "auto"
    draft: bool = False
    show_progress: bool = True


@dataclass(frozen=True)
class Summary:
    results: list[Result]
    outputs: dict[str, Path]
    wall_time: float

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]


def check_out_dir(project: Project, out: Path, writable: bool = True) -> OutputPaths:
    """Refuse an output folder that is the source tree, holds it, or lies inside its sources;
    create it and make sure it can be written, unless only reading (``--check``, ``--list``)."""
    try:
        out = out.expanduser().resolve()
    except (RuntimeError, OSError) as exc:  # ~nosuchuser, a symlink loop
        raise UsageError(f"--out {out}: {exc}", "give the path of a folder you can write to") from None
    if out == project.root or out in project.root.parents or any(
            out == d or d in out.parents for d in project.source_dirs()):
        raise UsageError(f"--out {out} points at the project's source tree",
                         "use a folder of its own, such as _build (the default) or /tmp/report")
    if not writable:
        return OutputPaths.under(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")  # pragma: no mutate (the probe's content is never read)
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out}: {exc.strerror}",
                          "choose a writable folder with --out") from None
    return OutputPaths.under(out)


@contextmanager
def build_lock(paths: OutputPaths, exclusive: bool = True):
    """One build per output folder at a time, and no reader while it writes; a second one
    waits and says so. A reader of a folder never built takes no lock and creates nothing."""
    if not exclusive and not paths.lock.exists():
        yield
        return
    try:
        handle = open(paths.lock, "a+" if exclusive else "r", encoding="utf-8")
    except OSError as exc:  # a folder, a dangling link, someone else's read-only file
        raise OutputError(f"cannot use the lock file {paths.lock}: {exc.strerror}",
                          "remove it when no build is running in that folder, or choose another --out") from None
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another build is using %s; waiting for it to finish", paths.root)
            fcntl.flock(handle, mode)
        yield


def validate(project: Project, options: Options) -> dict[str, dict[str, str]]:
    """Check names, profile and --set before anything runs; return the parsed --set values."""
    for name in options.sections:
        project.section(name)
    if options.profile not in configs.PROFILES:
        raise UsageError(f"unknown profile {options.profile!r}", "use --profile quick or --profile full")
    unknown = [fmt for fmt in options.to if fmt not in backends.FORMATS]
    if unknown or not options.to:
        raise UsageError(f"unknown output format {', '.join(unknown)}" if unknown else "--to names no output format",
                         f"--to takes a comma-separated list of {', '.join(backends.FORMATS)}")
    backends.choose(options.engine, project)  # a missing renderer is found before anything trains
    return configs.parse_sets(options.sets, project.names)


def plan_all(project: Project, options: Options, paths: OutputPaths, sets,
             remember: bool = True) -> tuple[list[Unit], Store]:
    """Every unit of every section, with its freshness; file hashes are remembered across
    builds (``remember``), and only read by the modes that change nothing."""
    store = Store(paths.results, options.profile)
    memo = HashMemo(paths.hashes)
    units = plan(project, options.profile, sets, store, memo)
    if remember:
        memo.save()
    return units, store


def build(project: Project, options: Options) -> Summary:
    start = time.perf_counter()
    sets = validate(project, options)
    check_figure_backend()
    paths = check_out_dir(project, options.out)
    with build_lock(paths):
        prepare_output(paths, options.to)
        units, store = plan_all(project, options, paths, sets)
        before = file_states(paths, store, units)
        try:
            results, outputs = run_and_render(project, options, paths, units, store)
        except KeyboardInterrupt:
            raise interruption(paths, store, units, before) from None
    return Summary(results, outputs, time.perf_counter() - start)


def run_and_render(project: Project, options: Options, paths: OutputPaths, units: list[Unit],
                   store: Store) -> tuple[list[Result], dict[str, Path]]:
    chosen = set(options.sections or project.names)
    warn_unusable(units, chosen)
    to_run = [u for u in units if u.section in chosen and (options.force or u.freshness is not Freshness.FRESH)]
    ensure_writable(file for u in to_run for file in store.files(u.section, u.seed))
    runner = make_runner(project, options, store, paths.logs, len(to_run))
    results = enforce_invariants(project, settle(units, runner.run(to_run)))
    return results, render(project, results, options, paths)


def prepare_output(paths: OutputPaths, formats: list[str]) -> None:
    """Before anything is computed: refuse a folder where the build could not write its files,
    and remove the temporary files of a build that was killed outright."""
    ensure_writable(paths.written(formats), folders=[paths.logs])
    for folder in (paths.root, paths.hashes.parent, paths.logs):
        sweep_temporaries(folder)


def file_states(paths: OutputPaths, store: Store, units: list[Unit]) -> dict[Path, tuple | None]:
    """What a build may replace (each unit's record and failure mark, the report's files), as
    (inode, mtime, size): a file replaced by a rename, or rewritten, reads differently after."""
    files = [path for u in units
             for path in (store.record_path(u.section, u.seed), store.failure_path(u.section, u.seed))]
    return {path: _state(path) for path in [*files, *_report_files(paths)]}


def _report_files(paths: OutputPaths) -> list[Path]:
    return [paths.document, paths.ledger, paths.provenance, *map(paths.report, backends.FORMATS)]


def _state(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def interruption(paths: OutputPaths, store: Store, units: list[Unit], before: dict) -> Interrupted:
    """Ctrl-C or SIGTERM during a build, with what it had already stored and whether it replaced the report."""
    after = file_states(paths, store, units)
    changed = {path for path, state in after.items() if before[path] != state}
    return Interrupted(stored=[u.label for u in units if store.record_path(u.section, u.seed) in changed],
                       failed=[u.label for u in units if store.failure_path(u.section, u.seed) in changed
                               and after[store.failure_path(u.section, u.seed)] is not None],
                       replaced=any(path in changed for path in _report_files(paths)))


def warn_unusable(units: list[Unit], chosen: set[str]) -> None:
    """Say what becomes of each damaged result: recomputed by this build, or shown for what it is until then."""
    for unit in units:
        damaged = unit.stored is not None and bool(unit.stored.damaged)
        if unit.freshness is not Freshness.CORRUPT and not damaged:
            continue
        later = f"until `python build.py {unit.section}` recomputes it"
        what = "a stored figure is damaged" if damaged else "ignoring a corrupt result"
        if unit.section in chosen:
            outcome = "it will be recomputed"
        elif damaged:
            outcome = f"the report shows {unit.section} as stale, without that figure, {later}"
        else:
            outcome = f"the report leaves {unit.section} out {later}"
        log.warning("%s, %s: %s", what, outcome, unit.reasons[0])


def make_runner(project: Project, options: Options, store: Store, log_dir: Path, units: int) -> Runner:
    """A runner for ``units`` units into ``store``, as the options ask (jobs, Dask, device, bars)."""
    jobs = capped_jobs(options.jobs, units) if options.jobs else default_jobs(units)
    return Runner(store, log_dir, lambda name, data: project.section(name).invariants(data),
                  options.device, jobs, options.scheduler, options.show_progress, options.worker_timeout,
                  project.libraries)


def settle(units: list[Unit], ran: list[Result]) -> list[Result]:
    """One result per unit, in plan order: the runner's, or the store's for a unit that did not run."""
    by_label = {r.label: r for r in ran}
    return [by_label.get(unit.label) or Result.not_run(unit) for unit in units]


def enforce_invariants(project: Project, results: list[Result]) -> list[Result]:
    """A stored result that breaks its section's invariants (the invariants changed since it
    was stored, say) is a failure, not something to print."""
    checked = []
    for result in results:
        problems = project.section(result.section).invariants(result.record.data) if result.record else []
        checked.append(result.failed("invariants do not hold: " + "; ".join(problems)) if problems else result)
    return checked


def check(project: Project, options: Options) -> list[str]:
    """Verify the report on disk and a fresh rendering against the store; train nothing."""
    sets = validate(project, options)
    paths = check_out_dir(project, options.out, writable=False)
    with build_lock(paths, exclusive=False):
        units, store = plan_all(project, options, paths, sets, remember=False)
        problems = [f"{u.label}: {u.reasons[0]}" for u in units if u.freshness is Freshness.CORRUPT]
        raw = {u.label: store.read_unverified(u.section, u.seed) for u in units}
        problems += _check_document_on_disk(project, paths, units, raw, options.profile)
        for unit in units:
            if raw[unit.label] is not None:
                problems += [f"{unit.label}: {p}" for p in _unverified_invariants(project, unit, raw[unit.label])]
        problems += _check_rerendering(project, [Result.not_run(u) for u in units], options, paths)
    return problems


def _check_document_on_disk(project: Project, paths: OutputPaths, units: list[Unit], raw: dict,
                            profile: str) -> list[str]:
    if not paths.report("html").is_file():  # a folder of that name is no report either
        return [f"no report in {paths.root} to check; build it first with `python build.py`"]
    ledger, prov = read_json(paths.ledger), read_json(paths.provenance)
    unreadable = [f"{path} is missing or not valid JSON; the next `python build.py` writes it again"
                  for path, value in ((paths.ledger, ledger), (paths.provenance, prov)) if value is None]
    if unreadable:
        return unreadable
    if prov.get("profile") != profile:
        return [f"the report in {paths.root} was built with the {prov.get('profile')} profile; "
                f"check it with `python build.py --check --profile {prov.get('profile')}`"]
    problems = _damage_not_shown(units, prov)
    stored = [SectionView(name, [_unverified_record(u, raw[u.label]) for u in units
                                 if u.section == name and raw[u.label] is not None])
              for name in project.names]
    shown = results_view(stored, prov)
    problems += checks.verify_html(paths.report("html").read_text(encoding="utf-8"), ledger, shown.results)  # pragma: no mutate (codec names are case-blind; UTF-8 is the default here)
    stale = stale_outputs(paths, prov.get("outputs"), backends.FORMATS)
    pdf = paths.report("pdf")
    pdf_problems = checks.verify_pdf(pdf, ledger) if pdf.exists() and "pdf" not in stale else []
    return problems + list(stale.values()) + pdf_problems


def _damage_not_shown(units: list[Unit], prov: dict) -> list[str]:
    """Stored figures damaged since the report was rendered: it shows them as if they were whole."""
    marked = {(section.get("name"), reason) for section in prov.get("sections", [])
              for reason in section.get("stale", [])}
    return [f"{u.label}: {u.reasons[0]}, and the report does not say so; rebuild it with `python build.py {u.section}`"
            for u in units if u.stored and u.stored.damaged and (u.section, u.reasons[0]) not in marked]


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _unverified_invariants(project: Project, unit: Unit, raw: dict) -> list[str]:
    """What does not hold in a stored record as written; an edited one may lack what they read."""
    try:
        return project.section(unit.section).invariants(raw["data"])
    except Exception as exc:  # a section's invariants trust the shape of the data they are given
        return [f"its data cannot be checked, the invariants fail with {type(exc).__name__}: {exc}"]


def _unverified_record(unit: Unit, raw: dict) -> Record:
    """A stored record as written, checksum or not, so --check compares what is really there."""
    return Record(unit.section, unit.seed, raw.get("fingerprint", ""), raw.get("parts", {}), raw["data"],  # pragma: no mutate (--check reads only seed, data and meta)
                  raw["meta"], Path(raw.get("artifact_dir", "")))  # pragma: no mutate (--check reads only seed, data and meta)


def _check_rerendering(project: Project, results: list[Result], options: Options, paths: OutputPaths) -> list[str]:
    document, _ = _render_document(project, results, options, paths, draft=True)
    return (checks.false_claims(document.claims)
            + checks.untraced_numbers(document.text, project.templates, document.unfiltered))


def _render_document(project: Project, results: list[Result], options: Options, paths: OutputPaths,
                     draft: bool, git: tuple[str, bool] | None = None):
    views = section_views(project, results)
    prov = {**provenance.collect(options.profile, provenance_entries(project, views, results),
                                 git or provenance.git_state(project.root), library_versions(project.libraries),
                                 backends.choose(options.engine, project).versions()),
            "verification": verification.note(paths.verification, results, options.profile)}
    document = Renderer(project.templates, paths.root, draft=draft).render(views, prov, profile=options.profile)
    return document, document.results["provenance"]


def render_text(project: Project, results: list[Result], options: Options, paths: OutputPaths) -> str:
    """The report's Markdown, checked as ``render`` checks it, and written nowhere (``--watch`` shows it)."""
    document, _ = _render_document(project, results, options, paths, options.draft)
    problems = checks.untraced_numbers(document.text, project.templates)
    if problems:
        raise CheckFailed(problems)
    return document.text


def render(project: Project, results: list[Result], options: Options, paths: OutputPaths) -> dict[str, Path]:
    """Render the report from the records; write it only when every check passes.

    When nothing the report shows has changed since the last render (results, templates,
    engine code, options, commit) and its files are all there, they are kept as they are.
    """
    git = provenance.git_state(project.root)
    key = render_key(project, results, options, git, paths.verification)
    outputs = {fmt: paths.report(fmt) for fmt in options.to}
    if paths.render_key.exists() and paths.render_key.read_text(encoding="utf-8") == key and all(
            p.exists() for p in outputs.values()):
        log.info("the report is up to date")
        return outputs
    document, prov = _render_document(project, results, options, paths, options.draft, git)
    problems = checks.untraced_numbers(document.text, project.templates, document.unfiltered)
    if problems:
        raise CheckFailed(problems)
    with staging(paths) as stage:
        write_atomic(stage.name(paths.document), document.text.encode("utf-8"))
        written = backends.choose(options.engine, project).render(stage.name(paths.document), options.to)
        if "html" in written:
            finish_html(written["html"], document, project)
        write_atomic(stage.name(paths.ledger), json.dumps(document.ledger.as_json(), indent=1).encode())
        write_atomic(stage.name(paths.provenance),
                     json.dumps({**prov, "outputs": manifest(written)}, indent=1).encode())
        publish(stage, [paths.document, *outputs.values(), paths.ledger, paths.provenance], paths.render_key, key)
    _note_formats_not_rebuilt(paths, options.to)
    _keep_in_history(paths)
    return outputs


def finish_html(html: Path, document, project: Project) -> None:
    """The rendered HTML made whole: each number's provenance card, and the glyphs it needs from
    the project's own fonts, so that it shows the same on any machine, offline."""
    text = card.embed(html.read_text(encoding="utf-8"), card.cards(document))
    write_atomic(html, webfonts.embed(text, project.font_paths).encode("utf-8"))


def _note_formats_not_rebuilt(paths: OutputPaths, formats: list[str]) -> None:
    for fmt in backends.FORMATS:
        if fmt not in formats and paths.report(fmt).exists():
            log.warning("%s is left from an earlier build (this one wrote --to %s): `--check` reports it as "
                        "stale; build with --to %s, or delete it", paths.report(fmt), ",".join(formats),
                        ",".join([*formats, fmt]))


def _keep_in_history(paths: OutputPaths) -> None:
    """Keep this build for ``--diff``; a history that cannot be written costs the report nothing."""
    try:
        history.keep(paths)
    except OSError as exc:
        log.warning("could not keep this build in %s for --diff: %s", paths.history, exc)


def render_key(project: Project, results: list[Result], options: Options, git: tuple[str, bool],
               verified: Path) -> str:
    """A hash of everything the rendered report depends on, the last verification included."""
    shown = [(r.section, r.seed, r.outcome is Outcome.FAILED, r.error, r.unit.reasons if r.shows_stale else [],
              r.record.fingerprint if r.record else None, r.record.artifact_dir.name if r.record else None)
             for r in results]
    code = {f"templates/{p.name}": p for p in project.templates.glob("*.j2")}
    code |= {f"engine/{p.relative_to(ENGINE_DIR)}": p for p in ENGINE_DIR.rglob("*") if _is_engine_file(p)}
    parts = {"shown": shown, "code": {name: sha256_file(p) for name, p in sorted(code.items())},
             "options": [options.profile, sorted(options.to), options.engine, options.draft], "git": git,
             "libraries": library_versions(project.libraries), "fonts": [project.pdf_fonts, project.font_paths],
             "verification": sha256_file(verified) if verified.exists() else None}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _is_engine_file(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".py" or path.parent.name == "assets")
