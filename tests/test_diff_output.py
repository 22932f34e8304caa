"""--diff output: the terminal listing and the pull-request table, written out whole for a known diff."""
import json

import pytest

from report import diff
from report.history import Build


def a_build(tmp_path, name, **provenance):
    """A build folder holding only its provenance (all the labels read)."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "provenance.json").write_text(json.dumps(provenance))
    return Build(name, folder)


def printed(section, path, text, value, kind="num", digits=2, context=None, line=3):
    return diff.Printed(section, path, f"{section}.qmd.j2", line, text, value, kind, digits,
                        context or ("", "", ""))


@pytest.fixture
def builds(tmp_path):
    old = a_build(tmp_path, "2025-06-01T120000Z-0ab152d", commit="0ab152df968b527997d391c172feb352c0a5c955",
                  date="2025-06-01", profile="quick")
    new = a_build(tmp_path, "2025-06-02T090000Z-1234567", commit="1234567890abcdef", dirty=True,
                  date="2025-06-02", profile="full")
    return old, new


@pytest.fixture
def mixed(builds):
    """Two sections: kmnist with one changed and one added number, dynamics with one changed and one removed."""
    old, new = builds
    accuracy = ("The accuracy is ", "0.89", ", up from before.")
    changes = [
        diff.Change("changed", printed("kmnist", "kmnist.acc", "0.88", 0.88),
                    printed("kmnist", "kmnist.acc", "0.89", 0.89, context=accuracy)),
        diff.Change("added", None, printed("kmnist", "kmnist.loss", "0.31", 0.31, line=7)),
        diff.Change("changed", printed("dynamics", "dynamics.mode", "a|b", "a|b", kind="text"),
                    printed("dynamics", "dynamics.mode", "c*d", "c*d", kind="text")),
        diff.Change("removed", printed("dynamics", "dynamics.steps", "12", 12, kind="int",
                                       context=("Took ", "12", " steps.")), None),
    ]
    return diff.Diff(old, new, changes, compared=5)


def test_the_summary_counts_changed_of_compared_then_added_and_removed(mixed):
    assert mixed.summary() == "2 of 5 printed numbers changed, 1 added, 1 removed"


def test_the_terminal_listing_groups_by_section_with_each_sentence_below_its_number(mixed):
    assert diff.as_text(mixed).splitlines() == [
        "--diff: 2025-06-02T090000Z-1234567 (commit 1234567-dirty, 2025-06-02, full profile)",
        "   against 2025-06-01T120000Z-0ab152d (commit 0ab152d, 2025-06-01, quick profile)",
        "",
        "kmnist: 1 changed, 1 added",
        "  changed  kmnist.qmd.j2:3  kmnist.acc  0.88 -> 0.89  (+0.01)",
        "           The accuracy is [0.89], up from before.",
        "  added    kmnist.qmd.j2:7  kmnist.loss  0.31",
        "           ",
        "",
        "dynamics: 1 changed, 1 removed",
        "  changed  dynamics.qmd.j2:3  dynamics.mode  a|b -> c*d",
        "           ",
        "  removed  dynamics.qmd.j2:3  dynamics.steps  12",
        "           Took [12] steps.",
        "",
        "2 of 5 printed numbers changed, 1 added, 1 removed",
    ]


def test_when_nothing_changed_the_listing_says_so_with_the_counts(builds):
    old, new = builds
    assert diff.as_text(diff.Diff(old, new, [], compared=4)).splitlines()[-2:] == [
        "", "no printed number changed (0 of 4 printed numbers changed, 0 added, 0 removed)"]


def test_a_build_without_commit_date_or_profile_shows_question_marks_and_an_unreadable_one_its_name(tmp_path):
    bare = a_build(tmp_path, "bare")
    assert diff.as_text(diff.Diff(bare, Build("gone", tmp_path / "gone"), [], compared=0)).splitlines()[:2] == [
        "--diff: gone", "   against bare (commit ?, ?, ? profile)"]


def test_the_pull_request_table_has_a_row_per_change_with_markdown_escaped(mixed):
    assert diff.as_markdown(mixed) == (
        "**2 of 5 printed numbers changed, 1 added, 1 removed**: `2025-06-02T090000Z-1234567` "
        "against `2025-06-01T120000Z-0ab152d`\n"
        "\n"
        "| section | change | printed | template | result path | old | new | difference |\n"
        "|:--|:--|:--|:--|:--|--:|--:|--:|\n"
        "| kmnist | changed | The accuracy is **0.89**, up from before. | `kmnist.qmd.j2:3` | `kmnist.acc` "
        "| 0.88 | 0.89 | +0.01 |\n"
        "| kmnist | added |  | `kmnist.qmd.j2:7` | `kmnist.loss` |  | 0.31 |  |\n"
        "| dynamics | changed |  | `dynamics.qmd.j2:3` | `dynamics.mode` | a\\|b | c\\*d |  |\n"
        "| dynamics | removed | Took **12** steps. | `dynamics.qmd.j2:3` | `dynamics.steps` | 12 |  |  |\n")


def test_the_pull_request_comment_for_no_change_is_one_sentence(builds):
    old, new = builds
    assert diff.as_markdown(diff.Diff(old, new, [], compared=4)) == (
        "**0 of 4 printed numbers changed, 0 added, 0 removed**: `2025-06-02T090000Z-1234567` "
        "against `2025-06-01T120000Z-0ab152d`\n\nNo printed number changed.\n")


def test_every_character_markdown_reads_is_escaped_in_a_cell_and_only_the_pipe_in_code(builds):
    text = "a\\b|c*d_e`f[g]h<i>j eXtra"
    change = diff.Change("added", None, diff.Printed("s", "s.x|y_z", "s.qmd.j2", 1, text, text, "text", None,
                                                      ("", "", "")))
    row = diff.as_markdown(diff.Diff(*builds, [change], compared=0)).splitlines()[-1]
    assert row == "| s | added |  | `s.qmd.j2:1` | `s.x\\|y_z` |  | a\\\\b\\|c\\*d\\_e\\`f\\[g\\]h\\<i\\>j eXtra |  |"


def number(i, text):
    return f'[{text}]{{#n{i} .num title="s.x"}}'


def test_each_number_shows_its_own_sentence_as_plain_text():
    document = ("Intro line. The value is " + number(1, "5") + " here. Two.\n"
                + number(2, "7") + " starts this one.\n"
                "A wrapped\nline holds " + number(3, "1\\_000") + " and {.smallcaps}**bold**  words\n\n"
                "No period before " + number(4, "9") + "\n\n"
                "| a | " + number(5, "3") + " |\n"
                "|X|" + number(6, "4") + "|Y|\n"
                "Last\nparagraph " + number(7, "8") + ".")
    assert diff.sentences(document) == {
        "n1": ("The value is ", "5", " here."), "n2": ("", "7", " starts this one."),
        "n3": ("A wrapped line holds ", "1_000", " and bold words"), "n4": ("No period before ", "9", ""),
        "n5": ("a | ", "3", ""), "n6": ("X|", "4", "|Y"), "n7": ("Last paragraph ", "8", ".")}


def test_a_full_stop_opening_a_block_ends_a_sentence_before_it_even_an_empty_one():
    assert diff.sentences(". Then " + number(1, "5") + " more.")["n1"] == ("Then ", "5", " more.")
    assert diff.sentences(number(1, "") + ". Next one.")["n1"] == ("", "", ".")


def test_a_long_sentence_is_cut_at_whole_words_to_about_eighty_characters():
    words = " ".join(f"w{i:02}" for i in range(40)) + " " + number(1, "0.123") + " " + " ".join(
        f"v{i:02}" for i in range(40)) + ". End."
    assert diff.sentences(words)["n1"] == ("...w31 w32 w33 w34 w35 w36 w37 w38 w39 ", "0.123",
                                           " v00 v01 v02 v03 v04 v05 v06 v07 v08...")


@pytest.mark.parametrize("extra,cut", [(0, False), (1, True)])
def test_a_sentence_is_cut_only_when_it_is_longer_than_its_room(extra, cut):
    room = (diff.WIDTH - len("0.123")) // 2  # characters on each side
    left = "a " * ((room + extra) // 2) + "b" * ((room + extra) % 2)
    right = " c" * ((room - 1 + extra) // 2) + " " * ((room - 1 + extra) % 2) + "."
    assert len(left) == len(right) == room + extra
    before, _, after = diff.sentences(left + number(1, "0.123") + right + " Next.")["n1"]
    assert before.startswith("...") is cut and after.endswith("...") is cut
    if not cut:
        assert (before, after) == (left, right.rstrip())
