"""The keyboard goes back to the window after a field is edited.

Space, → and Ctrl+R are application shortcuts, but a focused text or number field claims Space and
the arrows for typing (Qt lets an editor take them first). After typing a learning rate and
pressing Enter, the field kept the focus, and Space then replaced the value with a space instead
of playing. Enter or Esc in a field now commits the value and clears the field's focus.
"""
from __future__ import annotations

import weakref

from PySide6 import QtCore, QtWidgets

FIELDS = (QtWidgets.QAbstractSpinBox, QtWidgets.QLineEdit)
DONE_KEYS = (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter, QtCore.Qt.Key.Key_Escape)


class GiveKeysBack(QtCore.QObject):
    """Watches the fields of `window` as they get the focus (QApplication.focusChanged: no
    application-wide event filter, which would run Python for every event of every widget)."""

    def __init__(self, window: QtWidgets.QWidget):
        super().__init__(window)
        self.window = window
        self._watched: weakref.WeakSet = weakref.WeakSet()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, old: QtWidgets.QWidget | None, new: QtWidgets.QWidget | None) -> None:
        if isinstance(new, FIELDS) and new not in self._watched and self.window.isAncestorOf(new):
            new.installEventFilter(self)
            self._watched.add(new)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.KeyPress and event.key() in DONE_KEYS:
            # after the field has handled the key (Enter commits a spin box's text)
            QtCore.QTimer.singleShot(0, obj, obj.clearFocus)
        return False
