"""Errors in the app are shown, not fatal: a non-modal message box and a last-resort exception hook.

A Python exception raised inside a Qt slot does not stop the event loop: PySide prints it and the
window goes on, so without a hook the user sees nothing while the action silently failed. The hook
prints the traceback as before, pauses training (a failing frame would fail again at 60 Hz) and
shows one non-modal box per distinct error; the window, the session and its autosave stay.
"""
from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

Icon = QtWidgets.QMessageBox.Icon


def show_message(parent: QtWidgets.QWidget | None, title: str, text: str, details: str = "",
                 icon: Icon = Icon.Warning) -> QtWidgets.QMessageBox:
    """A message box that does not block the window (training and the other panels go on)."""
    box = QtWidgets.QMessageBox(icon, title, text, QtWidgets.QMessageBox.StandardButton.Ok, parent)
    box.setModal(False)
    box.setWindowModality(QtCore.Qt.WindowModality.NonModal)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    if details:
        box.setDetailedText(details)
    box.show()
    return box


def install_excepthook(window_getter: Callable[[], QtWidgets.QWidget | None]) -> Callable:
    """Route uncaught exceptions to a non-modal box over the window; returns the previous hook."""
    previous = sys.excepthook
    shown: set[str] = set()

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(details)
        window = window_getter()
        controller = getattr(window, "controller", None)
        if controller is not None:
            try:
                controller.pause()
            except Exception:  # noqa: BLE001 - the hook itself must never raise
                pass
        key = f"{exc_type.__name__}: {exc}"
        if key in shown or QtWidgets.QApplication.instance() is None:
            return
        shown.add(key)
        show_message(window, "gradplay: something went wrong",
                     f"An action failed with an internal error ({key}). Training is paused; your "
                     f"session is kept and autosaved. Please report this with the details below.",
                     details)

    sys.excepthook = hook
    return previous
