"""The exact Hessian of a network's batch loss, by forward-over-reverse differentiation.

Pearlmutter's R-operator, R{q} = d/dt q(θ + t·v) at t = 0, is pushed through the forward pass
(R{z}, R{x̂}, R{h}, ..., R{logits}) and then through the backward pass, whose R{∇L} is the
Hessian-vector product H v, exactly: the chain rule autograd applies, written out in float64.
With v = e_k, the k-th unit vector, H v is column k of H. The tangents run as a stack (T, ...), so
one sweep of numpy calls yields a block of T columns.

A unit tangent in layer j moves nothing before layer j, so its forward sweep starts there, seeded
where the parameter enters: W and b in z = a W + b, batch norm's γ and β in y = γ x̂ + β. Its
backward sweep stops at layer j too: the entries it would give for earlier layers are, H being
symmetric, those the earlier layers' tangents give for layer j. So the sweeps fill the blocks on
and right of the diagonal, layer by layer, and the rest is their mirror image.

Conventions follow torch autograd, so Newton's method here and in the exported PyTorch script take
the same Hessian: train mode (batch norm uses the batch's statistics, dropout the step's masks,
which are constants of θ: a hidden layer's output is f(y)·m), and at kinks the
piecewise-linear pieces (relu, leaky_relu, mae, hinge, huber's outer part, L1's |w|) curve 0.
"""
from __future__ import annotations

import numpy as np

from . import losses
from .nn import MLP, activate_grad, activate_grad2

# Tangents per sweep: a stacked array holds T × batch × width numbers; this many keeps it in cache.
_STACK_ELEMENTS = 1 << 17


def network_hessian(model: MLP, x: np.ndarray, y: np.ndarray, loss_name: str, l1: float = 0.0,
                    l2: float = 0.0, theta: np.ndarray | None = None, step: int = 0) -> np.ndarray:
    """Exact Hessian (n_params, n_params) of the batch objective whose gradient training takes:
    mean loss `loss_name`(model(x), y) + l1·Σ|W| + l2·ΣW², with respect to the flat parameters
    (the order of model.theta), in train mode (batch norm normalises with the batch's statistics;
    dropout uses the masks of training step `step`).

    x (n, n_in), y (n,) as the loss consumes them; `theta` (n_params,) is the point, by default
    model.theta. Works on a private copy, so the model's theta, grad, running statistics and caches
    are untouched. The result is exactly symmetric.
    """
    x = np.asarray(x, dtype=np.float64)
    net = model.copy(caches=False)  # the forward pass below makes its own
    if theta is not None:
        net.theta[:] = theta
    out = net.forward(x, train=True, step=step)
    _, dout = losses.loss_and_grad(loss_name, out, y)
    net.backward(dout)

    sweep = _Sweep(net, loss_name, y)
    hess = np.empty((net.theta.size, net.theta.size))
    widest = max(net.hidden + (net.n_out,))
    block = max(1, _STACK_ELEMENTS // max(1, x.shape[0] * widest))
    for j, layer in enumerate(net.layer_slices):
        first, end = layer.start, layer.stop
        for k0 in range(first, end, block):
            k1 = min(k0 + block, end)
            hess[k0:k1, first:] = sweep.hvp_unit(j, k0 - first, k1 - first)
        diag = hess[first:end, first:end]
        diag += diag.T          # the two halves agree to rounding; average them
        diag *= 0.5
        hess[end:, first:end] = hess[first:end, end:].T
    losses.add_penalty_hessian(net.weight_mask, l2, hess)   # L1 is piecewise linear: no curvature
    return hess


class _Sweep:
    """A net after one forward and backward pass on the batch, plus the primal values the R-passes
    need beyond its caches (a, dz, x̂, 1/σ), computed once for all tangents: per hidden layer f'(y)
    and dL/dh·f''(y) at the activation input y, dL/dy and, with batch norm, dγ and the centred dL/dy."""

    def __init__(self, net: MLP, loss_name: str, y: np.ndarray):
        self.net, self.loss_name, self.y = net, loss_name, y
        self.n = net.a[0].shape[0]
        hidden = range(net.n_layers - 1)
        # a hidden layer's output is f(y)·m with dropout's multipliers m (constants): its f'(y)
        # becomes f'(y)·m, and dL/dh·f''(y) becomes (dL/da·m)·f''(y)
        masks = [1.0 if net.m[i] is None else net.m[i] for i in hidden]
        df = [activate_grad(net.activations[i], net._y[i]) for i in hidden]
        da = [(net.dz[i + 1] @ net.W[i + 1].T) * masks[i] for i in hidden]      # dL/dh
        self.da_d2f = [da[i] * activate_grad2(net.activations[i], net._y[i]) for i in hidden]
        self.dy = [da[i] * df[i] for i in hidden]
        self.df = [df[i] * masks[i] for i in hidden]                           # ∂a/∂y of the next layer's input
        if net.batch_norm:
            xhats = [net.bn_cache(i)[0] for i in hidden]
            self.dgamma = [(dy * xhat).sum(axis=0) for dy, xhat in zip(self.dy, xhats)]
            # dz = (γ/σ) · centred, with centred = dy − (Σdy + x̂ Σ(dy x̂)) / n
            self.centred = [dy - (dy.sum(axis=0) + xhat * dg) / self.n
                            for dy, dg, xhat in zip(self.dy, self.dgamma, xhats)]
        # Where each layer's W, b, γ, β start in theta (MLP's layout: per layer W, b, then γ, β).
        self.offsets = []
        for i, layer in enumerate(net.layer_slices):
            fan_in, fan_out = net.W[i].shape
            b0 = layer.start + fan_in * fan_out
            self.offsets.append((layer.start, b0, b0 + fan_out, b0 + 2 * fan_out))

    def hvp_unit(self, j: int, lo: int, hi: int) -> np.ndarray:
        """(T, n_params − start of layer j): row t is H e_k for k = lo + t, restricted to layer j
        and later, for the T = hi − lo unit tangents at positions lo..hi−1 of layer j's block of
        theta (W row-major, then b, γ, β)."""
        net, n = self.net, self.n
        L = net.n_layers
        fan_in, fan_out = net.W[j].shape
        T = hi - lo
        t = np.arange(T)
        # Which parameter each tangent nudges: W[p, q] for k < fan_in·fan_out, then b[q], γ[q], β[q].
        k = np.arange(lo, hi)
        n_w = fan_in * fan_out
        kind = np.where(k < n_w, 0, 1 + (k - n_w) // fan_out)
        q = np.where(k < n_w, k % fan_out, (k - n_w) % fan_out)
        p = k // fan_out                                   # W's row; unused for b, γ, β
        in_w, in_b, in_gamma, in_beta = (kind == c for c in range(4))

        # ---- forward: R{a}, R{y}, R{x̂}, R{1/σ} of layers j and later (before j nothing moves)
        Ra: list = [None] * L
        Ry: list = [None] * L
        Rxhat: list = [None] * L
        Rinv: list = [None] * L
        Rz = np.zeros((T, n, fan_out))
        Rz[t[in_w], :, q[in_w]] = net.a[j][:, p[in_w]].T   # z = a W + b: ∂z/∂W[p, q] is a[:, p] in column q
        Rz[t[in_b], :, q[in_b]] = 1.0
        for i in range(j, L - 1):
            if i > j:
                Rz = _times(Ra[i], net.W[i])
            if net.batch_norm:
                xhat, inv = net.bn_cache(i)
                Rxc = Rz - Rz.mean(axis=1, keepdims=True)
                # 1/σ = (mean(xc²) + eps)^−½ with xc = σ x̂, hence R{1/σ} = −(1/σ)² mean(x̂ R{xc})
                rho = np.einsum("tnw,nw->tw", Rxc, xhat)[:, None, :] / n
                Rinv[i] = -inv * inv * rho
                Rxhat[i] = inv * (Rxc - xhat * rho)
                Ry[i] = net.gamma[i] * Rxhat[i]
                if i == j:                                 # y = γ x̂ + β
                    Ry[i][t[in_gamma], :, q[in_gamma]] += xhat[:, q[in_gamma]].T
                    Ry[i][t[in_beta], :, q[in_beta]] += 1.0
            else:
                Ry[i] = Rz
            Ra[i + 1] = self.df[i] * Ry[i]
        Rout = _times(Ra[L - 1], net.W[L - 1]) if j < L - 1 else Rz

        # ---- backward: R{dL/dz} from the logits down to layer j, and from it R{∇L}
        first = net.layer_slices[j].start
        rows = np.empty((T, net.theta.size - first))
        Rdz = losses.loss_hvp(self.loss_name, net.h[L - 1], self.y, Rout)
        for i in range(L - 1, j - 1, -1):
            w0, b0, _, _ = (o - first for o in self.offsets[i])
            dz = net.dz[i]
            RdW = _t_times(net.a[i], Rdz)                    # dW = aᵀ dz, db = Σ dz
            if i > j:
                RdW += _t_times(Ra[i], dz)
            rows[:, w0:b0] = RdW.reshape(T, -1)
            rows[:, b0:b0 + dz.shape[1]] = Rdz.sum(axis=1)
            if i == j:
                break
            h = i - 1                                        # the hidden layer below: dy = (dz Wᵀ) f'(y)
            Rdy = _times(Rdz, net.W[i].T)
            Rdy *= self.df[h]
            Rdy += self.da_d2f[h] * Ry[h]
            if not net.batch_norm:
                Rdz = Rdy
                continue
            # dz = (γ/σ) centred: differentiate γ, 1/σ, and centred = dy − (dβ + x̂ dγ)/n, where
            # dβ = Σ dy and dγ = Σ dy x̂ are the batch-norm parameters' own gradients
            (xhat, inv), gamma = net.bn_cache(h), net.gamma[h]
            Rdbeta = Rdy.sum(axis=1)
            Rdgamma = np.einsum("tnw,nw->tw", Rdy, xhat) + np.einsum("tnw,nw->tw", Rxhat[h], self.dy[h])
            _, _, g0, be0 = (o - first for o in self.offsets[h])
            rows[:, g0:be0] = Rdgamma
            rows[:, be0:be0 + len(gamma)] = Rdbeta
            Rcentred = Rdy                                   # in place: Rdy is not needed again
            Rcentred -= xhat * (Rdgamma / n)[:, None, :]
            Rcentred -= (Rdbeta / n)[:, None, :]
            Rcentred -= Rxhat[h] * (self.dgamma[h] / n)
            Rs = gamma * Rinv[h]                             # R{γ/σ} = R{γ}/σ + γ R{1/σ}
            if h == j:
                Rs[t[in_gamma], 0, q[in_gamma]] += inv[q[in_gamma]]
            Rdz = Rcentred * (gamma * inv)
            Rdz += Rs * self.centred[h]
        return rows


def _times(R: np.ndarray, W: np.ndarray) -> np.ndarray:
    """R (T, n, k) @ W (k, m) -> (T, n, m), as one matrix product."""
    T, n, k = R.shape
    return (R.reshape(T * n, k) @ W).reshape(T, n, W.shape[1])


def _t_times(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Aᵀ B per tangent, the sum running over the batch: one of A (…, n, k), B (…, n, m) is a stack
    (T, n, ·), the other a plain (n, ·) matrix -> (T, k, m)."""
    if A.ndim == 2:
        return np.tensordot(B, A, axes=([1], [0])).transpose(0, 2, 1)
    return np.tensordot(A, B, axes=([1], [0]))
