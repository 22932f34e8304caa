"""The section's figures, each drawn from arrays and result data onto a fresh ``Figure``.

No pyplot state: every function returns a ``matplotlib.figure.Figure`` for ``ctx.save_figure``.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .languages import SYMBOLS, Sequence

SYMBOL_COLOURS = {"A": "tab:red", "B": "tab:blue", "C": "tab:green"}
SYMBOL_MARKERS = {"A": "o", "B": "^", "C": "s"}
LSTM_QUANTITIES = {"i": "input gate", "f": "forget gate", "o": "output gate", "c": "cell state"}


def loss_curves(runs: list[dict], titles: list[str]) -> Figure:
    """One panel per run: every restart's recorded loss against epochs, the analysed (best)
    restart drawn bold, and the threshold."""
    fig = Figure(figsize=(4.2 * len(runs), 3.6))
    axes = fig.subplots(1, len(runs), sharey=True, squeeze=False)[0]
    for ax, run, title in zip(axes, runs, titles):
        for restart in run["restarts"]:
            best = restart["restart"] == run["best"]
            history = restart["history"]
            ax.semilogy(history["epoch"], history["loss"], lw=1.6 if best else 0.7,
                        alpha=1.0 if best else 0.6, zorder=3 if best else 2,
                        label=f"restart {restart['restart']}" + (" (analysed)" if best else ""))
        ax.axhline(run["threshold"], color="grey", ls="--", lw=1,
                   label=f"threshold {run['threshold']:g}")
        ax.set(title=title, xlabel="epoch")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
        ax.legend(fontsize=7)
    axes[0].set_ylabel("reported loss (MSE to target distribution)")
    fig.tight_layout()
    return fig


def state_portrait(hidden_list: list[np.ndarray], sequences: list[Sequence], title: str) -> Figure:
    """Hidden states in the plane of units 1 and 2, coloured by position in the block."""
    fig = Figure(figsize=(6.2, 5))
    ax = fig.subplots()
    points = np.concatenate([h[1:, :2] for h in hidden_list])               # (N, 2)
    positions = Sequence.pool(sequences)
    scatter = None
    for code, symbol in enumerate(SYMBOLS[:positions.targets.shape[1]]):
        keep = positions.inputs == code
        scatter = ax.scatter(*points[keep].T, c=positions.states[keep], cmap="viridis",
                             vmin=0, vmax=positions.states.max(), marker=SYMBOL_MARKERS[symbol],
                             s=28, edgecolors="k", linewidths=0.3, label=f"after input {symbol}")
    ax.scatter(*hidden_list[0][0, :2], marker="x", s=120, c="tab:red", label="initial state")
    fig.colorbar(scatter, ax=ax, label="position in block (0 = first A)")
    _unit_box(ax, "$h_1$", "$h_2$")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    return fig


def _unit_box(ax, xlabel: str, ylabel: str) -> None:
    ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), xlabel=xlabel, ylabel=ylabel, aspect="equal")
    ax.grid(alpha=0.3)


def fsm_diagram(fsm: dict, hidden_list: list[np.ndarray], min_share: float = 0.005) -> Figure:
    """The minimised machine's states at the mean of their visits (units 1 and 2), ringed in
    the colour of the symbol they predict, arrows coloured by the input that moves."""
    fig = Figure(figsize=(6.5, 6))
    ax = fig.subplots()
    points = np.concatenate(hidden_list)[:, :2]
    ax.scatter(*points.T, s=6, c="lightgrey", zorder=0)
    centres = np.array([state["centre"][:2] for state in fsm["states"]])
    total = sum(t["count"] for t in fsm["transitions"])
    for t in fsm["transitions"]:
        if t["count"] >= min_share * total:
            _arrow(ax, centres[t["from"]], centres[t["to"]], t["symbol"], t["count"] / total)
    for state, (x, y) in zip(fsm["states"], centres):
        ax.scatter(x, y, s=260, c="white", lw=2.5 if state["start"] else 1.5, zorder=3,
                   edgecolors=SYMBOL_COLOURS.get(state["output"], "k"))
        ax.annotate(str(state["id"]), (x, y), ha="center", va="center", fontsize=8, zorder=4)
    used = {t["symbol"] for t in fsm["transitions"]}
    handles = [Line2D([], [], color=c, label=f"input {s} / predicts {s}")
               for s, c in SYMBOL_COLOURS.items() if s in used]
    ax.legend(handles=handles, fontsize=8, loc="best")
    _unit_box(ax, "$h_1$", "$h_2$")
    ax.set_title(f"{len(centres)} states, minimised from {fsm['fine_clusters']} clusters "
                 f"(radius {fsm['radius']:g})")
    return fig


def _arrow(ax, start, end, symbol: str, share: float) -> None:
    colour = SYMBOL_COLOURS[symbol]
    if np.allclose(start, end):   # a self-loop: a small ring beside the node
        offset = {"A": (-0.06, 0.06), "B": (0.06, 0.06), "C": (0.0, -0.07)}[symbol]
        ax.scatter(start[0] + offset[0], start[1] + offset[1], s=60, facecolors="none",
                   edgecolors=colour, lw=1.2, zorder=2)
        return
    ax.annotate("", xy=end, xytext=start, zorder=1,
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 0.6 + 12 * share,
                            "shrinkA": 8, "shrinkB": 8, "connectionstyle": "arc3,rad=0.15"})


def probabilities(rows: list[dict], symbols: int) -> Figure:
    """Per-step predicted probabilities along one block for each n, targets dashed."""
    ns = sorted({r["n"] for r in rows})
    fig = Figure(figsize=(3.3 * len(ns), 3.2))
    axes = fig.subplots(1, len(ns), sharey=True, squeeze=False)[0]
    for ax, n in zip(axes, ns):
        steps = [r for r in rows if r["n"] == n]
        for k, symbol in enumerate(SYMBOLS[:symbols]):
            colour = SYMBOL_COLOURS[symbol]
            ax.plot([r["p"][k] for r in steps], marker=".", color=colour, label=f"P({symbol})")
            ax.plot([r["target"][k] for r in steps], ls="--", lw=0.8, color=colour)
        ax.set_xticks(range(len(steps)), [r["input"] for r in steps], fontsize=7)
        ax.set(title=f"n = {n}", xlabel="input", ylim=(-0.03, 1.03))
    axes[0].set_ylabel("predicted probability of next symbol")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def unit_portrait(arrays: list[np.ndarray], sequences: list[Sequence], quantity: str,
                  bounded: bool) -> Figure:
    """Every pair of the first three units, plus a 3-D view; colour = position in block,
    marker = the input just read.

    ``bounded``: the values lie in [-1, 1] (hidden units), so every panel shows that square.
    """
    points = np.concatenate([a[1:, :3] for a in arrays])                    # (N, 3)
    positions = Sequence.pool(sequences)
    fig = Figure(figsize=(10, 8.6))
    panels = [fig.add_subplot(2, 2, k + 1) for k in range(3)]
    panels.append(fig.add_subplot(2, 2, 4, projection="3d"))
    for code, symbol in enumerate(SYMBOLS[:positions.targets.shape[1]]):
        keep = positions.inputs == code
        style = {"c": positions.states[keep], "cmap": "viridis", "vmin": 0,
                 "vmax": positions.states.max(), "marker": SYMBOL_MARKERS[symbol], "s": 12,
                 "label": f"after input {symbol}"}
        for ax, (i, j) in zip(panels, [(0, 1), (0, 2), (1, 2)]):
            scatter = ax.scatter(points[keep, i], points[keep, j], **style)
        panels[3].scatter(*points[keep].T, **style)
    for ax, (i, j) in zip(panels, [(0, 1), (0, 2), (1, 2)]):
        names = f"${quantity}_{i + 1}$", f"${quantity}_{j + 1}$"
        if bounded:
            _unit_box(ax, *names)
        else:
            ax.set(xlabel=names[0], ylabel=names[1])
            ax.grid(alpha=0.3)
    panels[0].legend(fontsize=8, loc="best")
    panels[3].set(xlabel=f"${quantity}_1$", ylabel=f"${quantity}_2$", zlabel=f"${quantity}_3$")
    for axis in (panels[3].xaxis, panels[3].yaxis, panels[3].zaxis):  # the default ticks collide
        axis.set_major_locator(MaxNLocator(4))
    panels[3].tick_params(labelsize=7)
    panels[3].set_box_aspect(None, zoom=0.85)
    fig.colorbar(scatter, cax=fig.add_axes([0.95, 0.3, 0.015, 0.4]),
                 label="position in block (0 = first A)")
    return fig


def gate_heatmaps(rows: list[dict]) -> Figure:
    """The LSTM's gates and cell state along a few blocks: one panel per quantity, a row per
    unit, a column per step (labelled with the symbol read), each cell printed with its value."""
    fig = Figure(figsize=(1.6 + 0.42 * len(rows), 1.3 * len(LSTM_QUANTITIES) + 0.8))
    axes = fig.subplots(len(LSTM_QUANTITIES), 1, sharex=True)
    for ax, (key, name) in zip(axes, LSTM_QUANTITIES.items()):
        values = np.array([row[key] for row in rows]).T                    # (units, steps)
        gate = key != "c"
        limit = 1.0 if gate else max(1.0, float(np.abs(values).max()))
        image = ax.imshow(values, aspect="auto", cmap="viridis" if gate else "RdBu_r",
                          vmin=0.0 if gate else -limit, vmax=limit)
        for (unit, step), value in np.ndenumerate(values):
            ax.text(step, unit, f"{value:.2f}", ha="center", va="center", fontsize=6.5,
                    color=_ink(image, value))
        ax.set_yticks(range(len(values)), [f"unit {u + 1}" for u in range(len(values))], fontsize=7)
        ax.set_title(name, fontsize=8, loc="left")
        _mark_blocks(ax, rows)
        fig.colorbar(image, ax=ax, fraction=0.025, pad=0.01).ax.tick_params(labelsize=7)
    axes[-1].set_xticks(range(len(rows)), [row["input"] for row in rows], fontsize=7)
    axes[-1].set_xlabel("symbol read at each step; blocks of n = "
                        + ", ".join(str(n) for n in dict.fromkeys(row["n"] for row in rows)))
    return fig


def _ink(image, value: float) -> str:
    """Black on a light cell, white on a dark one."""
    red, green, blue, _ = image.cmap(image.norm(value))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def _mark_blocks(ax, rows: list[dict]) -> None:
    """A white line between one block's steps and the next's."""
    for step in range(1, len(rows)):
        if rows[step]["n"] != rows[step - 1]["n"]:
            ax.axvline(step - 0.5, color="white", lw=3)
