"""Adam and AdamW (torch.optim.Adam, torch.optim.AdamW), and `AdamFamily`, the base of the optimizers
with Adam's betas and two running moments (NAdam, RAdam, Adamax)."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..optim import Objective, Optimizer, Workspace, _nonneg, betas_pair, weight_decay_step


def adam_update(theta: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
                step: int, *, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                weight_decay: float = 0.0, amsgrad: bool = False,
                max_exp_avg_sq: np.ndarray | None = None, decoupled: bool = False,
                work: Workspace | None = None) -> None:
    """Adam (and AdamW with `decoupled=True`): momentum over a per-coordinate RMS scale.

        input: γ (lr), β₁, β₂ (betas), ε (eps), λ (weight decay), amsgrad, decoupled
        init:  m ← 0, v ← 0, v_max ← 0
        for t = 1, 2, …:
            g ← ∇f(θ)
            if decoupled:  θ ← θ(1 − γλ)             (AdamW: decay acts on θ, not through m and v)
            else:          g ← g + λθ                (Adam: L2 penalty in the gradient)
            m ← β₁m + (1 − β₁)g
            v ← β₂v + (1 − β₂)g²
            m̂ ← m / (1 − β₁ᵗ)                        (bias corrections: m and v start at 0)
            if amsgrad:  v_max ← max(v_max, v);  v̂ ← v_max / (1 − β₂ᵗ)
            else:        v̂ ← v / (1 − β₂ᵗ)
            θ ← θ − γ m̂ / (√v̂ + ε)

    Computed as torch does: θ ← θ − (γ / (1 − β₁ᵗ)) m / (√v / √(1 − β₂ᵗ) + ε).
    `step` is t (1 for the first update).
    """
    w = work or Workspace(theta.size)
    tmp, num = w.vec[0], w.vec[1]
    g = weight_decay_step(theta, grad, lr, weight_decay, decoupled, w)
    c1, b2, c2, e, step_size, bc2_sqrt = w.fill(
        1 - beta1, beta2, 1 - beta2, eps, lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5)
    np.add(exp_avg, np.multiply(np.subtract(g, exp_avg, tmp), c1, tmp), exp_avg)  # m + (1 − β₁)(g − m)
    np.multiply(exp_avg_sq, b2, exp_avg_sq)                                        # β₂v
    np.add(exp_avg_sq, np.multiply(np.multiply(g, c2, tmp), g, tmp), exp_avg_sq)   # + ((1 − β₂)g)g
    if amsgrad:
        assert max_exp_avg_sq is not None  # the caller passes v_max when amsgrad
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq, tmp)
    else:
        denom = np.sqrt(exp_avg_sq, tmp)
    np.add(np.divide(denom, bc2_sqrt, denom), e, denom)           # √v / √(1 − β₂ᵗ) + ε
    np.divide(np.multiply(exp_avg, step_size, num), denom, num)   # (γ / (1 − β₁ᵗ)) m / denom
    np.subtract(theta, num, theta)


class AdamFamily(Optimizer):
    """Optimizers with Adam's betas and its two running moments `exp_avg` and `exp_avg_sq` (Adam,
    NAdam, RAdam); `_m` and `_v` are those arrays."""

    state_names: ClassVar[tuple[str, ...]] = ("exp_avg", "exp_avg_sq")
    _betas: tuple[float, float]
    _m: np.ndarray
    _v: np.ndarray

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        h = super()._validate(h)
        h["betas"] = betas_pair(self.name, h["betas"])
        return h

    def _setup(self) -> None:
        self._m = self.state["exp_avg"] = np.zeros(self.n_params)
        self._v = self.state["exp_avg_sq"] = np.zeros(self.n_params)


class Adam(AdamFamily):
    """torch.optim.Adam, weight decay coupled (added to the gradient). Update rule: `adam_update`."""

    name = "adam"
    torch_class = "Adam"
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")  # the last with amsgrad
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}
    _rules = {"lr": _nonneg, "eps": _nonneg, "weight_decay": _nonneg}
    decoupled: ClassVar[bool] = False  # AdamW's weight decay (no hyperparameter: a class of its own, as torch)
    # `_<hyperparameter>` attributes are set by Optimizer.__init__ (setattr), state arrays by _setup
    _eps: float
    _weight_decay: float
    _amsgrad: bool
    _beta1: float
    _beta2: float
    _vmax: np.ndarray | None

    def _setup(self) -> None:
        super()._setup()
        self._beta1, self._beta2 = self._betas
        self._vmax = None
        if self._amsgrad:
            self._vmax = self.state["max_exp_avg_sq"] = np.zeros(self.n_params)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        t = self.state["step"] = self.state["step"] + 1
        adam_update(theta, grad, self._m, self._v, t, lr=self.lr, beta1=self._beta1, beta2=self._beta2,
                    eps=self._eps, weight_decay=self._weight_decay, amsgrad=self._amsgrad,
                    max_exp_avg_sq=self._vmax, decoupled=self.decoupled, work=self._work)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay θ ← θ(1 − γλ), default λ = 0.01."""

    name = "adamw"
    torch_class = "AdamW"
    defaults = {**Adam.defaults, "weight_decay": 1e-2}
    decoupled = True
