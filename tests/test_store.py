"""The results store: atomic commits, and corrupt records detected rather than used."""
import json

import pytest

from report import store as store_module
from report.store import CorruptRecord, Store


def commit(store, value, seed=1, figure=b"png"):
    staged = store.stage("sec")
    (staged / "fig.png").write_bytes(figure)
    return store.commit("sec", seed, staged, fingerprint=f"fp{value}", parts={}, data={"x": value}, meta={})


def test_commit_then_load_returns_the_data_and_artifacts(tmp_path):
    store = Store(tmp_path, "quick")
    commit(store, 1)
    record = store.load("sec", 1)
    assert record.data == {"x": 1} and record.artifact("fig.png").read_bytes() == b"png"


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

    monkeypatch.setattr(store_module.os, "replace", crash)
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
    record.artifact("fig.png").write_bytes(b"other")
    with pytest.raises(CorruptRecord, match="artifact"):
        store.load("sec", 1)
