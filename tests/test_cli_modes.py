"""The command line's read-only and carrying modes: --diff of named sections, --export and --import."""
import dataclasses
import json
import platform
import zipfile

from report import machine

from report.cli import main
from report.pipeline import Options, build
from test_diff import COUNTING


def test_a_diff_naming_a_section_lists_only_the_numbers_of_that_section(tiny, capsys):
    (tiny.templates / "again.qmd.j2").write_text(COUNTING.replace("counting", "again"))
    (tiny.templates / "counting.qmd.j2").write_text(COUNTING)
    project = dataclasses.replace(tiny, sections={**tiny.sections, "again": "tiny_sections.counting"})
    for upto in (3, 4):
        build(project, Options(profile="quick", out=tiny.root / "_build", to=["md"], show_progress=False,
                               sets=[f"counting.upto={upto}"]))
    capsys.readouterr()
    shown = {}
    for name in ("again", "counting"):
        assert main(project, [name, "--diff", "--out", str(tiny.root / "_build")]) == 0
        shown[name] = capsys.readouterr().out.splitlines()[3:]
    assert shown["again"] == ["no printed number changed (0 of 4 printed numbers changed, 0 added, 0 removed)"]
    assert shown["counting"][:2] == ["counting: 1 changed", "  changed  counting.qmd.j2:3  counting.total  6 -> 10  (+4)"]


def test_export_and_import_say_what_they_carried_where_the_machines_differ_and_how_to_check(tiny, tmp_path, capsys):
    (tiny.templates / "again.qmd.j2").write_text("# Again\n")
    project = dataclasses.replace(tiny, sections={**tiny.sections, "again": "tiny_sections.counting"})
    first, target, second = tmp_path / "first", tmp_path / "build.zip", tmp_path / "second"
    build(project, Options(profile="quick", out=first, to=["md"], show_progress=False))
    assert main(project, ["--export", str(target), "--out", str(first)]) == 0
    assert capsys.readouterr().err == (f"wrote {target}: the quick report of commit not a git ch, 2 stored results "
                                       "and this environment\n")
    build(tiny, Options(profile="quick", out=tmp_path / "one", to=["md"], show_progress=False))
    assert main(tiny, ["--export", str(tmp_path / "one.zip"), "--out", str(tmp_path / "one")]) == 0
    assert capsys.readouterr().err.endswith(": the quick report of commit not a git ch, 1 stored result and this "
                                            "environment\n")
    with zipfile.ZipFile(target) as packed:
        exported_on = json.loads(packed.read("report-export.json"))["machine"]
    from_elsewhere = with_environment(target, tmp_path / "elsewhere.zip", "# Python 3.9.1 (CPython) on Linux\n")
    assert main(project, ["--import", str(from_elsewhere), "--out", str(second)]) == 0
    assert capsys.readouterr().err == (
        f"imported {from_elsewhere} into {second}: the quick report of commit not a git ch, exported on {exported_on}\n"
        f"note: python 3.9.1 there, {platform.python_version()} here\n"
        f"this machine: {machine.one_line(machine.host())}; check the import with "
        f"`python build.py --check --profile quick --out {second}`\n")


def with_environment(source, target, environment: str):
    """A copy of the export ``source`` whose environment listing is ``environment``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, environment if info.filename == "environment.txt" else old.read(info))
    return target


def test_list_writes_nothing_to_a_built_folder_and_creates_no_folder_never_built(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    build(tiny, Options(profile="quick", out=out, to=["md"], show_progress=False))
    before = sorted((str(p.relative_to(out)), p.stat().st_mtime_ns) for p in out.rglob("*"))
    assert main(tiny, ["--list", "--profile", "quick", "--out", str(out)]) == 0
    assert sorted((str(p.relative_to(out)), p.stat().st_mtime_ns) for p in out.rglob("*")) == before
    assert main(tiny, ["--list", "--out", str(tmp_path / "never")]) == 0
    assert not (tmp_path / "never").exists()
