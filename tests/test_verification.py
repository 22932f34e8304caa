"""The record of the last --verify and the note the report's appendix prints from it."""
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from report import machine, verification
from report.compare import Row, Verdict
from report.section import Tolerance
from report.store import Record

EXACT = Tolerance("exact")


def a_record(section="sec", seed=0, fingerprint="fp", data=None):
    return Record(section, seed, fingerprint, {}, data or {"acc": 0.5}, {"worker": "lab-7:4411"}, Path("."))


def a_row(path, verdict, stored=1.0, rerun=1.0):
    return Row(path, "sec.qmd.j2:3", stored, rerun, EXACT, "", verdict)


def shown(*records):
    """The results a build shows, as the note reads them: a label and the record it shows."""
    return [SimpleNamespace(label=f"{r.section}[seed={r.seed}]", record=r) for r in records]


def recorded(tmp_path, rows, records, profile="quick", git=("0ab152df968b527997d391c172feb352c0a5c955", True)):
    """A verification of ``records`` written where a build reads it; its path."""
    units = [SimpleNamespace(label=f"{r.section}[seed={r.seed}]", stored=r) for r in records]
    path = tmp_path / "verification.json"
    verification.write(path, verification.record(rows, units, profile, git))
    return path


def test_a_verification_records_where_when_and_what_it_covered_and_only_the_rows_that_differed():
    rows = [a_row("sec.a", Verdict.EQUAL), a_row("sec.b", Verdict.BEYOND, rerun=2.0),
            a_row("sec.c", Verdict.VOLATILE, rerun=3.0)]
    first, second = a_record(seed=0), a_record(seed=1, data={"acc": 0.7})
    units = [SimpleNamespace(label="sec[seed=0]", stored=first), SimpleNamespace(label="sec[seed=1]", stored=second)]
    made = verification.record(rows, units, "quick", ("abc123", False))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", made.pop("date"))
    assert made == {
        "schema": 1, "machine": machine.host(), "commit": "abc123", "dirty": False, "profile": "quick",
        "units": {"sec[seed=0]": {"digest": verification.digest(first), "stored_on": "lab-7"},
                  "sec[seed=1]": {"digest": verification.digest(second), "stored_on": "lab-7"}},
        "counts": {"beyond": 1, "within": 0, "volatile": 1, "equal": 1},
        "summary": "2 numbers compared: 1 equal, 0 within tolerance, 1 beyond; 1 volatile (shown, not judged)",
        "differed": [rows[1].cells(), rows[2].cells()]}


def test_a_digest_changes_with_the_fingerprint_or_the_data_but_not_with_key_order():
    base = verification.digest(a_record(data={"a": 1, "b": 2}))
    assert verification.digest(a_record(data={"b": 2, "a": 1})) == base
    assert verification.digest(a_record(data={"a": 1, "b": 3})) != base
    assert verification.digest(a_record(fingerprint="other", data={"a": 1, "b": 2})) != base


def test_a_written_verification_reads_back_whole(tmp_path):
    path = recorded(tmp_path, [a_row("sec.a", Verdict.EQUAL)], [a_record()])
    found = verification.read(path)
    assert path.read_text() == json.dumps(found, indent=1)
    assert found["units"] == {"sec[seed=0]": {"digest": verification.digest(a_record()), "stored_on": "lab-7"}}


@pytest.mark.parametrize("text", [None, "{", "[]", '{"schema": 2}'], ids=["missing", "not-json", "a-list", "schema-2"])
def test_no_damaged_or_older_verification_is_read(tmp_path, text):
    path = tmp_path / "verification.json"
    if text is not None:
        path.write_text(text)
    assert verification.read(path) is None


@pytest.mark.parametrize("field", sorted(verification.FIELDS))
def test_a_verification_missing_any_field_is_not_read(tmp_path, field):
    path = recorded(tmp_path, [], [a_record()])
    found = json.loads(path.read_text())
    del found[field]
    path.write_text(json.dumps(found))
    assert verification.read(path) is None


def test_the_note_tells_when_where_what_it_covered_and_what_changed_since(tmp_path):
    kept, changed, gone = a_record(seed=0), a_record(seed=1), a_record(seed=2)
    rows = [a_row("sec.eq", Verdict.EQUAL), a_row("sec.vol", Verdict.VOLATILE, rerun=2.0),
            a_row("sec.far", Verdict.BEYOND, rerun=3.0)]
    path = recorded(tmp_path, rows, [kept, changed, gone])
    new = a_record(seed=3)
    results = [*shown(kept, a_record(seed=1, data={"acc": 0.6}), new),
               SimpleNamespace(label="sec[seed=4]", record=None)]
    note = verification.note(path, results, "quick")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", note.pop("date"))
    assert note == {
        "recorded": True, "host": machine.host()["host"], "platform": machine.host()["platform"],
        "commit": "0ab152df968b", "dirty": True, "covered": "sec[seed=0], sec[seed=1], sec[seed=2]",
        "beyond": 1, "within": 0, "volatile": 1, "equal": 1, "compared": 2,
        "differed": [rows[1].cells(), rows[2].cells()], "more": 0,
        "changed": "sec[seed=1], sec[seed=2]", "unverified": "sec[seed=3]"}


@pytest.mark.parametrize("differing,listed,more", [(19, 19, 0), (20, 20, 0), (21, 20, 1)])
def test_the_note_lists_the_first_twenty_differences_and_counts_the_rest(tmp_path, differing, listed, more):
    rows = [a_row(f"sec.x{i:02}", Verdict.BEYOND, rerun=2.0) for i in range(differing)]
    note = verification.note(recorded(tmp_path, rows, [a_record()]), shown(a_record()), "quick")
    assert [row["result"] for row in note["differed"]] == [f"sec.x{i:02}" for i in range(listed)]
    assert note["more"] == more and note["compared"] == differing


def test_no_verification_or_one_of_another_profile_notes_nothing(tmp_path):
    assert verification.note(tmp_path / "none.json", shown(a_record()), "quick") == {"recorded": False}
    path = recorded(tmp_path, [], [a_record()], profile="full")
    assert verification.note(path, shown(a_record()), "quick") == {"recorded": False}
    assert verification.note(path, shown(a_record()), "full")["changed"] == ""
