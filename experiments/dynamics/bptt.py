"""Loss and gradient of one short sequence by backpropagation through time, in NumPy.

Why not autograd: with 2 to 4 hidden units a time step is a few dozen flops, so PyTorch's
per-op dispatch and autograd graph dominate (about 2.4 ms per SRN(2) sequence of ~38 steps,
so 500,000 training sequences would take over 20 minutes). Here a step costs a few NumPy
calls on tiny arrays. Only the recurrences loop over time; the input projection, the output
layer and the weight gradients are single matrix products over the whole sequence.
``tests/test_dynamics.py`` checks these gradients against autograd on ``models.SRN``/``LSTM``.

Parameters live in one flat vector (``FlatParams``) so that an optimiser step is a handful
of NumPy calls, whatever the number of tensors.
"""
from __future__ import annotations

import numpy as np


def srn_shapes(hidden: int, symbols: int) -> dict[str, tuple[int, ...]]:
    """The SRN's parameters, named and shaped as in ``models.SRN``."""
    return {"W": (hidden, symbols), "U": (hidden, hidden), "b": (hidden,),
            "h0_pre": (hidden,), "V": (symbols, hidden), "c": (symbols,)}


def lstm_shapes(hidden: int, symbols: int) -> dict[str, tuple[int, ...]]:
    """The LSTM's parameters (gate rows in the order i, f, g, o), as in ``models.LSTM``."""
    return {"W": (4 * hidden, symbols), "U": (4 * hidden, hidden), "b": (4 * hidden,),
            "V": (symbols, hidden), "c": (symbols,)}


class FlatParams:
    """Named views into one float64 vector: ``p.vector`` for the optimiser, ``p.views[name]``."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]):
        self.shapes = shapes
        self.size = sum(int(np.prod(shape)) for shape in shapes.values())
        self.vector = np.zeros(self.size)
        self.views = self.bind(self.vector)

    def bind(self, vector: np.ndarray) -> dict[str, np.ndarray]:
        """Views of ``vector`` (same layout), e.g. for a gradient vector."""
        views, start = {}, 0
        for name, shape in self.shapes.items():
            stop = start + int(np.prod(shape))
            views[name] = vector[start:stop].reshape(shape)
            start = stop
        return views


def output_layer(V, c, hidden, labels, grads) -> tuple[float, np.ndarray]:
    """Mean NLL of ``labels`` under softmax(V h + c); fills grads V, c; returns dLoss/dh (T, H).

    No max-subtraction: |h| <= 1, so logits overflow only if |V| + |c| > 700, and a run
    that far gone is stopped by the training loop's NaN check anyway. Sums are matrix
    products because NumPy's reduction methods cost more than the arithmetic here.
    """
    T, K = len(labels), len(c)
    logits = hidden @ V.T + c                                 # (T, K)
    exp = np.exp(logits)
    total = exp @ np.ones(K)                                  # (T,)
    target = np.eye(K)[labels]                                # (T, K) one-hot labels
    nll = (np.log(total) @ np.ones(T) - np.vdot(logits, target)) / T
    d_logits = exp / total[:, None]                           # softmax minus one-hot, / T
    d_logits -= target
    d_logits *= 1.0 / T
    grads["V"][...] = d_logits.T @ hidden
    grads["c"][...] = np.ones(T) @ d_logits
    return float(nll), d_logits @ V


def reverse_linear_recurrence(jacobians: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Solve x_t = inputs_t + jacobians_t x_{t+1} for t = T-1 .. 0, with x_T = 0.

    A Hillis-Steele scan: log2(T) rounds of batched products replace T Python steps.
    jacobians (T, D, D), inputs (T, D) -> x (T, D).
    """
    maps = jacobians[::-1].copy()                             # y_s = in_s + maps_s y_{s-1}
    y = inputs[::-1].copy()                                   # (T, D)
    span = 1
    while span < len(y):
        y[span:] += (maps[span:] @ y[:-span, :, None])[..., 0]
        if 2 * span < len(y):
            maps[span:] = maps[span:] @ maps[:-span]
        span *= 2
    return y[::-1]


def softmax_rows(hidden, V, c) -> np.ndarray:
    """(T, K) predicted next-symbol distributions for hidden states (T, H)."""
    logits = hidden @ V.T + c
    exp = np.exp(logits - logits.max(1, keepdims=True))
    return exp / exp.sum(1, keepdims=True)


class SRNKernel:
    """h_t = tanh(W x_t + U h_{t-1} + b), h_0 = tanh(h0_pre), logits_t = V h_t + c."""

    def __init__(self, hidden: int, symbols: int):
        self.hidden, self.symbols = hidden, symbols
        self.eye = np.eye(symbols)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return srn_shapes(self.hidden, self.symbols)

    def hidden_states(self, p, onehot) -> np.ndarray:
        """(T + 1, H): row 0 is the initial state, row t + 1 follows input t."""
        pre = onehot @ p["W"].T + p["b"]                      # (T, H) input part of each step
        hidden = np.empty((len(pre) + 1, self.hidden))
        hidden[0] = np.tanh(p["h0_pre"])
        U, dot, tanh, h = p["U"], np.dot, np.tanh, hidden[0]
        for a, out in zip(pre, hidden[1:]):
            h = tanh(a + dot(U, h), out=out)
        return hidden

    def loss_and_grad(self, p, grads, inputs, labels) -> float:
        """Mean NLL of one sequence; writes every parameter's gradient into ``grads``."""
        onehot = self.eye[inputs]                             # (T, K)
        hidden = self.hidden_states(p, onehot)                # (T + 1, H)
        nll, d_out = output_layer(p["V"], p["c"], hidden[1:], labels, grads)
        d_pre = self._backward(p["U"], hidden[1:], d_out)     # (T, H) dLoss / d(pre-tanh)
        grads["W"][...] = d_pre.T @ onehot
        grads["U"][...] = d_pre.T @ hidden[:-1]
        grads["b"][...] = d_pre.sum(0)
        grads["h0_pre"][...] = (p["U"].T @ d_pre[0]) * (1.0 - hidden[0] ** 2)
        return nll

    @staticmethod
    def _backward(U, hidden, d_out) -> np.ndarray:
        """dLoss/d(pre-activation) d_t = s_t (g_t + U^T d_{t+1}), s_t = 1 - h_t^2, as one scan."""
        slope = 1.0 - hidden ** 2                             # (T, H) tanh'
        jacobians = slope[:, :, None] * U.T                   # (T, H, H) d_t / d_{t+1}
        return reverse_linear_recurrence(jacobians, slope * d_out)

    def predict(self, p, inputs) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states (T + 1, H) and predicted distributions (T, K) for one sequence."""
        hidden = self.hidden_states(p, self.eye[inputs])
        return hidden, softmax_rows(hidden[1:], p["V"], p["c"])


class LSTMKernel:
    """LSTM with zero initial h and c; gates i, f, o sigmoid, g tanh; logits_t = V h_t + c.

    sigmoid(z) = (1 + tanh(z / 2)) / 2, so one tanh call per step serves all four gates.
    """

    def __init__(self, hidden: int, symbols: int):
        self.hidden, self.symbols = hidden, symbols
        self.eye = np.eye(symbols)
        half = np.full(hidden, 0.5)
        self.scale = np.concatenate([half, half, np.ones(hidden), half])      # (4H,)
        self.shift = np.concatenate([half, half, np.zeros(hidden), half])     # (4H,)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return lstm_shapes(self.hidden, self.symbols)

    def states(self, p, onehot) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hidden (T + 1, H) from h_0 = 0, cells (T + 1, H) from c_0 = 0, gates (T, 4H)."""
        T, H = len(onehot), self.hidden
        pre = (onehot @ p["W"].T + p["b"]) * self.scale       # (T, 4H), halved for i, f, o
        U = p["U"] * self.scale[:, None]                      # (4H, H)
        hidden, cells, gates = np.zeros((T + 1, H)), np.zeros((T + 1, H)), np.empty((T, 4 * H))
        dot, tanh, multiply, add = np.dot, np.tanh, np.multiply, np.add
        scale, shift = self.scale, self.shift
        h, c = hidden[0], cells[0]
        for a, gate, (i, f, g, o), h_out, c_out in zip(pre, gates, gates.reshape(T, 4, H),
                                                       hidden[1:], cells[1:]):
            tanh(a + dot(U, h), out=gate)                     # gate is a view of (i, f, g, o)
            multiply(gate, scale, out=gate)
            gate += shift
            c = add(f * c, i * g, out=c_out)
            h = multiply(o, tanh(c), out=h_out)
        return hidden, cells, gates

    def loss_and_grad(self, p, grads, inputs, labels) -> float:
        """Mean NLL of one sequence; writes every parameter's gradient into ``grads``."""
        onehot = self.eye[inputs]                             # (T, K)
        hidden, cells, gates = self.states(p, onehot)
        nll, d_out = output_layer(p["V"], p["c"], hidden[1:], labels, grads)
        d_gates = self._backward(p["U"], cells, gates, d_out)  # (T, 4H) dLoss / d(pre-gate)
        grads["W"][...] = d_gates.T @ onehot
        grads["U"][...] = d_gates.T @ hidden[:-1]
        grads["b"][...] = d_gates.sum(0)
        return nll

    def _backward(self, U, cells, gates, d_out) -> np.ndarray:
        """dLoss/d(pre-activations of i, f, g, o) for every step.

        The adjoint s_t = (dLoss/dh_t, dLoss/dc_t) obeys a linear recurrence backwards in
        time, s_t = b_t + M_t s_{t+1}, solved as one scan instead of a Python loop.
        """
        H = self.hidden
        gates4 = gates.reshape(len(gates), 4, H)                          # (T, 4, H) i, f, g, o
        i, f, g, o = gates4.transpose(1, 0, 2)                            # each (T, H)
        tanh_c = np.tanh(cells[1:])                                       # (T, H)
        via_h = o * (1.0 - tanh_c ** 2)                                   # dh_t / dc_t
        local = np.stack([g * i * (1 - i), cells[:-1] * f * (1 - f),
                          i * (1 - g ** 2), tanh_c * o * (1 - o)], 1)    # (T, 4, H)
        jacobians = self._adjoint_jacobians(U, local, via_h, f)          # (T, 2H, 2H)
        adjoint = reverse_linear_recurrence(jacobians, np.concatenate([d_out, via_h * d_out], 1))
        d_h, d_c = adjoint[:, :H], adjoint[:, H:]                         # (T, H) each
        return np.concatenate([local[:, :3] * d_c[:, None], local[:, 3:] * d_h[:, None]],
                              1).reshape(len(gates), 4 * H)

    @staticmethod
    def _adjoint_jacobians(U, local, via_h, f) -> np.ndarray:
        """M_t, how s_t = (dh_t, dc_t) depends on s_{t+1}: (T, 2H, 2H), zero at the last step.

        ``local[t, k]`` is d(pre-activation of gate k) per unit of dc_t (i, f, g) or dh_t (o).
        """
        T, _, H = local.shape
        UT4 = U.T.reshape(H, 4, H)                                        # (H, 4 gates, H)
        via_c = (UT4[None, :, :3] * local[:, None, :3]).sum(2)  # (T, H, H) dh_{t-1} from dc_t
        via_o = UT4[None, :, 3] * local[:, None, 3]              # (T, H, H) dh_{t-1} from dh_t
        step = np.concatenate([via_o, via_c], 2)                 # (T, H, 2H) dh_{t-1} from s_t
        nxt = np.zeros((T, 2 * H, 2 * H))
        nxt[:-1, :H] = step[1:]
        nxt[:-1, H:] = via_h[:-1, :, None] * step[1:]
        nxt[:-1, H:, H:] += f[1:, :, None] * np.eye(H)                    # dc_t += f_{t+1} dc_{t+1}
        return nxt

    def predict(self, p, inputs) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states (T + 1, H) and predicted distributions (T, K) for one sequence."""
        hidden, _, _ = self.states(p, self.eye[inputs])
        return hidden, softmax_rows(hidden[1:], p["V"], p["c"])
