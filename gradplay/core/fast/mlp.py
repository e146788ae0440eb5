"""The compiled training loop for dataset tasks: MLP forward, loss, backward, optimizer, history.

One call runs up to n steps of `Session._run_steps` without returning to Python, and stops early
when Python must act: the epochs' permutations Python drew ahead from the session's generator are
used up, the history is full (Python thins it), or a value stopped being finite (a halt). Every
operation repeats the numpy reference (nn.py, losses.py, optimizers/, session.py) in the same order
with the same routines, so the results are bit-identical; the comments name the reference line each
block stands for.
"""
from __future__ import annotations

import math
from typing import Literal, TypedDict

import numba as nb
import numpy as np

from ..dropout import GOLDEN as _GOLDEN_INT
from ..dropout import MIX1 as _MIX1_INT
from ..dropout import MIX2 as _MIX2_INT
from ..nn import _GELU_C, _GELU_K
from ..nn import BN_EPS as _BN_EPS
from ..nn import BN_MOMENTUM as _BN_MOM
from ..nn import LEAKY_SLOPE as _LEAKY
from .prims import (
    F_EXP,
    F_EXPM1,
    F_LOG,
    F_LOG1P,
    F_TANH,
    clip,
    cpow,
    dot,
    matmul,
    maximum,
    minimum,
    power_scalar,
    reduce_rows,
    segment_sq_sum,
    sign,
    total,
    ufunc1,
)

# Codes shared with loop.py (which also holds the optimizer codes, loop.OPT).
ACT = {"linear": 0, "relu": 1, "leaky_relu": 2, "elu": 3, "tanh": 4, "sigmoid": 5, "gelu": 6, "silu": 7}
LOSS = {"mse": 0, "mae": 1, "huber": 2, "bce": 3, "cross_entropy": 4, "hinge": 5}

# iv: integer parameters and results
(I_L, I_NTRAIN, I_B, I_MINB, I_POS, I_SAMPLED, I_LOSS, I_OPT, I_BN, I_NOUT, I_NP, I_OSTEP,
 I_HN, I_HCAP, I_STEP, I_NEST, I_AMS, I_CENT, I_DECOUP, I_NW, I_NIN,
 I_DONE, I_STATUS, I_LASTB, I_TRIED, I_PROW, I_PROWS, I_SIZE) = range(28)
# fv: float parameters and results
(F_L1, F_L2, F_CLIPN, F_CLIPV, F_MOM, F_DAMP, F_WD, F_B1, F_B2, F_EPS, F_ALPHA, F_RHO, F_LRDEC,
 F_LOSSV, F_SIZE) = range(15)
# lay columns: per dense layer (L_ACT: the activation code after it; a hidden layer's own)
(L_FIN, L_FOUT, L_W, L_B, L_G, L_BETA, L_RS, L_START, L_LEN, L_ACT, L_SIZE) = range(11)
# wo columns: work offsets per layer (W_A: the next layer's input, h·m with dropout, else W_H;
# W_M: dropout's multipliers)
(W_Z, W_Y, W_H, W_XH, W_D, W_MEAN, W_VAR, W_INV, W_A, W_M, W_SIZE) = range(11)
# offsets of shared work regions (wg)
(G_XB, G_YB, G_T1, G_T2, G_T3, G_P1, G_P2, G_P3, G_C3, G_SIZE) = range(10)
# status
DONE, NEED_PERM, HIST_FULL, HALT_LOSS, HALT_GRAD, HALT_PARAMS = range(6)


class _JitOptions(TypedDict):  # typed, so that njit(**J) matches numba's annotated signature
    cache: bool
    error_model: Literal["python", "numpy"]


J = _JitOptions(cache=True, error_model="numpy")  # IEEE results (inf/nan) instead of exceptions; vectorisable


# dropout.py's hash constants as uint64 (Numba folds them; an int literal would make int64 or float maths)
_GOLDEN, _MIX1, _MIX2 = np.uint64(_GOLDEN_INT), np.uint64(_MIX1_INT), np.uint64(_MIX2_INT)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_ULP53 = 2.0 ** -53


@nb.njit(**J)
def _mix(z):
    """dropout.mix: SplitMix64's finaliser, wrapping uint64 arithmetic."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@nb.njit(**J)
def _dropout(key, step, layer, p, h, m, a):
    """MLP.forward's dropout (dropout.mask): m = 1/(1 − p) where the hash u >= p else 0; a = h·m.
    h, m, a are the layer's (rows × width) values flat, row-major, so k is dropout.py's e."""
    k1 = _mix(key + _GOLDEN * np.uint64(step + 1))
    k2 = _mix(k1 + _GOLDEN * np.uint64(layer + 1))
    keep = 1.0 / (1.0 - p)
    for k in range(h.size):
        u = np.float64(_mix(k2 + np.uint64(k + 1) * _GOLDEN) >> _S11) * _ULP53
        v = keep if u >= p else 0.0
        m[k] = v
        a[k] = h[k] * v


# Loops below run over slices (v = w[o:o + n]) rather than w[o + i]: plain counters let LLVM vectorise.
@nb.njit(**J)
def _sigmoid(fp, z, out, tmp, sc):
    """nn.sigmoid: e = exp(-|z|); where(z >= 0, 1, e) / (1 + e). All three are equal-length slices."""
    n = z.size
    for i in range(n):
        tmp[i] = -abs(z[i])
    ufunc1(fp[F_EXP], tmp, 0, tmp, 0, n, sc)
    for i in range(n):
        e = tmp[i]
        out[i] = (1.0 if z[i] >= 0 else e) / (1.0 + e)


@nb.njit(**J)
def _gelu_parts(fp, z, zc, t, c3, sc):
    """nn._gelu_parts: zc = clip(z, -10, 10) and t = tanh(c (zc + k zc**3)) (c3 holds the 3)."""
    n = z.size
    for i in range(n):
        zc[i] = clip(z[i], -10.0, 10.0)
    power_scalar(fp, zc, 0, c3, 0, t, 0, n, sc)
    for i in range(n):
        t[i] = _GELU_C * (zc[i] + _GELU_K * t[i])
    ufunc1(fp[F_TANH], t, 0, t, 0, n, sc)


@nb.njit(**J)
def _activate(fp, act, z, h, t1, t2, c3, sc):
    """h = f(z) for activation code `act` (nn._ACT[...].f); t1, t2 are scratch of the same length."""
    n = z.size
    if act == 0:
        for i in range(n):
            h[i] = z[i]
    elif act == 1:
        for i in range(n):
            v = z[i]
            h[i] = 0.0 if v < 0.0 else v            # np.maximum(z, 0): nan and -0.0 stay
    elif act == 2:
        for i in range(n):
            v = z[i]
            h[i] = v if v > 0 else _LEAKY * v
    elif act == 3:
        for i in range(n):
            t1[i] = minimum(z[i], 0.0)
        ufunc1(fp[F_EXPM1], t1, 0, t1, 0, n, sc)
        for i in range(n):
            v = z[i]
            h[i] = v if v > 0 else t1[i]
    elif act == 4:
        ufunc1(fp[F_TANH], z, 0, h, 0, n, sc)
    elif act == 5:
        _sigmoid(fp, z, h, t1, sc)
    elif act == 6:
        _gelu_parts(fp, z, t1, t2, c3, sc)
        for i in range(n):
            h[i] = 0.5 * z[i] * (1.0 + t2[i])
    else:
        _sigmoid(fp, z, t2, t1, sc)
        for i in range(n):
            h[i] = z[i] * t2[i]


@nb.njit(**J)
def _times_dact(fp, act, y, h, d, t1, t2, c3, sc):
    """d *= df(y, h) for activation code `act` (nn._ACT[...].df); linear has no multiply."""
    n = y.size
    if act == 1:
        for i in range(n):
            d[i] = d[i] * (1.0 if y[i] > 0.0 else 0.0)
    elif act == 2:
        for i in range(n):
            d[i] = d[i] * (1.0 if y[i] > 0 else _LEAKY)
    elif act == 3:
        for i in range(n):
            t1[i] = minimum(y[i], 0.0)
        ufunc1(fp[F_EXP], t1, 0, t1, 0, n, sc)
        for i in range(n):
            d[i] = d[i] * (1.0 if y[i] > 0 else t1[i])
    elif act == 4:
        for i in range(n):
            v = h[i]
            d[i] = d[i] * (1.0 - v * v)
    elif act == 5:
        for i in range(n):
            v = h[i]
            d[i] = d[i] * (v * (1.0 - v))
    elif act == 6:
        _gelu_parts(fp, y, t1, t2, c3, sc)
        k3 = 3.0 * _GELU_K
        for i in range(n):
            t, zc = t2[i], t1[i]
            d[i] = d[i] * (0.5 * (1.0 + t) + 0.5 * zc * (1.0 - t * t) * _GELU_C * (1.0 + k3 * zc * zc))
    elif act == 7:
        _sigmoid(fp, y, t2, t1, sc)
        for i in range(n):
            s = t2[i]
            d[i] = d[i] * (s + h[i] * (1.0 - s))


@nb.njit(**J)
def _loss(fp, code, out, m, c, yf, yi, dout, t1, t2, t3, sc):
    """losses._<code>(out, y) for logits out (m, c) flat: the mean loss; dL/dout into dout."""
    if code == 4:                                     # cross_entropy
        for r in range(m):
            row = out[r * c:(r + 1) * c]
            mx = row[0]
            for j in range(1, c):
                mx = maximum(mx, row[j])
            for j in range(c):
                t1[r * c + j] = row[j] - mx           # shifted
        ufunc1(fp[F_EXP], t1, 0, t2, 0, m * c, sc)    # e
        for r in range(m):
            t3[r] = total(t2, r * c, c)               # s
        ufunc1(fp[F_LOG], t3, 0, t3, m, m, sc)        # log(s)
        for r in range(m):
            t3[m + r] = t3[m + r] - t1[r * c + yi[r]]
        value = total(t3, m, m) / m
        for r in range(m):
            s = t3[r]
            for j in range(c):
                dout[r * c + j] = t2[r * c + j] / s
            k = r * c + yi[r]
            dout[k] = dout[k] - 1.0
        for i in range(m * c):
            dout[i] = dout[i] / m
        return value
    if code == 3:                                     # bce
        for r in range(m):
            t1[r] = -abs(out[r])
        ufunc1(fp[F_EXP], t1, 0, t1, 0, m, sc)        # e
        ufunc1(fp[F_LOG1P], t1, 0, t2, 0, m, sc)      # log1p(e)
        for r in range(m):
            x = out[r]
            t3[r] = maximum(x, 0.0) - x * yf[r] + t2[r]
        value = total(t3, 0, m) / m
        for r in range(m):
            x, e = out[r], t1[r]
            p = (1.0 if x >= 0 else e) / (1.0 + e)
            dout[r] = (p - yf[r]) / m
        return value
    if code == 5:                                     # hinge
        for r in range(m):
            y = yf[r]
            margin = 1.0 - y * out[r]
            t1[r] = maximum(margin, 0.0)
            dout[r] = (-y if margin > 0 else 0.0) / m
        return total(t1, 0, m) / m
    for r in range(m):                                # mse, mae, huber: residual d
        t1[r] = out[r] - yf[r]
    if code == 0:
        one = np.int64(1)
        value = dot(fp, t1, 0, one, t1, 0, one, m) / m
        k = 2.0 / m
        for r in range(m):
            dout[r] = k * t1[r]
        return value
    if code == 1:
        for r in range(m):
            t2[r] = abs(t1[r])
            dout[r] = sign(t1[r]) / m
        return total(t2, 0, m) / m
    for r in range(m):                                # huber, delta 1
        d = t1[r]
        ad = abs(d)
        t2[r] = 0.5 * d * d if ad < 1.0 else 1.0 * (ad - 0.5 * 1.0)
        dout[r] = clip(d, -1.0, 1.0) / m
    return total(t2, 0, m) / m


@nb.njit(**J)
def _bn_forward(z, y, xh, mean, var, inv, rm, rv, gamma, beta, m, fo, t1):
    """MLP._bn_forward in train mode: batch statistics, running statistics, y = γ x̂ + β."""
    reduce_rows(z, 0, m, fo, mean, 0)
    for j in range(fo):
        mean[j] = mean[j] / m
    for r in range(m):
        zr, xr, tr = z[r * fo:(r + 1) * fo], xh[r * fo:(r + 1) * fo], t1[r * fo:(r + 1) * fo]
        for j in range(fo):
            xc = zr[j] - mean[j]
            xr[j] = xc
            tr[j] = xc * xc
    reduce_rows(t1, 0, m, fo, var, 0)
    keep = 1.0 - _BN_MOM
    unbias = _BN_MOM * m / (m - 1)
    for j in range(fo):
        var[j] = var[j] / m
        rm[j] = rm[j] * keep + _BN_MOM * mean[j]
        rv[j] = rv[j] * keep + unbias * var[j]
        inv[j] = 1.0 / math.sqrt(var[j] + _BN_EPS)
    for r in range(m):
        xr, yr = xh[r * fo:(r + 1) * fo], y[r * fo:(r + 1) * fo]
        for j in range(fo):
            xhat = xr[j] * inv[j]
            xr[j] = xhat
            yr[j] = xhat * gamma[j] + beta[j]


@nb.njit(**J)
def _bn_backward(d, xh, inv, gamma, dgamma, dbeta, m, fo, t1):
    """MLP._bn_backward in train mode, in place on d: dβ, dγ, then γ/σ (dy − (dβ + x̂ dγ)/n)."""
    reduce_rows(d, 0, m, fo, dbeta, 0)
    for k in range(m * fo):
        t1[k] = d[k] * xh[k]
    reduce_rows(t1, 0, m, fo, dgamma, 0)
    for r in range(m):
        dr, xr = d[r * fo:(r + 1) * fo], xh[r * fo:(r + 1) * fo]
        for j in range(fo):
            scale = gamma[j] * inv[j]
            dr[j] = scale * (dr[j] - (dbeta[j] + xr[j] * dgamma[j]) / m)


@nb.njit(**J)
def _forward_backward(fp, iv, fv, theta, grad, lay, wo, w, wg, rs, iw, widx, m, sc, drop, dkey):
    """Session._forward_backward on the batch in w[XB:] (m rows): loss with penalties, grad filled."""
    L, bn = iv[I_L], iv[I_BN]
    one = np.int64(1)  # not the literal 1 (see prims)
    c3 = w[wg[G_C3]:wg[G_C3] + 1]
    # ---- MLP.forward(train=True)
    ao = wg[G_XB]
    for i in range(L):
        fi, fo = lay[i, L_FIN], lay[i, L_FOUT]
        n = m * fo
        zo = wo[i, W_Z]
        matmul(fp, w, ao, fi, one, theta, lay[i, L_W], fo, one, w, zo, fo, one, m, fi, fo)   # z = a @ W
        z, b = w[zo:zo + n], theta[lay[i, L_B]:lay[i, L_B] + fo]
        for r in range(m):
            zr = z[r * fo:(r + 1) * fo]
            for j in range(fo):
                zr[j] = zr[j] + b[j]                                                      # z += b
        if i == L - 1:
            break
        t1, t2 = w[wg[G_T1]:wg[G_T1] + n], w[wg[G_T2]:wg[G_T2] + n]
        y = z
        if bn:
            yo, rso = wo[i, W_Y], lay[i, L_RS]
            y = w[yo:yo + n]
            _bn_forward(z, y, w[wo[i, W_XH]:wo[i, W_XH] + n], w[wo[i, W_MEAN]:wo[i, W_MEAN] + fo],
                        w[wo[i, W_VAR]:wo[i, W_VAR] + fo], w[wo[i, W_INV]:wo[i, W_INV] + fo],
                        rs[rso:rso + fo], rs[rso + fo:rso + 2 * fo], theta[lay[i, L_G]:lay[i, L_G] + fo],
                        theta[lay[i, L_BETA]:lay[i, L_BETA] + fo], m, fo, t1)
        ho = wo[i, W_H]
        _activate(fp, lay[i, L_ACT], y, w[ho:ho + n], t1, t2, c3, sc)                      # h = f(y)
        ao = wo[i, W_A]
        if drop[i] > 0.0:                                                                 # a = h·m
            mo = wo[i, W_M]
            _dropout(dkey[0], iv[I_STEP], i, drop[i], w[ho:ho + n], w[mo:mo + n], w[ao:ao + n])
    # ---- loss and dL/dlogits
    zl, c = wo[L - 1, W_Z], lay[L - 1, L_FOUT]
    dl = wo[L - 1, W_D]
    t1, t2, t3 = wg[G_T1], wg[G_T2], wg[G_T3]
    yb = wg[G_YB]
    loss = _loss(fp, iv[I_LOSS], w[zl:zl + m * c], m, c, w[yb:yb + m], iw, w[dl:dl + m * c],
                 w[t1:t1 + 2 * m * c], w[t2:t2 + 2 * m * c], w[t3:t3 + 2 * m * c], sc)
    # ---- MLP.backward
    for i in range(L - 1, -1, -1):
        fi, fo = lay[i, L_FIN], lay[i, L_FOUT]
        dz = wo[i, W_D]
        ai = wg[G_XB] if i == 0 else wo[i - 1, W_A]
        matmul(fp, w, ai, one, fi, w, dz, fo, one, grad, lay[i, L_W], fo, one, fi, m, fo)     # dW = a.T @ dz
        reduce_rows(w, dz, m, fo, grad, lay[i, L_B])                                       # db
        if i == 0:
            break                                         # dL/dx is not needed
        da = wo[i - 1, W_D]
        matmul(fp, w, dz, fo, one, theta, lay[i, L_W], one, fo, w, da, fi, one, m, fo, fi)    # da = dz @ W.T
        n = m * fi
        d = w[da:da + n]
        yo = wo[i - 1, W_Y] if bn else wo[i - 1, W_Z]
        ho = wo[i - 1, W_H]
        t1v, t2v = w[t1:t1 + n], w[t2:t2 + n]
        if drop[i - 1] > 0.0:                                                             # da *= m
            mv = w[wo[i - 1, W_M]:wo[i - 1, W_M] + n]
            for k in range(n):
                d[k] = d[k] * mv[k]
        act = lay[i - 1, L_ACT]
        if act != 0:
            _times_dact(fp, act, w[yo:yo + n], w[ho:ho + n], d, t1v, t2v, c3, sc)
        if bn:
            j0 = i - 1
            go, beo, xo, io = lay[j0, L_G], lay[j0, L_BETA], wo[j0, W_XH], wo[j0, W_INV]
            _bn_backward(d, w[xo:xo + n], w[io:io + fi], theta[go:go + fi], grad[go:go + fi],
                         grad[beo:beo + fi], m, fi, t1v)
    # ---- penalties (losses.penalty, losses.add_penalty_grad), weights only
    l1, l2 = fv[F_L1], fv[F_L2]
    if l1 != 0.0 or l2 != 0.0:
        nw = iv[I_NW]
        wv, av = w[wg[G_P1]:wg[G_P1] + nw], w[wg[G_P2]:wg[G_P2] + nw]
        for k in range(nw):
            v = theta[widx[k]]
            wv[k] = v
            av[k] = abs(v)
        pen = l1 * total(av, 0, nw) + l2 * dot(fp, wv, 0, one, wv, 0, one, nw)
        loss = loss + pen
        l22 = 2.0 * l2
        for k in range(nw):
            v = wv[k]
            grad[widx[k]] = grad[widx[k]] + (l1 * sign(v) + l22 * v)
    return loss


@nb.njit(**J)
def _optimizer_step(iv, fv, fp, theta, grad, s1, s2, s3, lr, gw):
    """Optimizer.step: the `<name>_update` function of optimizers/<name>.py for the optimizer code."""
    n, code = iv[I_NP], iv[I_OPT]
    t = iv[I_OSTEP] + 1
    iv[I_OSTEP] = t
    wd = fv[F_WD]
    g = grad
    if wd != 0 and not (code == 4 and iv[I_DECOUP]):     # _add_weight_decay: g = θλ + grad
        for k in range(n):
            gw[k] = theta[k] * wd + grad[k]
        g = gw
    if code == 0:                                        # sgd_update
        mu, damp = fv[F_MOM], 1 - fv[F_DAMP]
        if mu != 0:
            buf = s1
            if t == 1:
                for k in range(n):
                    buf[k] = g[k]
            elif fv[F_DAMP] == 0:
                for k in range(n):
                    buf[k] = buf[k] * mu + g[k]
            else:
                for k in range(n):
                    buf[k] = buf[k] * mu + g[k] * damp
            if iv[I_NEST]:
                for k in range(n):
                    theta[k] = theta[k] - (g[k] + buf[k] * mu) * lr
            else:
                for k in range(n):
                    theta[k] = theta[k] - buf[k] * lr
        else:
            for k in range(n):
                theta[k] = theta[k] - g[k] * lr
    elif code == 1:                                      # adagrad_update
        clr = lr / (1 + (t - 1) * fv[F_LRDEC])
        e = fv[F_EPS]
        for k in range(n):
            s1[k] = s1[k] + g[k] * g[k]
        for k in range(n):
            theta[k] = theta[k] - (g[k] * clr) / (math.sqrt(s1[k]) + e)
    elif code == 2:                                      # rmsprop_update
        a, c, e, mu = fv[F_ALPHA], 1 - fv[F_ALPHA], fv[F_EPS], fv[F_MOM]
        for k in range(n):
            s1[k] = s1[k] * a + g[k] * c * g[k]
        if iv[I_CENT]:
            for k in range(n):
                s3[k] = s3[k] + (g[k] - s3[k]) * c
        for k in range(n):
            avg = (math.sqrt(s1[k] - s3[k] * s3[k]) if iv[I_CENT] else math.sqrt(s1[k])) + e
            if mu > 0:
                s2[k] = s2[k] * mu + g[k] / avg
                theta[k] = theta[k] - s2[k] * lr
            else:
                theta[k] = theta[k] - (g[k] * lr) / avg
    elif code == 3:                                      # adadelta_update
        r, c, e = fv[F_RHO], 1 - fv[F_RHO], fv[F_EPS]
        for k in range(n):
            s1[k] = s1[k] * r + g[k] * c * g[k]
        for k in range(n):
            delta = math.sqrt(s2[k] + e) / math.sqrt(s1[k] + e) * g[k]
            s2[k] = s2[k] * r + delta * c * delta
            theta[k] = theta[k] - delta * lr
    else:                                                # adam_update / AdamW
        if wd != 0 and iv[I_DECOUP]:
            decay = 1 - lr * wd
            for k in range(n):
                theta[k] = theta[k] * decay
        b1, b2 = fv[F_B1], fv[F_B2]
        c1, c2, e = 1 - b1, 1 - b2, fv[F_EPS]
        step_size = lr / (1 - cpow(fp, b1, t))
        bc2_sqrt = cpow(fp, 1 - cpow(fp, b2, t), 0.5)
        for k in range(n):                               # one store per loop: each one vectorises
            s1[k] = s1[k] + (g[k] - s1[k]) * c1
        for k in range(n):
            s2[k] = s2[k] * b2 + g[k] * c2 * g[k]
        v = s2
        if iv[I_AMS]:
            for k in range(n):
                s3[k] = maximum(s3[k], s2[k])
            v = s3
        for k in range(n):
            theta[k] = theta[k] - (s1[k] * step_size) / (math.sqrt(v[k]) / bc2_sqrt + e)


@nb.njit(**J)
def _norms(lay, L, v, out):
    """Session._layer_norms: sqrt of each layer's reduceat sum of squares."""
    for i in range(L):
        out[i] = math.sqrt(segment_sq_sum(v, lay[i, L_START], lay[i, L_LEN]))


@nb.njit(nogil=True, **J)   # releases the GIL: a GUI can train in a thread while it draws
def train(n, iv, fv, fp, theta, grad, prev, lay, wo, w, wg, iw, rs, x, yf, yi, perms, widx,
          s1, s2, s3, lrs, h_step, h_loss, h_lr, h_gn, h_wn, h_ur, gn, sc, drop, dkey):
    """Up to n steps of Session._run_steps; counts and the stop reason are left in iv.

    perms: the current epoch's permutation (row I_PROW, 0 at the call) and the next epochs', drawn
    ahead (I_PROWS rows in all); a new epoch moves to the next row, and once none is left the call
    returns NEED_PERM. I_PROW is left at the row of the last epoch begun.
    """
    L, nin, ntrain, bsz = iv[I_L], iv[I_NIN], iv[I_NTRAIN], iv[I_B]
    npar, cap = iv[I_NP], iv[I_HCAP]
    clipn, clipv = fv[F_CLIPN], fv[F_CLIPV]
    xb, yb = wg[G_XB], wg[G_YB]
    gw, delta = w[wg[G_P3]:wg[G_P3] + npar], w[wg[G_P2]:wg[G_P2] + npar]
    wn = np.empty(L)
    dn = np.empty(L)
    zero, one = np.int64(0), np.int64(1)
    iv[I_STATUS] = DONE
    iv[I_DONE] = 0
    iv[I_TRIED] = 0
    for it in range(n):
        if iv[I_HN] == cap:
            iv[I_STATUS] = HIST_FULL
            break
        # ---- Session._next_batch
        pos = 0
        if iv[I_SAMPLED]:
            pos = iv[I_POS]
            if pos >= ntrain or (iv[I_MINB] > 1 and ntrain - pos < iv[I_MINB]):
                if iv[I_PROW] + 1 >= iv[I_PROWS]:
                    iv[I_STATUS] = NEED_PERM
                    break
                iv[I_PROW] += 1                          # self._perm = rng.permutation(n), drawn ahead
                pos = 0
            m = min(bsz, ntrain - pos)
            iv[I_LASTB] = pos
            iv[I_POS] = pos + bsz
        else:
            m = ntrain
        row = iv[I_PROW]
        for r in range(m):                               # xb, yb = x_train[idx], y_train[idx]
            s = perms[row, pos + r] if iv[I_SAMPLED] else r
            for j in range(nin):
                w[xb + r * nin + j] = x[s * nin + j]
            w[yb + r] = yf[s]
            iw[r] = yi[s] if yi.size > 1 else 0
        iv[I_TRIED] += 1
        lr = lrs[it]
        loss = _forward_backward(fp, iv, fv, theta, grad, lay, wo, w, wg, rs, iw, widx, m, sc, drop, dkey)
        fv[F_LOSSV] = loss
        _norms(lay, L, grad, gn)
        finite = True
        for i in range(L):
            if not math.isfinite(gn[i]):
                finite = False
        if not math.isfinite(loss):
            iv[I_STATUS] = HALT_LOSS
            break
        if not finite:
            iv[I_STATUS] = HALT_GRAD
            break
        if clipn > 0:                                    # optim.clip_grad_norm_
            total_norm = math.sqrt(dot(fp, grad, zero, one, grad, zero, one, npar))
            coef = clipn / (total_norm + 1e-6)
            if not coef >= 1.0:
                for k in range(npar):
                    grad[k] = grad[k] * coef
        if clipv > 0:                                    # optim.clip_grad_value_
            for k in range(npar):
                grad[k] = clip(grad[k], -clipv, clipv)
        for k in range(npar):
            prev[k] = theta[k]
        _optimizer_step(iv, fv, fp, theta, grad, s1, s2, s3, lr, gw)
        bad = 0
        for k in range(npar):                            # np.isfinite(theta).all()
            bad += not math.isfinite(theta[k])
        if bad:
            for k in range(npar):
                theta[k] = prev[k]
            iv[I_STATUS] = HALT_PARAMS
            break
        for k in range(npar):
            delta[k] = theta[k] - prev[k]
        _norms(lay, L, delta, dn)
        _norms(lay, L, theta, wn)
        hn = iv[I_HN]
        h_step[hn] = iv[I_STEP]
        h_loss[hn] = loss
        h_lr[hn] = lr
        for i in range(L):
            h_gn[hn, i] = gn[i]
            h_wn[hn, i] = wn[i]
            h_ur[hn, i] = dn[i] / maximum(wn[i], 1e-300)
        iv[I_HN] = hn + 1
        iv[I_STEP] += 1
        iv[I_DONE] += 1
