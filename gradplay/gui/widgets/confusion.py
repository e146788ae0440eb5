"""The train and test confusion matrices, side by side on one small painted widget.

Rows are the true class, columns the predicted one (`losses.confusion_matrix`). A cell shows its
count on a shade of its row's share: the diagonal (correct) in a green tint, the rest (errors) in a
red one, so a class the network confuses with another shows as a red cell in its row. The row and
column headers are small squares in the class colours of the data plot; hovering a cell says what
it counts ("true class 2 predicted as 0: 7 of 40 (17.5 %)").
"""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..colors import CLASS_COLORS
from ..theme import theme

CORRECT = "#1a9850"  # ColorBrewer RdYlGn's ends: right and wrong without a legend
ERROR = "#d73027"
SPLITS = ("train", "test")
TITLE_PX = 16  # the title line ("confusion · step 200")
NAME_PX = 14   # each matrix's name ("train", "test") above it
HEAD_PX = 8    # the class-colour squares left of the rows and above the columns
GAP_PX = 10    # between the two matrices
MIN_CELL_PX = 14
MAX_CELL_PX = 30


def share_text(counts: np.ndarray, true: int, pred: int) -> str:
    """What cell (true, pred) of a confusion matrix counts, for its tooltip."""
    row = int(counts[true].sum())
    n = int(counts[true, pred])
    pct = f"{100.0 * n / row:.1f} %" if row else "no samples of this class"
    return f"true class {true} predicted as {pred}: {n} of {row} ({pct})"


class ConfusionView(QtWidgets.QWidget):
    """Two confusion matrices (train, test) stacked; `set_matrices` gives them and their step."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.matrices: dict[str, np.ndarray] = {}
        self.step: int | None = None
        self._cell_w = MIN_CELL_PX  # wide enough for the largest count
        self.setMouseTracking(True)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Expanding)
        self._fit_width()

    # ------------------------------------------------------------------ data
    def set_matrices(self, matrices: dict[str, np.ndarray], step: int) -> None:
        self.matrices = {k: np.asarray(matrices[k]) for k in SPLITS}
        self.step = step
        self._fit_width()
        self.update()

    def _fit_width(self) -> None:
        """As wide as the title and a matrix whose cells hold the largest count."""
        fm = QtGui.QFontMetrics(self._font())
        widest = max((int(m.max(initial=0)) for m in self.matrices.values()), default=0)
        self._cell_w = max(MIN_CELL_PX, fm.horizontalAdvance(_count(widest)) + 6)
        title = fm.horizontalAdvance("confusion · step 000,000") + 8
        width = max(title, HEAD_PX + self.classes() * max(self._cell_w, MAX_CELL_PX) + 8)
        if width != self.width():
            self.setFixedWidth(width)

    def _font(self) -> QtGui.QFont:
        font = QtGui.QFont(self.font())
        font.setPointSizeF(8.0)
        return font

    def _title(self) -> str:
        return "confusion" if self.step is None else f"confusion · step {self.step:,}"

    def clear(self) -> None:
        self.matrices, self.step = {}, None
        self._fit_width()
        self.update()

    def classes(self) -> int:
        return len(self.matrices["train"]) if self.matrices else 3

    # ------------------------------------------------------------------ geometry
    def cell_px(self) -> tuple[int, int]:
        """(width, height) of a cell: the two matrices stacked fill the height, within
        MIN/MAX_CELL_PX; a cell is at least as wide as high, and wide enough for its count."""
        c = self.classes()
        room = self.height() - TITLE_PX - 2 * (NAME_PX + HEAD_PX) - GAP_PX
        h = int(np.clip(room // (2 * c), MIN_CELL_PX, MAX_CELL_PX))
        return max(h, self._cell_w), h

    def needed_height(self, classes: int) -> int:
        """The least height that shows both matrices of `classes` classes at MIN_CELL_PX."""
        return TITLE_PX + 2 * (NAME_PX + HEAD_PX) + GAP_PX + 2 * classes * MIN_CELL_PX


    def _origin(self, split: str) -> QtCore.QPoint:
        """Top left of a matrix's first cell."""
        w, h = self.cell_px()
        c = self.classes()
        left = (self.width() - HEAD_PX - c * w) // 2 + HEAD_PX
        top = TITLE_PX + NAME_PX + HEAD_PX
        if split == "test":
            top += c * h + GAP_PX + NAME_PX + HEAD_PX
        return QtCore.QPoint(left, top)

    def cell_at(self, pos: QtCore.QPoint) -> tuple[str, int, int] | None:
        """(split, true class, predicted class) of the cell under `pos`, or None."""
        if not self.matrices:
            return None
        (w, h), c = self.cell_px(), self.classes()
        for split in SPLITS:
            o = self._origin(split)
            r, col = (pos.y() - o.y()) // h, (pos.x() - o.x()) // w
            if pos.y() >= o.y() and pos.x() >= o.x() and r < c and col < c:
                return split, int(r), int(col)
        return None

    def cell_center(self, split: str, true: int, pred: int) -> QtCore.QPoint:
        w, h = self.cell_px()
        o = self._origin(split)
        return QtCore.QPoint(o.x() + pred * w + w // 2, o.y() + true * h + h // 2)

    def tooltip_at(self, pos: QtCore.QPoint) -> str:
        hit = self.cell_at(pos)
        if hit is None:
            return ""
        split, r, c = hit
        return f"{split}: {share_text(self.matrices[split], r, c)}"

    def event(self, e: QtCore.QEvent) -> bool:
        if e.type() == QtCore.QEvent.Type.ToolTip:
            text = self.tooltip_at(e.pos())
            if text:
                QtWidgets.QToolTip.showText(e.globalPos(), text, self)
            else:
                QtWidgets.QToolTip.hideText()
                e.ignore()
            return True
        return super().event(e)

    # ------------------------------------------------------------------ paint
    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt override)
        th = theme()
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(th.bg))
        fg, bg = QtGui.QColor(th.fg), QtGui.QColor(th.bg)
        p.setFont(self._font())
        p.setPen(fg)
        p.drawText(QtCore.QRect(0, 0, self.width(), TITLE_PX), QtCore.Qt.AlignmentFlag.AlignCenter, self._title())
        if not self.matrices:
            p.end()
            return
        (w, h), c = self.cell_px(), self.classes()
        center = QtCore.Qt.AlignmentFlag.AlignCenter
        for split in SPLITS:
            m = self.matrices[split]
            o = self._origin(split)
            p.setPen(fg)
            p.drawText(QtCore.QRect(0, o.y() - HEAD_PX - NAME_PX, self.width(), NAME_PX), center,
                       f"{split} · rows: true")
            rows = m.sum(axis=1)
            for k in range(c):
                color = QtGui.QColor(CLASS_COLORS[k % len(CLASS_COLORS)])
                p.fillRect(o.x() - HEAD_PX, o.y() + k * h + 1, HEAD_PX - 2, h - 2, color)  # row k
                p.fillRect(o.x() + k * w + 1, o.y() - HEAD_PX, w - 2, HEAD_PX - 2, color)  # column k
            for r in range(c):
                for col in range(c):
                    share = m[r, col] / rows[r] if rows[r] else 0.0
                    tint = QtGui.QColor(CORRECT if r == col else ERROR)
                    cell = QtCore.QRect(o.x() + col * w, o.y() + r * h, w, h)
                    p.fillRect(cell, _blend(tint, bg, share))
                    p.setPen(QtGui.QColor("#ffffff") if share > 0.55 else fg)
                    p.drawText(cell, center, _count(int(m[r, col])))
            p.setPen(QtGui.QPen(QtGui.QColor(th.muted), 1))
            p.drawRect(o.x(), o.y(), c * w, c * h)
        p.end()


def _blend(color: QtGui.QColor, bg: QtGui.QColor, a: float) -> QtGui.QColor:
    """`color` at opacity `a` over `bg` (at least a trace of it, so an empty cell shows its kind)."""
    a = 0.08 + 0.92 * float(np.clip(a, 0.0, 1.0))
    return QtGui.QColor(*(round(a * x + (1 - a) * y) for x, y in
                          zip(color.getRgb()[:3], bg.getRgb()[:3])))


def _count(n: int) -> str:
    """A count in at most 4 characters: 7, 412, 9999, 80k (the tooltip has it exactly)."""
    return str(n) if n < 10_000 else f"{n // 1000}k"
