"""The transport toolbar: play/pause, step, step epoch, reset, speed and the step counter.

The actions carry the keyboard shortcuts; the window adds them to itself as well, so they work
wherever the focus is (a focused text field still keeps Space and the arrows for typing, because
Qt lets an editor claim those keys first).
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.pacing import FRAME_MS
from ..controller import MAX_SPEED, MIN_SPEED, Controller
from .live_label import LiveLabel

# Steps per frame offered by the speed slider: roughly logarithmic, with readable values. Below one,
# slow motion: 2, 4, 10 and 30 steps a second (one step every half second at the bottom).
SPEEDS = (MIN_SPEED, *(r * FRAME_MS / 1000 for r in (4, 10, 30)), 1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500,
          1000, 2000, 3000, MAX_SPEED)


def speed_text(speed: float) -> str:
    """"20 steps/frame", or in slow motion "2 steps/s" (one step every half second)."""
    if speed >= 1:
        return f"{speed:g} step{'s' if speed > 1 else ''}/frame"
    return f"{speed * 1000 / FRAME_MS:.0f} steps/s · slow"


def _icon(widget: QtWidgets.QWidget, name: str) -> QtGui.QIcon:
    return widget.style().standardIcon(getattr(QtWidgets.QStyle.StandardPixmap, name))


class TransportBar(QtWidgets.QToolBar):
    """Buttons and readouts that drive the controller; `actions` are the window's shortcuts."""

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__("Transport", parent)
        self.setObjectName("transport")
        self.setMovable(False)
        self.setFloatable(False)
        self.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setIconSize(QtCore.QSize(18, 18))
        self.controller = controller
        ctx = QtCore.Qt.ShortcutContext.ApplicationShortcut  # floating docks too

        def action(text: str, icon: str, keys: list[str], slot, tip: str) -> QtGui.QAction:
            a = QtGui.QAction(_icon(self, icon), text, self)
            a.setShortcuts([QtGui.QKeySequence(k) for k in keys])
            a.setShortcutContext(ctx)
            a.setToolTip(f"{tip} ({' or '.join(keys)})")
            a.triggered.connect(slot)
            return a

        self.play_action = action("Play", "SP_MediaPlay", ["Space"], controller.toggle,
                                  "Train continuously / pause")
        self.step_action = action("Step", "SP_MediaSkipForward", ["Right"], controller.step_once,
                                  "One optimizer step")
        self.epoch_action = action("Epoch", "SP_MediaSeekForward", ["Shift+Right"], controller.step_epoch,
                                   "Train to the end of the current epoch (one pass over the data)")
        self.reset_action = action("Reset", "SP_BrowserReload", ["Ctrl+R", "R"], controller.reset,
                                   "Back to step 0 with the same initial weights")
        self.actions_ = [self.play_action, self.step_action, self.epoch_action, self.reset_action]
        for a in self.actions_:
            self.addAction(a)
        self.play_button = self.widgetForAction(self.play_action)
        # The widest text the play button will show, so the toolbar does not jump when it changes.
        self.play_button.setMinimumWidth(self.play_button.sizeHint().width() + 16)
        self.addSeparator()

        self.speed = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setFixedWidth(150)
        self.speed.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # arrows stay "step", not "slide"
        self.speed.setToolTip("Training speed: optimizer steps per frame (about 60 frames a second); at the "
                              "left end, slow motion down to one step every half second, with the batch "
                              "of each step ringed on the map")
        self.speed_label = QtWidgets.QLabel()
        self.speed_label.setMinimumWidth(self.speed_label.fontMetrics().horizontalAdvance("5000 steps/frame "))
        self.addWidget(QtWidgets.QLabel(" speed "))
        self.addWidget(self.speed)
        self.addWidget(self.speed_label)
        self.speed.valueChanged.connect(self._speed_changed)
        self.addSeparator()
        self.counter = LiveLabel()  # rewritten every frame
        f = self.counter.font()
        f.setBold(True)
        self.counter.setFont(f)
        self.counter.setToolTip("Optimizer steps done, and epochs (passes over the training set)")
        self.addWidget(self.counter)
        self.set_speed(controller.speed)
        controller.play_state.connect(self._play_state)
        controller.speed_changed.connect(self._show_speed)

    def set_speed(self, steps_per_frame: float) -> None:
        """Move the slider to the offered speed nearest `steps_per_frame`."""
        i = min(range(len(SPEEDS)), key=lambda j: abs(SPEEDS[j] - steps_per_frame))
        self.speed.setValue(i)
        self._speed_changed(i)

    def _speed_changed(self, i: int) -> None:
        self.controller.set_speed(SPEEDS[i])
        self._show_speed(SPEEDS[i])

    def _show_speed(self, speed: float) -> None:
        """Follow the controller (a new task kind brings its own speed) without feeding back."""
        i = min(range(len(SPEEDS)), key=lambda j: abs(SPEEDS[j] - speed))
        was = self.speed.blockSignals(True)
        self.speed.setValue(i)
        self.speed.blockSignals(was)
        self.speed_label.setText(speed_text(speed))

    def _play_state(self, playing: bool) -> None:
        self.play_action.setText("Pause" if playing else "Play")
        self.play_action.setIcon(_icon(self, "SP_MediaPause" if playing else "SP_MediaPlay"))

    def update_counter(self) -> None:
        s = self.controller.session
        text = f"step {s.step:,}"
        if s.problem.has_epochs:
            text += f"  ·  epoch {s.epoch:.2f}"
        self.counter.setText(text)
