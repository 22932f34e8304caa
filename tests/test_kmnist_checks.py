"""The kmnist invariants at the scale of the real test set: one image out of place must show."""
import copy

import numpy as np
import pytest

from experiments.kmnist.checks import TOLERANCE, confusion_problems, history_problems, invariants

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


def test_a_result_without_models_has_nothing_to_check():
    assert invariants({}) == []


def test_every_inconsistent_model_is_named_not_only_the_last():
    data = full_size_result()
    data["models"]["conv"] = copy.deepcopy(data["models"]["lin"])
    for model in data["models"].values():
        model["test_size"] = 9_999
    assert invariants(data) == ["kmnist.models.lin: confusion matrix sums to 10000, test size is 9999",
                                "kmnist.models.conv: confusion matrix sums to 10000, test size is 9999"]


def test_an_empty_confusion_matrix_is_reported_not_divided_by_zero():
    m = full_size_result()["models"]["lin"]
    m.update(confusion=[[0] * 10 for _ in range(10)], test_size=0, class_counts=[0] * 10)
    assert confusion_problems(m) == [f"confusion diagonal / total = nan, reported accuracy is {m['accuracy']!r}"]


def test_an_accuracy_off_by_exactly_the_rounding_tolerance_still_agrees():
    m = full_size_result()["models"]["lin"]
    m["confusion"] = np.roll(np.eye(10, dtype=int) * 1000, 1, axis=1).tolist()  # every image one class off
    assert confusion_problems({**m, "accuracy": 0.0}) == []
    assert confusion_problems({**m, "accuracy": TOLERANCE}) == []
    assert confusion_problems({**m, "accuracy": 2 * TOLERANCE}) == [
        f"confusion diagonal / total = 0.0, reported accuracy is {2 * TOLERANCE!r}"]


def test_the_history_is_compared_at_its_last_epoch_and_the_message_quotes_it():
    m = full_size_result()["models"]["lin"]
    m["history"] = {"train_loss": [0.9, 0.7, 0.65], "test_loss": [0.8, 0.7, 0.62],
                    "test_accuracy": [0.5, 0.6, 0.7]}
    assert history_problems(m) == [f"history ends at accuracy 0.7, reported {m['accuracy']!r}",
                                   "history ends at test loss 0.62, reported 0.61"]
    m["history"].update(test_loss=[0.8, 0.7, 0.61], test_accuracy=[0.5, 0.6, m["accuracy"]])
    assert history_problems(m) == []
