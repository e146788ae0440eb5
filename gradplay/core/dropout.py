"""Inverted dropout's masks: which hidden units a training pass drops, as a pure function of the step.

A hidden layer with dropout probability p multiplies its output (after batch norm and the
activation) by m = keep / (1 − p), keep being 0 or 1, in training passes only; evaluation (test
loss, accuracy, maps, predictions) never drops. Backpropagation multiplies by the same m. This is
torch.nn.functional.dropout's rule: its CPU kernel also multiplies by a noise tensor that holds
bernoulli(1 − p) / (1 − p).

Which units are kept is decided by a counter-based hash, not by a random generator with state:

    key   = the dropout stream of the config's seed (`stream_key`)
    k1    = mix(key + G·(step + 1))          the step: the session's step counter, from 0
    k2    = mix(k1 + G·(layer + 1))          the hidden layer, from 0
    u     = (mix(k2 + G·(e + 1)) >> 11)·2⁻⁵³  e = row·width + unit, the row's position in the batch
    keep  = u ≥ p

with mix the finaliser of SplitMix64 (Steele, Lea & Flood 2014; the seeding function of Java's
SplittableRandom and of xoshiro) and G its odd constant 0x9E3779B97F4A7C15, all arithmetic on
unsigned 64-bit integers modulo 2⁶⁴; u is uniform on [0, 1) in steps of 2⁻⁵³. Why a hash:

- the numpy reference, the Numba kernel and the exported PyTorch script compute the same integers
  with the same operations (wrapping multiply, xor, shift), so their masks agree bit for bit;
- a mask depends on nothing but (seed, step, layer, row, unit): no generator state to save, so
  save/continue, snapshot/restore, clones and races repeat with nothing added, and the existing
  streams (init, data, batch: session.make_streams) are untouched, so every run without dropout
  keeps its bits;
- every evaluation at one step sees the same masks, so the training objective of a step (the
  gradient check, the curvature probes, L-BFGS's several evaluations, Newton's exact Hessian) is a
  deterministic function of θ.

Rows are counted by their position in the step's batch (not their index in the training set), so a
mask is the same whatever rows fill the batch; the batch order is already random.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment (2⁶⁴ / φ, odd)
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
STREAM = 3  # the seed's child after make_streams' init (0), data (1) and batch (2)
MAX_P = 0.95  # the GUI's largest; a config may go up to (not including) 1

_U64 = np.uint64


def stream_key(seed: int) -> int:
    """The dropout stream's 64-bit key for a config seed: a child of the seed's SeedSequence, as the
    session's other streams are (spawn key 3, after init, data and batch)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(STREAM,))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def mix(z: np.ndarray | np.uint64) -> np.ndarray | np.uint64:
    """SplitMix64's finaliser on uint64 (an array or a scalar), wrapping modulo 2⁶⁴."""
    z = (z ^ (z >> _U64(30))) * _U64(MIX1)
    z = (z ^ (z >> _U64(27))) * _U64(MIX2)
    return z ^ (z >> _U64(31))


def layer_key(key: int, step: int, layer: int) -> int:
    """k2 of the module docstring: the key of one hidden layer's mask at one step."""
    with np.errstate(over="ignore"):
        g = _U64(GOLDEN)
        k1 = mix(_U64(key) + g * _U64(step + 1))
        return int(mix(k1 + g * _U64(layer + 1)))


def uniforms(key: int, step: int, layer: int, rows: int, width: int) -> np.ndarray:
    """(rows, width) uniforms u in [0, 1) of one hidden layer at one step."""
    with np.errstate(over="ignore"):
        e = np.arange(1, rows * width + 1, dtype=np.uint64)
        z = mix(_U64(layer_key(key, step, layer)) + e * _U64(GOLDEN))
    return ((z >> _U64(11)).astype(np.float64) * 2.0 ** -53).reshape(rows, width)


def scale(p: float) -> float:
    """What a kept unit is multiplied by: 1 / (1 − p)."""
    return 1.0 / (1.0 - p)


def mask(key: int, step: int, layer: int, rows: int, width: int, p: float) -> np.ndarray:
    """(rows, width) multipliers of one hidden layer at one step: 1/(1 − p) where kept, else 0."""
    return np.where(uniforms(key, step, layer, rows, width) >= p, scale(p), 0.0)


def check_p(p: float, key: str = "dropout") -> float:
    """p itself if 0 ≤ p < 1; ValueError in torch's words otherwise."""
    if not (isinstance(p, (int, float)) and not isinstance(p, bool) and 0.0 <= p < 1.0):
        raise ValueError(f"{key}: dropout probability has to be between 0 and 1 (1 excluded), but got {p!r}")
    return float(p)


def layer_probabilities(dropout: float | Sequence[float], n_hidden: int) -> tuple[float, ...]:
    """One probability per hidden layer: `dropout` is one for all, or a sequence of them."""
    if isinstance(dropout, (int, float)):
        return (check_p(dropout),) * n_hidden
    ps = tuple(check_p(p, f"dropout[{i}]") for i, p in enumerate(dropout))
    if len(ps) != n_hidden:
        raise ValueError(f"dropout: {len(ps)} probabilities for {n_hidden} hidden layers; give one per layer")
    return ps


# The mask in torch int64 operations, for the exported script. torch has no unsigned 64-bit
# arithmetic; int64 holds the same bits: + and * wrap alike and ^ is bitwise, but >> shifts the
# sign in, so a logical shift masks the high bits off. Checked against `mask` in the tests.
TORCH_SOURCE = '''\
def _u64(c):
    """An unsigned 64-bit constant as the int64 tensor with the same bits."""
    return torch.tensor(c - (1 << 64) if c >= 1 << 63 else c, dtype=torch.int64)


_GOLDEN, _MIX1, _MIX2 = _u64(0x9E3779B97F4A7C15), _u64(0xBF58476D1CE4E5B9), _u64(0x94D049BB133111EB)
DROPOUT_STEP = {"step": 0}  # the step whose masks training passes use; main() sets it before each step


def _shr(z, k):
    """Logical right shift of int64 bits (>> alone would shift the sign bit in)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def _mix(z):
    """SplitMix64's finaliser, wrapping modulo 2**64 like gradplay's uint64 arithmetic."""
    z = (z ^ _shr(z, 30)) * _MIX1
    z = (z ^ _shr(z, 27)) * _MIX2
    return z ^ _shr(z, 31)


def dropout_mask(step, layer, rows, width, p):
    """gradplay's inverted-dropout multipliers of hidden layer `layer` (from 0) at step `step`:
    1 / (1 - p) where the hash u of (seed, step, layer, row, unit) is >= p, else 0."""
    k1 = _mix(_u64(DROPOUT_KEY) + _GOLDEN * (step + 1))
    k2 = _mix(k1 + _GOLDEN * (layer + 1))
    e = torch.arange(1, rows * width + 1, dtype=torch.int64)
    u = _shr(_mix(k2 + e * _GOLDEN), 11).to(torch.float64) * 2.0 ** -53
    return ((u >= p).to(torch.float64) * (1.0 / (1.0 - p))).reshape(rows, width)


class HashDropout(nn.Module):
    """Inverted dropout with gradplay's masks: x * mask in training, x itself in eval mode."""

    def __init__(self, p, layer):
        super().__init__()
        self.p, self.layer = p, layer

    def forward(self, x):
        if not self.training:
            return x
        return x * dropout_mask(DROPOUT_STEP["step"], self.layer, x.shape[0], x.shape[1], self.p)
'''
