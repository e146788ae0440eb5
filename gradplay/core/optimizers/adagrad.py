"""Adagrad: per-coordinate steps that shrink with the accumulated squared gradient (torch.optim.Adagrad)."""
from __future__ import annotations

import numpy as np

from ..optim import Objective, Optimizer, Workspace, _add_weight_decay, _nonneg


def adagrad_update(theta: np.ndarray, grad: np.ndarray, state_sum: np.ndarray, step: int, *,
                   lr: float, lr_decay: float = 0.0, weight_decay: float = 0.0, eps: float = 1e-10,
                   work: Workspace | None = None) -> None:
    """Adagrad: per-coordinate steps shrink with the accumulated squared gradient.

        input: γ (lr), η (lr decay), λ (weight decay), ε (eps), s₀ (initial accumulator value)
        for t = 1, 2, …:
            g ← ∇f(θ) + λθ
            γ̃ ← γ / (1 + (t − 1)η)
            s ← s + g²
            θ ← θ − γ̃ g / (√s + ε)
    """
    w = work or Workspace(theta.size)
    std, num = w.vec[0], w.vec[1]
    g = _add_weight_decay(theta, grad, weight_decay, w) if weight_decay != 0 else grad
    clr, e, *_ = w.fill(lr / (1 + (step - 1) * lr_decay), eps)
    np.add(state_sum, np.multiply(g, g, std), state_sum)
    np.add(np.sqrt(state_sum, std), e, std)
    np.divide(np.multiply(g, clr, num), std, num)      # torch's addcdiv order: (γ̃g) / std
    np.subtract(theta, num, theta)


class Adagrad(Optimizer):
    """torch.optim.Adagrad. Update rule: `adagrad_update`."""

    name = "adagrad"
    torch_class = "Adagrad"
    state_names = ("sum",)
    defaults = {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                "eps": 1e-10}
    _rules = {"lr": _nonneg, "lr_decay": _nonneg, "weight_decay": _nonneg,
              "initial_accumulator_value": _nonneg, "eps": _nonneg}
    # `_<hyperparameter>` attributes are set by Optimizer.__init__ (setattr), state arrays by _setup
    _lr_decay: float
    _weight_decay: float
    _initial_accumulator_value: float
    _eps: float
    _sum: np.ndarray

    def _setup(self) -> None:
        self._sum = self.state["sum"] = np.full(self.n_params, self._initial_accumulator_value)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        t = self.state["step"] = self.state["step"] + 1
        adagrad_update(theta, grad, self._sum, t, lr=self.lr, lr_decay=self._lr_decay,
                       weight_decay=self._weight_decay, eps=self._eps, work=self._work)
