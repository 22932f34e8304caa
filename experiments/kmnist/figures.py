"""The section's figures, drawn from result data (and, for the sample grid, the images).

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state). The hiragana need a
font with Japanese glyphs: ``matplotlib_fontja`` registers IPAexGothic on import.
"""
import matplotlib_fontja  # noqa: F401  (registers the IPAexGothic font with matplotlib)
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import CLASS_NAMES, HIRAGANA

FONT = "IPAexGothic"  # named explicitly, so a changed rcParams cannot bring back empty boxes
LABELS = [f"{h} {r}" for h, r in zip(HIRAGANA, CLASS_NAMES)]  # "お o", ...


def learning_curves(models: dict) -> Figure:
    """Test accuracy (left) and train / test loss (right) per epoch, one colour per model."""
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    acc, loss = fig.subplots(1, 2)
    for i, m in enumerate(models.values()):
        h, colour = m["history"], f"C{i}"
        epochs = np.arange(1, len(h["test_accuracy"]) + 1)
        acc.plot(epochs, h["test_accuracy"], "o-", color=colour, label=m["name"])
        loss.plot(epochs, h["train_loss"], "o-", color=colour, label=f"{m['name']} train")
        loss.plot(epochs, h["test_loss"], "s--", color=colour, mfc="none",
                  label=f"{m['name']} test")
    _axes(acc, "test accuracy")
    _axes(loss, "NLL loss")
    return fig


def _axes(ax, ylabel: str):
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def confusion_heatmap(confusion, title: str) -> Figure:
    """Counts as a heat-map, rows = true class, columns = predicted class."""
    cm = np.asarray(confusion)  # (10, 10)
    fig = Figure(figsize=(5.6, 5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(cm, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="images")
    for (t, p), count in np.ndenumerate(cm):
        colour = "white" if count > cm.max() / 2 else "black"
        ax.text(p, t, str(count), ha="center", va="center", fontsize=6.5, color=colour)
    ticks = np.arange(len(LABELS))
    ax.set_xticks(ticks, LABELS, rotation=90, fontfamily=FONT)
    ax.set_yticks(ticks, LABELS, fontfamily=FONT)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    return fig


def sample_grid(images, labels, per_class: int = 10) -> Figure:
    """The first ``per_class`` images of each class, one row per class."""
    images, labels = np.asarray(images), np.asarray(labels)  # (N, 1, 28, 28), (N,)
    fig = Figure(figsize=(per_class * 0.6 + 0.8, len(LABELS) * 0.6), layout="constrained")
    axes = fig.subplots(len(LABELS), per_class, squeeze=False)
    for c, row in enumerate(axes):
        picks = np.flatnonzero(labels == c)[:per_class]
        for ax, i in zip(row, np.pad(picks, (0, per_class - len(picks)), constant_values=-1)):
            _thumbnail(ax, images[i, 0] if i >= 0 else None)
        row[0].set_ylabel(LABELS[c], rotation=0, ha="right", va="center", fontfamily=FONT)
    return fig


def _thumbnail(ax, image):
    if image is not None:
        ax.imshow(image, cmap="gray_r", vmin=-1, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
