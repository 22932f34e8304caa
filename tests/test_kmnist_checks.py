"""The kmnist invariants at the scale of the real test set: one image out of place must show."""
import copy

import numpy as np
import pytest

from experiments.kmnist.checks import invariants

LAYERS = [{"layer": "fc", "factors": [784, 10], "addend": 10}]  # NetLin: 784 x 10 weights + 10 biases


def full_size_result() -> dict:
    """A NetLin result on 10,000 test images whose numbers agree, built from a confusion matrix."""
    rng = np.random.default_rng(0)
    cm = rng.integers(0, 30, (10, 10))
    np.fill_diagonal(cm, 0)
    np.fill_diagonal(cm, 1000 - cm.sum(axis=1))  # 1,000 images per class
    accuracy = int(np.trace(cm)) / 10_000
    return {"models": {"lin": {
        "accuracy": accuracy, "test_loss": 0.61, "confusion": cm.tolist(), "class_counts": [1000] * 10,
        "test_size": 10_000, "params": 784 * 10 + 10, "param_layers": LAYERS,
        "history": {"train_loss": [0.9, 0.7], "test_loss": [0.8, 0.61], "test_accuracy": [0.6, accuracy]}}}}


def tampered(change) -> list[str]:
    data = copy.deepcopy(full_size_result())
    change(data["models"]["lin"])
    return invariants(data)


def test_a_consistent_full_size_result_passes():
    assert invariants(full_size_result()) == []


def test_an_accuracy_off_by_one_image_in_ten_thousand_is_caught():
    def one_image_more(m):
        m["accuracy"] += 1 / 10_000
        m["history"]["test_accuracy"][-1] = m["accuracy"]
    problems = tampered(one_image_more)
    assert len(problems) == 1 and "diagonal / total" in problems[0]


@pytest.mark.parametrize("change, words", [
    (lambda m: m["history"]["test_accuracy"].__setitem__(-1, 0.5), "history ends at accuracy"),
    (lambda m: m["history"]["test_loss"].__setitem__(-1, 0.5), "history ends at test loss"),
    (lambda m: m["history"]["train_loss"].pop(), "unequal lengths"),
    (lambda m: m["history"].update(train_loss=[], test_loss=[], test_accuracy=[]), "empty"),
    (lambda m: m.update(test_size=9_999), "sums to 10000, test size is 9999"),
    (lambda m: m["param_layers"][0].update(addend=11), "layer shapes give 7851"),
    (lambda m: m["param_layers"][0].update(factors=[785, 10]), "layer shapes give 7860"),
    (lambda m: m["param_layers"][0].update(factors=[784, "10"]), "malformed result (TypeError"),
    (lambda m: m.pop("history"), "malformed result (KeyError"),
])
def test_each_clause_rejects_its_tampering(change, words):
    problems = tampered(change)
    assert problems and all(p.startswith("kmnist.models.lin: ") for p in problems)
    assert any(words in p for p in problems), problems
