"""Optimizers with torch.optim semantics on one flat float64 parameter vector.

Each optimizer is a small class that validates its hyperparameters (torch's defaults and messages),
keeps its state in a plain dict and calls one pure function, `<name>_update`, that does the maths in
place. That function is the readable reference: its docstring carries the algorithm box and its body
follows torch's single-tensor code operation by operation (torch fuses a few of them with FMA, so the
two agree to about an ulp per step rather than bit for bit).

`theta` and `grad` are 1-D float64 arrays of one length; `theta` is updated in place because other
objects hold views into it, and `grad` is never modified.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np


class Objective(Protocol):
    """The loss on the current batch, for methods that evaluate more than the given gradient."""

    def loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]: ...
    def hessian(self, theta: np.ndarray) -> np.ndarray: ...


class Workspace:
    """Scratch for the update functions, allocated once per optimizer so that a step allocates nothing.

    `vec` holds three vectors of theta's size. `fill(...)` writes the step's scalars into 0-d arrays
    and returns them: on small vectors a numpy call costs ~0.2 µs, a Python float operand adds
    ~0.25 µs of conversion to it, a 0-d array operand adds nothing. The results are identical.
    """

    def __init__(self, n: int) -> None:
        self.vec = [np.zeros(n) for _ in range(3)]
        self._scalars = [np.zeros(()) for _ in range(6)]

    def fill(self, a: float, b: float = 0.0, c: float = 0.0, d: float = 0.0, e: float = 0.0,
             f: float = 0.0) -> list[np.ndarray]:
        s = self._scalars  # unrolled: a loop over *values costs twice as much
        s[0][()], s[1][()], s[2][()], s[3][()], s[4][()], s[5][()] = a, b, c, d, e, f
        return s


def _add_weight_decay(theta: np.ndarray, grad: np.ndarray, weight_decay: float, w: Workspace) -> np.ndarray:
    """g + λθ in the workspace's third vector (torch's coupled weight decay, grad.add(θ, alpha=λ))."""
    wd, *_ = w.fill(weight_decay)
    g = np.multiply(theta, wd, w.vec[2])
    return np.add(g, grad, g)


def weight_decay_step(theta: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float, decoupled: bool,
                      w: Workspace) -> np.ndarray:
    """The gradient after weight decay, torch's two ways: decoupled (AdamW) θ ← θ(1 − γλ) in place and
    g unchanged; coupled g + λθ (in the workspace's third vector)."""
    if weight_decay == 0:
        return grad
    if decoupled:
        decay, *_ = w.fill(1 - lr * weight_decay)
        np.multiply(theta, decay, theta)
        return grad
    return _add_weight_decay(theta, grad, weight_decay, w)


def moments_update(exp_avg: np.ndarray, exp_avg_sq: np.ndarray, g: np.ndarray, beta1: float, beta2: float,
                   w: Workspace) -> None:
    """m ← m + (1 − β₁)(g − m) (torch's lerp) and v ← β₂v + ((1 − β₂)g)g, as torch's Adam family."""
    tmp = w.vec[0]
    c1, b2, c2, *_ = w.fill(1 - beta1, beta2, 1 - beta2)
    np.add(exp_avg, np.multiply(np.subtract(g, exp_avg, tmp), c1, tmp), exp_avg)
    np.multiply(exp_avg_sq, b2, exp_avg_sq)
    np.add(exp_avg_sq, np.multiply(np.multiply(g, c2, tmp), g, tmp), exp_avg_sq)


# ----------------------------------------------------------------------------- update rules
# Each `np.f(a, b, c)` writes its result into c (numpy's positional `out`), so nothing is allocated.
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


def adadelta_update(theta: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, acc_delta: np.ndarray,
                    *, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                    work: Workspace | None = None) -> None:
    """Adadelta: the step's units come from a running RMS of past steps, so lr 1.0 is the norm.

        input: γ (lr), ρ (decay), ε (eps), λ (weight decay)
        init:  v ← 0 (square avg), u ← 0 (accumulated updates)
        for t = 1, 2, …:
            g ← ∇f(θ) + λθ
            v ← ρv + (1 − ρ)g²
            Δ ← √(u + ε) / √(v + ε) · g
            u ← ρu + (1 − ρ)Δ²
            θ ← θ − γΔ
    """
    w = work or Workspace(theta.size)
    tmp, delta = w.vec[0], w.vec[1]
    g = _add_weight_decay(theta, grad, weight_decay, w) if weight_decay != 0 else grad
    r, c, e, gamma, *_ = w.fill(rho, 1 - rho, eps, lr)
    np.multiply(square_avg, r, square_avg)                                        # ρv
    np.add(square_avg, np.multiply(np.multiply(g, c, tmp), g, tmp), square_avg)   # + ((1 − ρ)g)g
    std = np.sqrt(np.add(square_avg, e, tmp), tmp)
    np.sqrt(np.add(acc_delta, e, delta), delta)
    np.multiply(np.divide(delta, std, delta), g, delta)                           # Δ
    np.multiply(acc_delta, r, acc_delta)
    np.add(acc_delta, np.multiply(np.multiply(delta, c, tmp), delta, tmp), acc_delta)
    np.subtract(theta, np.multiply(delta, gamma, delta), theta)


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


# ----------------------------------------------------------------------------- L-BFGS (torch port)
def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple[float, float] | None = None) -> float:
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to `bounds`."""
    xmin_bound, xmax_bound = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    if x1 == x2:  # torch divides by zero here (nan or an error, by type); bisect instead
        return float((xmin_bound + xmax_bound) / 2.0)
    # IEEE arithmetic, as with torch's 0-d tensors: along a flat or concave slice (a saddle) the
    # last division is 0/0 or x/0, and the resulting ±inf clips the step to a bound, where Python
    # floats would raise ZeroDivisionError
    x1, f1, g1, x2, f2, g2 = (np.float64(v) for v in (x1, f1, g1, x2, f2, g2))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1 ** 2 - g1 * g2
        if d2_square >= 0:
            d2 = np.sqrt(d2_square)
            if x1 <= x2:
                min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            else:
                min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
            return float(min(max(min_pos, xmin_bound), xmax_bound))
    return float((xmin_bound + xmax_bound) / 2.0)


def _strong_wolfe(obj_func: Callable, x: np.ndarray, t: float, d: np.ndarray, f: float,
                  g: np.ndarray, gtd: float, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25):
    """Line search for a step t along d meeting the strong Wolfe conditions (torch's port of lswolfe.lua).

    Returns (f_new, g_new, t, evaluations). Gradients are fresh arrays that are never modified in
    place, so torch's defensive clones are not needed.
    """
    d_norm = float(np.abs(d).max())
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev: float  # the int 0 (as torch's) until the first extrapolation
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate by cubic interpolation, at least 1% beyond t and at most 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations (the zoom below is then skipped)
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to an end twice running (or outside) moves 10% of the bracket inwards
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not satisfied or not lower than the lowest point: new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def lbfgs_step(theta: np.ndarray, loss_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
               state: dict[str, Any], *, lr: float, max_iter: int, max_eval: int,
               tolerance_grad: float, tolerance_change: float, history_size: int,
               line_search_fn: str | None) -> float:
    """One call of torch's `LBFGS.step(closure)`: up to `max_iter` quasi-Newton iterations.

        input: γ (lr), m (history size); history of pairs (sᵢ, yᵢ), ρᵢ = 1 / yᵢᵀsᵢ
        repeat up to max_iter times:
            g ← ∇f(θ)
            if first iteration ever:  d ← −g
            else:
                s ← t·d_prev,  y ← g − g_prev
                if yᵀs > 1e−10: keep (s, y) (the newest m pairs), H₀ ← yᵀs / yᵀy
                d ← −H g   (two-loop recursion: H is the L-BFGS inverse-Hessian estimate, H₀ its scale)
            t ← min(1, 1/‖g‖₁)·γ on the very first iteration, else γ
            stop if gᵀd > −tolerance_change (not a descent direction)
            t ← strong-Wolfe line search from t   (if line_search_fn = "strong_wolfe")
            θ ← θ + t d
            stop on ‖g‖∞ ≤ tolerance_grad, max_eval evaluations, ‖t d‖∞ ≤ tolerance_change
                 or |Δf| < tolerance_change

    `loss_and_grad` is called where torch calls the closure (first at θ itself). `state` (func_evals,
    n_iter, d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss) persists between calls.
    Returns the loss at θ on entry.
    """
    def evaluate() -> tuple[float, np.ndarray]:
        loss, g = loss_and_grad(theta)
        return float(loss), np.array(g, dtype=np.float64)  # a copy: objectives may reuse buffers

    def directional_evaluate(x: np.ndarray, t: float, d: np.ndarray) -> tuple[float, np.ndarray]:
        np.add(theta, t * d, out=theta)
        out = evaluate()
        theta[:] = x
        return out

    state.setdefault("func_evals", 0)
    state.setdefault("n_iter", 0)
    orig_loss, flat_grad = evaluate()
    loss = orig_loss
    current_evals = 1
    state["func_evals"] += 1
    if np.abs(flat_grad).max() <= tolerance_grad:
        return orig_loss

    # None until the first iteration ever (state["n_iter"] == 1) sets them
    d: np.ndarray | None = state.get("d")
    t: float | None = state.get("t")
    old_dirs: list[np.ndarray] | None = state.get("old_dirs")
    old_stps: list[np.ndarray] | None = state.get("old_stps")
    ro: list[float] | None = state.get("ro")
    H_diag: float | None = state.get("H_diag")
    prev_loss: float | None = state.get("prev_loss")
    prev_flat_grad: np.ndarray | None = state.get("prev_flat_grad")

    n_iter = 0
    opt_cond = False
    while n_iter < max_iter:
        n_iter += 1
        state["n_iter"] += 1

        # descent direction
        if state["n_iter"] == 1:
            d = -flat_grad
            old_dirs, old_stps, ro = [], [], []
            H_diag = 1
        else:
            assert (d is not None and t is not None and old_dirs is not None and old_stps is not None
                    and ro is not None and H_diag is not None and prev_flat_grad is not None)
            y = flat_grad - prev_flat_grad
            s = d * t
            ys = float(y @ s)
            if ys > 1e-10:  # keep only pairs with positive curvature, so H stays positive definite
                if len(old_dirs) == history_size:  # forget the oldest pair
                    del old_dirs[0], old_stps[0], ro[0]
                old_dirs.append(y)
                old_stps.append(s)
                ro.append(1.0 / ys)
                H_diag = ys / float(y @ y)
            num_old = len(old_dirs)
            al = [0.0] * num_old
            q = -flat_grad
            for i in range(num_old - 1, -1, -1):
                al[i] = float(old_stps[i] @ q) * ro[i]
                q -= al[i] * old_dirs[i]
            d = r = q * H_diag
            for i in range(num_old):
                be_i = float(old_dirs[i] @ r) * ro[i]
                r += (al[i] - be_i) * old_stps[i]
        prev_flat_grad = flat_grad.copy()
        prev_loss = loss

        # step length: the very first step is kept within a unit L1 move
        t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
        gtd = float(flat_grad @ d)
        if gtd > -tolerance_change:
            break

        ls_func_evals = 0
        if line_search_fn is not None:
            loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                directional_evaluate, theta.copy(), t, d, loss, flat_grad, gtd,
                max_ls=max_eval - current_evals)
            theta += t * d
            opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        else:
            theta += t * d
            if n_iter != max_iter:  # the last iteration's loss is not needed (torch skips it too)
                loss, flat_grad = evaluate()
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                ls_func_evals = 1
        current_evals += ls_func_evals
        state["func_evals"] += ls_func_evals

        if n_iter == max_iter or current_evals >= max_eval or opt_cond:
            break
        if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
            break  # lack of progress

    state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                 prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
    return orig_loss


# ----------------------------------------------------------------------------- optimizer classes
def _nonneg(v: float) -> bool:
    return v >= 0


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def number_pair(name: str, key: str, value: Any) -> tuple[float, float]:
    """Two numbers (a TOML list or a tuple), as floats."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(map(_is_number, value)):
        raise ValueError(f"{name}: {key} must be two numbers, got {value!r}")
    return float(value[0]), float(value[1])


def betas_pair(name: str, value: Any) -> tuple[float, float]:
    """Adam-family betas: two numbers in [0, 1), checked in torch's words."""
    betas = number_pair(name, "betas", value)
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    return betas


def _invalid(key: str, value: Any) -> ValueError:
    """torch's wording: "Invalid learning rate: -1", "Invalid momentum value: -0.5"."""
    label = {"lr": "learning rate", "eps": "epsilon value"}.get(key, f"{key} value")
    return ValueError(f"Invalid {label}: {value}")


class Optimizer:
    """Base class: validates hyperparameters, owns the state and hands both to the update function.

    `hyper` holds the resolved hyperparameters (defaults filled in), `lr` the current learning rate
    (a schedule sets it before each step, like torch's param_group['lr']) and `state` plain numbers
    and arrays. Subclasses list torch's `defaults` and a range rule per numeric hyperparameter.
    """

    name: ClassVar[str]
    torch_class: ClassVar[str | None] = None  # torch.optim's class of the same semantics (exported scripts)
    defaults: ClassVar[dict[str, Any]]
    # The hyperparameter table beyond `defaults`: config ranges and form labels (label, help) of keys
    # that config.HYPER_RANGES and the form's LABELS do not already know (an optimizer module brings its own)
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    labels: ClassVar[dict[str, tuple[str, str]]] = {}
    needs_objective: ClassVar[bool] = False  # True: step() needs an Objective, not only the gradient
    _rules: ClassVar[dict[str, Callable[[float], bool] | None]] = {}  # numeric key -> allowed (None: any)

    def __init__(self, n_params: int, **hyper: Any) -> None:
        if not _is_number(n_params) or int(n_params) != n_params or n_params < 1:
            raise ValueError(f"n_params must be a positive integer, got {n_params!r}")
        unknown = [k for k in hyper if k not in self.defaults]
        if unknown:
            raise ValueError(f"{self.name}: unknown hyperparameter {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(self.defaults)}")
        self.n_params = int(n_params)
        self.hyper = self._validate({**self.defaults, **hyper})
        self.lr: float = self.hyper["lr"]
        self.state: dict[str, Any] = {"step": 0}
        self._work = Workspace(self.n_params)
        for k, v in self.hyper.items():  # cached: step() reads attributes, not the dict
            setattr(self, f"_{k}", v)
        self._setup()

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        """Type and range checks in torch's order and words; numbers become floats."""
        for key, default in self.defaults.items():
            v = h[key]
            if isinstance(default, bool):
                if not isinstance(v, (bool, np.bool_)):
                    raise ValueError(f"{self.name}: {key} must be true or false, got {v!r}")
                h[key] = bool(v)
            elif key in self._rules:
                if not _is_number(v):
                    raise ValueError(f"{self.name}: {key} must be a number, got {v!r}")
                rule = self._rules[key]
                if (rule is not None and not rule(v)) or math.isnan(v):
                    raise _invalid(key, v)
                h[key] = float(v)
        return h

    def _setup(self) -> None:
        """Allocate the state arrays."""

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        """Update `theta` in place from `grad` (the caller's gradient, left untouched)."""
        raise NotImplementedError

    def _objective(self, objective: Objective | None) -> Objective:
        if objective is None:
            raise ValueError(f"{self.name} evaluates the loss itself: step() needs an objective")
        return objective

    # -- saving
    def state_dict(self) -> dict[str, Any]:
        """A plain copy (numbers, lists, arrays) from which `load_state_dict` continues exactly."""
        hyper = {k: list(v) if isinstance(v, tuple) else v for k, v in self.hyper.items()}
        state = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self.state.items()}
        return {"name": self.name, "n_params": self.n_params, "hyper": hyper, "lr": self.lr, "state": state}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Continue from a `state_dict()`; on any error this optimizer is left as it was."""
        if d.get("name") != self.name:
            raise ValueError(f"state is for optimizer {d.get('name')!r}, not {self.name!r}")
        fresh = type(self)(self.n_params, **d["hyper"])  # re-validates the hyperparameters
        fresh.lr = float(d["lr"])
        fresh._load_state(dict(d["state"]))
        self.__dict__.update(fresh.__dict__)

    def copy_state_from(self, other: Optimizer) -> None:
        """Become `other`'s state (a twin with the same settings) in place: O(parameters) copies into
        the arrays step() holds, no rebuilding. `Session.sync_from` took the state_dict →
        load_state_dict round trip every frame: 4.7 of 6.2 ms on an 8×256 net with Adam. Any other
        case (another optimizer or settings, state not yet allocated alike) takes that round trip."""
        same = (type(other) is type(self) and other.n_params == self.n_params and other.hyper == self.hyper
                and other.state.keys() == self.state.keys()
                and all(v.shape == self.state[k].shape and isinstance(self.state[k], np.ndarray)
                        if isinstance(v, np.ndarray) else isinstance(v, (int, float)) or v is None
                        for k, v in other.state.items()))  # (lists, e.g. L-BFGS's history: the round trip)
        if not same:
            self.load_state_dict(other.state_dict())
            return
        self.lr = other.lr
        for k, v in other.state.items():
            if isinstance(v, np.ndarray):
                np.copyto(self.state[k], v)
            else:
                self.state[k] = v

    def _load_state(self, state: dict[str, Any]) -> None:
        if set(state) != set(self.state):
            raise ValueError(f"{self.name} state needs keys {sorted(self.state)}, got {sorted(state)}")
        for k, v in state.items():
            if isinstance(self.state[k], np.ndarray):
                v = np.asarray(v, dtype=np.float64)
                if v.shape != self.state[k].shape:
                    raise ValueError(f"{self.name} state {k!r} has shape {v.shape}, "
                                     f"expected {self.state[k].shape}")
                np.copyto(self.state[k], v)  # the same arrays: step() holds references to them
            elif isinstance(self.state[k], float):  # a running product (NAdam's μ product)
                self.state[k] = float(v)
            else:
                self.state[k] = int(v)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}(n_params={self.n_params}, {args})"


class SGD(Optimizer):
    """torch.optim.SGD: plain, momentum or Nesterov; the buffer starts as the first gradient.
    Update rule: `sgd_update`."""

    name = "sgd"
    torch_class = "SGD"
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


class Adagrad(Optimizer):
    """torch.optim.Adagrad. Update rule: `adagrad_update`."""

    name = "adagrad"
    torch_class = "Adagrad"
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


class RMSprop(Optimizer):
    """torch.optim.RMSprop. Update rule: `rmsprop_update`."""

    name = "rmsprop"
    torch_class = "RMSprop"
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


class Adadelta(Optimizer):
    """torch.optim.Adadelta. Update rule: `adadelta_update`."""

    name = "adadelta"
    torch_class = "Adadelta"
    defaults = {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}
    _rules = {"lr": _nonneg, "rho": lambda v: 0 <= v <= 1, "eps": _nonneg, "weight_decay": _nonneg}
    # `_<hyperparameter>` attributes are set by Optimizer.__init__ (setattr), state arrays by _setup
    _rho: float
    _eps: float
    _weight_decay: float
    _sq: np.ndarray
    _acc: np.ndarray

    def _setup(self) -> None:
        self._sq = self.state["square_avg"] = np.zeros(self.n_params)
        self._acc = self.state["acc_delta"] = np.zeros(self.n_params)

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        self.state["step"] += 1
        adadelta_update(theta, grad, self._sq, self._acc, lr=self.lr, rho=self._rho, eps=self._eps,
                        weight_decay=self._weight_decay, work=self._work)


class AdamFamily(Optimizer):
    """Optimizers with Adam's betas and its two running moments `exp_avg` and `exp_avg_sq` (NAdam,
    RAdam); `_m` and `_v` are those arrays."""

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


class Adam(Optimizer):
    """torch.optim.Adam, weight decay coupled (added to the gradient). Update rule: `adam_update`."""

    name = "adam"
    torch_class = "Adam"
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}
    _rules = {"lr": _nonneg, "eps": _nonneg, "weight_decay": _nonneg}
    _decoupled = False
    # `_<hyperparameter>` attributes are set by Optimizer.__init__ (setattr), state arrays by _setup
    _betas: tuple[float, float]
    _eps: float
    _weight_decay: float
    _amsgrad: bool
    _beta1: float
    _beta2: float
    _m: np.ndarray
    _v: np.ndarray
    _vmax: np.ndarray | None

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        h = super()._validate(h)
        h["betas"] = betas_pair(self.name, h["betas"])
        return h

    def _setup(self) -> None:
        st, n = self.state, self.n_params
        self._beta1, self._beta2 = self._betas
        self._m = st["exp_avg"] = np.zeros(n)
        self._v = st["exp_avg_sq"] = np.zeros(n)
        self._vmax = st["max_exp_avg_sq"] = np.zeros(n) if self._amsgrad else None
        if self._vmax is None:
            del st["max_exp_avg_sq"]

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        t = self.state["step"] = self.state["step"] + 1
        adam_update(theta, grad, self._m, self._v, t, lr=self.lr, beta1=self._beta1, beta2=self._beta2,
                    eps=self._eps, weight_decay=self._weight_decay, amsgrad=self._amsgrad,
                    max_exp_avg_sq=self._vmax, decoupled=self._decoupled, work=self._work)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay θ ← θ(1 − γλ), default λ = 0.01."""

    name = "adamw"
    torch_class = "AdamW"
    defaults = {**Adam.defaults, "weight_decay": 1e-2}
    _decoupled = True


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


class LBFGS(Optimizer):
    """torch.optim.LBFGS: one step() = one torch `step(closure)`, up to max_iter inner iterations.

    The gradient argument is not used: like torch's closure, the objective is evaluated at θ first and
    then along the search direction. Update rule: `lbfgs_step`. The curvature history is kept as
    lists of vectors, as torch does; `state_dict()` stacks them into (k, n) arrays.
    """

    name = "lbfgs"
    torch_class = "LBFGS"
    defaults = {"lr": 1.0, "max_iter": 20, "max_eval": None, "tolerance_grad": 1e-7,
                "tolerance_change": 1e-9, "history_size": 100, "line_search_fn": None}
    _rules = {"lr": _nonneg, "tolerance_grad": _nonneg, "tolerance_change": _nonneg}
    needs_objective = True
    _HISTORY = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        h = super()._validate(h)
        if h["max_eval"] is None and _is_number(h["max_iter"]):
            h["max_eval"] = h["max_iter"] * 5 // 4
        for key in ("max_iter", "max_eval", "history_size"):
            v = h[key]
            if not _is_number(v) or int(v) != v:
                raise ValueError(f"{self.name}: {key} must be an integer, got {v!r}")
            if v < 1:
                raise _invalid(key, v)
            h[key] = int(v)
        if h["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"Invalid line_search_fn value: {h['line_search_fn']!r} "
                             "(allowed: None, 'strong_wolfe')")
        return h

    def _setup(self) -> None:
        self.state = {"func_evals": 0, "n_iter": 0}

    def step(self, theta: np.ndarray, grad: np.ndarray | None, objective: Objective | None = None) -> None:
        h = self.hyper
        lbfgs_step(theta, self._objective(objective).loss_and_grad, self.state, lr=self.lr,
                   max_iter=h["max_iter"], max_eval=h["max_eval"], tolerance_grad=h["tolerance_grad"],
                   tolerance_change=h["tolerance_change"], history_size=h["history_size"],
                   line_search_fn=h["line_search_fn"])

    def state_dict(self) -> dict[str, Any]:
        d = super().state_dict()
        st = d["state"]
        if "d" in st:
            for k in ("old_dirs", "old_stps"):
                st[k] = np.array(st[k], dtype=np.float64).reshape(-1, self.n_params)
            st["ro"] = np.array(st["ro"], dtype=np.float64)
            for k in ("t", "H_diag", "prev_loss"):
                st[k] = float(st[k])
        return d

    def _load_state(self, state: dict[str, Any]) -> None:
        base = {"func_evals", "n_iter"}
        if set(state) not in (base, base | set(self._HISTORY)):
            raise ValueError(f"lbfgs state needs keys {sorted(base)} (+ {list(self._HISTORY)} after a "
                             f"step), got {sorted(state)}")
        st: dict[str, Any] = {k: int(state[k]) for k in base}
        if "d" in state:
            def rows(k: str) -> np.ndarray:
                return np.array(state[k], dtype=np.float64).reshape(-1, self.n_params)
            st.update(d=rows("d")[0], prev_flat_grad=rows("prev_flat_grad")[0],
                      old_dirs=list(rows("old_dirs")), old_stps=list(rows("old_stps")),
                      ro=[float(r) for r in np.ravel(state["ro"])],
                      **{k: float(state[k]) for k in ("t", "H_diag", "prev_loss")})
        self.state = st


OPTIMIZERS: dict[str, type[Optimizer]] = {c.name: c for c in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW,
                                                               Newton, LBFGS)}

from .optimizers import CLASSES as _MODULE_CLASSES  # noqa: E402  (they build on Optimizer above)

OPTIMIZERS.update({c.name: c for c in _MODULE_CLASSES})


def make_optimizer(name: str, n_params: int, **hyper: Any) -> Optimizer:
    """The optimizer called `name` for a parameter vector of length n_params."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](n_params, **hyper)


# ----------------------------------------------------------------------------- clipping, Hessian
def clip_grad_norm_(grad: np.ndarray, max_norm: float) -> float:
    """Scale `grad` in place to global L2 norm ≤ max_norm, as torch.nn.utils.clip_grad_norm_.

    The scale is max_norm / (‖g‖ + 1e-6), applied only when below 1 (so a clipped norm ends just
    under max_norm). max_norm ≤ 0 switches clipping off. Returns ‖g‖ before clipping.
    """
    total_norm = math.sqrt(float(np.dot(grad, grad)))
    if max_norm > 0:
        clip_coef = max_norm / (total_norm + 1e-6)
        if not clip_coef >= 1.0:  # "not >=" so a nan norm spreads to grad, as torch's clamp does
            grad *= clip_coef
    return total_norm


def clip_grad_value_(grad: np.ndarray, clip_value: float) -> None:
    """Clamp every component of `grad` in place to [−clip_value, clip_value]; ≤ 0 switches it off."""
    if clip_value > 0:
        np.clip(grad, -clip_value, clip_value, out=grad)


def numerical_hessian(grad_fn: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                      h: float = 1e-5) -> np.ndarray:
    """(n, n) Hessian by central differences of the gradient, symmetrised: (J + Jᵀ) / 2.

    Column i is (∇f(θ + h eᵢ) − ∇f(θ − h eᵢ)) / (2h): 2n gradient calls. `theta` is not modified.
    """
    x = np.array(theta, dtype=np.float64)
    n = x.size
    jac = np.empty((n, n))
    for i in range(n):
        xi = x[i]
        x[i] = xi + h
        g_plus = np.array(grad_fn(x), dtype=np.float64)  # a copy: grad_fn may reuse its buffer
        x[i] = xi - h
        g_minus = np.asarray(grad_fn(x), dtype=np.float64)
        x[i] = xi
        # divide by the spacing actually represented in floating point, not by 2h
        jac[:, i] = (g_plus - g_minus) / ((xi + h) - (xi - h))
    return (jac + jac.T) / 2
