"""What must hold in the section's results, checked by the engine on every build (numpy only)."""
import math

import numpy as np

TOLERANCE = 1e-9  # accuracy is correct / total; recomputing it must agree to rounding


def invariants(data: dict) -> list[str]:
    """Human-readable violations; an empty list means the results are consistent."""
    problems = []
    for key, model in data.get("models", {}).items():
        try:
            found = model_problems(model)
        except (KeyError, TypeError, IndexError) as error:
            found = [f"malformed result ({type(error).__name__}: {error})"]
        problems += [f"kmnist.models.{key}: {p}" for p in found]
    return problems


def model_problems(m: dict) -> list[str]:
    return confusion_problems(m) + parameter_problems(m) + history_problems(m)


def confusion_problems(m: dict) -> list[str]:
    """Total = test size, row sums = class counts, diagonal / total = accuracy."""
    cm = np.asarray(m["confusion"], dtype=np.int64)  # (10, 10), rows truth  # pragma: no mutate (JSON counts are ints: asarray infers int64 anyway)
    total, rows = int(cm.sum()), cm.sum(axis=1).tolist()
    accuracy = int(np.trace(cm)) / total if total else math.nan  # a float, printed as one
    return _failed([
        (total == m["test_size"], f"confusion matrix sums to {total}, test size is "
                                  f"{m['test_size']}"),
        (rows == list(m["class_counts"]), f"confusion row sums {rows} differ from the class "
                                          f"counts {list(m['class_counts'])}"),
        (abs(accuracy - m["accuracy"]) <= TOLERANCE, f"confusion diagonal / total = "
                                                     f"{accuracy!r}, reported accuracy is "
                                                     f"{m['accuracy']!r}"),
    ])


def parameter_problems(m: dict) -> list[str]:
    """The layer shapes the report prints as a formula add up to the counted parameters."""
    from_layers = sum(math.prod(layer["factors"]) + layer["addend"] for layer in m["param_layers"])
    return _failed([(from_layers == m["params"], f"layer shapes give {from_layers} parameters, "
                                                 f"counted {m['params']}")])


def history_problems(m: dict) -> list[str]:
    """The per-epoch history ends at the reported final accuracy and loss."""
    h = m["history"]
    lengths = {len(h["train_loss"]), len(h["test_loss"]), len(h["test_accuracy"])}
    if len(lengths) != 1 or lengths == {0}:
        return [f"history lists are empty or of unequal lengths {sorted(lengths)}"]
    return _failed([
        (h["test_accuracy"][-1] == m["accuracy"], f"history ends at accuracy "
                                                  f"{h['test_accuracy'][-1]!r}, reported "
                                                  f"{m['accuracy']!r}"),
        (h["test_loss"][-1] == m["test_loss"], f"history ends at test loss "
                                               f"{h['test_loss'][-1]!r}, reported "
                                               f"{m['test_loss']!r}"),
    ])


def _failed(checks: list[tuple[bool, str]]) -> list[str]:
    return [message for ok, message in checks if not ok]
