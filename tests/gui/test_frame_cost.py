"""What a frame costs the window while training plays: text rewritten at every frame does not lay out
the window again, and the panels' expensive redraws (map, weights, histogram, confusion counts) take
turns, one a frame, instead of landing on the same frame."""
from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

from gradplay.gui.widgets.live_label import LiveLabel

SPIRAL = {"task": {"name": "spiral"}, "network": {"hidden": [8, 8], "activation": "tanh"},
          "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 10}}


class LayoutRequests(QtCore.QObject):
    """Counts the LayoutRequest events `widget` receives (a layout pass over all it holds)."""

    def __init__(self, widget: QtWidgets.QWidget):
        super().__init__()
        self.n = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LayoutRequest:
            self.n += 1
        return False


def docked(qtbot, label: QtWidgets.QWidget) -> tuple[QtWidgets.QMainWindow, LayoutRequests]:
    """`label` under a plot-sized neighbour in a dock of a shown main window, as the panels hold it."""
    win = QtWidgets.QMainWindow()
    qtbot.addWidget(win)
    body = QtWidgets.QWidget(minimumWidth=400)  # a panel's width (a dock otherwise takes the text's)
    lay = QtWidgets.QVBoxLayout(body)
    lay.addWidget(label)
    lay.addWidget(QtWidgets.QWidget(minimumHeight=200), 1)
    dock = QtWidgets.QDockWidget("panel")
    dock.setWidget(body)
    win.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
    win.setCentralWidget(QtWidgets.QWidget())
    win.resize(900, 600)
    win.show()
    qtbot.waitExposed(win)
    QtWidgets.QApplication.processEvents()
    return win, LayoutRequests(win)


@pytest.mark.parametrize("wrapped", [False, True], ids=["counter", "summary"])
def test_new_text_of_the_same_size_does_not_lay_out_the_window(qtbot, wrapped):
    plain = QtWidgets.QLabel("step 1,000", wordWrap=wrapped)
    win, plain_passes = docked(qtbot, plain)
    live = LiveLabel(QtWidgets.QLabel("step 1,000", wordWrap=wrapped))
    win2, live_passes = docked(qtbot, live)
    for step in range(1001, 1060):
        plain.setText(f"step {step:,}")
        live.setText(f"step {step:,}")
        QtWidgets.QApplication.processEvents()
    assert plain_passes.n > 20  # the cascade this guards against: a pass over the window a frame
    assert live_passes.n == 0
    assert live.text() == plain.text() == "step 1,059"


def test_text_that_needs_more_room_gets_it(qtbot):
    live = LiveLabel(QtWidgets.QLabel("step 1", wordWrap=True))
    win, _ = docked(qtbot, live)
    one_line = live.height()
    live.setText("step 2 · " + " · ".join(f"layer {i} 0.0{i}" for i in range(1, 40)))
    qtbot.waitUntil(lambda: live.height() > 2 * one_line)
    for _ in range(5):  # (the dock may widen for the longer text too: let the layout settle)
        qtbot.wait(20)
    assert live.label.geometry() == live.rect()  # the label fills its wall
    assert live.height() >= live.label.heightForWidth(live.width())
    tall = live.height()
    live.setText("step 3")  # fewer lines: kept a while (numbers changing width flipped 2-3-2 lines)...
    QtWidgets.QApplication.processEvents()
    assert live.height() == tall
    live.setText("step 4")
    qtbot.waitUntil(lambda: live.height() < tall / 2, timeout=3000)  # ...then given back
    wide = LiveLabel(QtWidgets.QLabel("9"))
    lay = QtWidgets.QHBoxLayout()
    box = QtWidgets.QWidget()
    box.setLayout(lay)
    lay.addWidget(wide)
    lay.addStretch(1)
    win.setCentralWidget(box)
    QtWidgets.QApplication.processEvents()
    wide.setText("99,999,999")
    qtbot.waitUntil(lambda: wide.width() >= wide.label.sizeHint().width())
    width = wide.width()
    wide.setText("1")  # a number's width only grows: its neighbours do not move back and forth
    QtWidgets.QApplication.processEvents()
    assert wide.width() == width


def test_playing_lays_out_the_window_rarely_and_one_expensive_redraw_a_frame(qtbot, make_window):
    w = make_window(SPIRAL)
    passes = LayoutRequests(w)
    frames: list[list[str]] = []
    w.controller.stepped.connect(lambda: frames.append([]), QtCore.Qt.ConnectionType.DirectConnection)
    shown = [name for name, panel in w.panels.items() if w.on_screen(name)]
    for name in shown:
        panel = w.panels[name]
        real = panel.timed_refresh

        def timed(real=real, name=name) -> bool:
            slow = real()
            if slow and frames:
                frames[-1].append(name)
            return slow

        panel.timed_refresh = timed
    w.controller.set_speed(5)
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(frames) >= 92, timeout=30000)
    laid_out = passes.n
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.controller.playing)
    # (the window refreshes before this test's slot is called: list k holds frame k + 1's redraws)
    played = frames[:90]
    # one expensive redraw a frame at most, and every panel that has one gets its turns
    assert max(len(f) for f in played) == 1, played
    slow = {name for f in played for name in f}
    assert {"landscape", "weights", "gradients"} <= slow, slow
    # the window was laid out again on fewer than one frame in four (~1.4 passes a frame before)
    assert laid_out < len(frames) / 4, (laid_out, len(frames))
