"""What invalidates a cached result, and how the reason is told."""

from report import fingerprint


def test_section_sources_include_the_project_modules_it_imports():
    files = {f.relative_to(fingerprint.PROJECT_ROOT).as_posix() for f in fingerprint.source_files("experiments.toy_mlp")}
    assert {"experiments/toy_mlp/__init__.py", "experiments/toy_mlp/section.py",
            "experiments/toy_mlp/plots.py", "experiments/common.py"} <= files
    assert not any(f.startswith(("report/", "templates/")) for f in files)


def test_config_change_is_named_in_the_reasons():
    memo = fingerprint.HashMemo()
    old = fingerprint.parts("experiments.toy_mlp", {"lr": 0.01}, {}, memo)
    new = fingerprint.parts("experiments.toy_mlp", {"lr": 0.02}, {}, memo)
    assert fingerprint.digest(old) != fingerprint.digest(new)
    assert fingerprint.reasons(old, new) == ["config lr: 0.01 -> 0.02"]


def test_input_data_change_and_absence_are_named(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"one")
    memo = fingerprint.HashMemo(tmp_path / "memo.json")
    old = fingerprint.parts("experiments.common", {}, {"train": data}, memo)
    data.write_bytes(b"two!")
    new = fingerprint.parts("experiments.common", {}, {"train": data}, memo)
    assert fingerprint.reasons(old, new) == ["input train changed"]
    data.unlink()
    gone = fingerprint.parts("experiments.common", {}, {"train": data}, memo)
    assert fingerprint.reasons(new, gone) == ["input train missing"]


def test_file_hashes_are_memoised_across_builds(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 100)
    memo = fingerprint.HashMemo(tmp_path / "memo.json")
    first = memo.hash(data)
    memo.save()
    again = fingerprint.HashMemo(tmp_path / "memo.json")
    assert again.hash(data) == first and not again.changed
