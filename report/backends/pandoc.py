"""The embedded renderer: pandoc (from pypandoc-binary) to HTML, and to Typst compiled by ``typst``."""
from __future__ import annotations

import logging
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from report.errors import RendererError
from report.atomic import raise_if_disk_full, replacing, write_atomic
from report.fingerprint import library_versions
from report.machine import tool_version

log = logging.getLogger("report")

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FILTERS = ("crossref.lua", "layout.lua", "links.lua")  # in this order: links.lua sees the final ids
NUMBERING = (*(arg for name in FILTERS for arg in ("--lua-filter", str(ASSETS / name))),
             "--number-sections")  # every format
HTML_PAGE = ("--standalone", "--toc")  # the HTML page; report.html also embeds its figures and CSS


class PandocBackend:
    """``render(document, formats) -> {format: path}`` with pandoc and typst.

    ``fonts`` are the PDF's font families, first choice first (a later one supplies the glyphs
    an earlier one lacks); ``font_paths`` are folders with fonts beyond the system's.
    """

    def __init__(self, pandoc: str, fonts: tuple[str, ...] = (), font_paths: tuple[Path, ...] = ()):
        self.pandoc, self.fonts, self.font_paths = pandoc, fonts, font_paths

    @classmethod
    def find(cls, fonts: tuple[str, ...] = (), font_paths: tuple[Path, ...] = ()) -> "PandocBackend":
        try:
            import pypandoc

            return cls(pypandoc.get_pandoc_path(), fonts, font_paths)
        except (ImportError, OSError) as exc:
            raise RendererError(f"no pandoc renderer available ({exc})",
                                "pip install pypandoc-binary typst, or install quarto") from None

    def render(self, document: Path, formats: list[str]) -> dict[str, Path]:
        renderers = {"html": self._html, "pdf": self._pdf, "md": self._markdown}
        document = document.resolve()  # pandoc runs in the document's folder
        with ThreadPoolExecutor(len(formats) or 1) as pool:  # the formats render side by side
            futures = {fmt: pool.submit(renderers[fmt], document) for fmt in formats}
            return {fmt: future.result() for fmt, future in futures.items()}

    def versions(self) -> dict[str, str]:
        return {"pandoc": tool_version([self.pandoc, "--version"]), "typst": library_versions(("typst",))["typst"]}

    def command(self, document: Path, to: str, output: Path, *extra: str) -> list[str]:
        """The pandoc argument list (never a shell string)."""
        return [self.pandoc, document.name, "--from", "markdown", "--to", to, "--output", str(output),
                *NUMBERING, *extra]

    def _run(self, args: list[str], document: Path, out: Path) -> None:
        """Run pandoc on ``document`` for the output ``out``; its complaint, without Haskell's call
        stack, on failure."""
        result = subprocess.run(args, cwd=document.parent, capture_output=True, text=True)
        if result.returncode == 0:
            return
        complaint = result.stderr.split("HasCallStack backtrace:")[0].strip()
        raise_if_disk_full(out, complaint)
        raise RendererError(f"pandoc failed ({result.returncode}): {complaint[:2000]}",
                            f"inspect {document} at the place pandoc names")

    def _html(self, document: Path) -> Path:
        out = document.with_suffix(".html")
        with replacing(out) as tmp:
            self._run(self.command(document, "html5", tmp, *HTML_PAGE, "--embed-resources",
                                   "--css", str(ASSETS / "report.css")), document, out)
        return out

    def _markdown(self, document: Path) -> Path:
        out = document.with_suffix(".md")
        with replacing(out) as tmp:
            self._run(self.command(document, "gfm", tmp, "--standalone"), document, out)  # pragma: no mutate (pandoc reads format names case-blind)
        return out

    def typst_preamble(self) -> str:
        families = ", ".join(f'"{font}"' for font in self.fonts)
        font = f"font: ({families},), " if self.fonts else ""
        return "\n".join([f'#set text({font}lang: "en")',
                          "#show figure.where(kind: table): set block(breakable: true)"])  # long tables go on

    def _pdf(self, document: Path) -> Path:
        import typst

        typ = document.with_suffix(".typ")
        with replacing(typ) as tmp:  # a full disk leaves no half-written Typst source
            # --wrap=none: pandoc escapes a minus sign it wraps to the start of a line, and
            # typst prints the escaped one as a hyphen, the others as minus signs
            self._run(self.command(document, "typst", tmp, "--standalone", "--toc", "--wrap=none",  # pragma: no mutate (pandoc reads format names case-blind)
                                   "--variable", f"header-includes={self.typst_preamble()}",
                                   "--variable", "papersize=a4"), document, typ)
        try:
            pdf, warnings = typst.compile_with_warnings(str(typ), root=str(document.parent),
                                                        font_paths=[str(p) for p in self.font_paths])
        except Exception as exc:  # typst raises its own error type with the source location
            raise RendererError(f"typst could not compile {typ}: {exc}", "inspect the .typ file") from None
        for message in sorted({w.message for w in warnings if w.message.startswith("unknown font family")}):
            # typst falls back to another font: the PDF is written, but glyphs it lacks are empty boxes
            log.warning("the PDF was typeset without a font it asks for (typst: %s); install that font, "
                        "or name a folder holding it in the project's font_paths", message)
        out = document.with_suffix(".pdf")
        write_atomic(out, pdf)
        return out

