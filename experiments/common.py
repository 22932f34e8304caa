"""Small helpers every section shares: device choice, seeding, figure style."""
import random

import numpy as np
import torch


def pick_device(requested: str = "auto") -> torch.device:
    """``"auto"`` means CUDA when present, else CPU."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(requested)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
