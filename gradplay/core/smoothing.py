"""Exponential moving average of a per-step curve, as TensorBoard smooths its scalars.

    s₀ = 0
    sₜ = w · sₜ₋₁ + (1 − w) · xₜ
    ŝₜ = sₜ / (1 − wᵗ)        (debiased: the first points are not pulled towards 0)

w = 0 returns the curve itself; w → 1 averages over about 1 / (1 − w) points. Non-finite values
(a diverged step) are skipped: they neither enter the average nor break the rest of the curve,
and their own point is NaN, so a drawn curve shows a gap there.

`RunningEma` extends a growing curve (a training history) with its new points only.
"""
from __future__ import annotations

import functools
import math

import numpy as np

MAX_WEIGHT = 0.999
BLOCK = 64  # points per block of the blocked recurrence (a BLOCK×BLOCK product, then one carry each)
MAX_CARRY_BLOCKS = 128  # blocks whose carries are one product (a 128² matrix); beyond, a loop


def _check(weight: float) -> None:
    if not 0.0 <= weight <= MAX_WEIGHT:
        raise ValueError(f"smoothing weight must be in [0, {MAX_WEIGHT}], got {weight}")


def _prepare(values: np.ndarray, log: bool) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log10(np.where(x > 0, x, np.nan))
    return x


def _run(x: np.ndarray, w: float, s0: float, c0: int) -> tuple[np.ndarray, float, int]:
    """ŝ over finite x (NaN elsewhere), continuing from the raw state s0 after c0 finite points;
    returns (ŝ, s at the end, finite points counted at the end).

    In blocks: within a block sₜ is a product with the matrix T[i, j] = wⁱ⁻ʲ (j ≤ i), and the last s
    of a block carries into the next as wⁱ⁺¹ · s. A plain loop took ~0.3 µs a point: 70 ms a frame
    for six layers' two curves over a 20,000-step history."""
    out = np.full(x.shape, np.nan)
    keep = np.isfinite(x)
    f = x[keep]
    n = len(f)
    if n == 0:
        return out, s0, c0
    if w == 0.0:
        out[keep] = f
        return out, float(f[-1]), c0 + n
    X = np.concatenate([f, np.zeros(-n % BLOCK)]).reshape(-1, BLOCK)
    S = X @ _block_matrix(w).T  # each block's averages as if it started from s = 0
    # The carries: C_k = E_k + w^B · C_(k−1), C_(−1) = s0, E_k the zero-start end of block k; the same
    # product one level up while the blocks are few (a per-block loop cost ~0.3 ms per 5,000 points)
    nb, wb, ends = len(S), w**BLOCK, S[:, -1].copy()
    kb = np.arange(nb)
    if nb <= MAX_CARRY_BLOCKS:
        carries = np.tril(_powers(wb, np.maximum(kb[:, None] - kb[None, :], 0))) @ ends + _powers(wb, kb + 1) * s0
    else:
        carries, c = np.empty(nb), s0
        for i in range(nb):
            c = carries[i] = ends[i] + wb * c
    S += np.r_[s0, carries[:-1]][:, None] * _powers(w, np.arange(BLOCK) + 1)[None, :]
    s = S.ravel()[:n]
    out[keep] = s / (1.0 - _powers(w, np.arange(c0 + 1, c0 + n + 1)))
    return out, float(s[-1]), c0 + n


def _powers(w: float, k: np.ndarray) -> np.ndarray:
    """w**k for integers k >= 0, read from a cached table (numpy's float power took 150 µs per
    5,000 values, which was most of an average's cost); beyond the table w**k is below 1e-40: 0."""
    table = _power_table(w)
    k = np.asarray(k)
    return np.where(k < len(table), table[np.minimum(k, len(table) - 1)], 0.0)


@functools.lru_cache(maxsize=16)
def _power_table(w: float) -> np.ndarray:
    """w**0, w**1, ... down to 1e-40 (at most 10**6 values)."""
    if w <= 0.0:
        return np.array([1.0])
    size = int(min(10**6, math.ceil(-40.0 / math.log10(w)) + 1)) if w < 1.0 else 10**6
    with np.errstate(under="ignore"):
        return np.exp(np.arange(size) * math.log(w))


@functools.lru_cache(maxsize=8)
def _block_matrix(w: float) -> np.ndarray:
    """(1 − w) · T, T[i, j] = wⁱ⁻ʲ for j ≤ i (0 above): one block of the recurrence from s = 0."""
    k = np.arange(BLOCK)
    return (1.0 - w) * np.tril(_powers(w, np.maximum(k[:, None] - k[None, :], 0)))


def ema(values: np.ndarray, weight: float, log: bool = False) -> np.ndarray:
    """The debiased EMA of `values` (1-D) with smoothing `weight` in [0, MAX_WEIGHT].

    `log`: average log10 of the values and return 10**average (for curves drawn on a log axis,
    where a linear average is pulled up by single spikes); values ≤ 0 are then skipped too.
    """
    _check(weight)
    out = _run(_prepare(values, log), weight, 0.0, 0)[0]
    return 10.0**out if log else out


class RunningEma:
    """`ema` of a history that grows between calls: only the new points are averaged.

    A call with the steps of the last call (or a subset of them that keeps the last one: a
    History thinned to its capacity) followed by new ones reuses the cached averages of the rows
    it kept and averages the new rows only; the kept rows' averages are then those of the full
    stream, as before the thinning. Anything else (a reset, another weight, another value at the
    last cached step) starts again from the first point. A History thinned every few frames at
    full speed made every frame recompute the whole curve (10 ms a frame for six curves).
    `log`: averaged in log10, and returned as log10 values (what a log axis plots) when `as_log10`."""

    def __init__(self, log: bool = False, as_log10: bool = False) -> None:
        self.log = log
        self.as_log10 = log and as_log10
        self._key: tuple | None = None  # (weight, last step, its value) of the cached curve
        self._steps = np.empty(0, dtype=np.int64)
        self._out = np.empty(0)
        self._s, self._c = 0.0, 0

    def _kept(self, steps: np.ndarray, values: np.ndarray, weight: float) -> int:
        """How many leading rows of `steps` are cached rows, up to and including the last (0: none)."""
        key = self._key
        if key is None or key[0] != weight:
            return 0
        m = int(np.searchsorted(steps, key[1], side="right"))
        if m == 0 or steps[m - 1] != key[1] or not (values[m - 1] == key[2] or values[m - 1] != values[m - 1]):
            return 0
        idx = np.searchsorted(self._steps, steps[:m])
        if idx[-1] >= len(self._steps) or not np.array_equal(self._steps[idx], steps[:m]):
            return 0
        self._prefix = idx
        return m

    def __call__(self, steps: np.ndarray, values: np.ndarray, weight: float) -> np.ndarray:
        _check(weight)
        steps = np.asarray(steps)
        values = np.asarray(values, dtype=np.float64)
        start = self._kept(steps, values, weight) if len(steps) else 0
        if start:
            prefix = self._out[self._prefix]
        else:
            prefix, self._s, self._c = np.empty(0), 0.0, 0
        new, self._s, self._c = _run(_prepare(values[start:], self.log), weight, self._s, self._c)
        self._out = np.concatenate([prefix, 10.0**new if self.log and not self.as_log10 else new])
        self._steps = steps.copy()
        self._key = (weight, int(steps[-1]), float(values[-1])) if len(steps) else None
        return self._out
