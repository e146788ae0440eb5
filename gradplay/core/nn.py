"""A multi-layer perceptron with hand-written backprop over one flat parameter buffer.

Every trainable number lives in ``MLP.theta`` (float64, 1-D); ``W``, ``b``, ``gamma`` and ``beta`` are
views into it, and ``dW``, ``db``, ``dgamma``, ``dbeta`` are views into ``MLP.grad``. Optimizers update
``theta`` in place (``theta -= lr * grad``), never rebind it, so the views stay valid.

Shapes: x (n, n_in); W[i] (fan_in, fan_out); b[i] (fan_out,); logits (n, n_out).
Hidden layers are Linear -> [BatchNorm1d] -> activation -> [inverted dropout, training passes only];
the output layer is linear (logits). Dropout's masks are a function of the step (core/dropout.py).
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import dropout as dropout_mod

ACTIVATIONS: tuple[str, ...] = ("linear", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "gelu", "silu")
INITS: tuple[str, ...] = ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "normal")
MAX_HIDDEN_LAYERS = 8
MAX_WIDTH = 256
BN_EPS = 1e-5        # torch.nn.BatchNorm1d defaults
BN_MOMENTUM = 0.1
LEAKY_SLOPE = 0.01


# --- activations: each value f(z) next to its derivatives df(z, h) and d2f(z, h) --------------------
# df and d2f receive the pre-activation z and the output h = f(z), so tanh and sigmoid reuse h for free.
# d2f (used only by the exact Hessian, core/hessian.py) follows torch autograd at kinks: the
# piecewise-linear activations curve 0 everywhere.
# All forms stay finite and warning-free for any finite z (the GUI runs extreme learning rates).

def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, elementwise; exp only ever sees -|z|, so it never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def _linear(z): return z
def _d_linear(z, h): return np.ones_like(z)
def _d2_linear(z, h): return np.zeros_like(z)

def _relu(z): return np.maximum(z, 0.0)
def _d_relu(z, h): return np.greater(z, 0.0).astype(np.float64)      # 0 at the kink, like torch
def _d2_relu(z, h): return np.zeros_like(z)

def _leaky_relu(z): return np.where(z > 0, z, LEAKY_SLOPE * z)
def _d_leaky_relu(z, h): return np.where(z > 0, 1.0, LEAKY_SLOPE)
def _d2_leaky_relu(z, h): return np.zeros_like(z)

def _elu(z): return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))    # min(): no exp overflow
def _d_elu(z, h): return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
def _d2_elu(z, h): return np.where(z < 0, np.exp(np.minimum(z, 0.0)), 0.0)   # torch: 0 at z = 0

def _tanh(z): return np.tanh(z)
def _d_tanh(z, h): return 1.0 - h * h
def _d2_tanh(z, h): return -2.0 * h * (1.0 - h * h)

def _sigmoid(z): return sigmoid(z)
def _d_sigmoid(z, h): return h * (1.0 - h)
def _d2_sigmoid(z, h): return h * (1.0 - h) * (1.0 - 2.0 * h)

_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715

def _gelu_parts(z):
    """tanh(c(z + k z^3)) and the clipped z. Beyond |z| = 10 the tanh is exactly +-1 in float64, so
    clipping there changes nothing but keeps z^3 from overflowing."""
    zc = np.clip(z, -10.0, 10.0)
    return np.tanh(_GELU_C * (zc + _GELU_K * zc ** 3)), zc

def _gelu(z):   # torch gelu(approximate='tanh')
    t, _ = _gelu_parts(z)
    return 0.5 * z * (1.0 + t)

def _d_gelu(z, h):
    t, zc = _gelu_parts(z)
    return 0.5 * (1.0 + t) + 0.5 * zc * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * zc * zc)

def _d2_gelu(z, h):
    # with u = c (z + k z^3): f'' = (1 - t^2) (u' + z (u'' - 2 t u'^2) / 2)
    t, zc = _gelu_parts(z)
    du = _GELU_C * (1.0 + 3.0 * _GELU_K * zc * zc)
    d2u = 6.0 * _GELU_C * _GELU_K * zc
    return (1.0 - t * t) * (du + 0.5 * zc * (d2u - 2.0 * t * du * du))

def _silu(z): return z * sigmoid(z)
def _d_silu(z, h):
    s = sigmoid(z)
    return s + h * (1.0 - s)          # s (1 + z (1 - s)) with z s = h
def _d2_silu(z, h):
    s = sigmoid(z)
    return s * (1.0 - s) * (2.0 + z * (1.0 - 2.0 * s))


class _Activation(NamedTuple):
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray, np.ndarray], np.ndarray]
    d2f: Callable[[np.ndarray, np.ndarray], np.ndarray]


_ACT = {name: _Activation(globals()[f"_{name}"], globals()[f"_d_{name}"], globals()[f"_d2_{name}"])
        for name in ACTIVATIONS}


def _check(kind: str, name: str, allowed: tuple[str, ...]) -> None:
    if name not in allowed:
        raise ValueError(f"unknown {kind} {name!r}; allowed: {', '.join(allowed)}")


def layer_activations(activation: str | Sequence[str], n_hidden: int) -> tuple[str, ...]:
    """One activation name per hidden layer: `activation` is one name for all, or a list of them."""
    if isinstance(activation, str):
        return (activation,) * n_hidden
    names = tuple(activation)
    if len(names) != n_hidden:
        raise ValueError(f"activation: {len(names)} names for {n_hidden} hidden layers; give one per layer")
    return names


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """Activation `name` applied elementwise to z (any shape)."""
    _check("activation", name, ACTIVATIONS)
    return _ACT[name].f(np.asarray(z, dtype=np.float64))


def activate_grad(name: str, z: np.ndarray) -> np.ndarray:
    """d activate(name, z) / dz, elementwise (same shape as z)."""
    _check("activation", name, ACTIVATIONS)
    z = np.asarray(z, dtype=np.float64)
    act = _ACT[name]
    return act.df(z, act.f(z))


def activate_grad2(name: str, z: np.ndarray) -> np.ndarray:
    """d² activate(name, z) / dz², elementwise (same shape as z). As torch autograd differentiates
    them: 0 everywhere for linear, relu and leaky_relu (kinks included), and 0 at z = 0 for elu."""
    _check("activation", name, ACTIVATIONS)
    z = np.asarray(z, dtype=np.float64)
    act = _ACT[name]
    return act.d2f(z, act.f(z))


def init_weight(init: str, fan_in: int, fan_out: int, rng: np.random.Generator,
                std: float = 1.0) -> np.ndarray:
    """One weight matrix (fan_in, fan_out) drawn as torch.nn.init does (he = kaiming, relu gain, fan_in)."""
    _check("init", init, INITS)
    shape = (fan_in, fan_out)
    if init == "xavier_uniform":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape)
    if init == "xavier_normal":
        return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), shape)
    if init == "he_uniform":
        bound = math.sqrt(6.0 / fan_in)
        return rng.uniform(-bound, bound, shape)
    if init == "he_normal":
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), shape)
    return rng.normal(0.0, std, shape)


class MLP:
    """Fully connected net: n_in -> hidden... -> n_out logits, float64.

    After ``forward`` the per-layer caches hold, for dense layer i (0-based):
    ``a[i]`` its input (a[0] = x, not copied), ``z[i]`` its pre-activation a @ W + b (before batch
    norm), ``h[i]`` its output after batch norm and activation (h[-1] = z[-1] = logits), before
    dropout; with dropout ``m[i]`` holds its multipliers (0 or 1/(1 − p)) and a[i + 1] = h[i] · m[i]
    (else m[i] is None and a[i + 1] is h[i]).
    After ``backward``, ``dz[i]`` = dL/dz[i] and ``grad`` holds dL/dtheta.
    """

    def __init__(self, n_in: int, hidden: Sequence[int], n_out: int, activation: str | Sequence[str] = "tanh",
                 init: str = "xavier_uniform", init_std: float = 1.0, batch_norm: bool = False,
                 rng: np.random.Generator | None = None, dropout: float | Sequence[float] = 0.0,
                 dropout_key: int = 0) -> None:
        hidden = tuple(int(w) for w in hidden)
        if not 0 <= len(hidden) <= MAX_HIDDEN_LAYERS:
            raise ValueError(f"hidden: {len(hidden)} layers; allowed 0..{MAX_HIDDEN_LAYERS}")
        for w in hidden:
            if not 1 <= w <= MAX_WIDTH:
                raise ValueError(f"hidden: width {w}; allowed 1..{MAX_WIDTH}")
        if n_in < 1 or n_out < 1:
            raise ValueError(f"n_in and n_out must be >= 1, got {n_in}, {n_out}")
        activations = layer_activations(activation, len(hidden))
        for name in activations:
            _check("activation", name, ACTIVATIONS)
        _check("init", init, INITS)
        if not (math.isfinite(init_std) and init_std > 0):
            raise ValueError(f"init_std must be a positive finite number, got {init_std}")
        self.n_in, self.hidden, self.n_out = int(n_in), hidden, int(n_out)
        self.activation, self.init, self.init_std = activation, init, float(init_std)
        self.activations = activations  # one per hidden layer
        self.batch_norm = bool(batch_norm)
        self.dropout = dropout
        self.dropout_p = dropout_mod.layer_probabilities(dropout, len(hidden))  # one per hidden layer
        self.dropout_key = int(dropout_key)  # the run's dropout stream (dropout.stream_key of its seed)
        self.n_layers = len(hidden) + 1
        sizes = (self.n_in, *hidden, self.n_out)

        # Layout of theta: per layer W, b, then gamma, beta on hidden layers with batch norm.
        layout: list[tuple[str, tuple[int, ...]]] = []
        self.layer_slices: list[slice] = []
        start = 0
        for i in range(self.n_layers):
            fan_in, fan_out = sizes[i], sizes[i + 1]
            entries = [(f"W{i + 1}", (fan_in, fan_out)), (f"b{i + 1}", (fan_out,))]
            if self.batch_norm and i < self.n_layers - 1:
                entries += [(f"gamma{i + 1}", (fan_out,)), (f"beta{i + 1}", (fan_out,))]
            layout += entries
            stop = start + sum(math.prod(shape) for _, shape in entries)
            self.layer_slices.append(slice(start, stop))
            start = stop
        self.theta = np.zeros(start)
        self.grad = np.zeros(start)
        self.weight_mask = np.zeros(start, dtype=bool)
        self.param_names = [name for name, _ in layout]
        self._views: dict[str, np.ndarray] = {}
        self._grad_views: dict[str, np.ndarray] = {}
        offset = 0
        for name, shape in layout:
            size = math.prod(shape)
            self._views[name] = self.theta[offset:offset + size].reshape(shape)
            self._grad_views[name] = self.grad[offset:offset + size].reshape(shape)
            if name[0] == "W":
                self.weight_mask[offset:offset + size] = True
            offset += size
        self._starts = np.array([s.start for s in self.layer_slices])

        def views(prefix, d, layers):
            return [d[f"{prefix}{i + 1}"] for i in layers]
        dense, bn = range(self.n_layers), range(self.n_layers - 1) if self.batch_norm else range(0)
        self.W, self.b = views("W", self._views, dense), views("b", self._views, dense)
        self.dW, self.db = views("W", self._grad_views, dense), views("b", self._grad_views, dense)
        self.gamma, self.beta = views("gamma", self._views, bn), views("beta", self._views, bn)
        self.dgamma, self.dbeta = views("gamma", self._grad_views, bn), views("beta", self._grad_views, bn)
        self.running_mean = [np.zeros(sizes[i + 1]) for i in bn]
        self.running_var = [np.ones(sizes[i + 1]) for i in bn]

        # Weights drawn layer by layer from one generator, so a seed fixes them; biases stay 0.
        rng = np.random.default_rng() if rng is None else rng
        for i in dense:
            self.W[i][...] = init_weight(init, sizes[i], sizes[i + 1], rng, self.init_std)
        for g in self.gamma:
            g[...] = 1.0

        # Resolved once so the hot path does no name lookups; linear needs no multiply in backward.
        self._f = [_ACT[a].f for a in activations]
        self._df = [None if a == "linear" else _ACT[a].df for a in activations]
        L = self.n_layers
        self.a: list = [None] * L
        self.z: list = [None] * L
        self.h: list = [None] * L
        self.dz: list = [None] * L
        self.m: list = [None] * L      # dropout multipliers of the last training pass (None: no dropout)
        self._y: list = [None] * L     # activation input (BN output, or z without BN)
        self._xhat: list = [None] * L  # BN normalised z
        self._inv: list = [None] * L   # BN 1 / sqrt(var + eps), per feature
        self._train = True

    # --- forward and backward -------------------------------------------------------------------

    def forward(self, x: np.ndarray, train: bool = True, step: int = 0) -> np.ndarray:
        """x (n, n_in) -> logits (n, n_out). train=True uses (and updates) batch-norm batch statistics
        and drops units with the masks of training step `step`; train=False drops nothing."""
        if train and self.batch_norm and x.shape[0] < 2:
            raise ValueError("batch norm needs at least 2 samples per batch")
        self._train = train
        a = x
        for i in range(self.n_layers - 1):
            self.a[i] = a
            z = a @ self.W[i]
            z += self.b[i]
            self.z[i] = z
            y = self._bn_forward(i, z, train) if self.batch_norm else z
            self._y[i] = y
            a = self.h[i] = self._f[i](y)
            p = self.dropout_p[i]
            if train and p > 0.0:
                m = self.m[i] = dropout_mod.mask(self.dropout_key, step, i, a.shape[0], a.shape[1], p)
                a = a * m
            else:
                self.m[i] = None
        L = self.n_layers - 1
        self.a[L] = a
        out = a @ self.W[L]
        out += self.b[L]
        self.z[L] = self.h[L] = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dL/dlogits (n, n_out) -> dL/dx (n, n_in). Overwrites grad (no accumulation); sets dz."""
        dz = dout
        for i in range(self.n_layers - 1, -1, -1):
            self.dz[i] = dz
            np.matmul(self.a[i].T, dz, out=self.dW[i])
            np.add.reduce(dz, axis=0, out=self.db[i])
            da = dz @ self.W[i].T
            if i > 0:                               # back through layer i-1's dropout, activation and BN
                if self.m[i - 1] is not None:
                    da *= self.m[i - 1]
                df = self._df[i - 1]
                if df is not None:
                    da *= df(self._y[i - 1], self.h[i - 1])
                dz = self._bn_backward(i - 1, da) if self.batch_norm else da
        return da

    # --- batch norm (torch.nn.BatchNorm1d), forward next to backward ------------------------------

    def _bn_forward(self, j: int, z: np.ndarray, train: bool) -> np.ndarray:
        """z (n, width) -> gamma * xhat + beta; caches xhat and 1/std for backward."""
        if train:
            n = z.shape[0]
            mean = np.add.reduce(z, axis=0) / n
            xc = z - mean
            var = np.add.reduce(xc * xc, axis=0) / n          # biased: what torch normalises with
            rm, rv = self.running_mean[j], self.running_var[j]
            rm *= 1.0 - BN_MOMENTUM
            rm += BN_MOMENTUM * mean
            rv *= 1.0 - BN_MOMENTUM
            rv += (BN_MOMENTUM * n / (n - 1)) * var           # unbiased: what torch keeps running
            inv = 1.0 / np.sqrt(var + BN_EPS)
            xhat = xc * inv
        else:
            inv = 1.0 / np.sqrt(self.running_var[j] + BN_EPS)
            xhat = (z - self.running_mean[j]) * inv
        self._xhat[j], self._inv[j] = xhat, inv
        return xhat * self.gamma[j] + self.beta[j]

    def bn_cache(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Hidden layer j's batch norm in the last forward pass: x̂ (n, width) and 1/√(var + eps)
        (width,), as backward uses them (read-only; the next pass replaces them)."""
        return self._xhat[j], self._inv[j]

    def _bn_backward(self, j: int, dy: np.ndarray) -> np.ndarray:
        """dL/dy (n, width) -> dL/dz; fills dgamma[j], dbeta[j]."""
        xhat = self._xhat[j]
        dbeta = np.add.reduce(dy, axis=0, out=self.dbeta[j])
        dgamma = np.add.reduce(dy * xhat, axis=0, out=self.dgamma[j])
        scale = self.gamma[j] * self._inv[j]
        if not self._train:                 # running stats are constants
            return dy * scale
        # In train mode every z_k also moves the batch mean and variance, hence the two mean terms.
        return scale * (dy - (dbeta + xhat * dgamma) / dy.shape[0])

    # --- inference and inspection ---------------------------------------------------------------

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Eval-mode logits (n, n_out) for x (n, n_in); touches no cache and no running statistic."""
        a = x
        for h in self._eval_hidden(x):  # only the last layer's output is kept alive
            a = h
        out = a @ self.W[-1]
        out += self.b[-1]
        return out

    def unit_outputs(self, x: np.ndarray) -> list[np.ndarray]:
        """Eval-mode outputs of every hidden unit: one (n, width) array per hidden layer, after batch
        norm (running statistics) and the activation, as `predict` computes them. Touches no cache,
        running statistic or random stream."""
        return list(self._eval_hidden(x))

    def _eval_hidden(self, x: np.ndarray) -> Iterator[np.ndarray]:
        a = x
        for i in range(self.n_layers - 1):
            z = a @ self.W[i]
            z += self.b[i]
            if self.batch_norm:
                scale = self.gamma[i] / np.sqrt(self.running_var[i] + BN_EPS)
                z = (z - self.running_mean[i]) * scale + self.beta[i]
            a = self._f[i](z)
            yield a

    def params(self) -> dict[str, np.ndarray]:
        """Parameter name ("W1", "b1", "gamma1", ...) -> view into theta, in theta order."""
        return dict(self._views)

    def layer_grad_norms(self) -> np.ndarray:
        """(n_layers,) L2 norm of each dense layer's slice of grad (W, b and BN gamma, beta)."""
        return np.sqrt(np.add.reduceat(self.grad * self.grad, self._starts))

    def layer_weight_norms(self) -> np.ndarray:
        """(n_layers,) L2 (Frobenius) norm of each W."""
        return np.sqrt(np.add.reduceat(self.theta * self.theta * self.weight_mask, self._starts))

    def _buffer_views(self) -> dict[str, np.ndarray]:
        names = {}
        for i, (m, v) in enumerate(zip(self.running_mean, self.running_var)):
            names[f"running_mean{i + 1}"], names[f"running_var{i + 1}"] = m, v
        return names

    def buffers(self) -> dict[str, np.ndarray]:
        """Copies of the batch-norm running statistics: "running_mean1", "running_var1", ..."""
        return {k: v.copy() for k, v in self._buffer_views().items()}

    def load_buffers(self, d: dict[str, np.ndarray]) -> None:
        """Write running statistics from `d` (as returned by buffers()) into this net, in place."""
        targets = self._buffer_views()
        if set(d) != set(targets):
            raise ValueError(f"buffers: expected keys {sorted(targets)}, got {sorted(d)}")
        for key, target in targets.items():
            value = np.asarray(d[key], dtype=np.float64)
            if value.shape != target.shape:
                raise ValueError(f"buffers: {key} has shape {value.shape}, expected {target.shape}")
            target[...] = value

    def unit_activation(self, layer: int) -> str:
        """The activation of the units of `layer` as the maps count them: 0 the inputs ("linear"),
        1.. the hidden layers."""
        return self.activations[layer - 1] if layer > 0 else "linear"

    # The last pass's activations and batch-norm intermediates: what a GUI draws between steps.
    CACHES = ("a", "z", "h", "dz", "m", "_y", "_xhat", "_inv")

    def save_state(self) -> dict[str, Any]:
        """Everything a pass changes, copied: θ, gradient, batch-norm running statistics, the
        caches (the lists; each pass puts new arrays in them) and train/eval mode."""
        return {"theta": self.theta.copy(), "grad": self.grad.copy(), "buffers": self.buffers(),
                "caches": {k: list(getattr(self, k)) for k in self.CACHES}, "train": self._train}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back what `save_state` took; θ and gradient in place (the session, the optimizer and
        the panels hold views of them)."""
        self.theta[:] = state["theta"]
        self.grad[:] = state["grad"]
        self.load_buffers(state["buffers"])
        for k, v in state["caches"].items():
            setattr(self, k, list(v))
        self._train = state["train"]

    @contextlib.contextmanager
    def unchanged(self) -> Iterator[None]:
        """Evaluate anything inside; on exit (an exception too) the network is as it was."""
        state = self.save_state()
        try:
            yield
        finally:
            self.restore_state(state)

    def copy(self, caches: bool = True) -> MLP:
        """Deep copy with its own theta, grad, running statistics and (unless `caches` is False: a
        full batch of 100 000 samples makes them hundreds of MB) the last pass's activations."""
        new = MLP(self.n_in, self.hidden, self.n_out, self.activation, self.init, self.init_std,
                  self.batch_norm, rng=np.random.default_rng(0), dropout=self.dropout,
                  dropout_key=self.dropout_key)
        new.theta[...] = self.theta
        new.grad[...] = self.grad
        new.load_buffers(self.buffers())
        if caches:
            new.copy_caches_from(self)
        new._train = self._train
        return new

    def copy_caches_from(self, other: MLP) -> None:
        """Copies of `other`'s last-pass activations and batch-norm intermediates (same layout)."""
        for name in self.CACHES:
            setattr(self, name, [None if v is None else v.copy() for v in getattr(other, name)])

    def __deepcopy__(self, memo: dict) -> MLP:
        return self.copy()

    def __repr__(self) -> str:
        return (f"MLP({self.n_in}, {list(self.hidden)}, {self.n_out}, activation={self.activation!r}, "
                f"init={self.init!r}, batch_norm={self.batch_norm}, dropout={self.dropout!r}, "
                f"n_params={self.theta.size})")
