"""The Quarto backend, used when a ``quarto`` executable is on PATH."""
from __future__ import annotations

import subprocess
from pathlib import Path

from report.errors import RendererError
from report.atomic import raise_if_disk_full, replacing
from report.machine import tool_version

QUARTO_FORMATS = {"html": "html", "pdf": "typst", "md": "gfm"}


class QuartoBackend:
    """``render(document, formats) -> {format: path}`` through ``quarto render``."""

    def __init__(self, quarto: str):
        self.quarto = quarto

    def command(self, document: Path, fmt: str, output: str) -> list[str]:
        """The argument list for one output format (never a shell string); ``output`` is a file
        name that quarto writes beside the document."""
        return [self.quarto, "render", document.name, "--to", QUARTO_FORMATS[fmt], "--output", output,
                "-M", "embed-resources:true", "-M", "number-sections:true"]

    def versions(self) -> dict[str, str]:
        """Quarto's own version and those of the pandoc and typst it bundles."""
        return {"quarto": tool_version([self.quarto, "--version"]),
                "pandoc": tool_version([self.quarto, "pandoc", "--version"]),
                "typst": tool_version([self.quarto, "typst", "--version"])}

    def render(self, document: Path, formats: list[str]) -> dict[str, Path]:
        outputs = {}
        for fmt in formats:
            out = document.with_suffix(f".{fmt}")
            with replacing(out) as tmp:
                result = subprocess.run(self.command(document, fmt, tmp.name), cwd=document.parent,
                                        capture_output=True, text=True)
                if result.returncode != 0:
                    raise_if_disk_full(out, result.stderr)
                    raise RendererError(f"quarto render failed: {result.stderr.strip()[:2000]}",
                                        "run the printed command by hand, or use --engine pandoc")
            outputs[fmt] = out
        return outputs
