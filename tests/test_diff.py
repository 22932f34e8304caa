"""--diff: the printed numbers that changed between two builds, each with its sentence and source."""
import json

import pytest
from markdown_it import MarkdownIt

from report import diff, history
from report.cli import main
from report.paths import OutputPaths
from report.pipeline import Options, build

# The tiny project's section, printing the total, which moves with --set counting.upto, and
# the first number, which does not.
COUNTING = """\
# Counting {#sec-counting}

The numbers start at {{ r.counting.numbers[0] | int }}. Together they add up to {{ r.counting.total | int }},
which is the whole point.
"""


@pytest.fixture
def counted(tiny):
    """The tiny project built twice: counting to 3, then to 4."""
    (tiny.templates / "counting.qmd.j2").write_text(COUNTING)
    for upto in (3, 4):
        build(tiny, Options(profile="quick", out=tiny.root / "_build", to=["md"], show_progress=False,
                            sets=[f"counting.upto={upto}"]))
    return tiny


def out_of(project):
    return OutputPaths.under(project.root / "_build")


def diff_command(project, *args):
    return main(project, ["--diff", *args, "--out", str(project.root / "_build")])


def tree(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_a_diff_after_a_set_change_lists_exactly_the_number_that_moved(counted, capsys):
    before = tree(counted.root / "_build")
    assert diff_command(counted) == 0
    out = capsys.readouterr().out
    assert tree(counted.root / "_build") == before  # read-only
    changed = [line for line in out.splitlines() if line.startswith("  changed")]
    assert changed == ["  changed  counting.qmd.j2:3  counting.total  6 -> 10  (+4)"]
    assert "           Together they add up to [10], which is the whole point." in out
    assert out.splitlines()[3] == "counting: 1 changed"
    assert out.rstrip().endswith("1 of 2 printed numbers changed, 0 added, 0 removed")


def test_the_markdown_form_is_one_table_with_a_row_per_change(counted, capsys):
    assert diff_command(counted, "--format", "md") == 0
    text = capsys.readouterr().out
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    kinds = [t.type for t in tokens]
    assert kinds.count("table_open") == 1 and kinds.count("tr_open") == 2  # the header and one change
    cells = [t.content for t in tokens if t.type == "inline"][1:]  # after the summary line
    header, row = cells[:8], cells[8:]
    assert header == ["section", "change", "printed", "template", "result path", "old", "new", "difference"]
    assert row == ["counting", "changed", "Together they add up to **10**, which is the whole point.",
                   "`counting.qmd.j2:3`", "`counting.total`", "6", "10", "+4"]


def test_added_and_removed_numbers_are_listed_after_the_changed_ones(counted):
    paths = out_of(counted)
    (counted.templates / "counting.qmd.j2").write_text(COUNTING.replace(
        "numbers start at {{ r.counting.numbers[0] | int }}", "last number is {{ r.counting.numbers[-1] | int }}"))
    build(counted, Options(profile="quick", out=paths.root, to=["md"], show_progress=False,
                           sets=["counting.upto=5"]))
    result = diff.compare(*diff.builds_to_compare(paths))
    assert [(c.change, c.shown.path, c.old_to_new) for c in result.changes] == [
        ("changed", "counting.total", "10 -> 15"), ("added", "counting.numbers[4]", "5"),
        ("removed", "counting.numbers[0]", "1")]
    assert result.changes[1].shown.sentence == "The last number is [5]."


def test_an_earlier_build_is_named_by_its_entry_its_commit_or_its_folder(counted, tmp_path):
    paths = out_of(counted)
    first, second = history.builds(paths.history)
    assert diff.builds_to_compare(paths)[0].name == first.name  # the current report is the second
    assert diff.builds_to_compare(paths, first.name)[0].name == first.name
    assert diff.builds_to_compare(paths, first.name[:10])[0].name == first.name
    assert diff.builds_to_compare(paths, str(first.folder))[0].folder == first.folder
    prov = json.loads((first.folder / "provenance.json").read_text())
    prov["commit"] = "abcdef0123456789"
    (first.folder / "provenance.json").write_text(json.dumps(prov))
    assert diff.builds_to_compare(paths, "abcdef0")[0].name == first.name


def test_an_unknown_reference_or_no_earlier_build_exits_2_with_a_hint(tiny, capsys):
    build(tiny, Options(profile="quick", out=tiny.root / "_build", to=["md"], show_progress=False))
    assert diff_command(tiny) == 2
    assert "holds none before this report" in capsys.readouterr().err
    assert diff_command(tiny, "nosuchbuild") == 2
    err = capsys.readouterr().err
    assert "--diff nosuchbuild: no build of that name or commit" in err and "hint: name a kept build" in err


def test_diff_without_a_report_says_to_build_and_creates_nothing(tmp_path, tiny, capsys):
    out = tmp_path / "never"
    assert main(tiny, ["--diff", "--out", str(out)]) == 2
    assert "no report in" in capsys.readouterr().err and not out.exists()


def test_diff_cannot_be_combined_with_another_mode(tiny, capsys, no_build):
    assert main(tiny, ["--diff", "--check", "--out", str(tiny.root / "_build")]) == 2
    assert "--check and --diff cannot be combined" in capsys.readouterr().err


def test_a_number_belongs_to_the_section_its_result_path_names():
    assert diff.section_of("kmnist.models[0].accuracy", "kmnist.qmd.j2") == "kmnist"
    assert diff.section_of("mean(kmnist@*.models[0].accuracy)", "kmnist.qmd.j2") == "kmnist"
    assert diff.section_of("kmnist@2.models[0].accuracy", "kmnist.qmd.j2") == "kmnist"
    assert diff.section_of("len(dynamics.fsm.states)", "dynamics.qmd.j2") == "dynamics"
    assert diff.section_of("provenance.seeds.kmnist@2", "kmnist.qmd.j2") == "kmnist"
    assert diff.section_of("literal:toy_mlp.qmd.j2:4", "toy_mlp.qmd.j2") == "toy_mlp"
    assert diff.section_of("provenance.date", "provenance.qmd.j2") == diff.BUILD_METADATA


def test_a_sentence_is_cut_around_its_number_and_a_table_row_stands_alone():
    long = "word " * 30
    document = (f"First sentence. {long}a **bold** [1.5]{{#n1 .num title=\"s.x\"}} and {long}end. Next.\n\n"
                "| h1 | [2]{#n2 .num title=\"s.y\"} | x\\_y |\n")
    found = diff.sentences(document)
    before, number, after = found["n1"]
    assert number == "1.5" and before.startswith("...") and after.endswith("...")
    assert "bold" in before and "**" not in before and len(before + number + after) <= diff.WIDTH + 10
    assert found["n2"] == ("h1 | ", "2", " | x_y")


@pytest.mark.parametrize("kind,digits,old,new,shown", [
    ("pct", 2, 0.8885, 0.8881, "-0.04 pt"), ("num", 3, 1.0, 1.25, "+0.250"), ("int", None, 10, 7, "-3"),
    ("text", None, 3, 5, "+2"), ("text", None, "cpu", "cuda", "")])
def test_the_difference_is_written_in_the_numbers_own_format(kind, digits, old, new, shown):
    def printed(value):
        return diff.Printed("s", "s.x", "s.qmd.j2", 1, str(value), value, kind, digits, ("", str(value), ""))
    assert diff.Change("changed", printed(old), printed(new)).difference == shown
