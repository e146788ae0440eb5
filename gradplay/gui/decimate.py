"""Fewer points for long curves (spikes kept), and only the points a log axis can show."""
from __future__ import annotations

import numpy as np


def decimate(x: np.ndarray, y: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """At most ~max_points of (x, y) keeping each bucket's min and max, so spikes survive.

    x must be sorted. Non-finite y are dropped first (they would break min/max and log plots).
    """
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y)
    if not keep.all():
        x, y = x[keep], y[keep]
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max(1, (max_points - 2) // 2)  # two points each, and the two ends
    k = -(-n // buckets)  # bucket size, rounded up
    pad = buckets * k - n
    yp = np.concatenate([y, np.full(pad, y[-1])]).reshape(buckets, k)
    base = np.arange(buckets) * k
    a, b = base + yp.argmin(axis=1), base + yp.argmax(axis=1)
    # min and max of each bucket in x order, buckets in order: sorted without np.unique's sort
    idx = np.minimum(np.column_stack([np.minimum(a, b), np.maximum(a, b)]).ravel(), n - 1)
    # and the ends: the curve starts at the first step and ends at the current one (a last bucket
    # whose min and max lay earlier ended the loss curve up to k − 1 steps short of the step shown)
    idx = np.r_[0, idx, n - 1]
    idx = idx[np.r_[True, idx[1:] != idx[:-1]]]
    return x[idx], y[idx]


def thin(x: np.ndarray, y: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th point of a smooth curve (and its last), at most ~max_points: a moving average has
    no spikes for `decimate`'s min/max buckets to keep, at a fraction of their cost."""
    k = -(-len(y) // max_points) if len(y) > max_points else 1
    if k == 1:
        return np.asarray(x), np.asarray(y)
    idx = np.r_[np.arange(0, len(y) - 1, k), len(y) - 1]
    return np.asarray(x)[idx], np.asarray(y)[idx]


def positive(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the points a log axis can show (finite and > 0)."""
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y) & (y > 0)
    return np.asarray(x)[keep], y[keep]
