"""What must hold in the section's results, checked by the engine on every build (numpy only)."""
import ast
import operator

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
    return confusion_problems(m) + formula_problems(m) + history_problems(m)


def confusion_problems(m: dict) -> list[str]:
    """Total = test size, row sums = class counts, diagonal / total = accuracy."""
    cm = np.asarray(m["confusion"], dtype=np.int64)  # (10, 10), rows truth
    total, rows = int(cm.sum()), cm.sum(axis=1).tolist()
    accuracy = np.trace(cm) / total if total else float("nan")
    return _failed([
        (total == m["test_size"], f"confusion matrix sums to {total}, test size is "
                                  f"{m['test_size']}"),
        (rows == list(m["class_counts"]), f"confusion row sums {rows} differ from the class "
                                          f"counts {list(m['class_counts'])}"),
        (abs(accuracy - m["accuracy"]) <= TOLERANCE, f"confusion diagonal / total = "
                                                     f"{accuracy!r}, reported accuracy is "
                                                     f"{m['accuracy']!r}"),
    ])


def formula_problems(m: dict) -> list[str]:
    """The formula, both as text and as layer shapes, evaluates to the counted parameters."""
    from_layers = sum(int(np.prod(l["weight"])) + l["bias"] for l in m["param_layers"])
    from_text = evaluate_formula(m["param_formula"])
    return _failed([
        (from_layers == m["params"], f"layer shapes give {from_layers} parameters, counted "
                                     f"{m['params']}"),
        (from_text == m["params"], f"formula {m['param_formula']!r} gives {from_text}, counted "
                                   f"{m['params']}"),
    ])


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


_OPERATORS = {ast.Add: operator.add, ast.Mult: operator.mul}


def evaluate_formula(text: str) -> int | None:
    """Integer value of a formula like "(784 x 10 + 10)"; None if it is not one."""
    try:
        return _evaluate(ast.parse(text.replace(" x ", " * "), mode="eval").body)
    except (SyntaxError, ValueError):
        return None


def _evaluate(node) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    raise ValueError(f"not a parameter formula: {ast.dump(node)}")
