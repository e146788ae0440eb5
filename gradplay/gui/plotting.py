"""New plots with gradplay's axes, view box and look (title, labels, grid, margins, theme)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from .axes import Axis
from .sticky_view import StickyViewBox
from .theme import Theme, theme


def axes() -> dict[str, Axis]:
    """gradplay's left and bottom axes, for `axisItems=` of a PlotItem or PlotWidget."""
    return {side: Axis(side) for side in ("left", "bottom")}


def plot_widget() -> pg.PlotWidget:
    """A PlotWidget with gradplay's axes and coarse-stepped auto-range (for curves that grow)."""
    return pg.PlotWidget(axisItems=axes(), viewBox=StickyViewBox())


MIN_POINTS = 200  # a curve's points at least, however narrow its plot


def curve_points(plot: pg.PlotItem, most: int) -> int:
    """Points a min/max-decimated curve needs in `plot`: two per pixel column of its view (the
    column's lowest and highest value), at most `most`. Both the refresh (decimation, setData)
    and the antialiased stroking grow with the points: the gradients panel's two plots, ~270 px
    wide, painted in 3.9–4.1 ms from ~540 points a curve against 4.5–4.8 ms from 1,000."""
    width = plot.getViewBox().width()
    if width < 10:  # not laid out yet (a dock not shown): its size is unknown
        return most
    return int(min(most, max(MIN_POINTS, 2 * width)))


def apply_plot_style(plot: pg.PlotItem, title: str, xlabel: str, ylabel: str, th: Theme | None = None,
                     grid: bool = True) -> None:
    """Title (none if empty), axis labels, a faint grid (not over images) and compact margins, themed."""
    th = th or theme()
    plot.setTitle(title or None, color=th.fg, size="10pt")
    label_style = {"color": th.fg, "font-size": "9pt"}
    plot.setLabel("bottom", xlabel, **label_style)
    plot.setLabel("left", ylabel, **label_style)
    plot.showGrid(x=grid, y=grid, alpha=0.15)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        # Repaint from a pixmap unless the axis itself changed: with a grid the axis spans the
        # whole view, so every new point of a curve repainted its labels and grid lines (~2 ms
        # per axis, the largest cost of a frame while training at full speed).
        axis.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        axis.setTextPen(th.fg)
        axis.setPen(th.fg)
        axis.enableAutoSIPrefix(False)  # "0.7", not "700 (x0.001)"
    plot.getAxis("left").setWidth(52)  # room for "1e−5" tick labels, equal in stacked plots
    plot.setMenuEnabled(False)
