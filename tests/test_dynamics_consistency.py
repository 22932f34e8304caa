"""The dynamics invariants on hand-built rows: each clause rejects what it must."""
import pytest

from experiments.dynamics.consistency import _distribution_invariants, _gate_invariants


def probability_row(p):
    return {"step": 3, "n": 2, "p": p}


def gate_row(**changes):
    row = {"step": 1, "n": 2, "i": [0.2, 0.9, 0.5], "f": [1.0, 0.0, 0.3], "o": [0.4, 0.6, 0.7],
           "g": [-1.0, 0.3, 1.0]}
    return {**row, **changes}


def test_probabilities_that_sum_to_one_within_rounding_pass():
    assert _distribution_invariants([probability_row([0.2, 0.3, 0.5 + 1e-9])]) == []


@pytest.mark.parametrize("p", [[0.2, 0.3, 0.5 + 1e-5], [0.2, 0.3, 0.4], [-0.1, 0.6, 0.5]])
def test_probabilities_off_by_a_hundred_thousandth_or_negative_are_caught(p):
    assert _distribution_invariants([probability_row(p)]) == [
        "step 3 of n=2: predicted probabilities do not sum to 1"]


def test_gates_within_their_ranges_pass():
    assert _gate_invariants([gate_row()]) == []


@pytest.mark.parametrize("gate, values", [
    ("i", [0.2, 1.01, 0.5]), ("f", [-0.01, 0.0, 0.3]), ("o", [0.4, 0.6, 1.2]), ("g", [-1.5, 0.0, 0.0])])
def test_every_gate_is_checked_against_its_range(gate, values):
    assert _gate_invariants([gate_row(**{gate: values})]) == ["step 1 of n=2: a gate is outside its range"]
