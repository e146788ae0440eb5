"""Rprop: a per-coordinate step size grown while the gradient keeps its sign, shrunk when it flips
(torch.optim.Rprop)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..optim import Objective, Optimizer, _nonneg, number_pair


def rprop_update(theta: np.ndarray, grad: np.ndarray, prev: np.ndarray, step_size: np.ndarray, *,
                 etaminus: float, etaplus: float, step_size_min: float, step_size_max: float, work) -> None:
    """Rprop (resilient backpropagation, the Rprop⁻ variant torch implements).

        input: γ (lr, the initial step size), η₋, η₊ (etas), Δmin, Δmax (step_sizes)
        init:  g_prev ← 0, Δ ← γ
        for t = 1, 2, …:
            g ← ∇f(θ)
            for each coordinate:
                if g·g_prev > 0:  Δ ← min(Δη₊, Δmax)
                if g·g_prev < 0:  Δ ← max(Δη₋, Δmin);  g ← 0     (a sign flip: no step, forget g)
            θ ← θ − sign(g)·Δ
            g_prev ← g

    Only the signs of the gradient move θ; the learning rate sets the first step size only (a
    schedule has no effect after the first step, as in torch).
    """
    tmp = work.vec[0]
    np.sign(np.multiply(grad, prev, tmp), tmp)
    factor = np.where(tmp > 0, etaplus, np.where(tmp < 0, etaminus, 1.0))
    np.multiply(step_size, factor, step_size)
    np.clip(step_size, step_size_min, step_size_max, out=step_size)
    g = np.where(factor == etaminus, 0.0, grad)
    np.subtract(theta, np.multiply(np.sign(g), step_size, tmp), theta)
    prev[:] = g


class Rprop(Optimizer):
    """torch.optim.Rprop. Update rule: `rprop_update`."""

    name = "rprop"
    torch_class = "Rprop"
    state_names = ("prev", "step_size")
    defaults = {"lr": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0)}
    _rules = {"lr": _nonneg}
    ranges = {"etas": (0.0, 100.0), "step_sizes": (0.0, 1e6)}
    labels = {"lr": ("first step size", "Rprop's lr is the step size Δ of every coordinate at the first step "
                     "only; from then on only the signs of the gradient change it."),
              "etas": ("η₋, η₊", "Step size factors when the gradient's sign flips (η₋ < 1) or holds (η₊ > 1)."),
              "step_sizes": ("Δmin, Δmax", "Bounds of each coordinate's step size.")}
    _etas: tuple[float, float]
    _step_sizes: tuple[float, float]

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        h = super()._validate(h)
        etas = number_pair(self.name, "etas", h["etas"])
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        sizes = number_pair(self.name, "step_sizes", h["step_sizes"])
        if not 0.0 <= sizes[0] <= sizes[1]:
            raise ValueError(f"{self.name}: step_sizes must be (min, max) with 0 <= min <= max, got {sizes}")
        h["etas"], h["step_sizes"] = etas, sizes
        return h

    def _setup(self) -> None:
        self._prev = self.state["prev"] = np.zeros(self.n_params)
        self._size = self.state["step_size"] = np.full(self.n_params, self.lr)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        if self.state["step"] == 0:  # torch fills the step sizes with the group's lr at the first step
            self._size.fill(self.lr)
        self.state["step"] += 1
        rprop_update(theta, grad, self._prev, self._size, etaminus=self._etas[0], etaplus=self._etas[1],
                     step_size_min=self._step_sizes[0], step_size_max=self._step_sizes[1], work=self._work)
