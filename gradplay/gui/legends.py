"""Legends outside the plots: a strip of line samples, and TF Playground's colour bar or class swatches."""
from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from .colors import NEGATIVE, POSITIVE, ZERO, pale
from .number_format import fmt


class LegendStrip(QtWidgets.QLabel):
    """A legend in a strip of its own above the plot, one line sample and name per series.

    A legend inside the plot covered the curves in every corner at 1280×720 (the loss plot is
    ~60 px tall there) and the Curvature legend hid λmax after step 350; a strip never does."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.entries: list[tuple[str, QtGui.QPen]] = []

    def set_entries(self, entries: Sequence[tuple[str, QtGui.QPen]]) -> None:
        self.entries = [(name, QtGui.QPen(pen)) for name, pen in entries]
        parts = []
        for name, pen in self.entries:
            dashed = pen.style() != QtCore.Qt.PenStyle.SolidLine
            sample = "╌╌╌" if dashed else ("━━━" if pen.widthF() >= 2 else "───")
            parts.append(f"<span style='color:{pen.color().name()}'>{sample}</span>&nbsp;{html.escape(name)}")
        self.setText("<span style='font-size:8pt'>" + "&nbsp;&nbsp;&nbsp;".join(parts) + "</span>")

    def names(self) -> list[str]:
        return [name for name, _ in self.entries]


class ColorLegend(QtWidgets.QWidget):
    """TF Playground's little legend: a caption and the diverging bar labelled −m … 0 … m,
    or, for classes, one swatch per class."""

    def __init__(self, caption: str = "colour: value", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.caption, self.lo, self.hi = caption, -1.0, 1.0
        self.labels: tuple[str, str, str] | None = None
        self.classes: list[tuple[str, str]] = []
        self.pale = False  # the bar in the map's pale colours (PALE_DIVERGING), not the full ones
        self.setFixedHeight(22)

    def set_range(self, lo: float, hi: float, caption: str | None = None,
                  labels: tuple[str, str, str] | None = None) -> None:
        """Show the diverging bar from lo to hi (labels override the numbers at ends and middle)."""
        self.lo, self.hi, self.labels, self.classes = lo, hi, labels, []
        self._changed(caption)

    def set_classes(self, names: Sequence[str], colors: Sequence[str], caption: str | None = None) -> None:
        self.classes = list(zip(names, colors))
        self._changed(caption)

    def _changed(self, caption: str | None) -> None:
        """A new caption (if given), tooltip and picture after set_range / set_classes."""
        if caption is not None:
            self.caption = caption
        self.setToolTip(self.text())
        self.update()

    def text(self) -> str:
        """What the legend says, as plain text (for tests and tooltips)."""
        if self.classes:
            return f"{self.caption}  " + "  ".join(n for n, _ in self.classes)
        lo, mid, hi = self.labels or (fmt(self.lo), "0", fmt(self.hi))
        return f"{self.caption}  {lo} … {mid} … {hi}"

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.setPen(pal.color(QtGui.QPalette.ColorRole.WindowText))
        fm = p.fontMetrics()
        h, x = self.height(), 4
        cy = h // 2 + fm.ascent() // 2 - 1
        lo, mid, hi = self.labels or (fmt(self.lo), "0", fmt(self.hi))
        if self.classes:
            rest = sum(14 + fm.horizontalAdvance(name) + 12 for name, _ in self.classes)
        else:
            rest = fm.horizontalAdvance(lo) + 4 + 60 + 4 + fm.horizontalAdvance(hi) + 6
        # a narrow panel shortens the caption (the full text is the tooltip), never cuts the scale
        caption = fm.elidedText(self.caption, QtCore.Qt.TextElideMode.ElideRight, max(0, self.width() - rest - 18))
        if caption:
            p.drawText(x, cy, caption)
            x += fm.horizontalAdvance(caption) + 10
        if self.classes:
            for name, color in self.classes:
                p.fillRect(QtCore.QRectF(x, h / 2 - 5, 10, 10), QtGui.QColor(color))
                x += 14
                p.drawText(x, cy, name)
                x += fm.horizontalAdvance(name) + 12
            return
        p.drawText(x, cy, lo)
        x += fm.horizontalAdvance(lo) + 4
        bar_w = max(60, min(160, self.width() - x - fm.horizontalAdvance(hi) - 10))
        grad = QtGui.QLinearGradient(x, 0, x + bar_w, 0)
        for pos, color in ((0.0, NEGATIVE), (0.5, ZERO), (1.0, POSITIVE)):
            grad.setColorAt(pos, QtGui.QColor(pale(color) if self.pale else color))
        p.fillRect(QtCore.QRectF(x, h / 2 - 5, bar_w, 10), grad)
        p.drawLine(QtCore.QPointF(x + bar_w / 2, h / 2 - 7), QtCore.QPointF(x + bar_w / 2, h / 2 + 7))
        p.drawText(int(x + bar_w + 4), cy, hi)
