"""A view box whose auto-range moves in coarse steps while curves grow (training plays)."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6 import QtWidgets


def _nice_step(x: float) -> float:
    """The 1-2-5 number (…, 0.5, 1, 2, 5, 10, …) at or above x > 0."""
    e = math.floor(math.log10(x))
    m = x / 10.0**e
    return next(k for k in (1.0, 2.0, 5.0, 10.0) if k >= m * (1 - 1e-9)) * 10.0**e


EMPTY_RANGE = (0.0, 1.0)  # what an auto-ranged axis shows while its plot has no data


class StickyViewBox(pg.ViewBox):
    """A ViewBox whose auto-range moves in coarse steps.

    pyqtgraph's auto-range follows the data exactly, so a curve that grows every frame re-ranges
    its axes every frame, and a new range regenerates the axis' ticks, labels and grid, the largest
    cost of a frame at full training speed. Here each axis snaps to a 1-2-5 grid (a quarter of the
    span) with room above, and stays until the data leaves it or fills less than half of it.
    Curves in it are decimated before setData: pyqtgraph's clipToView and auto-downsampling make
    the data bounds depend on the view, and the range would flip between two states.
    While the curves stand still (`set_moving(False)`, the default) the range fits them tightly.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sticky: list[tuple[float, float] | None] = [None, None]
        self._moving = False
        self._empty: list[bool] | None = None  # the axes the last auto-range found nothing to fit

    def set_moving(self, moving: bool) -> None:
        """Coarse steps while the curves grow (training plays), a tight fit while they stand still."""
        self._moving = moving
        self._sticky = [None, None]
        self.queueUpdateAutoRange()

    def updateAutoRange(self) -> None:  # noqa: N802 (pyqtgraph API)
        """pyqtgraph keeps the last range when there is nothing to fit: after Reset or a new run the
        empty loss plot at step 0 still spanned steps -162...162 and the last run's values. An
        auto-ranged axis with no data shows 0...1 instead. (Which axes had nothing to fit is noted by
        the auto-range's own look at the bounds: asking for them first as well cost a second pass
        over every curve, ~1 ms a frame over the default layout's plots.)"""
        self._empty = None
        super().updateAutoRange()
        if self._empty is None:  # it did not look (no auto-ranged axis, or already ranging)
            return
        empty = [self.state["autoRange"][ax] is not False and e for ax, e in enumerate(self._empty)]
        if any(empty):
            self._sticky = [None if e else s for e, s in zip(empty, self._sticky)]
            self.setRange(xRange=EMPTY_RANGE if empty[0] else None, yRange=EMPTY_RANGE if empty[1] else None,
                          padding=0, update=False, disableAutoRange=False)

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802 (pyqtgraph API)
        bounds = super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)
        if items is None:
            self._empty = [b is None for b in bounds]
        if items is not None or not self._moving:
            return bounds
        for ax in (0, 1):
            if bounds[ax] is None:
                continue
            lo, hi = map(float, bounds[ax])
            old = self._sticky[ax]
            if not (math.isfinite(lo) and math.isfinite(hi)):
                continue
            # Items drawn in pixels (markers, labels) add a margin that shrinks as the range grows:
            # ignoring 2 % of the span keeps that from flipping the range back and forth.
            tol = 0.02 * (hi - lo)
            lo, hi = lo + tol, hi - tol
            if old is None or not (old[0] <= lo and hi <= old[1] and hi - lo >= 0.5 * (old[1] - old[0])):
                step = _nice_step(max(hi - lo, 1e-9 * max(abs(lo), abs(hi)), 1e-300) / 4)
                old = self._sticky[ax] = (math.floor(lo / step) * step, math.ceil((hi + step / 2) / step) * step)
            bounds[ax] = list(old)
        return bounds


def set_moving(root: QtWidgets.QWidget, moving: bool) -> None:
    """`StickyViewBox.set_moving` for every such view box in the plots under `root`."""
    for view in root.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, StickyViewBox):
                item.set_moving(moving)
