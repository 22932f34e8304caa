"""Mutation score of the engine: how many planted one-line bugs the fast test suite catches.

    python bench/mutation.py                  # a 6% sample of every module's mutants: about 30 minutes
    python bench/mutation.py --sample 1       # every mutant (about 10,000: hours on 2 cores)
    python bench/mutation.py --seed 2         # another sample, e.g. one no test was written against
    python bench/mutation.py report.store     # every mutant of one module (work on it)
    python bench/mutation.py --fresh ...      # forget every earlier verdict first

Why a sample: the report/ and invariant modules give about 10,000 mutants, and each costs a fork
and its tests (0.1 s when a fast test catches it, the sum of every test that reaches it when none
does), far past half an hour on 2 cores. A random sample of each module's mutants (stratified,
fixed seed) estimates the score of all of them; the script prints the estimate with its 95%
interval, computed from the stratified sample. Write tests against one seed and measure with
another: a score measured on the mutants the tests were written against is biased upwards.

The tool is mutmut (3.x): it plants every mutant in one copy of the code (``mutants/``,
git-ignored) behind a switch, records which tests reach each function, and runs only those
tests per mutant in a forked process, fastest first, stopping at the first failure.

Every mutant the script chooses is run again, so its verdict is that of the tests as they are
now; mutmut's cache only spares the generation of unchanged files and the test-coverage stats.

The end-to-end tests (marker ``e2e``) run ``python build.py`` in a subprocess, where mutmut
cannot see which functions they reach, so they are left out: the score measures the tests that
run in process. A mutant no in-process test reaches ("no tests") counts as a survivor. Settings
are in ``[tool.mutmut]`` of pyproject.toml; mutants that change nothing observable are excluded
with ``# pragma: no mutate`` and listed in the README. Not part of the default test run.
"""
from __future__ import annotations

import argparse
import collections
import math
import os
import random
import shutil
import subprocess
import sys
import time

KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is caught too
ENGINE = "report."
NOTHING = "no.such.module*"  # a name no mutant has: `mutmut run` then only generates and collects


def run_mutmut(names: list[str]) -> None:
    jobs = str(os.cpu_count() or 1)
    subprocess.run(["mutmut", "run", "--max-children", jobs, *names], check=False)


def results() -> dict[str, str]:
    """``{mutant name: status}`` for every mutant mutmut has generated."""
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


def by_module(names) -> dict[str, list[str]]:
    groups = collections.defaultdict(list)
    for name in sorted(names):
        groups[module_of(name)].append(name)
    return groups


def in_modules(statuses: dict[str, str], modules: list[str]) -> dict[str, str]:
    return {name: status for name, status in statuses.items() if not modules or module_of(name) in modules}


def sample(names: list[str], fraction: float, seed: int) -> list[str]:
    """The same fraction of every module's mutants (at least one), drawn with a fixed seed."""
    rng = random.Random(seed)
    chosen = []
    for members in by_module(names).values():
        chosen += rng.sample(members, min(len(members), math.ceil(fraction * len(members))))
    return chosen


def estimate(population: dict[str, int], statuses: dict[str, str]) -> tuple[float, float]:
    """Stratified estimate of the fraction killed among all mutants, and its 95% half-width.

    ``population`` is each module's number of mutants; ``statuses`` the verdicts of its sample.
    """
    total = sum(population.values())
    score = variance = 0.0
    for module, members in by_module(statuses).items():
        n, size = len(members), population[module]
        killed = sum(statuses[name] in KILLED for name in members) / n
        weight = size / total
        score += weight * killed
        if n > 1:  # finite-population correction: a module sampled whole has no sampling error
            variance += weight ** 2 * killed * (1 - killed) / (n - 1) * (1 - n / size)
    return score, 1.96 * math.sqrt(variance)


def score_line(label: str, population: dict[str, int], statuses: dict[str, str]) -> str:
    killed = sum(status in KILLED for status in statuses.values())
    line = f"{label}: {killed} of {len(statuses)} mutants killed"
    if len(statuses) == sum(population.values()):
        return f"{line} ({killed / max(len(statuses), 1):.1%})"
    score, half_width = estimate(population, statuses)
    return (f"{line} (a sample of the {sum(population.values())}): estimated score {score:.1%}, "
            f"95% interval {score - half_width:.1%} to {score + half_width:.1%}")


def print_report(population: dict[str, int], statuses: dict[str, str]) -> None:
    print(f"{'module':34} {'mutants':>8} {'run':>5} {'killed':>7} {'survived':>9} {'no tests':>9} {'score':>7}")
    for module, members in by_module(statuses).items():
        counts = collections.Counter(statuses[name] for name in members)
        killed = sum(counts[s] for s in KILLED)
        print(f"{module:34} {population[module]:8d} {len(members):5d} {killed:7d} {counts['survived']:9d} "
              f"{counts['no tests']:9d} {killed / len(members):7.1%}")
    survivors = sorted(name for name, status in statuses.items() if status not in KILLED)
    print(f"\n{len(survivors)} not killed (see one with `mutmut show NAME`):")
    for name in survivors:
        print(f"  {name}: {statuses[name]}")
    print()
    for label, keep in (("report/", lambda m: m.startswith(ENGINE)),
                        ("the sections' invariant modules", lambda m: not m.startswith(ENGINE))):
        part = {name: status for name, status in statuses.items() if keep(name)}
        if part:
            print(score_line(f"mutation score, {label}",
                             {m: n for m, n in population.items() if keep(m)}, part))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="only these modules (e.g. report.store)")
    parser.add_argument("--sample", type=float, default=None,
                        help="fraction of each module's mutants to run (default 0.06; 1 with modules named)")
    parser.add_argument("--seed", type=int, default=1, help="which sample (default 1)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier verdicts (removes mutants/)")
    args = parser.parse_args(argv)
    fraction = args.sample if args.sample is not None else (1.0 if args.modules else 0.06)
    if not 0 < fraction <= 1:
        parser.error(f"--sample is a fraction in (0, 1], got {fraction}")
    started = time.monotonic()
    if args.fresh:
        shutil.rmtree("mutants", ignore_errors=True)
    known = results()
    if not known:
        run_mutmut([NOTHING])
        known = results()
    known = in_modules(known, args.modules)
    if not known:
        parser.error(f"no mutants in {', '.join(args.modules)}: name modules like report.store")
    # Named mutants are always run again, so every verdict below is of the tests as they are now.
    chosen = sample(list(known), fraction, args.seed)
    run_mutmut(chosen)
    now = in_modules(results(), args.modules)
    if by_module(now).keys() != by_module(known).keys() or len(now) != len(known):
        # mutmut regenerated mutants of sources edited since its last run, so the sample was drawn
        # from an old list: draw again from the new one and run what this run has not run yet.
        redrawn = sample(list(now), fraction, args.seed)
        run_mutmut(sorted(set(redrawn) - set(chosen)))
        chosen, now = redrawn, in_modules(results(), args.modules)
    population = {module: len(members) for module, members in by_module(now).items()}
    print_report(population, {name: now[name] for name in chosen})
    print(f"({time.monotonic() - started:.0f} s on {os.cpu_count()} cores; seed {args.seed}, "
          f"fraction {fraction:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
