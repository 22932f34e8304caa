"""One exception class per build phase; the command line turns each into a message and an exit code.

    BuildError                  exit 2 unless stated; ``hint`` says how to fix it
    ├── UsageError              unknown section or flag, malformed --set, bad --out
    ├── ConfigError             a --set value of the wrong type or out of range
    ├── DataError               a dataset missing or corrupt
    ├── TemplateProblem         a template syntax error or undefined variable (name, line)
    ├── RendererError           pandoc/typst/quarto missing or failing
    ├── OutputError             the output folder cannot be written
    ├── ClaimError              a sentence in the report no longer holds (exit 1)
    └── CheckFailed             --check found mismatches (exit 1)

Exceptions carry data only; nothing is printed or logged when one is raised.
"""
from __future__ import annotations


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


class CheckFailed(BuildError):
    exit_code = 1

    def __init__(self, problems: list[str]):
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the report does not match its results ({len(problems)} problems):\n{listing}",
                         "rebuild with `python build.py`, or rerun the named sections with --force")
        self.problems = problems
