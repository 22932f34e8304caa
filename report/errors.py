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

    Interrupted                 a KeyboardInterrupt (Ctrl-C, SIGTERM) during a build, with what
                                it had changed on disk (exit 130)

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
