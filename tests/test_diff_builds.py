"""--diff on builds written by hand: which numbers count as the same, their order, and which builds are compared."""
import json

import pytest

from report import diff
from report.errors import UsageError
from report.history import Build
from report.paths import OutputPaths


def entry(number_id, path, text, template="sec.qmd.j2", line=1, value=None, kind="num", digits=2):
    return {"id": number_id, "path": path, "template": template, "line": line, "text": text,
            "value": float(text) if value is None else value, "kind": kind, "digits": digits}


def a_build(folder, entries, document="", commit="0ab152df968b527997d391c172feb352c0a5c955", name=None):
    """A build folder: its ledger of ``entries``, a provenance naming ``commit`` and its Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ledger.json").write_text(json.dumps(entries))
    (folder / "provenance.json").write_text(json.dumps({"commit": commit, "profile": "quick"}))
    (folder / "report.qmd").write_text(document)
    return Build(name or folder.name, folder)


def test_numbers_are_matched_by_path_template_and_nth_printing_and_grouped_by_section_in_report_order(tmp_path):
    old = a_build(tmp_path / "old", [
        entry("n1", "beta.x", "1.00", "beta.qmd.j2"), entry("n2", "alpha.x", "2.00", "alpha.qmd.j2"),
        entry("n3", "alpha.x", "3.00", "alpha.qmd.j2"), entry("n4", "alpha.gone", "4.00", "alpha.qmd.j2")])
    new = a_build(tmp_path / "new", [
        entry("n1", "alpha.new", "5.00", "alpha.qmd.j2"), entry("n2", "alpha.x", "2.00", "alpha.qmd.j2", line=9),
        entry("n3", "alpha.x", "3.50", "alpha.qmd.j2", line=9), entry("n4", "beta.x", "1.25", "beta.qmd.j2")])
    result = diff.compare(old, new)
    assert [(c.change, c.shown.section, c.shown.path, c.old_to_new) for c in result.changes] == [
        ("changed", "alpha", "alpha.x", "3.00 -> 3.50"), ("added", "alpha", "alpha.new", "5.00"),
        ("removed", "alpha", "alpha.gone", "4.00"), ("changed", "beta", "beta.x", "1.00 -> 1.25")]
    assert result.compared == 3  # alpha.x twice and beta.x
    assert [c.shown.path for c in diff.compare(old, new, sections=["beta"]).changes] == ["beta.x"]
    assert diff.compare(old, new, sections=["beta"]).compared == 3


def test_a_removed_section_comes_after_the_sections_the_new_build_prints(tmp_path):
    old = a_build(tmp_path / "old", [entry("n1", "gone.x", "1.00", "gone.qmd.j2"), entry("n2", "kept.x", "1.00")])
    new = a_build(tmp_path / "new", [entry("n1", "kept.x", "2.00")])
    assert [c.shown.section for c in diff.compare(old, new).changes] == ["kept", "gone"]


def test_the_appendix_of_every_number_and_the_build_facts_are_left_out(tmp_path):
    numbers = [entry("n1", "sec.x", "1.00", "numbers.qmd.j2"), entry("n2", "provenance.date", "x", value="x"),
               entry("n3", "sec.y", "7.00")]
    printed = diff.printed_numbers(a_build(tmp_path / "b", numbers))
    assert list(printed) == [("sec.y", "sec.qmd.j2", 0)]


def test_a_number_printed_again_by_one_template_is_counted_once_per_printing(tmp_path):
    numbers = [entry(f"n{i}", "sec.x", "1.00") for i in (1, 2, 3)] + [
        entry("n4", "literal:sec.qmd.j2:5", "28", value="28", kind="text")]
    assert list(diff.printed_numbers(a_build(tmp_path / "b", numbers)).items()) == [
        (("sec.x", "sec.qmd.j2", n), diff.Printed("sec", "sec.x", "sec.qmd.j2", 1, "1.00", 1.0, "num", 2, ("", "", "")))
        for n in (0, 1, 2)] + [(("literal:sec.qmd.j2:5", "sec.qmd.j2", 0), diff.Printed(
            "sec", "literal:sec.qmd.j2:5", "sec.qmd.j2", 1, "28", "28", "text", 2, ("", "", "")))]


def test_each_number_carries_where_it_is_printed_and_its_sentence(tmp_path):
    document = 'The loss fell to [0.25]{#n1 .num title="sec.loss"}. Then it rose.\n'
    (number,) = diff.printed_numbers(a_build(tmp_path / "b", [
        entry("n1", "sec.loss", "0.25", line=4, kind="pct", digits=1)], document)).values()
    assert number == diff.Printed("sec", "sec.loss", "sec.qmd.j2", 4, "0.25", 0.25, "pct", 1,
                                  ("The loss fell to ", "0.25", "."))
    assert (number.where, number.sentence) == ("sec.qmd.j2:4", "The loss fell to [0.25].")


def test_a_number_without_a_sentence_shows_none(tmp_path):
    (number,) = diff.printed_numbers(a_build(tmp_path / "b", [entry("n1", "sec.x", "1.00")])).values()
    assert number.context == ("", "", "") and number.sentence == ""


def test_a_build_without_a_readable_ledger_is_refused_with_another_to_name(tmp_path):
    good = a_build(tmp_path / "good", [entry("n1", "sec.x", "1.00")])
    broken = a_build(tmp_path / "broken", [])
    (broken.folder / "ledger.json").write_text("{")
    with pytest.raises(UsageError) as caught:
        diff.compare(broken, good)
    assert caught.value.message.startswith(f"{broken.folder / 'ledger.json'} is missing or not valid JSON (")
    assert caught.value.hint == "name another build to compare with, or build again"


# -- which builds ---------------------------------------------------------------------------
def kept(paths, name, value, commit="0ab152df968b527997d391c172feb352c0a5c955"):
    return a_build(paths.history / name, [entry("n1", "sec.x", value)], commit=commit)


@pytest.fixture
def out(tmp_path, monkeypatch):
    """An output folder whose report is its third kept build, the working directory its parent."""
    monkeypatch.chdir(tmp_path)
    paths = OutputPaths.under(tmp_path / "out")
    kept(paths, "2025-06-01T120000Z-aaaaaaa", "1.00", commit="aaaaaaa1111")
    kept(paths, "2025-06-02T120000Z-bbbbbbb", "2.00", commit="bbbbbbb2222")
    kept(paths, "2025-06-03T120000Z-ccccccc", "3.00", commit="ccccccc3333")
    a_build(paths.root, [entry("n1", "sec.x", "3.00")], commit="ccccccc3333")
    return paths


def test_the_current_report_is_named_as_the_user_would_and_compared_with_the_build_before_it(out):
    old, new = diff.builds_to_compare(out)
    assert (old.name, new.name, new.folder) == ("2025-06-02T120000Z-bbbbbbb", "out", out.root)


def test_a_report_not_yet_kept_is_compared_with_the_newest_kept_build(out):
    (out.root / "ledger.json").write_text(json.dumps([entry("n1", "sec.x", "4.00")]))
    assert diff.builds_to_compare(out)[0].name == "2025-06-03T120000Z-ccccccc"


def test_a_report_outside_the_working_directory_is_named_by_its_whole_path(out, tmp_path, monkeypatch):
    monkeypatch.chdir(out.history)
    assert diff.builds_to_compare(out)[1].name == str(out.root)


@pytest.mark.parametrize("ref,expected", [
    ("2025-06-03T120000Z-ccccccc", "2025-06-03T120000Z-ccccccc"),  # the exact name, even of this report
    ("2025-06-0", "2025-06-02T120000Z-bbbbbbb"),  # the newest other build whose name starts so
    ("aaaa", "2025-06-01T120000Z-aaaaaaa"),  # a commit prefix of four hex digits
])
def test_a_build_is_named_by_its_entry_the_start_of_it_or_a_commit_prefix(out, ref, expected):
    assert diff.builds_to_compare(out, ref)[0].name == expected


def test_a_commit_prefix_names_a_build_other_than_the_report_itself(out):
    with pytest.raises(UsageError):
        diff.builds_to_compare(out, "cccc")
    (out.root / "ledger.json").write_text(json.dumps([entry("n1", "sec.x", "4.00")]))  # the report moved on
    assert diff.builds_to_compare(out, "cccc")[0].name == "2025-06-03T120000Z-ccccccc"


def test_a_commit_prefix_shorter_than_four_digits_or_not_hex_names_nothing(out):
    for ref in ("aaa", "zzzz"):
        with pytest.raises(UsageError):
            diff.builds_to_compare(out, ref)


def test_an_exact_name_wins_over_a_commit_prefix_which_wins_over_the_start_of_a_name(out):
    kept(out, "zz-build", "9.00", commit="2025abcd")
    kept(out, "abcd", "9.50", commit="0000")
    assert diff.builds_to_compare(out, "2025")[0].name == "zz-build"
    assert diff.builds_to_compare(out, "abcd")[0].name == "abcd"
    assert diff.builds_to_compare(out, "202")[0].name == "2025-06-02T120000Z-bbbbbbb"  # too short for a commit


def test_a_folder_holding_a_ledger_is_a_build_by_its_path(out, tmp_path):
    other = a_build(tmp_path / "elsewhere" / "_build", [entry("n1", "sec.x", "8.00")])
    old, _ = diff.builds_to_compare(out, str(other.folder))
    assert (old.name, old.folder) == (str(other.folder), other.folder)


def test_a_kept_build_whose_files_are_gone_is_never_taken_for_the_report(out):
    (out.history / "2025-06-04T120000Z-ddddddd").mkdir()
    assert diff.builds_to_compare(out)[0].name == "2025-06-02T120000Z-bbbbbbb"


def test_an_unknown_reference_names_the_three_latest_builds(out):
    kept(out, "2025-05-01T120000Z-0000000", "0.50")
    with pytest.raises(UsageError) as caught:
        diff.builds_to_compare(out, "nosuch")
    assert caught.value.message == (f"--diff nosuch: no build of that name or commit in {out.history}, "
                                    "and no build folder (with ledger.json) at that path")
    assert caught.value.hint == ("name a kept build (the latest: 2025-06-01T120000Z-aaaaaaa, "
                                 "2025-06-02T120000Z-bbbbbbb, 2025-06-03T120000Z-ccccccc), a commit prefix, "
                                 "or another output folder")


def test_with_no_build_kept_the_hint_says_none_yet_and_no_earlier_build_says_how_to_get_one(tmp_path):
    paths = OutputPaths.under(tmp_path / "out")
    a_build(paths.root, [entry("n1", "sec.x", "1.00")])
    with pytest.raises(UsageError) as caught:
        diff.builds_to_compare(paths, "nosuch")
    assert "(the latest: none yet)" in caught.value.hint
    with pytest.raises(UsageError) as caught:
        diff.builds_to_compare(paths)
    assert caught.value.message == (f"no earlier build of {paths.root} to compare with: {paths.history} "
                                    "holds none before this report")
    assert caught.value.hint == ("build again after a change (each build is kept there), or name a build "
                                 "folder: --diff OTHER_OUT")


def test_without_a_report_there_is_nothing_to_compare(tmp_path):
    paths = OutputPaths.under(tmp_path / "never")
    with pytest.raises(UsageError) as caught:
        diff.builds_to_compare(paths)
    assert (caught.value.message, caught.value.hint) == (
        f"no report in {paths.root} to compare", "build it first with `python build.py`")
