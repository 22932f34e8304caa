"""Markdown to HTML, PDF and Markdown: ``quarto`` when installed, else the embedded pandoc+typst.

Every backend writes each output to a temporary file and renames it into place
(``report.atomic.replacing``), so a failed render leaves the previous report whole.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol

from report.backends.pandoc import PandocBackend
from report.backends.quarto import QuartoBackend
from report.errors import RendererError
from report.project import Project

FORMATS = ("html", "pdf", "md")


class Backend(Protocol):
    """Turns the rendered document into output files beside it.

        >>> backend = choose("auto", project)
        >>> backend.render(Path("_build/report.qmd"), ["html", "pdf"])
        {'html': PosixPath('_build/report.html'), 'pdf': PosixPath('_build/report.pdf')}

    Raises ``RendererError`` naming the tool's complaint; never leaves a half-written output.
    """

    def render(self, document: Path, formats: list[str]) -> dict[str, Path]: ...

    def versions(self) -> dict[str, str]:
        """The versions of the tools that render, for the provenance: ``{"pandoc": "3.1.11", ...}``."""
        ...


def choose(engine: str, project: Project) -> Backend:
    """The backend for ``--engine``: ``auto`` prefers quarto when it is on PATH."""
    quarto = shutil.which("quarto")
    if engine == "quarto" or (engine == "auto" and quarto):
        if not quarto:
            raise RendererError("--engine quarto: no `quarto` executable on PATH",
                                "install Quarto from quarto.org, or use --engine pandoc")
        return QuartoBackend(quarto)
    return PandocBackend.find(project.pdf_fonts, project.font_paths)
