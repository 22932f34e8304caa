"""``python build.py --verify [SECTION ...]``: rerun, compare every number, record the verification.

    >>> outcome = verify(project, Options(sections=["toy_mlp"], profile="quick"))
    >>> print(table(outcome)); print(summary_line(outcome.rows)); outcome.passed

Each named section (all by default) is rerun, every seed, with the runner a build uses
(``--jobs``, Dask), into a scratch store in a hidden folder of the output folder (same
filesystem), removed afterwards and swept if a kill left it. The real store and the report
are only read; ``verification.json`` is the one file written, and the next render shows it in
the report's appendix.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from report import provenance, verification
from report.compare import SPREAD_SDS, Row, Rules, Verdict, compare, tolerance_text
from report.errors import UsageError
from report.paths import VERIFY_SCRATCH, OutputPaths
from report.pipeline import Options, build_lock, check_out_dir, make_runner, plan_all, read_json, validate
from report.project import Project
from report.status import Freshness, Outcome
from report.store import Store
from report.units import Result, Unit
from report.view import section_key

log = logging.getLogger("report")
HEADERS = ["result path", "printed at", "stored", "rerun", "difference", "tolerance", "verdict"]


@dataclass(frozen=True)
class Verified:
    """What a verify found: every number compared (worst first), the reruns that failed, and notes."""

    rows: list[Row]
    rules: dict[str, Rules]  # of each section verified
    failed: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # where each result was stored and rerun; staleness
    recorded: Path | None = None  # verification.json, when every rerun ran

    @property
    def passed(self) -> bool:
        return not self.failed and all(row.verdict is not Verdict.BEYOND for row in self.rows)


def verify(project: Project, options: Options) -> Verified:
    """Rerun the named sections (all by default) into a scratch store and compare with the real one."""
    sets = validate(project, options)
    stored = check_out_dir(project, options.out, writable=False)
    if not stored.root.exists():  # never built: refuse as below, creating neither the folder nor its lock
        _refuse_unstored(_chosen(project, options, plan_all(project, options, stored, sets, remember=False)[0]),
                         options)
    paths = check_out_dir(project, options.out)
    with build_lock(paths):
        units, _ = plan_all(project, options, paths, sets, remember=False)
        chosen = _chosen(project, options, units)
        _refuse_unstored(chosen, options)
        reran = {r.label: r for r in rerun(project, options, paths, chosen)}
        compared = [u for u in chosen if reran[u.label].outcome is Outcome.RAN]
        rules = {u.section: Rules.of(project.section(u.section)) for u in chosen}
        rows = _compare(units, compared, reran, rules, _ledger(paths, options.profile))
        failed = [r for r in reran.values() if r.outcome is Outcome.FAILED]
        notes = [_where_note(u, reran[u.label]) for u in compared] + _stale_notes(chosen)
        if failed:
            return Verified(rows, rules, failed, notes)
        git = provenance.git_state(project.root)
        verification.write(paths.verification, verification.record(rows, compared, options.profile, git))
    return Verified(rows, rules, failed, notes, paths.verification)


def _compare(units: list[Unit], compared: list[Unit], reran: dict[str, Result], rules: dict[str, Rules],
             ledger: list[dict]) -> list[Row]:
    """The stored and rerun data of ``compared``, keyed as the templates name them, number by number."""
    primary = {u.section: u.seed for u in reversed(units)}  # each section's first seed
    keys = {u.label: section_key(u.section, u.seed, primary[u.section]) for u in compared}
    return compare({keys[u.label]: u.stored.data for u in compared},
                   {keys[u.label]: reran[u.label].record.data for u in compared}, rules, ledger)


def _chosen(project: Project, options: Options, units: list[Unit]) -> list[Unit]:
    return [u for u in units if u.section in set(options.sections or project.names)]


def _refuse_unstored(units: list[Unit], options: Options) -> None:
    """A verify compares with what is stored: every unit must have a result that can be read."""
    unstored = [f"{u.label} ({u.reasons[0]})" for u in units if u.stored is None]
    if unstored:
        again = " ".join([*options.sections, *(f"--set {s}" for s in options.sets), "--profile", options.profile])
        raise UsageError(f"nothing stored to verify for {', '.join(unstored)}",
                         f"build it first with `python build.py {again}`, then verify")


def rerun(project: Project, options: Options, paths: OutputPaths, units: list[Unit]) -> list[Result]:
    """Each unit run again into a scratch store beside the real one, which is never written."""
    for left in paths.root.glob(f"{VERIFY_SCRATCH}*"):  # by a verify that was killed
        shutil.rmtree(left, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=VERIFY_SCRATCH, dir=paths.root) as scratch:
        store = Store(Path(scratch) / "results", options.profile)
        return make_runner(project, options, store, paths.verify_logs, len(units)).run(units)


def _ledger(paths: OutputPaths, profile: str) -> list[dict]:
    """The report's ledger (where each number is printed), if the report shows this profile."""
    prov, ledger = read_json(paths.provenance), read_json(paths.ledger)
    if not isinstance(prov, dict) or prov.get("profile") != profile or not isinstance(ledger, list):
        return []
    return ledger


def _where_note(unit: Unit, result: Result) -> str:
    stored = unit.stored.meta.get("finished", "an unrecorded date")
    return (f"{unit.label}: stored on {verification.stored_on(unit.stored)} ({stored}), "
            f"rerun on {verification.stored_on(result.record)}")


def _stale_notes(units: list[Unit]) -> list[str]:
    return [f"{u.label} is stale ({'; '.join(u.reasons)}): the rerun uses the current code and settings, "
            "so its numbers may differ for that reason" for u in units if u.freshness is Freshness.STALE]


def table(verified: Verified) -> str:
    """The numbers that are not equal, worst first, then the tolerances that applied and why."""
    shown = [row.cells() for row in verified.rows if row.verdict is not Verdict.EQUAL]
    listing = tabulate([[c[k] for k in ("result", "where", "stored", "rerun", "difference", "tolerance", "verdict")]
                        for c in shown], HEADERS, disable_numparse=True) if shown else ""
    return "\n".join(filter(None, [listing, _legend(verified.rows, verified.rules)]))


def _legend(rows: list[Row], rules: dict[str, Rules]) -> str:
    """One line per declared tolerance or volatile path that applied, and the seed-spread rule."""
    lines = [[basis, *_declared(basis, rules)] for basis in dict.fromkeys(row.basis for row in rows) if basis]
    return "tolerances that applied:\n" + tabulate(lines, tablefmt="plain", disable_numparse=True) if lines else ""


def _declared(basis: str, rules: dict[str, Rules]) -> tuple[str, str]:
    """(tolerance, reason) of a row's basis: a section's path pattern, or the seeds' spread."""
    if basis == "seeds":
        return f"{SPREAD_SDS} sd", "the spread of the stored seeds' values at the same path"
    section, _, glob = basis.partition(" ")
    volatile = {g: why for g, _, why in rules[section].volatile}
    if glob in volatile:
        return "volatile", volatile[glob]
    tolerance = next(t for g, _, t in rules[section].tolerances if g == glob)
    return tolerance_text(tolerance), tolerance.reason
