"""Colour levels for images of signed values, and values as pyqtgraph can draw them."""
from __future__ import annotations

import numpy as np

DRAW_LIMIT = 1e300  # the largest |value| handed to pyqtgraph: its scaling computes max − min


def symmetric_levels(*arrays: np.ndarray, floor: float = 1e-12) -> tuple[float, float]:
    """(−m, m) with m the largest finite |value| of the arrays (at least `floor`, at most
    DRAW_LIMIT: 1e308 weights overflowed pyqtgraph's level range), so 0 is white."""
    m = floor
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        fin = a[np.isfinite(a)]
        if fin.size:
            m = max(m, float(np.max(np.abs(fin))))
    m = min(m, DRAW_LIMIT)
    return (-m, m)


def drawable(a: np.ndarray) -> np.ndarray:
    """`a` as pyqtgraph can draw it: nan as 0, and every value within ±DRAW_LIMIT."""
    return np.clip(np.nan_to_num(np.asarray(a, dtype=np.float64)), -DRAW_LIMIT, DRAW_LIMIT)
