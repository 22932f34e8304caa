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
    watch: Path       # held by `--watch` while it serves this folder; holds its address
    history: Path     # the last builds' ledgers and provenance, for --diff
    environment: Path  # the Python and packages of the build that --export packed (after --import)
    export_manifest: Path  # what --import unpacked, and where it came from
    verification: Path  # the last --verify: where, when, what it compared and what differed
    verify_logs: Path   # a failed rerun's traceback, apart from the builds' logs

    @classmethod
    def under(cls, root: Path) -> "OutputPaths":
        return cls(root, root / "results", root / "logs", root / ".lock", root / ".render-key",
                   root / ".cache" / "hashes.json", root / "report.qmd", root / "ledger.json",
                   root / "provenance.json", root / ".watch", root / "history", root / "environment.txt",
                   root / "report-export.json", root / "verification.json", root / "logs" / "verify")

    def report(self, fmt: str) -> Path:
        return self.root / f"report.{fmt}"

    def written(self, formats: list[str]) -> list[Path]:
        """The files a build replaces here, besides the store and the logs."""
        return [self.render_key, self.hashes, self.document, self.ledger, self.provenance,
                *(self.report(fmt) for fmt in formats)]
