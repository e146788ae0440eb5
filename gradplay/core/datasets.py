"""Small seeded 2-D datasets for the playground.

Conventions shared by every dataset:

* Inputs are float64 arrays of shape ``(n, 2)``. Noise-free inputs lie in the square [-1, 1]², and
  every dataset is displayed over the view [-1.5, 1.5]², which holds (nearly) all points up to
  noise 0.5. This scale suits tanh networks with Xavier initialisation.
* Classification: each point is drawn noise-free, then moved by isotropic Gaussian jitter with
  std = ``noise`` × a dataset-specific scale (``_JITTER``), chosen so that noise = 1 is "very noisy"
  for every set. ``gauss`` and ``blobs3`` are Gaussian blobs already at noise 0 (std 0.2).
* Regression: inputs are uniform on [-1, 1]²; targets are a fixed formula plus Gaussian noise with
  std = ``noise``:  ``sine``: y = sin(π·x1)·cos(π·x2)  (one full wave along each input, y in [-1, 1]);
  ``plane``: y = 0.6·x1 − 0.4·x2.
* Labels are stored as the loss consumes them, see ``LABEL_FORMATS`` and ``label_format_for``.
* Every random draw comes from the one ``rng``, in a fixed order, so a seed gives identical arrays.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, independent of any particular draw."""

    name: str
    title: str
    kind: str  # "classification" | "regression"
    n_classes: int  # 2 to 6 for classification, 0 for regression
    description: str  # one or two plain sentences for learners
    view: tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax) to display the model over


LABEL_FORMATS = ("binary", "pm1", "index", "real")

_VIEW = (-1.5, 1.5, -1.5, 1.5)


def _info(name: str, title: str, n_classes: int, description: str) -> DatasetInfo:
    kind = "classification" if n_classes else "regression"
    return DatasetInfo(name, title, kind, n_classes, description, _VIEW)


DATASETS: dict[str, DatasetInfo] = {d.name: d for d in (
    _info("circles", "Circles", 2,
          "A disc of one class (1) inside a ring of the other (0). No straight line separates them."),
    _info("xor", "Exclusive or", 2,
          "Class 1 where x1 and x2 have the same sign, class 0 where they differ. "
          "A single neuron cannot learn it; a hidden layer can."),
    _info("gauss", "Two Gaussians", 2,
          "Two round clouds of points, class 0 around (-0.5, -0.5) and class 1 around (0.5, 0.5). "
          "A straight line separates them."),
    _info("spiral", "Spiral", 2,
          "Spiral arms wound into each other, one per class (2 by default, up to 6). The hardest set "
          "here: it needs several layers."),
    _info("moons", "Two moons", 2,
          "Two interleaved half-circles. The boundary between them must bend twice."),
    _info("blobs3", "Three blobs", 3,
          "Three round clouds of points, one per class, around a circle of radius 0.6. "
          "Needs one output per class and the cross-entropy loss."),
    _info("blobs", "Blobs", 4,
          "Round clouds of points, one per class (3 to 6), evenly around a circle of radius 0.6. "
          "Needs one output per class and the cross-entropy loss."),
    _info("checkerboard", "Checkerboard", 2,
          "A 4 × 4 board of squares in alternating classes. Many small regions to carve out."),
    _info("sine", "Sine wave", 0,
          "Predict y = sin(π·x1)·cos(π·x2), a wavy surface with hills and valleys. "
          "The model must bend in both inputs."),
    _info("plane", "Plane", 0,
          "Predict y = 0.6·x1 − 0.4·x2, a tilted plane. A model with no hidden layer is enough."),
)}

# Class centres of the blob sets, and the std of each blob at noise 0.
_GAUSS_CENTRES = np.array([[-0.5, -0.5], [0.5, 0.5]])
_BLOBS3_CENTRES = 0.6 * np.array([[np.cos(a), np.sin(a)] for a in np.radians([90, 210, 330])])
_BLOB_STD = 0.2
_XOR_MARGIN = 0.05  # noise-free xor points keep this distance from the axes, so labels are unambiguous
_PLANE_A, _PLANE_B = 0.6, -0.4


# Datasets whose number of classes is a setting (`task.classes`): name -> (fewest, most).
CLASS_RANGES = {"spiral": (2, 6), "blobs": (3, 6)}


def info_for(name: str, classes: int | None = None) -> DatasetInfo:
    """The dataset `name` with `classes` classes (None: its own number); ValueError outside its range."""
    info = DATASETS[name]
    if classes is None or classes == info.n_classes:
        return info
    lo, hi = CLASS_RANGES.get(name, (info.n_classes, info.n_classes))
    if not lo <= classes <= hi:
        ranges = ", ".join(f"{n} ({a} to {b})" for n, (a, b) in CLASS_RANGES.items())
        raise ValueError(f"{name} has {info.n_classes or 'no'} classes; the number of classes can be set "
                         f"for {ranges}")
    arms = f"{classes} arms" if name == "spiral" else f"{classes} classes"
    return replace(info, n_classes=classes, title=f"{info.title} ({arms})")


# Your own data (`task.name = "own"`): points given in the config, [x1, x2, label or target] each.
OWN = "own"
MAX_OWN_POINTS = 10_000  # the points live in the config (TOML, session.json, a shared link)
MAX_OWN_CLASSES = 6


def own_info(points: list, targets: str) -> DatasetInfo:
    """The DatasetInfo of own points: classes ("classes", labels 0..k-1) or a regression ("values"),
    viewed over the square [-1.5, 1.5]² grown to hold every point with a margin."""
    xy = np.asarray([p[:2] for p in points], dtype=np.float64).reshape(-1, 2)
    half = max(1.5, 1.1 * float(np.abs(xy).max())) if len(xy) else 1.5
    k = max(2, int(max(p[2] for p in points)) + 1) if targets == "classes" and points else 0
    what = f"{len(points)} points in {k} classes" if k else f"{len(points)} points with real targets"
    return DatasetInfo(OWN, "Your data", "classification" if k else "regression", k,
                       f"Data you gave: {what}.", (-half, half, -half, half))


def task_info(task: dict) -> DatasetInfo:
    """The DatasetInfo of a resolved dataset task: a generated set with its class count, or own data."""
    if task["name"] == OWN:
        return own_info(task["points"], task["targets"])
    return info_for(task["name"], task["classes"])


def _polar(r: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


# Classification generators: (y, rng) -> x. ``y`` (n,) holds class indices sorted by class; x is (n, 2).

def _circles(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # class 0: ring 0.7 <= r <= 1, class 1: disc r <= 0.4; the gap keeps them apart at noise 0.
    # r = sqrt(uniform in r²) spreads the points evenly over the area instead of crowding the centre.
    lo, hi = np.array([0.7, 0.0])[y], np.array([1.0, 0.4])[y]
    r = np.sqrt(rng.uniform(lo**2, hi**2))
    return _polar(r, rng.uniform(0.0, 2 * np.pi, len(y)))


def _xor(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mag = rng.uniform(_XOR_MARGIN, 1.0, (len(y), 2))
    s1 = rng.choice([-1.0, 1.0], len(y))
    s2 = np.where(y == 1, s1, -s1)  # same signs for class 1, opposite for class 0
    return mag * np.column_stack([s1, s2])


def _gauss(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _GAUSS_CENTRES[y] + rng.normal(0.0, _BLOB_STD, (len(y), 2))


def _blobs3(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _BLOBS3_CENTRES[y] + rng.normal(0.0, _BLOB_STD, (len(y), 2))


def _blobs(y: np.ndarray, rng: np.random.Generator, k: int) -> np.ndarray:
    # k centres evenly around the circle of radius 0.6, the first at the top (k = 3: blobs3's)
    a = np.radians(90.0 + 360.0 * np.arange(k) / k)
    return 0.6 * np.column_stack([np.cos(a), np.sin(a)])[y] + rng.normal(0.0, _BLOB_STD, (len(y), 2))


def _spiral(y: np.ndarray, rng: np.random.Generator, k: int = 2) -> np.ndarray:
    # Arm of class c: r = s, angle = 3.5π·s + c·2π/k for s in [0, 1] (1.75 turns), arms evenly apart
    # (k = 2: half a turn; 2π/2 is π exactly, so two arms are the bits they always were).
    s = rng.uniform(0.0, 1.0, len(y))
    return _polar(s, 3.5 * np.pi * s + (2 * np.pi / k) * y)


def _moons(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # sklearn's make_moons (upper moon = class 0), shifted by (-0.5, -0.25) and scaled by 2/3 to fit [-1, 1]².
    t = rng.uniform(0.0, np.pi, len(y))
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    x = np.where((y == 0)[:, None], upper, lower)
    return (x - [0.5, 0.25]) * (2.0 / 3.0)


def _checkerboard(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # 4 × 4 cells of width 0.5 on [-1, 1]²; cell (column i, row j) has class (i + j) % 2.
    # Pick one of the 8 cells of the point's class: row j, then the column of matching parity.
    k = rng.integers(0, 8, len(y))
    j = k // 2
    i = 2 * (k % 2) + (j + y) % 2
    u = rng.uniform(0.0, 1.0, (len(y), 2))
    return -1.0 + 0.5 * (np.column_stack([i, j]) + u)


# Regression generators: (n, rng) -> (x (n, 2), noise-free targets (n,)).

def _uniform_square(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, (n, 2))


def _sine(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = _uniform_square(n, rng)
    return x, np.sin(np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1])


def _plane(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = _uniform_square(n, rng)
    return x, _PLANE_A * x[:, 0] + _PLANE_B * x[:, 1]


# name -> (generator, jitter scale: input std per unit of noise; 0 for regression, whose noise is on y)
_GENERATORS: dict[str, tuple[Callable, float]] = {
    "circles": (_circles, 0.2), "xor": (_xor, 0.2), "gauss": (_gauss, 0.4), "spiral": (_spiral, 0.1),
    "moons": (_moons, 0.2), "blobs3": (_blobs3, 0.4), "blobs": (_blobs, 0.4), "checkerboard": (_checkerboard, 0.1),
    "sine": (_sine, 0.0), "plane": (_plane, 0.0),
}


@dataclass
class Dataset:
    """One seeded draw of a dataset, split into shuffled train and test sets."""

    info: DatasetInfo
    x_train: np.ndarray  # (n_train, 2) float64
    y_train: np.ndarray  # (n_train,) float64 for binary/pm1/real, int64 for index
    x_test: np.ndarray  # (n_test, 2) float64
    y_test: np.ndarray  # (n_test,)
    labels: str  # one of LABEL_FORMATS


def _check_labels(labels: str, info: DatasetInfo) -> None:
    if labels not in LABEL_FORMATS:
        raise ValueError(f"labels must be one of {', '.join(LABEL_FORMATS)}, not {labels!r}")
    if info.kind == "regression" and labels != "real":
        raise ValueError(f"{info.name!r} is a regression set: labels must be 'real', not {labels!r}")
    if info.kind == "classification" and labels == "real":
        raise ValueError(f"{info.name!r} is a classification set: labels must be "
                         f"'binary', 'pm1' or 'index', not 'real'")
    if info.n_classes > 2 and labels in ("binary", "pm1"):
        raise ValueError(f"{info.name!r} has {info.n_classes} classes: labels {labels!r} need "
                         f"2 classes; use 'index'")


def _stratified_split(counts: np.ndarray, test_fraction: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split indices 0..n-1, grouped in blocks of ``counts``, into shuffled (train, test) index arrays.

    Each group sends round(count · test_fraction) points to test, but keeps at least one for training.
    """
    n = int(counts.sum())
    n_test = np.minimum(np.floor(counts * test_fraction + 0.5).astype(np.int64), counts - 1)
    group = np.repeat(np.arange(len(counts)), counts)
    # Shuffle, then stable-sort by group: the groups stay in blocks, each in random order.
    order = rng.permutation(n)
    order = order[np.argsort(group[order], kind="stable")]
    rank = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)  # position within the block
    is_test = rank < np.repeat(n_test, counts)
    # Shuffle again so consecutive mini-batches mix the classes.
    return rng.permutation(order[~is_test]), rng.permutation(order[is_test])


def from_task(task: dict, rng: np.random.Generator, labels: str | None = None) -> Dataset:
    """The dataset of a resolved dataset task, drawn (or, for own data, split) with `rng`."""
    if task["name"] != OWN:
        return make_dataset(task["name"], task["n_samples"], task["noise"], task["test_fraction"], rng=rng,
                            labels=labels, classes=task["classes"])
    info = own_info(task["points"], task["targets"])
    pts = np.asarray(task["points"], dtype=np.float64).reshape(-1, 3)
    if labels is None:
        labels = "index" if info.n_classes > 2 else "binary" if info.n_classes else "real"
    _check_labels(labels, info)
    if info.kind == "classification":
        order = np.argsort(pts[:, 2], kind="stable")  # grouped by class, as the generated sets are
        pts = pts[order]
        y_index = pts[:, 2].astype(np.int64)
        counts = np.bincount(y_index, minlength=info.n_classes)
        y = {"binary": y_index.astype(np.float64), "pm1": 2.0 * y_index - 1.0, "index": y_index}[labels]
    else:
        counts, y = np.array([len(pts)]), pts[:, 2].copy()
    train, test = _stratified_split(counts, task["test_fraction"], rng)
    x = np.ascontiguousarray(pts[:, :2])
    return Dataset(info, x[train], y[train], x[test], y[test], labels)


def make_dataset(name: str, n_samples: int = 400, noise: float = 0.1, test_fraction: float = 0.2,
                 rng: np.random.Generator | None = None, labels: str | None = None,
                 classes: int | None = None) -> Dataset:
    """Draw ``n_samples`` points of dataset ``name`` and split them into train and test sets.

    Classes are balanced (n_samples // n_classes each, the remainder going to the first classes) and
    the split is stratified. ``noise`` in [0, 1] is the input jitter std per unit of the dataset's
    scale (classification) or the target noise std (regression). ``labels`` defaults to "index" for
    more than two classes, "binary" for two and "real" for regression. ``classes`` sets the number of
    classes of the sets in CLASS_RANGES (None: the set's own).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    info = info_for(name, classes)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise ValueError(f"n_samples must be an integer, not {n_samples!r}")
    if not 10 <= n_samples <= 100_000:
        raise ValueError(f"n_samples must be between 10 and 100000, not {n_samples}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be between 0 and 1, not {noise}")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), not {test_fraction}")
    if labels is None:
        labels = "real" if info.kind == "regression" else "index" if info.n_classes > 2 else "binary"
    _check_labels(labels, info)
    if rng is None:
        rng = np.random.default_rng(0)
    elif not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, not {type(rng).__name__}")

    generate, jitter = _GENERATORS[name]
    n_groups = max(info.n_classes, 1)  # regression: one group, so the split code is shared
    counts = np.full(n_groups, n_samples // n_groups) + (np.arange(n_groups) < n_samples % n_groups)
    if info.kind == "classification":
        y_index = np.repeat(np.arange(n_groups), counts)
        drawn = generate(y_index, rng, n_groups) if name in CLASS_RANGES else generate(y_index, rng)
        x = drawn + rng.normal(0.0, noise * jitter, (n_samples, 2))
        y = {"binary": y_index.astype(np.float64), "pm1": 2.0 * y_index - 1.0,
             "index": y_index.astype(np.int64)}[labels]
    else:
        x, y = generate(n_samples, rng)
        y = y + rng.normal(0.0, noise, n_samples)

    train, test = _stratified_split(counts, test_fraction, rng)
    x = np.asarray(x, dtype=np.float64)
    return Dataset(info, x[train], y[train], x[test], y[test], labels)


_LOSSES = ("mse", "mae", "huber", "bce", "cross_entropy", "hinge")


def label_format_for(loss_name: str, info: DatasetInfo) -> str:
    """The label format in which ``loss_name`` consumes the targets of dataset ``info``.

    bce -> "binary", cross_entropy -> "index", hinge -> "pm1", and mse/mae/huber -> "pm1" on a
    2-class set (as TF Playground does) or "real" on a regression set. Raises ValueError otherwise.
    """
    if loss_name not in _LOSSES:
        raise ValueError(f"unknown loss {loss_name!r}; choose one of {', '.join(_LOSSES)}")
    if info.kind == "regression":
        if loss_name in ("mse", "mae", "huber"):
            return "real"
        raise ValueError(f"{loss_name} needs a classification dataset; {info.name!r} is a "
                         f"regression set: use mse, mae or huber")
    if loss_name == "cross_entropy":
        return "index"
    if info.n_classes > 2:
        raise ValueError(f"{info.name} has {info.n_classes} classes: use cross_entropy")
    return {"bce": "binary", "hinge": "pm1"}.get(loss_name, "pm1")
