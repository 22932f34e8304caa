"""What the report shows per section (records, or why there are none) and what ``r`` and ``prov`` hold."""
import dataclasses
from pathlib import Path

from report.status import Freshness, Outcome
from report.store import Record
from report.units import Result, Unit
from report.view import SectionView, provenance_entries, results_view, section_views



def unit(seed=0, freshness=Freshness.FRESH, reasons=(), section="counting") -> Unit:
    return Unit(section, seed, "tiny_sections.counting", None, f"{seed:02d}" * 20, {}, freshness, reasons, None)


def record(seed=0, section="counting", fingerprint=None, **data) -> Record:
    meta = {"profile_config": {"seed": seed}, "wall_time": 1.5, "finished": "2026-01-02T03:04:05+00:00"}
    return Record(section, seed, fingerprint or f"{seed:02d}" * 20, {}, {"total": seed, **data}, meta,
                  Path(f"/store/{section}/seed-{seed}.abc"))


def test_the_first_seed_is_r_section_and_the_others_are_section_at_seed():
    view = results_view([SectionView("counting", [record(2), record(1), record(3)])], {"commit": "abc"})
    assert view.results["counting"] == {"total": 2, "config": {"seed": 2}}
    assert view.results["counting@1"] == {"total": 1, "config": {"seed": 1}}
    assert view.primary_seed == {"counting": 2}
    assert view.artifact_dirs["counting@3"] == Path("/store/counting/seed-3.abc")
    assert view.results["provenance"] == {"commit": "abc", "seeds": {"counting": 2, "counting@1": 1, "counting@3": 3}}


def test_a_section_with_a_problem_or_without_records_shows_no_results():
    view = results_view([SectionView("counting", [record(0)], problem="it failed"), SectionView("again")], {})
    assert view.results == {"provenance": {"seeds": {}}} and view.primary_seed == {}
    assert not SectionView("again").ok and SectionView("again", [record(0)]).ok


def with_other(project):
    """The tiny project with a second section, ``other``, that has no results here."""
    return dataclasses.replace(project, sections={**project.sections, "other": "tiny_sections.counting"})


def test_a_failed_unit_is_the_section_s_problem_with_its_error_and_log(tiny):
    results = [Result(unit(0), Outcome.RAN, record(0)),
               Result(unit(1), Outcome.FAILED, None, error="ValueError: bad", log_path=Path("/logs/c-1.log")),
               Result(unit(2), Outcome.FAILED, None, error="KeyError: 'x'")]
    (view,) = section_views(tiny, results)
    assert view.problem == "it failed: ValueError: bad (log: /logs/c-1.log). The next build reruns it."
    assert [r.seed for r in view.records] == [0] and not view.ok
    (view,) = section_views(tiny, results[2:])
    assert view.problem == "it failed: KeyError: 'x'. The next build reruns it."


def test_a_section_never_built_says_the_command_that_builds_it(tiny):
    (view,) = section_views(tiny, [Result.not_run(unit(0))])
    assert view.problem == "it has not been built yet; run `python build.py counting`."
    assert view.records == []


def test_only_cached_stale_results_contribute_their_reasons_once_each_and_sorted(tiny):
    stale = (Freshness.STALE, ("source b changed", "config a: 1 -> 2"))
    results = [Result(unit(0, *stale), Outcome.CACHED, record(0)),
               Result(unit(1, *stale), Outcome.CACHED, record(1)),
               Result(unit(2, Freshness.STALE, ("not shown: it ran",)), Outcome.RAN, record(2))]
    views = section_views(with_other(tiny), results)
    assert views[0] == SectionView("counting", [record(0), record(1), record(2)], "",
                                   ["config a: 1 -> 2", "source b changed"])
    assert views[1] == SectionView("other", [], "", [])


def test_the_provenance_names_each_section_s_runs_with_seed_fingerprint_outcome_time_device_and_machine(tiny):
    ran = record(0, device="cpu")
    ran = dataclasses.replace(ran, meta={**ran.meta, "machine": {"host": "box"}})
    results = [Result(unit(0), Outcome.RAN, ran, wall_time=9.0),
               Result(unit(1), Outcome.FAILED, None, wall_time=0.25, error="boom")]
    (entry,) = provenance_entries(tiny, section_views(tiny, results), results)
    assert entry == {
        "name": "counting", "title": "Counting", "ok": False,
        "problem": "it failed: boom. The next build reruns it.", "stale": [],
        "units": [{"seed": 0, "fingerprint": "000000000000", "outcome": "ran", "wall_time": 1.5,
                   "finished": "2026-01-02T03:04:05+00:00", "device": "cpu", "machine": {"host": "box"}},
                  {"seed": 1, "fingerprint": "010101010101", "outcome": "failed", "wall_time": 0.25,
                   "finished": "", "device": "n/a", "machine": None}]}


def test_a_stale_result_is_listed_with_the_fingerprint_it_was_computed_with(tiny):
    stale = unit(0, Freshness.STALE, ("source b changed",))  # the code's fingerprint is now 0000...
    results = [Result(stale, Outcome.CACHED, record(0, fingerprint="abcdef" * 10))]
    (entry,) = provenance_entries(tiny, section_views(tiny, results), results)
    assert entry["units"][0]["fingerprint"] == "abcdefabcdef"


def test_a_record_that_does_not_name_its_device_shows_n_a(tiny):
    results = [Result(unit(0), Outcome.CACHED, record(0))]
    (entry,) = provenance_entries(tiny, section_views(tiny, results), results)
    assert entry["units"][0]["device"] == "n/a" and entry["ok"]
