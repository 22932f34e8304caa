"""Where a report came from: the code's commit, the machine, and each section's run."""
from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone

from report.fingerprint import PROJECT_ROOT, library_versions


def git_state() -> tuple[str, bool]:
    """The commit hash and whether the working tree has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return "not a git checkout with commits", False
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return head.stdout.strip(), bool(dirty.stdout.strip())


def collect(profile: str, sections: list[dict], git: tuple[str, bool]) -> dict:
    """The provenance record the appendix prints, as JSON data; ``git`` is ``git_state()``."""
    commit, dirty = git
    versions = library_versions()
    return {
        "commit": commit,
        "dirty": dirty,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": versions["python"],
        "torch": versions["torch"],
        "numpy": versions["numpy"],
        "platform": platform.platform(),
        "profile": profile,
        "sections": sections,
    }
