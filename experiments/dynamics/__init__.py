"""Part 3: hidden-unit dynamics of an SRN on a^n b^2n and an LSTM on a^n b^2n c^3n.

Light module (no torch): the config, the quick profile, ``run`` and ``invariants``.
The work is in ``section.py``; see ``experiments/__init__.py`` for the contract.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from experiments.common import Check, at_least, first_problem, one_of, positive
from report.section import Tolerance

from .consistency import invariants

__all__ = ["TITLE", "Config", "QUICK", "invariants", "run", "TOLERANCES", "VOLATILE"]

TITLE = "Hidden-unit dynamics"
Optimizer = Literal["sgd", "adam"]


@dataclass(frozen=True)
class Config:
    """The report's settings; every run trains its restarts together on CPU, in NumPy
    (see ``bptt.py``)."""

    seed: int = 0                       # initial weights, training and evaluation sequences
    max_n: int = 4                      # each block's n is uniform on 1..max_n (the course's 4)
    blocks: int = 5                     # blocks per training sequence, then one final A
    srn_hidden: int = 2                 # two units: the states can be drawn in the plane
    srn_epochs: int = 100_000           # the course's run length for the SRN on anb2n
    srn_optimizer: Optimizer = "sgd"    # the course's setting, no momentum
    srn_lr: float = 0.005               # the course's setting
    srn_restarts: int = 5               # SRNs from N(0, 0.001) fail for some seeds: train several
    claim_optimizer: Optimizer = "adam"  # what the original report claims for SRN(2)...
    claim_lr: float = 1e-3              # ...rerun beside the default to test that claim
    lstm_hidden: int = 3                # three units, one per symbol to count
    lstm_epochs: int = 100_000          # as the SRN on anb2n
    lstm_optimizer: Optimizer = "sgd"   # the course's setting, as for the SRNs
    lstm_lr: float = 0.005              # the course's setting, as for the SRNs
    lstm_restarts: int = 3              # fewer: an LSTM restart costs more, and fails less often
    cmp_srn_hidden: int = 4             # the SRN set against the LSTM on anb2nc3n
    cmp_srn_epochs: int = 200_000       # twice the LSTM's, so the slower SRN gets a fair chance
    cmp_srn_optimizer: Optimizer = "sgd"  # as the other SRNs
    cmp_srn_lr: float = 0.005           # as the other SRNs
    init_std: float = 0.001             # SRN weights ~ N(0, 0.001), the course's; LSTM: PyTorch's
    weight_decay: float = 1e-4          # the course's L2 penalty, for every run
    eval_every: int = 1000              # record the reported loss every this many epochs
    history_sequences: int = 50         # fresh sequences per recorded loss: enough that a
                                        # learnt run does not flicker across the threshold
    threshold_anb2n: float = 0.05       # reported loss that counts as learnt on anb2n
    threshold_anb2nc3n: float = 0.02    # ...on anb2nc3n (LSTM and SRN held to the same bar)
    eval_sequences: int = 1000          # fresh sequences for accuracy and loss by n
    portrait_sequences: int = 10        # sequences drawn in the hidden-state portraits
    fsm_sequences: int = 200            # sequences whose visited states are quantised
    fsm_radius: float = 0.05            # fine quantisation: every state within this of its
                                        # cluster's centre; minimisation merges the surplus
    fsm_max_clusters: int = 200         # cap on the fine clusters, to bound the work

    def __post_init__(self):
        problem = first_problem(_checks(self))
        if problem:
            raise ValueError(f"dynamics config: {problem}")


POSITIVE = ("srn_lr", "claim_lr", "lstm_lr", "cmp_srn_lr", "init_std", "fsm_radius")
AT_LEAST_ONE = ("max_n", "blocks", "srn_restarts", "lstm_restarts", "cmp_srn_hidden",
                "eval_every", "history_sequences", "eval_sequences", "portrait_sequences",
                "fsm_sequences", "fsm_max_clusters")
EPOCHS = ("srn_epochs", "lstm_epochs", "cmp_srn_epochs")  # whole loss records only
OPTIMIZERS = get_args(Optimizer)


def _checks(c: Config) -> list[Check]:
    """One (bad, reason) pair per field with a range."""
    return [
        at_least(c, "seed", 0),
        *(at_least(c, name, 1) for name in AT_LEAST_ONE),
        *(positive(c, name) for name in POSITIVE),
        *(one_of(c, name, OPTIMIZERS) for name in
          ("srn_optimizer", "claim_optimizer", "lstm_optimizer", "cmp_srn_optimizer")),
        *(_multiple_of_eval_every(c, name) for name in EPOCHS),
        *(_fraction(c, name) for name in ("threshold_anb2n", "threshold_anb2nc3n")),
        at_least(c, "weight_decay", 0),
        (c.srn_hidden < 2,
         f"srn_hidden must be at least 2 (its portrait draws two units), got {c.srn_hidden}"),
        (c.lstm_hidden < 3,
         f"lstm_hidden must be at least 3 (its portraits draw three units), got {c.lstm_hidden}"),
    ]


def _multiple_of_eval_every(c: Config, name: str) -> Check:
    value = getattr(c, name)
    return (c.eval_every > 0 and (value <= 0 or value % c.eval_every != 0),
            f"{name} must be a positive multiple of eval_every ({c.eval_every}), got {value}")


def _fraction(c: Config, name: str) -> Check:
    value = getattr(c, name)
    return not 0 < value < 1, f"{name} must be in (0, 1), got {value}"

QUICK = {"srn_epochs": 300, "lstm_epochs": 300, "cmp_srn_epochs": 300, "eval_every": 100,
         "history_sequences": 5, "srn_restarts": 3, "lstm_restarts": 2, "eval_sequences": 40,
         "portrait_sequences": 3, "fsm_sequences": 20}

# What `--verify` allows a rerun: the same seed on an Intel Xeon reproduced every number of
# the full profile stored on this project's AMD EPYC to within 1.3e-13 relative (1.6e-15
# absolute): NumPy's BLAS rounds differently there, and the training does not amplify it.
TOLERANCES = {"**": Tolerance("NumPy rounds differently on other CPUs: measured at most 1.3e-13 "
                              "relative between two", abs_tol=1e-12, rel_tol=1e-9)}
VOLATILE = {"runs.*.seconds": "wall time of the run's training on the machine that ran it"}


def run(config: Config, ctx) -> dict:
    """Train the four runs (each with its restarts), analyse the best restart of each and
    draw the figures; returns plain JSON data."""
    from .section import run_section

    return run_section(config, ctx)
