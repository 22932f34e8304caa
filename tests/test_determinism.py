"""Determinism on one machine: each section's quick profile, run twice with the same seed, gives the
same bytes, data and figures, apart from the values the section declares volatile (wall times).

What could vary is pinned: every section seeds its generators from the config's seed, and the
quick KMNIST run trains on one thread (``kmnist.threads``), since the thread count a timing
probe would pick changes the last bits of NetConv's numbers. On CUDA the KMNIST runs were
bit-identical too (two quick runs on an H200), with PyTorch's defaults.
"""
import dataclasses
import json

import pytest
from conftest import PROJECT, needs_kmnist

from report.compare import Rules, leaves, pattern
from report.runner import execute_unit

pytestmark = pytest.mark.e2e  # trains every section twice: about a minute


def blanked(value, volatile, prefix=""):
    """``value`` with every leaf at a volatile path replaced by a marker."""
    if isinstance(value, dict):
        return {key: blanked(item, volatile, f"{prefix}.{key}" if prefix else key) for key, item in value.items()}
    if isinstance(value, list):
        return [blanked(item, volatile, f"{prefix}[{index}]") for index, item in enumerate(value)]
    return "<volatile>" if volatile(prefix) else value


@pytest.fixture(scope="module", params=[pytest.param("kmnist", marks=needs_kmnist), "toy_mlp", "dynamics"])
def twice(request):
    section = PROJECT.section(request.param)
    config = dataclasses.replace(section.config(), **section.quick)
    runs = [execute_unit(section.module, config, "cpu", False) for _ in range(2)]
    assert all(run.data is not None for run in runs), [run.error for run in runs]
    return section, runs


def test_two_quick_runs_with_one_seed_give_the_same_bytes_apart_from_volatile_values(twice):
    section, (first, second) = twice
    rules = Rules.of(section)
    volatile = lambda path: rules.volatile_rule(path) is not None  # noqa: E731
    assert json.dumps(blanked(first.data, volatile), sort_keys=True) == json.dumps(blanked(second.data, volatile),
                                                                                   sort_keys=True)
    assert first.files == second.files  # every figure, byte for byte


def test_every_declared_tolerance_and_volatile_path_names_something_in_the_results(twice):
    section, (first, _) = twice
    paths = [path for path, _ in leaves(first.data)]
    unmatched = [glob for glob in [*section.tolerances, *section.volatile]
                 if not any(pattern(glob).fullmatch(path) for path in paths)]
    assert unmatched == []
