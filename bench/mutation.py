"""Mutation score of the engine: how many planted one-line bugs the fast test suite catches.

    python bench/mutation.py              # mutate report/ and run the in-process tests (-m "not e2e")
    python bench/mutation.py report.store # only the mutants of one module (faster, for work on it)

The tool is mutmut (3.x): it plants every mutant in one copy of the code (``mutants/``,
git-ignored) behind a switch, records which tests reach each function, and runs only those
tests per mutant in a forked process, so thousands of mutants cost minutes rather than hours.
The end-to-end tests (marker ``e2e``) run ``python build.py`` in a subprocess, where mutmut
cannot see which functions they reach, so they are left out: the score measures the tests
that run in process. Settings are in ``[tool.mutmut]`` of pyproject.toml. Not part of the
default test run: it takes tens of minutes on a 2-core machine.
"""
from __future__ import annotations

import collections
import os
import subprocess
import sys

KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is caught too


def run_mutmut(names: list[str]) -> None:
    jobs = str(os.cpu_count() or 1)
    subprocess.run(["mutmut", "run", "--max-children", jobs, *names], check=False)


def results() -> dict[str, str]:
    """``{mutant name: status}`` for every mutant mutmut knows."""
    listing = subprocess.run(["mutmut", "results", "--all", "true"], capture_output=True, text=True).stdout
    found = {}
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def module_of(mutant: str) -> str:
    """``report.store.xǁStoreǁload__mutmut_3`` -> ``report.store``."""
    return mutant.split(".x")[0].split("__mutmut")[0]


def main(prefixes: list[str]) -> int:
    run_mutmut([f"{prefix}*" for prefix in prefixes])
    statuses = {name: status for name, status in results().items()
                if not prefixes or name.startswith(tuple(prefixes))}
    by_module = collections.defaultdict(collections.Counter)
    for name, status in statuses.items():
        by_module[module_of(name)][status] += 1
    print(f"{'module':28} {'mutants':>8} {'killed':>8} {'score':>7}")
    for module, counts in sorted(by_module.items()):
        total, killed = sum(counts.values()), sum(counts[s] for s in KILLED)
        print(f"{module:28} {total:8d} {killed:8d} {killed / total:7.1%}")
    total = len(statuses)
    killed = sum(1 for s in statuses.values() if s in KILLED)
    print(f"\nmutation score: {killed} of {total} mutants killed ({killed / max(total, 1):.1%})")
    survivors = sorted(name for name, status in statuses.items() if status not in KILLED)
    print(f"{len(survivors)} not killed (see one with `mutmut show NAME`):")
    for name in survivors:
        print(f"  {name}: {statuses[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
