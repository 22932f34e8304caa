"""Training sequences per second: the dynamics section's NumPy BPTT step against PyTorch loops;
and, with ``--section``, the cost of restarts: the whole section with its default restarts
against the same section with one restart per run.

    python bench/dynamics_throughput.py [--sequences 300]
    python bench/dynamics_throughput.py --section [--profile full|quick] [--repeats 1]

Every contender does the same work per sequence: forward, next-symbol NLL, backward, one
optimiser step, on the same fresh sequences. "per-step loop" is the plain way to write it
(``nn.RNNCell``/``nn.LSTMCell`` called once per symbol, autograd, ``torch.optim``); "fused"
is ``nn.RNN``/``nn.LSTM`` over the whole sequence. ``--section`` runs the two section
variants alternately (one restart first, then the default), ``--repeats`` times each, and
reports the ratio of their total times. All timings come from this one run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import experiments.dynamics as dynamics  # noqa: E402
from experiments.dynamics import bptt, models, optim  # noqa: E402
from experiments.dynamics.languages import LANGUAGES, generate  # noqa: E402
from report.context import Context  # noqa: E402

CASES = [("srn", 2, "anb2n", "sgd", 0.005), ("lstm", 3, "anb2nc3n", "sgd", 0.005),
         ("srn", 4, "anb2nc3n", "sgd", 0.005)]


def ours(kind, hidden, symbols, optimizer, lr, sequences) -> float:
    """Seconds for the section's own training step (bptt + optim) over ``sequences``."""
    net = models.build(kind, symbols, hidden, 0.001, torch.Generator().manual_seed(0))
    kernel = (bptt.SRNKernel if kind == "srn" else bptt.LSTMKernel)(hidden, symbols)
    params = bptt.FlatParams(kernel.shapes(), restarts=1)
    for name, array in models.to_numpy(net).items():
        params.views[name][0] = array
    grad = np.zeros(params.size)
    grads, step = params.bind(grad), optim.make(optimizer, params.vector, lr, 1e-4).step
    start = time.perf_counter()
    for x, y in sequences:
        kernel.loss_and_grad(params.views, grads, x, y)
        step(grad)
    return time.perf_counter() - start


def torch_loop(kind, hidden, symbols, optimizer, lr, sequences, fused: bool) -> float:
    """Seconds for the same training with autograd: a cell per step, or the fused module."""
    torch.set_num_threads(1)
    cell = {("srn", False): nn.RNNCell, ("lstm", False): nn.LSTMCell,
            ("srn", True): nn.RNN, ("lstm", True): nn.LSTM}[kind, fused]
    recurrent, readout = cell(symbols, hidden), nn.Linear(hidden, symbols)
    params = [*recurrent.parameters(), *readout.parameters()]
    opt_class = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
    opt = opt_class(params, lr=lr, weight_decay=1e-4)
    eye = torch.eye(symbols)
    start = time.perf_counter()
    for x, y in sequences:
        inputs, labels = eye[torch.from_numpy(x)], torch.from_numpy(y)    # (T, K), (T,)
        hidden_states = recurrent(inputs)[0] if fused else _cell_steps(recurrent, inputs, kind)
        loss = nn.functional.cross_entropy(readout(hidden_states), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def _cell_steps(cell, inputs, kind) -> torch.Tensor:
    state, outputs = None, []
    for x in inputs:
        state = cell(x[None], state)
        outputs.append(state if kind == "srn" else state[0])
    return torch.cat(outputs)                                             # (T, H)


def section_seconds(config: dynamics.Config) -> float:
    """Wall seconds for the whole section (training, analysis, figures) under ``config``."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        dynamics.run(config, Context(Path(folder), show_progress=False))
        return time.perf_counter() - start


def restarts_ratio(profile: str, repeats: int) -> None:
    """The section with its default restarts against one restart per run, alternating."""
    overrides = dynamics.QUICK if profile == "quick" else {}
    default = dynamics.Config(**overrides)
    single = dynamics.Config(**{**overrides, "srn_restarts": 1, "lstm_restarts": 1})
    totals = {"one restart": 0.0, "default restarts": 0.0}
    for _ in range(repeats):
        for name, config in (("one restart", single), ("default restarts", default)):
            seconds = section_seconds(config)
            totals[name] += seconds
            print(f"{name:<18}{seconds:>8.1f} s", flush=True)
    print(f"section with {default.srn_restarts} restarts per SRN and {default.lstm_restarts} for "
          f"the LSTM / one restart each: {totals['default restarts'] / totals['one restart']:.2f}x")


def throughput(sequences_per_case: int) -> None:
    """Training sequences per second, ours against the per-step and the fused torch loops."""
    print(f"{'run':<24}{'ours seq/s':>12}{'per-step seq/s':>16}{'fused seq/s':>13}"
          f"{'ours/per-step':>15}{'ours/fused':>12}")
    for kind, hidden, language, optimizer, lr in CASES:
        batch = generate(language, np.random.default_rng(0), sequences_per_case, 4)
        sequences = [(batch[i].inputs, batch[i].labels) for i in range(len(batch))]
        setting = (kind, hidden, len(LANGUAGES[language]), optimizer, lr, sequences)
        timings = (ours(*setting), torch_loop(*setting, fused=False),
                   torch_loop(*setting, fused=True))
        rates = [len(sequences) / seconds for seconds in timings]
        name = f"{kind.upper()}({hidden}) {language}"
        print(f"{name:<24}{rates[0]:>12.0f}{rates[1]:>16.0f}{rates[2]:>13.0f}"
              f"{rates[0] / rates[1]:>14.1f}x{rates[0] / rates[2]:>11.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=300)
    parser.add_argument("--section", action="store_true",
                        help="time the whole section with and without restarts instead")
    parser.add_argument("--profile", choices=("full", "quick"), default="full")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    if args.section:
        restarts_ratio(args.profile, args.repeats)
    else:
        throughput(args.sequences)


if __name__ == "__main__":
    main()
