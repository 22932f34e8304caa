"""Writing files: whole or not at all, a failed write named with its fix, and unwritable
places found before a build computes anything."""
import errno

import pytest

from report import atomic
from report.atomic import ensure_writable, sweep_temporaries, write_atomic
from report.errors import OutputError


def failing(error_number):
    def fail(*args, **kwargs):
        raise OSError(error_number, atomic.os.strerror(error_number))
    return fail


def test_a_full_disk_names_the_file_and_how_to_free_space_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_bytes(b"old")
    monkeypatch.setattr(atomic.os, "fsync", failing(errno.ENOSPC))
    with pytest.raises(OutputError) as caught:
        write_atomic(target, b"new")
    assert caught.value.message == f"no space left on {target}"
    assert caught.value.hint == (f"free some space on that disk (`df -h {tmp_path}` shows how much is left) or "
                                 "build in another folder with --out; no half-written file was kept")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"] and target.read_bytes() == b"old"


def test_a_quota_is_a_full_disk_too_and_any_other_failure_names_its_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "replace", failing(errno.EDQUOT))
    with pytest.raises(OutputError, match="^no space left on "):
        write_atomic(tmp_path / "a", b"x")
    monkeypatch.setattr(atomic.os, "replace", failing(errno.EACCES))
    with pytest.raises(OutputError) as caught:
        write_atomic(tmp_path / "a", b"x")
    assert caught.value.message == f"cannot write {tmp_path / 'a'}: Permission denied"
    assert caught.value.hint == "make it writable for you, or build in another folder with --out"
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_folder_should_be_is_named(tmp_path):
    (tmp_path / "results").write_text("")
    with pytest.raises(OutputError) as caught:
        write_atomic(tmp_path / "results" / "quick" / "x.json", b"{}")
    assert caught.value.message.startswith(f"cannot write {tmp_path / 'results' / 'quick' / 'x.json'}: ")


@pytest.mark.parametrize("blocker", ["results", "results/quick", "results/quick/toy_mlp"])
def test_ensure_writable_names_a_file_where_the_build_keeps_a_folder(tmp_path, blocker):
    (tmp_path / blocker).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / blocker).write_text("")
    with pytest.raises(OutputError) as caught:
        ensure_writable([tmp_path / "results" / "quick" / "toy_mlp" / "seed-0.json"])
    assert caught.value.message == f"{tmp_path / blocker} is not a folder, but the build keeps one there"
    assert caught.value.hint == "move it out of the way, or build in another folder with --out"


def test_ensure_writable_names_a_dangling_link_where_the_build_keeps_a_folder(tmp_path):
    (tmp_path / "logs").symlink_to(tmp_path / "gone")
    with pytest.raises(OutputError, match=f"^{tmp_path / 'logs'} is not a folder"):
        ensure_writable([], folders=[tmp_path / "logs"])


def test_ensure_writable_names_a_folder_where_the_build_writes_a_file(tmp_path):
    (tmp_path / "report.html").mkdir()
    with pytest.raises(OutputError) as caught:
        ensure_writable([tmp_path / "ledger.json", tmp_path / "report.html"])
    assert caught.value.message == f"{tmp_path / 'report.html'} is a folder, where the build writes a file"


def test_ensure_writable_names_a_folder_it_may_not_write_to(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()
    monkeypatch.setattr(atomic.tempfile, "TemporaryFile", failing(errno.EROFS))
    with pytest.raises(OutputError) as caught:
        ensure_writable([tmp_path / "results" / "quick" / "seed-0.json"])
    assert caught.value.message == f"cannot write {tmp_path / 'results'}: Read-only file system"


def test_ensure_writable_accepts_folders_still_to_be_made_and_makes_nothing(tmp_path):
    (tmp_path / "ledger.json").write_text("{}")
    ensure_writable([tmp_path / "ledger.json", tmp_path / "results" / "quick" / "x.json"],
                    folders=[tmp_path / "logs"])
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]


def test_sweep_removes_the_temporary_files_of_a_killed_writer_and_nothing_else(tmp_path):
    for name in (".report.tmp-123.html", ".hashes.tmp-9.json", "report.html", ".lock", ".render-key"):
        (tmp_path / name).write_text("")
    sweep_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", ".render-key", "report.html"]


def test_a_full_disk_found_on_a_folder_asks_to_check_that_folder(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()
    monkeypatch.setattr(atomic.tempfile, "TemporaryFile", failing(errno.ENOSPC))
    with pytest.raises(OutputError) as caught:
        ensure_writable([], folders=[tmp_path / "results"])
    assert caught.value.message == f"no space left on {tmp_path / 'results'}"
    assert f"`df -h {tmp_path / 'results'}`" in caught.value.hint


def test_a_failure_without_an_error_text_is_named_by_the_exception(tmp_path):
    error = atomic.write_error(tmp_path / "a", OSError("the device went away"))
    assert error.message == f"cannot write {tmp_path / 'a'}: the device went away"


def test_a_tool_complaining_of_a_full_disk_is_reported_as_one_and_any_other_complaint_is_not(tmp_path):
    with pytest.raises(OutputError) as caught:
        atomic.raise_if_disk_full(tmp_path / "report.pdf", "error: writing report.pdf: No space left on device")
    assert caught.value.message == f"no space left on {tmp_path / 'report.pdf'}"
    atomic.raise_if_disk_full(tmp_path / "report.pdf", "error: unknown font 'Foo'")
