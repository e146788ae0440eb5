"""Damped Newton with the objective's Hessian (no torch.optim equivalent)."""
from __future__ import annotations

import numpy as np

from ..optim import Objective, Optimizer, _nonneg


def newton_update(theta: np.ndarray, grad: np.ndarray, hessian: np.ndarray, *, lr: float = 1.0,
                  damping: float = 1e-3) -> None:
    """Damped Newton: jump to the minimum of the local quadratic model.

        input: γ (lr), δ (damping)
        for t = 1, 2, …:
            g ← ∇f(θ),  H ← ∇²f(θ)
            θ ← θ − γ (H + δI)⁻¹ g           (least squares if H + δI is singular)

    With δ = 0 and γ = 1 one step lands exactly on the minimum of a convex quadratic. Newton follows
    curvature, not the downhill direction: on a saddle (an eigenvalue of H below −δ) it steps
    *towards* the critical point, so undamped Newton is attracted to saddles as much as to minima.
    """
    a = hessian + damping * np.eye(theta.size)
    if not np.isfinite(a).all():
        # Far out after a divergence the Hessian overflows and no step exists (LAPACK would raise):
        # a NaN step makes the session halt with its NaN/inf message and keep the last finite θ.
        theta[:] = np.nan
        return
    try:
        p = np.linalg.solve(a, grad)
    except np.linalg.LinAlgError:
        p = np.linalg.lstsq(a, grad, rcond=None)[0]
    theta -= lr * p


class Newton(Optimizer):
    """Damped Newton with the objective's Hessian (no torch equivalent). Update rule: `newton_update`.

    The default damping 1e-3 keeps the solve defined where H is singular (a flat direction, the
    monkey saddle's centre) while changing the step by only ~0.1% where curvature is of order 1;
    damping 0 gives the pure Newton step. Damping below |λ_min| does not turn saddles into
    repellers: undamped (or lightly damped) Newton is attracted to saddle points, which is worth seeing.
    """

    name = "newton"
    defaults = {"lr": 1.0, "damping": 1e-3}
    _rules = {"lr": _nonneg, "damping": _nonneg}
    needs_objective = True
    _damping: float  # set by Optimizer.__init__ (setattr)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        hessian = np.asarray(self._objective(objective).hessian(theta), dtype=np.float64)
        if hessian.shape != (self.n_params, self.n_params):
            raise ValueError(f"the Hessian has shape {hessian.shape}, expected {(self.n_params,) * 2}")
        self.state["step"] += 1
        newton_update(theta, grad, hessian, lr=self.lr, damping=self._damping)
