"""A build's two kinds of state: the plan of each unit, and what became of it.

A *unit* is one section run with one seed. Planning makes a frozen ``Unit`` (what it
depends on, whether the store's result is fresh); the runner, or the pipeline for a unit
that did not run, makes one frozen ``Result``. Later phases build new values.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from report.status import Freshness, Outcome
from report.store import Record


@dataclass(frozen=True)
class Unit:
    section: str
    seed: int
    module: str
    config: object
    fingerprint: str
    parts: dict
    freshness: Freshness
    reasons: tuple[str, ...]
    stored: Record | None

    @property
    def label(self) -> str:
        return f"{self.section}[seed={self.seed}]"


@dataclass(frozen=True)
class Result:
    unit: Unit
    outcome: Outcome
    record: Record | None  # what the report shows; None when there is nothing to show
    wall_time: float = 0.0
    error: str = ""
    user_error: bool = False  # the fix is the user's (a --set, a data folder): exit code 2
    log_path: Path | None = None

    @classmethod
    def not_run(cls, unit: Unit) -> "Result":
        """A unit this build left alone: the store's result, or nothing yet."""
        return cls(unit, Outcome.CACHED if unit.stored else Outcome.SKIPPED, unit.stored)

    def failed(self, error: str) -> "Result":
        """This result refused: a failure the report names, with nothing to show."""
        return Result(self.unit, Outcome.FAILED, None, self.wall_time, error, self.user_error, self.log_path)

    @property
    def section(self) -> str:
        return self.unit.section

    @property
    def seed(self) -> int:
        return self.unit.seed

    @property
    def label(self) -> str:
        return self.unit.label

    @property
    def shows_stale(self) -> bool:
        """The report shows a stored result that is out of date (a --list reason applies)."""
        return self.outcome is Outcome.CACHED and self.unit.freshness is Freshness.STALE
