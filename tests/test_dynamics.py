"""Part 3: languages, models, BPTT, optimisers, training, analysis, and the section end to end."""
import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import experiments.dynamics as dynamics
from experiments.dynamics import analysis, bptt, models, optim
from experiments.dynamics.languages import (A, B, Sequence, deterministic, from_block_ns,
                                            generate)
from experiments.dynamics.train import (RunSpec, Schedule, TrainingDiverged, evaluation_losses,
                                        train)
from report.context import Context
from report.errors import ClaimError
from report.render import Renderer
from report.view import SectionView
from report.store import Record

ROOT = Path(__file__).resolve().parent.parent

SCHEDULE = Schedule(max_n=4, blocks=5, eval_every=20, history_sequences=3, weight_decay=1e-4,
                    init_std=0.001)


def symbols_of(text: str) -> list[int]:
    return ["ABC".index(ch) for ch in text]


# --- languages ------------------------------------------------------------------------------

def test_anb2n_block_is_n_as_then_2n_bs_and_the_sequence_ends_with_an_a():
    batch = from_block_ns("anb2n", [[2, 1]])
    assert batch.symbols.tolist() == symbols_of("AABBBB" "ABB" "A")


def test_anb2nc3n_block_is_n_as_2n_bs_3n_cs():
    batch = from_block_ns("anb2nc3n", [[1, 2]])
    assert batch.symbols.tolist() == symbols_of("ABBCCC" "AABBBBCCCCCC" "A")


def test_generated_sequences_have_five_blocks_with_n_between_1_and_max_n():
    batch = generate("anb2n", np.random.default_rng(0), count=200, max_n=3)
    for i in range(len(batch)):
        symbols = batch.symbols[batch.offsets[i]:batch.offsets[i + 1]]
        runs = np.split(symbols, np.flatnonzero(np.diff(symbols)) + 1)
        a_runs, b_runs = runs[0:-1:2], runs[1::2]
        assert len(b_runs) == 5 and runs[-1].tolist() == [A]
        assert all(len(b) == 2 * len(a) and 1 <= len(a) <= 3 for a, b in zip(a_runs, b_runs))
    assert set(np.unique(batch.block_n)) == {0, 1, 2, 3}        # every n drawn; 0 = final A


def test_input_drops_the_last_symbol_and_labels_drop_the_first():
    sequence = from_block_ns("anb2n", [[1]])[0]
    assert sequence.inputs.tolist() == symbols_of("ABB")
    assert sequence.labels.tolist() == symbols_of("BBA")


def test_targets_follow_the_issue_for_anb2n():
    targets = from_block_ns("anb2n", [[2]])[0].targets        # inputs A A B B B B
    assert targets.tolist() == [[0.8, 0.2], [0.8, 0.2], [0, 1], [0, 1], [0, 1], [1, 0]]


def test_targets_follow_the_issue_for_anb2nc3n():
    targets = from_block_ns("anb2nc3n", [[1]])[0].targets     # inputs A B B C C C
    assert targets.tolist() == [[0.8, 0.2, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1],
                                [1, 0, 0]]


def test_states_count_positions_within_each_block():
    sequence = from_block_ns("anb2n", [[2, 1]])[0]
    assert sequence.states.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2]
    assert sequence.block_n.tolist() == [2] * 6 + [1] * 3


def test_every_sequence_of_a_batch_starts_a_block_at_state_zero():
    batch = generate("anb2n", np.random.default_rng(1), count=50, max_n=4)
    assert np.all(batch.states[batch.offsets[:-1]] == 0)
    a_states = np.concatenate([batch[i].states[batch[i].inputs == A] for i in range(len(batch))])
    assert a_states.max() == 3                                   # at most max_n - 1 A's before


def test_deterministic_positions_are_those_after_a_b_or_a_c():
    inputs = np.array(symbols_of("AABBBBCA"))
    assert deterministic(inputs).tolist() == [False, False, True, True, True, True, True, False]


# --- models -----------------------------------------------------------------------------------

def make_srn(hidden=2, symbols=2, std=0.5, seed=0):
    return models.SRN(symbols, hidden, std, torch.Generator().manual_seed(seed))


def make_lstm(hidden=3, symbols=3, seed=0):
    return models.LSTM(symbols, hidden, torch.Generator().manual_seed(seed))


def test_models_return_every_steps_states():
    x = models.pad_one_hot([np.array([0, 1, 1]), np.array([0, 1])], 3)   # (2, 3, 3)
    logits, hidden = make_srn(4, 3)(x)
    assert logits.shape == (2, 3, 3) and hidden.shape == (2, 3, 4)
    logits, hidden, cells, gates = make_lstm()(x)
    assert (logits.shape, hidden.shape, cells.shape, gates.shape) == (
        (2, 3, 3), (2, 3, 3), (2, 3, 3), (2, 3, 12))


def test_trace_cuts_each_sequence_to_its_length_and_starts_from_the_initial_state():
    srn = make_srn()
    traces = models.trace(srn, [np.array([0, 1, 1]), np.array([0])])
    assert [t["hidden"].shape for t in traces] == [(4, 2), (2, 2)]
    assert [t["probs"].shape for t in traces] == [(3, 2), (1, 2)]
    assert np.allclose(traces[1]["hidden"][0], np.tanh(srn.h0_pre.detach().numpy()))


def set_srn(model, **arrays):
    return models.from_numpy(model, {k: np.array(v, dtype=float) for k, v in arrays.items()})


def test_srn_follows_its_equation_on_a_hand_computed_input():
    srn = set_srn(make_srn(), W=[[1.0, -1.0], [0.5, 2.0]], U=[[0.5, 0.0], [-1.0, 0.25]],
                  b=[0.1, -0.2], h0_pre=[0.3, -0.4], V=[[1.0, 0.0], [0.0, 1.0]], c=[0.0, 0.5])
    h0 = [math.tanh(0.3), math.tanh(-0.4)]
    h1 = [math.tanh(1.0 + 0.5 * h0[0] + 0.1), math.tanh(0.5 - h0[0] + 0.25 * h0[1] - 0.2)]  # x=A
    h2 = [math.tanh(-1.0 + 0.5 * h1[0] + 0.1), math.tanh(2.0 - h1[0] + 0.25 * h1[1] - 0.2)]  # x=B
    logits, hidden = srn(models.pad_one_hot([np.array([A, B])], 2))
    assert np.allclose(hidden[0].detach().numpy(), [h1, h2])
    assert np.allclose(logits[0, 1].detach().numpy(), [h2[0], h2[1] + 0.5])
    one_restart = {name: array[None] for name, array in models.to_numpy(srn).items()}
    kernel_hidden, _ = bptt.SRNKernel(2, 2).predict(one_restart, np.array([A, B]))
    assert np.allclose(kernel_hidden[:, 0], [h0, h1, h2])


def test_srn_computes_the_same_function_as_torch_fused_rnn():
    srn, x = make_srn(3, 3), models.pad_one_hot([np.array([0, 1, 1, 2, 0])], 3)
    fused = torch.nn.RNN(3, 3, batch_first=True, dtype=models.DTYPE)
    with torch.no_grad():
        fused.weight_ih_l0.copy_(srn.W), fused.weight_hh_l0.copy_(srn.U)
        fused.bias_ih_l0.copy_(srn.b), fused.bias_hh_l0.zero_()
        expected, _ = fused(x, srn.initial_state()[None, None])
    assert torch.allclose(srn(x)[1], expected)


def test_lstm_computes_the_same_function_as_torch_fused_lstm():
    lstm, x = make_lstm(), models.pad_one_hot([np.array([0, 1, 1, 2, 2, 2, 0])], 3)
    fused = torch.nn.LSTM(3, 3, batch_first=True, dtype=models.DTYPE)
    with torch.no_grad():
        fused.weight_ih_l0.copy_(lstm.W), fused.weight_hh_l0.copy_(lstm.U)
        fused.bias_ih_l0.copy_(lstm.b), fused.bias_hh_l0.zero_()
        expected, (_, last_cell) = fused(x)
    _, hidden, cells, _ = lstm(x)
    assert torch.allclose(hidden, expected) and torch.allclose(cells[:, -1], last_cell[0])


# --- backpropagation through time and optimisers ----------------------------------------------

@pytest.mark.parametrize("restarts", [1, 3])
@pytest.mark.parametrize("model, hidden, language", [("srn", 2, "anb2n"), ("srn", 4, "anb2nc3n"),
                                                     ("lstm", 3, "anb2nc3n")])
def test_numpy_bptt_matches_autograd_for_each_restart(model, hidden, language, restarts):
    symbols = 2 if language == "anb2n" else 3
    nets = [models.build(model, symbols, hidden, 0.5, torch.Generator().manual_seed(r))
            for r in range(restarts)]
    sequence = generate(language, np.random.default_rng(3), 1, 4)[0]
    kernel = (bptt.SRNKernel if model == "srn" else bptt.LSTMKernel)(hidden, symbols)
    params = bptt.FlatParams(kernel.shapes(), restarts)
    for r, net in enumerate(nets):
        for name, array in models.to_numpy(net).items():
            params.views[name][r] = array
    grad = np.zeros(params.size)
    nll = kernel.loss_and_grad(params.views, params.bind(grad), sequence.inputs, sequence.labels)
    for r, net in enumerate(nets):
        logits = net(models.pad_one_hot([sequence.inputs], symbols))[0][0]
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(sequence.labels))
        loss.backward()
        assert nll[r] == pytest.approx(loss.item(), abs=1e-12)
        for name, p in net.named_parameters():
            assert np.allclose(params.bind(grad)[name][r], p.grad.numpy(), atol=1e-12), name


def test_block_diagonal_keeps_restarts_apart():
    blocks = np.arange(8.0).reshape(2, 2, 2) + 1
    matrix = bptt.block_diagonal(blocks)
    assert matrix.tolist() == [[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 5, 6], [0, 0, 7, 8]]


def test_reverse_linear_recurrence_matches_the_step_by_step_loop():
    rng = np.random.default_rng(0)
    jacobians, inputs = rng.normal(size=(13, 3, 3)) * 0.5, rng.normal(size=(13, 3))
    expected, carry = np.zeros_like(inputs), np.zeros(3)
    for t in reversed(range(13)):
        carry = expected[t] = inputs[t] + jacobians[t] @ carry
    steps, steps_jacobians, steps_inputs = bptt.affine_steps(13, 3)
    steps_jacobians[...], steps_inputs[...] = jacobians, inputs
    assert np.allclose(bptt.reverse_linear_recurrence(steps), expected)


@pytest.mark.parametrize("name, torch_class, lr", [("sgd", torch.optim.SGD, 0.1),
                                                   ("adam", torch.optim.Adam, 0.01)])
def test_optimisers_step_like_torch(name, torch_class, lr):
    rng = np.random.default_rng(0)
    start, grads = rng.normal(size=5), rng.normal(size=(4, 5))
    ours = start.copy()
    optimiser = optim.make(name, ours, lr, weight_decay=0.1)
    reference = torch.tensor(start, requires_grad=True)
    torch_optimiser = torch_class([reference], lr=lr, weight_decay=0.1)
    for g in grads:
        optimiser.step(g.copy())
        reference.grad = torch.tensor(g)
        torch_optimiser.step()
    assert np.allclose(ours, reference.detach().numpy(), atol=1e-12)


# --- training ---------------------------------------------------------------------------------

def spec(**changes) -> RunSpec:
    base = RunSpec("srn_anb2n", "srn", 2, "anb2n", "sgd", 0.005, 60, 0.05, stream=0, restarts=1)
    return dataclasses.replace(base, **changes)


def quiet_progress(total=None, desc=""):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, disable=True)


def test_training_is_deterministic_for_a_fixed_seed():
    lstm = spec(model="lstm", hidden=3, language="anb2nc3n", optimizer="adam", lr=1e-3)
    first = train(lstm, SCHEDULE, 7, quiet_progress)
    again = train(lstm, SCHEDULE, 7, quiet_progress)
    assert first.histories == again.histories
    assert all(np.array_equal(a, b) for m1, m2 in zip(first.models, again.models)
               for a, b in zip(models.to_numpy(m1).values(), models.to_numpy(m2).values()))
    other = train(lstm, SCHEDULE, 8, quiet_progress)
    assert other.histories != first.histories


def test_restarts_start_from_different_weights_and_end_apart():
    trained = train(spec(restarts=3), SCHEDULE, 0, quiet_progress)
    assert len(set(trained.init_seeds)) == 3
    finals = [h["loss"][-1] for h in trained.histories]
    assert len(set(finals)) == 3


def test_a_restart_trained_in_a_batch_matches_it_trained_alone():
    batch = train(spec(restarts=3), SCHEDULE, 0, quiet_progress)
    alone = train(spec(restarts=1), SCHEDULE, 0, quiet_progress)
    assert batch.init_seeds[0] == alone.init_seeds[0]
    assert np.allclose(batch.histories[0]["loss"], alone.histories[0]["loss"], rtol=1e-9)
    for a, b in zip(models.to_numpy(batch.models[0]).values(),
                    models.to_numpy(alone.models[0]).values()):
        assert np.allclose(a, b, rtol=1e-9, atol=1e-15)


def test_training_records_the_loss_every_eval_every_epochs():
    history = train(spec(), SCHEDULE, 0, quiet_progress).histories[0]
    assert history["epoch"] == [20, 40, 60]
    assert len(history["loss"]) == len(history["nll"]) == 3


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_diverging_run_names_the_model_epoch_and_settings():
    with pytest.raises(TrainingDiverged, match=r"srn_anb2n: loss .* at epoch \d+ in restart 0 "
                                               r"\(SRN\(2\) on anb2n, sgd lr 1e\+300"):
        train(spec(lr=1e300), SCHEDULE, 0, quiet_progress)


def test_the_loss_record_averages_each_restarts_error_over_every_position_of_the_batch():
    # restart 0 predicts (0.5, 0.5) everywhere, restart 1 (0.8, 0.2): V = 0, only c differs
    kernel = bptt.SRNKernel(2, 2)
    params = bptt.FlatParams(kernel.shapes(), restarts=2)
    params.views["c"][1] = [math.log(4.0), 0.0]
    batch = from_block_ns("anb2n", [[1, 2], [3, 1]])    # inputs ABB AABBBB A / AAABBBBBB ABB A
    inputs = np.concatenate([batch[i].inputs for i in range(len(batch))])
    labels = np.concatenate([batch[i].labels for i in range(len(batch))])
    after_a, last_b = inputs == A, (inputs == B) & (labels == A)
    # mean over positions and the two symbols of (predicted - target)^2
    uniform = np.where(after_a, 0.09, 0.25)
    skewed = np.where(after_a, 0.0, np.where(last_b, 0.04, 0.64))
    losses = evaluation_losses(kernel, params.views, batch)
    assert losses == pytest.approx([uniform.mean(), skewed.mean()], abs=1e-12)


def test_first_epoch_below_is_where_the_loss_stays_under_the_threshold():
    epochs = [1000, 2000, 3000, 4000]
    assert analysis.first_epoch_below(epochs, [0.2, 0.04, 0.06, 0.03], 0.05) == 4000
    assert analysis.first_epoch_below(epochs, [0.2, 0.04, 0.03, 0.01], 0.05) == 2000
    assert analysis.first_epoch_below(epochs, [0.01, 0.04, 0.03, 0.06], 0.05) is None
    assert analysis.first_epoch_below(epochs, [0.01, 0.02, float("nan"), 0.01], 0.05) == 4000


# --- analysis on constructed data -------------------------------------------------------------

def test_deterministic_accuracy_counts_argmax_hits_after_each_b_and_c():
    sequence = from_block_ns("anb2nc3n", [[1]])[0]              # inputs A B B C C C
    probs = np.array([[0.9, 0.1, 0.0],   # after A: not deterministic, ignored
                      [0.1, 0.8, 0.1],   # after B: B correct
                      [0.1, 0.8, 0.1],   # after last B: C expected, wrong
                      [0.0, 0.1, 0.9],   # after C: C correct
                      [0.0, 0.1, 0.9],   # C correct
                      [0.6, 0.0, 0.4]])  # after last C: A correct
    assert analysis.prediction_counts(probs, sequence) == (4, 5)
    assert analysis.scores(probs, sequence)["accuracy"] == pytest.approx(0.8)


def test_scores_by_n_split_the_counts_between_blocks():
    sequence = from_block_ns("anb2n", [[1, 2]])[0]               # A B B | A A B B B B
    probs = np.tile([0.0, 1.0], (len(sequence.inputs), 1))      # always predicts B
    rows = analysis.scores_by_n(probs, sequence, max_n=3)
    assert [(r["n"], r["correct"], r["total"]) for r in rows] == [(1, 1, 2), (2, 3, 4), (3, 0, 0)]
    assert rows[2]["accuracy"] is None and rows[2]["loss"] is None


def counting_net_states(ns):
    """Hand-made hidden states and predictions of a net that counts on anb2n with n <= 2:
    one jittered corner per block position, the states after B's at separate corners for each
    n, so that minimisation has equivalent clusters to merge (1 and 0 B's owed)."""
    sequences = [from_block_ns("anb2n", [row])[0] for row in ns]
    corner_of = {}
    rng = np.random.default_rng(0)
    hidden, probs = [], []
    for sequence in sequences:
        where = [tuple(p) for p in analysis.block_positions(sequence)]
        keys = [w + ((n,) if w[0] == 1 else ())
                for w, n in zip(where, np.r_[0, sequence.block_n])]
        for key in keys:
            corner_of.setdefault(key, len(corner_of))
        angle = np.array([corner_of[k] for k in keys]) * 2 * np.pi / 9
        hidden.append(0.8 * np.c_[np.cos(angle), np.sin(angle)]
                      + rng.normal(scale=0.005, size=(len(keys), 2)))
        predicts_b = [(after == 1 and owed > 0) or (after == 0 and owed == 2)
                      for after, owed in where[1:]]
        probs.append(np.where(np.array(predicts_b)[:, None], [0.1, 0.9], [0.9, 0.1]))
    return hidden, probs, sequences


def test_fsm_extraction_minimises_a_counting_net_to_its_block_positions():
    hidden, probs, sequences = counting_net_states([[1, 2], [2, 1], [2, 2], [1, 1]])
    fsm = analysis.extract_fsm(hidden, probs, sequences, radius=0.1, max_clusters=20)
    assert fsm["fine_clusters"] == 9 and fsm["determinism"] == 1.0
    # start; after 1 and 2 A's; 3, 2, 1 and 0 B's owed (1 and 0 reached from both n merged)
    assert len(fsm["states"]) == 7 and fsm["position_agreement"] == 1.0
    assert sorted(s["fine_clusters"] for s in fsm["states"]) == [1, 1, 1, 1, 1, 2, 2]
    assert fsm["states"][0]["start"] and fsm["states"][0]["output"] is None
    assert len({(t["from"], t["symbol"]) for t in fsm["transitions"]}) == len(fsm["transitions"])
    assert sum(t["count"] for t in fsm["transitions"]) == fsm["moves"]


def test_the_extracted_machine_predicts_what_the_net_predicts():
    hidden, probs, sequences = counting_net_states([[1, 2], [2, 1], [2, 2], [1, 1]])
    fsm = analysis.extract_fsm(hidden, probs, sequences, radius=0.1, max_clusters=20)
    fresh = [from_block_ns("anb2n", [[2, 2, 1, 1, 2]])[0]]
    _, fresh_probs, _ = counting_net_states([[2, 2, 1, 1, 2]])
    scores = analysis.predictor_scores(analysis.run_machine(fsm, fresh), fresh_probs[0],
                                       Sequence.pool(fresh))
    assert scores["accuracy"] == 1.0 and scores["agreement_all"]["accuracy"] == 1.0


def test_the_machine_as_a_predictor_follows_a_hand_built_machine():
    # start -A-> 1 (predicts B) -B-> 2 (predicts B) -B-> 3 (predicts A) -A-> 1; no B from 0
    fsm = {"states": [{"output": None}, {"output": "B"}, {"output": "B"}, {"output": "A"}],
           "transitions": [{"from": 0, "symbol": "A", "to": 1}, {"from": 1, "symbol": "B", "to": 2},
                           {"from": 2, "symbol": "B", "to": 3}, {"from": 3, "symbol": "A", "to": 1}]}
    sequence = from_block_ns("anb2n", [[1, 1]])[0]                 # inputs A B B A B B
    assert analysis.run_machine(fsm, [sequence]).tolist() == [B, B, A, B, B, A]
    sequence = from_block_ns("anb2n", [[2]])[0]                    # A A: no such transition
    assert analysis.run_machine(fsm, [sequence]).tolist() == [B, -1, -1, -1, -1, -1]
    probs = np.tile([0.0, 1.0], (6, 1))                            # a net always predicting B
    scores = analysis.predictor_scores(np.array([B, -1, -1, -1, -1, -1]), probs, sequence)
    assert (scores["correct"], scores["total"]) == (0, 4)          # after each B
    assert (scores["agreement"]["correct"], scores["agreement_all"]["correct"]) == (0, 1)


def test_minimise_merges_states_that_predict_and_move_alike_and_only_those():
    # 1 and 2 both predict B and go to 3 on B; 4 predicts B but goes to 0 on B
    table = np.array([[1, -1], [-1, 3], [-1, 3], [0, -1], [-1, 0]])
    outputs = np.array([-1, B, B, A, B])
    assert analysis.minimise(table, outputs).tolist() == [0, 1, 1, 2, 3]
    outputs[2] = A                                                 # now 2 predicts otherwise
    assert analysis.minimise(table, outputs).tolist() == [0, 1, 2, 3, 4]


def test_successor_table_keeps_the_commonest_successor_and_marks_unseen_moves():
    moves = np.array([[0, A, 1], [0, A, 2], [0, A, 2], [1, B, 0]])
    assert analysis.successor_table(moves, 3, 2).tolist() == [[2, -1], [-1, 0], [-1, -1]]


def test_block_positions_count_as_read_and_bs_owed():
    sequence = from_block_ns("anb2n", [[2, 1]])[0]                 # A A B B B B A B B
    assert analysis.block_positions(sequence).tolist() == [
        [-1, 0], [0, 1], [0, 2], [1, 3], [1, 2], [1, 1], [1, 0], [0, 1], [1, 1], [1, 0]]


def test_clustering_grows_k_until_every_point_is_within_the_radius():
    points = np.array([[0.0, 0.0], [0.05, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert len(analysis.cluster(points, radius=0.1, max_clusters=10)[0]) == 3
    assert len(analysis.cluster(points, radius=2.0, max_clusters=10)[0]) == 1
    assert len(analysis.cluster(points, radius=0.01, max_clusters=2)[0]) == 2


def test_p_b_after_each_a_reads_the_first_block():
    sequence = from_block_ns("anb2n", [[3]])[0]
    probs = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1],
                      [1, 0]])
    assert analysis.p_b_after_each_a(sequence, probs) == [0.1, 0.3, 0.6]


# --- config and the section end to end --------------------------------------------------------

@pytest.mark.parametrize("changes", [{"max_n": 0}, {"srn_epochs": 1500}, {"srn_lr": -1.0},
                                     {"threshold_anb2n": 1.5}, {"srn_hidden": 1},
                                     {"srn_restarts": 0}, {"lstm_restarts": 0},
                                     {"history_sequences": 0}])
def test_config_rejects_out_of_range_values(changes):
    with pytest.raises(ValueError):
        dynamics.Config(**changes)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The quick profile's results and figure folder, run once for the tests below."""
    folder = tmp_path_factory.mktemp("dynamics")
    return dynamics.run(dynamics.Config(**dynamics.QUICK), Context(folder, show_progress=False)), folder


def tampered(data: dict, change) -> list[str]:
    """The invariants' complaints about a copy of ``data`` after ``change(copy)``."""
    copy = json.loads(json.dumps(data))
    change(copy)
    return dynamics.invariants(copy)


def test_quick_run_end_to_end_satisfies_its_invariants(quick):
    data, folder = quick
    assert dynamics.invariants(data) == []
    assert set(data["runs"]) == {"srn_anb2n", "srn_anb2n_claim", "lstm_anb2nc3n", "srn_anb2nc3n"}
    assert [len(r["restarts"]) for r in data["runs"].values()] == [3, 3, 2, 3]
    assert all((folder / name).is_file() for name in data["figures"].values())


@pytest.mark.parametrize("change, complaint", [
    (lambda fsm: fsm["transitions"].append({**fsm["transitions"][0], "count": 0}), "not deterministic"),
    (lambda fsm: fsm["predictor"].update(total=fsm["predictor"]["total"] + 1), "evaluation positions"),
    (lambda fsm: fsm["states"][0].update(visits=fsm["states"][0]["visits"] + 1), "visits"),
    (lambda fsm: fsm["states"][0].update(start=False), "start"),
])
def test_invariants_catch_an_inconsistent_machine(quick, change, complaint):
    problems = tampered(quick[0], lambda data: change(data["fsm"]))
    assert any(complaint in p for p in problems), problems


def render_section(data: dict, folder, tmp_path):
    """The dynamics template alone, rendered from ``data`` as the build would."""
    (tmp_path / "report.qmd.j2").write_text('{% include "dynamics.qmd.j2" %}')
    (tmp_path / "numbers.qmd.j2").write_text("")
    (tmp_path / "dynamics.qmd.j2").write_text((ROOT / "templates" / "dynamics.qmd.j2").read_text())
    config = dataclasses.asdict(dynamics.Config(**dynamics.QUICK))
    record = Record("dynamics", 0, "fp", {}, data, {"profile_config": config}, folder)
    return Renderer(tmp_path, tmp_path).render([SectionView("dynamics", [record])], {}).text


def test_the_learnt_sentence_is_a_claim_that_fails_when_the_data_changes(quick, tmp_path):
    data, folder = quick
    assert "of the 3 restarts learnt" in re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1",
                                                render_section(data, folder, tmp_path))
    changed = json.loads(json.dumps(data))
    changed["runs"]["srn_anb2n"]["restarts"][0]["final_loss"] = 0.001   # now below 0.05
    with pytest.raises(ClaimError, match="learnt count"):
        render_section(changed, folder, tmp_path)


def without_timings(data: dict) -> dict:
    """``data`` without the wall-clock seconds of each run, the one thing allowed to differ."""
    copy = json.loads(json.dumps(data))
    for run in copy["runs"].values():
        run.pop("seconds")
    return copy


def test_the_section_gives_identical_records_for_a_fixed_seed(quick, tmp_path):
    again = dynamics.run(dynamics.Config(**dynamics.QUICK), Context(tmp_path, show_progress=False))
    assert without_timings(again) == without_timings(quick[0])


def test_invariants_catch_wrong_accuracy_counts(quick):
    def change(data):
        data["runs"]["srn_anb2n"]["evaluation"]["correct"] -= 1
    assert len(tampered(quick[0], change)) == 2   # accuracy, by-n sum


def _restart(data, run="srn_anb2n", index=0):
    return data["runs"][run]["restarts"][index]


@pytest.mark.parametrize("change, complaint", [
    (lambda d: _restart(d).update(final_loss=_restart(d)["final_loss"] + 0.5), "final_loss"),
    (lambda d: _restart(d, "lstm_anb2nc3n", 1)["history"]["loss"].pop(), "history"),
    (lambda d: _restart(d).update(first_epoch_below=_restart(d)["history"]["epoch"][0]
                                  if _restart(d)["first_epoch_below"] is None else None),
     "first_epoch_below"),
    (lambda d: _restart(d).update(learnt=not _restart(d)["learnt"]), "learnt"),
    (lambda d: d["runs"]["srn_anb2n"].update(learnt=d["runs"]["srn_anb2n"]["learnt"] + 1),
     "number of restarts that learnt"),
    (lambda d: d["runs"]["srn_anb2n"].update(final_loss=d["runs"]["srn_anb2n"]["final_loss"] * 2),
     "not the best restart's"),
])
def test_invariants_catch_inconsistent_restarts(quick, change, complaint):
    problems = tampered(quick[0], change)
    assert problems and all(complaint in p for p in problems), problems


def test_invariants_catch_a_best_restart_that_is_not_the_lowest(quick):
    def change(data):
        run = data["runs"]["srn_anb2n"]
        run["best"] = max(range(len(run["restarts"])), key=lambda r: run["restarts"][r]["final_loss"])
        run["final_loss"] = run["restarts"][run["best"]]["final_loss"]
    assert any("lowest final loss" in p for p in tampered(quick[0], change))


def test_best_restart_is_the_lowest_final_loss():
    assert analysis.best_restart([0.09, 0.02, 0.05, 0.02]) == 1
    assert analysis.best_restart([0.01]) == 0
