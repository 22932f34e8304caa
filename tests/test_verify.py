"""``--verify``: a rerun into a scratch store, compared number by number with the store; recorded and shown."""
import importlib
import json

import pytest
from conftest import PROJECT

from report import store as store_module
from report.cli import main
from report.errors import UsageError
from report.pipeline import Options, build, check
from report.verify import verify

MEASURING = '''
import time

from report.section import Tolerance

TOLERANCES = {"mean": Tolerance("the test's declared noise", abs_tol=0.5)}
VOLATILE = {"seconds": "wall time of the count"}
_count = run


def run(config, ctx):
    data = _count(config, ctx)
    return {**data, "mean": data["total"] / len(data["numbers"]), "seconds": time.perf_counter()}
'''


@pytest.fixture
def measuring(tiny):
    """The tiny project whose section also reports a noisy mean and a wall time, and says so."""
    module = tiny.root / "tiny_sections" / "counting.py"
    module.write_text(module.read_text() + MEASURING)
    return tiny


def out_of(project):
    return project.root / "_build"


def options(project, **changes) -> Options:
    return Options(**{"profile": "quick", "out": out_of(project), "to": ["html"], "show_progress": False, **changes})


def verify_cli(project, *args, capsys):
    code = main(project, ["--verify", "--profile", "quick", "--out", str(out_of(project)), "--quiet", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def edit_stored(project, change, section="counting", seed=0):
    """Change a stored record's data and make its checksum match, as a store that accepts it."""
    path = out_of(project) / "results" / "quick" / section / f"seed-{seed}.json"
    raw = json.loads(path.read_text())
    change(raw["data"])
    raw["checksum"] = store_module._checksum(raw)
    path.write_text(json.dumps(raw))


def snapshot(folder) -> dict:
    """Every file under ``folder`` and its bytes, the verification record aside."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "verification.json"}


def row_of(table: str, path: str) -> str:
    (line,) = [line for line in table.splitlines() if line.startswith(path + " ")]
    return line


def test_verify_passes_on_a_fresh_build_and_leaves_the_store_and_the_report_byte_identical(measuring, capsys):
    build(measuring, options(measuring))
    before = snapshot(out_of(measuring))
    code, out, err = verify_cli(measuring, capsys=capsys)
    assert code == 0, err
    assert snapshot(out_of(measuring)) == before
    assert not list(out_of(measuring).glob(".verify-*"))
    assert out.splitlines()[-1] == ("6 numbers compared: 6 equal, 0 within tolerance, 0 beyond; "
                                    "1 volatile (shown, not judged)")
    assert "counting[seed=0]: stored on " in err and f"recorded in {out_of(measuring) / 'verification.json'}" in err


def test_an_edited_stored_number_fails_the_verify_naming_its_path_and_template_line(measuring, capsys):
    build(measuring, options(measuring))
    edit_stored(measuring, lambda data: data.update(total=data["total"] + 1))
    code, out, _ = verify_cli(measuring, capsys=capsys)
    assert code == 1
    assert row_of(out, "counting.total").split() == ["counting.total", "counting.qmd.j2:4", "7", "6", "-1", "exact",
                                                     "beyond"]
    assert out.splitlines()[-1].startswith("6 numbers compared: 5 equal, 0 within tolerance, 1 beyond")


def test_a_change_inside_a_declared_tolerance_passes_and_is_shown_with_its_reason(measuring, capsys):
    build(measuring, options(measuring))
    edit_stored(measuring, lambda data: data.update(mean=data["mean"] + 0.3))
    code, out, _ = verify_cli(measuring, capsys=capsys)
    assert code == 0
    assert row_of(out, "counting.mean").split()[-4:] == ["-0.3", "±0.5", "within", "tolerance"]
    assert ["counting", "mean", "±0.5", "the", "test's", "declared", "noise"] in [line.split() for line in out.splitlines()]
    assert "1 within tolerance, 0 beyond" in out


def test_volatile_values_are_shown_and_never_judged(measuring, capsys):
    build(measuring, options(measuring))
    edit_stored(measuring, lambda data: data.update(seconds=-1e9))
    code, out, _ = verify_cli(measuring, capsys=capsys)
    assert code == 0
    assert row_of(out, "counting.seconds").split()[-2:] == ["volatile", "volatile"]
    assert any(line.split()[:3] == ["counting", "seconds", "volatile"] for line in out.splitlines())


def test_nothing_stored_to_compare_with_is_refused_with_how_to_build_it(tiny, capsys):
    code, _, err = verify_cli(tiny, "--set", "counting.upto=4", capsys=capsys)
    assert code == 2
    assert err.startswith("error: nothing stored to verify for counting[seed=0] (no stored result)")
    assert "hint: build it first with `python build.py --set counting.upto=4 --profile quick`, then verify" in err
    assert not out_of(tiny).exists()  # a folder never built is not created to say so


def test_a_rerun_that_fails_fails_the_verify_with_its_log_and_records_nothing(tiny, capsys, monkeypatch):
    build(tiny, options(tiny))
    before = snapshot(out_of(tiny) / "results")
    monkeypatch.setattr(importlib.import_module("tiny_sections.counting"), "run", lambda config, ctx: 1 / 0)
    code, _, err = verify_cli(tiny, capsys=capsys)
    log = out_of(tiny) / "logs" / "verify" / "counting-seed-0.log"
    assert code == 1 and f"FAILED counting[seed=0]: ZeroDivisionError: division by zero (log: {log})" in err
    assert "ZeroDivisionError" in log.read_text()
    assert snapshot(out_of(tiny) / "results") == before and not (out_of(tiny) / "verification.json").exists()


def test_a_stale_result_is_rerun_with_the_current_settings_and_a_note_saying_so(tiny, capsys):
    build(tiny, options(tiny))
    code, out, err = verify_cli(tiny, "--set", "counting.upto=4", "counting", capsys=capsys)
    assert "counting[seed=0] is stale (config upto: 3 -> 4): the rerun uses the current code and settings" in err
    assert code == 1 and row_of(out, "counting.total").split()[2:4] == ["6", "10"]


def test_a_scratch_store_left_by_a_killed_verify_is_swept(tiny, capsys):
    build(tiny, options(tiny))
    left = out_of(tiny) / ".verify-killed" / "results"
    left.mkdir(parents=True)
    assert verify_cli(tiny, capsys=capsys)[0] == 0
    assert not list(out_of(tiny).glob(".verify-*"))


def test_the_next_build_shows_the_verification_until_the_results_change(measuring, capsys, caplog):
    build(measuring, options(measuring))
    provenance = out_of(measuring) / "provenance.json"
    assert json.loads(provenance.read_text())["verification"] == {"recorded": False}
    verify_cli(measuring, capsys=capsys)
    caplog.set_level("INFO", logger="report")
    build(measuring, options(measuring))
    assert "the report is up to date" not in caplog.messages  # the verification is news to the report
    note = json.loads(provenance.read_text())["verification"]
    assert (note["recorded"], note["compared"], note["equal"], note["volatile"], note["changed"]) == (
        True, 6, 6, 1, "")
    assert [row["result"] for row in note["differed"]] == ["counting.seconds"]
    build(measuring, options(measuring, force=True))  # a new result: another wall time
    assert json.loads(provenance.read_text())["verification"]["changed"] == "counting[seed=0]"


def test_several_seeds_are_rerun_in_a_process_pool_and_compared_seed_by_seed(tiny):
    seeds = options(tiny, sets=["counting.seeds=[1,2]"], jobs=2)
    build(tiny, seeds)
    verified = verify(tiny, seeds)
    assert verified.passed and not verified.failed
    assert {row.path.partition(".")[0] for row in verified.rows} >= {"counting", "counting@2"}


def test_a_verify_on_a_dask_cluster_goes_to_its_scheduler(tiny, monkeypatch):
    build(tiny, options(tiny))
    def unreachable(address, timeout):
        raise OSError(f"no answer from {address}")
    monkeypatch.setattr("distributed.Client", unreachable)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://h:1"):
        verify(tiny, options(tiny, scheduler="tcp://h:1"))


def test_the_report_appendix_shows_the_verification_and_what_differed_and_check_still_passes(tmp_path, capsys):
    toy = Options(sections=["toy_mlp"], profile="quick", out=tmp_path / "out", to=["html"], show_progress=False)
    build(PROJECT, toy)
    edit_stored_in = tmp_path / "out" / "results" / "quick" / "toy_mlp" / "seed-0.json"
    raw = json.loads(edit_stored_in.read_text())
    raw["data"]["trained"]["hidden_activations"][0][0] += 1.0  # no invariant reads it
    raw["checksum"] = store_module._checksum(raw)
    edit_stored_in.write_text(json.dumps(raw))
    assert main(PROJECT, ["--verify", "toy_mlp", "--profile", "quick", "--out", str(tmp_path / "out"), "--quiet"]) == 1
    build(PROJECT, toy)
    document = (tmp_path / "out" / "report.qmd").read_text()
    appendix = document[document.index("## Verification"):]
    assert "`python build.py --verify` reran [toy\\_mlp\\[seed=0\\]]" in appendix
    assert 'title="provenance.verification.beyond"}' in appendix
    assert "[toy\\_mlp.trained.hidden\\_activations\\[0\\]\\[0\\]]" in appendix and "[beyond]" in appendix
    assert "Out of date" not in appendix
    assert [p for p in check(PROJECT, toy) if "verification" in p] == []


@pytest.mark.parametrize("record", ["{", "[]", '{"schema": 1}', "another profile"])
def test_a_damaged_verification_record_or_one_of_another_profile_is_left_out_of_the_report(tiny, capsys, record):
    build(tiny, options(tiny))
    path = out_of(tiny) / "verification.json"
    if record == "another profile":
        verify_cli(tiny, capsys=capsys)
        path.write_text(path.read_text().replace('"profile": "quick"', '"profile": "full"'))
    else:
        path.write_text(record)
    build(tiny, options(tiny))
    assert json.loads((out_of(tiny) / "provenance.json").read_text())["verification"] == {"recorded": False}


def test_where_a_result_was_computed_is_told_from_its_machine_facts_or_its_worker():
    from types import SimpleNamespace

    from report.verification import stored_on

    facts = {"host": "lab-7", "cpu": "AMD EPYC", "cores": 2, "threads": {"torch": 2}}
    assert stored_on(SimpleNamespace(meta={"machine": facts, "worker": "other:12"})) == (
        "lab-7: AMD EPYC, 2 logical cores, 2 threads (torch)")
    assert stored_on(SimpleNamespace(meta={"worker": "node3:4411"})) == "node3"
    assert stored_on(SimpleNamespace(meta={})) == "an unrecorded machine"


def test_the_outcome_says_where_each_result_was_stored_and_rerun_and_records_the_verification(tiny):
    from report import machine
    build(tiny, options(tiny))
    path = out_of(tiny) / "results" / "quick" / "counting" / "seed-0.json"
    meta = json.loads(path.read_text())["meta"]
    outcome = verify(tiny, options(tiny))
    here = machine.one_line(meta["machine"])
    assert outcome.notes == [f"counting[seed=0]: stored on {here} ({meta['finished']}), rerun on {here}"]
    assert outcome.passed and outcome.failed == [] and outcome.recorded == out_of(tiny) / "verification.json"
    assert json.loads(outcome.recorded.read_text())["profile"] == "quick"


def test_a_stale_note_says_the_rerun_may_differ_for_that_reason(tiny):
    build(tiny, options(tiny))
    outcome = verify(tiny, options(tiny, sets=["counting.upto=4"]))
    assert outcome.notes[-1] == ("counting[seed=0] is stale (config upto: 3 -> 4): the rerun uses the current code "
                                 "and settings, so its numbers may differ for that reason")
    assert not outcome.passed


def test_a_result_stored_without_its_date_is_said_to_have_an_unrecorded_one(tiny):
    build(tiny, options(tiny))
    path = out_of(tiny) / "results" / "quick" / "counting" / "seed-0.json"
    raw = json.loads(path.read_text())
    del raw["meta"]["finished"]
    raw["checksum"] = store_module._checksum(raw)
    path.write_text(json.dumps(raw))
    (note,) = verify(tiny, options(tiny)).notes
    assert "(an unrecorded date), rerun on " in note
