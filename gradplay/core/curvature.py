"""Curvature: the Hessian's eigen-decomposition on landscapes, its top eigenvalue on networks.

Why it matters: on a quadratic with largest curvature λmax, gradient descent with rate γ is stable
only if γ < 2/λmax (each step multiplies the error along the top eigenvector by 1 − γλmax). So the
top eigenvalue, tracked during training, says whether the learning rate fits the terrain.

Landscapes have an exact 2×2 Hessian. On networks the Hessian is never formed: Hessian-vector
products come from central differences of the gradient,

    H v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε,   ‖v‖ = 1, ε = 1e-6,

(error O(ε²) from third derivatives plus ≈ 1e-16‖∇L‖/ε rounding, about 1e-10 relative; ε is
this small because a larger step lets ReLU pre-activations cross 0 between the two gradients, and
each crossing adds a spurious spike: at ε = 1e-4 a 2-16-16-1 ReLU net showed λmax 2.2× too big)
and power iteration on them finds the eigenvalue of largest magnitude; if that one is negative, a
second, shifted run finds λmax.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .history import History
from .objective import BatchObjective
from .problem import LandscapeProblem

GradFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class LandscapeCurvature:
    """Eigen-decomposition of a landscape's Hessian at one point."""

    point: np.ndarray       # (2,)
    eigenvalues: np.ndarray  # (2,) ascending
    eigenvectors: np.ndarray  # (2, 2), column k is the unit direction of eigenvalues[k]
    message: str

    @property
    def lam_max(self) -> float:
        return float(self.eigenvalues[-1])


def landscape_curvature(landscape, point: np.ndarray) -> LandscapeCurvature:
    """Exact Hessian eigenvalues/eigenvectors of a 2-D landscape at `point` (2,)."""
    p = np.asarray(point, dtype=np.float64)
    lam, vec = np.linalg.eigh(landscape.hessian(p))
    lo, hi = lam
    if lo > 0:
        shape = (f"curving up in every direction (a bowl), {hi / lo:.3g} times more steeply along the "
                 f"steepest direction than the flattest" if hi > 1.0001 * lo else "a round bowl")
    elif hi < 0:
        shape = "curving down in every direction (a hilltop)"
    elif lo < 0 < hi:
        shape = "curving up one way and down the other (saddle-shaped)"
    else:
        shape = "flat in at least one direction"
    return LandscapeCurvature(p, lam, vec, f"Curvatures {lo:.3g} and {hi:.3g}: the surface here is {shape}.")


def hvp(grad_fn: GradFn, theta: np.ndarray, v: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """H(θ) v (n,) by central differences of `grad_fn` along v (any norm)."""
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(theta)
    u = v / norm
    return (grad_fn(theta + eps * u) - grad_fn(theta - eps * u)) * (norm / (2.0 * eps))


@dataclass
class TopEigen:
    """Result of `top_eigenvalue`."""

    value: float         # λmax, the largest (algebraic) eigenvalue
    vector: np.ndarray   # (n,) unit eigenvector
    iterations: int      # Hessian-vector products used
    converged: bool


def _power(matvec: Callable[[np.ndarray], np.ndarray], v: np.ndarray, iters: int, tol: float):
    """Power iteration with Rayleigh quotients; returns (λ, v, iterations, converged)."""
    v = v / np.linalg.norm(v)
    lam = np.nan
    for k in range(1, iters + 1):
        w = matvec(v)
        new = float(v @ w)                      # Rayleigh quotient of the current unit vector
        nw = float(np.linalg.norm(w))
        if nw == 0.0 or not np.isfinite(nw):
            return new, v, k, nw == 0.0
        v = w / nw
        if abs(new - lam) <= tol * abs(new):
            return new, v, k, True
        lam = new
    return lam, v, iters, False


def top_eigenvalue(grad_fn: GradFn, theta: np.ndarray, v0: np.ndarray | None = None, iters: int = 200,
                   tol: float = 1e-7, eps: float = 1e-6, seed: int = 0) -> TopEigen:
    """Largest eigenvalue of the Hessian of the function whose gradient is `grad_fn`, at θ (n,).

    v0 warm-starts the iteration (pass the previous vector when tracking during training).
    """
    theta = np.asarray(theta, dtype=np.float64)
    v = np.random.default_rng(seed).standard_normal(theta.size) if v0 is None else np.array(v0, float)
    if not np.isfinite(grad_fn(theta)).all():  # no curvature to speak of at a non-finite point
        return TopEigen(np.nan, v / np.linalg.norm(v), 0, False)
    matvec = lambda u: hvp(grad_fn, theta, u, eps)  # noqa: E731
    lam, v, used, ok = _power(matvec, v, iters, tol)
    if lam < 0:
        # The dominant eigenvalue is negative; (H − λI) has λmax − λ > 0 as its dominant one.
        shift = lam
        mu, v, more, ok = _power(lambda u: matvec(u) - shift * u,
                                 np.random.default_rng(seed + 1).standard_normal(theta.size), iters, tol)
        lam, used = mu + shift, used + more
    return TopEigen(float(lam), v, used, ok)


def network_top_eigenvalue(session, idx: np.ndarray | None = None, **kwargs) -> TopEigen:
    """λmax of the training loss's Hessian at the session's θ; idx=None: full training set."""
    loss = BatchObjective.of_session(session, idx)
    return top_eigenvalue(loss.grad, session.theta.copy(), **kwargs)


def stability_limit(optimizer: dict, lam_max: float) -> float | None:
    """Largest stable learning rate on a quadratic of top curvature lam_max, for the resolved
    [optimizer] section; None where no fixed limit exists (adaptive and second-order methods).

    sgd: 2/λ; heavy-ball momentum β (dampening τ): 2(1+β)/((1−τ)λ); Nesterov: 2(1+β)/((1+2β)λ).
    Coupled weight decay wd adds wd to every curvature.
    """
    if optimizer.get("name") != "sgd":
        return None
    lam = lam_max + optimizer.get("weight_decay", 0.0)
    if not lam > 0:
        return np.inf   # no upward curvature: no step size is unstable for this reason
    beta, damp = optimizer.get("momentum", 0.0), optimizer.get("dampening", 0.0)
    if beta == 0:
        return 2.0 / lam
    if optimizer.get("nesterov", False):
        return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lam)
    return 2.0 * (1.0 + beta) / ((1.0 - damp) * lam) if damp < 1 else np.inf


class CurvatureTracker:
    """λmax every `every` steps against the stability limit, recorded in a bounded History.

    `attach()` subscribes to the session so the GUI need not call `update()` itself. On networks
    each update costs about 2·iters gradient evaluations of the full training set (warm-started).
    """

    def __init__(self, session, every: int = 10, iters: int = 20, idx: np.ndarray | None = None):
        self.session, self.every, self.iters, self.idx = session, int(every), int(iters), idx
        self.history = History({"lam_max": 1, "lr": 1, "limit": 1}, capacity=1024)
        self._v: np.ndarray | None = None
        self._last = -1

    def update(self, force: bool = False) -> float | None:
        """Measure now if `every` steps passed since the last measurement (or `force`)."""
        s = self.session
        if not force and self._last >= 0 and s.step - self._last < self.every:
            return None
        if isinstance(s.problem, LandscapeProblem):
            lam = landscape_curvature(s.problem.landscape, s.theta).lam_max
        else:
            v0 = self._v if self._v is not None and self._v.size == s.theta.size else None
            iters = self.iters if v0 is not None else 5 * self.iters   # a cold start needs more
            top = network_top_eigenvalue(s, self.idx, v0=v0, iters=iters)
            lam, self._v = top.value, top.vector
        limit = stability_limit(s.config["optimizer"], lam)
        self.history.append(s.step, lam_max=lam, lr=s.schedule.lr, limit=np.nan if limit is None else limit)
        self._last = s.step
        return lam

    def _on_event(self, event: str) -> None:
        if event == "reset":
            self.history.clear()
            self._v, self._last = None, -1
        elif event in ("stepped", "config"):
            self.update(force=event == "config")

    def attach(self) -> None:
        self.session.subscribe(self._on_event)

    def detach(self) -> None:
        self.session.unsubscribe(self._on_event)
