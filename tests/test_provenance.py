"""Where a report came from: the checkout's commit and whether it had changes, the machine, the runs."""
import platform
import subprocess
from datetime import datetime, timezone

from report import machine
from report.provenance import collect, git_state, machines


def git(folder, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=folder, check=True,
                   capture_output=True)


def test_a_folder_that_is_no_git_checkout_says_so(tmp_path):
    assert git_state(tmp_path) == ("not a git checkout with commits", False)


def test_the_commit_is_named_and_only_changes_to_tracked_files_make_it_dirty(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    (tmp_path / "untracked.txt").write_text("new")
    assert git_state(tmp_path) == (head, False)
    (tmp_path / "a.txt").write_text("changed")
    assert git_state(tmp_path) == (head, True)


def test_the_record_holds_commit_date_versions_machine_profile_and_sections():
    before = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    prov = collect("quick", [{"name": "counting"}], ("abc123", True), {"python": "3.11.7"}, {"pandoc": "3.9"})
    assert {k: v for k, v in prov.items() if k != "date"} == {
        "commit": "abc123", "dirty": True, "versions": {"python": "3.11.7"}, "platform": platform.platform(),
        "profile": "quick", "sections": [{"name": "counting"}], "machine": machine.host(),
        "renderer": {"pandoc": "3.9"}, "machines": []}
    date = datetime.strptime(prov["date"], "%Y-%m-%d %H:%M UTC").replace(tzinfo=timezone.utc)
    assert before <= date <= datetime.now(timezone.utc)


def test_a_machine_recorded_with_some_facts_missing_shows_a_question_mark_for_each():
    sections = [{"name": "a", "units": [{"seed": 1, "machine": {"gpu": "H100"}}]}, {"name": "b"}]
    assert machines(sections) == [{"host": "?", "cpu": "?, ? logical cores", "threads": "", "libraries": "",
                                   "gpu": "H100", "runs": "a seed 1"}]
    assert machines([{"name": "a", "units": [{"seed": 1, "machine": {"host": "box"}}]}])[0]["gpu"] == ""
