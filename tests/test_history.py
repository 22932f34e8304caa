"""The build history: each rendered report's ledger and provenance, the last 50 kept, for --diff."""
import gzip
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from report import history
from report.paths import OutputPaths
from report.pipeline import Options, build

START = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def a_report(folder, commit="0ab152df968b527997d391c172feb352c0a5c955"):
    """An output folder holding a report's ledger, provenance and text."""
    paths = OutputPaths.under(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths.ledger.write_text(json.dumps([{"id": "n1", "path": "s.x", "text": "1"}]))
    paths.provenance.write_text(json.dumps({"commit": commit, "profile": "quick"}))
    paths.document.write_text("The number is [1]{#n1 .num title=\"s.x\"}.\n")
    return paths


def test_each_kept_build_holds_its_ledger_provenance_and_text_named_by_time_and_commit(tmp_path):
    paths = a_report(tmp_path / "out")
    entry = history.keep(paths, now=START)
    assert entry.name == "2025-06-01T120000Z-0ab152d"
    assert sorted(p.name for p in entry.iterdir()) == ["ledger.json", "provenance.json", "report.qmd.gz"]
    assert (entry / "ledger.json").read_bytes() == paths.ledger.read_bytes()
    assert gzip.decompress((entry / "report.qmd.gz").read_bytes()) == paths.document.read_bytes()
    assert history.builds(paths.history)[0].document() == paths.document.read_text()


def test_at_most_fifty_builds_are_kept_the_newest(tmp_path):
    paths = a_report(tmp_path / "out")
    for minute in range(history.KEEP + 5):
        history.keep(paths, now=START + timedelta(minutes=minute))
    kept = history.builds(paths.history)
    assert history.KEEP == 50 and len(kept) == 50
    assert kept[0].name == "2025-06-01T120500Z-0ab152d" and kept[-1].name == "2025-06-01T125400Z-0ab152d"


def test_builds_within_one_second_keep_their_order_and_a_checkout_without_commits_is_named_so(tmp_path):
    paths = a_report(tmp_path / "out", commit="not a git checkout with commits")
    names = [history.keep(paths, now=START).name for _ in range(3)]
    assert names == ["2025-06-01T120000Z-nocommit", "2025-06-01T120000Z-nocommit-2",
                     "2025-06-01T120000Z-nocommit-3"]
    assert [b.name for b in history.builds(paths.history)] == names


def test_a_staging_folder_left_by_a_killed_build_is_swept_and_never_listed(tmp_path):
    paths = a_report(tmp_path / "out")
    leftover = paths.history / ".staging-killed"
    leftover.mkdir(parents=True)
    assert history.builds(paths.history) == []
    history.keep(paths, now=START)
    assert not leftover.exists() and len(history.builds(paths.history)) == 1


def test_a_build_that_renders_keeps_itself_and_a_build_that_changes_nothing_does_not(tiny):
    options = Options(profile="quick", out=tiny.root / "_build", to=["md"], show_progress=False)
    paths = OutputPaths.under(options.out)
    build(tiny, options)
    build(tiny, options)  # the report is up to date: nothing new to keep
    (entry,) = history.builds(paths.history)
    assert entry.same_report_as(history.Build("current", paths.root))


def test_a_history_that_cannot_be_written_costs_the_report_nothing(tiny, caplog):
    options = Options(profile="quick", out=tiny.root / "_build", to=["md"], show_progress=False)
    (tiny.root / "_build").mkdir()
    (tiny.root / "_build" / "history").write_text("a file where the history folder goes")
    build(tiny, options)
    assert (tiny.root / "_build" / "report.md").exists()
    assert any("could not keep this build" in message for message in caplog.messages)


def test_the_commit_of_a_build_is_empty_when_its_provenance_names_none_or_cannot_be_read(tmp_path):
    paths = a_report(tmp_path / "out")
    assert history.commit_of(history.Build("out", paths.root)) == "0ab152df968b527997d391c172feb352c0a5c955"
    paths.provenance.write_text(json.dumps({"profile": "quick"}))
    assert history.commit_of(history.Build("out", paths.root)) == ""
    paths.provenance.write_text("{")
    assert history.commit_of(history.Build("out", paths.root)) == ""


def test_an_unreadable_ledger_or_provenance_is_named_with_its_path(tmp_path):
    paths = a_report(tmp_path / "out")
    paths.ledger.write_text("[")
    paths.provenance.unlink()
    current = history.Build("out", paths.root)
    for read, path in ((current.ledger, paths.ledger), (current.provenance, paths.provenance)):
        with pytest.raises(history.UnreadableBuild, match=rf"^{re.escape(str(path))} is missing or not valid JSON \("):
            read()


def test_a_build_reads_its_plain_text_first_then_the_compressed_one_and_else_has_none(tmp_path):
    paths = a_report(tmp_path / "out")
    entry = history.Build("kept", history.keep(paths, now=START))
    (entry.folder / "report.qmd").write_text("plain")
    assert entry.document() == "plain"
    (entry.folder / "report.qmd").unlink()
    assert entry.document() == paths.document.read_text()
    (entry.folder / "report.qmd.gz").unlink()
    assert entry.document() == ""


def test_a_report_without_its_text_is_kept_without_it_and_two_copies_of_a_text_are_byte_identical(tmp_path):
    paths = a_report(tmp_path / "out")
    first = history.keep(paths, now=START)
    second = history.keep(paths, now=START + timedelta(minutes=1))
    assert (first / "report.qmd.gz").read_bytes() == (second / "report.qmd.gz").read_bytes()
    assert (first / "report.qmd.gz").read_bytes()[4:8] == bytes(4)  # gzip's time field: none, so the bytes repeat
    paths.document.unlink()
    third = history.keep(paths, now=START + timedelta(minutes=2))
    assert sorted(p.name for p in third.iterdir()) == ["ledger.json", "provenance.json"]


def test_an_entry_is_named_by_the_time_in_utc_and_only_a_full_commit_hash(tmp_path):
    paths = a_report(tmp_path / "out", commit="0ab152d")
    later = datetime(2025, 6, 1, 14, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert history.keep(paths, now=later).name == "2025-06-01T120005Z-0ab152d"
    paths = a_report(tmp_path / "short", commit="0ab152")
    assert history.keep(paths, now=START).name == "2025-06-01T120000Z-nocommit"
    paths = a_report(tmp_path / "none", commit="")
    assert history.keep(paths, now=START).name == "2025-06-01T120000Z-nocommit"
    paths.provenance.write_text(json.dumps({"profile": "quick"}))  # a provenance of before commits were recorded
    assert history.keep(paths, now=START).name == "2025-06-01T120000Z-nocommit-2"


def test_only_folders_not_starting_with_a_dot_are_builds_and_a_missing_history_holds_none(tmp_path):
    assert history.builds(tmp_path / "nowhere") == []
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "c.txt").write_text("")
    assert history.builds(tmp_path) == [history.Build("a", tmp_path / "a"), history.Build("b", tmp_path / "b")]


def test_pruning_keeps_exactly_the_newest_entries_asked_for(tmp_path):
    for name in ("1", "2", "3"):
        (tmp_path / name).mkdir()
    history.prune(tmp_path, keep_last=2)
    assert [b.name for b in history.builds(tmp_path)] == ["2", "3"]


def test_two_builds_are_the_same_report_only_when_ledger_and_provenance_both_match(tmp_path):
    one, two = a_report(tmp_path / "one"), a_report(tmp_path / "two")
    build_one, build_two = history.Build("1", one.root), history.Build("2", two.root)
    assert build_one.same_report_as(build_two)
    two.provenance.write_text(json.dumps({"commit": "other", "profile": "quick"}))
    assert not build_one.same_report_as(build_two)
    two.provenance.write_bytes(one.provenance.read_bytes())
    two.ledger.write_text("[]")
    assert not build_one.same_report_as(build_two)
