"""The phases of one build, run in this process: invariants are enforced by the build and by --check."""
import copy
import dataclasses
import json

import pytest

import experiments.toy_mlp
from conftest import PROJECT
from report import store as store_module
from report.pipeline import Options, build, check
from report.status import Outcome


def options(out, **changes) -> Options:
    return Options(**{"sections": ["toy_mlp"], "profile": "quick", "out": out, "to": ["html"],
                      "show_progress": False, **changes})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline") / "_build"
    summary = build(PROJECT, options(out))
    assert [u.outcome for u in summary.results if u.section == "toy_mlp"] == [Outcome.RAN]
    return out


def record_file(out):
    return out / "results" / "quick" / "toy_mlp" / "seed-0.json"


def flip_first_activation(data: dict) -> dict:
    """The same result with one cell of the step network's activation table flipped."""
    changed = copy.deepcopy(data)
    row = changed["step"]["activations"][0]
    row["h1"] = 1.0 - row["h1"]
    return changed


def test_check_passes_on_a_fresh_build(built):
    assert check(PROJECT, options(built)) == []


def test_check_fails_on_a_stored_result_that_breaks_an_invariant_even_with_a_valid_checksum(built):
    path = record_file(built)
    original = path.read_text()
    raw = json.loads(original)
    raw["data"] = flip_first_activation(raw["data"])
    raw["checksum"] = store_module._checksum(raw)
    path.write_text(json.dumps(raw))
    try:
        problems = check(PROJECT, options(built))
    finally:
        path.write_text(original)
    assert "toy_mlp[seed=0]: the step network's activation table differs from its activations" in problems
    assert not any("checksum" in p for p in problems)


def test_a_run_that_returns_inconsistent_data_is_marked_failed_and_not_shown(built, monkeypatch):
    stored = json.loads(record_file(built).read_text())["data"]
    monkeypatch.setattr(experiments.toy_mlp, "run", lambda config, ctx: flip_first_activation(stored))
    summary = build(PROJECT, options(built, force=True))
    (unit,) = summary.failed
    assert unit.section == "toy_mlp" and unit.record is None
    assert unit.error.startswith("invariants do not hold: the step network's activation table")
    html = (built / "report.html").read_text()
    assert "This section is missing from the report" in html and "invariants do not hold" in html


def test_a_result_that_breaks_its_invariants_is_never_stored_and_the_next_build_reruns_it(tmp_path, monkeypatch):
    out = tmp_path / "_build"
    build(PROJECT, options(out))
    good = json.loads(record_file(out).read_text())
    monkeypatch.setattr(experiments.toy_mlp, "run", lambda config, ctx: flip_first_activation(good["data"]))
    (failed,) = build(PROJECT, options(out, force=True)).failed
    assert json.loads(record_file(out).read_text()) == good  # the last good result stays
    assert "The result was not stored" in failed.log_path.read_text()
    monkeypatch.undo()
    rerun = build(PROJECT, options(out)).results
    assert [r.outcome for r in rerun if r.section == "toy_mlp"] == [Outcome.RAN]


BROKEN_SECTION = '''
from dataclasses import dataclass

TITLE = "A broken section"
QUICK = {}


@dataclass(frozen=True)
class Config:
    seed: int = 0


def run(config, ctx):
    raise RuntimeError("the experiment's run crashed -- on purpose...")


def invariants(data):
    return []
'''


def test_a_failing_section_does_not_take_the_others_down(tmp_path, monkeypatch):
    (tmp_path / "broken_section.py").write_text(BROKEN_SECTION)
    monkeypatch.syspath_prepend(str(tmp_path))
    project = dataclasses.replace(PROJECT, sections={"broken": "broken_section", **PROJECT.sections})
    out = tmp_path / "_build"
    summary = build(project, options(out, sections=["broken", "toy_mlp"]))
    outcomes = {r.section: r.outcome for r in summary.results}
    assert outcomes["broken"] is Outcome.FAILED and outcomes["toy_mlp"] is Outcome.RAN
    html = (out / "report.html").read_text()
    assert "This section is missing from the report" in html and "crashed" in html
    assert "broken-seed-0.log" in html and "A trained sigmoid network" in html
    assert "RuntimeError" in (out / "logs" / "broken-seed-0.log").read_text()
    assert check(project, options(out)) == []  # the placeholder's typeset prose still matches its source
