"""The dynamics invariants on hand-built rows: each clause rejects what it must."""
import pytest

from experiments.dynamics.consistency import _distribution_invariants, _gate_invariants, invariants


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


def consistent_result() -> dict:
    """A small result whose numbers agree: one run of one restart, a two-state machine."""
    restart = {"restart": 0, "history": {"epoch": [10, 20, 30], "loss": [0.9, 0.5, 0.05]}, "final_loss": 0.05,
               "first_epoch_below": 30, "learnt": True}
    run = {"threshold": 0.1, "restarts": [restart], "best": 0, "final_loss": 0.05, "learnt": 1,
           "evaluation": {"correct": 8, "total": 10, "accuracy": 0.8},
           "by_n": [{"n": 1, "correct": 3, "total": 4, "accuracy": 0.75},
                    {"n": 2, "correct": 5, "total": 6, "accuracy": 5 / 6}]}
    fsm = {"states": [{"id": 0, "start": True, "visits": 3, "fine_clusters": 2},
                      {"id": 1, "start": False, "visits": 2, "fine_clusters": 1}],
           "transitions": [{"from": 0, "to": 1, "symbol": "a", "count": 2}], "moves": 4, "sequences": 1,
           "fine_clusters": 3, "determinism": 0.9, "position_agreement": 1.0,
           "predictor": {"run": "srn", "correct": 7, "total": 10, "accuracy": 0.7,
                         "agreement": {"correct": 9, "total": 10, "accuracy": 0.9},
                         "agreement_all": {"correct": 18, "total": 20, "accuracy": 0.9}}}
    return {"runs": {"srn": run}, "fsm": fsm, "probabilities": {"rows": []}, "lstm_steps": {"rows": []},
            "figures": {"loss": "loss.png"}}


def test_a_consistent_hand_built_result_passes():
    assert invariants(consistent_result()) == []


def test_a_figure_that_is_not_a_png_file_name_is_named():
    data = consistent_result()
    data["figures"].update(curve="curve.svg", missing=None)
    assert invariants(data) == ["figures.curve: 'curve.svg' is not a .png file name",
                                "figures.missing: None is not a .png file name"]


def restart_problems(**history) -> list[str]:
    data = consistent_result()
    data["runs"]["srn"]["restarts"][0]["history"].update(history)
    return invariants(data)


@pytest.mark.parametrize("epochs", [[10, 10, 30], [10, 30, 20]])
def test_a_history_whose_epochs_do_not_increase_is_caught(epochs):
    assert restart_problems(epoch=epochs) == [
        "runs.srn: restart 0: history epochs must be non-empty, increasing and match the losses"]


def test_an_empty_history_is_caught_and_a_single_epoch_one_is_not():
    assert restart_problems(epoch=[], loss=[]) == [
        "runs.srn: restart 0: history epochs must be non-empty, increasing and match the losses"]
    assert restart_problems(epoch=[30], loss=[0.05]) == []


def test_epochs_one_apart_are_increasing():
    assert restart_problems(epoch=[1, 2, 3]) == ["runs.srn: restart 0: first_epoch_below 30 disagrees with the history"]


def test_a_final_loss_other_than_the_last_recorded_one_quotes_the_last():
    assert restart_problems(loss=[0.9, 0.5, 0.04]) == [
        "runs.srn: restart 0: final_loss 0.05 is not the last recorded loss 0.04"]


def test_accuracy_and_count_mismatches_name_the_evaluation_or_the_block_length():
    data = consistent_result()
    run = data["runs"]["srn"]
    run["evaluation"]["accuracy"] = 0.7
    run["by_n"][1].update(correct=4, accuracy=0.5)
    assert invariants(data) == ["runs.srn: evaluation: accuracy 0.7 != correct/total 0.8",
                                "runs.srn: by_n[n=2]: accuracy 0.5 != correct/total 0.6666666666666666",
                                "runs.srn: by_n correct counts do not add up to the evaluation's"]


def fsm_problems(change) -> list[str]:
    data = consistent_result()
    change(data["fsm"])
    return invariants(data)


@pytest.mark.parametrize("change, problem", [
    (lambda f: (f["states"][1].update(id=2), f["transitions"][0].update(to=2)), "fsm: state ids are not 0..k-1"),
    (lambda f: f["states"][1].update(start=True), "fsm: state 0, and only it, must be the start"),
    (lambda f: f["transitions"].append({"from": 1, "to": 1, "symbol": "a", "count": 0}), None),
    (lambda f: f["transitions"].append({"from": 0, "to": 0, "symbol": "a", "count": 0}),
     "fsm: a state has two transitions on one symbol: not deterministic"),
    (lambda f: f.update(sequences=2), "fsm: the states' visits do not add up to the moves plus the initial states"),
    (lambda f: f["transitions"][0].update(count=5),
     "fsm: more moves follow the transitions than were observed"),
    (lambda f: f["transitions"][0].update(count=4), None),
    (lambda f: f.update(fine_clusters=4), "fsm: the states do not partition the fine clusters"),
    (lambda f: f.update(determinism=1.0, position_agreement=1.0), None),
    (lambda f: f.update(determinism=0.0), "fsm: determinism and position agreement must be in (0, 1]"),
    (lambda f: f.update(position_agreement=1.01), "fsm: determinism and position agreement must be in (0, 1]"),
    (lambda f: f["predictor"].update(total=12, accuracy=7 / 12),
     "fsm: the predictor was not scored on the network's evaluation positions"),
    (lambda f: f["predictor"]["agreement_all"].update(accuracy=0.8),
     "fsm: predictor agreement_all: accuracy 0.8 != correct/total 0.9"),
])
def test_each_machine_clause_names_exactly_what_disagrees(change, problem):
    assert fsm_problems(change) == ([problem] if problem else [])


@pytest.mark.parametrize("state", [2, -1])
def test_a_transition_to_a_state_that_does_not_exist_is_named(state):
    transition = {"from": 0, "to": state, "symbol": "b", "count": 0}
    assert fsm_problems(lambda f: f["transitions"].append(transition)) == [
        f"fsm: transition {transition} names a state that does not exist"]


def test_a_loss_exactly_at_the_threshold_is_not_below_it():
    data = consistent_result()
    restart = data["runs"]["srn"]["restarts"][0]
    restart["history"]["loss"] = [0.9, 0.05, 0.1]
    restart.update(final_loss=0.1, first_epoch_below=None, learnt=False)
    data["runs"]["srn"].update(final_loss=0.1, learnt=0)
    assert invariants(data) == []


@pytest.mark.parametrize("correct, total, accuracy", [(0, 10, 0.0), (10, 10, 1.0), (0, 0, None)])
def test_counts_at_the_ends_of_their_range_are_consistent(correct, total, accuracy):
    data = consistent_result()
    data["fsm"]["predictor"]["agreement"] = {"correct": correct, "total": total, "accuracy": accuracy}
    assert invariants(data) == []


def test_more_correct_than_total_is_named():
    data = consistent_result()
    data["fsm"]["predictor"]["agreement"] = {"correct": 11, "total": 10, "accuracy": 1.1}
    assert invariants(data) == ["fsm: predictor agreement: correct=11 is not within 0..total=10"]
