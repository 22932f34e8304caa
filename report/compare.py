"""Stored results against a rerun, number by number: equal, within tolerance, beyond, or volatile.

    >>> rows = compare(stored, rerun, {"kmnist": Rules.of(spec)}, ledger)  # {key: data} per side
    >>> [row.path for row in rows if row.verdict is Verdict.BEYOND]

A *number* is every numeric, boolean or null leaf of a result (a string is a label, not a
measurement), named as the templates name it: ``kmnist.models.conv.accuracy``, and
``kmnist@2.models.conv.accuracy`` for another seed; and every number the report derives from
results (``mean(kmnist@*...)``, ``sd(...)``, ``len(...)``, found in the ledger).

Which tolerance a number gets, first match wins: a volatile path is shown and never judged; a
tolerance the section declares for the path; the spread of the stored seeds at that path
(``SPREAD_SDS`` standard deviations) when the section has several; otherwise it must be equal.
"""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from report.section import SectionSpec, Tolerance
from report.values import evaluate

SPREAD_SDS = 3
EXACT = Tolerance("no tolerance declared: must reproduce exactly")
APPENDIX = "numbers.qmd.j2"  # the appendix that prints every number again; not where it is said


class _Missing:
    def __repr__(self) -> str:
        return "missing"


MISSING = _Missing()  # a leaf that one side has and the other lacks


class Verdict(Enum):
    BEYOND = "beyond"
    WITHIN = "within tolerance"
    VOLATILE = "volatile"
    EQUAL = "equal"


RANK = {Verdict.BEYOND: 0, Verdict.WITHIN: 1, Verdict.VOLATILE: 2, Verdict.EQUAL: 3}  # worst first


def pattern(glob: str) -> re.Pattern:
    """``models.*.accuracy`` as a regex: ``*`` is one key or index, ``**`` any run of them."""
    parts = re.split(r"(\*\*|\*)", glob)
    return re.compile("".join(".*" if p == "**" else r"[^.\[\]]+" if p == "*" else re.escape(p) for p in parts))


@dataclass(frozen=True)
class Rules:
    """A section's declared tolerances and volatile paths, matched against paths in its data."""

    tolerances: tuple[tuple[str, re.Pattern, Tolerance], ...] = ()
    volatile: tuple[tuple[str, re.Pattern, str], ...] = ()

    @classmethod
    def of(cls, spec: SectionSpec) -> "Rules":
        return cls(tuple((glob, pattern(glob), t) for glob, t in spec.tolerances.items()),
                   tuple((glob, pattern(glob), why) for glob, why in spec.volatile.items()))

    def volatile_rule(self, inner: str) -> tuple[str, str] | None:
        """(pattern, reason) of the first volatile declaration naming ``inner``, a path in the data."""
        return next(((glob, why) for glob, regex, why in self.volatile if regex.fullmatch(inner)), None)

    def tolerance_rule(self, inner: str) -> tuple[str, Tolerance] | None:
        """(pattern, tolerance) of the first tolerance declared for ``inner``."""
        return next(((glob, t) for glob, regex, t in self.tolerances if regex.fullmatch(inner)), None)


@dataclass(frozen=True)
class Row:
    """One number: where it lives and is printed, both values, the tolerance and the verdict."""

    path: str
    where: str  # template:line where the report prints it, "" when it does not
    stored: object
    rerun: object
    tolerance: Tolerance
    basis: str  # where the tolerance comes from: "kmnist models.*.accuracy", "seeds" (their spread), "" (exact)
    verdict: Verdict

    @property
    def difference(self) -> float | None:
        if _is_number(self.stored) and _is_number(self.rerun):
            return self.rerun - self.stored
        return None

    @property
    def share(self) -> float:
        """How much of its tolerance the difference uses (inf: beyond any, 0: none)."""
        if self.verdict is Verdict.EQUAL:
            return 0.0
        difference = self.difference
        if difference is None or math.isnan(difference):
            return math.inf
        limit = self.tolerance.limit(self.stored)
        return abs(difference) / limit if limit else math.inf

    def cells(self) -> dict[str, str]:
        """The row as text, as the verify table and the report's appendix print it."""
        return {"result": self.path, "where": self.where, "stored": show(self.stored), "rerun": show(self.rerun),
                "difference": "" if self.difference is None else f"{self.difference:+.3g}",
                "tolerance": tolerance_text(self.tolerance) if self.verdict is not Verdict.VOLATILE else "volatile",
                "verdict": self.verdict.value}


def show(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def tolerance_text(tolerance: Tolerance) -> str:
    """``±0.015``, ``±1e-09 rel``, ``±1e-12 / 1e-09 rel`` (the larger applies), or ``exact``."""
    parts = ([f"{tolerance.abs_tol:.3g}"] if tolerance.abs_tol else []) + (
        [f"{tolerance.rel_tol:.3g} rel"] if tolerance.rel_tol else [])
    return "±" + " / ".join(parts) if parts else "exact"


def counts(rows: list[Row]) -> dict[str, int]:
    """How many numbers got each verdict, every verdict named."""
    found = Counter(row.verdict for row in rows)
    return {verdict.name.lower(): found[verdict] for verdict in Verdict}


def summary_line(rows: list[Row]) -> str:
    n = counts(rows)
    judged = len(rows) - n["volatile"]
    return (f"{judged} numbers compared: {n['equal']} equal, {n['within']} within tolerance, {n['beyond']} beyond"
            + (f"; {n['volatile']} volatile (shown, not judged)" if n["volatile"] else ""))


def compare(stored: Mapping[str, dict], rerun: Mapping[str, dict], rules: Mapping[str, Rules],
            ledger: list[dict]) -> list[Row]:
    """Every number of the ``stored`` results (``{key: data}``) against ``rerun``, worst first.

    ``rules`` holds the sections compared; ``ledger`` (the report's, possibly empty) says
    where each number is printed and which derived numbers the report shows.
    """
    judge = _Judge(stored, rules)
    places = printed_at(ledger)
    rows = []
    for key in stored:
        mine, theirs = dict(leaves(stored[key])), dict(leaves(rerun.get(key, {})))
        for inner in [*mine, *(p for p in theirs if p not in mine)]:
            path = f"{key}.{inner}"
            rows.append(judge.row(path, places.get(path, ""), mine.get(inner, MISSING),
                                  theirs.get(inner, MISSING), key.partition("@")[0], inner))
    rows += _derived_rows(judge, places, stored, rerun, ledger)
    return sorted(rows, key=lambda row: (RANK[row.verdict], -row.share, row.path))


def leaves(value, prefix: str = "") -> Iterator[tuple[str, object]]:
    """``(path, value)`` of every number, boolean and null in JSON data; strings are labels."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{prefix}[{index}]")
    elif not isinstance(value, str):
        yield prefix, value


def printed_at(ledger: list[dict]) -> dict[str, str]:
    """Result path -> the template lines that print it (the appendix of every number left out)."""
    places: dict[str, list[str]] = {}
    for entry in ledger:
        where = f"{entry['template']}:{entry['line']}"
        if entry["template"] != APPENDIX and where not in places.setdefault(entry["path"], []):
            places[entry["path"]].append(where)
    return {path: ", ".join(found) for path, found in places.items() if found}


class _Judge:
    """The tolerance and verdict of each number, from the rules and the stored seeds' spread."""

    def __init__(self, stored: Mapping[str, dict], rules: Mapping[str, Rules]):
        self.rules = rules
        self.flat = {key: dict(leaves(data)) for key, data in stored.items()}

    def row(self, path: str, where: str, stored, rerun, section: str, inner: str, sd_of_seeds: bool = False) -> Row:
        volatile = self.rules[section].volatile_rule(inner)
        if volatile is not None:
            glob, why = volatile
            return Row(path, where, stored, rerun, Tolerance(why), f"{section} {glob}", Verdict.VOLATILE)
        basis, tolerance = self.tolerance(section, inner)
        if sd_of_seeds:  # an sd moves at most sqrt(n / (n - 1)) times as far as each seed's value
            n = len(self._seeds(section))
            tolerance = Tolerance(tolerance.reason, tolerance.abs_tol * math.sqrt(n / (n - 1)),
                                  tolerance.rel_tol * math.sqrt(n / (n - 1)))
        return Row(path, where, stored, rerun, tolerance, basis, verdict_of(stored, rerun, tolerance))

    def tolerance(self, section: str, inner: str) -> tuple[str, Tolerance]:
        declared = self.rules[section].tolerance_rule(inner)
        if declared:
            return f"{section} {declared[0]}", declared[1]
        values = [flat[inner] for flat in self._seeds(section) if _is_number(flat.get(inner))]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        if spread > 0 and math.isfinite(spread):
            return "seeds", Tolerance(f"{SPREAD_SDS} sd of the {len(values)} stored seeds' values",
                                      abs_tol=SPREAD_SDS * spread)
        return "", EXACT

    def _seeds(self, section: str) -> list[dict]:
        return [flat for key, flat in self.flat.items() if key.partition("@")[0] == section]


def _derived_rows(judge: _Judge, places: dict[str, str], stored, rerun, ledger: list[dict]) -> list[Row]:
    """Numbers the report derives from results (means and sds over seeds, list lengths)."""
    rows = []
    for path in dict.fromkeys(e["path"] for e in ledger if e["path"].startswith(("mean(", "sd(", "len("))):
        function, _, inner_path = path[:-1].partition("(")
        key, _, inner = inner_path.partition(".")  # "kmnist@*", "models.conv.accuracy"
        section = key.partition("@")[0]
        if section not in judge.rules:
            continue
        before, after = _evaluated(stored, path), _evaluated(rerun, path)
        if before is MISSING:
            continue  # the report printed it from results since replaced; nothing stored to compare
        if function == "len":
            rows.append(Row(path, places.get(path, ""), before, after, EXACT, "", verdict_of(before, after, EXACT)))
        else:
            rows.append(judge.row(path, places.get(path, ""), before, after, section, inner, function == "sd"))
    return rows


def _evaluated(results, path: str):
    try:
        return evaluate(results, path)
    except (KeyError, IndexError, TypeError, ValueError):
        return MISSING


def verdict_of(stored, rerun, tolerance: Tolerance) -> Verdict:
    """Equal, within ``tolerance`` or beyond it; a leaf one side lacks is beyond."""
    if _same(stored, rerun):
        return Verdict.EQUAL
    if _is_number(stored) and _is_number(rerun) and abs(rerun - stored) <= tolerance.limit(stored):
        return Verdict.WITHIN
    return Verdict.BEYOND


def _same(a, b) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False  # a boolean is not the number 1; MISSING equals only itself below
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
