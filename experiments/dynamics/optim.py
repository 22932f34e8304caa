"""SGD and Adam on one flat parameter vector, with PyTorch's update rules.

Weight decay is added to the gradient (L2, as ``torch.optim.SGD``/``Adam`` with
``weight_decay``), not decoupled as in AdamW. ``tests/test_dynamics.py`` compares a few steps
with ``torch.optim`` on the same numbers.
"""
from __future__ import annotations

import math

import numpy as np


class SGD:
    """p <- p - lr (g + weight_decay p); no momentum (the course's setting)."""

    def __init__(self, params: np.ndarray, lr: float, weight_decay: float):
        self.params, self.lr, self.weight_decay = params, lr, weight_decay

    def step(self, grad: np.ndarray) -> None:
        grad += self.weight_decay * self.params
        self.params -= self.lr * grad


class Adam:
    """Adam (beta 0.9, 0.999, eps 1e-8) with L2 weight decay, as ``torch.optim.Adam``."""

    def __init__(self, params: np.ndarray, lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.weight_decay = params, lr, weight_decay
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        self.mean = np.zeros_like(params)     # first moment
        self.square = np.zeros_like(params)   # second moment
        self.steps = 0

    def step(self, grad: np.ndarray) -> None:
        grad += self.weight_decay * self.params
        self.steps += 1
        self.mean *= self.beta1
        self.mean += (1.0 - self.beta1) * grad
        self.square *= self.beta2
        self.square += (1.0 - self.beta2) * grad * grad
        correction2 = math.sqrt(1.0 - self.beta2 ** self.steps)
        denominator = np.sqrt(self.square) / correction2 + self.eps
        self.params -= (self.lr / (1.0 - self.beta1 ** self.steps)) * self.mean / denominator


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make(name: str, params: np.ndarray, lr: float, weight_decay: float):
    """The optimiser called ``name`` ("sgd" or "adam") over the flat vector ``params``."""
    return OPTIMIZERS[name](params, lr, weight_decay)
