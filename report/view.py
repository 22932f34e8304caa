"""The results as the report sees them, built once for rendering, ``--check`` and the tests.

    >>> views = section_views(project, results)            # per section: records, or why none
    >>> shown = results_view(views, provenance)             # what ``r`` and ``prov`` hold
    >>> shown.results["kmnist"], shown.results["kmnist@2"]   # primary seed, then the others
"""
from __future__ import annotations

from dataclasses import dataclass, field

from report.project import Project
from report.status import Freshness, Outcome
from report.units import Result


@dataclass(frozen=True)
class SectionView:
    """What the report shows for one section: its results, or why there are none."""

    name: str
    records: list = field(default_factory=list)  # one per seed, the primary seed first
    problem: str = ""  # why there is no result to show (failed, not built)
    stale_reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.records) and not self.problem


@dataclass(frozen=True)
class ResultsView:
    results: dict        # {"toy_mlp": data with its config, "toy_mlp@2": seed 2's, "provenance": ...}
    primary_seed: dict   # section -> the seed shown as ``r.<section>``
    artifact_dirs: dict  # results key -> its artifact folder
    damaged: frozenset = frozenset()  # artifact files missing or changed since they were stored


def section_key(name: str, seed: int, primary_seed: int) -> str:
    return name if seed == primary_seed else f"{name}@{seed}"


def results_view(sections: list[SectionView], provenance: dict) -> ResultsView:
    """Each shown record's data with its config under its key, and the seeds in the provenance."""
    results, primary, artifact_dirs, damaged = {}, {}, {}, set()
    for section in sections:
        if not section.ok:
            continue
        primary[section.name] = section.records[0].seed
        for record in section.records:
            key = section_key(section.name, record.seed, primary[section.name])
            results[key] = {**record.data, "config": record.meta["profile_config"]}
            artifact_dirs[key] = record.artifact_dir
            damaged |= {record.artifact_dir / name for name in record.damaged}
    seeds = {key: int(key.partition("@")[2] or primary[key]) for key in artifact_dirs}
    return ResultsView({**results, "provenance": {**provenance, "seeds": seeds}}, primary, artifact_dirs,
                       frozenset(damaged))


def section_views(project: Project, results: list[Result]) -> list[SectionView]:
    """Per section in report order: the records to show (primary seed first), or the problem."""
    views = []
    for name in project.names:
        mine = [r for r in results if r.section == name]
        views.append(SectionView(name, [r.record for r in mine if r.record], _problem(name, mine),
                                 sorted({reason for r in mine if r.shows_stale for reason in r.unit.reasons})))
    return views


def provenance_entries(project: Project, views: list[SectionView], results: list[Result]) -> list[dict]:
    """Per section: its title, state and each run's seed, fingerprint, outcome, time and device."""
    return [{"name": view.name, "title": project.section(view.name).title, "ok": view.ok,
             "problem": view.problem, "stale": view.stale_reasons,
             "units": [_unit_entry(r) for r in results if r.section == view.name]}
            for view in views]


def _problem(name: str, results: list[Result]) -> str:
    failed = [r for r in results if r.outcome is Outcome.FAILED]
    if failed:
        where = f" (log: {failed[0].log_path})" if failed[0].log_path else ""
        return f"it failed: {failed[0].error}{where}. The next build reruns it."
    corrupt = [r for r in results if r.record is None and r.unit.freshness is Freshness.CORRUPT]
    if corrupt:
        return (f"its stored result cannot be used ({corrupt[0].unit.reasons[0]}); "
                f"run `python build.py {name}` to recompute it.")
    if any(r.record is None for r in results):
        return f"it has not been built yet; run `python build.py {name}`."
    return ""


def _unit_entry(result: Result) -> dict:
    """One run as the appendix lists it; the fingerprint is that of the result shown (a stale
    one's is not the fingerprint the code has now)."""
    meta = result.record.meta if result.record else {}
    fingerprint = result.record.fingerprint if result.record else result.unit.fingerprint
    return {"seed": result.seed, "fingerprint": fingerprint[:12], "outcome": result.outcome.value,
            "wall_time": meta.get("wall_time", result.wall_time), "finished": meta.get("finished", ""),
            "device": result.record.data.get("device", "n/a") if result.record else "n/a",
            "machine": meta.get("machine", {}) if result.record else None}

