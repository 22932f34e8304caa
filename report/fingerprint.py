"""What a section's result depends on, as named parts and one hash.

The parts: the section's source files and the project modules they import (found by
reading the code, so nothing heavy gets imported), the resolved config, checksums of the
input data, and the versions of the libraries that compute. ``reasons`` compares two sets
of parts and says in words what changed. Templates are not a part: prose never retrains.
"""
from __future__ import annotations

import ast
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from report.atomic import write_atomic

ENGINE_DIR = Path(__file__).resolve().parent



class HashMemo:
    """File hashes remembered by path, size and modification time, so big data hashes once."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.entries: dict[str, list] = {}
        if path and path.exists():
            try:
                self.entries = json.loads(path.read_bytes())
            except (OSError, ValueError):
                self.entries = {}
        self.changed = False

    def hash(self, file: Path) -> str | None:
        try:
            stat = file.stat()
        except OSError:
            return None
        key, state = str(file.resolve()), [stat.st_size, stat.st_mtime_ns]
        cached = self.entries.get(key)
        if cached and cached[:2] == state:
            return cached[2]
        digest = sha256_file(file)
        self.entries[key] = [*state, digest]
        self.changed = True
        return digest

    def save(self) -> None:
        if self.path and self.changed:
            write_atomic(self.path, json.dumps(self.entries).encode())


def sha256_file(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):  # pragma: no mutate (the block size only paces the reading)
            digest.update(block)
    return digest.hexdigest()


def source_files(module_name: str, root: Path, sections: tuple[str, ...] = ()) -> list[Path]:
    """The files of a module (or package) and of every module under ``root`` it imports, recursively.

    ``sections`` are the modules of the project's sections. Another section's ``run`` is that
    section's own: the imports it makes inside ``run`` (its heavy modules) are not followed, so a
    section that reuses kmnist's loader depends on the loader, not on kmnist's figures. Every
    other import counts, at a module's top level or inside any other function.
    """
    others = {file for name in sections if name != module_name for file in _module_files(name, root)}
    seen: set[Path] = set()
    pending = list(_module_files(module_name, root))
    while pending:
        file = pending.pop()
        if file in seen:
            continue
        seen.add(file)
        for imported in _imports(file, root, follow_run=file not in others):
            pending.extend(_module_files(imported, root))
    return sorted(seen)


def _module_files(dotted: str, root: Path) -> list[Path]:
    """The file of a module under ``root``; none for the engine's own modules (the engine
    computes nothing a result holds, and a library install would not find them there)."""
    base = root.joinpath(*dotted.split("."))
    if base == ENGINE_DIR or ENGINE_DIR in base.parents:
        return []
    if (base / "__init__.py").exists():
        return [base / "__init__.py"]
    if base.with_suffix(".py").exists():
        return [base.with_suffix(".py")]
    return []


def _imports(file: Path, root: Path, follow_run: bool = True) -> set[str]:
    """Absolute dotted names a file imports, relative imports resolved against its package;
    without those inside its top-level ``run`` unless ``follow_run``."""
    package = ".".join(file.relative_to(root).with_suffix("").parts[:-1])
    tree = ast.parse(file.read_bytes(), str(file))  # bytes: Python's own rules pick the encoding
    if not follow_run:
        tree.body = [node for node in tree.body if not (isinstance(node, ast.FunctionDef) and node.name == "run")]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(package, node.module, node.level)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name}


def _resolve_relative(package: str, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""  # pragma: no mutate (a level-0 import always names its module)
    parts = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join([*parts, module] if module else parts)


def library_versions(libraries: tuple[str, ...]) -> dict[str, str]:
    """Python's version and the libraries', read from package metadata without importing them."""
    versions = {"python": platform.python_version()}
    for name in libraries:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def parts(module_name: str, config_json: dict, inputs: dict[str, Path], memo: HashMemo, *,
          root: Path, versions: dict[str, str], sections: tuple[str, ...] = ()) -> dict:
    """Everything a result depends on, by name; ``versions`` is ``library_versions(...)``,
    ``sections`` every section's module (see ``source_files``)."""
    return {
        "sources": {str(f.relative_to(root)): memo.hash(f) for f in source_files(module_name, root, sections)},
        "config": config_json,
        "inputs": {name: memo.hash(Path(path)) for name, path in sorted(inputs.items())},
        "versions": versions,
    }


def digest(fingerprint_parts: dict) -> str:
    return hashlib.sha256(json.dumps(fingerprint_parts, sort_keys=True).encode()).hexdigest()


def reasons(old: dict, new: dict) -> list[str]:
    """What changed between two sets of parts, in words, e.g. ``config lr: 0.001 -> 0.01``."""
    found = []
    for kind, label in (("sources", "source"), ("config", "config"), ("inputs", "input"),
                        ("versions", "version")):
        before, after = old.get(kind, {}), new.get(kind, {})
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                found.append(_describe(label, key, before.get(key), after.get(key)))
    return found


def _describe(label: str, key: str, before, after) -> str:
    if label == "source" or label == "input":
        if after is None:
            return f"{label} {key} missing"
        return f"{label} {key} {'added' if before is None else 'changed'}"
    return f"{label} {key}: {before} -> {after}"
