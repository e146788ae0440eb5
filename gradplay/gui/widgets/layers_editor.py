"""Editor of the hidden layers: one width field per layer, with add/remove like TF Playground's +/−."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.config import MAX_HIDDEN_LAYERS, MAX_WIDTH
from .numbers import guard_wheel, int_spin


class LayersEditor(QtWidgets.QWidget):
    """`hidden()` is the list of widths; `changed` fires after an edit, add or remove."""

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        buttons = QtWidgets.QHBoxLayout()
        self.count_label = QtWidgets.QLabel()
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
        # widths flow in a grid of 3 per row so 8 layers still fit a narrow panel
        self._grid = QtWidgets.QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        outer.addLayout(self._grid)
        self._spins: list[QtWidgets.QSpinBox] = []

    def hidden(self) -> list[int]:
        return [s.value() for s in self._spins]

    def set_hidden(self, widths: list[int]) -> None:
        """Show `widths` without emitting `changed` (loading a config is not an edit)."""
        while len(self._spins) > len(widths):
            self._pop()
        while len(self._spins) < len(widths):
            self._push(1)
        for s, w in zip(self._spins, widths):
            was = s.blockSignals(True)
            s.setValue(int(w))
            s.blockSignals(was)
        self._update()

    def _push(self, width: int) -> None:
        i = len(self._spins)
        s = guard_wheel(int_spin(1, MAX_WIDTH, width))
        s.setPrefix(f"L{i + 1}: ")
        s.setToolTip(f"Neurons in hidden layer {i + 1} (1–{MAX_WIDTH})")
        s.valueChanged.connect(lambda *_: self.changed.emit())
        self._grid.addWidget(s, i // 3, i % 3)
        self._spins.append(s)

    def _pop(self) -> None:
        s = self._spins.pop()
        self._grid.removeWidget(s)
        s.deleteLater()

    def _add(self) -> None:
        if len(self._spins) < MAX_HIDDEN_LAYERS:
            self._push(self._spins[-1].value() if self._spins else 4)
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
