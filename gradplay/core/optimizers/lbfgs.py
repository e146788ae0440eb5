"""L-BFGS with torch's optional strong-Wolfe line search (torch.optim.LBFGS, ported)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..optim import Objective, Optimizer, _invalid, _is_number, _nonneg


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
