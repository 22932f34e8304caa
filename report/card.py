"""The provenance card of every printed number in the HTML: what it is, in full, and where it came from.

The ledger says what each number printed, its stored value, its result path and template line;
the results and the provenance record say which run made that result: its seed, the spread
over the section's seeds, the run's fingerprint and wall time, and the commit. ``cards`` gathers
that for every number, ``embed`` writes it into the HTML with a script and a style of its own:
each number becomes focusable and shows its card beside it on hover or keyboard focus, as its
accessible description. The file stays self-contained: nothing is fetched, online or off.

    >>> html = embed(html, cards(document))
"""
from __future__ import annotations

import json
import statistics
from datetime import datetime, timezone
from pathlib import Path

from report.render import Document
from report.values import seed_values

ASSETS = Path(__file__).resolve().parent / "assets"
AGGREGATES = ("mean(", "sd(")
RUN_FACTS = ("fingerprint", "wall_time", "outcome", "device")


def cards(document: Document) -> dict:
    """``{"commit", "dirty", "runs": {results key: run}, "numbers": {id: card}}`` for a rendered
    ``report.render.Document``, as JSON data."""
    provenance = document.results["provenance"]
    runs = _runs(provenance)
    rows = {entry.id: group["anchor"] for group in document.groups for entry in group["entries"]}
    numbers = {entry.id: _card(entry, document.results, runs, rows.get(entry.id, ""))
               for entry in document.ledger.entries}
    return {"commit": provenance["commit"], "dirty": provenance["dirty"], "runs": runs, "numbers": numbers}


def _runs(provenance: dict) -> dict:
    """Each shown result (``kmnist``, ``kmnist@2``) with the section and the run that made it."""
    units = {(section["name"], unit["seed"]): (section, unit)
             for section in provenance["sections"] for unit in section["units"]}
    runs = {}
    for key, seed in provenance["seeds"].items():
        section, unit = units[(key.partition("@")[0], seed)]
        runs[key] = {"section": section["name"], "title": section["title"], "seed": seed,
                     **{fact: unit[fact] for fact in RUN_FACTS}, "finished": _when(unit["finished"])}
    return runs


def _when(finished: str) -> str:
    """``2026-11-26T01:56:07+00:00`` as ``2026-11-26 01:56 UTC``; empty stays empty."""
    try:
        return datetime.fromisoformat(finished).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return finished


def _card(entry, results: dict, runs: dict, row: str) -> dict:
    key, rest = _result_key(entry.path)
    section = key.partition("@")[0]
    if entry.path.startswith(AGGREGATES):  # every seed's run
        keys = [k for k in runs if k.partition("@")[0] == section]
    else:
        keys = [key] if key in runs else []
    card = {"printed": entry.text, "stored": _full(entry.value), "path": entry.path,
            "where": f"{entry.template}:{entry.line}", "runs": keys, "row": row,
            "spread": _spread(results, runs, section, rest) if keys else "", "origin": _origin(entry.path)}
    return {name: value for name, value in card.items() if value}  # a thousand numbers: no empty fields


def _result_key(path: str) -> tuple[str, str]:
    """The results key a printed value was read from (``kmnist@2``) and its path there; for a
    mean or sd over seeds the section, and an empty key for a literal or a fact of the build."""
    if path.startswith("literal:"):
        return "", ""
    if path.startswith(AGGREGATES):  # mean(kmnist@*.models.lin.accuracy)
        path = path[:-1].partition("(")[2].replace("@*", "", 1)
    elif path.startswith("len("):
        path = path[4:-1]
    key, _, rest = path.partition(".")
    return ("", "") if key == "provenance" else (key, rest)


def _full(value) -> str:
    """The stored value at full precision: ``repr`` of a float is the shortest text that reads back
    as the same double."""
    return repr(value) if isinstance(value, float) else str(value)


def _spread(results: dict, runs: dict, section: str, rest: str) -> str:
    """Mean and sd of the value over the section's seeds, and each seed's; empty for a value that
    is not a number."""
    try:
        values = seed_values(results, section, rest)
    except (KeyError, IndexError, TypeError, ValueError):  # text, a list (len), a path not in every seed
        return ""
    if len(values) < 2:
        return "none: one seed"
    listing = ", ".join(f"seed {runs[key]['seed']}: {value:.6g}" for key, value in values.items())
    return (f"mean {statistics.fmean(values.values()):.6g} ± sd {statistics.stdev(values.values()):.6g} "
            f"over {len(values)} seeds ({listing})")


def _origin(path: str) -> str:
    """What kind of number it is, where that is not a stored result's value."""
    if path.startswith("literal:"):
        return "stated by the template itself (lit()), not read from a result"
    if path.startswith("provenance."):
        return "a fact of this build (its provenance), not of a run"
    if path.startswith("len("):
        return f"the number of items in {path[4:-1]}"
    if path.startswith(AGGREGATES):
        return f"the {'mean' if path.startswith('mean(') else 'standard deviation'} over the section's seeds"
    return ""


def embed(html: str, data: dict) -> str:
    """``html`` with the cards' style in its head and their data, element and script before ``</body>``."""
    style = f"<style>\n{(ASSETS / 'card.css').read_text(encoding='utf-8')}</style>\n"  # pragma: no mutate (codec name's case)
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    body = ('<div id="number-card" class="number-card" role="tooltip" hidden></div>\n'
            f'<script type="application/json" id="number-cards">{payload}</script>\n'
            f"<script>\n{(ASSETS / 'card.js').read_text(encoding='utf-8')}</script>\n")  # pragma: no mutate (codec name's case)
    head, _, tail = html.rpartition("</head>")
    start, _, end = (head + style + "</head>" + tail).rpartition("</body>")
    return start + body + "</body>" + end


__all__ = ["cards", "embed"]
