"""gradplay's colours: one diverging scale for signs, class colours, layer colours, a sequential map.

Every signed quantity (weights, biases, model outputs) uses TF Playground's orange (−) / white (0) /
blue (+) scale with symmetric levels (`levels.symmetric_levels`), so a colour means the same thing in
every panel. Layer i keeps `layer_color(i)` everywhere (curves, histograms, diagram labels). The
colours that follow the light or dark palette are in `theme`.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

# TF Playground's colours (its d3 scale uses these three stops).
NEGATIVE = "#f59322"
ZERO = "#e8eaeb"
POSITIVE = "#0877bd"
DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [NEGATIVE, ZERO, POSITIVE], name="gradplay-diverging")
# The decision map under the data points: TF Playground paints its scale at alpha 160/255 over white,
# so that points of either class stay readable on it (on the full colours they vanished into
# hollow outlines). The same blend, as colours of their own.
MAP_ALPHA = 160 / 255


def pale(color: str, alpha: float = MAP_ALPHA) -> str:
    """`color` painted at `alpha` over white, as #rrggbb."""
    r, g, b = pg.mkColor(color).getRgb()[:3]
    return "#" + "".join(f"{round(255 - alpha * (255 - c)):02x}" for c in (r, g, b))


PALE_DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [pale(NEGATIVE), pale(ZERO), pale(POSITIVE)],
                             name="gradplay-diverging-pale")

# Classes: 0 / −1 is orange and 1 / +1 is blue, as on the diverging scale; a third class is green.
# Up to six classes (datasets.CLASS_RANGES): the two of a binary set, then green, purple, brown and
# pink from matplotlib's tab10, which stay apart from each other and from the first two.
CLASS_COLORS = (NEGATIVE, POSITIVE, "#3aa655", "#9467bd", "#8c564b", "#e377c2")

# Mid-lightness hues readable on white and near-black, avoiding the orange and blue that mean a sign.
LAYER_COLORS = ("#8e5bd6", "#12a39a", "#d6336c", "#7cb342", "#c9a227",
                "#5c6bc0", "#a1887f", "#e056fd", "#00acc1")

# Landscapes are unsigned: a sequential map, dark at the bottom, so a white trajectory stands out.
SEQUENTIAL = pg.colormap.get("viridis")


def layer_color(i: int) -> str:
    """The colour of layer i (0-based) in every panel."""
    return LAYER_COLORS[i % len(LAYER_COLORS)]


def class_index(y: np.ndarray) -> np.ndarray:
    """Labels in any stored format ({0,1}, ±1, index) as class indices 0, 1, 2."""
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        return y.astype(np.int64)
    return (y > 0).astype(np.int64)  # binary {0,1} and pm1 {−1,1} both map to {0,1}
