"""The readout of every series' value at the step under the mouse."""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from .number_format import fmt
from .theme import legend_brush, theme


class HoverReadout:
    """Exact values (3 significant digits) of each series at the step under the mouse.

    The panel hands over the arrays it plotted with `set`; moving the mouse over the plot shows a
    dashed line at the nearest step and a label listing every series there.
    """

    def __init__(self, plot: pg.PlotItem, xname: str = "step"):
        self.plot, self.xname = plot, xname
        self.series: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
        self.marks: list[tuple[float, str]] = []  # (x, text): events at an x, listed when the mouse is near
        th = theme()
        self.line = pg.InfiniteLine(angle=90, pen=pg.mkPen(th.muted, style=QtCore.Qt.PenStyle.DashLine))
        self.text = pg.TextItem(anchor=(0, 0), fill=legend_brush(th), border=pg.mkPen(th.muted))
        for item in (self.line, self.text):
            item.setZValue(50)
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        plot.scene().sigMouseMoved.connect(self._moved)

    def clear(self) -> None:
        self.series.clear()

    def set(self, name: str, x: np.ndarray, y: np.ndarray, color: str) -> None:
        self.series[name] = (np.asarray(x), np.asarray(y), color)

    def text_at(self, x: float) -> tuple[float, str]:
        """(the nearest recorded x, an HTML list of each series' value there)."""
        best_x, rows = math.nan, []
        for name, (xs, ys, color) in self.series.items():
            if len(xs) == 0:
                continue
            i = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1)) if len(xs) > 1 else 0
            if len(xs) > 1 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
                i -= 1
            if math.isnan(best_x):
                best_x = float(xs[i])
            # a series recorded at other steps (the evaluations, once per frame) says which it shows
            at = f" ({self.xname} {fmt(xs[i], 6)})" if xs[i] != best_x else ""
            rows.append(f"<span style='color:{color}'>■</span> {name}: {fmt(ys[i])}{at}")
        head = f"{self.xname} {fmt(best_x, 6)}" if not math.isnan(best_x) else ""
        (x0, x1), _ = self.plot.vb.viewRange()
        near = 0.02 * abs(x1 - x0)  # within 2 % of the view: a few pixels of the mark's line
        rows += [html.escape(text) for mx, text in self.marks if abs(mx - x) <= near]
        return best_x, "<br>".join([head] + rows)

    def _moved(self, pos: QtCore.QPointF) -> None:
        vb = self.plot.vb
        if not self.series or not self.plot.isVisible() or not vb.sceneBoundingRect().contains(pos):
            self.line.hide()
            self.text.hide()
            return
        p = vb.mapSceneToView(pos)
        x_log = self.plot.ctrl.logXCheck.isChecked()
        x = 10 ** p.x() if x_log else p.x()
        best, html = self.text_at(x)
        if math.isnan(best):
            return
        self.line.setPos(math.log10(best) if x_log and best > 0 else best)
        th = theme()  # read now, so a theme switch needs no bookkeeping here
        self.text.fill = legend_brush(th)
        self.text.setHtml(f"<div style='font-size:8pt;color:{th.fg}'>{html}</div>")
        (x0, x1), _ = vb.viewRange()
        self.text.setAnchor((1, 0) if p.x() > (x0 + x1) / 2 else (0, 0))  # stay inside the plot
        self.text.setPos(p)
        self.line.show()
        self.text.show()
