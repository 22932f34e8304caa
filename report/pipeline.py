"""One build, phase by phase: plan, run, render, check, write.

    >>> summary = build(Options(sections=["toy_mlp"], profile="quick", out=Path("_build")))

Each phase raises its own ``BuildError`` subclass; a failing section is not an exception
but an outcome, so the other sections still build and the report shows a placeholder.
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

from experiments import SECTIONS
from report import backends, checks, provenance
from report import config as configs
from report.errors import CheckFailed, OutputError, UsageError
from report.fingerprint import PROJECT_ROOT, HashMemo, sha256_file
from report.render import Renderer, SectionView, section_key
from report.runner import Runner, Unit, default_jobs, plan
from report.status import Freshness, Outcome
from report.store import Store, write_atomic

log = logging.getLogger("report")
TEMPLATES = PROJECT_ROOT / "templates"
SOURCE_DIRS = ("experiments", "report", "templates", "tests", "bench", ".git", ".ci")


@dataclass
class Options:
    sections: list[str] = field(default_factory=list)  # empty: all
    profile: str = "full"
    force: bool = False
    sets: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=lambda: ["html", "pdf"])
    out: Path = PROJECT_ROOT / "_build"
    engine: str = "auto"
    jobs: int | None = None
    scheduler: str | None = None
    device: str = "auto"
    draft: bool = False
    show_progress: bool = True


@dataclass
class Summary:
    units: list[Unit]
    outputs: dict[str, Path]
    wall_time: float

    @property
    def failed(self) -> list[Unit]:
        return [u for u in self.units if u.outcome is Outcome.FAILED]


def check_out_dir(out: Path) -> Path:
    """Refuse an output folder that is the source tree, holds it, or lies inside its sources."""
    out = out.expanduser().resolve()
    if out == PROJECT_ROOT or out in PROJECT_ROOT.parents or any(
            out == PROJECT_ROOT / d or (PROJECT_ROOT / d) in out.parents for d in SOURCE_DIRS):
        raise UsageError(f"--out {out} points at the project's source tree",
                         "use a folder of its own, such as _build (the default) or /tmp/report")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out}: {exc.strerror}",
                          "choose a writable folder with --out") from None
    return out


@contextmanager
def build_lock(out: Path):
    """One build per output folder at a time; a second one waits and says so."""
    with open(out / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another build is using %s; waiting for it to finish", out)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def validate(options: Options) -> dict[str, dict[str, str]]:
    """Check names, profile and --set before anything runs; return the parsed --set values."""
    for name in options.sections:
        configs.load_section(name)
    if options.profile not in configs.PROFILES:
        raise UsageError(f"unknown profile {options.profile!r}", "use --profile quick or --profile full")
    unknown = [fmt for fmt in options.to if fmt not in backends.FORMATS]
    if unknown:
        raise UsageError(f"unknown output format {', '.join(unknown)}",
                         f"--to takes a comma-separated list of {', '.join(backends.FORMATS)}")
    return configs.parse_sets(options.sets)


def plan_all(options: Options, out: Path, sets) -> tuple[list[Unit], Store]:
    """Every unit of every section, with its freshness; file hashes are remembered across builds."""
    store = Store(out / "results", options.profile)
    memo = HashMemo(out / ".cache" / "hashes.json")
    units = plan(list(SECTIONS), options.profile, sets, store, memo)
    memo.save()
    return units, store


def build(options: Options) -> Summary:
    start = time.perf_counter()
    sets = validate(options)
    out = check_out_dir(options.out)
    with build_lock(out):
        units, store = plan_all(options, out, sets)
        chosen = set(options.sections or SECTIONS)
        for unit in units:
            if unit.freshness is Freshness.CORRUPT:
                log.warning("ignoring a corrupt result, it will be recomputed: %s", unit.reasons[0])
        to_run = [u for u in units if u.section in chosen and (options.force or u.freshness is not Freshness.FRESH)]
        jobs = options.jobs or default_jobs(len(to_run))
        Runner(store, out / "logs", options.device, jobs, options.scheduler, options.show_progress).run(to_run)
        _settle(units, to_run)
        _check_invariants(units)
        outputs = render(units, options, out)
    return Summary(units, outputs, time.perf_counter() - start)


def check(options: Options) -> list[str]:
    """Verify the report on disk and a fresh rendering against the store; train nothing."""
    sets = validate(options)
    out = check_out_dir(options.out)
    with build_lock(out):
        units, store = plan_all(options, out, sets)
        problems = [f"{u.label}: {u.reasons[0]}" for u in units if u.freshness is Freshness.CORRUPT]
        raw = {u.label: store.read_unverified(u.section, u.seed) for u in units}
        problems += _check_document_on_disk(out, units, raw)
        for unit in units:
            record = raw[unit.label]
            if record is not None:
                module = configs.load_section(unit.section)
                problems += [f"{unit.label}: {p}" for p in module.invariants(record["data"])]
        _settle(units, [])
        problems += _check_rerendering(units, options, out)
    return problems


def _check_document_on_disk(out: Path, units: list[Unit], raw: dict) -> list[str]:
    ledger_path, html, pdf = out / "ledger.json", out / "report.html", out / "report.pdf"
    if not (ledger_path.exists() and html.exists()):
        return [f"no report in {out} to check; build it first with `python build.py`"]
    ledger = json.loads(ledger_path.read_text())
    results = {"provenance": json.loads((out / "provenance.json").read_text())}
    primary = {}
    for unit in units:
        primary.setdefault(unit.section, unit.seed)
        record = raw[unit.label]
        if record is not None:
            results[section_key(unit.section, unit.seed, primary[unit.section])] = {
                **record["data"], "config": record["meta"]["profile_config"]}
    problems = checks.verify_html(html.read_text(encoding="utf-8"), ledger, results)
    return problems + (checks.verify_pdf(pdf, ledger) if pdf.exists() else [])


def _check_rerendering(units: list[Unit], options: Options, out: Path) -> list[str]:
    views, entries = section_views(units)
    document = Renderer(TEMPLATES, out, draft=True).render(
        views, provenance.collect(options.profile, entries, provenance.git_state()), profile=options.profile)
    false_claims = [f"claim {c.name!r} ({c.template}:{c.line}) does not hold in the results"
                    for c in document.claims if not c.holds]
    return false_claims + checks.untraced_numbers(document.text, TEMPLATES)


def _settle(units: list[Unit], ran: list[Unit]) -> None:
    """Give every unit that did not run its outcome and the record the report will show."""
    for unit in units:
        if unit in ran:
            continue
        unit.record = unit.stored
        unit.outcome = Outcome.CACHED if unit.stored else Outcome.SKIPPED


def _check_invariants(units: list[Unit]) -> None:
    """A result that breaks its section's invariants is a failure, not something to print."""
    for unit in units:
        if unit.record is None:
            continue
        module = configs.load_section(unit.section)
        problems = module.invariants(unit.record.data)
        if problems:
            unit.outcome, unit.record = Outcome.FAILED, None
            unit.error = "invariants do not hold: " + "; ".join(problems)


def section_views(units: list[Unit]) -> tuple[list[SectionView], list[dict]]:
    """Per section: the records to show (primary seed first) and its provenance entry."""
    views, entries = [], []
    for name in SECTIONS:
        mine = [u for u in units if u.section == name]
        view = SectionView(name, f"{name}.qmd.j2", [u.record for u in mine if u.record])
        view.problem = _problem(name, mine)
        view.stale_reasons = sorted({r for u in mine if u.outcome is Outcome.CACHED
                                     and u.freshness is Freshness.STALE for r in u.reasons})
        views.append(view)
        entries.append({"name": name, "title": configs.load_section(name).TITLE, "ok": view.ok,
                        "problem": view.problem, "stale": view.stale_reasons,
                        "units": [_unit_entry(u) for u in mine]})
    return views, entries


def _problem(name: str, units: list[Unit]) -> str:
    failed = [u for u in units if u.outcome is Outcome.FAILED]
    if failed:
        where = f" (log: {failed[0].log_path})" if failed[0].log_path else ""
        return f"it failed: {failed[0].error}{where}. The next build reruns it."
    if any(u.record is None for u in units):
        return f"it has not been built yet; run `python build.py {name}`."
    return ""


def _unit_entry(unit: Unit) -> dict:
    meta = unit.record.meta if unit.record else {}
    return {"seed": unit.seed, "fingerprint": unit.fingerprint[:12], "outcome": unit.outcome.value,
            "wall_time": meta.get("wall_time", unit.wall_time), "finished": meta.get("finished", ""),
            "device": unit.record.data.get("device", "n/a") if unit.record else "n/a"}


def render(units: list[Unit], options: Options, out: Path) -> dict[str, Path]:
    """Render the report from the records; write it only when every check passes.

    When nothing the report shows has changed since the last render (results, templates,
    engine code, options, commit) and its files are all there, they are kept as they are.
    """
    git = provenance.git_state()
    key = render_key(units, options, git)
    outputs = {fmt: out / f"report.{fmt}" for fmt in options.to}
    key_file = out / ".render-key"
    if key_file.exists() and key_file.read_text() == key and all(p.exists() for p in outputs.values()):
        log.info("the report is up to date")
        return outputs
    views, entries = section_views(units)
    prov = provenance.collect(options.profile, entries, git)
    document = Renderer(TEMPLATES, out, draft=options.draft).render(views, prov, profile=options.profile)
    problems = checks.untraced_numbers(document.text, TEMPLATES)
    if problems:
        raise CheckFailed(problems)
    qmd = out / "report.qmd"
    write_atomic(qmd, document.text.encode("utf-8"))
    write_atomic(out / "ledger.json", json.dumps(document.ledger.as_json(), indent=1).encode())
    write_atomic(out / "provenance.json", json.dumps(prov, indent=1).encode())
    written = backends.choose(options.engine).render(qmd, options.to)
    write_atomic(key_file, key.encode())
    return written


def render_key(units: list[Unit], options: Options, git: tuple[str, bool]) -> str:
    """A hash of everything the rendered report depends on."""
    shown = [(u.section, u.seed, u.outcome is Outcome.FAILED, u.error,
              u.reasons if u.outcome is Outcome.CACHED and u.freshness is Freshness.STALE else [],
              u.record.fingerprint if u.record else None, u.record.artifact_dir.name if u.record else None)
             for u in units]
    code = sorted([*TEMPLATES.glob("*.j2"), *(PROJECT_ROOT / "report").rglob("*.py"),
                   *(PROJECT_ROOT / "report" / "assets").iterdir()])
    parts = {"shown": shown, "code": {str(p.relative_to(PROJECT_ROOT)): sha256_file(p) for p in code},
             "options": [options.profile, sorted(options.to), options.engine, options.draft], "git": git}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
