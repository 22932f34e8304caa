"""Part 3: hidden-unit dynamics of an SRN on a^n b^2n and an LSTM on a^n b^2n c^3n.

Light module (no torch): the config, the quick profile, ``run`` and ``invariants``.
The work is in ``section.py``; see ``experiments/__init__.py`` for the contract.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Optimizer = Literal["sgd", "adam"]


@dataclass(frozen=True)
class Config:
    """The report's settings (issue 4); every run trains on CPU, in NumPy (see ``bptt.py``)."""

    seed: int = 0                       # initial weights, training and evaluation sequences
    max_n: int = 4                      # each block's n is uniform on 1..max_n (the course's 4)
    blocks: int = 5                     # blocks per training sequence, then one final A
    srn_hidden: int = 2                 # two units: the states can be drawn in the plane (3.1)
    srn_epochs: int = 100_000           # the course's run length for the SRN on anb2n
    srn_optimizer: Optimizer = "sgd"    # the course's setting, no momentum
    srn_lr: float = 0.005               # the course's setting
    claim_optimizer: Optimizer = "adam"  # what the original report claims for SRN(2)...
    claim_lr: float = 1e-3              # ...rerun beside the default to test that claim
    lstm_hidden: int = 3                # three units, one per symbol to count (3.4)
    lstm_epochs: int = 100_000          # as the SRN on anb2n
    lstm_optimizer: Optimizer = "adam"  # the course's setting for the LSTM
    lstm_lr: float = 1e-3               # the course's setting for the LSTM
    cmp_srn_hidden: int = 4             # the SRN set against the LSTM on anb2nc3n (3.5)
    cmp_srn_epochs: int = 200_000       # twice the LSTM's: the fair comparison the issue asks
    cmp_srn_optimizer: Optimizer = "sgd"  # as the other SRNs
    cmp_srn_lr: float = 0.005           # as the other SRNs
    init_std: float = 0.001             # SRN weights ~ N(0, 0.001), the course's; LSTM: PyTorch's
    weight_decay: float = 1e-4          # the course's L2 penalty, for every run
    eval_every: int = 1000              # record the reported loss every this many epochs
    history_sequences: int = 1          # fresh sequences per recorded loss: the one
    threshold_anb2n: float = 0.05       # reported loss that counts as learnt on anb2n
    threshold_anb2nc3n: float = 0.02    # ...on anb2nc3n (LSTM and SRN held to the same bar)
    eval_sequences: int = 1000          # fresh sequences for accuracy and loss by n
    portrait_sequences: int = 10        # sequences drawn in the hidden-state portraits
    fsm_sequences: int = 200            # sequences whose visited states are clustered
    fsm_radius: float = 0.1             # every state within this of its cluster's centre
    fsm_max_clusters: int = 40          # cap on the clusters, so a failed net stays readable

    def __post_init__(self):
        for problem in _problems(self):
            raise ValueError(problem)


def _problems(c: Config):
    """One line per out-of-range value."""
    positive = ("max_n", "blocks", "eval_every", "history_sequences", "eval_sequences",
                "portrait_sequences", "fsm_sequences", "fsm_max_clusters", "srn_lr", "claim_lr",
                "lstm_lr", "cmp_srn_lr", "init_std", "fsm_radius", "cmp_srn_hidden")
    yield from (f"{name} must be positive, got {getattr(c, name)}" for name in positive
                if not getattr(c, name) > 0)
    yield from (f"{name}={getattr(c, name)} must be a positive multiple of eval_every"
                for name in ("srn_epochs", "lstm_epochs", "cmp_srn_epochs")
                if c.eval_every > 0 and (getattr(c, name) <= 0 or getattr(c, name) % c.eval_every))
    yield from (f"{name} must be in (0, 1), got {getattr(c, name)}"
                for name in ("threshold_anb2n", "threshold_anb2nc3n")
                if not 0 < getattr(c, name) < 1)
    if c.seed < 0:
        yield f"seed must be >= 0, got {c.seed}"
    if c.weight_decay < 0:
        yield f"weight_decay must be >= 0, got {c.weight_decay}"
    if c.srn_hidden < 2:
        yield f"srn_hidden must be >= 2 (its portrait draws two units), got {c.srn_hidden}"
    if c.lstm_hidden < 3:
        yield f"lstm_hidden must be >= 3 (its portraits draw three units), got {c.lstm_hidden}"


TITLE = "Hidden-unit dynamics"

QUICK = {"srn_epochs": 300, "lstm_epochs": 300, "cmp_srn_epochs": 300, "eval_every": 100,
         "eval_sequences": 40, "portrait_sequences": 3, "fsm_sequences": 20}


def run(config: Config, ctx) -> dict:
    """Train the four runs, analyse them and draw the figures; returns plain JSON data."""
    from .section import run_section

    return run_section(config, ctx)


def invariants(data: dict) -> list[str]:
    """What must hold in the results of ``run``; one message per violation."""
    problems = []
    for name, run_data in data["runs"].items():
        problems += [f"runs.{name}: {p}" for p in _run_invariants(run_data)]
    problems += [f"fsm: {p}" for p in _fsm_invariants(data["fsm"])]
    problems += [f"probabilities: {p}"
                 for p in _distribution_invariants(data["probabilities"]["rows"])]
    problems += [f"lstm_steps: {p}" for p in _gate_invariants(data["lstm_steps"]["rows"])]
    problems += [f"figures.{k}: {v!r} is not a .png file name" for k, v in data["figures"].items()
                 if not (isinstance(v, str) and v.endswith(".png"))]
    return problems


def _run_invariants(r: dict) -> list[str]:
    epochs, losses = np.array(r["history"]["epoch"]), np.array(r["history"]["loss"], float)
    problems = []
    if len(epochs) != len(losses) or len(epochs) == 0 or np.any(np.diff(epochs) <= 0):
        problems.append("history epochs must be non-empty, increasing and match the losses")
    elif r["final_loss"] != losses[-1]:
        problems.append(f"final_loss {r['final_loss']} is not the last recorded loss {losses[-1]}")
    elif r["first_epoch_below"] != _first_epoch_below(epochs, losses, r["threshold"]):
        problems.append(f"first_epoch_below {r['first_epoch_below']} disagrees with the history")
    problems += _accuracy_invariants("evaluation", r["evaluation"])
    for row in r["by_n"]:
        problems += _accuracy_invariants(f"by_n[n={row['n']}]", row)
    for key in ("correct", "total"):
        if sum(row[key] for row in r["by_n"]) != r["evaluation"][key]:
            problems.append(f"by_n {key} counts do not add up to the evaluation's")
    return problems


def _first_epoch_below(epochs: np.ndarray, losses: np.ndarray, threshold: float):
    above = np.flatnonzero(~(losses < threshold))
    start = above[-1] + 1 if len(above) else 0
    return int(epochs[start]) if start < len(epochs) else None


def _accuracy_invariants(where: str, record: dict) -> list[str]:
    correct, total, accuracy = record["correct"], record["total"], record["accuracy"]
    if not 0 <= correct <= total:
        return [f"{where}: correct={correct} is not within 0..total={total}"]
    expected = correct / total if total else None
    if accuracy != expected:
        return [f"{where}: accuracy {accuracy} != correct/total {expected}"]
    return []


def _fsm_invariants(fsm: dict) -> list[str]:
    ids = [c["id"] for c in fsm["clusters"]]
    problems = [] if ids == list(range(len(ids))) else ["cluster ids are not 0..k-1"]
    problems += [f"transition {t} names a cluster that does not exist" for t in fsm["transitions"]
                 if t["from"] not in ids or t["to"] not in ids]
    moves = sum(t["count"] for t in fsm["transitions"])
    if moves != sum(c["size"] for c in fsm["clusters"]) - fsm["sequences"]:
        problems.append(f"{moves} transitions, but the clusters hold a different number of steps")
    if not 0 < fsm["determinism"] <= 1:
        problems.append(f"determinism {fsm['determinism']} is not in (0, 1]")
    return problems


def _distribution_invariants(rows: list[dict]) -> list[str]:
    return [f"step {r['step']} of n={r['n']}: predicted probabilities do not sum to 1"
            for r in rows if abs(sum(r["p"]) - 1) > 1e-6 or min(r["p"]) < 0]


def _gate_invariants(rows: list[dict]) -> list[str]:
    return [f"step {r['step']} of n={r['n']}: a gate is outside its range" for r in rows
            if not all(0 <= v <= 1 for k in "ifo" for v in r[k]) or max(map(abs, r["g"])) > 1]
