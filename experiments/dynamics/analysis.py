"""What the report says about a trained net, as pure functions of arrays (no torch, no plots).

Losses, deterministic-prediction accuracy, scores by n, the finite-state machine read off
the hidden states, and per-step tables. The tests drive them with hand-made arrays.
"""
from __future__ import annotations

import numpy as np

from .languages import SYMBOLS, Sequence, deterministic


def reported_loss(probs: np.ndarray, targets: np.ndarray) -> float:
    """Mean squared difference between predicted and target distributions, both (T, K)."""
    return float(np.mean((probs - targets) ** 2))


def first_epoch_below(epochs: list[int], losses: list[float], threshold: float) -> int | None:
    """The first recorded epoch from which every recorded loss is below ``threshold``."""
    since = None
    for epoch, loss in zip(epochs, losses):
        since = (epoch if since is None else since) if loss < threshold else None
    return since


def best_restart(final_losses: list[float]) -> int:
    """The restart with the lowest final loss (the first of equals)."""
    return int(np.argmin(final_losses))


def prediction_counts(probs: np.ndarray, positions: Sequence) -> tuple[int, int]:
    """(correct, total) over the positions whose next symbol is certain; correct = argmax hits."""
    certain = deterministic(positions.inputs)                       # (T,)
    hits = probs.argmax(1) == positions.labels                      # (T,)
    return int(hits[certain].sum()), int(certain.sum())


def accuracy_record(correct: int, total: int) -> dict:
    """``{"correct", "total", "accuracy"}``, accuracy a fraction (None when there is nothing)."""
    return {"correct": correct, "total": total, "accuracy": correct / total if total else None}


def scores(probs: np.ndarray, positions: Sequence) -> dict:
    """Reported loss and deterministic-prediction accuracy over positions (probs (T, K))."""
    loss = reported_loss(probs, positions.targets) if len(probs) else None
    return {"loss": loss, **accuracy_record(*prediction_counts(probs, positions))}


def scores_by_n(probs: np.ndarray, positions: Sequence, max_n: int) -> list[dict]:
    """``scores`` restricted to the positions inside blocks of each n = 1..max_n."""
    rows = []
    for n in range(1, max_n + 1):
        keep = positions.block_n == n                               # (T,)
        rows.append({"n": n, **scores(probs[keep], positions.subset(keep))})
    return rows


# --- the finite-state machine -------------------------------------------------------------

def farthest_point_centres(points: np.ndarray, radius: float, max_clusters: int) -> np.ndarray:
    """Greedy k-centre: add the point farthest from all centres until all are within ``radius``.

    This is the rule that chooses k: as many centres as this greedy cover needs to bring
    every visited state within ``radius`` of one (capped at ``max_clusters``). The centres are
    more than ``radius`` apart, so no cover by balls of radius/2 has fewer. Starts at points[0].
    """
    chosen = [0]
    distance = np.linalg.norm(points - points[0], axis=1)           # (N,) to the nearest centre
    while distance.max() > radius and len(chosen) < max_clusters:
        chosen.append(int(distance.argmax()))
        distance = np.minimum(distance, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return points[chosen]


def cluster(points: np.ndarray, radius: float, max_clusters: int,
            iterations: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Centres (k, H) and labels (N,): greedy k-centre start, then Lloyd (k-means) steps.

    Cluster ids follow first appearance in ``points``, so points[0] is in cluster 0.
    """
    labels = _nearest(points, farthest_point_centres(points, radius, max_clusters))
    for _ in range(iterations):
        centres, labels = _means(points, labels)
        moved = _nearest(points, centres)
        if np.array_equal(moved, labels):
            break
        labels = moved
    return _means(points, labels)


def _means(points: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each non-empty cluster, with ids renumbered by first appearance."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    labels = np.argsort(np.argsort(first))[inverse.ravel()]         # (N,) new ids
    return np.array([points[labels == k].mean(0) for k in range(len(first))]), labels


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points[:, None] - centres[None], axis=2).argmin(1)   # (N,)


def extract_fsm(hidden_list: list[np.ndarray], sequences: list[Sequence], radius: float,
                max_clusters: int) -> dict:
    """Cluster the visited states and count the transitions between clusters by input symbol.

    ``hidden_list[i]`` is (T_i + 1, H): the initial state, then the state after each input.
    Returns ``clusters`` (id, centre, size, start, state = commonest block position, -1 for
    the initial state) and ``transitions`` (from, symbol, to, count), plus ``determinism``:
    the share of transitions that go where the commonest successor of (from, symbol) goes.
    """
    points = np.concatenate(hidden_list)                            # (N, H)
    centres, labels = cluster(points, radius, max_clusters)
    positions = np.concatenate([np.r_[-1, s.states] for s in sequences])  # (N,)
    moves = _moves(labels, hidden_list, sequences)                 # (M, 3) from, symbol, to
    return {"radius": radius, "sequences": len(sequences),
            "clusters": _cluster_rows(centres, labels, positions),
            "transitions": _transition_rows(moves), "determinism": _determinism(moves)}


def _moves(labels, hidden_list, sequences) -> np.ndarray:
    starts = np.r_[0, np.cumsum([len(h) for h in hidden_list])[:-1]]
    return np.concatenate([np.stack([labels[a:a + len(s.inputs)], s.inputs,
                                     labels[a + 1:a + 1 + len(s.inputs)]], 1)
                           for a, s in zip(starts, sequences)])


def _cluster_rows(centres, labels, positions) -> list[dict]:
    rows = []
    for k, centre in enumerate(centres):
        values, counts = np.unique(positions[labels == k], return_counts=True)
        rows.append({"id": k, "centre": [float(x) for x in centre], "size": int(counts.sum()),
                     "start": bool(labels[0] == k), "state": int(values[counts.argmax()])})
    return rows


def _transition_rows(moves: np.ndarray) -> list[dict]:
    triples, counts = np.unique(moves, axis=0, return_counts=True)
    return [{"from": int(a), "symbol": SYMBOLS[b], "to": int(c), "count": int(n)}
            for (a, b, c), n in zip(triples, counts)]


def _determinism(moves: np.ndarray) -> float:
    triples, counts = np.unique(moves, axis=0, return_counts=True)
    pairs, which = np.unique(triples[:, :2], axis=0, return_inverse=True)
    best = np.zeros(len(pairs), int)
    np.maximum.at(best, which.ravel(), counts)
    return float(best.sum() / counts.sum())


# --- per-step tables ------------------------------------------------------------------------

def probability_rows(n: int, sequence: Sequence, probs: np.ndarray) -> list[dict]:
    """One row per step of a sequence: input, actual next symbol, predicted and target dists."""
    return [{"n": n, "step": t, "input": SYMBOLS[x], "next": SYMBOLS[y],
             "p": [float(v) for v in p], "target": [float(v) for v in target]}
            for t, (x, y, p, target) in enumerate(zip(sequence.inputs, sequence.labels, probs,
                                                      sequence.targets))]


def p_b_after_each_a(sequence: Sequence, probs: np.ndarray) -> list[float]:
    """P(B) after the 1st, 2nd, ... A of the sequence's first block."""
    first_block = np.flatnonzero(sequence.inputs != 0)
    count = first_block[0] if len(first_block) else len(sequence.inputs)
    return [float(p) for p in probs[:count, 1]]


def gate_rows(n: int, sequence: Sequence, trace: dict) -> list[dict]:
    """One row per LSTM step: input, gates i, f, g, o, cell c and hidden h (each H numbers)."""
    H = trace["hidden"].shape[1]
    rows = []
    for t, (x, y) in enumerate(zip(sequence.inputs, sequence.labels)):
        gates = trace["gates"][t].reshape(4, H)
        rows.append({"n": n, "step": t, "input": SYMBOLS[x], "next": SYMBOLS[y],
                     **{name: [float(v) for v in g] for name, g in zip("ifgo", gates)},
                     "c": [float(v) for v in trace["cells"][t + 1]],
                     "h": [float(v) for v in trace["hidden"][t + 1]]})
    return rows
