"""RAdam: Adam whose adaptive step is switched on as the variance estimate becomes reliable
(torch.optim.RAdam)."""
from __future__ import annotations

import numpy as np

from ..optim import Objective, _nonneg, moments_update, weight_decay_step
from .adam import AdamFamily


def radam_update(theta: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray, step: int, *,
                 lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, decoupled: bool,
                 work) -> None:
    """RAdam (rectified Adam).

        input: γ (lr), β₁, β₂ (betas), ε (eps), λ (weight decay), decoupled
        init:  m ← 0, v ← 0, ρ∞ ← 2/(1 − β₂) − 1
        for t = 1, 2, …:
            g ← ∇f(θ)
            if decoupled:  θ ← θ(1 − γλ)
            else:          g ← g + λθ
            m ← β₁m + (1 − β₁)g
            v ← β₂v + (1 − β₂)g²
            m̂ ← m / (1 − β₁ᵗ)
            ρₜ ← ρ∞ − 2tβ₂ᵗ / (1 − β₂ᵗ)                (the length of the approximated moving average)
            if ρₜ > 5:  r ← √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
                        θ ← θ − γ m̂ · r · √(1 − β₂ᵗ) / (√v + ε)
            else:       θ ← θ − γ m̂                   (too few steps to trust v: SGD with momentum)

    As torch: m by lerp, m̂·γ·(adaptive)·r multiplied in that order.
    """
    tmp, step_v = work.vec[0], work.vec[1]
    g = weight_decay_step(theta, grad, lr, weight_decay, decoupled, work)
    bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
    moments_update(exp_avg, exp_avg_sq, g, beta1, beta2, work)
    b1c, lr_, *_ = work.fill(bc1, lr)
    np.multiply(np.divide(exp_avg, b1c, step_v), lr_, step_v)  # m̂ · γ
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        sq, r, e, *_ = work.fill(bc2 ** 0.5, rect, eps)  # (fill reuses the six scalars above)
        np.divide(sq, np.add(np.sqrt(exp_avg_sq, tmp), e, tmp), tmp)  # √(1 − β₂ᵗ) / (√v + ε)
        np.multiply(np.multiply(step_v, tmp, step_v), r, step_v)
    np.subtract(theta, step_v, theta)


class RAdam(AdamFamily):
    """torch.optim.RAdam. Update rule: `radam_update`."""

    name = "radam"
    torch_class = "RAdam"
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                "decoupled_weight_decay": False}
    _rules = {"lr": _nonneg, "eps": _nonneg, "weight_decay": _nonneg}
    labels = {"decoupled_weight_decay": ("decoupled decay", "Decay θ directly (as AdamW), not through the "
                                         "gradient.")}
    _betas: tuple[float, float]
    _eps: float
    _weight_decay: float
    _decoupled_weight_decay: bool

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        t = self.state["step"] = self.state["step"] + 1
        radam_update(theta, grad, self._m, self._v, t, lr=self.lr, beta1=self._betas[0], beta2=self._betas[1],
                     eps=self._eps, weight_decay=self._weight_decay, decoupled=self._decoupled_weight_decay,
                     work=self._work)
