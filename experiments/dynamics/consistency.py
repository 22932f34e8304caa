"""What must hold in the section's results, checked with NumPy only (no torch).

The engine calls ``invariants(data)`` on every build and on ``--check``.
"""
from __future__ import annotations

import numpy as np


def invariants(data: dict) -> list[str]:
    """What must hold in the results of ``run``; one message per violation."""
    problems = []
    for name, run_data in data["runs"].items():
        problems += [f"runs.{name}: {p}" for p in _run_invariants(run_data)]
    problems += [f"fsm: {p}" for p in _fsm_invariants(data["fsm"], data["runs"])]
    problems += [f"probabilities: {p}"
                 for p in _distribution_invariants(data["probabilities"]["rows"])]
    problems += [f"lstm_steps: {p}" for p in _gate_invariants(data["lstm_steps"]["rows"])]
    problems += [f"figures.{k}: {v!r} is not a .png file name" for k, v in data["figures"].items()
                 if not (isinstance(v, str) and v.endswith(".png"))]
    return problems


def _run_invariants(r: dict) -> list[str]:
    problems = []
    for restart in r["restarts"]:
        problems += [f"restart {restart['restart']}: {p}"
                     for p in _restart_invariants(restart, r["threshold"])]
    finals = [restart["final_loss"] for restart in r["restarts"]]
    if finals[r["best"]] != min(finals):
        problems.append(f"best restart {r['best']} does not have the lowest final loss")
    if r["final_loss"] != finals[r["best"]]:
        problems.append(f"final_loss {r['final_loss']} is not the best restart's")
    if r["learnt"] != sum(restart["learnt"] for restart in r["restarts"]):
        problems.append(f"learnt={r['learnt']} is not the number of restarts that learnt")
    problems += _accuracy_invariants("evaluation", r["evaluation"])
    for row in r["by_n"]:
        problems += _accuracy_invariants(f"by_n[n={row['n']}]", row)
    for key in ("correct", "total"):
        if sum(row[key] for row in r["by_n"]) != r["evaluation"][key]:
            problems.append(f"by_n {key} counts do not add up to the evaluation's")
    return problems


def _restart_invariants(restart: dict, threshold: float) -> list[str]:
    history = restart["history"]
    epochs = np.array(history["epoch"])
    losses = np.array(history["loss"], float)  # pragma: no mutate (losses are JSON floats: float64 anyway)
    if len(epochs) != len(losses) or len(epochs) == 0 or np.any(np.diff(epochs) <= 0):
        return ["history epochs must be non-empty, increasing and match the losses"]
    if restart["final_loss"] != losses[-1]:
        return [f"final_loss {restart['final_loss']} is not the last recorded loss {losses[-1]}"]
    if restart["first_epoch_below"] != _first_epoch_below(epochs, losses, threshold):
        return [f"first_epoch_below {restart['first_epoch_below']} disagrees with the history"]
    if restart["learnt"] != (restart["first_epoch_below"] is not None):
        return [f"learnt={restart['learnt']} disagrees with first_epoch_below"]
    return []


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


def _fsm_invariants(fsm: dict, runs: dict) -> list[str]:
    ids = [state["id"] for state in fsm["states"]]
    problems = [] if ids == list(range(len(ids))) else ["state ids are not 0..k-1"]
    if [state["start"] for state in fsm["states"]] != [i == 0 for i in ids]:
        problems.append("state 0, and only it, must be the start")
    problems += [f"transition {t} names a state that does not exist" for t in fsm["transitions"]
                 if t["from"] not in ids or t["to"] not in ids]
    if len({(t["from"], t["symbol"]) for t in fsm["transitions"]}) != len(fsm["transitions"]):
        problems.append("a state has two transitions on one symbol: not deterministic")
    if sum(state["visits"] for state in fsm["states"]) != fsm["moves"] + fsm["sequences"]:
        problems.append("the states' visits do not add up to the moves plus the initial states")
    if sum(t["count"] for t in fsm["transitions"]) > fsm["moves"]:
        problems.append("more moves follow the transitions than were observed")
    if sum(state["fine_clusters"] for state in fsm["states"]) != fsm["fine_clusters"]:
        problems.append("the states do not partition the fine clusters")
    if not 0 < fsm["determinism"] <= 1 or not 0 < fsm["position_agreement"] <= 1:
        problems.append("determinism and position agreement must be in (0, 1]")
    return problems + _predictor_invariants(fsm["predictor"], runs[fsm["predictor"]["run"]])


def _predictor_invariants(predictor: dict, run: dict) -> list[str]:
    problems = _accuracy_invariants("predictor", predictor)
    problems += _accuracy_invariants("predictor agreement", predictor["agreement"])
    problems += _accuracy_invariants("predictor agreement_all", predictor["agreement_all"])
    if predictor["total"] != run["evaluation"]["total"]:
        problems.append("the predictor was not scored on the network's evaluation positions")
    return problems


def _distribution_invariants(rows: list[dict]) -> list[str]:
    return [f"step {r['step']} of n={r['n']}: predicted probabilities do not sum to 1"
            for r in rows if abs(sum(r["p"]) - 1) > 1e-6 or min(r["p"]) < 0]


def _gate_invariants(rows: list[dict]) -> list[str]:
    return [f"step {r['step']} of n={r['n']}: a gate is outside its range" for r in rows
            if not all(0 <= v <= 1 for k in "ifo" for v in r[k]) or max(map(abs, r["g"])) > 1]
