"""Training and evaluation over tensors held in memory (no DataLoader, no per-image work)."""
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the model, epoch and settings."""


@dataclass(frozen=True)
class Settings:
    """The training settings of the config, and nothing else."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 128
    epochs: int = 10
    shuffle: bool = True

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(config.optimizer, config.lr, config.momentum, config.batch_size,
                   config.epochs, config.shuffle)


@dataclass
class Evaluation:
    loss: float  # mean NLL over the test set
    accuracy: float  # fraction correct
    predictions: torch.Tensor  # (N,) int64 on the CPU


@dataclass
class History:
    """One entry per epoch."""

    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)


def make_optimizer(params, settings: Settings) -> torch.optim.Optimizer:
    """Adam (the report) or SGD with momentum (the course); fused kernels, same algorithm."""
    if settings.optimizer == "sgd":
        return torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum, fused=True)
    return torch.optim.Adam(params, lr=settings.lr, fused=True)


def is_convolutional(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def prepare_model(model: nn.Module, device: torch.device) -> nn.Module:
    """Move to ``device``; conv nets go channels-last, oneDNN's fast CPU layout.

    A (B, 1, 28, 28) batch is channels-last already (one channel), so inputs need no copy.
    """
    model = model.to(device)
    if is_convolutional(model):
        model = model.to(memory_format=torch.channels_last)
    return model


@contextmanager
def cpu_threads(model: nn.Module):
    """Conv nets use the process's threads (OMP_NUM_THREADS, else all cores); others one.

    A NetLin or NetFull step is too small to split across cores: a second thread only adds
    a barrier per op, which costs 2-5x when other processes share the cores.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(before if is_convolutional(model) else 1)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def batch_order(n: int, shuffle: bool, generator: torch.Generator) -> torch.Tensor:
    """A fresh permutation from the seeded generator, or the fixed order."""
    return torch.randperm(n, generator=generator) if shuffle else torch.arange(n)  # (n,)


def train_one_epoch(model, optimizer, images, labels, batch_size: int, order,
                    progress=iter) -> float:
    """One pass in ``order``; returns the mean training loss per image."""
    model.train()
    order = order.to(images.device)
    total = torch.zeros((), device=images.device)
    for start in progress(range(0, len(order), batch_size)):
        idx = order[start:start + batch_size]  # (b,)
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(images[idx]), labels[idx])  # images[idx]: (b, 1, 28, 28)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(idx)
    return total.item() / len(order)


@torch.inference_mode()
def evaluate(model, images, labels, batch_size: int = 1000) -> Evaluation:
    """Test loss, accuracy and predictions; big batches, no autograd."""
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=images.device)
    predictions = []
    for start in range(0, len(labels), batch_size):
        out = model(images[start:start + batch_size])  # (b, 10) log-probabilities
        loss_sum += F.nll_loss(out, labels[start:start + batch_size], reduction="sum")
        predictions.append(out.argmax(dim=1))
    predicted = torch.cat(predictions).cpu()  # (N,)
    correct = int((predicted == labels.cpu()).sum())
    return Evaluation(loss_sum.item() / len(labels), correct / len(labels), predicted)


def check_finite(value: float, what: str, name: str, epoch: int, settings: Settings):
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"{name}: {what} became {value} in epoch {epoch} with {settings}; "
            f"try a smaller lr (--set kmnist.lr=...) or the other optimizer.")


def fit(model, name: str, train, test, settings: Settings, generator: torch.Generator,
        progress=None) -> tuple[History, Evaluation]:
    """Train for ``settings.epochs``, evaluating the whole test split after every epoch."""
    progress = progress or (lambda it, **_: it)
    optimizer = make_optimizer(model.parameters(), settings)
    history, evaluation = History(), None
    for epoch in progress(range(1, settings.epochs + 1), desc=name):
        order = batch_order(len(train), settings.shuffle, generator)
        bar = partial(progress, desc=f"{name} epoch {epoch}")
        loss = train_one_epoch(model, optimizer, train.images, train.labels,
                               settings.batch_size, order, bar)
        check_finite(loss, "the training loss", name, epoch, settings)
        evaluation = evaluate(model, test.images, test.labels)
        check_finite(evaluation.loss, "the test loss", name, epoch, settings)
        _record(history, loss, evaluation)
    return history, evaluation


def _record(history: History, train_loss: float, evaluation: Evaluation):
    history.train_loss.append(train_loss)
    history.test_loss.append(evaluation.loss)
    history.test_accuracy.append(evaluation.accuracy)
