"""``--export`` and ``--import``: a build packed as one zip, to check it on another machine.

    report-export.json       the manifest: what this is, the profile, commit, machine, each file's checksum
    environment.txt          the Python and every installed package (``name==version``) that built it
    results/<profile>/...    the store of the profile built: each record and its figures
    report.html, report.pdf, report.md, report.qmd, ledger.json, provenance.json

    >>> export(paths, Path("build.zip"))     # from an output folder that holds a report
    >>> unpack(Path("build.zip"), paths)     # into an empty one; then ``--check`` passes there

An archive is ours when its manifest says so; a member whose path would leave the output
folder, a link, a file the manifest does not list or whose checksum differs is refused
before anything is written.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
import stat
import tempfile
import zipfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path, PurePosixPath

from report import machine
from report.atomic import replacing
from report.errors import OutputError, UsageError
from report.paths import OutputPaths
from report.store import Store, STAGING_PREFIX

FORMAT, VERSION = "report-export", 1
REPORT_FILES = ("report.html", "report.pdf", "report.md", "report.qmd")


def export(paths: OutputPaths, target: Path) -> dict:
    """Pack the report in ``paths.root``, its store and this environment into ``target``; return the manifest."""
    prov = _provenance(paths)
    files = {path.relative_to(paths.root).as_posix(): path for path in _members(paths, prov["profile"])}
    manifest = {"format": FORMAT, "version": VERSION, "profile": prov["profile"], "commit": prov.get("commit", ""),
                "dirty": prov.get("dirty", False), "date": prov.get("date", ""),
                "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "machine": machine.one_line(machine.host()), "python": platform.python_version(),
                "files": {name: _sha256(path.read_bytes()) for name, path in sorted(files.items())}}
    target = target.expanduser().resolve()
    try:
        with replacing(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(paths.export_manifest.name, json.dumps(manifest, indent=1))
            archive.writestr(paths.environment.name, environment())
            for name, path in sorted(files.items()):
                archive.write(path, name)
    except OSError as exc:
        raise OutputError(f"cannot write the archive {target}: {exc.strerror or exc}",
                          "give --export a path in a folder you can write to") from None
    return manifest


def unpack(source: Path, paths: OutputPaths) -> dict:
    """Unpack an export into the empty output folder ``paths.root``; return its manifest."""
    if any(entry.name != paths.lock.name for entry in paths.root.iterdir()):
        raise UsageError(f"--import: the output folder {paths.root} is not empty",
                         "import into a new folder with --out NEW_FOLDER, so no build is overwritten")
    with _open(source) as archive:
        manifest = _manifest(archive, source, paths)
        members = _checked_members(archive, manifest, source, paths)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=paths.root))
        try:
            for info in members:
                target = staging / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_read(archive, info, manifest, source))
            for entry in staging.iterdir():
                entry.rename(paths.root / entry.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return manifest


def environment() -> str:
    """This Python and every installed distribution, sorted, as ``pip freeze`` would list them."""
    packages = sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"]},  # pragma: no mutate (header names ignore case)
                      key=str.lower)
    header = f"# Python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}"
    return "\n".join([header, *packages]) + "\n"


def differences(exported: str, here: str, names: tuple[str, ...]) -> list[str]:
    """How the packages ``names`` (and Python) differ between two ``environment()`` listings."""
    there_versions, here_versions = _versions(exported), _versions(here)
    keys = {name: name.lower() for name in ("python", *names)}
    return [f"{name} {there_versions.get(key, 'absent')} there, {here_versions.get(key, 'absent')} here"
            for name, key in keys.items() if there_versions.get(key) != here_versions.get(key)]


# -- export ---------------------------------------------------------------------------------
def _provenance(paths: OutputPaths) -> dict:
    try:
        prov = json.loads(paths.provenance.read_text(encoding="utf-8"))  # pragma: no mutate (codec name's case)
        prov["profile"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"no report in {paths.root} to export ({paths.provenance.name} is missing or damaged)",
                         "build it first with `python build.py`, and check it with --check") from None
    return prov


def _members(paths: OutputPaths, profile: str) -> list[Path]:
    """The report's files, its ledger and provenance, and every stored record with its artifacts."""
    report = [paths.root / name for name in REPORT_FILES if (paths.root / name).is_file()]
    return [*report, paths.ledger, paths.provenance, *_store_files(Store(paths.results, profile))]


def _store_files(store: Store) -> list[Path]:
    files = []
    for record in sorted(store.root.glob("*/seed-*.json")):
        try:
            meta = json.loads(record.read_text(encoding="utf-8"))  # pragma: no mutate (codec name's case)
            artifact_dir = record.parent / meta["artifact_dir"]
        except (OSError, ValueError, KeyError, TypeError):
            raise OutputError(f"cannot export {record}: it is not a readable result record",
                              "rebuild its section (`python build.py SECTION --force`), then export") from None
        files += [record, *sorted(f for f in artifact_dir.iterdir() if f.is_file())]
    return files


# -- import ---------------------------------------------------------------------------------
def _open(source: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"--import {source}: not a readable zip archive ({exc})",
                         "give a file written by `python build.py --export FILE.zip`") from None


def _manifest(archive: zipfile.ZipFile, source: Path, paths: OutputPaths) -> dict:
    not_ours = UsageError(f"--import {source}: not an export of this report builder (no valid "
                          f"{paths.export_manifest.name})", "give a file written by `python build.py --export FILE.zip`")
    try:
        manifest = json.loads(archive.read(paths.export_manifest.name))
    except (KeyError, ValueError):
        raise not_ours from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise not_ours
    if manifest.get("version") != VERSION:
        raise UsageError(f"--import {source}: an export of version {manifest.get('version')!r}; this build "
                         f"reads version {VERSION}", "export it again with this version of the project")
    return manifest


def _checked_members(archive: zipfile.ZipFile, manifest: dict, source: Path, paths: OutputPaths) -> list:
    """Every member, once each path is known to stay inside the output folder and to be listed."""
    expected = {*manifest["files"], paths.export_manifest.name, paths.environment.name}
    members = [info for info in archive.infolist() if not info.is_dir()]
    for info in archive.infolist():
        _refuse_unsafe(info, source, paths.root)
    unlisted = sorted({info.filename for info in members} - expected)
    missing = sorted(expected - {info.filename for info in members} - {paths.environment.name})
    if unlisted or missing:
        raise UsageError(f"--import {source}: its files do not match its manifest "
                         f"(unlisted: {', '.join(unlisted) or 'none'}; missing: {', '.join(missing) or 'none'})",
                         "export it again: the archive was changed after it was written")
    return members


def _refuse_unsafe(info: zipfile.ZipInfo, source: Path, root: Path) -> None:
    name = info.filename
    pure = PurePosixPath(name)
    is_link = stat.S_ISLNK(info.external_attr >> 16)
    escapes = pure.is_absolute() or ".." in pure.parts or "\\" in name or ":" in name
    if is_link or escapes or not (root / name).resolve().is_relative_to(root.resolve()):
        raise UsageError(f"--import {source}: refused, its member {name!r} is "
                         f"{'a link' if is_link else 'a path outside the output folder'}",
                         "import only archives written by `python build.py --export`")


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, manifest: dict, source: Path) -> bytes:
    content = archive.read(info)
    expected = manifest["files"].get(info.filename)
    if expected is not None and _sha256(content) != expected:
        raise UsageError(f"--import {source}: {info.filename} does not match its checksum in the manifest",
                         "export it again: the archive is damaged or was changed")
    return content


def _versions(listing: str) -> dict[str, str]:
    found = {}
    for line in listing.splitlines():
        if line.startswith("# Python "):
            found["python"] = line.split()[2]
        name, sep, version = line.partition("==")  # pragma: no mutate (names and versions hold no "==")
        if sep:
            found[name.lower()] = version
    return found


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
