"""Gradient check: backpropagation against finite differences, per layer and per parameter block.

The check evaluates the same loss the session trains on (batch loss plus L1/L2 penalties, batch
norm in train mode on one fixed batch, so the batch statistics are part of the function; dropout
with the masks of the session's next step, fixed for every evaluation, core/dropout.py), at
parameters θ ± kh·eᵢ, with the fourth-order central stencil

    ∂L/∂θᵢ ≈ (−L(θ + 2heᵢ) + 8L(θ + heᵢ) − 8L(θ − heᵢ) + L(θ − 2heᵢ)) / 12h,   h = 1e-4.

Why that stencil: the plain two-point quotient needs h ≈ 1e-6 to keep its O(h²) truncation small,
and then rounding (≈ 1e-16·|L| / h ≈ 1e-10) swamps the many gradients of size 1e-5 in a small net.
With four points the truncation is O(h⁴) ≈ 1e-16 and rounding ≈ 1e-12·|L|, so agreement is
visible down to gradients of about 1e-6. The stencil also detects kinks for free: its two inner
quotients (steps h and 2h) agree to O(h²) where L is smooth and disagree at O(1) when a ReLU, hinge
or |w| kink lies within ±2h; such entries are recomputed with h/100 and counted in `kinks`.

The loss is `objective.BatchObjective`, the one shared with the curvature probes and the diagnostics:
every evaluation leaves the session exactly as it was (θ, grad, running statistics, caches).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .objective import BatchObjective

RTOL_GOOD = 1e-5   # backprop and finite differences agree (CS231n: < 1e-7 great, < 1e-5 fine)
RTOL_KINK = 1e-3   # plausible near a kink or for a tiny gradient; larger means a real disagreement


def default_batch(session) -> np.ndarray | None:
    """Indices of "the current batch": the last step's batch, else the first batch_size training
    points (the training set is stored shuffled); None means the full training set."""
    if session.last_batch is not None:
        return np.asarray(session.last_batch)
    if session.batch_size >= session.n_train:
        return None
    return np.arange(session.batch_size)


@dataclass
class BlockCheck:
    """One parameter block (W1, b1, gamma1, ...): sizes and the worst disagreement in it."""

    name: str
    layer: int           # 1-based dense layer the block belongs to
    size: int
    checked: int         # entries compared (all, unless sampled)
    kinks: int           # entries whose finite-difference step still straddles a kink
    max_abs_err: float
    max_rel_err: float
    grad_norm: float     # ‖backprop gradient‖ of the checked entries


@dataclass
class GradCheck:
    """Result of `gradcheck`: one row per block, worst relative error per layer, a verdict."""

    blocks: list[BlockCheck]
    layer_rel_err: np.ndarray    # (n_layers,) max relative error per dense layer
    max_rel_err: float
    message: str
    analytic: np.ndarray = field(repr=False)   # (n_checked,) backprop values, θ order
    numeric: np.ndarray = field(repr=False)    # (n_checked,) finite-difference values
    cancelled: bool = False                    # stopped by `progress`: the blocks are incomplete

    @property
    def ok(self) -> bool:
        return self.max_rel_err < RTOL_GOOD

    def table(self) -> str:
        """Plain-text table, one line per block."""
        rows = [f"{'block':<8}{'layer':>6}{'checked':>9}{'kinks':>7}{'max abs err':>13}{'max rel err':>13}"]
        rows += [f"{b.name:<8}{b.layer:>6}{b.checked:>9}{b.kinks:>7}{b.max_abs_err:>13.2e}"
                 f"{b.max_rel_err:>13.2e}" for b in self.blocks]
        return "\n".join(rows)


def relative_error(a: np.ndarray, n: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """|a − n| / max(|a|, |n|, floor), elementwise. Below `floor` the comparison is absolute, since
    the difference quotient cannot resolve gradients near its rounding error (≈ 1e-12·|L|); the
    check passes floor = 1e-6·max(1, |L|)."""
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def gradcheck(session, idx: np.ndarray | None = None, h: float = 1e-4, max_per_block: int | None = None,
              seed: int = 0, progress: Callable[[int, int], bool | None] | None = None) -> GradCheck:
    """Compare backprop with finite differences for the session's current network and one batch.

    idx: training-set indices of the batch (default `default_batch(session)`). max_per_block: check
    at most this many randomly chosen entries of each block (None: all; 4 losses per entry).
    progress(done, total) is called after each entry; False stops the check (the result then has
    `cancelled` set). The session is left exactly as it was.
    """
    loss = BatchObjective.of_session(session, default_batch(session) if idx is None else idx)
    model = loss.model
    theta = model.theta.copy()
    value, analytic_all = loss.value_and_grad(theta)
    floor = 1e-6 * max(1.0, abs(value))
    rng = np.random.default_rng(seed)
    blocks, a_parts, n_parts = [], [], []
    chosen, offset = [], 0
    for name, view in model.params().items():
        entries = np.arange(offset, offset + view.size)
        if max_per_block is not None and view.size > max_per_block:
            entries = np.sort(rng.choice(entries, max_per_block, replace=False))
        chosen.append((name, view.size, entries))
        offset += view.size
    total, done, cancelled = sum(e.size for _, _, e in chosen), 0, False
    for name, size, entries in chosen:
        quotients = []
        for i in entries:
            quotients.append(_difference_quotient(loss, theta, i, h))
            done += 1
            if progress is not None and progress(done, total) is False:
                cancelled = True
                break
        if cancelled:
            break
        numeric = np.array([q[0] for q in quotients])
        analytic = analytic_all[entries]
        err = np.abs(analytic - numeric)
        blocks.append(BlockCheck(name, int(re.sub(r"\D", "", name)), size, entries.size,
                                 sum(q[1] for q in quotients), float(err.max(initial=0.0)),
                                 float(relative_error(analytic, numeric, floor).max(initial=0.0)),
                                 float(np.linalg.norm(analytic))))
        a_parts.append(analytic)
        n_parts.append(numeric)
    layer_err = np.zeros(model.n_layers)
    for b in blocks:
        layer_err[b.layer - 1] = max(layer_err[b.layer - 1], b.max_rel_err)
    worst = float(layer_err.max())
    message = "Cancelled." if cancelled or not blocks else _message(blocks, worst)
    return GradCheck(blocks, layer_err, worst, message, np.concatenate(a_parts or [np.empty(0)]),
                     np.concatenate(n_parts or [np.empty(0)]), cancelled)


def _difference_quotient(loss: BatchObjective, theta: np.ndarray, i: int | np.integer, h: float,
                         retry: bool = True) -> tuple[float, bool]:
    """Fourth-order central difference of the loss along coordinate i, and whether a kink lies
    within ±2h (then retried once with h/100)."""
    x = theta.copy()
    f = []
    for k in (2, 1, -1, -2):
        x[i] = theta[i] + k * h
        f.append(loss.value(x))
    d_h, d_2h = (f[1] - f[2]) / (2.0 * h), (f[0] - f[3]) / (4.0 * h)
    if abs(d_h - d_2h) > 1e-3 * max(abs(d_h), abs(d_2h)) + 1e-9:
        if retry:
            return _difference_quotient(loss, theta, i, h / 100.0, retry=False)
        return (4.0 * d_h - d_2h) / 3.0, True
    return (4.0 * d_h - d_2h) / 3.0, False   # Richardson: = (−f₂ + 8f₁ − 8f₋₁ + f₋₂) / 12h


def _message(blocks: list[BlockCheck], worst: float) -> str:
    bad = max(blocks, key=lambda b: b.max_rel_err)
    if worst < RTOL_GOOD:
        return (f"Backpropagation agrees with finite differences: the largest relative error is "
                f"{worst:.1e} (below {RTOL_GOOD:.0e}) in every layer.")
    if worst < RTOL_KINK:
        return (f"Close agreement: the largest relative error is {worst:.1e}, in {bad.name}. Errors of "
                f"this size come from a finite-difference step crossing a kink (ReLU, hinge, L1 at 0) "
                f"or from gradients too small to resolve; they are not a bug.")
    return (f"{bad.name} disagrees: relative error {worst:.1e}. A single entry this far off usually means "
            f"the step crossed a kink (ReLU at 0); errors across a whole block would mean a wrong gradient.")
