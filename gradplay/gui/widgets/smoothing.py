"""The smoothing control of the noisy per-step curves (TensorBoard's slider, as a spin box)."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.smoothing import MAX_WEIGHT

TIP = ("Smoothing of the per-step curves: an exponential moving average with this weight (0: raw, "
       "0.9: about the last 10 points, 0.99: about 100). The raw curve stays faint behind.")


class SmoothingBox(QtWidgets.QWidget):
    """"smooth [0.60]": emits `changed(weight)`."""

    changed = QtCore.Signal(float)

    def __init__(self, weight: float, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.spin = QtWidgets.QDoubleSpinBox()
        self.spin.setRange(0.0, min(0.99, MAX_WEIGHT))
        self.spin.setSingleStep(0.1)
        self.spin.setDecimals(2)
        self.spin.setValue(weight)
        self.spin.setToolTip(TIP)
        self.spin.setKeyboardTracking(False)
        label = QtWidgets.QLabel("smooth")
        label.setToolTip(TIP)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addWidget(label)
        lay.addWidget(self.spin)
        self.spin.valueChanged.connect(self.changed)

    def value(self) -> float:
        return float(self.spin.value())
