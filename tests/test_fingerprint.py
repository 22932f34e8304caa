"""What invalidates a cached result, and how the reason is told."""
import json
import os
import platform

import numpy as np
import pytest
from conftest import PROJECT, copy_project

from report import fingerprint

ROOT = PROJECT.root
VERSIONS = fingerprint.library_versions(PROJECT.libraries)


def test_section_sources_include_the_project_modules_it_imports():
    files = {f.relative_to(ROOT).as_posix() for f in fingerprint.source_files("experiments.toy_mlp", ROOT)}
    assert {"experiments/toy_mlp/__init__.py", "experiments/toy_mlp/section.py",
            "experiments/toy_mlp/plots.py", "experiments/common.py"} <= files
    assert not any(f.startswith(("report/", "templates/")) for f in files)


def test_config_change_is_named_in_the_reasons():
    memo = fingerprint.HashMemo()
    old = fingerprint.parts("experiments.toy_mlp", {"lr": 0.01}, {}, memo, root=ROOT, versions=VERSIONS)
    new = fingerprint.parts("experiments.toy_mlp", {"lr": 0.02}, {}, memo, root=ROOT, versions=VERSIONS)
    assert fingerprint.digest(old) != fingerprint.digest(new)
    assert fingerprint.reasons(old, new) == ["config lr: 0.01 -> 0.02"]


def test_input_data_change_and_absence_are_named(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"one")
    memo = fingerprint.HashMemo(tmp_path / "memo.json")
    old = fingerprint.parts("experiments.common", {}, {"train": data}, memo, root=ROOT, versions=VERSIONS)
    data.write_bytes(b"two!")
    new = fingerprint.parts("experiments.common", {}, {"train": data}, memo, root=ROOT, versions=VERSIONS)
    assert fingerprint.reasons(old, new) == ["input train changed"]
    data.unlink()
    gone = fingerprint.parts("experiments.common", {}, {"train": data}, memo, root=ROOT, versions=VERSIONS)
    assert fingerprint.reasons(new, gone) == ["input train missing"]


def test_file_hashes_are_memoised_across_builds(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 100)
    memo = fingerprint.HashMemo(tmp_path / "memo.json")
    first = memo.hash(data)
    memo.save()
    again = fingerprint.HashMemo(tmp_path / "memo.json")
    assert again.hash(data) == first and not again.changed


def test_a_section_that_imports_its_own_modules_relatively_includes_them():
    files = {f.relative_to(ROOT).as_posix() for f in fingerprint.source_files("experiments.kmnist", ROOT)}
    assert {"experiments/kmnist/__init__.py", "experiments/kmnist/checks.py", "experiments/kmnist/section.py",
            "experiments/kmnist/train.py", "experiments/common.py"} <= files


def test_relative_imports_resolve_against_the_importing_package():
    assert fingerprint._resolve_relative("experiments.kmnist", "train", 1) == "experiments.kmnist.train"
    assert fingerprint._resolve_relative("experiments.kmnist", None, 1) == "experiments.kmnist"
    assert fingerprint._resolve_relative("experiments.kmnist", "common", 2) == "experiments.common"
    assert fingerprint._resolve_relative("experiments.kmnist", "numpy", 0) == "numpy"


def test_a_same_size_edit_of_an_input_is_seen(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"one")
    memo = fingerprint.HashMemo(tmp_path / "memo.json")
    first = memo.hash(data)
    memo.save()
    data.write_bytes(b"two")
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 1_000_000))
    assert fingerprint.HashMemo(tmp_path / "memo.json").hash(data) != first


def test_a_memo_is_written_only_when_it_learnt_something_and_survives_corruption(tmp_path):
    data, memo_file = tmp_path / "data.bin", tmp_path / "cache" / "memo.json"
    data.write_bytes(b"x")
    memo = fingerprint.HashMemo(memo_file)
    memo.save()
    assert not memo_file.exists()
    memo.hash(data)
    memo.save()
    assert json.loads(memo_file.read_text())[str(data.resolve())][2] == fingerprint.sha256_file(data)
    memo_file.write_text("{not json")
    assert fingerprint.HashMemo(memo_file).hash(data) == fingerprint.sha256_file(data)
    assert fingerprint.HashMemo(memo_file).hash(tmp_path / "absent") is None


def test_every_kind_of_change_is_named_in_words():
    old = {"sources": {"a.py": "1", "gone.py": "2"}, "config": {"lr": 0.1}, "inputs": {"train": "x"},
           "versions": {"torch": "2.4"}}
    new = {"sources": {"a.py": "9", "new.py": "3"}, "config": {"lr": 0.1}, "inputs": {"train": "x"},
           "versions": {"torch": "2.5"}}
    assert fingerprint.reasons(old, new) == ["source a.py changed", "source gone.py missing",
                                             "source new.py added", "version torch: 2.4 -> 2.5"]
    assert fingerprint.reasons(old, old) == []


def test_library_versions_name_python_and_each_library_without_importing_it():
    versions = fingerprint.library_versions(("numpy", "no-such-library"))
    assert versions == {"python": platform.python_version(), "numpy": np.__version__, "no-such-library": "absent"}


def test_the_digest_depends_on_every_part():
    parts = {"sources": {"a.py": "1"}, "config": {"lr": 0.1}, "inputs": {}, "versions": {}}
    assert fingerprint.digest(parts) == fingerprint.digest(json.loads(json.dumps(parts)))
    assert fingerprint.digest(parts) != fingerprint.digest({**parts, "inputs": {"train": "x"}})


def test_the_engine_s_own_modules_are_not_part_of_a_section_s_sources(tmp_path):
    (tmp_path / "sec.py").write_text("from report.errors import DataError\nimport helper\n")
    (tmp_path / "helper.py").write_text("")
    files = {f.name for f in fingerprint.source_files("sec", tmp_path)}
    engine = {f.name for f in fingerprint.source_files("report.errors", ROOT)}
    assert files == {"sec.py", "helper.py"} and engine == set()


def write_modules(root, modules: dict[str, str]):
    for name, text in modules.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_what_another_section_s_run_imports_lazily_counts_for_that_section_only(tmp_path):
    write_modules(tmp_path, {
        "lib_a/__init__.py": "from .light import helper\n\n\ndef run(config, ctx):\n    from .heavy import train\n",
        "lib_a/light.py": "", "lib_a/heavy.py": "", "lib_a/api.py": "from .models import Net\n", "lib_a/models.py": "",
        "lib_b/__init__.py": ("from lib_a import helper\n\n\ndef run(config, ctx):\n    from lib_a.api import Net\n\n\n"
                              "def draw():\n    from lib_a.heavy import plot\n"),
    })
    sections = ("lib_a", "lib_b")

    def sources(name, sections):
        return {f.relative_to(tmp_path).as_posix() for f in fingerprint.source_files(name, tmp_path, sections)}
    assert sources("lib_a", sections) == {"lib_a/__init__.py", "lib_a/light.py", "lib_a/heavy.py"}
    # lib_b's own run and its other functions are followed; lib_a's run is lib_a's business
    assert sources("lib_b", sections) == {"lib_b/__init__.py", "lib_a/__init__.py", "lib_a/light.py",
                                          "lib_a/api.py", "lib_a/models.py", "lib_a/heavy.py"}
    write_modules(tmp_path, {"lib_b/__init__.py": "from lib_a import helper\n\n\ndef run(config, ctx):\n"
                                                  "    from lib_a.api import Net\n"})
    assert "lib_a/heavy.py" not in sources("lib_b", sections) and "lib_a/heavy.py" in sources("lib_b", ())


WIDTH_SECTION = {
    "experiments/width/__init__.py": ('"""NetFull at several widths, on kmnist\'s data."""\n'
                                      "from experiments.kmnist import default_data_dir, input_files\n\n\n"
                                      "def run(config, ctx):\n    from .section import run_section\n"),
    "experiments/width/section.py": "from experiments.kmnist.api import NetFull, Settings, fit, load_split\n",
}


def test_a_section_reusing_kmnist_s_public_surface_depends_on_its_loader_models_and_loop_not_its_figures(tmp_path):
    root = copy_project(tmp_path / "project")
    write_modules(root, WIDTH_SECTION)
    sections = ("experiments.kmnist", "experiments.toy_mlp", "experiments.dynamics", "experiments.width")
    files = {f.relative_to(root).as_posix() for f in fingerprint.source_files("experiments.width", root, sections)}
    kmnist = {f.removeprefix("experiments/kmnist/") for f in files if f.startswith("experiments/kmnist/")}
    assert {"__init__.py", "api.py", "data.py", "models.py", "train.py", "metrics.py"} <= kmnist
    assert not {"section.py", "figures.py"} & kmnist
    own = {f.relative_to(root).as_posix() for f in fingerprint.source_files("experiments.kmnist", root, sections)}
    assert {"experiments/kmnist/section.py", "experiments/kmnist/figures.py"} <= own


def test_a_memo_without_a_file_learns_but_writes_nothing(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"x")
    memo = fingerprint.HashMemo()
    assert memo.hash(data) == fingerprint.sha256_file(data) and memo.changed
    memo.save()
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_the_digest_does_not_depend_on_the_order_of_keys():
    parts = {"sources": {"a.py": "1", "b.py": "2"}, "config": {"lr": 0.1, "seed": 0}, "inputs": {}, "versions": {}}
    reordered = {"versions": {}, "inputs": {}, "config": {"seed": 0, "lr": 0.1}, "sources": {"b.py": "2", "a.py": "1"}}
    assert fingerprint.digest(parts) == fingerprint.digest(reordered)


def test_parts_missing_from_an_older_record_are_named_as_added():
    new = {"sources": {"a.py": "1"}, "config": {"lr": 0.1}, "inputs": {"train": "x"}, "versions": {"torch": "2.5"}}
    assert fingerprint.reasons({"sources": {"a.py": "1"}}, new) == [
        "config lr: None -> 0.1", "input train added", "version torch: None -> 2.5"]
    assert fingerprint.reasons(new, {"sources": {"a.py": "1"}}) == [
        "config lr: 0.1 -> None", "input train missing", "version torch: 2.5 -> None"]


def test_a_syntax_error_in_a_section_s_module_names_that_file(tmp_path):
    write_modules(tmp_path, {"sec.py": "import helper\n", "helper.py": "def broken(:\n"})
    with pytest.raises(SyntaxError) as caught:
        fingerprint.source_files("sec", tmp_path)
    assert caught.value.filename == str(tmp_path / "helper.py")


def test_a_module_declaring_another_encoding_is_read_in_it(tmp_path):
    (tmp_path / "sec.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\nimport helper\n")
    (tmp_path / "helper.py").write_text("")
    assert {f.name for f in fingerprint.source_files("sec", tmp_path)} == {"sec.py", "helper.py"}
