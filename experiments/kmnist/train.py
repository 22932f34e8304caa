"""Training and evaluation over tensors held in memory (no DataLoader, no per-image work)."""
import copy
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from experiments.common import TrainingDiverged

from .precision import autocast, grad_scaler


@dataclass(frozen=True)
class Settings:
    """The training settings of the config, and nothing else."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 128
    epochs: int = 10
    shuffle: bool = True
    precision: str = "fp32"

    @classmethod
    def from_config(cls, config) -> "Settings":
        """The settings a config dataclass holds; one it lacks keeps its default here (a section
        reusing this loop need not declare momentum or precision)."""
        given = {f.name for f in fields(config)} & {f.name for f in fields(cls)}
        return cls(**{name: getattr(config, name) for name in given})


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


def thread_candidates() -> list[int]:
    """1, 2, 4, ... up to the process's threads (all cores, or OMP_NUM_THREADS), and that."""
    most = torch.get_num_threads()
    return sorted({2 ** i for i in range(most.bit_length()) if 2 ** i < most} | {most})


@contextmanager
def cpu_threads(count: int):
    """Run the block on ``count`` intra-op threads, then restore the process's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield count
    finally:
        torch.set_num_threads(before)


def fastest_threads(model, images, labels, settings: Settings, rounds: int = 3,
                    steps: int = 2) -> int:
    """The thread count that trains a throwaway copy of ``model`` fastest, measured now.

    Measured for every training run, neither fixed nor cached, because the answer follows
    the load: on an idle machine every core pays off even for NetFull, but while other
    processes share the cores the threads wait at every op's barrier, and one thread trained
    NetLin 7-19x faster than two here (bench/kmnist_throughput.py). Candidates alternate and
    each keeps its best time, so a burst of load hits them alike.
    """
    candidates = thread_candidates()
    if len(candidates) == 1 or images.device.type != "cpu":
        return torch.get_num_threads()
    probe = copy.deepcopy(model)
    optimizer = make_optimizer(probe.parameters(), settings)
    order = torch.arange(settings.batch_size * steps) % len(labels)  # fixed: no seeded draw
    seconds = {count: [] for count in candidates}
    for _ in range(rounds + 1):
        for count in candidates:
            with cpu_threads(count):
                start = time.perf_counter()
                train_one_epoch(probe, optimizer, images, labels, settings.batch_size, order,
                                precision=settings.precision)
                seconds[count].append(time.perf_counter() - start)
    return min(candidates, key=lambda c: min(seconds[c][1:]))  # round one only warms up


def batch_order(n: int, shuffle: bool, generator: torch.Generator) -> torch.Tensor:
    """A fresh permutation from the seeded generator, or the fixed order."""
    return torch.randperm(n, generator=generator) if shuffle else torch.arange(n)  # (n,)


def train_one_epoch(model, optimizer, images, labels, batch_size: int, order,
                    progress=iter, precision: str = "fp32", scaler=None) -> float:
    """One pass in ``order``; returns the mean training loss per image.

    Autocast covers the forward pass only: backward runs each op in the dtype its forward
    chose, and the optimiser updates the fp32 weights.
    """
    model.train()
    order = order.to(images.device)
    scaler = scaler or grad_scaler(images.device, precision)
    total = torch.zeros((), device=images.device)
    for start in progress(range(0, len(order), batch_size)):
        idx = order[start:start + batch_size]  # (b,)
        optimizer.zero_grad(set_to_none=True)
        with autocast(images.device, precision):
            loss = F.nll_loss(model(images[idx]), labels[idx])  # images[idx]: (b, 1, 28, 28)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total += loss.detach() * len(idx)
    return total.item() / len(order)


@torch.inference_mode()
def evaluate(model, images, labels, batch_size: int = 1000, precision: str = "fp32") -> Evaluation:
    """Test loss, accuracy and predictions; big batches, no autograd, the training precision."""
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=images.device)
    predictions = []
    for start in range(0, len(labels), batch_size):
        with autocast(images.device, precision):
            out = model(images[start:start + batch_size])  # (b, 10) log-probabilities
        loss_sum += F.nll_loss(out, labels[start:start + batch_size], reduction="sum")
        predictions.append(out.argmax(dim=1))
    predicted = torch.cat(predictions).cpu()  # (N,)
    correct = int((predicted == labels.cpu()).sum())
    return Evaluation(loss_sum.item() / len(labels), correct / len(labels), predicted)


def check_finite(value: float, what: str, name: str, epoch: int, settings: Settings, section: str = "kmnist"):
    if not math.isfinite(value):
        raise TrainingDiverged(section, f"{name}: {what} became {value}", epoch,
                               detail=f" with {settings}",
                               other_fix=f", or try the other optimizer ({section}.optimizer)")


def fit(model, name: str, train, test, settings: Settings, generator: torch.Generator,
        progress=None, section: str = "kmnist") -> tuple[History, Evaluation]:
    """Train for ``settings.epochs``, evaluating the whole test split after every epoch; a
    diverging loss is told as ``section``'s (kmnist, or a section that reuses this loop)."""
    progress = progress or (lambda it, **_: it)
    optimizer = make_optimizer(model.parameters(), settings)
    scaler = grad_scaler(train.images.device, settings.precision)  # keeps its scale across epochs
    history, evaluation = History(), None
    for epoch in progress(range(1, settings.epochs + 1), desc=name):
        order = batch_order(len(train), settings.shuffle, generator)
        bar = partial(progress, desc=f"{name} epoch {epoch}")
        loss = train_one_epoch(model, optimizer, train.images, train.labels,
                               settings.batch_size, order, bar, settings.precision, scaler)
        check_finite(loss, "the training loss", name, epoch, settings, section)
        evaluation = evaluate(model, test.images, test.labels, precision=settings.precision)
        check_finite(evaluation.loss, "the test loss", name, epoch, settings, section)
        _record(history, loss, evaluation)
    return history, evaluation


def _record(history: History, train_loss: float, evaluation: Evaluation):
    history.train_loss.append(train_loss)
    history.test_loss.append(evaluation.loss)
    history.test_accuracy.append(evaluation.accuracy)
