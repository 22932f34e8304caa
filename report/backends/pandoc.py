"""The embedded renderer: pandoc (from pypandoc-binary) to HTML, and to Typst compiled by ``typst``."""
from __future__ import annotations

import importlib.util
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from report.errors import RendererError
from report.store import write_atomic

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TYPST_PREAMBLE = "\n".join([
    '#set text(font: ("Libertinus Serif", "IPAexGothic"), lang: "en")',  # hiragana from IPAexGothic
    "#show figure.where(kind: table): set block(breakable: true)",  # long tables continue on the next page
])


class PandocBackend:
    """``render(document, formats) -> {format: path}`` with pandoc and typst."""

    def __init__(self, pandoc: str):
        self.pandoc = pandoc

    @classmethod
    def find(cls) -> "PandocBackend":
        try:
            import pypandoc

            return cls(pypandoc.get_pandoc_path())
        except (ImportError, OSError) as exc:
            raise RendererError(f"no pandoc renderer available ({exc})",
                                "pip install pypandoc-binary typst, or install quarto") from None

    def render(self, document: Path, formats: list[str]) -> dict[str, Path]:
        renderers = {"html": self._html, "pdf": self._pdf, "md": self._markdown}
        document = document.resolve()  # pandoc runs in the document's folder
        with ThreadPoolExecutor(len(formats) or 1) as pool:  # the formats render side by side
            futures = {fmt: pool.submit(renderers[fmt], document) for fmt in formats}
            return {fmt: future.result() for fmt, future in futures.items()}

    def command(self, document: Path, to: str, output: Path, *extra: str) -> list[str]:
        """The pandoc argument list (never a shell string)."""
        return [self.pandoc, document.name, "--from", "markdown", "--to", to, "--output", str(output),
                "--lua-filter", str(ASSETS / "crossref.lua"), "--number-sections", *extra]

    def _run(self, args: list[str], cwd: Path) -> None:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RendererError(f"pandoc failed ({result.returncode}): {result.stderr.strip()[:2000]}",
                                f"inspect {cwd / 'report.qmd'} at the place pandoc names")

    def _html(self, document: Path) -> Path:
        out = document.with_suffix(".html")
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        self._run(self.command(document, "html5", tmp, "--standalone", "--embed-resources", "--toc",
                               "--css", str(ASSETS / "report.css")), document.parent)
        tmp.replace(out)
        return out

    def _markdown(self, document: Path) -> Path:
        out = document.with_suffix(".md")
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        self._run(self.command(document, "gfm", tmp, "--standalone"), document.parent)
        tmp.replace(out)
        return out

    def _pdf(self, document: Path) -> Path:
        import typst

        typ = document.with_suffix(".typ")
        self._run(self.command(document, "typst", typ, "--standalone", "--toc",
                               "--variable", f"header-includes={TYPST_PREAMBLE}",
                               "--variable", "papersize=a4"), document.parent)
        try:
            pdf = typst.compile(str(typ), root=str(document.parent), font_paths=font_paths())
        except Exception as exc:  # typst raises its own error type with the source location
            raise RendererError(f"typst could not compile {typ}: {exc}", "inspect the .typ file") from None
        out = document.with_suffix(".pdf")
        write_atomic(out, pdf)
        return out


def font_paths() -> list[str]:
    """Folders with fonts that have the hiragana glyphs (IPAexGothic from matplotlib-fontja)."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [str(Path(spec.submodule_search_locations[0]) / "fonts")]
