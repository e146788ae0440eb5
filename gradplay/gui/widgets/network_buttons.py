"""± buttons on the network diagram, as TF Playground edits its network where it draws it.

A row "2 hidden layers [−] [+]" above the diagram adds or removes the last hidden layer, and a
"− +" pair under each hidden column removes or adds a neuron there. The buttons only propose a new
list of widths (`hidden_changed`); the panel turns it into a config for the controller, like the
Setup panel's layer editor, so the Qt layer holds no training state.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.config import MAX_HIDDEN_LAYERS, MAX_WIDTH

NEW_LAYER_WIDTH = 4  # a layer added after none (else it copies the last layer's width)


def _button(text: str, tip: str, parent: QtWidgets.QWidget) -> QtWidgets.QToolButton:
    b = QtWidgets.QToolButton(parent)
    b.setText(text)
    b.setToolTip(tip)
    b.setAutoRaise(True)
    b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space stays "play"
    b.setFixedSize(20, 20)
    return b


class NetworkButtons(QtCore.QObject):
    """The layer row (`row`, a widget for the panel's layout) and per-column buttons drawn over
    `view` (the diagram's QGraphicsView), placed by `place(xs, y)`."""

    hidden_changed = QtCore.Signal(list)

    def __init__(self, view: QtWidgets.QGraphicsView, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.view = view
        self.hidden: list[int] = []
        self.row = QtWidgets.QWidget()
        lay = QtWidgets.QHBoxLayout(self.row)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(2)
        self.count = QtWidgets.QLabel()
        self.remove_layer = _button("−", "Remove the last hidden layer", self.row)
        self.add_layer = _button("+", f"Add a hidden layer (at most {MAX_HIDDEN_LAYERS})", self.row)
        lay.addWidget(self.count)
        lay.addWidget(self.remove_layer)
        lay.addWidget(self.add_layer)
        lay.addStretch(1)
        self.remove_layer.clicked.connect(lambda: self._emit(self.hidden[:-1]))
        self.add_layer.clicked.connect(
            lambda: self._emit(self.hidden + [self.hidden[-1] if self.hidden else NEW_LAYER_WIDTH]))
        self.columns: list[tuple[QtWidgets.QToolButton, QtWidgets.QToolButton]] = []

    def set_hidden(self, hidden: list[int]) -> None:
        """Show the buttons for these hidden widths (one pair per hidden column)."""
        self.hidden = list(hidden)
        n = len(self.hidden)
        self.count.setText(f"{n} hidden layer{'' if n == 1 else 's'}")
        self.remove_layer.setEnabled(n > 0)
        self.add_layer.setEnabled(n < MAX_HIDDEN_LAYERS)
        while len(self.columns) > n:
            for b in self.columns.pop():
                b.deleteLater()
        while len(self.columns) < n:
            i = len(self.columns)
            minus = _button("−", f"Remove a neuron from hidden layer {i + 1}", self.view)
            plus = _button("+", f"Add a neuron to hidden layer {i + 1} (at most {MAX_WIDTH})", self.view)
            minus.clicked.connect(lambda _=False, i=i: self._resize(i, -1))
            plus.clicked.connect(lambda _=False, i=i: self._resize(i, +1))
            self.columns.append((minus, plus))
        for (minus, plus), width in zip(self.columns, self.hidden):
            minus.setEnabled(width > 1)
            plus.setEnabled(width < MAX_WIDTH)

    def place(self, xs: list[float], y: float, visible: bool = True) -> None:
        """Centre each column's pair on the x positions `xs` (view pixels) at height `y`."""
        for (minus, plus), x in zip(self.columns, xs):
            minus.move(int(x) - minus.width() - 1, int(y))
            plus.move(int(x) + 1, int(y))
            minus.setVisible(visible)
            plus.setVisible(visible)

    def _resize(self, i: int, delta: int) -> None:
        hidden = list(self.hidden)
        hidden[i] = min(MAX_WIDTH, max(1, hidden[i] + delta))
        self._emit(hidden)

    def _emit(self, hidden: list[int]) -> None:
        if hidden != self.hidden:
            self.hidden_changed.emit(hidden)
