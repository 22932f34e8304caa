"""Where a piece of the rendered report was typed: the templates' text, read by Jinja's own lexer.

    >>> places(pieces(Path("templates")), re.compile(r"\\b97\\.5%"))
    ['kmnist.qmd.j2:12']

A template holds three kinds of typed text: prose (what Jinja copies to the output as it
stands), string literals inside ``{{ }}`` and ``{% %}`` (a caption passed to ``figure()``, a
``{{ "..." }}``), and number literals there (``lit(10)``, ``[0, 1]``, ``m.pairs[:3]``). Comments
and the rest of an expression are not text the report shows. The delimiters are the
renderer's: Jinja comments are ``<#-- ... --#>``, since ``{#`` opens Pandoc attributes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

SYNTAX = {"comment_start_string": "<#--", "comment_end_string": "--#>", "keep_trailing_newline": True}
KINDS = {"data": "prose", "string": "string", "integer": "number", "float": "number"}


@dataclass(frozen=True)
class Piece:
    """A run of typed text in a template, from its first line."""

    template: str
    line: int
    text: str
    kind: str  # "prose", "string" or "number"

    def lines_of(self, pattern: re.Pattern) -> list[int]:
        """The template line of each match of ``pattern`` in this piece."""
        return [self.line + self.text.count("\n", 0, match.start()) for match in pattern.finditer(self.text)]


def pieces(template_dir: Path) -> list[Piece]:
    """Every piece of typed text in the templates of ``template_dir``, template by template."""
    lexer = jinja2.Environment(**SYNTAX)
    found = []
    for template in sorted(template_dir.glob("*.j2")):
        try:
            tokens = list(lexer.lex(template.read_text(encoding="utf-8"), template.name))
        except jinja2.TemplateSyntaxError:
            continue  # the render names it; here it is only a place to look
        found += [Piece(template.name, line, text, KINDS[kind]) for line, kind, text in tokens if kind in KINDS]
    return found


def places(found: list[Piece], pattern: re.Pattern, kinds=("prose", "string")) -> list[str]:
    """``template:line`` of every match of ``pattern`` in the pieces of the given kinds."""
    return list(dict.fromkeys(f"{piece.template}:{line}" for piece in found
                              if piece.kind in kinds for line in piece.lines_of(pattern)))
