"""A label whose text changes at every frame without re-laying out the window each time.

`QLabel.setText` asks its parent's layout to run again, and a layout that runs asks for its own
parent's (QLayout::activate ends in `updateGeometry`), up to the main window, which then lays out
every dock. The default layout rewrites six labels a frame (the panels' summaries, the large
counter, the transport's step count, the status line), so the whole window was laid out once or
twice a frame. Measured with `gradplay bench --gui`'s config (a) at full speed, default layout,
1600×1000: freezing those labels' sizes took the window from 32–35 to 40–44 frames/s, and the p99
time between frames from 64–73 to 39–42 ms.

Qt stops that chain only at a widget of fixed size, or at a parent without a layout. `LiveLabel`
is the second: a QLabel alone in a widget without a layout. The wall's own size hint changes only
when the new text needs a size the label does not have (a taller wrapped summary, a wider number),
and only then does it ask for a layout. A number's width only grows, so that a counter does not
shift its neighbours at every digit change, and a wrapped text gives a line back only after a second.
"""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

SHRINK_AFTER_MS = 1000  # a wrapped text gives back a line only after needing less this long


class LiveLabel(QtWidgets.QWidget):
    """A QLabel (`label`) behind a wall that keeps its text changes out of the window's layout.

    Reads like the label it holds: `setText`, `text`, and any other QLabel method are forwarded.
    A wrapped text takes the lines it needs at once, and gives one back only once it has needed
    fewer for SHRINK_AFTER_MS: a summary whose numbers change width wrapped onto 2 lines, then 3, then
    2 (about one frame in three for the Gradients panel at 1280×800), and its plots jumped with it.
    """

    def __init__(self, label: QtWidgets.QLabel | None = None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.label = label if label is not None else QtWidgets.QLabel()
        self.label.setParent(self)
        self.setSizePolicy(self.label.sizePolicy())
        hint = self.label.sizeHint()
        self._width = hint.width()    # the widest size hint given (a number's width only grows)
        self._height = hint.height()  # the height the layout was last asked for
        self._shrink = QtCore.QTimer(self, singleShot=True, interval=SHRINK_AFTER_MS)
        self._shrink.timeout.connect(self._give_back)

    def __getattr__(self, name: str) -> Any:
        # only for names the wall does not have itself (setAlignment, linkActivated, wordWrap ...)
        if name == "label":
            raise AttributeError(name)
        return getattr(self.label, name)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text == self.label.text():
            return
        self.label.setText(text)
        self._fit()

    def text(self) -> str:
        return self.label.text()

    def _fit(self) -> None:
        """Ask for a layout only when the text needs a size the layout was not asked for before."""
        lab = self.label
        if lab.hasHeightForWidth():  # wrapped: the height at the width it has
            height = lab.heightForWidth(self.width())
            if height > self._height:
                self._shrink.stop()
                self._height = height
                self.updateGeometry()
            elif height == self._height:
                self._shrink.stop()
            elif not self._shrink.isActive():
                self._shrink.start()
            return
        hint = lab.sizeHint()
        if hint.width() > self._width or hint.height() != self._height:
            self._width, self._height = max(self._width, hint.width()), hint.height()
            self.updateGeometry()

    def _give_back(self) -> None:
        self._height = self.label.heightForWidth(self.width())
        self.updateGeometry()

    # ----------------------------------------------------------------- what the layout asks
    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        hint = self.label.sizeHint()
        if not self.label.hasHeightForWidth():
            self._width = max(self._width, hint.width())
            hint.setWidth(self._width)
        return hint

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return self.label.minimumSizeHint()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return self.label.hasHeightForWidth()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        need = self.label.heightForWidth(width)
        return max(need, self._height) if width == self.width() else need

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        self.label.setGeometry(self.rect())
        if self.label.hasHeightForWidth() and event.oldSize().width() != event.size().width():
            self._height = self.label.heightForWidth(self.width())  # a new width: what it needs there
        super().resizeEvent(event)
