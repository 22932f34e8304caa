"""The Quarto backend, used when a ``quarto`` executable is on PATH."""
from __future__ import annotations

import subprocess
from pathlib import Path

from report.errors import RendererError

QUARTO_FORMATS = {"html": "html", "pdf": "typst", "md": "gfm"}


class QuartoBackend:
    """``render(document, formats) -> {format: path}`` through ``quarto render``."""

    def __init__(self, quarto: str):
        self.quarto = quarto

    def command(self, document: Path, fmt: str) -> list[str]:
        """The argument list for one output format (never a shell string)."""
        return [self.quarto, "render", document.name, "--to", QUARTO_FORMATS[fmt],
                "-M", "embed-resources:true", "-M", "number-sections:true"]

    def render(self, document: Path, formats: list[str]) -> dict[str, Path]:
        outputs = {}
        for fmt in formats:
            result = subprocess.run(self.command(document, fmt), cwd=document.parent,
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise RendererError(f"quarto render failed: {result.stderr.strip()[:2000]}",
                                    "run the printed command by hand, or use --engine pandoc")
            outputs[fmt] = document.with_suffix({"html": ".html", "pdf": ".pdf", "md": ".md"}[fmt])
        return outputs
