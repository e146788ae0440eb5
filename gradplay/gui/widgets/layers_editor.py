"""Editor of the hidden layers: a width and an activation per layer, with add/remove like TF
Playground's +/−."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core import nn
from ...core.config import MAX_HIDDEN_LAYERS, MAX_WIDTH
from .numbers import compact_combo, guard_wheel, int_spin


class LayersEditor(QtWidgets.QWidget):
    """`hidden()` is the list of widths, `activations()` one name per layer; `changed` fires after an
    edit, add or remove. A layer added shows the last layer's activation until the config says."""

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        buttons = QtWidgets.QHBoxLayout()
        self.count_label = QtWidgets.QLabel(wordWrap=True)  # "no hidden layer (linear model)" is long
        self.add_button = QtWidgets.QToolButton(text="+ layer")
        self.remove_button = QtWidgets.QToolButton(text="− layer")
        self.add_button.setToolTip(f"Add a hidden layer (at most {MAX_HIDDEN_LAYERS})")
        self.remove_button.setToolTip("Remove the last hidden layer")
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        buttons.addWidget(self.count_label, 1)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.add_button)
        outer.addLayout(buttons)
        # A row per layer, its width beside its activation: three layers to a row (width over
        # activation) needed 254 px, more than the 200 px a 250-px panel leaves its fields.
        self._grid = QtWidgets.QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(2)
        outer.addLayout(self._grid)
        self._spins: list[QtWidgets.QSpinBox] = []
        self.combos: list[QtWidgets.QComboBox] = []

    def hidden(self) -> list[int]:
        return [s.value() for s in self._spins]

    def activations(self) -> list[str]:
        return [c.currentText() for c in self.combos]

    def set_network(self, widths: list[int], activation: str | list[str]) -> None:
        """Show `widths` and their activations (one name for all, or one per layer) without emitting
        `changed` (loading a config is not an edit)."""
        while len(self._spins) > len(widths):
            self._pop()
        while len(self._spins) < len(widths):
            self._push(1, "")
        names = activation if isinstance(activation, list) else [activation] * len(widths)
        for s, c, w, a in zip(self._spins, self.combos, widths, names):
            was = s.blockSignals(True), c.blockSignals(True)
            s.setValue(int(w))
            c.setCurrentText(a)
            s.blockSignals(was[0])
            c.blockSignals(was[1])
        self._update()

    def _push(self, width: int, activation: str) -> None:
        i = len(self._spins)
        s = guard_wheel(int_spin(1, MAX_WIDTH, width))
        s.setPrefix(f"L{i + 1}: ")
        s.setToolTip(f"Neurons in hidden layer {i + 1} (1–{MAX_WIDTH})")
        s.valueChanged.connect(lambda *_: self.changed.emit())
        c = compact_combo(list(nn.ACTIVATIONS))
        c.setMinimumContentsLength(4)
        c.setCurrentText(activation)
        c.setToolTip(f"Activation of hidden layer {i + 1}")
        c.setAccessibleName(f"activation of layer {i + 1}")
        c.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self._grid.addWidget(s, i, 0)
        self._grid.addWidget(c, i, 1)
        self._spins.append(s)
        self.combos.append(c)

    def _pop(self) -> None:
        for w in (self._spins.pop(), self.combos.pop()):
            self._grid.removeWidget(w)
            w.deleteLater()

    def _add(self) -> None:
        if len(self._spins) < MAX_HIDDEN_LAYERS:
            last = (self._spins[-1].value(), self.combos[-1].currentText()) if self._spins else (4, "")
            self._push(*last)
            self._update()
            self.changed.emit()

    def _remove(self) -> None:
        if self._spins:
            self._pop()
            self._update()
            self.changed.emit()

    def _update(self) -> None:
        n = len(self._spins)
        self.count_label.setText("no hidden layer (linear model)" if n == 0 else
                                 f"{n} hidden layer{'s' if n > 1 else ''}")
        self.add_button.setEnabled(n < MAX_HIDDEN_LAYERS)
        self.remove_button.setEnabled(n > 0)
