"""Training one run: its restarts side by side, one fresh sequence per epoch, next-symbol NLL,
and every so often a loss record averaged over fresh sequences.

The restarts of a run differ only in their initial weights: they read the same sequences,
which lets ``bptt`` train them as one batched computation. Each restart's parameters are
initialised by a torch model (``models.build``), trained in NumPy (``bptt``, ``optim``)
and copied back into that model for analysis.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from experiments.common import TrainingDiverged

from . import bptt, models, optim
from .analysis import first_epoch_below, reported_loss
from .languages import LANGUAGES, Sequences, generate


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
    restarts: int      # independent initialisations, trained side by side
    lr_field: str = "srn_lr"  # the config field that sets lr, named in the divergence hint

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
    """A trained run: one model per restart (parameters copied back) and their loss histories."""

    spec: RunSpec
    init_seeds: list[int]          # per restart, the seed of its initial weights
    models: list[torch.nn.Module]
    histories: list[dict] = field(default_factory=list)   # per restart: epoch, loss, nll
    seconds: float = 0.0

    def first_epochs_below(self) -> list[int | None]:
        """Per restart, the epoch from which its recorded loss stays below the threshold."""
        return [first_epoch_below(h["epoch"], h["loss"], self.spec.threshold)
                for h in self.histories]


def kernel_for(model: str, hidden: int, symbols: int):
    """The NumPy forward/backward for ``"srn"`` or ``"lstm"``."""
    return (bptt.SRNKernel if model == "srn" else bptt.LSTMKernel)(hidden, symbols)


def init_seed(seed: int, stream: int, restart: int) -> int:
    """Restart ``restart``'s initial weights: the same whatever the number of restarts."""
    return int(np.random.SeedSequence([seed, stream, restart]).generate_state(1)[0])


def train(spec: RunSpec, schedule: Schedule, seed: int, progress) -> Trained:
    """Train ``spec``'s restarts for ``spec.epochs`` fresh sequences; record the loss every
    eval_every epochs."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, spec.stream]))
    symbols = len(LANGUAGES[spec.language])
    init_seeds = [init_seed(seed, spec.stream, r) for r in range(spec.restarts)]
    nets = [models.build(spec.model, symbols, spec.hidden, schedule.init_std,
                         torch.Generator().manual_seed(s)) for s in init_seeds]
    kernel = kernel_for(spec.model, spec.hidden, symbols)
    params = bptt.FlatParams(kernel.shapes(), spec.restarts)
    for r, net in enumerate(nets):
        for name, array in models.to_numpy(net).items():
            params.views[name][r] = array
    trained = Trained(spec, init_seeds, nets, [{"epoch": [], "loss": [], "nll": []} for _ in nets])
    started = time.perf_counter()
    _train_loop(trained, kernel, params, schedule, rng, progress)
    trained.seconds = time.perf_counter() - started
    for r, net in enumerate(nets):
        models.from_numpy(net, {name: view[r] for name, view in params.views.items()})
    return trained


def _train_loop(trained: Trained, kernel, params, schedule: Schedule, rng, progress) -> None:
    spec = trained.spec
    grad = np.zeros(params.size)
    optimizer = optim.make(spec.optimizer, params.vector, spec.lr, schedule.weight_decay)
    with progress(total=spec.epochs, desc=spec.name) as bar:
        for done in range(0, spec.epochs, schedule.eval_every):
            batch = generate(spec.language, rng, schedule.eval_every, schedule.max_n,
                             schedule.blocks)
            nll = train_epochs(kernel, params, grad, optimizer, batch)           # (N, R)
            _check_finite(nll, done + 1, spec, schedule.weight_decay)
            losses = evaluation_losses(kernel, params.views, generate(
                spec.language, rng, schedule.history_sequences, schedule.max_n, schedule.blocks))
            _check_finite(losses[None], done + schedule.eval_every, spec, schedule.weight_decay)
            for history, loss, mean_nll in zip(trained.histories, losses, nll.mean(0)):
                _record(history, done + schedule.eval_every, float(loss), float(mean_nll))
            bar.update(schedule.eval_every)


def train_epochs(kernel, params: bptt.FlatParams, grad: np.ndarray, optimizer,
                 batch: Sequences) -> np.ndarray:
    """One optimiser step per sequence of ``batch``; returns each step's NLL per restart (N, R).

    Stops early (the rest NaN) at the first non-finite loss, for the caller to report.
    """
    grads, views, symbols = params.bind(grad), params.views, batch.symbols
    offsets = batch.offsets.tolist()
    nlls = np.full((len(batch), len(grads["c"])), np.nan)
    for k, (start, stop) in enumerate(zip(offsets[:-1], offsets[1:])):
        nll = nlls[k] = kernel.loss_and_grad(views, grads, symbols[start:stop - 1],
                                             symbols[start + 1:stop])
        if not math.isfinite(nll.sum()):
            break
        optimizer.step(grad)
    return nlls


def evaluation_losses(kernel, views: dict, batch: Sequences) -> np.ndarray:
    """Per restart (R,), the reported loss (mean squared distance to the target
    distribution) over all positions of ``batch``."""
    sequences = [batch[i] for i in range(len(batch))]
    probs = np.concatenate([kernel.predict(views, s.inputs)[1] for s in sequences])  # (N, R, K)
    targets = np.concatenate([s.targets for s in sequences])                         # (N, K)
    return np.array([reported_loss(probs[:, r], targets) for r in range(probs.shape[1])])


def _check_finite(values: np.ndarray, first_epoch: int, spec: RunSpec, weight_decay: float):
    """Raise ``TrainingDiverged`` if any loss is not finite; values[k, r] is restart r's at
    first_epoch + k."""
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        step, restart = bad[0]
        raise TrainingDiverged(
            "dynamics", f"{spec.name}: loss {values[step, restart]}", first_epoch + step,
            detail=f" in restart {restart} ({spec.describe()}, weight decay {weight_decay:g})",
            lr_field=spec.lr_field)


def _record(history: dict, epoch: int, loss: float, nll: float) -> None:
    history["epoch"].append(epoch)
    history["loss"].append(loss)
    history["nll"].append(nll)
