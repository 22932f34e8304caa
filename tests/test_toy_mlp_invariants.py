"""The toy_mlp invariants on a result built by hand with NumPy (no training): each clause, exactly."""
import copy

import numpy as np
import pytest

from experiments import toy_mlp


def step_weights(c: toy_mlp.Config) -> dict:
    return {"w1": np.reshape(c.step_w1, (-1, 2)).tolist(), "b1": list(c.step_b1), "w2": list(c.step_w2),
            "b2": c.step_b2}


def consistent_result() -> dict:
    """The course's step network, its x10 sigmoid copy, and a 'trained' network that is that copy."""
    c = toy_mlp.Config()
    xy, target = toy_mlp.points()
    step = step_weights(c)
    hidden, output = toy_mlp.step_forward(step, xy)
    scaled = {k: (np.array(v) * c.scale).tolist() for k, v in step.items()}
    _, sig = toy_mlp.sigmoid_forward(scaled, xy)
    return {
        "step": {"weights": step, "accuracy": float(np.mean(output == target)),
                 "activations": [{**{f"h{j + 1}": h[j] for j in range(4)}, "output": o}
                                 for h, o in zip(hidden.tolist(), output.tolist())]},
        "scaled": {"weights": scaled, "outputs": sig.tolist(), "agrees_with_step": True,
                   "max_abs_diff": float(np.max(np.abs(sig - output))), "accuracy": 1.0},
        "trained": {"weights": scaled, "final_accuracy": 1.0, "final_loss": 0.01, "epoch_90": 40, "epoch_100": 50,
                    "history": {"loss": [0.7, 0.01], "accuracy": [0.5, 1.0]}},
    }


def problems(change) -> list[str]:
    data = copy.deepcopy(consistent_result())
    change(data)
    return toy_mlp.invariants(data)


def test_the_course_s_step_network_and_its_scaled_copy_are_consistent():
    assert toy_mlp.invariants(consistent_result()) == []


def test_reaching_90_and_100_percent_in_the_same_epoch_is_in_order():
    assert problems(lambda d: d["trained"].update(epoch_90=50)) == []
    assert problems(lambda d: d["trained"].update(epoch_90=51)) == [
        "the first epoch at >= 90% comes after the first at 100%"]


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["step"]["activations"][4].update(h2=1.0), "the step network's activation table differs from its activations"),
    (lambda d: d["step"].update(accuracy=8 / 9), "the step network's reported accuracy differs from its predictions"),
    (lambda d: d["scaled"]["outputs"].__setitem__(8, 0.5), "the x10 sigmoid outputs differ from its stored weights' outputs"),
    (lambda d: d["scaled"].update(agrees_with_step=False),
     "the x10 sigmoid network's agreement with the step network is misreported"),
    (lambda d: d["scaled"].update(max_abs_diff=0.5), "the largest x10 sigmoid / step difference is misreported"),
    (lambda d: d["scaled"].update(accuracy=8 / 9), "the x10 sigmoid network's accuracy differs from its predictions"),
    (lambda d: (d["trained"].update(final_accuracy=8 / 9), d["trained"]["history"]["accuracy"].__setitem__(-1, 8 / 9)),
     "the trained network's final accuracy differs from its final weights"),
    (lambda d: d["trained"]["history"]["loss"].__setitem__(-1, 0.02),
     "the training history does not end at the reported final loss and accuracy"),
])
def test_each_clause_names_exactly_what_disagrees(change, problem):
    assert problems(change) == [problem]


def test_a_sigmoid_output_of_exactly_one_half_counts_as_firing():
    weights = {"w1": [[0.0, 0.0]], "b1": [0.0], "w2": [0.0], "b2": 0.0}  # every net input 0: outputs 1/2
    data = consistent_result()
    _, half = toy_mlp.sigmoid_forward(weights, toy_mlp.points()[0])
    data["scaled"].update(weights=weights, outputs=half.tolist(), max_abs_diff=0.5, accuracy=4 / 9,
                          agrees_with_step=False)
    data["trained"].update(weights=weights, final_accuracy=4 / 9)
    data["trained"]["history"]["accuracy"][-1] = 4 / 9
    assert toy_mlp.invariants(data) == []


def test_the_sigmoid_network_applies_the_logistic_function_at_each_layer():
    weights = {"w1": [[1.0, 0.0]], "b1": [0.0], "w2": [2.0], "b2": -1.0}
    hidden, output = toy_mlp.sigmoid_forward(weights, np.array([[0.0, 7.0], [np.log(3.0), 7.0]]))
    assert np.allclose(hidden[:, 0], [0.5, 0.75]) and np.allclose(output, [0.5, 1 / (1 + np.exp(-0.5))])
