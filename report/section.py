"""The contract between the engine and a report section, and its loaded form.

A section is a module (or package) that the project's registry names. The engine loads it,
checks it against ``Section``, and from then on holds a ``SectionSpec``: what it needs to
plan, fingerprint and check the section without importing anything heavy. ``run`` itself
is imported by name where the unit runs (this process, a pool worker, a Dask worker).
"""
from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from report.context import Context
from report.errors import UsageError


@runtime_checkable
class Section(Protocol):
    """What a section module defines. Keep its top level free of heavy imports (torch):
    a cached build imports every section but runs none.

    ``Config``         frozen dataclass of the section's settings, with ``seed: int``;
                       ``__post_init__`` raises ``ValueError`` with a one-line reason for a
                       bad value. Fields with ``metadata={"fingerprint": False}`` (a data
                       folder, say) do not invalidate cached results.
    ``TITLE``          the section's heading, also used by its placeholder.
    ``QUICK``          field overrides for ``--profile quick`` (seconds, for tests).
    ``run``            computes and returns plain JSON data (numbers unformatted); raise a
                       ``report.errors.BuildError`` subclass for a fault the user must fix.
    ``invariants``     what must hold in the returned data, as a list of violations.
    ``input_files``    optional, ``{name: Path}`` of input data checksummed into the
                       fingerprint; a section without inputs leaves it out.
    ``TOLERANCES``     optional, ``{result-path pattern: Tolerance}``: how far ``--verify``
                       lets a rerun move a number known to be noisy, and why. Any other
                       number must reproduce exactly (or within the spread of its seeds).
    ``VOLATILE``       optional, ``{result-path pattern: reason}``: measurements of the
                       machine (wall times, a thread count picked by timing), shown by
                       ``--verify`` and never judged.

    Patterns name paths inside the section's data: ``models.*.accuracy``,
    ``history.loss[*]``, ``runs.**.seconds``; ``*`` stands for one key or index, ``**`` for
    any run of them.
    """

    Config: type
    TITLE: str
    QUICK: Mapping[str, Any]

    def run(self, config: Any, ctx: Context) -> dict: ...

    def invariants(self, data: dict) -> list[str]: ...


@dataclass(frozen=True)
class Tolerance:
    """How far a rerun may move a stored number and still reproduce it, and why.

        TOLERANCES = {"models.*.accuracy": Tolerance("about 1 sd over seeds 1-3", abs_tol=0.005)}

    A rerun value within ``max(abs_tol, rel_tol * |stored|)`` of the stored one is within
    tolerance; ``Tolerance(reason)`` alone asks for exact reproduction.
    """

    reason: str  # one line a reader can argue with: what was measured, or why it is noisy
    abs_tol: float = 0.0
    rel_tol: float = 0.0

    def __post_init__(self):
        if not self.reason.strip():
            raise ValueError("a tolerance needs a one-line reason")
        if not all(math.isfinite(t) and t >= 0 for t in (self.abs_tol, self.rel_tol)):
            raise ValueError(f"tolerances must be finite and >= 0, got abs_tol={self.abs_tol}, "
                             f"rel_tol={self.rel_tol}")

    def limit(self, stored: float) -> float:
        """The largest difference from ``stored`` that this tolerance allows."""
        return max(self.abs_tol, self.rel_tol * abs(stored))


def no_input_files(config) -> dict[str, Path]:
    return {}


@dataclass(frozen=True)
class SectionSpec:
    """A registered section as the engine holds it."""

    name: str
    module: str  # dotted name; workers import it to call ``run``
    title: str
    config: type
    quick: Mapping[str, Any]
    invariants: Callable[[dict], list[str]]
    input_files: Callable[[Any], dict[str, Path]] = field(default=no_input_files)
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)
    volatile: Mapping[str, str] = field(default_factory=dict)


def load(name: str, module_name: str) -> SectionSpec:
    """Import a section module and check it against the contract; say what is missing."""
    module = importlib.import_module(module_name)
    if not isinstance(module, Section):
        missing = [attr for attr in ("Config", "TITLE", "QUICK", "run", "invariants") if not hasattr(module, attr)]
        raise UsageError(f"section {name!r} ({module_name}) does not follow the section contract: "
                         f"it lacks {', '.join(missing)}",
                         "define them as report.section.Section describes")
    return SectionSpec(name, module_name, module.TITLE, module.Config, dict(module.QUICK), module.invariants,
                       getattr(module, "input_files", no_input_files),
                       _declared(module, name, "TOLERANCES", Tolerance), _declared(module, name, "VOLATILE", str))


def _declared(module, name: str, attribute: str, kind: type) -> dict:
    """An optional ``{pattern: value}`` declaration, each value of ``kind``."""
    declared = dict(getattr(module, attribute, {}))
    wrong = [pattern for pattern, value in declared.items() if not isinstance(value, kind)]
    if wrong:
        raise UsageError(f"section {name!r}: {attribute} of {', '.join(wrong)} is not a {kind.__name__}",
                         f"map each result-path pattern to a {kind.__name__} (see report.section.Section)")
    return declared
