"""Every file and folder the engine keeps under the output folder, named once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VERIFY_SCRATCH = ".verify-"  # prefix of the scratch store a --verify reruns into, removed afterwards


@dataclass(frozen=True)
class OutputPaths:
    root: Path
    results: Path     # the store: one folder per profile
    logs: Path        # a failed unit's traceback
    lock: Path        # held by the build using this folder
    render_key: Path  # hash of what the rendered report depends on
    hashes: Path      # input-file hashes remembered across builds
    document: Path    # the rendered Markdown that the backends read
    ledger: Path      # every printed number and its source
    provenance: Path  # commit, machine, and each section's runs
    verification: Path  # the last --verify: where, when, what it compared and what differed
    verify_logs: Path   # a failed rerun's traceback, apart from the builds' logs

    @classmethod
    def under(cls, root: Path) -> "OutputPaths":
        return cls(root, root / "results", root / "logs", root / ".lock", root / ".render-key",
                   root / ".cache" / "hashes.json", root / "report.qmd", root / "ledger.json",
                   root / "provenance.json", root / "verification.json", root / "logs" / "verify")

    def report(self, fmt: str) -> Path:
        return self.root / f"report.{fmt}"
