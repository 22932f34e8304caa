"""The page ``--watch`` shows: the report's Markdown as HTML, fast enough to follow each save.

    >>> preview = PreviewHtml(pandoc, css_url="/__watch/report.css")
    >>> page = preview.html(document.text)   # about a third of a full pandoc run after a small edit

Pandoc spends most of its time reading Markdown, and an edit changes one section of the
report. So the document is cut before each top-level heading, each piece is read once into
pandoc's JSON form and remembered by its text, and only the pieces that changed are read
again; the pieces are joined and written as HTML with the options of ``report.html``, in one
pandoc run, so section numbers, cross-references and the table of contents span the whole
report. Figures and the style sheet are linked, not embedded (the server has them): embedding
them is the slow half of writing ``report.html``, which follows in the background.
"""
from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

from report.backends.pandoc import ASSETS, HTML_PAGE, NUMBERING
from report.errors import RendererError

FENCE = re.compile(r"^(`{3,}|~{3,})")
DIV_OPEN = re.compile(r"^:{3,}\s*\S")
DIV_CLOSE = re.compile(r"^:{3,}\s*$")
STYLE = ASSETS / "report.css"  # what report.html embeds; the preview links it
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:", re.MULTILINE)  # a link or footnote defined apart from its use


def split_at_headings(markdown: str) -> list[str]:
    """The document cut before each level-1 heading that starts a block outside code and fenced
    divs, so that pandoc reads each piece alone as it reads it in the whole. A document that
    defines reference links or footnotes (which one piece may use and another define) stays whole."""
    if REFERENCE.search(markdown):
        return [markdown]
    lines = markdown.splitlines(keepends=True)
    start = _front_matter_end(lines)
    pieces, current = [], lines[:start]
    fence, divs, after_blank = "", 0, True
    for line in lines[start:]:
        if not fence and not divs and after_blank and line.startswith("# ") and current:
            pieces.append("".join(current))
            current = []
        fence, divs = _block_state(line, fence, divs)
        current.append(line)
        after_blank = not line.strip()
    return [*pieces, "".join(current)]


def _front_matter_end(lines: list[str]) -> int:
    """The index of the first line after a YAML metadata block that opens the document (0 if none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for index, line in enumerate(lines[1:], 1):
        if line.rstrip() in ("---", "..."):
            return index + 1
    return len(lines)


def _block_state(line: str, fence: str, divs: int) -> tuple[str, int]:
    """The code fence open after ``line`` ("" for none) and how many fenced divs are open."""
    if fence:
        marks = line.strip()
        return ("" if len(marks) >= len(fence) and set(marks) == {fence[0]} else fence), divs
    opened = FENCE.match(line)
    if opened:
        return opened.group(1), divs
    if DIV_CLOSE.match(line) and divs:
        return "", divs - 1
    return "", divs + 1 if DIV_OPEN.match(line) else divs


class PreviewHtml:
    """Markdown to a standalone HTML page, reading again only the pieces that changed."""

    def __init__(self, pandoc: str, css_url: str):
        self.pandoc, self.css_url = pandoc, css_url
        self._read: dict[str, dict] = {}  # piece of Markdown -> pandoc's JSON document of it

    def html(self, markdown: str) -> str:
        pieces = split_at_headings(markdown)
        missing = [piece for piece in dict.fromkeys(pieces) if piece not in self._read]
        with ThreadPoolExecutor(2) as pool:  # the first page reads every piece: two at a time
            fresh = dict(zip(missing, pool.map(self._parse, missing)))
        self._read = {piece: self._read.get(piece) or fresh[piece] for piece in pieces}  # only the current ones
        documents = [self._read[piece] for piece in pieces]
        joined = {**documents[0], "blocks": [block for doc in documents for block in doc["blocks"]]}
        return self._pandoc(["--from", "json", "--to", "html5", *NUMBERING, *HTML_PAGE, "--css", self.css_url],
                            json.dumps(joined, separators=(",", ":")))

    def _parse(self, piece: str) -> dict:
        return json.loads(self._pandoc(["--from", "markdown", "--to", "json"], piece))

    def _pandoc(self, args: list[str], text: str) -> str:
        result = subprocess.run([self.pandoc, *args], input=text, capture_output=True, text=True,
                                encoding="utf-8")
        if result.returncode != 0:
            complaint = result.stderr.split("HasCallStack backtrace:")[0].strip()
            raise RendererError(f"pandoc failed ({result.returncode}) on the preview: {complaint[:2000]}",
                                "fix the Markdown at the place pandoc names (the report.qmd of a build shows it)")
        return result.stdout

