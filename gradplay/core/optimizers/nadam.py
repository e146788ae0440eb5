"""NAdam: Adam with Nesterov momentum and a momentum schedule (torch.optim.NAdam)."""
from __future__ import annotations

import numpy as np

from ..optim import Objective, _nonneg, moments_update, weight_decay_step
from .adam import AdamFamily


def nadam_update(theta: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray, step: int,
                 mu_product: float, *, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                 momentum_decay: float, decoupled: bool, work) -> float:
    """NAdam; returns the new μ product.

        input: γ (lr), β₁, β₂ (betas), ε (eps), λ (weight decay), ψ (momentum_decay), decoupled
        init:  m ← 0, v ← 0, Π ← 1
        for t = 1, 2, …:
            g ← ∇f(θ)
            if decoupled:  θ ← θ(1 − γλ)
            else:          g ← g + λθ
            μₜ ← β₁(1 − ½·0.96^(tψ)),  μₜ₊₁ ← β₁(1 − ½·0.96^((t+1)ψ))      (the momentum schedule)
            Π ← Π·μₜ
            m ← β₁m + (1 − β₁)g
            v ← β₂v + (1 − β₂)g²
            d ← √(v / (1 − β₂ᵗ)) + ε
            θ ← θ − γ(1 − μₜ)/(1 − Π) · g/d − γμₜ₊₁/(1 − Πμₜ₊₁) · m/d

    As torch (float64 scalars, as the exported script sets): m by lerp, the two updates in turn.
    """
    tmp, den = work.vec[0], work.vec[1]
    g = weight_decay_step(theta, grad, lr, weight_decay, decoupled, work)
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product *= mu
    moments_update(exp_avg, exp_avg_sq, g, beta1, beta2, work)
    bc2, e, *_ = work.fill(1 - beta2 ** step, eps)
    np.add(np.sqrt(np.divide(exp_avg_sq, bc2, den), den), e, den)
    # (fill reuses the same six scalars: the ones above are no longer needed)
    a, b, *_ = work.fill(-lr * (1.0 - mu) / (1.0 - mu_product), -lr * mu_next / (1.0 - mu_product * mu_next))
    np.add(theta, np.multiply(np.divide(g, den, tmp), a, tmp), theta)
    np.add(theta, np.multiply(np.divide(exp_avg, den, tmp), b, tmp), theta)
    return mu_product


class NAdam(AdamFamily):
    """torch.optim.NAdam. Update rule: `nadam_update`."""

    name = "nadam"
    torch_class = "NAdam"
    defaults = {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "momentum_decay": 4e-3,
                "decoupled_weight_decay": False}
    _rules = {"lr": _nonneg, "eps": _nonneg, "weight_decay": _nonneg, "momentum_decay": _nonneg}
    ranges = {"momentum_decay": (0.0, 1.0)}
    labels = {"momentum_decay": ("momentum decay", "ψ: the momentum schedule μₜ = β₁(1 − ½·0.96^(tψ)) rises "
                                 "towards β₁ the faster the larger ψ."),
              "decoupled_weight_decay": ("decoupled decay", "Decay θ directly (as AdamW), not through the "
                                         "gradient.")}
    _betas: tuple[float, float]
    _eps: float
    _weight_decay: float
    _momentum_decay: float
    _decoupled_weight_decay: bool

    def _setup(self) -> None:
        super()._setup()
        self.state["mu_product"] = 1.0

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        t = self.state["step"] = self.state["step"] + 1
        self.state["mu_product"] = nadam_update(
            theta, grad, self._m, self._v, t, float(self.state["mu_product"]), lr=self.lr, beta1=self._betas[0],
            beta2=self._betas[1], eps=self._eps, weight_decay=self._weight_decay,
            momentum_decay=self._momentum_decay, decoupled=self._decoupled_weight_decay, work=self._work)
