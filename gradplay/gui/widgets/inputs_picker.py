"""The network's input features as a row of toggles, as TF Playground's column of input pictures.

Each toggle turns one feature of `core.features` on or off (`[network] inputs`); at least one stays
on, since a network without inputs has nothing to learn from.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core import features
from .flow import FlowWidget

# What each input gives the network, for the toggles' tooltips.
HELP = {
    "x1": "the point's first coordinate, as it is",
    "x2": "the point's second coordinate, as it is",
    "x1^2": "the first coordinate squared: with x₂² one layer can draw circles and ellipses",
    "x2^2": "the second coordinate squared: with x₁² one layer can draw circles and ellipses",
    "x1*x2": "the product of the coordinates: its sign splits the plane into quadrants (exclusive or)",
    "sin(x1)": "a wave along x₁: stripes across the plane",
    "sin(x2)": "a wave along x₂: stripes across the plane",
    "cos(x1)": "a wave along x₁, shifted a quarter period from sin x₁",
    "cos(x2)": "a wave along x₂, shifted a quarter period from sin x₂",
}
# Fusion's checked tool button is a shade darker than an unchecked one, hard to tell apart at a
# glance; an input that is on takes the highlight colour, as a selected item does.
STYLE = ("QToolButton { padding: 2px 5px; border: 1px solid palette(mid); border-radius: 3px; }"
         "QToolButton:hover { border-color: palette(highlight); }"
         "QToolButton:checked { background: palette(highlight); color: palette(highlighted-text);"
         " border-color: palette(highlight); }"
         # greyed (a landscape) like the rest of the network group, yet still showing which are on
         "QToolButton:checked:disabled { background: palette(mid); color: palette(window);"
         " border-color: palette(mid); }")
AT_LEAST_ONE = "A network needs at least one input: {} stays on. Turn another input on first."


class InputsPicker(FlowWidget):
    """Checkable buttons, one per feature (`features.NAMES`); `inputs()` lists the checked ones in
    the canonical order. `changed` fires after a click that changed them; `refused(message)` after a
    click that would have turned the last one off (it stays on)."""

    changed = QtCore.Signal()
    refused = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent, spacing=3)
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        self.setStyleSheet(STYLE)
        for name in features.NAMES:
            b = QtWidgets.QToolButton(text=features.LABELS[name])
            b.setCheckable(True)
            b.setToolTip(f"{features.LABELS[name]}: {HELP[name]}")
            b.setAccessibleName(f"input {features.LABELS[name]}")
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space stays "play"
            b.clicked.connect(lambda checked, n=name: self._clicked(n, checked))
            self.flow.addWidget(b)
            self.buttons[name] = b

    def inputs(self) -> list[str]:
        return [n for n, b in self.buttons.items() if b.isChecked()]

    def set_inputs(self, names: list[str]) -> None:
        """Show `names` checked (loading a config is not an edit: nothing is emitted)."""
        for n, b in self.buttons.items():
            b.setChecked(n in names)

    def _clicked(self, name: str, checked: bool) -> None:
        if not checked and not self.inputs():
            self.buttons[name].setChecked(True)  # (setChecked emits no `clicked`)
            self.refused.emit(AT_LEAST_ONE.format(features.LABELS[name]))
            return
        self.changed.emit()
