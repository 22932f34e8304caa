"""The training languages a^n b^2n and a^n b^2n c^3n: sequences, targets and block states.

A sequence is ``blocks`` blocks, each with its own n drawn uniformly from 1..max_n, then one
final A. Many sequences are generated at once and laid end to end, because building them one
by one in Python would cost more than training on them.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

A, B = 0, 1  # symbol ids, in the order of SYMBOLS
SYMBOLS = "ABC"
LANGUAGES = {"anb2n": (1, 2), "anb2nc3n": (1, 2, 3)}  # run length of each symbol, in units of n
AFTER_A = (0.8, 0.2)  # the course's target P(A), P(B) after an A: the net cannot know n


@dataclass(frozen=True)
class Sequence:
    """One sequence as the net sees it: step t reads ``inputs[t]`` and predicts ``labels[t]``."""

    inputs: np.ndarray   # (T,) symbol ids, the sequence without its last symbol
    labels: np.ndarray   # (T,) symbol ids, the sequence without its first symbol
    targets: np.ndarray  # (T, K) target next-symbol distribution, rows sum to 1
    states: np.ndarray   # (T,) position of inputs[t] within its block, 0 = the block's first A
    block_n: np.ndarray  # (T,) the n of the block that inputs[t] belongs to

    def subset(self, keep: np.ndarray) -> Sequence:
        """The positions where ``keep`` (T,) is True, as a Sequence of positions."""
        return Sequence(*(getattr(self, f.name)[keep] for f in fields(self)))

    @staticmethod
    def pool(sequences: list[Sequence]) -> Sequence:
        """All positions of many sequences as one long Sequence (every field is per position)."""
        return Sequence(*(np.concatenate([getattr(s, f.name) for s in sequences])
                          for f in fields(Sequence)))


@dataclass(frozen=True)
class Sequences:
    """Sequences laid end to end: sequence i is ``symbols[offsets[i]:offsets[i + 1]]``."""

    symbols: np.ndarray  # (total,) symbol ids
    offsets: np.ndarray  # (count + 1,) start of each sequence, then the total length
    states: np.ndarray   # (total,) position within the block; the final A starts a new one (0)
    block_n: np.ndarray  # (total,) n of the symbol's block; 0 for each final A
    num_symbols: int

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> Sequence:
        start, stop = self.offsets[i], self.offsets[i + 1]
        symbols = self.symbols[start:stop]
        return Sequence(symbols[:-1], symbols[1:],
                        target_distribution(symbols[:-1], symbols[1:], self.num_symbols),
                        self.states[start:stop - 1], self.block_n[start:stop - 1])


def generate(language: str, rng: np.random.Generator, count: int, max_n: int,
             blocks: int = 5) -> Sequences:
    """``count`` fresh sequences, each block's n uniform on 1..max_n."""
    return from_block_ns(language, rng.integers(1, max_n + 1, size=(count, blocks)))


def from_block_ns(language: str, ns) -> Sequences:
    """The sequences whose blocks have the given n's: ``ns`` is (count, blocks)."""
    ns = np.asarray(ns, dtype=np.int64)                              # (count, blocks)
    mults = np.array(LANGUAGES[language])                            # (K,)
    count, blocks = ns.shape
    runs = (ns[:, :, None] * mults).reshape(count, -1)               # (count, blocks * K)
    runs = np.concatenate([runs, np.ones((count, 1), np.int64)], 1)  # the final A is a run of 1
    run_symbols = np.tile(np.r_[np.tile(np.arange(len(mults)), blocks), A], count)
    run_block_n = np.concatenate([np.repeat(ns, len(mults), 1), np.zeros((count, 1), np.int64)], 1)
    symbols = np.repeat(run_symbols, runs.ravel())
    lengths = runs.sum(1)
    offsets = np.r_[0, np.cumsum(lengths)]
    return Sequences(symbols, offsets, _block_positions(symbols, offsets),
                     np.repeat(run_block_n.ravel(), runs.ravel()), len(mults))


def _block_positions(symbols: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How far each symbol is into its block; a block starts at a sequence's start or at an
    A that follows a non-A."""
    starts = (symbols == A) & (np.r_[-1, symbols[:-1]] != A)          # (total,)
    starts[offsets[:-1]] = True
    first = np.flatnonzero(starts)
    return np.arange(len(symbols)) - first[np.cumsum(starts) - 1]


def target_distribution(inputs: np.ndarray, labels: np.ndarray, num_symbols: int) -> np.ndarray:
    """(T, K) targets: after an A, A 0.8 / B 0.2; after a B or C the next symbol is certain."""
    targets = np.eye(num_symbols)[labels]
    targets[inputs == A] = np.r_[AFTER_A, np.zeros(num_symbols - 2)]
    return targets


def deterministic(inputs: np.ndarray) -> np.ndarray:
    """(T,) True where the next symbol is certain: after every B and every C.

    That is every B after the first of its run, every C, and the A after the last B (anb2n)
    or after the last C (anb2nc3n).
    """
    return inputs != A

