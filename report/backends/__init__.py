"""Markdown to HTML, PDF and Markdown: ``quarto`` when installed, else the embedded pandoc+typst.

    >>> backend = choose("auto")
    >>> outputs = backend.render(Path("_build/report.qmd"), ["html", "pdf"])  # {"html": Path, ...}

Every backend writes each output to a temporary file and renames it into place, so a
failed render leaves the previous report whole.
"""
from __future__ import annotations

import shutil

from report.backends.pandoc import PandocBackend
from report.backends.quarto import QuartoBackend
from report.errors import RendererError

FORMATS = ("html", "pdf", "md")


def choose(engine: str):
    """The backend for ``--engine``: ``auto`` prefers quarto when it is on PATH."""
    quarto = shutil.which("quarto")
    if engine == "quarto" or (engine == "auto" and quarto):
        if not quarto:
            raise RendererError("--engine quarto: no `quarto` executable on PATH",
                                "install Quarto from quarto.org, or use --engine pandoc")
        return QuartoBackend(quarto)
    return PandocBackend.find()
