"""The record of the last ``--verify`` and the note the report's appendix prints from it.

    >>> write(paths.verification, record(rows, units, profile, git))   # after a verify
    >>> note(paths.verification, results, profile)                       # at every render

The record names each result it covered by a digest of its fingerprint and data, so a later
build that changes a result makes the note say the verification no longer covers it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from report import machine as machines
from report.atomic import write_atomic
from report.compare import Row, Verdict, counts, summary_line
from report.store import Record
from report.units import Result, Unit

SCHEMA = 1
ROWS_SHOWN = 20  # the report lists the worst differences; verification.json keeps them all
FIELDS = {"date", "machine", "commit", "dirty", "profile", "units", "counts", "summary", "differed"}


def digest(record: Record) -> str:
    """What a verification covers of a result: what it was computed from, and what it holds."""
    body = json.dumps({"fingerprint": record.fingerprint, "data": record.data}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def stored_on(record: Record) -> str:
    """The machine that computed a stored result, as far as its record says: its machine facts
    in one line, or else the host of its worker (``host:pid``)."""
    if record.meta.get("machine"):
        return machines.one_line(record.meta["machine"])
    return str(record.meta.get("worker", "")).rpartition(":")[0] or "an unrecorded machine"


def record(rows: list[Row], units: list[Unit], profile: str, git: tuple[str, bool]) -> dict:
    """The verification as JSON data: where and when it ran, what it covered, what differed."""
    return {
        "schema": SCHEMA,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machines.host(),
        "commit": git[0],
        "dirty": git[1],
        "profile": profile,
        "units": {u.label: {"digest": digest(u.stored), "stored_on": stored_on(u.stored)} for u in units},
        "counts": counts(rows),
        "summary": summary_line(rows),
        "differed": [row.cells() for row in rows if row.verdict is not Verdict.EQUAL],
    }


def write(path: Path, verification: dict) -> None:
    write_atomic(path, json.dumps(verification, indent=1).encode())


def read(path: Path) -> dict | None:
    """The last verification, or ``None`` when there is none this build can read (a damaged or
    older record is left for the next ``--verify`` to replace)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))  # pragma: no mutate (codec name's case)
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or found.get("schema") != SCHEMA or not FIELDS <= found.keys():
        return None
    return found


def note(path: Path, results: list[Result], profile: str) -> dict:
    """What the appendix says about the last verification of the results it shows."""
    last = read(path)
    if last is None or last["profile"] != profile:
        return {"recorded": False}
    shown = {r.label: r.record for r in results if r.record is not None}
    counted, differed = last["counts"], last["differed"]
    return {"recorded": True, "date": last["date"], "host": last["machine"]["host"],
            "platform": last["machine"]["platform"], "commit": last["commit"][:12], "dirty": last["dirty"],
            "covered": ", ".join(last["units"]), **counted, "compared": sum(counted.values()) - counted["volatile"],
            "differed": differed[:ROWS_SHOWN], "more": max(0, len(differed) - ROWS_SHOWN),
            "changed": ", ".join(_changed(last["units"], shown)),
            "unverified": ", ".join(label for label in shown if label not in last["units"])}


def _changed(covered: dict, shown: dict[str, Record]) -> list[str]:
    """The results the verification covered that the report no longer shows as they were."""
    return [label for label, was in covered.items()
            if label not in shown or digest(shown[label]) != was["digest"]]
