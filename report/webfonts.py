"""The glyphs the HTML needs from the project's own fonts, carried in the file itself.

A PDF embeds its fonts; an HTML file shows what the reader's machine has, and a machine without
a Japanese font shows the report's hiragana as empty boxes. ``embed`` adds to the HTML's head an
``@font-face`` rule for each font file in the project's font folders (``Project.font_paths``)
that has some of the document's CJK (or later) characters: the subset of those glyphs as a data
URI, its ``unicode-range`` limited to them so no other text changes font. The stylesheet's font
list must name the family (``report.css`` names IPAexGothic). A few kilobytes for a few glyphs.

    >>> html = embed(html, project.font_paths)
"""
from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError

# fontTools tells of every table and glyph it prunes at INFO, which the build's log would print
logging.getLogger("fontTools").setLevel(logging.WARNING)

FIRST_WIDE = 0x2E80  # CJK radicals and everything after: what the text fonts lack
FONT_SUFFIXES = (".ttf", ".otf")


def embed(html: str, font_paths) -> str:
    """``html`` with the font faces its wide characters need in its head; unchanged when none."""
    css = faces({ord(c) for c in set(html) if ord(c) >= FIRST_WIDE}, font_paths)
    if not css:
        return html
    head, _, tail = html.rpartition("</head>")
    return f"{head}<style>\n{css}</style>\n</head>{tail}"


def faces(wanted: set[int], font_paths) -> str:
    """One ``@font-face`` per font file with some of the ``wanted`` code points (the first file in
    name order that has a character gives it)."""
    rules = []
    for file in _font_files(font_paths):
        covered = wanted & _code_points(file)
        if covered:
            rules.append(_face(file, covered))
            wanted = wanted - covered  # a new set: the caller's stays as it was
    return "".join(rules)


def _font_files(font_paths) -> list[Path]:
    return sorted(file for folder in font_paths for file in Path(folder).glob("*")
                  if file.suffix.lower() in FONT_SUFFIXES)


def _code_points(file: Path) -> set[int]:
    try:
        with TTFont(file, lazy=True) as font:
            return set(font.getBestCmap() or {})
    except (OSError, TTLibError):  # unreadable or not a font: the reader's own fonts will do
        return set()


def _face(file: Path, code_points: set[int]) -> str:
    options = subset.Options()
    font = subset.load_font(str(file), options)
    family = font["name"].getBestFamilyName()
    subsetter = subset.Subsetter(options)  # pragma: no mutate (Subsetter(None) makes the same default Options)
    subsetter.populate(unicodes=code_points)
    subsetter.subset(font)
    data = io.BytesIO()
    subset.save_font(font, data, options)
    ranges = ", ".join(f"U+{point:X}" for point in sorted(code_points))
    uri = f"data:font/{file.suffix[1:].lower()};base64,{base64.b64encode(data.getvalue()).decode()}"
    return f'@font-face {{ font-family: "{family}"; unicode-range: {ranges};\n  src: url({uri}); }}\n'



__all__ = ["embed", "faces"]
