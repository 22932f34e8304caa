"""The results store: atomic commits, and corrupt records detected rather than used."""
import errno
import json
import os
import stat

import pytest

from report import atomic
from report import store as store_module
from report.errors import OutputError
from report.store import CorruptRecord, DamagedArtifacts, Store


def commit(store, value, seed=1, figure=b"png"):
    staged = store.stage("sec")
    (staged / "fig.png").write_bytes(figure)
    return store.commit("sec", seed, staged, fingerprint=f"fp{value}", parts={}, data={"x": value}, meta={})


def test_commit_then_load_returns_the_data_and_artifacts(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    record = store.load("sec", 1)
    assert record.data == {"x": 1} and (record.artifact_dir / "fig.png").read_bytes() == b"png"


def test_a_new_commit_replaces_the_old_and_removes_its_artifacts(tmp_path):
    store = Store(tmp_path, "quick")
    old = commit(store, 1)
    new = commit(store, 2)
    assert store.load("sec", 1).data == {"x": 2}
    assert not old.artifact_dir.exists() and new.artifact_dir.exists()


def test_a_crash_while_writing_the_record_leaves_the_previous_result(tmp_path, monkeypatch):
    store = Store(tmp_path, "quick")
    commit(store, 1)

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        commit(store, 2)
    monkeypatch.undo()
    assert store.load("sec", 1).data == {"x": 1}
    store.sweep("sec")
    assert len([p for p in store.section_dir("sec").iterdir() if p.is_dir()]) == 1


def test_a_hand_edited_record_is_corrupt(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    path = store.record_path("sec", 1)
    path.write_text(path.read_text().replace('"x": 1', '"x": 7'))
    with pytest.raises(CorruptRecord, match="checksum"):
        store.load("sec", 1)


def test_a_truncated_record_is_corrupt(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    path = store.record_path("sec", 1)
    path.write_text(path.read_text()[:50])
    with pytest.raises(CorruptRecord, match="not valid JSON"):
        store.load("sec", 1)


def test_a_record_of_an_older_schema_is_corrupt(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    path = store.record_path("sec", 1)
    raw = json.loads(path.read_text())
    raw["schema"] = 0
    path.write_text(json.dumps(raw))
    with pytest.raises(CorruptRecord, match="schema"):
        store.load("sec", 1)


def test_a_changed_artifact_is_detected(tmp_path):
    store = Store(tmp_path, "quick")
    record = commit(store, 1)
    (record.artifact_dir / "fig.png").write_bytes(b"other")
    with pytest.raises(CorruptRecord, match="artifact"):
        store.load("sec", 1)


def test_damaged_artifacts_are_named_and_their_sound_record_is_still_handed_over(tmp_path):
    store = Store(tmp_path, "quick")
    staged = store.stage("sec")
    for name in ("a.png", "b.png", "c.png"):
        (staged / name).write_bytes(name.encode())
    record = store.commit("sec", 1, staged, fingerprint="fp", parts={}, data={"x": 1}, meta={})
    (record.artifact_dir / "a.png").write_bytes(b"other")
    (record.artifact_dir / "c.png").unlink()
    with pytest.raises(DamagedArtifacts) as caught:
        store.load("sec", 1)
    assert str(caught.value) == f"artifact {record.artifact_dir / 'a.png'} is missing or changed (and 1 more)"
    assert caught.value.record.data == {"x": 1} and caught.value.record.damaged == ("a.png", "c.png")


def test_a_failed_rename_of_the_figures_leaves_the_previous_result_loadable(tmp_path, monkeypatch):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    real_rename = store_module.Path.rename

    def fail_for_staged_folders(self, target):
        if self.name.startswith(store_module.STAGING_PREFIX):
            raise OSError("disk full")
        return real_rename(self, target)

    monkeypatch.setattr(store_module.Path, "rename", fail_for_staged_folders)
    with pytest.raises(OSError, match="disk full"):
        commit(store, 2)
    monkeypatch.undo()
    assert store.load("sec", 1).data == {"x": 1}


def test_a_failed_run_is_remembered_until_a_result_is_committed(tmp_path):
    store = Store(tmp_path, "quick")
    assert store.last_failure("sec", 1) is None
    store.mark_failed("sec", 1, "RuntimeError: boom")
    assert store.last_failure("sec", 1) == "RuntimeError: boom"
    assert store.last_failure("sec", 2) is None
    commit(store, 1)
    assert store.last_failure("sec", 1) is None


def test_sweep_removes_orphaned_folders_and_temporary_files_but_keeps_named_ones(tmp_path):
    store = Store(tmp_path, "quick")
    kept = commit(store, 1)
    other_seed = commit(store, 1, seed=2)
    folder = store.section_dir("sec")
    (folder / "seed-1.deadbeef0000").mkdir()
    store.stage("sec")
    (folder / ".seed-1.json.tmp-99").write_text("half a record")
    store.sweep("sec")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["seed-1.json", "seed-2.json", kept.artifact_dir.name, other_seed.artifact_dir.name])


def test_a_missing_record_loads_as_none_and_a_missing_artifact_is_corrupt(tmp_path):
    store = Store(tmp_path, "quick")
    assert store.load("sec", 1) is None
    record = commit(store, 1)
    (record.artifact_dir / "fig.png").unlink()
    with pytest.raises(CorruptRecord, match="missing or changed"):
        store.load("sec", 1)


def test_a_record_that_is_not_an_object_is_corrupt(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    store.record_path("sec", 1).write_text("[1, 2]")
    with pytest.raises(CorruptRecord, match="schema None"):
        store.load("sec", 1)


def test_the_record_keeps_everything_it_was_given(tmp_path):
    store = Store(tmp_path, "quick")
    staged = store.stage("sec")
    (staged / "fig.png").write_bytes(b"png")
    store.commit("sec", 3, staged, fingerprint="fp", parts={"config": {"lr": 1}}, data={"x": 1},
                 meta={"wall_time": 2.5})
    record = store.load("sec", 3)
    assert (record.section, record.seed, record.fingerprint) == ("sec", 3, "fp")
    assert record.parts == {"config": {"lr": 1}} and record.meta == {"wall_time": 2.5}
    assert store.read_unverified("sec", 3)["data"] == {"x": 1}
    assert store.read_unverified("sec", 4) is None


def test_write_atomic_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "deep" / "file.txt"
    store_module.write_atomic(target, b"one")
    store_module.write_atomic(target, b"two")
    assert target.read_bytes() == b"two" and [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_a_record_moved_to_another_seed_or_section_is_corrupt(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1, seed=1)
    store.record_path("sec", 1).rename(store.record_path("sec", 2))
    with pytest.raises(CorruptRecord) as caught:
        store.load("sec", 2)
    assert str(caught.value) == (f"{store.record_path('sec', 2)} holds the result of sec seed 1 "
                                 "(a record copied or moved by hand)")
    other = store.record_path("other", 1)
    other.parent.mkdir()
    store.record_path("sec", 2).rename(other)
    with pytest.raises(CorruptRecord, match="holds the result of sec seed 1"):
        store.load("other", 1)


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("failing_write", ["an artifact", "the record"])
def test_a_full_disk_while_saving_keeps_the_previous_result_and_leaves_nothing_of_the_new_one(
        tmp_path, monkeypatch, failing_write):
    store = Store(tmp_path, "quick")
    old = commit(store, 1)
    if failing_write == "an artifact":
        monkeypatch.setattr(store_module.Path, "write_bytes", no_space)
    else:
        monkeypatch.setattr(atomic.os, "fsync", no_space)
    with pytest.raises(OutputError) as caught:
        store.save("sec", 1, {"fig.png": b"new"}, fingerprint="fp2", parts={}, data={"x": 2}, meta={})
    monkeypatch.undo()
    assert caught.value.message == f"no space left on {store.record_path('sec', 1)}"
    assert store.load("sec", 1).data == {"x": 1}
    assert sorted(p.name for p in store.section_dir("sec").iterdir()) == [old.artifact_dir.name, "seed-1.json"]


def test_save_stores_the_artifacts_given_as_bytes_and_everything_else_it_was_given(tmp_path):
    store = Store(tmp_path, "quick")
    record = store.save("sec", 1, {"fig.png": b"png"}, fingerprint="fp", parts={"config": {"lr": 1}},
                        data={"x": 1}, meta={"wall_time": 2.5})
    assert (record.artifact_dir / "fig.png").read_bytes() == b"png"
    assert store.load("sec", 1) == record
    assert (record.fingerprint, record.parts, record.data, record.meta) == (
        "fp", {"config": {"lr": 1}}, {"x": 1}, {"wall_time": 2.5})
    assert [p.name for p in record.artifact_dir.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("umask,folder_mode,file_mode", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640),
                                                          (0o077, 0o700, 0o600)])
def test_results_are_readable_by_whom_the_umask_allows(tmp_path, umask, folder_mode, file_mode):
    previous = os.umask(umask)
    try:
        record = commit(Store(tmp_path, "quick"), 1)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(record.artifact_dir.stat().st_mode) == folder_mode
    assert stat.S_IMODE(record.artifact_dir.parent.stat().st_mode) == folder_mode
    for file in (record.artifact_dir / "fig.png", record.artifact_dir.parent / "seed-1.json"):
        assert stat.S_IMODE(file.stat().st_mode) == file_mode


def test_a_failure_message_that_is_not_utf8_is_still_read(tmp_path):
    store = Store(tmp_path, "quick")
    store.mark_failed("sec", 1, "RuntimeError: boom")
    store.failure_path("sec", 1).write_bytes(b"RuntimeError: \xff boom")
    assert store.last_failure("sec", 1) == "RuntimeError: \ufffd boom"


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\udcff"])
def test_read_unverified_gives_none_for_a_record_that_is_no_json_object(tmp_path, text):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    store.record_path("sec", 1).write_bytes(text.encode(errors="surrogateescape"))
    assert store.read_unverified("sec", 1) is None


@pytest.mark.parametrize("change", [{"seed": 2}, {"section": "other"}, {"data": [1]}, {"meta": None}])
def test_read_unverified_gives_none_for_another_unit_s_record_or_one_without_data_and_meta(tmp_path, change):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    path = store.record_path("sec", 1)
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    assert store.read_unverified("sec", 1) is None


def test_read_unverified_reads_an_edited_record_despite_its_checksum(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    path = store.record_path("sec", 1)
    path.write_text(path.read_text().replace('"x": 1', '"x": 7'))
    assert store.read_unverified("sec", 1)["data"] == {"x": 7}


def test_the_files_of_a_unit_are_its_record_and_its_failure_marker(tmp_path):
    store = Store(tmp_path, "quick")
    assert store.files("sec", 3) == [tmp_path / "quick" / "sec" / "seed-3.json",
                                     tmp_path / "quick" / "sec" / "seed-3.failed"]


def test_sweep_keeps_the_folders_of_sound_records_beside_damaged_ones(tmp_path):
    store = Store(tmp_path, "quick")
    kept = [commit(store, seed, seed=seed).artifact_dir.name for seed in range(1, 9)]
    for seed in range(1, 9, 2):  # every other record unreadable: its folder is an orphan
        store.record_path("sec", seed).write_text("[" if seed % 4 == 1 else "[1]")
    store.sweep("sec")
    assert sorted(p.name for p in store.section_dir("sec").iterdir() if p.is_dir()) == sorted(kept[1::2])


def test_a_single_damaged_artifact_is_named_alone(tmp_path):
    store = Store(tmp_path, "quick")
    record = commit(store, 1)
    (record.artifact_dir / "fig.png").write_bytes(b"other")
    with pytest.raises(DamagedArtifacts) as caught:
        store.load("sec", 1)
    assert str(caught.value) == f"artifact {record.artifact_dir / 'fig.png'} is missing or changed"


def test_a_record_of_another_schema_names_the_schema_found_and_the_one_read(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    path = store.record_path("sec", 1)
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema": 0}))
    with pytest.raises(CorruptRecord) as caught:
        store.load("sec", 1)
    assert str(caught.value) == f"{path} has schema 0, this build reads schema 1"


def test_a_full_disk_is_reported_even_when_the_new_figures_cannot_be_removed(tmp_path, monkeypatch):
    store = Store(tmp_path, "quick")
    commit(store, 1)

    def cannot_remove(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.os, "fsync", no_space)
    monkeypatch.setattr(os, "rmdir", cannot_remove)
    with pytest.raises(OutputError, match="no space left on"):
        commit(store, 2)
    monkeypatch.undo()
    assert store.load("sec", 1).data == {"x": 1}
