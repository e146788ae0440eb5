"""A full-width, non-modal message strip under the toolbar (first-launch hint, training halted)."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

# (text, background) per kind and theme: readable in light and dark, not alarming for hints.
COLORS = {
    ("info", False): ("#123a5c", "#e3f0fb"), ("info", True): ("#cfe6fa", "#173049"),
    ("warning", False): ("#5c3400", "#fff1d6"), ("warning", True): ("#ffd9a0", "#4a3210"),
}


class Banner(QtWidgets.QToolBar):
    """A toolbar row holding one message and a close button; `closed` fires when the user closes it."""

    closed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Message", parent)
        self.setObjectName("banner")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)  # not a toolbar the user switches on or off
        box = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(box)
        row.setContentsMargins(10, 2, 4, 2)
        self.icon = QtWidgets.QLabel()
        self.text = QtWidgets.QLabel(wordWrap=True)
        self.text.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # messages quote files: never markup
        self.text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                QtWidgets.QSizePolicy.Policy.Preferred)
        close = QtWidgets.QToolButton(text="✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self._close)
        row.addWidget(self.icon)
        row.addWidget(self.text, 1)
        row.addWidget(close, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self.addWidget(box)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        """Show `text`; kind "info" (a hint) or "warning" (training stopped)."""
        self.kind = kind
        dark = self.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128
        fg, bg = COLORS[(kind, dark)]
        self.setStyleSheet(f"QToolBar#banner {{ background: {bg}; border: none; }}"
                           f"QToolBar#banner QLabel, QToolBar#banner QToolButton {{ color: {fg}; }}")
        pix = QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning if kind == "warning" else \
            QtWidgets.QStyle.StandardPixmap.SP_MessageBoxInformation
        self.icon.setPixmap(self.style().standardIcon(pix).pixmap(18, 18))
        self.text.setText(text)
        self.show()
        self._fit()

    def _fit(self) -> None:
        # QToolBar sizes a word-wrapped label for a guessed narrow width (several lines); give it
        # the height it needs at the width it really has.
        room = self.width() - self.icon.sizeHint().width() - 60  # icon, close button, margins
        self.text.setMinimumHeight(0)  # heightForWidth is bounded by the previous fixed height
        self.text.setMaximumHeight(16777215)
        self.text.setFixedHeight(self.text.heightForWidth(max(200, room)))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if not self.isHidden():
            self._fit()

    def dismiss(self, kind: str | None = None) -> None:
        """Hide (only if showing `kind`, when given)."""
        if kind is None or self.kind == kind:
            self.hide()
            self.kind = ""

    def _close(self) -> None:
        self.dismiss()
        self.closed.emit()
