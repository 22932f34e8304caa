"""What a running section may touch: its artifact folder, a progress bar, a logger, the device."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from report.errors import UsageError

OFFSCREEN_BACKEND = "Agg"  # what the command line draws with unless MPLBACKEND says otherwise


@dataclass
class Context:
    """Handed to a section's ``run(config, ctx)`` (``report.section.Section``).

    >>> ctx = Context(Path("/tmp/art"))
    >>> name = ctx.save_figure(fig, "loss")   # writes /tmp/art/loss.png, returns "loss.png"
    """

    artifact_dir: Path
    device: str = "auto"
    show_progress: bool = True
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("report.section"))

    def __post_init__(self):
        self.artifact_dir = Path(self.artifact_dir)
        self.artifact_dir.mkdir(parents=True, exist_ok=True)

    def save_figure(self, fig, name: str, dpi: int = 150) -> str:
        """Save a matplotlib figure as ``<name>.png`` and close it; return the file name."""
        import matplotlib.pyplot as plt

        file_name = f"{name}.png"
        fig.savefig(self.artifact_dir / file_name, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        return file_name

    def progress(self, iterable=None, total=None, desc: str = "", **kwargs):
        """A tqdm bar on stderr, silent when the build asked for no progress output."""
        return tqdm(iterable, total=total, desc=desc, disable=not self.show_progress,
                    leave=False, dynamic_ncols=True, **kwargs)


def check_figure_backend() -> None:
    """Refuse, before anything runs, an ``MPLBACKEND`` that matplotlib does not know: importing
    matplotlib fails under it, and with it every section that draws a figure."""
    name = os.environ.get("MPLBACKEND") or OFFSCREEN_BACKEND  # matplotlib ignores an empty one
    if name == OFFSCREEN_BACKEND:
        return  # known good: skip importing matplotlib
    try:
        from matplotlib import rcsetup  # importing matplotlib checks the variable

        rcsetup.validate_backend(name)  # for a matplotlib imported before the variable was set
    except ValueError:
        raise UsageError(f"the environment variable MPLBACKEND={name!r} names no matplotlib "
                         f"backend, so no section could draw a figure",
                         f"unset MPLBACKEND (figures are then drawn off-screen with "
                         f"{OFFSCREEN_BACKEND}), or set it to a backend matplotlib knows, such as "
                         f"MPLBACKEND={OFFSCREEN_BACKEND}") from None
