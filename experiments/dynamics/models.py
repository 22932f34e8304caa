"""The SRN and the LSTM as PyTorch modules: initialisation, and batched forward passes that
return every step's hidden state (and the LSTM's cells and gates) for analysis.

Training runs on the same parameters in NumPy (``bptt.py``), which is much faster for such
small nets; ``to_numpy``/``from_numpy`` move the parameters across by name. The tests check
that these modules compute the same function as PyTorch's fused ``nn.RNN``/``nn.LSTM``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .bptt import lstm_shapes, srn_shapes

DTYPE = torch.float64  # matches the float64 NumPy training, so analysis sees the same numbers


def _parameters(module: nn.Module, shapes: dict) -> None:
    for name, shape in shapes.items():
        module.register_parameter(name, nn.Parameter(torch.empty(shape, dtype=DTYPE)))


class SRN(nn.Module):
    """h_t = tanh(W x_t + U h_{t-1} + b), h_0 = tanh(h0_pre), logits_t = V h_t + c."""

    def __init__(self, symbols: int, hidden: int, init_std: float = 0.001, generator=None):
        super().__init__()
        self.symbols, self.hidden = symbols, hidden
        _parameters(self, srn_shapes(hidden, symbols))
        for parameter in self.parameters():   # the course's N(0, init_std) for every tensor
            nn.init.normal_(parameter, 0.0, init_std, generator=generator)

    def initial_state(self) -> torch.Tensor:
        return torch.tanh(self.h0_pre)                                  # (H,)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, K) one-hot -> logits (B, T, K), hidden states (B, T, H) after each input."""
        pre = x @ self.W.T + self.b                                     # (B, T, H)
        h = self.initial_state().expand(len(x), self.hidden)            # (B, H)
        steps = []
        for t in range(x.shape[1]):
            h = torch.tanh(pre[:, t] + h @ self.U.T)
            steps.append(h)
        hidden = torch.stack(steps, 1)                                  # (B, T, H)
        return hidden @ self.V.T + self.c, hidden


class LSTM(nn.Module):
    """LSTM from h_0 = c_0 = 0 with gate rows i, f, g, o (PyTorch's order); logits = V h_t + c."""

    def __init__(self, symbols: int, hidden: int, generator=None):
        super().__init__()
        self.symbols, self.hidden = symbols, hidden
        _parameters(self, lstm_shapes(hidden, symbols))
        bound = 1.0 / math.sqrt(hidden)       # nn.LSTM's own default initialisation
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound, generator=generator)

    def initial_state(self) -> torch.Tensor:
        return torch.zeros(self.hidden, dtype=DTYPE)                   # (H,) h_0 = c_0 = 0

    def forward(self, x: torch.Tensor):
        """x (B, T, K) -> logits (B, T, K), hidden (B, T, H), cells (B, T, H), gates (B, T, 4H)."""
        pre = x @ self.W.T + self.b                                     # (B, T, 4H)
        h = c = x.new_zeros(len(x), self.hidden)                        # (B, H)
        hs, cs, gs = [], [], []
        for t in range(x.shape[1]):
            z = pre[:, t] + h @ self.U.T                                # (B, 4H)
            i, f, g, o = z.chunk(4, dim=1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            hs.append(h), cs.append(c), gs.append(torch.cat([i, f, g, o], 1))
        hidden = torch.stack(hs, 1)
        return hidden @ self.V.T + self.c, hidden, torch.stack(cs, 1), torch.stack(gs, 1)


def build(kind: str, symbols: int, hidden: int, init_std: float, generator) -> nn.Module:
    """A freshly initialised ``"srn"`` or ``"lstm"``."""
    if kind == "srn":
        return SRN(symbols, hidden, init_std, generator)
    return LSTM(symbols, hidden, generator)


def to_numpy(model: nn.Module) -> dict[str, np.ndarray]:
    """Every parameter as a float64 array, by name."""
    return {name: p.detach().cpu().numpy().astype(np.float64)
            for name, p in model.named_parameters()}


def from_numpy(model: nn.Module, arrays: dict[str, np.ndarray]) -> nn.Module:
    """Copy parameters in by name (the layout ``bptt`` trains) and return the model."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(np.asarray(arrays[name])))
    return model


def pad_one_hot(sequences: list[np.ndarray], symbols: int) -> torch.Tensor:
    """(B, T_max, K) one-hot inputs, zero after each sequence's end (later steps are ignored)."""
    batch = torch.zeros(len(sequences), max(map(len, sequences)), symbols, dtype=DTYPE)
    for row, inputs in zip(batch, sequences):
        row[torch.arange(len(inputs)), torch.from_numpy(np.asarray(inputs))] = 1.0
    return batch


def trace(model: nn.Module, inputs: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    """Run many sequences as one padded batch; per sequence (length T), NumPy arrays:
    ``hidden`` (T + 1, H) starting with the initial state, ``probs`` (T, K), and for the LSTM
    ``cells`` (T + 1, H) from c_0 = 0 and ``gates`` (T, 4H) in the order i, f, g, o.
    """
    with torch.no_grad():
        logits, hidden, *lstm = model(pad_one_hot(inputs, model.symbols))
        probs = torch.softmax(logits, -1).numpy()
        first = model.initial_state().expand(len(inputs), 1, model.hidden)  # (B, 1, H)
        hidden = torch.cat([first, hidden], 1).numpy()
        if lstm:
            cells, gates = torch.cat([torch.zeros_like(first), lstm[0]], 1).numpy(), lstm[1].numpy()
    traces = []
    for b, sequence in enumerate(inputs):
        T = len(sequence)
        traces.append({"hidden": hidden[b, :T + 1], "probs": probs[b, :T]})
        if lstm:
            traces[-1].update(cells=cells[b, :T + 1], gates=gates[b, :T])
    return traces
