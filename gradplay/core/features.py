"""Input features: what the network sees of a point (x1, x2) of the plane.

As in TensorFlow Playground, a dataset task may feed the network derived inputs besides the two
coordinates: x1², x2², x1·x2, sin and cos of each. The config lists them in `[network] inputs`
(docs/FORMATS.md), any non-empty subset of `NAMES`, kept in that order; W1 has one row per input.
The data stays the plane's points (`x_train` is what is drawn, saved and exported); `transform`
makes the network's inputs from them, once per dataset (session) and per drawn grid (maps).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
    "cos(x1)": lambda a, b: np.cos(a),
    "cos(x2)": lambda a, b: np.cos(b),
}
NAMES = tuple(FEATURES)
PLANE = ("x1", "x2")  # the default: the coordinates themselves
# How the window writes them (node labels, Setup's toggles)
LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁x₂",
          "sin(x1)": "sin x₁", "sin(x2)": "sin x₂", "cos(x1)": "cos x₁", "cos(x2)": "cos x₂"}


def ordered(names: Sequence[str]) -> list[str]:
    """`names` in the canonical order of NAMES (the order of W1's rows)."""
    return [n for n in NAMES if n in names]


def transform(names: Sequence[str], x: np.ndarray) -> np.ndarray:
    """The network's inputs (n, len(names)) for plane points x (n, 2). The plain coordinates come back
    as `x` itself (no copy), so a run on x1, x2 feeds its network exactly the arrays it did before
    features existed."""
    if list(names) == list(PLANE):
        return x
    a, b = x[:, 0], x[:, 1]
    return np.column_stack([FEATURES[n](a, b) for n in names]) if len(x) else np.empty((0, len(names)))
