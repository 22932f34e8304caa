"""The ledger: every number (or traced string) the templates printed, where from, and how.

Formatting lives here too, so the checks can format a stored value the same way and
compare it with what the document shows.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass


def _fixed(value, digits):
    return f"{value:,.{digits}f}" if abs(value) >= 10_000 else f"{value:.{digits}f}"


FORMATS = {
    "num": lambda v, d: _fixed(float(v), 3 if d is None else d),
    "pct": lambda v, d: f"{100 * float(v):.{2 if d is None else d}f}%",
    "int": lambda v, d: f"{int(v):,}",
    "sci": lambda v, d: f"{float(v):.{2 if d is None else d}e}",
    "text": lambda v, d: str(v),
}


def format_value(kind: str, value, digits: int | None = None) -> str:
    if isinstance(value, float) and not math.isfinite(value):  # "text" prints str(value) anyway
        return str(value)
    return FORMATS[kind](value, digits)


@dataclass
class Entry:
    """One printed value: its id in the document, result path, stored value, text and format."""

    id: str
    path: str
    value: object
    text: str
    kind: str
    digits: int | None
    template: str
    line: int


class Ledger:
    def __init__(self):
        self.entries: list[Entry] = []

    def add(self, path, value, kind, digits, where) -> Entry:
        entry = Entry(f"n{len(self.entries) + 1}", path, value, format_value(kind, value, digits),
                      kind, digits, *where)
        self.entries.append(entry)
        return entry

    def as_json(self) -> list[dict]:
        return [asdict(e) for e in self.entries]
