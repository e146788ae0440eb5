"""RMSprop: the gradient divided by a running RMS of recent gradients (torch.optim.RMSprop)."""
from __future__ import annotations

import numpy as np

from ..optim import Objective, Optimizer, Workspace, _add_weight_decay, _nonneg


def rmsprop_update(theta: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                   grad_avg: np.ndarray | None, momentum_buffer: np.ndarray | None, *,
                   lr: float, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                   momentum: float = 0.0, centered: bool = False, work: Workspace | None = None) -> None:
    """RMSprop: divide the gradient by a running RMS of recent gradients.

        input: γ (lr), α (smoothing), ε (eps), λ (weight decay), μ (momentum), centered
        init:  v ← 0, ḡ ← 0, b ← 0
        for t = 1, 2, …:
            g ← ∇f(θ) + λθ
            v ← αv + (1 − α)g²
            if centered:  ḡ ← αḡ + (1 − α)g;   r ← √(v − ḡ²) + ε   (variance, not 2nd moment)
            else:         r ← √v + ε
            if μ > 0:  b ← μb + g / r;   θ ← θ − γb        (this buffer starts at 0, unlike SGD's)
            else:      θ ← θ − γ g / r
    """
    w = work or Workspace(theta.size)
    avg, num = w.vec[0], w.vec[1]
    g = _add_weight_decay(theta, grad, weight_decay, w) if weight_decay != 0 else grad
    a, c, e, mu, gamma, _ = w.fill(alpha, 1 - alpha, eps, momentum, lr)
    np.multiply(square_avg, a, square_avg)                                        # αv
    np.add(square_avg, np.multiply(np.multiply(g, c, avg), g, avg), square_avg)   # + ((1 − α)g)g
    if centered:
        assert grad_avg is not None  # the caller passes ḡ when centered
        # ḡ + (1 − α)(g − ḡ), then √(v − ḡ²)
        np.add(grad_avg, np.multiply(np.subtract(g, grad_avg, avg), c, avg), grad_avg)
        np.sqrt(np.subtract(square_avg, np.multiply(grad_avg, grad_avg, avg), avg), avg)
    else:
        np.sqrt(square_avg, avg)
    np.add(avg, e, avg)
    if momentum > 0:
        assert momentum_buffer is not None  # the caller passes b when μ > 0
        np.add(np.multiply(momentum_buffer, mu, momentum_buffer), np.divide(g, avg, num), momentum_buffer)
        np.multiply(momentum_buffer, gamma, num)
    else:
        np.divide(np.multiply(g, gamma, num), avg, num)
    np.subtract(theta, num, theta)


class RMSprop(Optimizer):
    """torch.optim.RMSprop. Update rule: `rmsprop_update`."""

    name = "rmsprop"
    torch_class = "RMSprop"
    state_names = ("square_avg", "momentum_buffer", "grad_avg")  # the last two with momentum, centered
    defaults = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                "centered": False}
    _rules = {"lr": _nonneg, "alpha": _nonneg, "eps": _nonneg, "weight_decay": _nonneg, "momentum": _nonneg}
    # `_<hyperparameter>` attributes are set by Optimizer.__init__ (setattr), state arrays by _setup
    _alpha: float
    _eps: float
    _weight_decay: float
    _momentum: float
    _centered: bool
    _sq: np.ndarray
    _buf: np.ndarray | None
    _gavg: np.ndarray | None

    def _setup(self) -> None:
        st, n = self.state, self.n_params
        self._sq = st["square_avg"] = np.zeros(n)
        self._buf = self._gavg = None
        if self._momentum > 0:
            self._buf = st["momentum_buffer"] = np.zeros(n)
        if self._centered:
            self._gavg = st["grad_avg"] = np.zeros(n)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        self.state["step"] += 1
        rmsprop_update(theta, grad, self._sq, self._gavg, self._buf, lr=self.lr, alpha=self._alpha,
                       eps=self._eps, weight_decay=self._weight_decay, momentum=self._momentum,
                       centered=self._centered, work=self._work)
