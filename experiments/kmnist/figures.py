"""The section's figures, drawn from result data (and, for the sample grid, the images).

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state). The hiragana need a
font with Japanese glyphs: IPAexGothic, which ``matplotlib_fontja`` ships and registers on
import; ``require_hiragana_font`` says, before anything trains, when matplotlib has none.
"""
import contextlib

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from report.errors import RendererError

from . import CLASS_NAMES, HIRAGANA

FONT = "IPAexGothic"  # named explicitly, so a changed rcParams cannot bring back empty boxes
LABELS = [f"{h} {r}" for h, r in zip(HIRAGANA, CLASS_NAMES)]  # "お o", ...
GAP = 3  # pixels of background between the sample thumbnails


def hiragana_font_problem() -> str | None:
    """Why matplotlib cannot draw the hiragana labels with ``FONT``, or None when it can."""
    with contextlib.suppress(ImportError):  # the font may be installed system-wide instead
        import matplotlib_fontja  # noqa: F401  (registers its IPAexGothic with matplotlib)
    try:
        path = font_manager.findfont(font_manager.FontProperties(family=FONT),
                                     fallback_to_default=False)
    except ValueError:
        return f"matplotlib finds no font {FONT}"
    missing = [h for h in HIRAGANA if ord(h) not in FT2Font(path).get_charmap()]
    return f"its font {FONT} ({path}) lacks {' '.join(missing)}" if missing else None


def require_hiragana_font() -> None:
    """Stop the section before it trains when its figures could not show their class labels.

    Figures with empty boxes for labels are not results: stored, they would stay fresh after
    the font is installed (fonts are not in the fingerprint). Failing costs seconds, keeps the
    last good result, and the next build reruns the section.
    """
    problem = hiragana_font_problem()
    if problem:
        raise RendererError(
            f"kmnist: the figures label each class with its hiragana, but {problem}; the section "
            f"stops before training rather than store figures with empty boxes for labels.",
            f"install the font with `pip install matplotlib-fontja` (it ships {FONT}), or "
            f"install {FONT} system-wide (Debian, Ubuntu: `apt install fonts-ipaexfont-gothic`) "
            f"and delete matplotlib's font cache, {matplotlib.get_cachedir()}/fontlist-*.json; "
            f"then rebuild.")


def learning_curves(models: dict) -> Figure:
    """Test accuracy (left) and train / test loss (right) per epoch, one colour per model."""
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    acc, loss = fig.subplots(1, 2)
    for i, m in enumerate(models.values()):
        h, colour = m["history"], f"C{i}"
        epochs = np.arange(1, len(h["test_accuracy"]) + 1)
        acc.plot(epochs, h["test_accuracy"], "o-", color=colour, label=m["name"])
        loss.plot(epochs, h["train_loss"], "o-", color=colour)
        loss.plot(epochs, h["test_loss"], "s--", color=colour, mfc="none")
    _axes(acc, "test accuracy", acc.get_legend_handles_labels()[0])
    styles = [Line2D([], [], color="k", ls="-", marker="o", label="train"),
              Line2D([], [], color="k", ls="--", marker="s", mfc="none", label="test")]
    _axes(loss, "NLL loss", styles)
    return fig


def _axes(ax, ylabel: str, handles):
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, ncol=len(handles), fontsize=8, frameon=False,
              loc="lower center", bbox_to_anchor=(0.5, 1.0))


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
    """The first ``per_class`` images of each class, one row per class, as one mosaic."""
    mosaic = _mosaic(np.asarray(images), np.asarray(labels), per_class)
    fig = Figure(figsize=(per_class * 0.55 + 0.8, len(LABELS) * 0.55), layout="constrained")
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="gray_r", vmin=-1, vmax=1)
    ax.set_yticks(np.arange(len(LABELS)) * (28 + GAP) + 14, LABELS, fontfamily=FONT)
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig


def _mosaic(images, labels, per_class: int) -> np.ndarray:
    """(10 * (28 + GAP), per_class * (28 + GAP)) in [-1, 1]; -1 (background) where empty."""
    size = 28 + GAP
    mosaic = np.full((len(LABELS) * size, per_class * size), -1.0)
    for c in range(len(LABELS)):
        for j, i in enumerate(np.flatnonzero(labels == c)[:per_class]):
            mosaic[c * size:c * size + 28, j * size:j * size + 28] = images[i, 0]  # (28, 28)
    return mosaic
