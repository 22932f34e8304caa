"""Training one run: one fresh sequence per epoch, next-symbol NLL, a loss record every so often.

The parameters are initialised by the torch model (``models.build``), trained in NumPy
(``bptt``, ``optim``) and copied back into the model for analysis.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import bptt, models, optim
from .analysis import first_epoch_below, reported_loss
from .languages import LANGUAGES, Sequences, generate


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the run, epoch and settings."""


@dataclass(frozen=True)
class RunSpec:
    """One training run of the section."""

    name: str          # key in the results, e.g. "srn_anb2n"
    model: str         # "srn" or "lstm"
    hidden: int        # hidden units
    language: str      # "anb2n" or "anb2nc3n"
    optimizer: str     # "sgd" or "adam"
    lr: float
    epochs: int
    threshold: float   # reported loss that counts as learnt
    stream: int        # runs with the same stream share initial weights and sequences

    def describe(self) -> str:
        return (f"{self.model.upper()}({self.hidden}) on {self.language}, "
                f"{self.optimizer} lr {self.lr:g}")


@dataclass(frozen=True)
class Schedule:
    """Settings shared by every run."""

    max_n: int
    blocks: int
    eval_every: int
    history_sequences: int   # fresh sequences averaged into each recorded loss
    weight_decay: float
    init_std: float


@dataclass
class Trained:
    """A trained run: the model (parameters copied back) and its loss history."""

    spec: RunSpec
    model: torch.nn.Module
    history: dict = field(default_factory=lambda: {"epoch": [], "loss": [], "nll": []})
    seconds: float = 0.0

    @property
    def first_epoch_below(self) -> int | None:
        return first_epoch_below(self.history["epoch"], self.history["loss"], self.spec.threshold)


def kernel_for(model: str, hidden: int, symbols: int):
    """The NumPy forward/backward for ``"srn"`` or ``"lstm"``."""
    return (bptt.SRNKernel if model == "srn" else bptt.LSTMKernel)(hidden, symbols)


def train(spec: RunSpec, schedule: Schedule, seed: int, progress) -> Trained:
    """Train ``spec`` for ``spec.epochs`` fresh sequences; record the loss every eval_every."""
    seeds = np.random.SeedSequence([seed, spec.stream])
    rng = np.random.default_rng(seeds)
    symbols = len(LANGUAGES[spec.language])
    generator = torch.Generator().manual_seed(int(seeds.generate_state(1)[0]))
    model = models.build(spec.model, symbols, spec.hidden, schedule.init_std, generator)
    kernel = kernel_for(spec.model, spec.hidden, symbols)
    params = bptt.FlatParams(kernel.shapes())
    for name, array in models.to_numpy(model).items():
        params.views[name][...] = array
    trained = Trained(spec, model)
    started = time.perf_counter()
    _train_loop(trained, kernel, params, schedule, rng, progress)
    trained.seconds = time.perf_counter() - started
    models.from_numpy(model, params.views)
    return trained


def _train_loop(trained: Trained, kernel, params, schedule: Schedule, rng, progress) -> None:
    spec = trained.spec
    grad = np.zeros(params.size)
    optimizer = optim.make(spec.optimizer, params.vector, spec.lr, schedule.weight_decay)
    with progress(total=spec.epochs, desc=spec.name) as bar:
        for done in range(0, spec.epochs, schedule.eval_every):
            batch = generate(spec.language, rng, schedule.eval_every, schedule.max_n,
                             schedule.blocks)
            nll = train_epochs(kernel, params, grad, optimizer, batch)
            _check_finite(nll, done + 1, spec, schedule.weight_decay)
            loss = evaluation_loss(kernel, params.views, generate(
                spec.language, rng, schedule.history_sequences, schedule.max_n, schedule.blocks))
            _check_finite(np.array([loss]), done + schedule.eval_every, spec, schedule.weight_decay)
            _record(trained.history, done + schedule.eval_every, loss, float(nll.mean()))
            bar.update(schedule.eval_every)


def train_epochs(kernel, params: bptt.FlatParams, grad: np.ndarray, optimizer,
                 batch: Sequences) -> np.ndarray:
    """One optimiser step per sequence of ``batch``; returns each step's NLL (N,).

    Stops early (the rest NaN) at the first non-finite loss, for the caller to report.
    """
    grads, views, symbols = params.bind(grad), params.views, batch.symbols
    offsets = batch.offsets.tolist()
    nlls = np.full(len(batch), np.nan)
    for k, (start, stop) in enumerate(zip(offsets[:-1], offsets[1:])):
        nll = kernel.loss_and_grad(views, grads, symbols[start:stop - 1], symbols[start + 1:stop])
        nlls[k] = nll
        if not math.isfinite(nll):
            break
        optimizer.step(grad)
    return nlls


def evaluation_loss(kernel, views: dict, batch: Sequences) -> float:
    """The reported loss (mean squared distance to the target distribution) over ``batch``."""
    sequences = [batch[i] for i in range(len(batch))]
    probs = np.concatenate([kernel.predict(views, s.inputs)[1] for s in sequences])   # (N, K)
    return reported_loss(probs, np.concatenate([s.targets for s in sequences]))


def _check_finite(values: np.ndarray, first_epoch: int, spec: RunSpec, weight_decay: float):
    """Raise ``TrainingDiverged`` if any loss is not finite; values[k] is at first_epoch + k."""
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise TrainingDiverged(
            f"{spec.name}: loss {values[bad[0]]} at epoch {first_epoch + bad[0]} "
            f"({spec.describe()}, weight decay {weight_decay:g}); try a smaller learning rate")


def _record(history: dict, epoch: int, loss: float, nll: float) -> None:
    history["epoch"].append(epoch)
    history["loss"].append(loss)
    history["nll"].append(nll)
