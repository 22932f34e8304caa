"""Where a report came from: the code's commit, the machine, and each section's run."""
from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path


def git_state(root: Path) -> tuple[str, bool]:
    """The commit hash of the checkout at ``root`` and whether it has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return "not a git checkout with commits", False
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return head.stdout.strip(), bool(dirty.stdout.strip())


def collect(profile: str, sections: list[dict], git: tuple[str, bool], versions: dict[str, str]) -> dict:
    """The provenance record the appendix prints, as JSON data; ``git`` is ``git_state()``,
    ``versions`` Python's and the project's libraries' (``fingerprint.library_versions``)."""
    commit, dirty = git
    return {
        "commit": commit,
        "dirty": dirty,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
        "platform": platform.platform(),
        "profile": profile,
        "sections": sections,
    }
