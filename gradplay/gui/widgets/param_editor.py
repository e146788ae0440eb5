"""A small dialog to type one weight or bias by hand (click an edge, a neuron or a heatmap cell).

Enter sets the value (the dialog stays open with the message when the engine refuses it), Esc
closes it without a change. It is window-modal but opened with `open()`, so nothing blocks and a
test drives it like a user: type, then press Enter.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from ...core.timeline import MAX_PARAM_VALUE as LIMIT  # what a params.* timeline entry may hold
from ..number_format import fmt


class ParamEditor(QtWidgets.QDialog):
    """`apply(value)` sets the parameter and returns None, or returns why it could not."""

    def __init__(self, title: str, detail: str, value: float, apply: Callable[[float], str | None],
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Set {title}")
        self.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        self._apply = apply
        form = QtWidgets.QVBoxLayout(self)
        self.head = QtWidgets.QLabel(f"<b>{title}</b> = {fmt(value)}<br>{detail}")
        self.head.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.head.setWordWrap(True)
        form.addWidget(self.head)
        self.field = QtWidgets.QLineEdit(repr(float(value)))
        self.field.selectAll()
        self.field.setToolTip("A number, e.g. 0.5, -2 or 1e-3. It holds from this step on; training goes on "
                              "from it with the optimizer's state as it was. It is recorded on the run's "
                              "timeline, so a replay and the exports do the same.")
        form.addWidget(self.field)
        self.error = QtWidgets.QLabel(wordWrap=True)
        self.error.setStyleSheet("color: #d9534f;")
        self.error.hide()
        form.addWidget(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Set")
        buttons.accepted.connect(self.commit)
        buttons.rejected.connect(self.reject)
        form.addWidget(buttons)
        self.setMinimumWidth(320)

    def commit(self) -> None:
        """Set the typed value, or say what is wrong with it (and keep the dialog open)."""
        text = self.field.text().strip().replace("−", "-")  # a minus copied from the window's labels
        try:
            value = float(text)
        except ValueError:
            self._fail(f"'{text}' is not a number")
            return
        if not math.isfinite(value) or abs(value) > LIMIT:
            self._fail(f"{text} is out of range: use a finite value between -{LIMIT:g} and {LIMIT:g}")
            return
        problem = self._apply(value)
        if problem:
            self._fail(problem)
            return
        self.accept()

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        # grow to hold the wrapped message: without this the dialog kept its height and the
        # message was drawn over the header (seen at the default 320 px width)
        self.resize(self.width(), max(self.height(), self.heightForWidth(self.width()), self.sizeHint().height()))
        self.field.setFocus()
        self.field.selectAll()
