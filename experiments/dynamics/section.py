"""Part 3, the heavy half: train the four runs, analyse them, draw the figures.

Runs: the SRN on anb2n with the course's optimiser and with the original report's claimed
one (same initial weights and sequences, so only the optimiser differs), the LSTM on
anb2nc3n, and an SRN on anb2nc3n to set against it. Each run trains several restarts
(initialisations); the analysis uses the restart with the lowest final loss. Every run
trains on the CPU: the nets are too small for an accelerator to help.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from experiments.common import pick_device, seed_everything

from . import analysis, figures, models
from .languages import LANGUAGES, Sequence, from_block_ns, generate
from .train import RunSpec, Schedule, Trained, train


def run_specs(config) -> list[RunSpec]:
    """The section's runs, in training order."""
    c = config
    return [
        RunSpec("srn_anb2n", "srn", c.srn_hidden, "anb2n", c.srn_optimizer, c.srn_lr,
                c.srn_epochs, c.threshold_anb2n, stream=0, restarts=c.srn_restarts,
                lr_field="srn_lr"),
        RunSpec("srn_anb2n_claim", "srn", c.srn_hidden, "anb2n", c.claim_optimizer, c.claim_lr,
                c.srn_epochs, c.threshold_anb2n, stream=0, restarts=c.srn_restarts,
                lr_field="claim_lr"),
        RunSpec("lstm_anb2nc3n", "lstm", c.lstm_hidden, "anb2nc3n", c.lstm_optimizer, c.lstm_lr,
                c.lstm_epochs, c.threshold_anb2nc3n, stream=1, restarts=c.lstm_restarts,
                lr_field="lstm_lr"),
        RunSpec("srn_anb2nc3n", "srn", c.cmp_srn_hidden, "anb2nc3n", c.cmp_srn_optimizer,
                c.cmp_srn_lr, c.cmp_srn_epochs, c.threshold_anb2nc3n, stream=2,
                restarts=c.srn_restarts, lr_field="cmp_srn_lr"),
    ]


def run_section(config, ctx) -> dict:
    """Train, evaluate and analyse every run; figures go through ``ctx.save_figure``."""
    seed_everything(config.seed)
    requested = pick_device(ctx.device)
    if requested.type != "cpu":
        ctx.log.info("dynamics: training on the CPU; tiny nets gain nothing from %s", requested)
    schedule = Schedule(config.max_n, config.blocks, config.eval_every, config.history_sequences,
                        config.weight_decay, config.init_std)
    trained = {spec.name: train(spec, schedule, config.seed, ctx.progress)
               for spec in run_specs(config)}
    fresh = _sampler(config, np.random.SeedSequence([config.seed, len(trained)]))
    evaluation = {language: fresh(language, config.eval_sequences) for language in LANGUAGES}
    runs = {name: run_record(t, evaluation[t.spec.language], config.max_n)
            for name, t in trained.items()}
    for name, t in trained.items():
        ctx.log.info("dynamics: %s: %d of %d restarts learnt in %.1f s", t.spec.describe(),
                     runs[name]["learnt"], t.spec.restarts, t.seconds)
    best = {name: Analysed(t.spec, t.models[runs[name]["best"]]) for name, t in trained.items()}
    srn_data, srn_figures = analyse_srn(best["srn_anb2n"], fresh, evaluation["anb2n"], config)
    lstm_data, lstm_figures = analyse_lstm(best["lstm_anb2nc3n"], fresh, config)
    made = {**loss_figures(runs, {name: t.spec for name, t in trained.items()}),
            **srn_figures, **lstm_figures}
    saved = {name: ctx.save_figure(fig, name) for name, fig in made.items()}
    return {"device": "cpu", "requested_device": str(requested), "runs": runs, **srn_data,
            **lstm_data, "figures": saved}


def _sampler(config, seed: np.random.SeedSequence):
    """``fresh(language, count)``: that many new sequences, as a list."""
    rng = np.random.default_rng(seed)
    return lambda language, count: _split(
        generate(language, rng, count, config.max_n, config.blocks))


def _split(batch) -> list[Sequence]:
    return [batch[i] for i in range(len(batch))]


@dataclass(frozen=True)
class Analysed:
    """The restart of a run that the analysis reads."""

    spec: RunSpec
    model: torch.nn.Module


def _traces(analysed: Analysed, sequences: list[Sequence]) -> list[dict]:
    return models.trace(analysed.model, [s.inputs for s in sequences])


def run_record(trained: Trained, sequences: list[Sequence], max_n: int) -> dict:
    """Settings, every restart's loss history, and the best restart's scores on fresh
    sequences for one run."""
    spec = trained.spec
    restarts = restart_records(trained)
    best = analysis.best_restart([r["final_loss"] for r in restarts])
    probs = np.concatenate([t["probs"] for t in _traces(Analysed(spec, trained.models[best]),
                                                        sequences)])         # (N, K)
    positions = Sequence.pool(sequences)
    return {"model": spec.model, "hidden": spec.hidden, "language": spec.language,
            "optimizer": spec.optimizer, "lr": spec.lr, "epochs": spec.epochs,
            "threshold": spec.threshold, "restarts": restarts, "best": best,
            "final_loss": restarts[best]["final_loss"],
            "learnt": sum(r["learnt"] for r in restarts), "seconds": trained.seconds,
            "evaluation": analysis.scores(probs, positions),
            "by_n": analysis.scores_by_n(probs, positions, max_n)}


def restart_records(trained: Trained) -> list[dict]:
    """Per restart: its seed, loss history, final loss, and whether (and from when) it learnt."""
    return [{"restart": r, "init_seed": trained.init_seeds[r],
             "history": history, "final_loss": history["loss"][-1], "first_epoch_below": epoch,
             "learnt": epoch is not None}
            for r, (history, epoch) in enumerate(zip(trained.histories,
                                                     trained.first_epochs_below()))]


def single_blocks(language: str, max_n: int) -> list[Sequence]:
    """For n = 1..max_n, the sequence of one block of n followed by the final A."""
    return _split(from_block_ns(language, [[n] for n in range(1, max_n + 1)]))


def analyse_srn(trained: Analysed, fresh, evaluation: list[Sequence], config) -> tuple[dict, dict]:
    """The SRN's finite-state machine (and how it predicts on the evaluation sequences) and
    per-step probabilities, with their figures."""
    fsm_sequences = fresh(trained.spec.language, config.fsm_sequences)
    fsm_traces = _traces(trained, fsm_sequences)
    fsm_hidden = [t["hidden"] for t in fsm_traces]
    fsm = analysis.extract_fsm(fsm_hidden, [t["probs"] for t in fsm_traces], fsm_sequences,
                               config.fsm_radius, config.fsm_max_clusters)
    network = np.concatenate([t["probs"] for t in _traces(trained, evaluation)])   # (N, K)
    fsm["predictor"] = {"run": trained.spec.name, **analysis.predictor_scores(
        analysis.run_machine(fsm, evaluation), network, Sequence.pool(evaluation))}
    blocks = single_blocks(trained.spec.language, config.max_n)
    block_probs = [t["probs"] for t in _traces(trained, blocks)]
    probabilities = {
        "run": trained.spec.name,
        "rows": [row for n, s, p in zip(range(1, config.max_n + 1), blocks, block_probs)
                 for row in analysis.probability_rows(n, s, p)],
        "p_b_after_a": [{"n": n, "p_b": analysis.p_b_after_each_a(s, p)}
                        for n, s, p in zip(range(1, config.max_n + 1), blocks, block_probs)]}
    portrait = fresh(trained.spec.language, config.portrait_sequences)
    title = f"SRN({trained.spec.hidden}) on {trained.spec.language}"
    return {"fsm": fsm, "probabilities": probabilities}, {
        "srn_portrait": figures.state_portrait([t["hidden"] for t in _traces(trained, portrait)],
                                               portrait, title),
        "fsm": figures.fsm_diagram(fsm, fsm_hidden),
        "probabilities": figures.probabilities(probabilities["rows"], len(block_probs[0][0]))}


def analyse_lstm(trained: Analysed, fresh, config) -> tuple[dict, dict]:
    """The LSTM's gates and cells along one block of each n (drawn for the two shortest), and
    its state portraits. ``units`` numbers the units as the figures do, for the tables."""
    blocks = single_blocks(trained.spec.language, config.max_n)
    rows = [row for n, s, t in zip(range(1, config.max_n + 1), blocks, _traces(trained, blocks))
            for row in analysis.gate_rows(n, s, t)]
    portrait = fresh(trained.spec.language, config.portrait_sequences)
    traces = _traces(trained, portrait)
    units = list(range(1, trained.spec.hidden + 1))
    return {"lstm_steps": {"run": trained.spec.name, "units": units, "rows": rows}}, {
        "lstm_gates": figures.gate_heatmaps([row for row in rows if row["n"] <= 2]),
        "lstm_hidden": figures.unit_portrait([t["hidden"] for t in traces], portrait, "h", True),
        "lstm_cell": figures.unit_portrait([t["cells"] for t in traces], portrait, "c", False)}


def loss_figures(runs: dict, specs: dict[str, RunSpec]) -> dict:
    """The anb2n runs side by side (course vs claimed optimiser), then the anb2nc3n runs;
    each panel titled with its run's description."""
    pairs = {"loss_anb2n": ("srn_anb2n", "srn_anb2n_claim"),
             "loss_anb2nc3n": ("lstm_anb2nc3n", "srn_anb2nc3n")}
    return {name: figures.loss_curves([runs[k] for k in keys],
                                      [specs[k].describe() for k in keys])
            for name, keys in pairs.items()}
