"""One exception class per build phase; the command line turns each into a message and an exit code.

    BuildError                  exit 2 unless stated; ``hint`` says how to fix it
    ├── UsageError              unknown section or flag, malformed --set, bad --out
    ├── ConfigError             a --set value of the wrong type or out of range
    ├── DataError               a dataset missing or corrupt
    ├── TemplateProblem         a template syntax error or undefined variable (name, line)
    ├── RendererError           pandoc/typst/quarto missing or failing
    ├── OutputError             the output folder cannot be written
    ├── ClaimError              a sentence in the report no longer holds (exit 1)
    └── CheckFailed             --check found mismatches (exit 1), each a ``Finding`` whose
                                ``Mismatch`` kind picks the hint

    Interrupted                 a KeyboardInterrupt (Ctrl-C, SIGTERM) during a build, with what
                                it had changed on disk (exit 130)

Exceptions carry data only; nothing is printed or logged when one is raised.
"""
from __future__ import annotations

from enum import Enum


class BuildError(Exception):
    exit_code = 2

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(BuildError):
    pass


class ConfigError(BuildError):
    pass


class DataError(BuildError):
    pass


class TemplateProblem(BuildError):
    pass


class RendererError(BuildError):
    pass


class OutputError(BuildError):
    pass


class ClaimError(BuildError):
    exit_code = 1


class Mismatch(Enum):
    """What kind of thing a check found; each kind has its own fix (``HINTS``)."""

    TYPED = "a typed number"
    UNFILTERED = "a result's text printed without a filter"
    STALE = "a printed number that differs from the store"
    CLAIM = "a claim that no longer holds"
    OTHER = "a damaged, missing or left-over file, or a broken invariant"


HINTS = {
    Mismatch.TYPED: "print the number from a result through a filter (| num, | pct, | int, | text), "
                    "or declare it with lit()",
    Mismatch.UNFILTERED: "print the value through | text, so its digits are traced",
    Mismatch.STALE: "rebuild the report from the store with `python build.py`; if a stored result is out of "
                    "date, rerun its section with `python build.py SECTION --force`",
    Mismatch.CLAIM: "rerun the section if its result is out of date, or change the sentence to what the "
                    "results say",
    Mismatch.OTHER: "rebuild with `python build.py`, or rerun the named sections with --force",
}


class Finding(str):
    """One thing a check found: the sentence printed, with its ``kind``."""

    kind: Mismatch

    def __new__(cls, text: str, kind: Mismatch = Mismatch.OTHER) -> "Finding":
        finding = super().__new__(cls, text)
        finding.kind = kind
        return finding


class CheckFailed(BuildError):
    exit_code = 1

    def __init__(self, problems: list[str]):
        listing = "\n".join(f"  - {p}" for p in problems)
        count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        super().__init__(f"the report does not match its results ({count}):\n{listing}", _hint(problems))
        self.problems = problems


def _hint(problems: list[str]) -> str:
    """The fix for each kind of problem found (a plain string is of no particular kind)."""
    kinds = list(dict.fromkeys(getattr(p, "kind", Mismatch.OTHER) for p in problems))
    if len(kinds) == 1:
        return HINTS[kinds[0]]
    return "; ".join(f"for {kind.value}, {HINTS[kind]}" for kind in kinds)


class Interrupted(KeyboardInterrupt):
    """A build stopped by Ctrl-C or SIGTERM; ``str()`` says what it had changed and what it kept."""

    def __init__(self, stored: list[str] = (), failed: list[str] = (), replaced: bool = False):
        super().__init__()
        self.stored, self.failed, self.replaced = list(stored), list(failed), replaced

    def __str__(self) -> str:
        results = (f"stored the new results of {', '.join(self.stored)}; the other stored results"
                   if self.stored else "the stored results")
        text = (f"{results} are unchanged; the report was replaced by this build's, with its ledger and provenance"
                if self.replaced else f"{results} and the last report are unchanged")
        if self.failed:
            text += (f"; recorded that {', '.join(self.failed)} failed, so the next build reruns "
                     + ("it" if len(self.failed) == 1 else "them"))
        return text
