"""TF Playground's large counter ("Epoch 000,123"): captioned numbers in a large font."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .live_label import LiveLabel

BIG = 1.7  # the numbers' font size, times the application's


class Counter(QtWidgets.QWidget):
    """Pairs of a small caption over a large number, side by side ("epoch 30.0", "step 300")."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.lay = QtWidgets.QHBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.lay.setSpacing(14)
        self.values: dict[str, LiveLabel] = {}
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_captions(self, captions: list[str]) -> None:
        """The counters shown, left to right (rebuilt only when they change)."""
        if list(self.values) == captions:
            return
        while self.lay.count():
            item = self.lay.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.values = {}
        for caption in captions:
            box = QtWidgets.QVBoxLayout()
            box.setSpacing(0)
            cap = QtWidgets.QLabel(caption)
            cap.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)  # the palette's muted text
            value = QtWidgets.QLabel("0")
            font = value.font()
            font.setPointSizeF(font.pointSizeF() * BIG)
            value.setFont(font)
            value.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft)
            # rewritten every frame, with a width that only grows: the counter (Fixed policy)
            # resized with every digit change and moved its neighbours about every third frame
            value = LiveLabel(value)
            box.addWidget(cap)
            box.addWidget(value)
            holder = QtWidgets.QWidget()
            holder.setLayout(box)
            box.setContentsMargins(0, 0, 0, 0)
            self.lay.addWidget(holder)
            self.values[caption] = value

    def set_values(self, values: dict[str, str]) -> None:
        """Numbers as text, by caption (a label is rewritten only when its text changes)."""
        for caption, text in values.items():
            label = self.values[caption]
            label.setText(text)

    def text(self, caption: str) -> str:
        return self.values[caption].text()
