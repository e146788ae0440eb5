"""The landscape of a network: its loss on a 2-D plane through weight space.

    L(α, β) = loss(θc + α d₁ + β d₂)   over a grid of (α, β), θc = the current weights.

Directions (each (n,), laid out like θ):
- "random": filter-normalised Gaussian directions (Li et al., 2018, "Visualizing the Loss Landscape
  of Neural Nets"): for every output unit (a column of W) the direction's column is rescaled to the
  norm of the weights' column, so α = 1 is a step as large as the unit's own weights whatever the
  layer's scale; biases and batch-norm parameters get 0, as in the paper's plots.
- "pca": the top two principal directions of recorded weight snapshots around θc (unit vectors),
  which show the plane the training path actually moved in.

The loss is the session's `current_loss()`: the full training set in eval mode, no penalties, so
the grid value at (0, 0) is bit for bit the loss the Loss panel shows. Evaluation is batched: the
weights of a chunk of grid points are stacked and pushed through the layers with one matmul each.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import losses
from .nn import BN_EPS, MLP, activate
from .problem import DatasetProblem

if TYPE_CHECKING:
    from .session import Session

Progress = Callable[[int, int], "bool | None"]
_CHUNK_BYTES = 32 * 2**20   # activations per chunk of grid points, to bound memory on big nets
_MAX_CHUNK = 128


def _blocks(model: MLP) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Parameter name -> (offset in θ, shape)."""
    out, offset = {}, 0
    for name, view in model.params().items():
        out[name] = (offset, view.shape)
        offset += view.size
    return out


def random_directions(model: MLP, seed: int = 0) -> np.ndarray:
    """Two filter-normalised random directions, (2, n). W columns match the weights' column norms."""
    rng = np.random.default_rng(seed)
    dirs = np.zeros((2, model.theta.size))
    for name, (off, shape) in _blocks(model).items():
        if name[0] != "W":
            continue                   # biases, gamma, beta stay 0
        w = model.params()[name]
        wn = np.linalg.norm(w, axis=0)                                   # (fan_out,)
        for k in range(2):
            d = rng.standard_normal(shape)
            d *= wn / np.maximum(np.linalg.norm(d, axis=0), 1e-300)
            dirs[k, off:off + d.size] = d.ravel()
    return dirs


def pca_directions(snapshots: np.ndarray, center: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top two principal directions (2, n) of snapshots (k, n) about `center` (n,), and the share of
    the snapshots' spread (squared distance from center) each explains, (2,)."""
    m = np.asarray(snapshots, dtype=np.float64) - center
    if m.shape[0] < 2 or not np.any(m):
        raise ValueError("need at least two recorded snapshots that differ from the current weights")
    _, s, vt = np.linalg.svd(m, full_matrices=False)
    dirs = np.zeros((2, m.shape[1]))
    dirs[: min(2, len(vt))] = vt[:2]
    for k in range(2):   # a fixed sign: the start of training lies at negative coordinates
        if dirs[k] @ m[0] > 0:
            dirs[k] = -dirs[k]
    var = np.zeros(2)
    var[: min(2, len(s))] = (s[:2] ** 2) / np.sum(s ** 2)
    return dirs, var


def project(points: np.ndarray, center: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (k, 2) of points (k, n) on the plane through center spanned by dirs (2, n) (least
    squares, so non-orthogonal directions work), and the share of each displacement off the plane (k,)."""
    disp = np.asarray(points, dtype=np.float64) - center
    coords = np.linalg.lstsq(dirs.T, disp.T, rcond=None)[0].T
    resid = np.linalg.norm(disp - coords @ dirs, axis=1)
    norm = np.linalg.norm(disp, axis=1)
    return coords, np.where(norm > 0, resid / np.where(norm > 0, norm, 1.0), 0.0)


class TrajectoryRecorder:
    """Thinned snapshots of θ during training, at most `capacity` of them (capacity × n floats).

    A snapshot is kept every `stride` steps; when the buffer fills, every other snapshot is dropped and
    the stride doubles, so the kept snapshots always span the whole run evenly.
    """

    def __init__(self, n_params: int, capacity: int = 200):
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity, self.stride = capacity, 1
        self._theta = np.zeros((capacity, n_params))
        self._steps = np.zeros(capacity, dtype=np.int64)
        self.n = 0
        self._session: Session | None = None

    def record(self, step: int, theta: np.ndarray) -> None:
        """Keep θ (n,) if `stride` steps passed since the last snapshot. A θ of another size (the
        network was changed) starts a new recording."""
        if theta.size != self._theta.shape[1]:
            self._theta = np.zeros((self.capacity, theta.size))
            self.clear()
        if self.n and step - self._steps[self.n - 1] < self.stride:
            return
        if self.n == self.capacity:
            keep = np.arange(0, self.capacity, 2)
            self.n = len(keep)
            self._theta[: self.n], self._steps[: self.n] = self._theta[keep], self._steps[keep]
            self.stride *= 2
            if step - self._steps[self.n - 1] < self.stride:
                return
        self._theta[self.n], self._steps[self.n] = theta, step
        self.n += 1

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self.n].copy()

    @property
    def thetas(self) -> np.ndarray:
        """(k, n) recorded parameter vectors, oldest first."""
        return self._theta[: self.n].copy()

    def clear(self) -> None:
        self.n, self.stride = 0, 1

    def attach(self, session: Session) -> None:
        """Record the session's θ now and after every run() call; restart on reset."""
        self._session = session
        session.subscribe(self._on_event)
        self.record(session.step, session.theta)

    def detach(self) -> None:
        if self._session is not None:
            self._session.unsubscribe(self._on_event)
            self._session = None

    def _on_event(self, event: str) -> None:
        s = self._session
        if event == "reset":
            self.clear()
        if event in ("reset", "stepped", "halted"):
            assert s is not None  # subscribed only while attached
            self.record(s.step, s.theta)


def batched_losses(session, thetas: np.ndarray) -> np.ndarray:
    """Full-training-set loss (eval mode, as `session.current_loss()`) for each row of thetas (G, n)."""
    m: MLP = session.model
    x, y, name = session.inputs_train, session.data.y_train, session.loss_name
    blocks = _blocks(m)
    fn = losses.loss_fn(name)
    G = thetas.shape[0]

    def param(key: str) -> np.ndarray:
        off, shape = blocks[key]
        return thetas[:, off:off + math.prod(shape)].reshape((G,) + shape)

    a = x
    with np.errstate(all="ignore"):
        # The same operations in the same order as MLP.predict, so each slice is bit-identical to it.
        for i in range(m.n_layers - 1):
            z = np.matmul(a, param(f"W{i + 1}"))                 # (G, N, width)
            z += param(f"b{i + 1}")[:, None, :]
            if m.batch_norm:
                scale = param(f"gamma{i + 1}") / np.sqrt(m.running_var[i] + BN_EPS)
                z = (z - m.running_mean[i]) * scale[:, None, :] + param(f"beta{i + 1}")[:, None, :]
            a = activate(m.activations[i], z)
        L = m.n_layers
        out = np.matmul(a, param(f"W{L}"))
        out += param(f"b{L}")[:, None, :]
        return np.array([fn(out[g], y)[0] for g in range(G)])


@dataclass
class WeightSlice:
    """A loss surface on a plane of weight space, and the training path projected onto it."""

    alphas: np.ndarray        # (na,) coordinates along dirs[0]
    betas: np.ndarray         # (nb,) coordinates along dirs[1]
    Z: np.ndarray             # (nb, na), Z[j, i] = loss at (alphas[i], betas[j]); NaN where not computed
    dirs: np.ndarray          # (2, n)
    center: np.ndarray        # (n,) the weights at (0, 0)
    path: np.ndarray          # (k, 2) recorded snapshots projected on the plane (k may be 0)
    path_loss: np.ndarray     # (k,) the snapshots' true losses
    off_plane: np.ndarray     # (k,) share of each snapshot's displacement the plane cannot show
    explained: np.ndarray     # (2,) PCA variance shares (NaN for random directions)
    cancelled: bool = False


def loss_surface(session, dirs: np.ndarray, alphas: np.ndarray, betas: np.ndarray,
                 progress: Progress | None = None) -> tuple[np.ndarray, bool]:
    """Z (nb, na) of losses at θ + αᵢ d₁ + βⱼ d₂, and whether `progress(done, total)` cancelled."""
    center = session.theta.copy()
    aa, bb = np.meshgrid(np.asarray(alphas, float), np.asarray(betas, float))
    coef = np.column_stack([aa.ravel(), bb.ravel()])                      # (na·nb, 2)
    Z = np.full(coef.shape[0], np.nan)
    m = session.model
    width = max((m.n_in, *m.hidden, m.n_out))
    # chunks bound memory on big nets and let `progress` report (and cancel) about a dozen times
    chunk = max(1, min(_MAX_CHUNK, _CHUNK_BYTES // (8 * width * len(session.data.x_train))))
    for start in range(0, coef.shape[0], chunk):
        c = coef[start:start + chunk]
        thetas = center + c[:, :1] * dirs[0] + c[:, 1:] * dirs[1]
        Z[start:start + len(c)] = batched_losses(session, thetas)
        done = start + len(c)
        if progress is not None and progress(done, coef.shape[0]) is False and done < coef.shape[0]:
            return Z.reshape(aa.shape), True
    return Z.reshape(aa.shape), False


def network_slice(session, mode: str = "random", recorder: TrajectoryRecorder | None = None, n: int = 41,
                  span: float | None = None, seed: int = 0, progress: Progress | None = None) -> WeightSlice:
    """The GUI's one call: directions, an n×n grid over ±span, and the recorded path on the plane.

    span defaults to 1 for random directions (one filter norm) and to 1.25 × the path's extent for PCA.
    """
    if not isinstance(session.problem, DatasetProblem):
        raise ValueError("a weight-space slice needs a network (dataset task)")
    center = session.theta.copy()
    snaps = recorder.thetas if recorder is not None and recorder.n else np.zeros((0, center.size))
    if mode == "random":
        dirs, explained = random_directions(session.model, seed), np.full(2, np.nan)
    elif mode == "pca":
        dirs, explained = pca_directions(snaps, center)
    else:
        raise ValueError(f"mode must be 'random' or 'pca', not {mode!r}")
    path, off = project(snaps, center, dirs) if len(snaps) else (np.zeros((0, 2)), np.zeros(0))
    if span is None:
        span = 1.0 if mode == "random" else 1.25 * max(float(np.abs(path).max(initial=0.0)), 1e-3)
    grid = np.linspace(-span, span, n)
    Z, cancelled = loss_surface(session, dirs, grid, grid, progress)
    path_loss = batched_losses(session, snaps) if len(snaps) else np.zeros(0)
    return WeightSlice(grid, grid.copy(), Z, dirs, center, path, path_loss, off, explained, cancelled)
