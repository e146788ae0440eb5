"""Shared GUI fixtures: sessions built from raw configs, a stand-in for the window's controller, and
real main windows with their own settings file."""
from __future__ import annotations

import pytest
from PySide6 import QtCore

from gradplay.core import config
from gradplay.core.session import Session
from gradplay.gui.docks.base import SessionHolder


@pytest.fixture
def make_session():
    """Build a Session from a partial raw config (defaults filled in by config.resolve)."""

    def make(raw: dict) -> Session:
        return Session(config.resolve(raw))

    return make


@pytest.fixture
def holder():
    """What panels are given by the window: a `SessionHolder`, whose `session` tests set."""
    return SessionHolder()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """No test reads or writes the user's saved layout."""
    monkeypatch.setenv("GRADPLAY_SETTINGS", str(tmp_path / "settings.ini"))
    return tmp_path / "settings.ini"


@pytest.fixture
def make_window(qtbot, isolated_settings):
    """Build and show a main window on a raw config (dict, resolved or not) or a preset name; every
    window is paused at teardown. `restore`: restore the saved layout; `activate`: make it the
    active window, so that keys go to it as on a desktop."""
    from gradplay.gui.controller import Controller
    from gradplay.gui.main_window import MainWindow
    from gradplay.presets import load_preset

    windows = []

    def make(raw: dict | str, restore: bool = False, activate: bool = False) -> MainWindow:
        cfg = load_preset(raw) if isinstance(raw, str) else config.resolve(raw)
        settings = QtCore.QSettings(str(isolated_settings), QtCore.QSettings.Format.IniFormat)
        w = MainWindow(Controller(cfg), settings=settings, restore=restore)
        qtbot.addWidget(w)
        w.resize(1280, 800)
        w.show()
        qtbot.waitExposed(w)
        if activate:
            w.windowHandle().requestActivate()
            qtbot.waitUntil(w.isActiveWindow)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.controller.pause()


@pytest.fixture
def play_past(qtbot):
    """Click Play, let the real trainer thread train past `step`, click Pause (as a user does)."""

    def play(w, step: int, speed: int = 5) -> None:
        w.controller.set_speed(speed)
        qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.controller.session.step > step, timeout=20000)
        qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not w.controller.playing)

    return play
