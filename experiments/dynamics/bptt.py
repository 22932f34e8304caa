"""Loss and gradient of one short sequence by backpropagation through time, in NumPy, for
several independent restarts of the same net at once.

Why not autograd: with 2 to 4 hidden units a time step is a few dozen flops, so PyTorch's
per-op dispatch and autograd graph dominate (about 2.4 ms per SRN(2) sequence of ~38 steps,
so 500,000 training sequences would take over 20 minutes). Here a step costs a few NumPy
calls on tiny arrays. Only the recurrences loop over time; the input projection, the output
layer and the weight gradients are single products over the whole sequence.
``tests/test_dynamics.py`` checks these gradients against autograd on ``models.SRN``/``LSTM``.

Restarts: every parameter carries a leading axis of R restarts, and all R read the same
sequence. Each step is overhead-bound, so the R recurrences run as one: their hidden states
are laid end to end in one vector of R*H numbers and the recurrent weights form one
block-diagonal matrix, so a step of R restarts costs about the NumPy calls of one. The
restarts never mix: the blocks off the diagonal are zero.

Parameters live in one flat vector (``FlatParams``) so that an optimiser step is a handful
of NumPy calls, whatever the number of tensors and restarts.
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
    """Named views into one float64 vector: ``p.vector`` for the optimiser, ``p.views[name]``
    of shape (restarts, *shape)."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], restarts: int):
        self.shapes = {name: (restarts, *shape) for name, shape in shapes.items()}
        self.size = sum(int(np.prod(shape)) for shape in self.shapes.values())
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


def diagonal_blocks(matrices: np.ndarray, R: int) -> np.ndarray:
    """Writable view (..., R, m, n) of the R diagonal blocks of (..., R*m, R*n) matrices."""
    *lead, rows, columns = matrices.shape
    row_stride, column_stride = matrices.strides[-2:]
    m, n = rows // R, columns // R
    return np.lib.stride_tricks.as_strided(
        matrices, (*lead, R, m, n),
        (*matrices.strides[:-2], m * row_stride + n * column_stride, row_stride, column_stride))


def block_diagonal(blocks: np.ndarray) -> np.ndarray:
    """(R, m, n) blocks -> (R*m, R*n) matrix with block r on the diagonal, zeros elsewhere."""
    R, m, n = blocks.shape
    matrix = np.zeros((R * m, R * n))
    diagonal_blocks(matrix, R)[...] = blocks
    return matrix


def per_restart(rows: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """(T, R, m) @ (R, m, n) -> (T, R, n): each restart's rows times its own matrix.

    Batched ``@`` rather than ``einsum``, which is several times slower at these sizes.
    """
    return (rows.transpose(1, 0, 2) @ matrices).transpose(1, 0, 2)


def over_time(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(T, R, m), (T, R, n) -> (R, m, n): the sum over time of each restart's outer products."""
    return left.transpose(1, 2, 0) @ right.transpose(1, 0, 2)


def input_part(W: np.ndarray, b: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """(T, R, rows): W x_t + b for one-hot inputs (T,), i.e. W's column of each symbol."""
    return W[:, :, inputs].transpose(2, 0, 1) + b


def output_layer(V, c, hidden, labels, grads) -> tuple[np.ndarray, np.ndarray]:
    """Mean NLL of ``labels`` (T,) under softmax(V h + c), per restart (R,); fills grads V, c;
    returns dLoss/dh (T, R, H) for hidden (T, R, H), the loss being the restarts' sum.

    No max-subtraction: |h| <= 1, so logits overflow only if |V| + |c| > 700, and a run
    that far gone is stopped by the training loop's NaN check anyway.
    """
    T, K = len(labels), c.shape[-1]
    logits = per_restart(hidden, V.transpose(0, 2, 1)) + c    # (T, R, K)
    exp = np.exp(logits)
    total = exp.sum(2)                                        # (T, R)
    target = np.eye(K)[labels]                                # (T, K) one-hot labels
    nll = (np.log(total).sum(0) - (logits * target[:, None]).sum((0, 2))) / T
    d_logits = exp / total[:, :, None]                        # softmax minus one-hot, / T
    d_logits -= target[:, None]
    d_logits *= 1.0 / T
    grads["V"][...] = over_time(d_logits, hidden)
    grads["c"][...] = d_logits.sum(0)
    return nll, per_restart(d_logits, V)


def input_grads(grads, d_pre, inputs, previous, symbols: int) -> None:
    """Gradients of W, U and b from dLoss/d(pre-activation) d_pre (T, R, rows)."""
    grads["W"][...] = d_pre.transpose(1, 2, 0) @ np.eye(symbols)[inputs]
    grads["U"][...] = over_time(d_pre, previous)
    grads["b"][...] = d_pre.sum(0)


def _gate_major(rows: np.ndarray) -> np.ndarray:
    """(..., R, 4, H) restart-major gate values -> (..., 4*R*H) gate-major (i, f, g, o)."""
    return np.swapaxes(rows, -3, -2).reshape(*rows.shape[:-3], -1)


def affine_steps(T: int, D: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Room for T affine maps x -> J_t x + b_t as matrices [[J_t, b_t], [0, 1]] (T, D+1, D+1),
    and the views J (T, D, D) and b (T, D) for the caller to fill."""
    steps = np.zeros((T, D + 1, D + 1))
    steps[:, D, D] = 1.0
    return steps, steps[:, :D, :D], steps[:, :D, D]


def reverse_linear_recurrence(steps: np.ndarray) -> np.ndarray:
    """Solve x_t = b_t + J_t x_{t+1} for t = T-1 .. 0, with x_T = 0: ``steps`` from
    ``affine_steps`` (T, D+1, D+1) -> x (T, D).

    Each step is a single ``np.dot`` on (x_{t+1}, 1), since at these sizes a step costs about
    its number of NumPy calls. With restarts laid end to end and each J_t block-diagonal, the
    cost hardly depends on R. (A log-depth scan over per-restart matrices has fewer Python
    steps, but a tiny matrix product per restart and step in each round: it grows with R.)
    """
    T, D = len(steps), steps.shape[1] - 1
    x = np.zeros((T + 1, D + 1))
    x[T, D] = 1.0                                             # (x_T, 1)
    carry, dot = x[T], np.dot
    for step, out in zip(steps[::-1], x[-2::-1]):
        carry = dot(step, carry, out=out)
    return x[:T, :D]


def softmax_rows(hidden, V, c) -> np.ndarray:
    """(T, R, K) predicted next-symbol distributions for hidden states (T, R, H)."""
    logits = per_restart(hidden, V.transpose(0, 2, 1)) + c
    exp = np.exp(logits - logits.max(2, keepdims=True))
    return exp / exp.sum(2, keepdims=True)


class SRNKernel:
    """h_t = tanh(W x_t + U h_{t-1} + b), h_0 = tanh(h0_pre), logits_t = V h_t + c."""

    def __init__(self, hidden: int, symbols: int):
        self.hidden, self.symbols = hidden, symbols

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return srn_shapes(self.hidden, self.symbols)

    def hidden_states(self, p, inputs) -> np.ndarray:
        """(T + 1, R, H): row 0 is the initial state, row t + 1 follows input t."""
        pre = input_part(p["W"], p["b"], inputs)              # (T, R, H)
        T, R, H = pre.shape
        hidden = np.empty((T + 1, R * H))                     # restarts laid end to end
        hidden[0] = np.tanh(p["h0_pre"]).ravel()
        U, dot, tanh, h = block_diagonal(p["U"]), np.dot, np.tanh, hidden[0]
        for a, out in zip(pre.reshape(T, R * H), hidden[1:]):
            h = tanh(a + dot(U, h), out=out)
        return hidden.reshape(T + 1, R, H)

    def loss_and_grad(self, p, grads, inputs, labels) -> np.ndarray:
        """Mean NLL of one sequence per restart (R,); writes every gradient into ``grads``."""
        hidden = self.hidden_states(p, inputs)                # (T + 1, R, H)
        nll, d_out = output_layer(p["V"], p["c"], hidden[1:], labels, grads)
        d_pre = self._backward(p["U"], hidden[1:], d_out)     # (T, R, H) dLoss / d(pre-tanh)
        input_grads(grads, d_pre, inputs, hidden[:-1], self.symbols)
        grads["h0_pre"][...] = ((d_pre[0][:, None] @ p["U"])[:, 0]
                                * (1.0 - hidden[0] ** 2))
        return nll

    @staticmethod
    def _backward(U, hidden, d_out) -> np.ndarray:
        """dLoss/d(pre-activation) d_t = s_t (g_t + U^T d_{t+1}), s_t = 1 - h_t^2."""
        T, R, H = hidden.shape
        slope = (1.0 - hidden ** 2).reshape(T, R * H)         # tanh', restarts end to end
        steps, jacobians, inputs = affine_steps(T, R * H)
        np.multiply(slope.reshape(T, R, H, 1), U.transpose(0, 2, 1),   # d_t / d_{t+1}
                    out=diagonal_blocks(jacobians, R))
        np.multiply(slope, d_out.reshape(T, R * H), out=inputs)
        return reverse_linear_recurrence(steps).reshape(T, R, H)

    def predict(self, p, inputs) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states (T + 1, R, H) and predicted distributions (T, R, K) for one sequence."""
        hidden = self.hidden_states(p, inputs)
        return hidden, softmax_rows(hidden[1:], p["V"], p["c"])


class LSTMKernel:
    """LSTM with zero initial h and c; gates i, f, o sigmoid, g tanh; logits_t = V h_t + c.

    sigmoid(z) = (1 + tanh(z / 2)) / 2, so one tanh call per step serves all four gates.
    """

    def __init__(self, hidden: int, symbols: int):
        self.hidden, self.symbols = hidden, symbols
        half = np.full(hidden, 0.5)
        self.scale = np.concatenate([half, half, np.ones(hidden), half])      # (4H,)
        self.shift = np.concatenate([half, half, np.zeros(hidden), half])     # (4H,)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return lstm_shapes(self.hidden, self.symbols)

    def states(self, p, inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hidden (T + 1, R, H) from h_0 = 0, cells (T + 1, R, H) from c_0 = 0, gates (T, R, 4H).

        Inside the loop each gate of all restarts is one contiguous run of R*H numbers
        (gate-major order), so a step costs the same few NumPy calls as a single restart.
        """
        R, H = len(p["U"]), self.hidden
        pre = input_part(p["W"], p["b"], inputs) * self.scale  # (T, R, 4H), halved for i, f, o
        T = len(pre)
        pre = _gate_major(pre.reshape(T, R, 4, H))                                # (T, 4RH)
        U = block_diagonal(p["U"] * self.scale[:, None]).reshape(R, 4, H, R * H)
        U = _gate_major(U.transpose(3, 0, 1, 2)).T                                # (4RH, RH)
        hidden, cells = np.zeros((T + 1, R * H)), np.zeros((T + 1, R * H))
        gates = np.empty((T, 4 * R * H))
        dot, tanh, multiply, add = np.dot, np.tanh, np.multiply, np.add
        scale, shift = (np.repeat(v.reshape(4, 1, H), R, 1).ravel()
                        for v in (self.scale, self.shift))
        each_gate = gates.reshape(T, 4, R * H).transpose(1, 0, 2)       # i, f, g, o: (T, RH)
        c = cells[0]
        for a, gate, i, f, g, o, h, h_out, c_out in zip(pre, gates, *each_gate, hidden,
                                                       hidden[1:], cells[1:]):
            tanh(a + dot(U, h), out=gate)                     # gate is a view of (i, f, g, o)
            multiply(gate, scale, out=gate)
            gate += shift
            c = add(f * c, i * g, out=c_out)
            multiply(o, tanh(c), out=h_out)
        restart_major = gates.reshape(T, 4, R, H).transpose(0, 2, 1, 3).reshape(T, R, 4 * H)
        return hidden.reshape(T + 1, R, H), cells.reshape(T + 1, R, H), restart_major

    def loss_and_grad(self, p, grads, inputs, labels) -> np.ndarray:
        """Mean NLL of one sequence per restart (R,); writes every gradient into ``grads``."""
        hidden, cells, gates = self.states(p, inputs)
        nll, d_out = output_layer(p["V"], p["c"], hidden[1:], labels, grads)
        d_gates = self._backward(p["U"], cells, gates, d_out)  # (T, R, 4H) dLoss / d(pre-gate)
        input_grads(grads, d_gates, inputs, hidden[:-1], self.symbols)
        return nll

    def _backward(self, U, cells, gates, d_out) -> np.ndarray:
        """dLoss/d(pre-activations of i, f, g, o) for every step and restart.

        The adjoint s_t = (dLoss/dh_t, dLoss/dc_t) obeys a linear recurrence backwards in
        time, s_t = b_t + M_t s_{t+1}, solved for all restarts at once.
        """
        H = self.hidden
        T, R, _ = gates.shape
        i, f, g, o = gates.reshape(T, R, 4, H).transpose(2, 0, 1, 3)      # each (T, R, H)
        tanh_c = np.tanh(cells[1:])                                       # (T, R, H)
        via_h = o * (1.0 - tanh_c ** 2)                                   # dh_t / dc_t
        local = np.stack([g * i * (1 - i), cells[:-1] * f * (1 - f),
                          i * (1 - g ** 2), tanh_c * o * (1 - o)], 2)    # (T, R, 4, H)
        steps, jacobians, inputs = affine_steps(T, 2 * R * H)
        self._adjoint_jacobians(U, local, via_h, f, out=diagonal_blocks(jacobians, R))
        inputs.reshape(T, R, 2, H)[...] = np.stack([d_out, via_h * d_out], 2)
        adjoint = reverse_linear_recurrence(steps).reshape(T, R, 2 * H)
        d_h, d_c = adjoint[..., :H], adjoint[..., H:]                     # (T, R, H) each
        return np.concatenate([local[:, :, :3] * d_c[:, :, None],
                               local[:, :, 3:] * d_h[:, :, None]], 2).reshape(T, R, 4 * H)

    @staticmethod
    def _adjoint_jacobians(U, local, via_h, f, out) -> None:
        """Write M_t, how s_t = (dh_t, dc_t) depends on s_{t+1}, into ``out`` (T, R, 2H, 2H),
        which holds zeros: M is zero at the last step.

        ``local[t, r, k]`` is d(pre-activation of gate k) per unit of dc_t (i, f, g) or dh_t (o).
        Written term by term into ``out``: no temporaries of M's size, no reduction over the
        short gate axis (both cost more than the arithmetic at these sizes).
        """
        H = local.shape[-1]
        UT = U.transpose(0, 2, 1).reshape(len(U), H, 4, H)    # (R, H, 4 gates, H)
        later = local[1:, :, None]                            # (T - 1, R, 1, 4, H): step t + 1
        dh, dc = out[:-1, :, :H], out[:-1, :, H:]             # rows for dh_t and for dc_t
        np.multiply(UT[:, :, 3], later[..., 3, :], out=dh[..., :H])   # via o_{t+1}: dh_{t+1}
        np.multiply(UT[:, :, 0], later[..., 0, :], out=dh[..., H:])   # via i, f, g: dc_{t+1}
        for gate in (1, 2):
            dh[..., H:] += UT[:, :, gate] * later[..., gate, :]
        np.multiply(via_h[:-1, :, :, None], dh, out=dc)       # dc_t gets dh_t's share too...
        diagonal = diagonal_blocks(dc[..., H:], H)[..., 0, 0]  # (1 x 1 blocks: the diagonal)
        diagonal += f[1:]                                     # ...and f_{t+1} dc_{t+1}

    def predict(self, p, inputs) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states (T + 1, R, H) and predicted distributions (T, R, K) for one sequence."""
        hidden, _, _ = self.states(p, inputs)
        return hidden, softmax_rows(hidden[1:], p["V"], p["c"])
