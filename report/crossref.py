"""Cross-references: every ``@sec-x``, ``@fig-x`` and ``@tbl-x`` in the rendered Markdown names a
label the document defines, checked before any renderer runs.

    >>> unresolved(markdown, Path("templates"))   # None, or the TemplateProblem to raise
    TemplateProblem('unknown cross-reference @sec-nope at report.qmd.j2:4: ...')

A label is defined in Pandoc attributes: a heading's ``# Results {#sec-results}``, or the label
given to ``figure()``, ``table()`` and ``matrix()``. The assets' Lua filter numbers what the
labels name and turns each reference into "Section 2.1", "Figure 3" or "Table 2": a link in
the HTML, a Typst reference in the PDF. A reference inside code is code, not a reference.
"""
from __future__ import annotations

import re
from pathlib import Path

from report import sources
from report.errors import TemplateProblem

KINDS = {"sec": "section", "fig": "figure", "tbl": "table"}
REFERENCE = re.compile(r"(?<![\w@])@((sec|fig|tbl)-[\w:./-]*\w)")
LABEL = re.compile(r"\{[^{}\n]*?(?<=[{\s])#((sec|fig|tbl)-[^\s{}]+)[^{}\n]*\}")
CODE = re.compile(r"^(`{3,}|~{3,}).*?^\1|(`+)[^\n]+?\2", re.M | re.S)
CONTINUED = re.compile(r"(?<![\w@])@(?:sec|fig|tbl)-[\w:./-]*$")  # a label finished by an expression


def unresolved(markdown: str, template_dir: Path) -> TemplateProblem | None:
    """The error naming each reference to an undefined label, where it was typed and the labels
    there are; ``None`` when every reference resolves."""
    text = CODE.sub(" ", markdown)
    defined = {label: kind for label, kind in LABEL.findall(text)}
    unknown = [(label, kind) for label, kind in dict.fromkeys(REFERENCE.findall(text)) if label not in defined]
    if not unknown:
        return None
    typed = sources.pieces(template_dir)
    return TemplateProblem("; ".join(_unknown(label, kind, defined, typed) for label, kind in unknown),
                           "correct the reference, or give that label to what it refers to: a heading "
                           "`# Title {#sec-name}`, or the label argument of figure(), table() or matrix()")


def _unknown(label: str, kind: str, defined: dict[str, str], typed: list[sources.Piece]) -> str:
    known = sorted(name for name, of in defined.items() if of == kind)
    there = f"the {KINDS[kind]} labels are {', '.join(known)}" if known else f"no {KINDS[kind]} has a label"
    return (f"unknown cross-reference @{label} at {', '.join(_places(label, typed))}: "
            f"no {KINDS[kind]} is labelled {label} ({there})")


def _places(label: str, typed: list[sources.Piece]) -> list[str]:
    """Where ``@label`` was typed; else where a reference begins that an expression completes
    (``@fig-heat-{{ key }}``)."""
    exact = sources.places(typed, re.compile(rf"(?<![\w@])@{re.escape(label)}(?![\w:./-]*\w)"))
    begun = [f"{piece.template}:{piece.line + piece.text.count(chr(10))}" for piece in typed
             if piece.kind == "prose" and (start := CONTINUED.search(piece.text)) and label.startswith(start.group()[1:])]
    return exact or list(dict.fromkeys(begun)) or ["a template (not found in the sources)"]
