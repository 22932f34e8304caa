"""A unit's plan and its result: what a build left alone shows, and what a refused result keeps."""
from pathlib import Path

import pytest

from report.status import Freshness, Outcome
from report.store import Record
from report.units import Result, Unit

RECORD = Record("counting", 2, "f", {}, {"total": 3}, {}, Path("/store/counting/seed-2.abc"))


def unit(freshness=Freshness.FRESH, stored=RECORD) -> Unit:
    return Unit("counting", 2, "tiny_sections.counting", None, "f", {}, freshness, ("why",), stored)


def test_a_unit_is_labelled_by_section_and_seed():
    assert unit().label == Result(unit(), Outcome.RAN, RECORD).label == "counting[seed=2]"
    assert (Result(unit(), Outcome.RAN, RECORD).section, Result(unit(), Outcome.RAN, RECORD).seed) == ("counting", 2)


def test_a_unit_left_alone_shows_the_stored_result_or_is_not_built():
    assert Result.not_run(unit()) == Result(unit(), Outcome.CACHED, RECORD)
    assert Result.not_run(unit(stored=None)) == Result(unit(stored=None), Outcome.SKIPPED, None)


def test_a_refused_result_shows_nothing_but_keeps_its_time_log_and_whose_fault_it_is():
    ran = Result(unit(), Outcome.RAN, RECORD, wall_time=4.5, user_error=True, log_path=Path("/logs/x.log"))
    assert ran.failed("invariants do not hold: x") == Result(unit(), Outcome.FAILED, None, 4.5,
                                                             "invariants do not hold: x", True, Path("/logs/x.log"))


@pytest.mark.parametrize("outcome,freshness,stale", [
    (Outcome.CACHED, Freshness.STALE, True), (Outcome.CACHED, Freshness.FRESH, False),
    (Outcome.RAN, Freshness.STALE, False), (Outcome.FAILED, Freshness.STALE, False),
])
def test_only_a_stored_result_shown_although_out_of_date_is_marked_stale(outcome, freshness, stale):
    assert Result(unit(freshness), outcome, RECORD).shows_stale is stale
