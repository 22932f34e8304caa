"""The checks that the document says what the results say.

- ``untraced_numbers``: a number in the Markdown that no filter printed (typed by hand).
- ``verify_html``: every traced number in the HTML equals its stored value, formatted the
  same way, and no other number appears outside headings' and captions' own numbering.
- ``verify_pdf``: every traced number appears in the PDF's text.
"""
from __future__ import annotations

import re
import statistics
from html.parser import HTMLParser
from pathlib import Path

from report.ledger import format_value
from report.values import lookup, seed_values

NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*%?(?![\w])")
CODE = re.compile(r"`[^`\n]*`")  # identifiers such as result paths, not prose numbers
SPAN = re.compile(r"\[(?:[^\[\]\\]|\\.)*\]\{#n\d+ \.num title=\"[^\"]*\"\}")
FIGURE_TARGET = re.compile(r"\]\([^)]*\)\{[^}]*\}|\{#(?:fig|tbl|sec)-[^}]*\}|\{\.[^}]*\}")
EXEMPT_CLASSES = {"header-section-number", "xref-label", "toc-section-number"}


def untraced_numbers(markdown: str, template_dir: Path) -> list[str]:
    """Numbers in the rendered Markdown that did not come through a filter, with template lines."""
    body = markdown.split("\n---\n", 1)[1] if markdown.startswith("---\n") else markdown
    stripped = CODE.sub("", FIGURE_TARGET.sub("", SPAN.sub("", body)))
    problems = []
    for token in sorted(set(NUMBER.findall(stripped))):
        places = _template_lines(token, template_dir) or ["a template (not found in the sources)"]
        problems.append(f"number {token!r} is typed into {', '.join(places)}, not taken from results; "
                        "print it from a result with a filter, or declare it with lit()")
    return problems


def _template_lines(token: str, template_dir: Path) -> list[str]:
    pattern = re.compile(rf"(?<![\w.]){re.escape(token)}(?![\w])")
    places = []
    for template in sorted(template_dir.glob("*.j2")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|<#--.*?--#>", "", line)
            if pattern.search(text):
                places.append(f"{template.name}:{number}")
    return places


class _NumberSpans(HTMLParser):
    """Collects traced spans (id, title, text) and the text outside them."""

    def __init__(self):
        super().__init__()
        self.spans, self.loose, self._stack = [], [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        if tag in ("script", "style", "title", "nav", "code"):
            kind = "skip"
        elif tag == "span" and "num" in classes:
            kind = "num"
            self.spans.append([attributes.get("id"), attributes.get("title"), ""])
        elif classes & EXEMPT_CLASSES:
            kind = "skip"
        else:
            kind = None  # pragma: no mutate: "" works alike, handle_data only tests for "num" and "skip"
        self._stack.append((tag, kind))

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break  # pragma: no mutate: return is the same, nothing follows the loop

    def handle_data(self, data):
        kinds = [kind for _, kind in self._stack]
        if "num" in kinds:
            self.spans[-1][2] += data
        elif "skip" not in kinds:
            self.loose.append(data)


def verify_html(html: str, ledger: list[dict], results: dict) -> list[str]:
    """Each traced number equals its stored value; nothing else numeric is printed."""
    parser = _NumberSpans()
    parser.feed(html)
    by_id = {entry["id"]: entry for entry in ledger}
    problems = []
    for span_id, path, text in parser.spans:
        entry = by_id.get(span_id)
        expected = _expected_text(entry, results) if entry else None
        if expected is None or _unsmart(" ".join(text.split())) != _unsmart(expected):
            origin = f" ({entry['template']}:{entry['line']})" if entry else ""
            problems.append(f"report.html #{span_id}{origin}: prints {text!r} from {path}, "
                            f"the store gives {expected!r}")
    for token in NUMBER.findall(" ".join(parser.loose)):
        problems.append(f"report.html: number {token!r} is not traced to a result")
    return problems


SMART = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...",
                       "\u2013": "--", "\u2014": "---"})


def _unsmart(text: str) -> str:
    """Undo pandoc's typography (curly quotes, dashes, ellipses), which prose values go through."""
    return text.translate(SMART)


def _expected_text(entry: dict, results: dict) -> str | None:
    path = entry["path"]
    if path.startswith("literal:"):
        return entry["text"]
    try:
        if path.startswith(("mean(", "sd(")):
            return format_value(entry["kind"], _aggregate(results, path), entry["digits"])
        if path.startswith("len("):
            return format_value(entry["kind"], len(lookup(results, path[4:-1])), entry["digits"])
        return format_value(entry["kind"], lookup(results, path), entry["digits"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _aggregate(results: dict, path: str) -> float:
    """Recompute ``mean(kmnist@*.models.lin.accuracy)`` or ``sd(...)`` from every seed's result."""
    function, _, inner = path[:-1].partition("(")
    section, _, rest = inner.partition("@*.")
    values = list(seed_values(results, section, rest).values())
    return statistics.fmean(values) if function == "mean" else statistics.stdev(values)


def verify_pdf(pdf: Path, ledger: list[dict]) -> list[str]:
    """Every traced number appears in the PDF's text (order-free, with multiplicity)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        text = _squeeze(" ".join(page.extract_text() or "" for page in PdfReader(pdf).pages))
    except (PyPdfError, ValueError, OSError) as exc:
        return [f"report.pdf cannot be read as a PDF ({exc}); rebuild it with `python build.py`"]
    problems = []
    for entry in ledger:
        printed = _squeeze(entry["text"])
        if printed and printed not in text:
            problems.append(f"report.pdf: {entry['path']} = {entry['text']!r} is missing from the PDF text")
    return problems


def _squeeze(text: str) -> str:
    """Drop whitespace (PDF text breaks lines anywhere) and the zero-width spaces that let a long
    word break in a table cell, and read typst's minus sign as "-"."""
    return re.sub(r"[\s\u200b]+", "", text).replace("\u2212", "-")
