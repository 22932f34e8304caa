"""Part 2's figures: the points, and the decision regions of hidden units and outputs."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from experiments.toy_mlp import sigmoid_forward, step_forward


def grid(config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    axis = np.linspace(config.plot_min, config.plot_max, config.plot_resolution)
    gx, gy = np.meshgrid(axis, axis)
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()])  # (R*R, 2)


def draw_points(ax, xy, target) -> None:
    for label, marker, colour in ((0, "o", "white"), (1, "s", "black")):
        chosen = xy[target == label]
        ax.scatter(chosen[:, 0], chosen[:, 1], marker=marker, s=60, c=colour, edgecolors="black",
                   zorder=3, label=f"target {label}")


def region_panels(config, forward, weights, xy, target, title: str):
    """One panel per hidden unit and one for the output: shaded where the unit is >= 0.5."""
    gx, gy, flat = grid(config)
    hidden, output = forward(weights, flat)
    maps = [hidden[:, j] for j in range(hidden.shape[1])] + [output]
    names = [f"h{j + 1}" for j in range(hidden.shape[1])] + ["output"]
    fig, axes = plt.subplots(1, len(maps), figsize=(2.3 * len(maps), 2.6), sharey=True)
    for ax, values, name in zip(axes, maps, names):
        ax.contourf(gx, gy, (values.reshape(gx.shape) >= 0.5).astype(float), levels=[-0.5, 0.5, 1.5],
                    colors=["#f2f2f2", "#9ecae1"])
        draw_points(ax, xy, target)
        ax.set_title(name)
        ax.set_aspect("equal")
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    fig.suptitle(title)
    return fig


def points_figure(config, xy, target):
    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    draw_points(ax, xy, target)
    ax.set_xlim(config.plot_min, config.plot_max)
    ax.set_ylim(config.plot_min, config.plot_max)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    return fig


def diagram(weights: dict):
    """The step network drawn as nodes and weighted edges (blue positive, red negative)."""
    w1, b1, w2 = np.array(weights["w1"]), weights["b1"], weights["w2"]
    inputs, hidden = [(0, 0.66), (0, 0.33)], [(1, 1 - (j + 1) / (len(b1) + 1)) for j in range(len(b1))]
    output = (2, 0.5)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for j, h in enumerate(hidden):
        for i, x in enumerate(inputs):
            _edge(ax, x, h, w1[j, i], 0.3)
        _edge(ax, h, output, w2[j], 0.7)
    names = ["x", "y"] + [f"h{j + 1}\nb={b:g}" for j, b in enumerate(b1)] + [f"out\nb={weights['b2']:g}"]
    for (px, py), name in zip(inputs + hidden + [output], names):
        ax.add_patch(plt.Circle((px, py), 0.07, color="#deebf7", ec="black", zorder=2))
        ax.text(px, py, name, ha="center", va="center", fontsize=7, zorder=3)
    ax.set_xlim(-0.2, 2.2)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return fig


def _edge(ax, start, end, weight: float, where: float) -> None:
    ax.plot([start[0], end[0]], [start[1], end[1]], color="#2171b5" if weight > 0 else "#cb181d", lw=1)
    mx, my = start[0] + where * (end[0] - start[0]), start[1] + where * (end[1] - start[1])
    ax.text(mx, my, f"{weight:g}", fontsize=7, ha="center", va="center",
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"})


def all_figures(config, xy, target, trained, step, scaled, ctx) -> dict[str, str]:
    return {
        "points": ctx.save_figure(points_figure(config, xy, target), "points"),
        "trained_regions": ctx.save_figure(region_panels(config, sigmoid_forward, trained["weights"], xy, target,
                                                         "trained sigmoid network"), "trained_regions"),
        "step_regions": ctx.save_figure(region_panels(config, step_forward, step["weights"], xy, target,
                                                      "hand-designed step network"), "step_regions"),
        "scaled_regions": ctx.save_figure(region_panels(config, sigmoid_forward, scaled["weights"], xy, target,
                                                        "step weights x10 under sigmoid"), "scaled_regions"),
        "step_diagram": ctx.save_figure(diagram(step["weights"]), "step_diagram"),
    }
