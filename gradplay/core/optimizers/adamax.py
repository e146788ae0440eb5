"""Adamax: Adam with the infinity norm in place of the RMS (torch.optim.Adamax)."""
from __future__ import annotations

import numpy as np

from ..optim import Objective, _nonneg, weight_decay_step
from .adam import AdamFamily


def adamax_update(theta: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_inf: np.ndarray, step: int, *,
                  lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, work) -> None:
    """Adamax.

        input: γ (lr), β₁, β₂ (betas), ε (eps), λ (weight decay)
        init:  m ← 0, u ← 0
        for t = 1, 2, …:
            g ← ∇f(θ) + λθ
            m ← β₁m + (1 − β₁)g
            u ← max(β₂u, |g| + ε)
            θ ← θ − (γ / (1 − β₁ᵗ)) m / u

    As torch: m by lerp (m + (1 − β₁)(g − m)), ε added to |g| before the max.
    """
    tmp = work.vec[0]
    g = weight_decay_step(theta, grad, lr, weight_decay, False, work)
    c1, b2, e, clr, *_ = work.fill(1 - beta1, beta2, eps, lr / (1 - beta1 ** step))
    np.add(exp_avg, np.multiply(np.subtract(g, exp_avg, tmp), c1, tmp), exp_avg)
    np.multiply(exp_inf, b2, exp_inf)
    np.maximum(exp_inf, np.add(np.abs(g, tmp), e, tmp), out=exp_inf)
    np.subtract(theta, np.multiply(np.divide(exp_avg, exp_inf, tmp), clr, tmp), theta)


class Adamax(AdamFamily):
    """torch.optim.Adamax. Update rule: `adamax_update`."""

    name = "adamax"
    torch_class = "Adamax"
    state_names = ("exp_avg", "exp_inf")
    defaults = {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}
    _rules = {"lr": _nonneg, "eps": _nonneg, "weight_decay": _nonneg}
    _betas: tuple[float, float]
    _eps: float
    _weight_decay: float

    def _setup(self) -> None:  # torch's names: exp_avg and exp_inf (the infinity norm), no exp_avg_sq
        self._m = self.state["exp_avg"] = np.zeros(self.n_params)
        self._u = self.state["exp_inf"] = np.zeros(self.n_params)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        t = self.state["step"] = self.state["step"] + 1
        adamax_update(theta, grad, self._m, self._u, t, lr=self.lr, beta1=self._betas[0], beta2=self._betas[1],
                      eps=self._eps, weight_decay=self._weight_decay, work=self._work)
