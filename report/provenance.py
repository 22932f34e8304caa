"""Where a report came from: the code's commit, the machine, and each section's run."""
from __future__ import annotations

import json
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from report import machine


def git_state(root: Path) -> tuple[str, bool]:
    """The commit hash of the checkout at ``root`` and whether it has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return "not a git checkout with commits", False
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return head.stdout.strip(), bool(dirty.stdout.strip())


def collect(profile: str, sections: list[dict], git: tuple[str, bool], versions: dict[str, str],
            renderer: dict[str, str] | None = None) -> dict:
    """The provenance record the appendix prints, as JSON data; ``git`` is ``git_state()``,
    ``versions`` Python's and the project's libraries' (``fingerprint.library_versions``),
    ``renderer`` the rendering tools' (``Backend.versions()``). Each unit of ``sections`` may
    hold the ``machine`` its result was computed on (``machine.describe()``)."""
    commit, dirty = git
    return {
        "commit": commit,
        "dirty": dirty,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
        "platform": platform.platform(),
        "profile": profile,
        "sections": sections,
        "machine": machine.host(),
        "renderer": renderer or {},
        "machines": machines(sections),
    }


def machines(sections: list[dict]) -> list[dict]:
    """Each machine that computed a shown result, as the appendix lists it, with the runs it computed."""
    runs: dict[str, list[str]] = {}
    facts: dict[str, dict] = {}
    for section in sections:
        for unit in section.get("units", []):
            if unit.get("machine") is None:  # nothing stored to describe
                continue
            key = json.dumps(unit["machine"], sort_keys=True)
            facts[key] = unit["machine"]
            runs.setdefault(key, []).append(f"{section['name']} seed {unit['seed']}")
    return [_listing(facts[key], ", ".join(labels)) for key, labels in runs.items()]


def _listing(facts: dict, runs: str) -> dict:
    """A machine's facts as strings, ready to print; a record stored before machines were recorded says so."""
    if not facts:
        return {"host": machine.NOT_RECORDED, "cpu": "", "threads": "", "libraries": "", "gpu": "", "runs": runs}
    libraries = "; ".join(f"{name}: {build}" for name, build in facts.get("libraries", {}).items())
    return {"host": facts.get("host", "?"), "cpu": f"{facts.get('cpu', '?')}, {facts.get('cores', '?')} logical cores",
            "threads": machine.threads_text(facts.get("threads", {})), "libraries": libraries,
            "gpu": facts.get("gpu", ""), "runs": runs}
