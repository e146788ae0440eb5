"""A small loss curve beside the output map, as over TF Playground's output (test and training loss).

Drawn with QPainter, not as a plot: no axes, no ticks, a polyline per series over the run's steps
and, right of the curves, each series' latest value in its colour, which is also its legend.
Series longer than MAX_POINTS are min/max decimated (`decimate`), so a refresh costs the same
after a million steps as after a hundred. The widget holds what it was last given and nothing of
training: its owner hands it the session's columns on each refresh.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..decimate import decimate
from ..number_format import fmt

MAX_POINTS = 240  # per series: twice the curve's ~120 px, so min and max of each pixel survive
MAX_WIDTH = 380   # px: wider, a few hundred steps looked flat
LABEL_W = 84      # px right of the curves for "━ train 0.647"


def _ending(x: np.ndarray, y: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The decimated (dx, dy) ending at the last finite point of (x, y): min/max buckets may leave
    it out, and the label beside the curve is the latest value."""
    fin = np.flatnonzero(np.isfinite(np.asarray(y, dtype=np.float64)))
    if len(fin) and len(dx) and dx[-1] != x[fin[-1]]:
        return np.append(dx, x[fin[-1]]), np.append(dy, y[fin[-1]])
    return dx, dy


class Sparkline(QtWidgets.QWidget):
    """Series (name, steps, values, colour) over a shared step axis; log scale when every value is
    positive (losses fall over orders of magnitude), else linear."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.series: list[tuple[str, np.ndarray, np.ndarray, str]] = []
        self.setMinimumSize(150, 30)
        self.setMaximumWidth(MAX_WIDTH)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setToolTip("The loss over the run so far (the Loss panel has the full curves)")

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(MAX_WIDTH, 30)

    def set_series(self, series: list[tuple[str, np.ndarray, np.ndarray, str]]) -> None:
        """Show these series, each decimated to MAX_POINTS (non-finite values dropped)."""
        self.series = [(name, *_ending(x, y, *decimate(x, y, MAX_POINTS)), color) for name, x, y, color in series]
        self.update()

    def clear(self) -> None:
        self.set_series([])

    def labels(self) -> list[str]:
        """The text right of the curves, one per series: its name and latest value."""
        return [f"{name} {fmt(y[-1]) if len(y) else '–'}" for name, _, y, _ in self.series]

    def drawn(self) -> bool:
        """Whether a curve is drawn: a series needs two points for a line."""
        return any(len(x) >= 2 for _, x, _, _ in self.series)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        plot = QtCore.QRectF(2, 3, max(w - LABEL_W - 6, 10), h - 6)
        font = painter.font()
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 6.0))
        painter.setFont(font)
        row = h / max(len(self.series), 1)
        text_pen = QtGui.QPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        for k, ((_, _, _, color), text) in enumerate(zip(self.series, self.labels())):  # "━ train 0.647"
            mid = (k + 0.5) * row
            painter.setPen(QtGui.QPen(QtGui.QColor(color), 2.5))
            painter.drawLine(QtCore.QPointF(w - LABEL_W, mid), QtCore.QPointF(w - LABEL_W + 9, mid))
            painter.setPen(text_pen)
            painter.drawText(QtCore.QRectF(w - LABEL_W + 12, k * row, LABEL_W - 12, row),
                             QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter, text)
        if not self.drawn():
            painter.end()
            return
        xs = np.concatenate([x for _, x, _, _ in self.series]).astype(np.float64)
        ys = np.concatenate([y for _, _, y, _ in self.series])
        log = bool(np.all(ys > 0))
        ys = np.log10(ys) if log else ys
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        sx = plot.width() / (x1 - x0) if x1 > x0 else 0.0
        sy = plot.height() / (y1 - y0) if y1 > y0 else 0.0
        for _, x, y, color in self.series:
            if len(x) < 2:
                continue
            v = np.log10(y) if log else y
            px = plot.left() + (x - x0) * sx
            py = plot.bottom() - (v - y0) * sy if sy else np.full(len(v), plot.center().y())
            # a 1 px line: antialiased at 1.5 px, 240 points took 1.2 ms to draw, at 1 px 0.035 ms
            painter.setPen(QtGui.QPen(QtGui.QColor(color), 1.0))
            painter.drawPath(pg.arrayToQPath(px, py))  # (a QPolygonF of QPointF each: 0.4 ms in Python)
        painter.end()
