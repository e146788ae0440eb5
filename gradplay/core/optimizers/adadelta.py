"""Adadelta: steps in the units of a running RMS of past steps (torch.optim.Adadelta)."""
from __future__ import annotations

import numpy as np

from ..optim import Objective, Optimizer, Workspace, _add_weight_decay, _nonneg


def adadelta_update(theta: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, acc_delta: np.ndarray,
                    *, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                    work: Workspace | None = None) -> None:
    """Adadelta: the step's units come from a running RMS of past steps, so lr 1.0 is the norm.

        input: γ (lr), ρ (decay), ε (eps), λ (weight decay)
        init:  v ← 0 (square avg), u ← 0 (accumulated updates)
        for t = 1, 2, …:
            g ← ∇f(θ) + λθ
            v ← ρv + (1 − ρ)g²
            Δ ← √(u + ε) / √(v + ε) · g
            u ← ρu + (1 − ρ)Δ²
            θ ← θ − γΔ
    """
    w = work or Workspace(theta.size)
    tmp, delta = w.vec[0], w.vec[1]
    g = _add_weight_decay(theta, grad, weight_decay, w) if weight_decay != 0 else grad
    r, c, e, gamma, *_ = w.fill(rho, 1 - rho, eps, lr)
    np.multiply(square_avg, r, square_avg)                                        # ρv
    np.add(square_avg, np.multiply(np.multiply(g, c, tmp), g, tmp), square_avg)   # + ((1 − ρ)g)g
    std = np.sqrt(np.add(square_avg, e, tmp), tmp)
    np.sqrt(np.add(acc_delta, e, delta), delta)
    np.multiply(np.divide(delta, std, delta), g, delta)                           # Δ
    np.multiply(acc_delta, r, acc_delta)
    np.add(acc_delta, np.multiply(np.multiply(delta, c, tmp), delta, tmp), acc_delta)
    np.subtract(theta, np.multiply(delta, gamma, delta), theta)


class Adadelta(Optimizer):
    """torch.optim.Adadelta. Update rule: `adadelta_update`."""

    name = "adadelta"
    torch_class = "Adadelta"
    state_names = ("square_avg", "acc_delta")
    defaults = {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}
    _rules = {"lr": _nonneg, "rho": lambda v: 0 <= v <= 1, "eps": _nonneg, "weight_decay": _nonneg}
    # `_<hyperparameter>` attributes are set by Optimizer.__init__ (setattr), state arrays by _setup
    _rho: float
    _eps: float
    _weight_decay: float
    _sq: np.ndarray
    _acc: np.ndarray

    def _setup(self) -> None:
        self._sq = self.state["square_avg"] = np.zeros(self.n_params)
        self._acc = self.state["acc_delta"] = np.zeros(self.n_params)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        self.state["step"] += 1
        adadelta_update(theta, grad, self._sq, self._acc, lr=self.lr, rho=self._rho, eps=self._eps,
                        weight_decay=self._weight_decay, work=self._work)
