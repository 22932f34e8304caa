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


def extract_fsm(hidden_list: list[np.ndarray], probs_list: list[np.ndarray],
                sequences: list[Sequence], radius: float, max_clusters: int) -> dict:
    """The finite-state machine of a trained SRN: quantise its visited states finely, then
    minimise the machine they define.

    ``hidden_list[i]`` is (T_i + 1, H): the initial state, then the state after each input;
    ``probs_list[i]`` (T_i, K) the predictions made in those states. A net that counts moves
    along analog trajectories, so balls of any fixed radius cut them arbitrarily; instead the
    states are quantised finely (greedy k-centre, then Lloyd steps) and the resulting Moore
    machine is minimised (Moore's partition refinement, as in DFA extraction from recurrent
    nets, Omlin and Giles): clusters merge when they predict the same symbol (the net's
    commonest argmax there) and move to equivalent clusters on every symbol. A symbol never
    seen leaving a cluster counts as a distinct "undefined" successor, so merging is cautious.

    Returns ``states`` (id, output symbol, centre, visits, the fine clusters merged, the block
    position most of its visits have, and that share), the machine's ``transitions`` (from,
    symbol, to, count of observed moves that follow it), the quantisation's size and
    ``determinism`` (share of observed moves that go where their cluster and symbol's
    commonest successor goes), and ``position_agreement``: the share of visits whose state's
    commonest block position is their own.
    """
    points = np.concatenate(hidden_list)                            # (N, H)
    _, fine = cluster(points, radius, max_clusters)                 # (N,) cluster 0 = start
    moves = _moves(fine, hidden_list, sequences)                    # (M, 3) from, symbol, to
    predictions = np.concatenate([np.r_[-1, p.argmax(1)] for p in probs_list])  # -1: none yet
    table = successor_table(moves, fine.max() + 1, probs_list[0].shape[1])
    outputs = _commonest(fine, predictions, fine.max() + 1)
    merged = minimise(table, outputs)                               # fine cluster -> state
    states = merged[fine]                                           # (N,)
    visits = np.c_[merged[moves[:, 0]], moves[:, 1], merged[moves[:, 2]]]   # (M, 3) in states
    positions = np.concatenate([block_positions(s) for s in sequences])   # (N, 2)
    machine = _machine_table(table, merged)                         # (states, K)
    return {"radius": radius, "sequences": len(sequences), "fine_clusters": int(fine.max() + 1),
            "determinism": _determinism(moves), "moves": len(moves),
            "states": _state_rows(points, states, merged, outputs, positions),
            "transitions": _machine_transitions(machine, visits),
            "position_agreement": _position_agreement(states, positions)}


def successor_table(moves: np.ndarray, states: int, symbols: int) -> np.ndarray:
    """(states, symbols): the commonest successor of each state on each symbol, -1 if unseen.

    Ties go to the higher successor id, so the table is a function of the counts alone.
    """
    table = np.full((states, symbols), -1)
    triples, counts = np.unique(moves, axis=0, return_counts=True)
    for a, x, b in triples[np.argsort(counts, kind="stable")]:      # commonest written last
        table[a, x] = b
    return table


def minimise(table: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Moore's algorithm: the coarsest partition of states, refining "same output", in which
    states of a block move to the same block on every symbol (-1, unseen, is its own value).

    Returns each state's block, numbered by first appearance, so state 0 stays in block 0.
    """
    blocks = _first_appearance(outputs)
    while True:
        successors = np.where(table >= 0, blocks[np.maximum(table, 0)], -1)    # (S, K)
        refined = _first_appearance(np.column_stack([blocks, successors]))
        if refined.max() == blocks.max():                           # no block split: stable
            return refined
        blocks = refined


def run_machine(fsm: dict, sequences: list[Sequence]) -> np.ndarray:
    """The machine of ``extract_fsm`` as a predictor, read from its states and transitions:
    from state 0, follow each input and predict the output of the state reached; -1 where the
    state has no output or once an input leaves the machine (a transition never seen)."""
    step = {(t["from"], SYMBOLS.index(t["symbol"])): t["to"] for t in fsm["transitions"]}
    outputs = [-1 if s["output"] is None else SYMBOLS.index(s["output"]) for s in fsm["states"]]
    predictions = []
    for sequence in sequences:
        state = 0
        for x in sequence.inputs.tolist():
            state = step.get((state, x), -1)
            predictions.append(outputs[state] if state >= 0 else -1)
    return np.array(predictions, dtype=int)


def predictor_scores(machine: np.ndarray, probs: np.ndarray, positions: Sequence) -> dict:
    """How the machine's predictions (N,) fare on deterministic positions: right (against the
    actual next symbol) and agreeing with the network's own argmax (probs (N, K))."""
    certain = deterministic(positions.inputs)
    agree = machine == probs.argmax(1)
    right = machine == positions.labels
    return {**accuracy_record(int(right[certain].sum()), int(certain.sum())),
            "agreement": accuracy_record(int(agree[certain].sum()), int(certain.sum())),
            "agreement_all": accuracy_record(int(agree.sum()), len(agree))}


def block_positions(sequence: Sequence) -> np.ndarray:
    """(T + 1, 2) where each state of an anb2n sequence stands in its block: (0, k) after the
    k-th A, (1, m) after a B with m B's still owed; (-1, 0) for the initial state."""
    after_a = sequence.inputs == 0
    owed = 2 * sequence.block_n - (sequence.states - sequence.block_n + 1)   # valid after a B
    steps = np.where(after_a[:, None], np.c_[np.zeros_like(owed), sequence.states + 1],
                     np.c_[np.ones_like(owed), owed])
    return np.r_[[[-1, 0]], steps]


def _machine_table(table: np.ndarray, merged: np.ndarray) -> np.ndarray:
    """(states, K) next machine state or -1, read from any one fine cluster of each state
    (after minimisation they all agree)."""
    first = [np.flatnonzero(merged == m)[0] for m in range(merged.max() + 1)]
    rows = table[first]
    return np.where(rows >= 0, merged[np.maximum(rows, 0)], -1)


def _first_appearance(rows: np.ndarray) -> np.ndarray:
    """Ids for the distinct values (rows) of ``rows``, numbered by first appearance."""
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse.ravel()]


def _commonest(groups: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """Per group, the commonest value >= 0 among its members; -1 if it has none."""
    out = np.full(count, -1)
    for g in range(count):
        members = values[(groups == g) & (values >= 0)]
        if len(members):
            out[g] = np.bincount(members).argmax()
    return out


def _state_rows(points, states, merged, outputs, positions) -> list[dict]:
    rows = []
    for m in range(merged.max() + 1):
        output = outputs[np.flatnonzero(merged == m)[0]]            # shared by its clusters
        members = states == m
        values, counts = np.unique(positions[members], axis=0, return_counts=True)
        after, count = values[counts.argmax()]
        rows.append({"id": m, "output": SYMBOLS[output] if output >= 0 else None,
                     "centre": [float(x) for x in points[members].mean(0)],
                     "visits": int(members.sum()), "fine_clusters": int((merged == m).sum()),
                     "start": m == 0, "after": ["start", "A", "B"][after + 1],
                     "count": int(count), "position_share": float(counts.max() / members.sum())})
    return rows


def _machine_transitions(machine: np.ndarray, visits: np.ndarray) -> list[dict]:
    """The machine's transitions, each with the number of observed moves that follow it."""
    rows = []
    for a, x in np.argwhere(machine >= 0):
        follows = (visits[:, 0] == a) & (visits[:, 1] == x) & (visits[:, 2] == machine[a, x])
        rows.append({"from": int(a), "symbol": SYMBOLS[x], "to": int(machine[a, x]),
                     "count": int(follows.sum())})
    return rows


def _position_agreement(states: np.ndarray, positions: np.ndarray) -> float:
    """Share of visits whose state's commonest block position is their own."""
    agree = 0
    for m in range(states.max() + 1):
        _, counts = np.unique(positions[states == m], axis=0, return_counts=True)
        agree += counts.max()
    return float(agree / len(states))


def _moves(labels, hidden_list, sequences) -> np.ndarray:
    starts = np.r_[0, np.cumsum([len(h) for h in hidden_list])[:-1]]
    return np.concatenate([np.stack([labels[a:a + len(s.inputs)], s.inputs,
                                     labels[a + 1:a + 1 + len(s.inputs)]], 1)
                           for a, s in zip(starts, sequences)])


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
