"""What each neuron computes over the input plane, as TF Playground draws inside its neurons.

`unit_grids` evaluates every input and hidden unit on an n × n grid over the dataset's view plane
(the plane `Session.output_grid` draws the model's output over), in eval mode, without touching
the session's training state. `map_levels` gives the colour range a layer's maps are drawn with.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import features
from .nn import MLP

if TYPE_CHECKING:
    from .session import Session

# Activations whose outputs are bounded, with the bounds their maps are drawn with (see map_levels).
BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def plane(view: tuple[float, float, float, float], n: int, ny: int | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs (n,), ys (ny, default n) over view (x0, x1, y0, y1) and the grid points (n·ny, 2), row j
    = ys[j]: Z[j, i] is the value at (xs[i], ys[j]). The decision map (`Session.output_grid`) and
    the unit maps sample the plane alike."""
    x0, x1, y0, y1 = view
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n if ny is None else ny)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def model_unit_grids(model: MLP, view: tuple[float, float, float, float], n: int, ny: int | None = None,
                     inputs: Sequence[str] = features.PLANE) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(xs, ys, layers) for `model` over `view`: layers[0] (ny, n, n_in) holds its `inputs` (x1, x2
    or features of them),
    layers[k] (ny, n, width_k) the outputs of hidden layer k (eval mode: batch norm uses its
    running statistics); ny defaults to n."""
    ny = n if ny is None else ny
    if min(n, ny) < 2:
        raise ValueError(f"unit maps need n >= 2 samples per axis, got {min(n, ny)}")
    xs, ys, pts = plane(view, n, ny)
    with np.errstate(all="ignore"):  # a diverging run's nan/inf are drawn as such, not warned about
        x = features.transform(inputs, pts)
        hidden = model.unit_outputs(x)
    return xs, ys, [a.reshape(ny, n, -1) for a in [x, *hidden]]


def unit_grids(session: Session, n: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(xs, ys, layers) of a dataset session's model over its data's view plane; see
    `model_unit_grids`. Changes nothing in the session (parameters, optimizer, running statistics,
    random streams, caches)."""
    from .problem import DatasetProblem  # here: problem.py draws its output grid with plane() from this module

    p = session.problem
    if not isinstance(p, DatasetProblem):
        raise ValueError("unit maps exist only for dataset tasks (a network over the input plane)")
    return model_unit_grids(p.model, p.data.info.view, n, inputs=p.inputs)


def feature_grids(view: tuple[float, float, float, float], n: int,
                  names: Sequence[str] = features.NAMES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs (n,), ys (n,) over `view` and F (n, n, len(names)): every candidate input feature over the
    plane, used by the network or not (the diagram's input column shows them all); F[j, i, k] is
    feature names[k] at (xs[i], ys[j])."""
    if n < 2:
        raise ValueError(f"feature maps need n >= 2 samples per axis, got {n}")
    xs, ys, pts = plane(view, n)
    return xs, ys, features.transform(list(names), pts).reshape(n, n, len(names))


def map_levels(activation: str, layer: int, values: np.ndarray) -> tuple[float, float]:
    """The colour range for the maps of one layer (0 = the inputs), the same for all its units so
    that units of a column compare at a glance; white is the middle of the range.

    - inputs: ±max |x| over the plane, so white is x = 0, the plane's axis;
    - tanh: (−1, 1), its full range: a saturated unit is fully coloured, a unit near 0 white,
      whatever the other units do (a layer-wide max would make a layer of small outputs look saturated);
    - sigmoid: (0, 1), its full range: white is ½, the unit's "undecided" value; symmetric about 0
      every output would be blue;
    - unbounded activations (relu, elu, gelu, silu, leaky_relu, linear): ±the largest finite |h| of
      the layer over the plane, so 0 (a relu's dead region) is white and the layer's strongest unit
      is fully coloured.
    Never empty: a layer of zeros gets (−1e-12, 1e-12)."""
    if layer > 0 and activation in BOUNDED:
        return BOUNDED[activation]
    a = np.asarray(values, dtype=np.float64)
    fin = np.abs(a[np.isfinite(a)])
    m = float(fin.max()) if fin.size else 0.0
    m = min(max(m, 1e-12), 1e300)
    return (-m, m)
