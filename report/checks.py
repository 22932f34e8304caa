"""The checks that the document says what the results say.

- ``untraced_numbers``: a number in the Markdown that no filter printed (typed by hand).
- ``verify_html``: every traced number in the HTML equals its stored value, formatted the
  same way, and no other number appears outside headings' and captions' own numbering.
- ``verify_pdf``: every traced number appears in the PDF's text.
- ``false_claims``: the sentences guarded by ``claim()`` whose condition no longer holds.

Each finding is a ``Finding``: the sentence printed, and its kind, which picks the hint.

What counts as a number: a digit that follows neither a letter, a digit, an underscore nor a
point, with the digits, separators and the ``%`` or letters glued to it (``97.5%``, ``1,200``,
``5k``, ``16x``, ``3rd``); ``h1``, ``x10`` and ``fp16`` are names. Allowed where the reader
sees them: traced spans, the automatic numbers of headings, figures, tables and references,
exponents and indices (``b^2n^``, ``H~2~O``: notation), identifiers in Pandoc attributes and
link targets, and code the author marks as literal (`` `seed-3.json`{.literal} ``, a fenced
block with ``{.literal}``). Code not so marked is prose: `` `58.50%` `` is a typed number.
"""
from __future__ import annotations

import collections
import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

from report import crossref, sources
from report.errors import Finding, Mismatch
from report.ledger import format_value
from report.values import evaluate

NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:%|[^\W\d_]+)?")
SPAN = re.compile(r"\[(?:[^\[\]\\]|\\.)*\]\{#n\d+ \.num title=\"[^\"]*\"\}")
LITERAL_CODE = re.compile(r"^(`{3,}|~{3,})[ \t]*(?:\{[^}\n]*\.literal\b[^}\n]*\}|literal\b)[^\n]*\n.*?^\1[ \t]*$"
                          r"|(`+)(?:(?!\2)[^\n])+?\2\{[^}\n]*\.literal\b[^}\n]*\}", re.M | re.S)
TARGETS = re.compile(r"\]\([^)\n]*\)"  # where a link or an image points
                     r"|\{[#.][^{}\n]*\}"  # Pandoc attributes: {#fig-x width=90%}, {.appendix #sec-a}
                     rf"|{crossref.REFERENCE.pattern}"  # cross-references: labels are names
                     r"|\^[^\s^]+\^|(?<!~)~[^\s~]+~(?!~)")  # exponents and indices
EXEMPT_CLASSES = {"header-section-number", "xref-label", "toc-section-number", "literal"}


def prose_of(markdown: str) -> str:
    """The Markdown a reader sees as prose: no front matter, traced spans, literal code or targets."""
    body = markdown.split("\n---\n", 1)[1] if markdown.startswith("---\n") else markdown
    return TARGETS.sub(" ", LITERAL_CODE.sub(" ", SPAN.sub(" ", body)))


def untraced_numbers(markdown: str, template_dir: Path, unfiltered=()) -> list[Finding]:
    """Numbers in the rendered Markdown that did not come through a filter, with template lines.

    ``unfiltered`` are the renderer's notes of result text printed without a filter
    (``Document.unfiltered``): a number in one is named with the result and the printing line.
    """
    tokens = sorted(set(NUMBER.findall(prose_of(markdown))))
    typed = [_as_prose(piece) for piece in sources.pieces(template_dir)] if tokens else []
    return [_untraced(token, typed, unfiltered) for token in tokens]


def _as_prose(piece: sources.Piece) -> sources.Piece:
    """A template's prose with what the check does not read blanked out, its lines kept."""
    if piece.kind != "prose":
        return piece
    return dataclasses.replace(piece, text=TARGETS.sub(_blank, LITERAL_CODE.sub(_blank, piece.text)))


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def _untraced(token: str, typed: list[sources.Piece], unfiltered) -> Finding:
    printed = [u for u in unfiltered if token in NUMBER.findall(u.text)]
    if printed:
        where = ", ".join(dict.fromkeys(f"{u.path} = {u.text!r} at {u.template}:{u.line}" for u in printed))
        return Finding(f"number {token!r} comes from {where}, printed without a filter, so it is not traced; "
                       "print it with | text", Mismatch.UNFILTERED)
    pattern = re.compile(rf"(?<![\w.]){re.escape(token)}(?![\w%]|[.,]\d)")
    places = (sources.places(typed, pattern) or sources.places(typed, pattern, ["number"])
              or ["a template (not found in the sources)"])
    return Finding(f"number {token!r} is typed into {', '.join(places)}, not taken from results; "
                   "print it from a result with a filter, or declare it with lit()", Mismatch.TYPED)


def false_claims(claims) -> list[Finding]:
    """A finding for each claim (``Document.claims``) whose condition does not hold."""
    return [Finding(f"claim {c.name!r} ({c.template}:{c.line}) does not hold in the results", Mismatch.CLAIM)
            for c in claims if not c.holds]


class _NumberSpans(HTMLParser):
    """Collects traced spans (id, title, text) and the text outside them."""

    def __init__(self):
        super().__init__()
        self.spans, self.loose, self._stack = [], [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        if tag in ("script", "style", "title", "nav", "sup", "sub"):
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
    problems, unbacked = [], collections.Counter()
    for span_id, path, text in parser.spans:
        entry = by_id.get(span_id)
        expected = _expected_text(entry, results) if entry else None
        if expected is None and entry and _result_key(entry["path"]) not in results:
            unbacked[_result_key(entry["path"])] += 1  # one line for the section, not one per number
        elif expected is None or _unsmart(" ".join(text.split())) != _unsmart(expected):
            origin = f" ({entry['template']}:{entry['line']})" if entry else ""
            problems.append(Finding(f"report.html #{span_id}{origin}: prints {text!r} from {path}, "
                                    f"the store gives {expected!r}", Mismatch.STALE))
    for token in NUMBER.findall(" ".join(parser.loose)):
        problems.append(Finding(f"report.html: number {token!r} is not traced to a result", Mismatch.TYPED))
    problems += [Finding(f"report.html prints {count} number{'s' * (count > 1)} of {key}, which has no readable "
                         f"stored result", Mismatch.STALE) for key, count in unbacked.items()]
    return problems


def _result_key(path: str) -> str:
    """The result a ledger path reads from: ``len(kmnist@2.models)`` -> ``kmnist@2``."""
    return re.match(r"(?:\w+\()*([\w@]+)", path).group(1)


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
        return format_value(entry["kind"], evaluate(results, path), entry["digits"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def verify_pdf(pdf: Path, ledger: list[dict]) -> list[str]:
    """Every traced number appears in the PDF's text (order-free, with multiplicity)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        raw = " ".join(page.extract_text() or "" for page in PdfReader(pdf).pages)
    except (PyPdfError, ValueError, OSError) as exc:
        return [f"report.pdf cannot be read as a PDF ({exc}); rebuild it with `python build.py`"]
    text = _squeeze(raw)
    broken = _squeeze(re.sub("[-\u00ad][ \t]*\n", LINE_END_HYPHEN, raw))
    problems = []
    for entry in ledger:
        printed = _squeeze(entry["text"])
        if printed and printed not in text and not _hyphenated_in(printed, broken):
            problems.append(Finding(f"report.pdf: {entry['path']} = {entry['text']!r} is missing from the PDF text",
                                    Mismatch.STALE))
    return problems


LINE_END_HYPHEN = "\x00"  # a "-" that ends a line of the PDF: the word's own, or one typst added


def _hyphenated_in(printed: str, broken: str) -> bool:
    """Whether ``printed`` is in the PDF text with words broken across lines (``scipy-open-\\nblas``)."""
    pattern = f"{LINE_END_HYPHEN}?".join(f"[-{LINE_END_HYPHEN}]" if c == "-" else re.escape(c) for c in printed)
    return re.search(pattern, broken) is not None


def _squeeze(text: str) -> str:
    """Drop whitespace (PDF text breaks lines anywhere) and the zero-width spaces that let a long
    word break in a table cell, and read typst's minus sign as "-"."""
    return re.sub(r"[\s\u200b]+", "", text).replace("\u2212", "-")
