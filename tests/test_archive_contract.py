"""--export and --import, called directly: what the manifest promises, and each refusal in the words a user reads."""
import errno
import hashlib
import json
import platform
import re
import stat
import zipfile
from pathlib import Path

import pytest

from report import archive, machine
from report.errors import OutputError, UsageError
from report.paths import OutputPaths
from report.pipeline import Options, build


@pytest.fixture
def built(tiny, tmp_path):
    """The output folder of the tiny project built once, with its HTML and Markdown."""
    build(tiny, Options(profile="quick", out=tmp_path / "first", to=["html", "md"], show_progress=False))
    return OutputPaths.under(tmp_path / "first")


@pytest.fixture
def packed(built, tmp_path):
    """The tiny build exported: (its zip, the manifest export returned)."""
    target = tmp_path / "build.zip"
    return target, archive.export(built, target)


def empty_out(tmp_path, name="second"):
    (tmp_path / name).mkdir()
    return OutputPaths.under(tmp_path / name)


def refusal(error: type, call) -> tuple[str, str]:
    with pytest.raises(error) as caught:
        call()
    return caught.value.message, caught.value.hint


def a_zip(path, members: dict, manifest=None):
    """A zip holding ``members`` and, unless None, ``manifest`` (a dict is written as JSON) as report-export.json."""
    with zipfile.ZipFile(path, "w") as packed:
        if manifest is not None:
            packed.writestr("report-export.json", manifest if isinstance(manifest, str) else json.dumps(manifest))
        for name, content in members.items():
            packed.writestr(name, content)
    return path


# -- export ---------------------------------------------------------------------------------
def test_the_manifest_names_the_build_this_machine_and_each_files_checksum(built, packed):
    target, manifest = packed
    prov = json.loads(built.provenance.read_text())
    assert {key: manifest[key] for key in ("format", "version", "profile", "commit", "dirty", "date")} == {
        "format": "report-export", "version": 1, "profile": "quick", "commit": prov["commit"],
        "dirty": prov["dirty"], "date": prov["date"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", manifest["exported"])  # UTC, to the second
    assert manifest["machine"] == machine.one_line(machine.host())
    assert manifest["python"] == platform.python_version()
    assert manifest["files"] == {name: hashlib.sha256((built.root / name).read_bytes()).hexdigest()
                                 for name in manifest["files"]}


def test_the_archive_holds_the_manifest_the_environment_then_every_file_in_order(built, packed):
    target, manifest = packed
    names = list(manifest["files"])
    assert names == sorted(names)
    assert {"report.html", "report.md", "report.qmd", "ledger.json", "provenance.json",
            "results/quick/counting/seed-0.json"} <= set(names) and "report.pdf" not in names  # never built
    with zipfile.ZipFile(target) as zipped:
        assert zipped.namelist() == ["report-export.json", "environment.txt", *names]
        assert json.loads(zipped.read("report-export.json")) == manifest
        assert {info.compress_type for info in zipped.infolist()} == {zipfile.ZIP_DEFLATED}


def test_a_provenance_without_commit_date_or_dirty_flag_exports_them_empty(built, tmp_path):
    built.provenance.write_text(json.dumps({"profile": "quick"}))
    manifest = archive.export(built, tmp_path / "bare.zip")
    assert (manifest["commit"], manifest["dirty"], manifest["date"]) == ("", False, "")
    built.provenance.write_text(json.dumps({"profile": "quick", "dirty": True}))
    assert archive.export(built, tmp_path / "dirty.zip")["dirty"] is True


def test_every_stored_record_is_exported(built, tmp_path):
    records = built.results / "quick" / "counting"
    (records / "seed-1.json").write_bytes((records / "seed-0.json").read_bytes())
    files = archive.export(built, tmp_path / "two.zip")["files"]
    assert {"results/quick/counting/seed-0.json", "results/quick/counting/seed-1.json"} <= set(files)


@pytest.mark.parametrize("provenance", [None, "not json", "{}", "[]"], ids=["missing", "not-json", "no-profile", "a-list"])
def test_exporting_without_a_readable_provenance_says_to_build_and_check(built, tmp_path, provenance):
    if provenance is None:
        built.provenance.unlink()
    else:
        built.provenance.write_text(provenance)
    assert refusal(UsageError, lambda: archive.export(built, tmp_path / "x.zip")) == (
        f"no report in {built.root} to export (provenance.json is missing or damaged)",
        "build it first with `python build.py`, and check it with --check")
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize("record", ["not json", "{}", "[]"], ids=["not-json", "no-artifact-dir", "a-list"])
def test_a_damaged_result_record_is_named_with_how_to_rebuild_its_section(built, tmp_path, record):
    damaged = built.results / "quick" / "counting" / "seed-0.json"
    damaged.write_text(record)
    assert refusal(OutputError, lambda: archive.export(built, tmp_path / "x.zip")) == (
        f"cannot export {damaged}: it is not a readable result record",
        "rebuild its section (`python build.py SECTION --force`), then export")


def test_a_disk_full_while_packing_names_the_whole_archive_path_and_leaves_no_part_of_it(built, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(zipfile.ZipFile, "write", full)
    monkeypatch.chdir(tmp_path)
    assert refusal(OutputError, lambda: archive.export(built, Path("build.zip"))) == (
        f"cannot write the archive {tmp_path / 'build.zip'}: No space left on device",
        "give --export a path in a folder you can write to")
    assert not list(tmp_path.glob("*build*"))


# -- import ---------------------------------------------------------------------------------
def test_an_import_unpacks_every_file_beside_the_lock_and_leaves_no_staging_folder(packed, tmp_path):
    target, manifest = packed
    out = empty_out(tmp_path)
    out.lock.write_text("")
    assert archive.unpack(target, out) == manifest
    unpacked = {p.relative_to(out.root).as_posix() for p in out.root.rglob("*") if p.is_file()}
    assert unpacked == {*manifest["files"], "report-export.json", "environment.txt", ".lock"}
    assert [p for p in out.root.iterdir() if p.is_dir()] == [out.results]


def test_importing_into_a_folder_that_is_not_empty_says_to_use_a_new_one(packed, built):
    assert refusal(UsageError, lambda: archive.unpack(packed[0], built)) == (
        f"--import: the output folder {built.root} is not empty",
        "import into a new folder with --out NEW_FOLDER, so no build is overwritten")


@pytest.mark.parametrize("content", [None, "not a zip"], ids=["missing", "not-a-zip"])
def test_a_file_that_is_no_zip_is_refused_with_what_to_give_instead(tmp_path, content):
    source = tmp_path / "notes.zip"
    if content is not None:
        source.write_text(content)
    message, hint = refusal(UsageError, lambda: archive.unpack(source, empty_out(tmp_path)))
    assert message.startswith(f"--import {source}: not a readable zip archive (")
    assert hint == "give a file written by `python build.py --export FILE.zip`"


@pytest.mark.parametrize("manifest", [
    None, "not json", "[]", {"format": "other", "files": {}}, {"format": "report-export", "files": []}],
    ids=["no-manifest", "not-json", "a-list", "another-format", "files-not-a-map"])
def test_an_archive_without_our_manifest_is_not_ours(tmp_path, manifest):
    source = a_zip(tmp_path / "other.zip", {}, manifest)
    out = empty_out(tmp_path)
    assert refusal(UsageError, lambda: archive.unpack(source, out)) == (
        f"--import {source}: not an export of this report builder (no valid report-export.json)",
        "give a file written by `python build.py --export FILE.zip`")
    assert list(out.root.iterdir()) == []


@pytest.mark.parametrize("version,shown", [(2, "2"), (None, "None")])
def test_an_export_of_another_version_names_both_versions(tmp_path, version, shown):
    manifest = {"format": "report-export", "files": {}, **({"version": version} if version else {})}
    source = a_zip(tmp_path / "old.zip", {}, manifest)
    assert refusal(UsageError, lambda: archive.unpack(source, empty_out(tmp_path))) == (
        f"--import {source}: an export of version {shown}; this build reads version 1",
        "export it again with this version of the project")


def test_files_that_do_not_match_the_manifest_are_listed_both_ways(tmp_path):
    manifest = {"format": "report-export", "version": 1, "files": {"b.json": "x", "a.json": "x"}}
    source = a_zip(tmp_path / "changed.zip", {"z.txt": "", "y.txt": ""}, manifest)
    assert refusal(UsageError, lambda: archive.unpack(source, empty_out(tmp_path))) == (
        f"--import {source}: its files do not match its manifest (unlisted: y.txt, z.txt; missing: a.json, b.json)",
        "export it again: the archive was changed after it was written")


def test_files_missing_from_the_zip_alone_say_none_are_unlisted(tmp_path):
    manifest = {"format": "report-export", "version": 1, "files": {"a.json": "x"}}
    source = a_zip(tmp_path / "short.zip", {}, manifest)
    assert refusal(UsageError, lambda: archive.unpack(source, empty_out(tmp_path)))[0] == (
        f"--import {source}: its files do not match its manifest (unlisted: none; missing: a.json)")


def test_folders_in_the_zip_and_a_missing_environment_are_accepted(tmp_path):
    content = b"{}"
    manifest = {"format": "report-export", "version": 1,
                "files": {"results/a.json": hashlib.sha256(content).hexdigest()}}
    source = a_zip(tmp_path / "plain.zip", {"results/": "", "results/a.json": content}, manifest)
    out = empty_out(tmp_path)
    archive.unpack(source, out)
    assert (out.root / "results" / "a.json").read_bytes() == content
    assert sorted(p.name for p in out.root.iterdir()) == ["report-export.json", "results"]


@pytest.mark.parametrize("name", ["../up.txt", "/etc/evil", "a/../../up.txt", "dir\\up.txt", "c:up.txt",
                                  "docs/../b.txt"])  # an export never writes "..": refused even when it stays inside
def test_a_member_whose_path_leaves_the_folder_is_refused_before_anything_is_written(tmp_path, name):
    manifest = {"format": "report-export", "version": 1, "files": {name: "x"}}
    source = a_zip(tmp_path / "escape.zip", {name: "x"}, manifest)
    out = empty_out(tmp_path)
    assert refusal(UsageError, lambda: archive.unpack(source, out)) == (
        f"--import {source}: refused, its member {name!r} is a path outside the output folder",
        "import only archives written by `python build.py --export`")
    assert list(out.root.iterdir()) == []


def test_a_link_in_the_zip_is_refused_as_a_link(tmp_path):
    source = a_zip(tmp_path / "link.zip", {}, {"format": "report-export", "version": 1, "files": {"link": "x"}})
    with zipfile.ZipFile(source, "a") as zipped:
        link = zipfile.ZipInfo("link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(link, "/etc/passwd")
    assert refusal(UsageError, lambda: archive.unpack(source, empty_out(tmp_path)))[0] == (
        f"--import {source}: refused, its member 'link' is a link")


def test_a_member_that_differs_from_its_checksum_is_refused_and_nothing_is_left(tmp_path):
    manifest = {"format": "report-export", "version": 1, "files": {"a.json": hashlib.sha256(b"{}").hexdigest()}}
    source = a_zip(tmp_path / "damaged.zip", {"a.json": "{ }"}, manifest)
    out = empty_out(tmp_path)
    assert refusal(UsageError, lambda: archive.unpack(source, out)) == (
        f"--import {source}: a.json does not match its checksum in the manifest",
        "export it again: the archive is damaged or was changed")
    assert list(out.root.iterdir()) == []


# -- environment ----------------------------------------------------------------------------
def test_the_environment_lists_python_then_every_package_once_sorted_as_pip_freeze_would():
    header, *packages = archive.environment().splitlines()
    assert header == (f"# Python {platform.python_version()} ({platform.python_implementation()}) "
                      f"on {platform.platform()}")
    assert packages == sorted(set(packages), key=str.lower)
    assert f"pytest=={pytest.__version__}" in packages and all(re.fullmatch(r"\S+==\S+", p) for p in packages)
    assert archive.environment().endswith("==" + packages[-1].partition("==")[2] + "\n")


def test_a_package_missing_on_either_side_is_named_absent_in_the_order_asked():
    there = "# Python 3.11.7 (CPython) on Linux\nnumpy==2.4.6\n"
    here = "# Python 3.11.7 (CPython) on Linux\nscipy==1.0\n"
    assert archive.differences(there, here, ("scipy", "NumPy")) == [
        "scipy absent there, 1.0 here", "NumPy 2.4.6 there, absent here"]
    assert archive.differences(there, there, ("numpy",)) == []


def test_members_are_staged_in_a_hidden_folder_of_the_output_folder_until_every_one_is_checked(packed, tmp_path,
                                                                                               monkeypatch):
    """So an import that stops half-way leaves no half report, and the rename into place stays on one disk."""
    out = empty_out(tmp_path)
    seen, read = [], archive._read

    def reading(*args):
        seen.append(sorted(p.name for p in out.root.iterdir()))
        return read(*args)
    monkeypatch.setattr(archive, "_read", reading)
    archive.unpack(packed[0], out)
    assert len(seen) == len(packed[1]["files"]) + 2
    assert all(len(names) == 1 and names[0].startswith(".staging-") for names in seen)
    assert not list(out.root.glob(".staging-*"))


def test_an_archive_path_may_start_at_the_home_folder(built, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    archive.export(built, Path("~/build.zip"))
    assert zipfile.is_zipfile(tmp_path / "home" / "build.zip")
