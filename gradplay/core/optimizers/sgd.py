"""SGD: plain, momentum or Nesterov gradient descent (torch.optim.SGD)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..optim import Objective, Optimizer, Workspace, _add_weight_decay, _nonneg


def sgd_update(theta: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray | None, step: int, *,
               lr: float, momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
               nesterov: bool = False, work: Workspace | None = None) -> None:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

        input: γ (lr), μ (momentum), τ (dampening), λ (weight decay), nesterov
        for t = 1, 2, …:
            g ← ∇f(θ) + λθ
            if μ ≠ 0:
                b ← g                        if t = 1   (the buffer starts as the first gradient)
                b ← μb + (1 − τ)g            otherwise
                g ← g + μb  if nesterov  else  b
            θ ← θ − γg

    `step` is t (1 for the first update); `momentum_buffer` is b, used only when μ ≠ 0.
    """
    w = work or Workspace(theta.size)
    tmp = w.vec[0]
    g = _add_weight_decay(theta, grad, weight_decay, w) if weight_decay != 0 else grad
    mu, damp, gamma, *_ = w.fill(momentum, 1 - dampening, lr)
    if momentum != 0:
        buf = momentum_buffer
        assert buf is not None  # the caller passes a buffer whenever μ ≠ 0
        if step == 1:
            np.copyto(buf, g)
        else:
            np.multiply(buf, mu, buf)
            if dampening == 0:
                np.add(buf, g, buf)
            else:
                np.add(buf, np.multiply(g, damp, tmp), buf)
        g = np.add(g, np.multiply(buf, mu, tmp), tmp) if nesterov else buf
    np.subtract(theta, np.multiply(g, gamma, tmp), theta)


class SGD(Optimizer):
    """torch.optim.SGD: plain, momentum or Nesterov; the buffer starts as the first gradient.
    Update rule: `sgd_update`."""

    name = "sgd"
    torch_class = "SGD"
    state_names = ("momentum_buffer",)  # with momentum only
    defaults = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    _rules = {"lr": _nonneg, "momentum": _nonneg, "dampening": None, "weight_decay": _nonneg}
    # `_<hyperparameter>` attributes are set by Optimizer.__init__ (setattr), state arrays by _setup
    _momentum: float
    _dampening: float
    _weight_decay: float
    _nesterov: bool
    _buf: np.ndarray | None

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        h = super()._validate(h)
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        return h

    def _setup(self) -> None:
        self._buf = None
        if self._momentum != 0:
            self._buf = self.state["momentum_buffer"] = np.zeros(self.n_params)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        t = self.state["step"] = self.state["step"] + 1
        sgd_update(theta, grad, self._buf, t, lr=self.lr, momentum=self._momentum, dampening=self._dampening,
                   weight_decay=self._weight_decay, nesterov=self._nesterov, work=self._work)
