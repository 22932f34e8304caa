"""Part 2 computed: train the 2-5-1 sigmoid net, evaluate the step net and its x10 sigmoid twin."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from experiments.common import TrainingDiverged, seed_everything
from experiments.toy_mlp import Config, points, sigmoid_forward, step_forward
from experiments.toy_mlp import plots

HISTORY_EVERY = 50  # epochs between stored history points (the last epoch is always stored)


class SigmoidMLP(nn.Module):
    """2 -> hidden -> 1, sigmoid on both layers."""

    def __init__(self, hidden: int, init_std: float):
        super().__init__()
        self.hidden, self.output = nn.Linear(2, hidden), nn.Linear(hidden, 1)
        for parameter in self.parameters():
            nn.init.normal_(parameter, 0.0, init_std)

    def forward(self, xy):  # (9, 2) -> hidden (9, H), output probability (9,)
        hidden = torch.sigmoid(self.hidden(xy))
        return hidden, torch.sigmoid(self.output(hidden)).squeeze(1)


def train_attempt(config: Config, seed: int, xy, target, ctx) -> dict:
    """One training run; stops after ``patience`` epochs at 100% or at ``max_epochs``."""
    seed_everything(seed)
    model = SigmoidMLP(config.hidden, config.init_std).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = nn.BCELoss()
    epoch_90 = epoch_100 = None
    streak, history = 0, {"epoch": [], "loss": [], "accuracy": []}
    bar = ctx.progress(total=config.max_epochs, desc=f"toy_mlp seed {seed}")
    for epoch in range(1, config.max_epochs + 1):
        optimizer.zero_grad()
        _, output = model(xy)
        if not torch.isfinite(output).all():  # BCELoss would fail on it, and clamps the loss
            raise TrainingDiverged("toy_mlp", "the output became nan", epoch,
                                   detail=f" (seed {seed}, lr {config.lr})")
        loss = loss_fn(output, target)
        loss.backward()
        optimizer.step()
        accuracy = ((output.detach() >= 0.5).double() == target).double().mean().item()
        epoch_90 = epoch_90 or (epoch if accuracy >= 0.9 else None)
        epoch_100 = epoch_100 or (epoch if accuracy == 1.0 else None)
        streak = streak + 1 if accuracy == 1.0 else 0
        if epoch % HISTORY_EVERY == 0 or streak >= config.patience or epoch == config.max_epochs:
            history["epoch"].append(epoch)
            history["loss"].append(loss.item())
            history["accuracy"].append(accuracy)
            bar.update(epoch - bar.n)
        if streak >= config.patience:
            break
    bar.close()
    return {"model": model, "seed": seed, "epoch_90": epoch_90, "epoch_100": epoch_100,
            "epochs_run": epoch, "converged": streak >= config.patience, "history": history}


def final_state(attempt: dict, xy_np: np.ndarray, target_np: np.ndarray) -> dict:
    """Final weights, loss and accuracy, recomputed from the weights as the invariants will."""
    model = attempt["model"]
    weights = {"w1": model.hidden.weight.tolist(), "b1": model.hidden.bias.tolist(),
               "w2": model.output.weight[0].tolist(), "b2": model.output.bias.item()}
    hidden, output = sigmoid_forward(weights, xy_np)
    loss = float(-np.mean(target_np * np.log(output) + (1 - target_np) * np.log(1 - output)))
    accuracy = float(np.mean((output >= 0.5) == target_np))
    history = attempt["history"]
    history["loss"][-1], history["accuracy"][-1] = loss, accuracy
    return {"weights": weights, "final_loss": loss, "final_accuracy": accuracy,
            "outputs": output.tolist(), "hidden_activations": hidden.tolist()}


def train_until_solved(config: Config, xy_np, target_np, ctx) -> dict:
    """Train with seed, seed + 1, ... until a run holds 100% for ``patience`` epochs."""
    xy, target = torch.tensor(xy_np), torch.tensor(target_np, dtype=torch.float64)
    for attempt_number in range(1, config.max_attempts + 1):
        attempt = train_attempt(config, config.seed + attempt_number - 1, xy, target, ctx)
        if attempt["converged"]:
            break
        ctx.log.info("toy_mlp: seed %d did not hold 100%%; retrying", attempt["seed"])
    result = {key: attempt[key] for key in ("seed", "epoch_90", "epoch_100", "epochs_run", "converged",
                                            "history")}
    final = final_state(attempt, xy_np, target_np)
    w = final["weights"]
    units = [{"unit": f"h{j + 1}", "w_x": row[0], "w_y": row[1], "bias": bias, "w_out": out}
             for j, (row, bias, out) in enumerate(zip(w["w1"], w["b1"], w["w2"]))]
    return {**result, "attempts": attempt_number, **final, "units": units}


def dividing_line(w_x: float, w_y: float, bias: float) -> dict:
    """The line w_x x + w_y y + b = 0 as y = slope x + intercept, and the side where the unit fires.

    ``offset`` is the intercept's size, printed after its sign: y ≤ x − 1.5.
    """
    slope, intercept = -w_x / w_y, -bias / w_y
    return {"w_x": w_x, "w_y": w_y, "bias": bias, "slope": slope, "intercept": intercept,
            "offset": abs(intercept), "side": "above" if w_y > 0 else "below"}


def step_network(config: Config, xy, target) -> dict:
    weights = {"w1": np.reshape(config.step_w1, (-1, 2)).tolist(), "b1": list(config.step_b1),
               "w2": list(config.step_w2), "b2": config.step_b2}
    hidden, output = step_forward(weights, xy)
    rows = [{"x": float(p[0]), "y": float(p[1]), **{f"h{j + 1}": float(h[j]) for j in range(len(h))},
             "output": float(o), "target": int(t)} for p, h, o, t in zip(xy, hidden, output, target)]
    lines = [{"unit": f"h{j + 1}", **dividing_line(*w, b)} for j, (w, b) in enumerate(zip(weights["w1"], weights["b1"]))]
    return {"weights": weights, "lines": lines, "activations": rows, "hidden_units": len(lines),
            "output_threshold": -weights["b2"], "accuracy": float(np.mean(output == target))}


def scaled_network(config: Config, step: dict, xy, target) -> dict:
    """The step weights times ``scale`` under sigmoid, compared with the step network."""
    w = step["weights"]
    weights = {"w1": (np.array(w["w1"]) * config.scale).tolist(),
               "b1": (np.array(w["b1"]) * config.scale).tolist(),
               "w2": (np.array(w["w2"]) * config.scale).tolist(), "b2": w["b2"] * config.scale}
    hidden, output = sigmoid_forward(weights, xy)
    _, step_output = step_forward(w, xy)
    rows = [{"x": float(p[0]), "y": float(p[1]), **{f"h{j + 1}": float(h[j]) for j in range(len(h))},
             "output": float(o), "step_output": float(s), "target": int(t)}
            for p, h, o, s, t in zip(xy, hidden, output, step_output, target)]
    return {"weights": weights, "scale": config.scale, "outputs": output.tolist(), "activations": rows,
            "accuracy": float(np.mean((output >= 0.5) == target)),
            "agrees_with_step": bool(np.array_equal(output >= 0.5, step_output >= 0.5)),
            "max_abs_diff": float(np.max(np.abs(output - step_output)))}


def run_section(config: Config, ctx) -> dict:
    xy, target = points()
    trained = train_until_solved(config, xy, target, ctx)
    step = step_network(config, xy, target)
    scaled = scaled_network(config, step, xy, target)
    figures = plots.all_figures(config, xy, target, trained, step, scaled, ctx)
    return {"device": "cpu",  # nine points: a GPU would only add transfer time
            "n_points": len(xy), "coordinates": sorted(set(xy[:, 0].tolist())),
            "points": [{"x": float(p[0]), "y": float(p[1]), "target": int(t)} for p, t in zip(xy, target)],
            "trained": trained, "step": step, "scaled": scaled, "figures": figures}
