"""--export and --import: a build carried to another output folder as one zip, checked there."""
import json
import stat
import zipfile

import pytest

from report import archive
from report.cli import main
from report.paths import OutputPaths
from report.pipeline import Options, build, check


@pytest.fixture
def exported(tiny, tmp_path):
    """The tiny project built in one folder and exported to a zip."""
    build(tiny, Options(profile="quick", out=tmp_path / "first", to=["html", "md"], show_progress=False))
    target = tmp_path / "build.zip"
    assert main(tiny, ["--export", str(target), "--out", str(tmp_path / "first")]) == 0
    return target


def import_into(project, source, out):
    return main(project, ["--import", str(source), "--out", str(out)])


def rewritten(source, target, extra=None, drop=(), replace=None):
    """A copy of the zip ``source`` with ``extra`` members added, ``drop`` left out, ``replace`` changed."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename not in drop:
                new.writestr(info, (replace or {}).get(info.filename, old.read(info)))
        for name, content in (extra or {}).items():
            new.writestr(name, content)
    return target


def test_an_imported_build_passes_check_in_its_new_folder(tiny, exported, tmp_path, capsys):
    second = tmp_path / "second"
    assert import_into(tiny, exported, second) == 0
    assert check(tiny, Options(profile="quick", out=second, to=["html", "md"], show_progress=False)) == []
    first_files = {p.relative_to(tmp_path / "first") for p in (tmp_path / "first").rglob("*") if p.is_file()}
    second_files = {p.relative_to(second) for p in second.rglob("*") if p.is_file()}
    assert {p for p in first_files if p.parts[0] in ("results", "report.html", "report.md", "ledger.json")} <= \
        second_files
    assert "check the import with `python build.py --check --profile quick" in capsys.readouterr().err


def test_the_archive_names_its_profile_commit_and_environment(exported):
    with zipfile.ZipFile(exported) as packed:
        manifest = json.loads(packed.read("report-export.json"))
        environment = packed.read("environment.txt").decode()
    assert manifest["format"] == archive.FORMAT and manifest["profile"] == "quick"
    assert "results/quick/counting/seed-0.json" in manifest["files"]
    assert environment.startswith("# Python ") and "\npytest==" in environment


def test_an_import_is_kept_in_history_so_a_rebuild_can_be_diffed_against_it(tiny, exported, tmp_path):
    second = tmp_path / "second"
    import_into(tiny, exported, second)
    assert len(list((second / "history").iterdir())) == 1


@pytest.mark.parametrize("change,message", [
    ({"extra": {"../escaped.txt": "x"}}, "'../escaped.txt' is a path outside the output folder"),
    ({"extra": {"/etc/evil": "x"}}, "'/etc/evil' is a path outside the output folder"),
    ({"extra": {"results/extra.json": "{}"}}, "do not match its manifest (unlisted: results/extra.json; missing: none)"),
    ({"drop": {"results/quick/counting/seed-0.json"}}, "missing: results/quick/counting/seed-0.json"),
    ({"drop": {"report-export.json"}}, "not an export of this report builder"),
    ({"replace": {"report-export.json": '{"format": "other"}'}}, "not an export of this report builder"),
    ({"replace": {"results/quick/counting/seed-0.json": "{}"}}, "does not match its checksum in the manifest"),
])
def test_an_archive_that_is_not_ours_or_escapes_the_folder_is_refused_and_nothing_written(
        tiny, exported, tmp_path, capsys, change, message):
    bad = rewritten(exported, tmp_path / "bad.zip", **change)
    out = tmp_path / "second"
    assert import_into(tiny, bad, out) == 2
    err = capsys.readouterr().err
    assert message in err and "hint:" in err
    assert [p.name for p in out.iterdir()] == [".lock"] and not (tmp_path / "escaped.txt").exists()


def test_a_link_in_the_archive_is_refused(tiny, exported, tmp_path, capsys):
    bad = rewritten(exported, tmp_path / "link.zip")
    with zipfile.ZipFile(bad, "a") as packed:
        link = zipfile.ZipInfo("results/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        packed.writestr(link, "/etc/passwd")
    assert import_into(tiny, bad, tmp_path / "second") == 2
    assert "'results/link' is a link" in capsys.readouterr().err


def test_a_file_that_is_no_zip_and_a_folder_that_is_not_empty_are_refused(tiny, exported, tmp_path, capsys):
    text = tmp_path / "notes.zip"
    text.write_text("not a zip")
    assert import_into(tiny, text, tmp_path / "second") == 2
    assert "not a readable zip archive" in capsys.readouterr().err
    assert import_into(tiny, exported, tmp_path / "first") == 2
    assert "is not empty" in capsys.readouterr().err


def test_exporting_a_folder_without_a_report_says_to_build_it(tiny, tmp_path, capsys):
    assert main(tiny, ["--export", str(tmp_path / "x.zip"), "--out", str(tmp_path / "never")]) == 2
    assert "no report in" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "never").exists()


def test_the_environments_of_two_machines_are_compared_package_by_package():
    there = "# Python 3.11.7 (CPython) on Linux\nnumpy==2.4.6\nTorch==2.5.0\n"
    here = "# Python 3.12.1 (CPython) on Linux\nnumpy==2.4.6\ntorch==2.5.0\n"
    assert archive.differences(there, here, ("torch", "numpy", "scipy")) == ["python 3.11.7 there, 3.12.1 here"]
    assert archive.differences(there, here + "scipy==1.0\n", ("scipy",)) == [
        "python 3.11.7 there, 3.12.1 here", "scipy absent there, 1.0 here"]


def test_paths_names_the_files_an_import_leaves(tmp_path):
    paths = OutputPaths.under(tmp_path)
    assert (paths.environment.name, paths.export_manifest.name) == ("environment.txt", "report-export.json")
