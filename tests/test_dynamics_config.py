"""The dynamics config: each range check rejects its field by name; each run names its own lr."""
import dataclasses
import re

import pytest
from tqdm import tqdm

from experiments import dynamics
from experiments.common import TrainingDiverged
from experiments.dynamics.section import run_specs
from experiments.dynamics.train import RunSpec, Schedule, train


@pytest.mark.parametrize("bad, reason", [
    ({"seed": -1}, "seed must be at least 0, got -1"),
    *(({name: 0}, f"{name} must be at least 1, got 0") for name in dynamics.AT_LEAST_ONE),
    *(({name: 0.0}, f"{name} must be > 0, got 0.0") for name in dynamics.POSITIVE),
    *(({name: "rmsprop"}, f"unknown {name} 'rmsprop'; choose from sgd, adam")
      for name in ("srn_optimizer", "claim_optimizer", "lstm_optimizer", "cmp_srn_optimizer")),
    *(({name: 1500}, f"{name} must be a positive multiple of eval_every (1000), got 1500")
      for name in dynamics.EPOCHS),
    ({"srn_epochs": 0}, "srn_epochs must be a positive multiple of eval_every (1000), got 0"),
    ({"threshold_anb2n": 1.0}, "threshold_anb2n must be in (0, 1), got 1.0"),
    ({"threshold_anb2nc3n": 0.0}, "threshold_anb2nc3n must be in (0, 1), got 0.0"),
    ({"weight_decay": -1e-4}, "weight_decay must be at least 0, got -0.0001"),
    ({"srn_hidden": 1}, "srn_hidden must be at least 2 (its portrait draws two units), got 1"),
    ({"lstm_hidden": 2}, "lstm_hidden must be at least 3 (its portraits draw three units), got 2"),
])
def test_config_rejects_each_out_of_range_value_naming_the_field(bad, reason):
    with pytest.raises(ValueError, match=f"^dynamics config: {re.escape(reason)}$"):
        dynamics.Config(**bad)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_diverging_run_hints_at_the_learning_rate_field_of_that_run():
    spec = RunSpec("srn_anb2n_claim", "srn", 2, "anb2n", "sgd", 1e300, 40, 0.05, stream=0,
                   restarts=1, lr_field="claim_lr")
    schedule = Schedule(max_n=4, blocks=5, eval_every=20, history_sequences=3, weight_decay=1e-4,
                        init_std=0.001)
    with pytest.raises(TrainingDiverged, match=r"^dynamics: srn_anb2n_claim: loss .* at epoch \d+ "
                                               r"in restart 0 .*\n  hint: .*--set dynamics\.claim_lr="):
        train(spec, schedule, 0, lambda total=None, desc="": tqdm(total=total, disable=True))


def test_config_accepts_the_quick_profile_and_the_edges_of_each_range():
    dynamics.Config(**dynamics.QUICK)
    dynamics.Config(seed=0, max_n=1, weight_decay=0.0, srn_hidden=2, lstm_hidden=3,
                    eval_every=1, srn_epochs=1, lstm_epochs=1, cmp_srn_epochs=1)


def test_every_run_names_a_config_field_that_sets_its_learning_rate():
    config = dynamics.Config(claim_lr=0.002, lstm_lr=0.003, cmp_srn_lr=0.004)
    fields = {f.name for f in dataclasses.fields(config)}
    assert all(spec.lr_field in fields and getattr(config, spec.lr_field) == spec.lr
               for spec in run_specs(config))


def test_a_run_is_described_once_for_figures_and_logs():
    spec = RunSpec("lstm_anb2nc3n", "lstm", 3, "anb2nc3n", "adam", 0.001, 60, 0.02, stream=1,
                   restarts=1)
    assert spec.describe() == "LSTM(3) on anb2nc3n, adam lr 0.001"
