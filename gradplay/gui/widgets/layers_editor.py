"""Editor of the hidden layers: a width, an activation and a dropout probability per layer, with
add/remove like TF Playground's +/−."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core import nn
from ...core.config import MAX_HIDDEN_LAYERS, MAX_WIDTH
from ...core.dropout import MAX_P
from .numbers import UnitSpinBox, compact_combo, guard_wheel, int_spin


class DropoutSpin(UnitSpinBox):
    """A layer's dropout probability, 0 ("no drop") to 0.95 in steps of 0.05, sized for "0.95"."""

    def __init__(self, value: float = 0.0):
        super().__init__(0.0, MAX_P, value, special="p 0")
        self.setSingleStep(0.05)
        self.setPrefix("p ")

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(self.fontMetrics().horizontalAdvance("p 0.95") + 30, super().sizeHint().height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802
        return self.sizeHint()

    def _bare(self, text: str) -> str:
        t = text.strip()
        return t[len("p"):].strip() if t.startswith("p") else t

    def validate(self, text: str, pos: int):  # noqa: N802 (Qt override): the "p " prefix is no number
        state, _, _ = super().validate(self._bare(text) or "0", pos)
        return state, text, pos

    def valueFromText(self, text: str) -> float:  # noqa: N802
        return super().valueFromText(self._bare(text))

    def show_value(self, p: float) -> None:
        """Show `p` without clipping it: a config may go above the arrows' 0.95 (up to 1, excluded)."""
        self.setMaximum(max(MAX_P, p))
        self.setValue(p)


class LayersEditor(QtWidgets.QWidget):
    """`hidden()` is the list of widths, `activations()` one name per layer, `dropouts()` one
    probability per layer; `changed` fires after an edit, add or remove. A layer added shows the
    last layer's activation and dropout until the config says."""

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
        # A row per layer, its width beside its activation and dropout: three layers to a row (width
        # over activation) needed 254 px, more than the 200 px a 250-px panel leaves its fields.
        self._grid = QtWidgets.QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(2)
        outer.addLayout(self._grid)
        self._spins: list[QtWidgets.QSpinBox] = []
        self.combos: list[QtWidgets.QComboBox] = []
        self.drops: list[DropoutSpin] = []

    def hidden(self) -> list[int]:
        return [s.value() for s in self._spins]

    def activations(self) -> list[str]:
        return [c.currentText() for c in self.combos]

    def dropouts(self) -> list[float]:
        return [d.value() for d in self.drops]

    def set_network(self, widths: list[int], activation: str | list[str],
                    dropout: float | list[float] = 0.0) -> None:
        """Show `widths` with their activations and dropout probabilities (one value for all, or one
        per layer) without emitting `changed` (loading a config is not an edit)."""
        while len(self._spins) > len(widths):
            self._pop()
        while len(self._spins) < len(widths):
            self._push(1, "", 0.0)
        names = activation if isinstance(activation, list) else [activation] * len(widths)
        ps = dropout if isinstance(dropout, list) else [dropout] * len(widths)
        for s, c, d, w, a, p in zip(self._spins, self.combos, self.drops, widths, names, ps):
            was = s.blockSignals(True), c.blockSignals(True), d.blockSignals(True)
            s.setValue(int(w))
            c.setCurrentText(a)
            d.show_value(float(p))
            s.blockSignals(was[0])
            c.blockSignals(was[1])
            d.blockSignals(was[2])
        self._update()

    def _push(self, width: int, activation: str, p: float) -> None:
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
        d = guard_wheel(DropoutSpin())
        d.show_value(p)
        d.setToolTip(f"Dropout of hidden layer {i + 1}: in each training step every unit's output is set to 0 "
                     "with probability p and the kept ones are scaled by 1/(1 − p) (inverted dropout), so "
                     "the expected activation stays the same. Evaluation (test loss, accuracy, maps) "
                     "does not drop. The masks repeat with the seed.")
        d.setAccessibleName(f"dropout of layer {i + 1}")
        d.valueChanged.connect(lambda *_: self.changed.emit())
        self._grid.addWidget(s, i, 0)
        self._grid.addWidget(c, i, 1)
        self._grid.addWidget(d, i, 2)
        self._spins.append(s)
        self.combos.append(c)
        self.drops.append(d)

    def _pop(self) -> None:
        for w in (self._spins.pop(), self.combos.pop(), self.drops.pop()):
            self._grid.removeWidget(w)
            w.deleteLater()

    def _add(self) -> None:
        if len(self._spins) < MAX_HIDDEN_LAYERS:
            last = ((self._spins[-1].value(), self.combos[-1].currentText(), self.drops[-1].value())
                    if self._spins else (4, "", 0.0))
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
