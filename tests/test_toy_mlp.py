"""Part 2: the data, the hand-designed step network, its x10 sigmoid twin, and training."""
import re

import numpy as np
import pytest

from experiments import toy_mlp
from report.context import Context


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    config = toy_mlp.Config(**toy_mlp.QUICK)
    return toy_mlp.run(config, Context(tmp_path_factory.mktemp("toy_art"), show_progress=False))


def test_points_are_the_grid_with_parity_targets():
    xy, target = toy_mlp.points()
    assert sorted(map(tuple, xy)) == [(x, y) for x in range(3) for y in range(3)]
    assert all(t == (x + y) % 2 for (x, y), t in zip(xy.astype(int), target))


def test_hand_designed_step_network_is_correct_on_every_point(data):
    assert data["step"]["accuracy"] == 1.0
    assert [row["output"] for row in data["step"]["activations"]] == [row["target"] for row in data["step"]["activations"]]


def test_step_activation_table_is_the_networks_own(data):
    xy, _ = toy_mlp.points()
    hidden, output = toy_mlp.step_forward(data["step"]["weights"], xy)
    table = np.array([[row[k] for k in ("h1", "h2", "h3", "h4", "output")] for row in data["step"]["activations"]])
    np.testing.assert_array_equal(table, np.column_stack([hidden, output]))


def test_scaled_sigmoid_predicts_what_the_step_network_predicts(data):
    step = [row["output"] for row in data["step"]["activations"]]
    scaled = [float(o >= 0.5) for o in data["scaled"]["outputs"]]
    assert scaled == step and data["scaled"]["agrees_with_step"]
    assert 0 < data["scaled"]["max_abs_diff"] < 0.5


def test_dividing_lines_follow_from_the_weights(data):
    lines = {line["unit"]: line for line in data["step"]["lines"]}
    h1, h4 = lines["h1"], lines["h4"]
    assert (h1["side"], h1["slope"], h1["intercept"], h1["offset"]) == ("above", 1.0, 0.5, 0.5)
    assert (h4["side"], h4["slope"], h4["intercept"], h4["offset"]) == ("below", 1.0, -1.5, 1.5)


def test_trained_network_reaches_full_accuracy_and_reports_epochs(data):
    trained = data["trained"]
    assert trained["converged"] and trained["final_accuracy"] == 1.0
    assert trained["epoch_90"] <= trained["epoch_100"] <= trained["epochs_run"]
    assert trained["epochs_run"] - trained["epoch_100"] >= toy_mlp.QUICK["patience"] - 1


def test_invariants_hold_and_catch_a_tampered_activation_table(data):
    assert toy_mlp.invariants(data) == []
    tampered = {**data, "step": {**data["step"], "activations": [dict(r) for r in data["step"]["activations"]]}}
    tampered["step"]["activations"][4]["h1"] = 1.0 - tampered["step"]["activations"][4]["h1"]
    assert any("activation table" in p for p in toy_mlp.invariants(tampered))


def test_training_is_deterministic_for_a_seed(tmp_path):
    config = toy_mlp.Config(**toy_mlp.QUICK)
    xy, target = toy_mlp.points()
    from experiments.toy_mlp.section import train_until_solved

    ctx = Context(tmp_path, show_progress=False)
    first, second = (train_until_solved(config, xy, target, ctx) for _ in range(2))
    assert first["weights"] == second["weights"] and first["epochs_run"] == second["epochs_run"]


@pytest.mark.parametrize("bad, reason", [
    ({"seed": -1}, "seed must be at least 0, got -1"),
    ({"hidden": 0}, "hidden must be at least 1, got 0"),
    ({"patience": 0}, "patience must be at least 1, got 0"),
    ({"max_epochs": 0}, "max_epochs must be at least 1, got 0"),
    ({"max_attempts": 0}, "max_attempts must be at least 1, got 0"),
    ({"lr": -0.1}, "lr must be > 0, got -0.1"),
    ({"init_std": 0.0}, "init_std must be > 0, got 0.0"),
    ({"scale": 0.0}, "scale must be > 0, got 0.0"),
    ({"weight_decay": -1e-5}, "weight_decay must be at least 0, got -1e-05"),
    ({"step_w1": (1.0, 1.0)}, "step_w1 must hold 8 weights, an (x, y) pair per bias in step_b1, got 2"),
    ({"step_w2": (1.0,)}, "step_w2 must hold 4 weights, one per bias in step_b1, got 1"),
    ({"plot_min": 2.5}, "plot_min must be < plot_max, got 2.5 and 2.5"),
    ({"plot_resolution": 1}, "plot_resolution must be at least 2, got 1"),
])
def test_config_rejects_each_out_of_range_value_naming_the_field(bad, reason):
    with pytest.raises(ValueError, match=f"^toy_mlp config: {re.escape(reason)}$"):
        toy_mlp.Config(**bad)


def test_config_accepts_the_edges_of_each_range():
    toy_mlp.Config(seed=0, hidden=1, patience=1, max_epochs=1, max_attempts=1, weight_decay=0.0,
                   plot_resolution=2, step_w1=(1.0, -1.0), step_b1=(0.5,), step_w2=(1.0,))


def test_a_diverging_loss_names_the_section_epoch_and_the_setting_to_lower(tmp_path):
    from experiments.common import TrainingDiverged
    from experiments.toy_mlp.section import train_until_solved

    config = toy_mlp.Config(lr=1e300, max_epochs=50, max_attempts=1)  # weights reach inf - inf
    xy, target = toy_mlp.points()
    with pytest.raises(TrainingDiverged, match=r"^toy_mlp: the output became nan at epoch \d+ "
                                               r"\(seed 0, lr 1e\+300\)\n  hint: .*--set toy_mlp.lr="):
        train_until_solved(config, xy, target, Context(tmp_path, show_progress=False))


def _copy(data):
    import copy

    return copy.deepcopy(data)


@pytest.mark.parametrize("tamper,words", [
    (lambda d: d["scaled"].update(agrees_with_step=not d["scaled"]["agrees_with_step"]), "agreement"),
    (lambda d: d["scaled"].update(max_abs_diff=d["scaled"]["max_abs_diff"] + 0.1), "largest"),
    (lambda d: d["scaled"]["outputs"].__setitem__(0, 0.9), "outputs differ"),
    (lambda d: d["step"].update(accuracy=0.5), "step network's reported accuracy"),
    (lambda d: d["trained"].update(final_accuracy=0.5), "final accuracy"),
    (lambda d: d["trained"].update(final_loss=d["trained"]["final_loss"] + 1), "history does not end"),
    (lambda d: d["trained"].update(epoch_90=d["trained"]["epoch_100"] + 1), "90%"),
])
def test_each_invariant_catches_its_tampering(data, tamper, words):
    tampered = _copy(data)
    tamper(tampered)
    assert any(words in problem for problem in toy_mlp.invariants(tampered))


def test_a_step_unit_fires_when_its_net_input_is_exactly_zero():
    weights = {"w1": [[1.0, 0.0]], "b1": [-1.0], "w2": [1.0], "b2": -1.0}
    hidden, output = toy_mlp.step_forward(weights, np.array([[1.0, 5.0], [0.0, 5.0]]))
    assert hidden[:, 0].tolist() == [1.0, 0.0] and output.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("tamper,words", [
    (lambda d: d["step"]["activations"][4].update(output=1.0 - d["step"]["activations"][4]["output"]),
     "activation table"),
    (lambda d: d["step"]["activations"][0].update(h4=1.0 - d["step"]["activations"][0]["h4"]), "activation table"),
    (lambda d: d["scaled"].update(accuracy=d["scaled"]["accuracy"] - 1 / 9), "x10 sigmoid network's accuracy"),
    (lambda d: d["trained"]["history"]["accuracy"].__setitem__(-1, 0.5), "history does not end"),
])
def test_every_column_and_clause_is_checked(data, tamper, words):
    tampered = _copy(data)
    tamper(tampered)
    assert any(words in problem for problem in toy_mlp.invariants(tampered))


def test_a_run_that_never_reached_100_percent_is_not_misordered(data):
    tampered = _copy(data)
    tampered["trained"].update(epoch_100=None, epoch_90=tampered["trained"]["epochs_run"])
    assert toy_mlp.invariants(tampered) == []
