"""What a running section may touch: its artifact folder, a progress bar, a logger, the device."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from report.errors import UsageError
from report.progress import progress

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
        """A bar on stderr (a line per step off a terminal), silent when the build asked for no
        progress output."""
        return progress(iterable, total, desc, enabled=self.show_progress, **kwargs)


def check_figure_backend() -> None:
    """Refuse, before anything runs, an ``MPLBACKEND`` that matplotlib does not know: importing
    matplotlib fails under it, and with it every section that draws a figure."""
    name = os.environ.get("MPLBACKEND") or OFFSCREEN_BACKEND  # matplotlib ignores an empty one
    if name == OFFSCREEN_BACKEND:
        return  # known good: skip importing matplotlib
    # An import that fails half-way leaves matplotlib's submodules behind and every later import
    # in this process broken, so import it without the variable and apply the name once checked.
    os.environ.pop("MPLBACKEND")
    try:
        import matplotlib
        from matplotlib import rcsetup
    finally:
        os.environ["MPLBACKEND"] = name
    try:
        matplotlib.rcParams["backend"] = rcsetup.validate_backend(name)
    except ValueError:
        raise UsageError(f"the environment variable MPLBACKEND={name!r} names no matplotlib "
                         f"backend, so no section could draw a figure",
                         f"unset MPLBACKEND (figures are then drawn off-screen with "
                         f"{OFFSCREEN_BACKEND}), or set it to a backend matplotlib knows, such as "
                         f"MPLBACKEND={OFFSCREEN_BACKEND}") from None
