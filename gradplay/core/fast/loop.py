"""Drivers that run a Session's steps on the fast paths and leave the session as its own loop would.

`MLPLoop` hands chunks of steps to the compiled kernel (mlp.train) and does, between chunks, what
only Python can do bit-identically: draw the epochs' permutations from the session's generator (ahead,
for all the epochs a chunk may begin, then rewinding the generator to the draws the chunk used),
thin the history, step a non-constant schedule and word a halt message. `run_landscape` is a plain
Python loop over floats for the 2-D landscapes: it calls the landscape's own f and gradient, and on
two numbers scalar arithmetic is the same IEEE arithmetic as numpy's, minus numpy's per-call cost.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import optim
from ..problem import DatasetProblem, LandscapeProblem

if TYPE_CHECKING:
    from ..history import BatchLog
    from ..session import Session

MAX_CHUNK = 4096  # steps per kernel call at most (bounds the learning-rate buffer)
# Permutations drawn ahead for one kernel call: at most this many indices in all (8 MB). One call
# per epoch (32 steps of config (a)) returned to Python ~1,000 times a second, and a trainer thread
# waited for the GIL at each return while the window drew: 20-30k steps/s in the window against
# ~150k in `gradplay bench`. Drawing ahead makes one call per chunk.
PERM_AHEAD = 1 << 20


def _schedule_rates(schedule, k: int, lrs: np.ndarray) -> dict | None:
    """Fill lrs[:k] with the rates the next k steps use, advancing the schedule k steps.

    Returns the state to rewind to when fewer steps are done (None for a constant rate).
    """
    if schedule.name == "constant":
        lrs[:k] = schedule.lr
        schedule.last_step += k
        return None
    saved = schedule.state_dict()
    for i in range(k):
        lrs[i] = schedule.lr
        schedule.step()
    return saved


def _rewind_schedule(schedule, saved: dict | None, k: int, done: int) -> None:
    """Undo the schedule steps of a chunk beyond the `done` steps that really happened."""
    if done == k:
        return
    if saved is None:
        schedule.last_step -= k - done
        return
    schedule.load_state_dict(saved)
    for _ in range(done):
        schedule.step()


# Optimizer codes of both fast paths (mlp._optimizer_step and run_landscape).
OPT = {"sgd": 0, "adagrad": 1, "rmsprop": 2, "adadelta": 3, "adam": 4, "adamw": 4}


def _optimizer_arrays(opt) -> tuple[int, tuple]:
    """(code, its three state arrays) for a first-order optimizer: the arrays its class declares in
    `state_names`, in that order; a slot it does not use (an option off, fewer arrays) is a dummy."""
    dummy = np.zeros(1)
    arrays = tuple(opt.state.get(k, dummy) for k in opt.state_names)
    return OPT[opt.name], arrays + (dummy,) * (3 - len(arrays))


class MLPLoop:
    """Buffers and layout of one Session's network for the compiled kernel (one per model build)."""

    def __init__(self, s: Session, fp: np.ndarray) -> None:
        from . import mlp

        self.mlp, self.fp = mlp, fp
        p = s.problem
        assert isinstance(p, DatasetProblem)
        model, data = p.model, p.data
        L, B = model.n_layers, s.batch_size
        sizes = (model.n_in, *model.hidden, model.n_out)
        views = model.params()
        base = model.theta.__array_interface__["data"][0]

        def off(name: str) -> int:
            return (views[name].__array_interface__["data"][0] - base) // 8

        # Batch-norm running statistics move into one flat buffer; the model keeps views into it.
        nbn = L - 1 if model.batch_norm else 0
        self.rs = np.zeros(max(1, 2 * sum(sizes[1:1 + nbn])))
        lay = np.zeros((L, mlp.L_SIZE), dtype=np.int64)
        wo = np.zeros((L, mlp.W_SIZE), dtype=np.int64)
        top = 0

        def take(n: int) -> int:
            nonlocal top
            top += n
            return top - n

        rs_top = 0
        for i in range(L):
            fi, fo = sizes[i], sizes[i + 1]
            sl = model.layer_slices[i]
            lay[i, :mlp.L_ACT] = (fi, fo, off(f"W{i + 1}"), off(f"b{i + 1}"), 0, 0, 0, sl.start, sl.stop - sl.start)
            wo[i, mlp.W_Z], wo[i, mlp.W_H], wo[i, mlp.W_D] = take(B * fo), take(B * fo), take(B * fo)
            wo[i, mlp.W_Y], wo[i, mlp.W_A] = wo[i, mlp.W_Z], wo[i, mlp.W_H]
            if i < L - 1 and model.dropout_p[i] > 0.0:   # the dropped output and its multipliers
                wo[i, mlp.W_A], wo[i, mlp.W_M] = take(B * fo), take(B * fo)
            if i < nbn:
                lay[i, mlp.L_G], lay[i, mlp.L_BETA] = off(f"gamma{i + 1}"), off(f"beta{i + 1}")
                lay[i, mlp.L_RS] = rs_top
                self.rs[rs_top:rs_top + fo] = model.running_mean[i]
                self.rs[rs_top + fo:rs_top + 2 * fo] = model.running_var[i]
                model.running_mean[i] = self.rs[rs_top:rs_top + fo]
                model.running_var[i] = self.rs[rs_top + fo:rs_top + 2 * fo]
                rs_top += 2 * fo
                wo[i, mlp.W_Y], wo[i, mlp.W_XH] = take(B * fo), take(B * fo)
                wo[i, mlp.W_MEAN], wo[i, mlp.W_VAR], wo[i, mlp.W_INV] = take(fo), take(fo), take(fo)
        n_par, wide = model.theta.size, B * max(sizes[1:])
        wg = np.zeros(mlp.G_SIZE, dtype=np.int64)
        wg[mlp.G_XB], wg[mlp.G_YB] = take(B * model.n_in), take(B)
        for g in (mlp.G_T1, mlp.G_T2, mlp.G_T3):       # activation and loss scratch
            wg[g] = take(max(wide, 2 * B))
        for g in (mlp.G_P1, mlp.G_P2, mlp.G_P3):       # parameter-sized scratch
            wg[g] = take(n_par)
        wg[mlp.G_C3] = take(1)
        self.work = np.zeros(top)
        self.work[wg[mlp.G_C3]] = 3.0             # the exponent of gelu's zc ** 3
        self.lay, self.wo, self.wg = lay, wo, wg
        self.iw = np.zeros(B, dtype=np.int64)
        self.x = np.ascontiguousarray(p.inputs_train, dtype=np.float64).reshape(-1)
        self.yf = np.ascontiguousarray(data.y_train, dtype=np.float64).reshape(-1)
        self.yi = (np.asarray(data.y_train).reshape(-1).astype(np.intp) if p.loss_name == "cross_entropy"
                   else np.zeros(1, dtype=np.int64))
        self.widx = np.flatnonzero(model.weight_mask).astype(np.int64)
        self.prev = np.empty(n_par)
        self.gn = np.empty(L)
        self.lrs = np.empty(MAX_CHUNK)
        self.sc = np.zeros(8, dtype=np.int64)
        iv = self.iv = np.zeros(mlp.I_SIZE, dtype=np.int64)
        iv[mlp.I_L], iv[mlp.I_NTRAIN], iv[mlp.I_B] = L, s.n_train, B
        iv[mlp.I_MINB], iv[mlp.I_SAMPLED] = s._min_batch, int(B < s.n_train)
        iv[mlp.I_LOSS] = mlp.LOSS[p.loss_name]
        for i, name in enumerate(model.activations):
            lay[i, mlp.L_ACT] = mlp.ACT[name]
        iv[mlp.I_BN], iv[mlp.I_NOUT], iv[mlp.I_NP] = int(model.batch_norm), model.n_out, n_par
        iv[mlp.I_NW], iv[mlp.I_NIN] = self.widx.size, model.n_in
        self.fv = np.zeros(mlp.F_SIZE)
        self.drop = np.array([*model.dropout_p, 0.0])  # per dense layer; the output layer has none
        self.dkey = np.array([model.dropout_key], dtype=np.uint64)

    def _load_hyper(self, s: Session) -> tuple:
        """Copy what may change between runs (optimizer, penalties, clipping) into iv / fv."""
        mlp, iv, fv, opt = self.mlp, self.iv, self.fv, s.optimizer
        code, arrays = _optimizer_arrays(opt)
        h = opt.hyper
        iv[mlp.I_OPT] = code
        iv[mlp.I_NEST] = int(h.get("nesterov", False))
        iv[mlp.I_AMS] = int(h.get("amsgrad", False))
        iv[mlp.I_CENT] = int(h.get("centered", False))
        iv[mlp.I_DECOUP] = int(getattr(opt, "decoupled", False))
        iv[mlp.I_OSTEP] = opt.state["step"]
        fv[mlp.F_L1], fv[mlp.F_L2] = s._l1, s._l2
        fv[mlp.F_CLIPN], fv[mlp.F_CLIPV] = s._clip_norm, s._clip_value
        fv[mlp.F_MOM], fv[mlp.F_DAMP] = h.get("momentum", 0.0), h.get("dampening", 0.0)
        fv[mlp.F_WD], fv[mlp.F_EPS] = h.get("weight_decay", 0.0), h.get("eps", 0.0)
        fv[mlp.F_B1], fv[mlp.F_B2] = h.get("betas", (0.0, 0.0))
        fv[mlp.F_ALPHA], fv[mlp.F_RHO], fv[mlp.F_LRDEC] = h.get("alpha", 0.0), h.get("rho", 0.0), h.get(
            "lr_decay", 0.0)
        return arrays

    def run(self, s: Session, n: int) -> int:
        """Train up to n steps of `s` exactly as Session._run_steps does; returns the steps done."""
        mlp, iv, fv, hist = self.mlp, self.iv, self.fv, s.history
        s1, s2, s3 = self._load_hyper(s)
        L = s.n_layers

        def col(name):
            a = hist.data[name]
            return a if a.ndim == 2 else a.reshape(-1, 1)
        h_gn, h_wn, h_ur = col("grad_norm"), col("weight_norm"), col("update_ratio")
        iv[mlp.I_HCAP] = hist.capacity
        done = 0
        tried_lr: float = 0  # the rate of the last step tried; read only once tried_any
        tried_any = False
        while done < n:
            if hist.n == hist.capacity:
                hist._thin()
            k = min(n - done, MAX_CHUNK)
            saved = _schedule_rates(s.schedule, k, self.lrs)
            pos0 = s._pos
            perms, states = self._perms_ahead(s, k)
            iv[mlp.I_POS], iv[mlp.I_HN], iv[mlp.I_STEP] = pos0, hist.n, s.step
            iv[mlp.I_PROW], iv[mlp.I_PROWS] = 0, len(perms)
            mlp.train(k, iv, fv, self.fp, s.theta, s.grad, self.prev, self.lay, self.wo, self.work, self.wg,
                      self.iw, self.rs, self.x, self.yf, self.yi, perms, self.widx, s1, s2, s3, self.lrs,
                      hist.steps, hist.data["loss"], hist.data["lr"], h_gn, h_wn, h_ur, self.gn, self.sc,
                      self.drop, self.dkey)
            got, status, tried = int(iv[mlp.I_DONE]), int(iv[mlp.I_STATUS]), int(iv[mlp.I_TRIED])
            _rewind_schedule(s.schedule, saved, k, got)
            s._pos, hist.n, s.step = int(iv[mlp.I_POS]), int(iv[mlp.I_HN]), int(iv[mlp.I_STEP])
            s.optimizer.state["step"] = int(iv[mlp.I_OSTEP])
            used = int(iv[mlp.I_PROW])  # the epochs begun: rows 1..used of perms
            if states:
                if used < len(perms) - 1:  # the generator as if only the used ones had been drawn
                    s.rngs["batch"].bit_generator.state = states[used]
                if used:
                    s._perm = perms[used].copy()
            if s.batch_log is not None:
                self._log_batches(s, s.batch_log, perms if states else None, pos0, got, used)
            done += got
            if tried:
                tried_any, tried_lr = True, float(self.lrs[tried - 1])
                if iv[mlp.I_SAMPLED]:
                    start = int(iv[mlp.I_LASTB])
                    s.last_batch = s._perm[start:start + s.batch_size]
            if status == mlp.NEED_PERM:
                s._perm = s.rngs["batch"].permutation(s.n_train)
                s._pos = 0
            elif status >= mlp.HALT_LOSS:
                loss = float(fv[mlp.F_LOSSV])
                what = {mlp.HALT_LOSS: "loss", mlp.HALT_GRAD: "gradient"}.get(status, "parameters")
                s._halt(s._nan_message(what, loss))
                break
        if tried_any:
            s.optimizer.lr = tried_lr
            if not iv[mlp.I_SAMPLED]:
                s.last_batch = None
        if done:
            i = hist.n - 1
            s.last_loss = float(hist.data["loss"][i])
            s.grad_norms = h_gn[i].copy() if L > 1 else np.array([h_gn[i, 0]])
        return done

    def _perms_ahead(self, s: Session, k: int) -> tuple[np.ndarray, list[Mapping[str, Any]]]:
        """Row 0: the current epoch's permutation; then the next epochs' that k steps may begin,
        drawn now from the session's batch generator, whose state after each draw is listed (to
        rewind it to the draws used). Full-batch training: the one row, and no states."""
        if not self.iv[self.mlp.I_SAMPLED]:
            return s._perm.reshape(1, -1), []
        n = s.n_train
        rows = max(1, min(1 + -(-k // max(1, n // s.batch_size)), PERM_AHEAD // n))
        perms = np.empty((rows, n), dtype=np.int64)
        perms[0] = s._perm
        rng = s.rngs["batch"]
        states = [rng.bit_generator.state]
        for j in range(1, rows):
            perms[j] = rng.permutation(n)
            states.append(rng.bit_generator.state)
        return perms, states

    @staticmethod
    def _log_batches(s: Session, log: BatchLog, perms: np.ndarray | None, pos0: int, got: int, used: int) -> None:
        """The batch log's rows for the `got` steps of one kernel call: consecutive batches of row 0
        from pos0 on to its epoch's end, then of each next row in turn (None: full batches)."""
        if perms is None:
            log.add_run(None, pos0, got, s.batch_size)
            return
        start, left = pos0, got
        for j in range(used + 1):
            take = left if j == used else min(left, s.batches_left(start))
            log.add_run(perms[j], start, take, s.batch_size)
            start, left = 0, left - take


# ----------------------------------------------------------------------------- landscapes
def _coordinate_update(code, hyper, t, lr, step_size, bc2, gk, th, mk, vk, uk, sqrt):
    """One coordinate of the optimizer's update function, in its order: (θ, m, v, u) after the step.

    m, v, u are the optimizer's per-coordinate state (momentum buffer / sum / first moment, second
    moment, centred or max average) as the code uses them; step_size and bc2 are the per-step scalars.
    """
    coupled_wd, wd, decoupled, mu, damp, nesterov, eps, alpha, centered, rho, b1, b2, ams = hyper
    if coupled_wd:
        gk = th * wd + gk
    if code == 4:                                        # adam_update
        if decoupled and wd != 0:
            th = th * (1 - lr * wd)
        mk = mk + (gk - mk) * (1 - b1)
        vk = vk * b2 + gk * (1 - b2) * gk
        if ams:
            uk = uk if (uk >= vk or uk != uk) else vk    # np.maximum
            return th - (mk * step_size) / (sqrt(uk) / bc2 + eps), mk, vk, uk
        return th - (mk * step_size) / (sqrt(vk) / bc2 + eps), mk, vk, uk
    if code == 0:                                        # sgd_update
        if mu != 0:
            if t == 1:
                mk = gk
            elif damp == 0:
                mk = mk * mu + gk
            else:
                mk = mk * mu + gk * (1 - damp)
            gk = gk + mk * mu if nesterov else mk
        return th - gk * lr, mk, vk, uk
    if code == 1:                                        # adagrad_update (step_size: the decayed rate)
        mk = mk + gk * gk
        return th - (gk * step_size) / (sqrt(mk) + eps), mk, vk, uk
    if code == 2:                                        # rmsprop_update
        c = 1 - alpha
        mk = mk * alpha + gk * c * gk
        if centered:
            uk = uk + (gk - uk) * c
            avg = sqrt(mk - uk * uk) + eps
        else:
            avg = sqrt(mk) + eps
        if mu > 0:
            vk = vk * mu + gk / avg
            return th - vk * lr, mk, vk, uk
        return th - (gk * lr) / avg, mk, vk, uk
    c = 1 - rho                                          # adadelta_update
    mk = mk * rho + gk * c * gk
    delta = sqrt(vk + eps) / sqrt(mk + eps) * gk
    vk = vk * rho + delta * c * delta
    return th - delta * lr, mk, vk, uk


def run_landscape(s: Session, n: int) -> int:
    """Session._run_steps for a 2-D landscape with a first-order optimizer, on Python floats.

    The loss and gradient come from the landscape's own f and grad_fn called as the reference calls
    them; each update is the optimizer's update function written out per coordinate, in its order
    (Python's float arithmetic, math.sqrt and ** are the same IEEE operations and C pow as numpy's).
    """
    assert isinstance(s.problem, LandscapeProblem)
    land, opt, sched, hist = s.problem.landscape, s.optimizer, s.schedule, s.history
    f, grad_fn = land.f, land.grad_fn
    theta, grad = s.theta, s.grad
    h, st = opt.hyper, opt.state
    code, (a1, a2, a3) = _optimizer_arrays(opt)
    m = [float(v) for v in a1] if a1.size == 2 else None
    v = [float(x) for x in a2] if a2.size == 2 else None
    u = [float(x) for x in a3] if a3.size == 2 else None
    wd = h.get("weight_decay", 0.0)
    decoupled = getattr(opt, "decoupled", False)
    coupled_wd = wd != 0 and not decoupled
    mu, damp, nesterov = h.get("momentum", 0.0), h.get("dampening", 0.0), h.get("nesterov", False)
    eps, lr_decay, alpha, rho = h.get("eps", 0.0), h.get("lr_decay", 0.0), h.get("alpha", 0.0), h.get("rho", 0.0)
    centered, ams = h.get("centered", False), h.get("amsgrad", False)
    b1, b2 = h.get("betas", (0.0, 0.0))
    clip_norm, clip_value = s._clip_norm, s._clip_value
    cap, steps = hist.capacity, hist.steps
    c_loss, c_lr, c_gn, c_wn, c_ur, c_x, c_y = (
        hist.data[k] for k in ("loss", "lr", "grad_norm", "weight_norm", "update_ratio", "x", "y"))
    constant_lr = sched.name == "constant"
    hyper = (coupled_wd, wd, decoupled, mu, damp, nesterov, eps, alpha, centered, rho, b1, b2, ams)
    t = st["step"]
    p = [float(theta[0]), float(theta[1])]
    g = [float(grad[0]), float(grad[1])]
    isfinite, sqrt, f64 = math.isfinite, math.sqrt, np.float64
    done, lr = 0, opt.lr
    last_loss = last_gn = None
    # Should grad_fn raise anything else, the finally leaves the session as the reference does:
    # every finished step written back.
    try:
        for _ in range(n):
            lr = sched.lr
            x0, y0 = p
            loss = float(f(f64(x0), f64(y0)))
            try:
                gx, gy = grad_fn(x0, y0)
                g = [float(gx), float(gy)]
            except OverflowError:                        # as Session._loss_and_grad: a halt
                g = [math.inf, math.inf]
            gn = sqrt(g[0] * g[0] + g[1] * g[1])             # reduceat of two squares
            if not (isfinite(loss) and isfinite(gn)):
                s._halt(s._nan_message("loss" if not isfinite(loss) else "gradient", loss))
                break
            if clip_norm > 0:                                # the very numpy call, for its ddot
                grad[0], grad[1] = g
                optim.clip_grad_norm_(grad, clip_norm)
                g = [float(grad[0]), float(grad[1])]
            if clip_value > 0:
                g = [min(max(gk, -clip_value), clip_value) for gk in g]
            t += 1
            if code == 4:                                    # per-step scalars of adam_update
                step_size, bc2 = lr / (1 - b1 ** t), (1 - b2 ** t) ** 0.5
            elif code == 1:
                step_size, bc2 = lr / (1 + (t - 1) * lr_decay), 0.0   # adagrad's decayed rate
            else:
                step_size = bc2 = 0.0
            for k in (0, 1):
                args = (code, hyper, t, lr, step_size, bc2, g[k], p[k],
                        m[k] if m else 0.0, v[k] if v else 0.0, u[k] if u else 0.0)
                try:
                    th, mk, vk, uk = _coordinate_update(*args, sqrt)
                except (ZeroDivisionError, ValueError):
                    # Python raises where numpy returns inf/nan (x/0, sqrt of a rounding-negative
                    # variance): redo this coordinate with numpy scalars, whose results are IEEE's
                    # (unpacked by name: mypy cannot count the arguments of a *generator)
                    gk64, th64, mk64, vk64, uk64 = (np.float64(a) for a in args[6:])
                    th, mk, vk, uk = (float(r) for r in _coordinate_update(
                        *args[:6], gk64, th64, mk64, vk64, uk64, np.sqrt))
                p[k] = th
                if m:
                    m[k] = mk
                if v:
                    v[k] = vk
                if u:
                    u[k] = uk
            if not (isfinite(p[0]) and isfinite(p[1])):
                p = [x0, y0]
                s._halt(s._nan_message("parameters", loss))
                break
            dx, dy = p[0] - x0, p[1] - y0
            wn = sqrt(p[0] * p[0] + p[1] * p[1])
            if hist.n == cap:
                hist._thin()
            i = hist.n
            steps[i], c_loss[i], c_lr[i], c_gn[i], c_wn[i] = s.step, loss, lr, gn, wn
            c_ur[i], c_x[i], c_y[i] = sqrt(dx * dx + dy * dy) / max(wn, 1e-300), x0, y0
            hist.n = i + 1
            last_loss, last_gn = loss, gn
            if constant_lr:
                sched.last_step += 1
            else:
                sched.step()
            s.step += 1
            done += 1
    finally:
        # write back what the reference keeps in arrays
        theta[0], theta[1] = p
        grad[0], grad[1] = g
        opt.lr = lr
        st["step"] = t
        if last_loss is not None:
            s.last_loss, s.grad_norms = last_loss, np.array([last_gn])
        for arr, vals in ((a1, m), (a2, v), (a3, u)):
            if vals is not None:
                arr[0], arr[1] = vals
        s.last_batch = None
    return done
