"""Every file and folder the engine keeps under the output folder, named once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputPaths:
    root: Path

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def render_key(self) -> Path:
        return self.root / ".render-key"

    @property
    def hashes(self) -> Path:
        return self.root / ".cache" / "hashes.json"

    @property
    def document(self) -> Path:
        return self.root / "report.qmd"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.json"

    @property
    def provenance(self) -> Path:
        return self.root / "provenance.json"

    def report(self, fmt: str) -> Path:
        return self.root / f"report.{fmt}"
