"""Confusion matrices and the class pairs they say are hardest (numpy only)."""
import numpy as np

from . import CLASS_NAMES, HIRAGANA


def confusion_matrix(truth, predicted, n_classes: int = 10) -> np.ndarray:
    """Counts with rows = true class, columns = predicted class."""
    truth, predicted = np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    flat = np.bincount(truth * n_classes + predicted, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)  # (n_classes, n_classes)


def most_confused(confusion, k: int = 5) -> list[dict]:
    """The ``k`` largest off-diagonal cells: which true class leaks into which prediction."""
    off = np.array(confusion, dtype=np.int64)
    np.fill_diagonal(off, 0)
    cells = np.argsort(-off, axis=None, kind="stable")[:k]
    pairs = [np.unravel_index(c, off.shape) for c in cells]
    return [_pair(int(t), int(p), int(off[t, p])) for t, p in pairs if off[t, p] > 0]


def _pair(truth: int, predicted: int, count: int) -> dict:
    return {"truth": truth, "predicted": predicted, "count": count,
            "truth_name": CLASS_NAMES[truth], "predicted_name": CLASS_NAMES[predicted],
            "truth_hiragana": HIRAGANA[truth], "predicted_hiragana": HIRAGANA[predicted]}
