"""Clickable pictures of the datasets and landscapes, as TensorFlow Playground shows its four data sets.

A newcomer recognises "two spirals" or "a banana valley" faster from a picture than from a name in
a combo box. The pictures are drawn once (from the same generators and functions the runs use) and
cached; clicking one picks it, as the combo box beside it does.
"""
from __future__ import annotations

from functools import cache

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ...core import datasets, landscapes
from ...core.problem import problem_class
from ..colors import CLASS_COLORS, DIVERGING, SEQUENTIAL, ZERO, class_index, pale
from .flow import FlowWidget

ICON_PX = 32  # a picture's side: five or six to a row of the Setup panel, still recognisable


def _image(rgba: np.ndarray) -> QtGui.QImage:
    h, w, _ = rgba.shape
    return QtGui.QImage(rgba.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888).copy()


def _array(img: QtGui.QImage) -> np.ndarray:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    return np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(), img.width(), 4).copy()


# The caches hold pixels (numpy), never Qt objects: a QIcon kept in a module-level cache outlived the
# QApplication and segfaulted the interpreter at exit.
@cache
def _dataset_pixels(name: str, px: int) -> np.ndarray:
    info = datasets.DATASETS[name]
    d = datasets.make_dataset(name, 240, 0.1, 0.0)
    img = QtGui.QImage(px, px, QtGui.QImage.Format.Format_ARGB32)
    img.fill(QtGui.QColor(pale(ZERO)))
    x0, x1, y0, y1 = info.view
    p = QtGui.QPainter(img)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    y = d.y_train
    if info.kind == "regression":
        t = (y - y.min()) / max(float(np.ptp(y)), 1e-12)
        colors = [DIVERGING.mapToQColor(float(v)) for v in t]
    else:
        colors = [QtGui.QColor(CLASS_COLORS[c]) for c in class_index(y)]
    for (a, b), c in zip(d.x_train, colors):
        p.setBrush(c)
        p.drawEllipse(QtCore.QPointF((a - x0) / (x1 - x0) * px, (y1 - b) / (y1 - y0) * px), 1.6, 1.6)
    p.end()
    return _array(img)


@cache
def _landscape_pixels(name: str, px: int) -> np.ndarray:
    land = landscapes.get_landscape(name)
    _, _, Z = land.grid(px, px)
    with np.errstate(all="ignore"):
        D = np.log1p(np.maximum(Z - land.fmin, 0.0)) if land.log_color else Z
    fin = np.isfinite(D)
    lo, hi = (float(D[fin].min()), float(D[fin].max())) if fin.any() else (0.0, 1.0)
    t = np.clip((np.where(fin, D, hi) - lo) / max(hi - lo, 1e-12), 0, 1)[::-1]  # row 0 = top = largest y
    return np.ascontiguousarray(SEQUENTIAL.map(t.ravel(), mode="byte").reshape(px, px, 4))


def icon(kind: str, name: str, px: int = ICON_PX) -> QtGui.QIcon:
    """The picture of dataset or landscape `name` (kind "dataset" or "function")."""
    rgba = _dataset_pixels(name, px) if problem_class(kind).has_data else _landscape_pixels(name, px)
    return QtGui.QIcon(QtGui.QPixmap.fromImage(_image(rgba)))


class ThumbnailPicker(FlowWidget):
    """A wrapping row of checkable pictures, one per dataset or landscape; emits `picked(name)`."""

    picked = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent, spacing=3)
        self.group = QtWidgets.QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        self._kind: str | None = None

    def set_items(self, kind: str) -> None:
        """Show the pictures of every dataset (kind "dataset") or landscape ("function")."""
        if kind == self._kind:
            return
        self._kind = kind
        for b in self.buttons.values():
            self.group.removeButton(b)
            self.flow.removeWidget(b)
            b.deleteLater()
        self.buttons = {}
        for name, item in problem_class(kind).tasks.items():
            b = QtWidgets.QToolButton()
            b.setIcon(icon(kind, name))
            b.setIconSize(QtCore.QSize(ICON_PX, ICON_PX))
            b.setCheckable(True)
            b.setAutoRaise(True)
            b.setToolTip(f"{item.title}: {item.description}")
            b.setAccessibleName(item.title)
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space stays "play"
            b.clicked.connect(lambda _=False, n=name: self.picked.emit(n))
            self.group.addButton(b)
            self.flow.addWidget(b)
            self.buttons[name] = b
        self.updateGeometry()

    def select(self, name: str) -> None:
        """Check `name`'s picture (without emitting `picked`)."""
        b = self.buttons.get(name)
        if b is not None:
            b.setChecked(True)
        elif (checked := self.group.checkedButton()) is not None:  # own data: no picture is the task
            self.group.setExclusive(False)
            checked.setChecked(False)
            self.group.setExclusive(True)
