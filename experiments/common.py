"""Small helpers every section shares: config checks, the divergence error, device, seeding.

Imports no torch at module level: the light ``experiments/<name>/__init__.py`` modules use the
config checks, and a cached build must not pay for loading torch.
"""
from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

Check = tuple[bool, str]  # (the value is bad, a one-line reason naming the field and its range)


def first_problem(checks: Iterable[Check]) -> str | None:
    """The reason of the first failed check, or None.

    >>> first_problem([(lr <= 0, f"lr must be > 0, got {lr}"), at_least(config, "epochs", 1)])
    """
    return next((reason for bad, reason in checks if bad), None)


def at_least(config, name: str, low: float) -> Check:
    value = getattr(config, name)
    return value < low, f"{name} must be at least {low}, got {value}"


def positive(config, name: str) -> Check:
    value = getattr(config, name)
    return not value > 0, f"{name} must be > 0, got {value}"


def one_of(config, name: str, choices: Iterable[str]) -> Check:
    value = getattr(config, name)
    return value not in choices, f"unknown {name} {value!r}; choose from {', '.join(choices)}"


class TrainingDiverged(RuntimeError):
    """A training loss became NaN or infinite: which section, what, at which epoch, and the fix.

    ``detail`` says where and with which settings (a restart, the optimiser); the hint names
    the config field ``lr_field`` to lower, then any ``other_fix``.
    """

    def __init__(self, section: str, what: str, epoch: int, *, detail: str = "",
                 lr_field: str = "lr", other_fix: str = ""):
        self.section, self.what, self.epoch = section, what, epoch
        self.hint = f"lower the learning rate with --set {section}.{lr_field}=...{other_fix}"
        super().__init__(f"{section}: {what} at epoch {epoch}{detail}\n  hint: {self.hint}")


def pick_device(requested: str = "auto") -> torch.device:
    """``"auto"`` means CUDA when present, else CPU."""
    import torch

    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(requested)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded the same way."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
