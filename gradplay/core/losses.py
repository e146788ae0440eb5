"""Losses on logits, each value next to its gradient and curvature; L1/L2 weight penalties; accuracy.

All losses are means over the batch. Single-output losses take logits `out` (n, 1) and targets
`y` (n,); `cross_entropy` takes logits (n, C) and integer class labels (n,). Labels are as the
loss consumes them: {0, 1} for bce, class index for cross_entropy, +-1 for hinge, real values for
mse / mae / huber (which also serve as classifiers on +-1 labels).

Next to each loss, `_<name>_hvp(out, y, r)` gives its curvature (d²L/dout²) r for a stack of logit
tangents r (..., n, C), which the exact Hessian needs (core/hessian.py). Where a loss is piecewise
linear (mae, hinge, huber's outer part) it curves 0, kinks included, as torch autograd computes it.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gradplay.core.nn import sigmoid

LOSSES: tuple[str, ...] = ("mse", "mae", "huber", "bce", "cross_entropy", "hinge")
HUBER_DELTA = 1.0

LossFn = Callable[[np.ndarray, np.ndarray], "tuple[float, np.ndarray]"]
LossHvp = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _residual(out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """out (n, 1), y (n,) or (n, 1) -> out - y as (n,)."""
    return out[:, 0] - y.reshape(-1)


def _mse(out, y):
    d = _residual(out, y)
    n = d.size
    return float(d @ d) / n, (2.0 / n * d)[:, None]


def _mse_hvp(out, y, r): return (2.0 / out.shape[0]) * r


def _mae(out, y):                                  # torch L1Loss: gradient sign(0) = 0
    d = _residual(out, y)
    n = d.size
    return float(np.abs(d).sum()) / n, (np.sign(d) / n)[:, None]


def _mae_hvp(out, y, r): return np.zeros_like(r)


def _huber(out, y):                                # torch HuberLoss(delta=1)
    d = _residual(out, y)
    n = d.size
    ad = np.abs(d)
    quad = ad < HUBER_DELTA
    value = np.where(quad, 0.5 * d * d, HUBER_DELTA * (ad - 0.5 * HUBER_DELTA)).sum() / n
    return float(value), (np.clip(d, -HUBER_DELTA, HUBER_DELTA) / n)[:, None]


def _huber_hvp(out, y, r):                         # 1 where |d| < delta (torch: strict), else 0
    quad = np.abs(_residual(out, y)) < HUBER_DELTA
    return (quad / out.shape[0])[:, None] * r


def _bce(out, y):                                  # torch BCEWithLogitsLoss
    x = out[:, 0]
    y = y.reshape(-1)
    n = x.size
    # log(1 + e^x) - x y and sigmoid(x), written so that exp never sees a positive argument
    e = np.exp(-np.abs(x))
    value = (np.maximum(x, 0.0) - x * y + np.log1p(e)).sum() / n
    p = np.where(x >= 0, 1.0, e) / (1.0 + e)
    return float(value), ((p - y) / n)[:, None]


def _bce_hvp(out, y, r):
    p = sigmoid(out[:, 0])
    return (p * (1.0 - p) / out.shape[0])[:, None] * r


def _cross_entropy(out, y):                        # torch CrossEntropyLoss on logits (n, C)
    n = out.shape[0]
    rows = np.arange(n)
    y = y.reshape(-1).astype(np.intp)
    shifted = out - out.max(axis=1, keepdims=True)   # log-sum-exp trick: largest exponent is 0
    e = np.exp(shifted)
    s = e.sum(axis=1)
    value = (np.log(s) - shifted[rows, y]).sum() / n
    grad = e / s[:, None]                           # softmax
    grad[rows, y] -= 1.0
    grad /= n
    return float(value), grad


def _cross_entropy_hvp(out, y, r):                 # (diag(p) - p pᵀ) r / n, row by row
    e = np.exp(out - out.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    pr = p * r
    return (pr - p * pr.sum(axis=-1, keepdims=True)) / out.shape[0]


def _hinge(out, y):                                # mean(max(0, 1 - y out)), labels +-1
    y = y.reshape(-1).astype(np.float64)
    margin = 1.0 - y * out[:, 0]
    n = margin.size
    active = margin > 0                            # strict: subgradient 0 at the kink
    return float(np.maximum(margin, 0.0).sum()) / n, (np.where(active, -y, 0.0) / n)[:, None]


def _hinge_hvp(out, y, r): return np.zeros_like(r)


_LOSS: dict[str, LossFn] = {"mse": _mse, "mae": _mae, "huber": _huber, "bce": _bce,
                            "cross_entropy": _cross_entropy, "hinge": _hinge}


def _check(name: str) -> None:
    if name not in _LOSS:
        raise ValueError(f"unknown loss {name!r}; allowed: {', '.join(LOSSES)}")


_LOSS_HVP: dict[str, LossHvp] = {"mse": _mse_hvp, "mae": _mae_hvp, "huber": _huber_hvp, "bce": _bce_hvp,
                                  "cross_entropy": _cross_entropy_hvp, "hinge": _hinge_hvp}


def loss_fn(name: str) -> LossFn:
    """The function (out, y) -> (value, dL/dout) for `name`, to resolve once outside a hot loop."""
    _check(name)
    return _LOSS[name]


def loss_and_grad(name: str, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean loss and dL/dout (same shape as out)."""
    return loss_fn(name)(out, y)


def loss_hvp(name: str, out: np.ndarray, y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(d²L/dout²) r: the change of dL/dout (n, C) along each logit tangent in r (..., n, C)."""
    _check(name)
    return _LOSS_HVP[name](out, y, r)


def regression_scores(mse: float, y: np.ndarray) -> tuple[float, float]:
    """(RMSE, R²) of a regression from its mean squared error (the mse loss, torch's MSELoss) and the
    targets it was measured on: √mse, and 1 − mse / Var(y) (the share of the targets' variance the
    model explains; nan without variance)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    var = float(np.mean((y - y.mean()) ** 2)) if y.size else math.nan
    return math.sqrt(mse) if mse >= 0 else math.nan, (1.0 - mse / var) if var > 0 else math.nan


def loss_value(name: str, out: np.ndarray, y: np.ndarray) -> float:
    """Mean loss only."""
    return loss_fn(name)(out, y)[0]


def penalty(theta: np.ndarray, weight_mask: np.ndarray, l1: float, l2: float) -> float:
    """l1 * sum|W| + l2 * sum W^2 over the entries of theta where weight_mask is True (not biases)."""
    if l1 == 0.0 and l2 == 0.0:
        return 0.0
    w = theta[weight_mask]
    return float(l1 * np.abs(w).sum() + l2 * (w @ w))


def add_penalty_grad(theta: np.ndarray, weight_mask: np.ndarray, l1: float, l2: float,
                     grad: np.ndarray) -> None:
    """In place: grad += l1 * sign(W) + 2 * l2 * W on weight entries only."""
    if l1 == 0.0 and l2 == 0.0:
        return
    w = theta[weight_mask]
    grad[weight_mask] += l1 * np.sign(w) + (2.0 * l2) * w


def add_penalty_hessian(weight_mask: np.ndarray, l2: float, hessian: np.ndarray) -> None:
    """In place: hessian (n, n) += 2 * l2 on the diagonal of weight entries, the curvature of the
    penalties. l1 adds none: |w| is piecewise linear (torch differentiates sign(w) to 0, at 0 too)."""
    if l2 == 0.0:
        return
    idx = np.flatnonzero(weight_mask)
    hessian[idx, idx] += 2.0 * l2


def class_pairs(name: str, out: np.ndarray, y: np.ndarray, regression: bool | None = None
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """(true, predicted) class index of each sample, or None when the targets are not class labels.

    bce: class 1 where out > 0 (P > ½); cross_entropy: argmax(out); hinge, mse, mae, huber on labels
    ±1: class 1 (label +1) where out > 0, else class 0 (label −1). For mse / mae / huber,
    `regression=None` detects the task from the labels: classification iff every label is -1 or +1;
    pass True / False to decide explicitly.
    """
    _check(name)
    y = y.reshape(-1)
    if y.size == 0:
        return None
    if name == "cross_entropy":
        return y.astype(np.int64), np.argmax(out, axis=1)
    if name not in ("bce", "hinge"):
        if regression is None:
            regression = not bool(np.all(np.abs(y) == 1.0))
        if regression:
            return None
    return (y > (0.5 if name == "bce" else 0.0)).astype(np.int64), (out[:, 0] > 0).astype(np.int64)


def accuracy(name: str, out: np.ndarray, y: np.ndarray, regression: bool | None = None) -> float | None:
    """Fraction of samples classified correctly (see `class_pairs`), or None when the targets are not
    class labels."""
    pairs = class_pairs(name, out, y, regression)
    return None if pairs is None else float(np.mean(pairs[0] == pairs[1]))


def confusion_matrix(name: str, out: np.ndarray, y: np.ndarray, n_classes: int,
                     regression: bool | None = None) -> np.ndarray | None:
    """(C, C) counts: row the true class, column the predicted one (scikit-learn's convention), so
    the diagonal holds the samples classified correctly and every row sums to its class's size.
    None when the targets are not class labels."""
    pairs = class_pairs(name, out, y, regression)
    if pairs is None:
        return None
    true, pred = pairs
    c = max(int(n_classes), 2)
    return np.bincount(true * c + pred, minlength=c * c).reshape(c, c)


def output_units(name: str, n_classes: int) -> int:
    """Logits the network needs for this loss: n_classes for cross_entropy, else 1."""
    _check(name)
    return int(n_classes) if name == "cross_entropy" else 1


def prediction(name: str, out: np.ndarray) -> np.ndarray:
    """What to show on the input plane: bce -> P(y=1) (n,); cross_entropy -> softmax (n, C);
    others -> the raw output out[:, 0] (n,)."""
    _check(name)
    if name == "bce":
        return sigmoid(out[:, 0])
    if name == "cross_entropy":
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return out[:, 0].copy()
