"""The contract between the main window and its dock panels.

A panel is given a `SessionHolder` and derives from `Panel`. Everything the window, the exporters and
`gradplay shot` ask of a panel is declared on `Panel` with a default, so they call it without asking
first whether the panel has it; a panel overrides only the hooks it needs.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from ...core import classroom, features
from ...core.session import Session
from ..theme import apply_pg_theme, theme_changed
from ..widgets.live_label import LiveLabel


class SessionHolder:
    """What a panel is given: an object whose `session` may be replaced (Open, presets).

    The window gives its `Controller`. Exported copies, GIF frames and tests give a holder of a
    session that nothing replaces and nothing edits: the defaults below are that case.
    """

    session: Session

    def __init__(self, session: Session | None = None) -> None:
        if session is not None:
            self.session = session

    def apply_config(self, cfg: dict) -> None:
        """Run `cfg` (a resolved config) from now on: Setup's fields, Weights' ± buttons, the
        Diagnostics fixes. A holder of a fixed session ignores it."""

    def edit_param(self, name: str, index: tuple[int, ...], value: float) -> None:
        """Set one weight or bias by hand (a click on the Weights diagram or a heatmap cell).
        ConfigError when the network cannot take it. A holder of a fixed session ignores it."""

    def on_session_replaced(self, slot: Callable[[], None]) -> None:
        """Call `slot` each time the session is rebuilt or replaced (a preset, Open, Reset), shown or
        not. A fixed session is never replaced, so the default never calls it."""


class Panel(QtWidgets.QWidget):
    """Content of one dock. Subclasses set `title` and `name` (the dock's objectName, for saveState).

    The main window calls `refresh()` after each training slice while the dock is visible (hidden
    docks do no work) and `reset()` when the session was rebuilt or replaced (new preset, Reset,
    Open). Panels create their plot items once and update them with setData/setImage; expensive views
    throttle themselves with `due()`.

    Optional hooks, each a no-op (or the common case) here: `exportable`, `on_screen_changed()`,
    `prepare_shot()`, `mouse_readout()` and `retheme()`.
    """

    title = "Panel"
    name = "panel"
    exportable = True  # False: interactive, a fresh copy for File → Export would show nothing of it
    slow_interval = 0.2  # seconds between expensive redraws (images, histograms)...
    slow_share = 0.25    # ...and longer when they are costly: at most this share of the GUI's time
    # False while the window refreshes a frame in which another panel already did its expensive
    # redraw: one a frame, so they do not all land on the same frame (see MainWindow.refresh)
    slow_turn = True

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.holder = holder
        self.th = apply_pg_theme()
        self._last_slow = 0.0
        self._slow_began: float | None = None
        self._slow_cost = 0.0  # seconds the last refresh with an expensive redraw took

    @property
    def session(self) -> Session:
        return self.holder.session

    def hidden_from_students(self, name: str) -> bool:
        """Whether classroom mode hides `name` ("network", "task", ...: core/classroom.py) in this
        session's config: the panel's own ways to change that thing are then shut too."""
        return name in classroom.of(self.session.config)["hide"]

    def input_label(self, i: int) -> str:
        """How the window writes the network's input i (x₁, x₁², sin x₁ ... of `[network] inputs`)."""
        return features.LABELS[self.session.inputs[i]]

    @staticmethod
    def summary_label() -> LiveLabel:
        """The rich-text line over a panel's plots. It is rewritten every frame: it paints its own
        background (a transparent label's repaint also repaints the dock and window behind it), and
        its text changes do not re-lay out the window (widgets/live_label.py)."""
        label = QtWidgets.QLabel(wordWrap=True, textFormat=QtCore.Qt.TextFormat.RichText)
        label.setAutoFillBackground(True)
        return LiveLabel(label)

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if theme_changed(self, event):  # (theme.restyle has recoloured the plots)
            self.retheme()
        super().changeEvent(event)

    def retheme(self) -> None:
        """Light <-> dark: re-pen what the panel coloured itself."""

    def on_screen_changed(self, visible: bool) -> None:
        """The window says the dock came to the front (`visible`) or went behind a tab or was closed:
        panels with work of their own (a race, an overlay, a pending check) pause or resume it."""

    def prepare_shot(self, steps: int = 0) -> None:
        """`gradplay shot --dock NAME` (after `steps` training steps) is about this panel: compute
        now what it otherwise computes on request or over time, so the picture shows it."""

    def mouse_readout(self) -> QtWidgets.QWidget | None:
        """The line that reads out the value under the mouse ("hover a cell for its value"), if the
        panel has one: an exported picture hides it, as it means nothing there."""
        return None

    def due(self, force: bool = False) -> bool:
        """True at most every `slow_interval` seconds (or when forced), for expensive redraws.

        A redraw that is costly at the current sizes (the decision boundary of a 256-wide, 8-layer
        net takes ~150 ms) comes less often, so that drawing keeps the window responsive.
        """
        now = time.perf_counter()
        if force or (self.slow_turn and self.overdue(now) >= 0):
            self._last_slow = self._slow_began = now
            return True
        return False

    def overdue(self, now: float) -> float:
        """Seconds since its next expensive redraw fell due (negative: not yet; inf: made due)."""
        return now - self._last_slow - max(self.slow_interval, self._slow_cost / self.slow_share)

    def make_due(self) -> None:
        """The next `due()` is True: the window wants an exact picture (paused, a single step)."""
        self._last_slow = -math.inf

    def timed_refresh(self) -> bool:
        """`refresh()`, timing it when it did an expensive redraw (the window calls this); whether
        it did one."""
        self._slow_began = None
        self.refresh()
        if self._slow_began is None:
            return False
        self._slow_cost = time.perf_counter() - self._slow_began
        return True

    def refresh(self) -> None:
        """Pull the session's current state into the plots."""

    def reset(self) -> None:
        """The session was rebuilt or replaced: re-shape items (layer count, task kind) and redraw."""
        self._last_slow = self._slow_cost = 0.0  # other sizes: the cost is measured anew
        self.refresh()
