"""The main window: docks around nothing, a transport toolbar, menus, and the redraw loop's far end.

Every panel lives in a QDockWidget named after the panel (so saveState/restoreState remember the
layout). After each training frame the window refreshes the visible panels only; when the session
is rebuilt or replaced, every panel is reset (hidden ones when they are shown again).
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from .. import __version__
from ..core import cost, share
from ..core.config import ConfigError
from ..core.diagnostics import halt_advice
from ..core.io import SessionFileError
from ..core.session import Session
from ..presets import load_preset, menu_groups
from .classroom import Classroom
from .controller import Controller
from .docks.base import Panel
from .docks.curvature import CurvaturePanel
from .docks.diagnostics import DiagnosticsPanel
from .docks.gradients import GradientsPanel
from .docks.landscape import LandscapePanel
from .docks.loss import LossPanel
from .docks.race import RacePanel
from .docks.setup import SetupPanel
from .docks.story import StoryPanel
from .docks.weights import WeightsPanel
from .docks.weightspace import WeightSpacePanel
from .file_actions import FileActions
from .number_format import fmt
from .sticky_view import set_moving
from .theme import apply_pg_theme, restyle
from .widgets.banner import Banner
from .widgets.keys import GiveKeysBack
from .widgets.live_label import LiveLabel
from .widgets.transport import TransportBar

LAYOUT_VERSION = 2  # bump when the set of docks changes: old saved states are then ignored
LAYOUTS = ("simple", "full")  # View → Simple / Full layout (MainWindow.arrange)
DEEP_PANELS = ("gradients", "diagnostics", "curvature", "race", "weightspace")  # hidden in Simple
HINTS = {  # the first-launch line: what to try first
    "function": "Press Space to train  ·  → steps once  ·  click the landscape to move the start",
    "dataset": "Press Space to train  ·  → steps once  ·  change the network or optimizer in Setup "
               "while it trains",
}
SHORTCUTS = [
    ("Space", "play / pause (anywhere except while typing in a field)"),
    ("→", "one optimizer step"),
    ("Shift+→", "train to the end of the epoch"),
    ("Ctrl+R or R", "reset to step 0 (same initial weights)"),
    ("Ctrl+O", "open a config (.toml) or a saved session (.gradplay or session folder)"),
    ("Ctrl+S / Ctrl+Shift+S", "save the session / save it as a new file"),
    ("Ctrl+E", "export everything: pictures, CSV, GIF, PyTorch script (File → Export for one)"),
    ("Ctrl+Q", "quit"),
    ("click the landscape", "move the start point (landscape tasks)"),
]
Area = QtCore.Qt.DockWidgetArea


def make_settings(path: str | os.PathLike | None = None) -> QtCore.QSettings:
    """Where the layout is remembered: `path` or $GRADPLAY_SETTINGS (an .ini file), else the user's."""
    path = path or os.environ.get("GRADPLAY_SETTINGS")
    if path:
        return QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings("gradplay", "gradplay")


class MainWindow(QtWidgets.QMainWindow):
    """gradplay's window around a Controller; `docks` maps panel name -> QDockWidget."""

    _hold_repaints = False  # while `_settle_views` runs, the window's repaint requests are held...
    _held_repaint = False   # ...and whether one was

    def __init__(self, controller: Controller, settings: QtCore.QSettings | None = None,
                 restore: bool = True):
        super().__init__()
        self.controller = controller
        self.settings = settings if settings is not None else make_settings()
        self.setWindowTitle("gradplay")
        self.setDockNestingEnabled(True)
        self.setDockOptions(QtWidgets.QMainWindow.DockOption.AllowTabbedDocks
                            | QtWidgets.QMainWindow.DockOption.AllowNestedDocks
                            | QtWidgets.QMainWindow.DockOption.AnimatedDocks)
        apply_pg_theme()
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self.panels: dict[str, Panel] = {}
        self._stale: set[str] = set()  # panels that missed a reset while hidden
        # A dock behind another's tab stays isVisible() (Qt only moves it away); its visibilityChanged
        # signal says whether it is on screen, so tabbed-away panels do no work either.
        self._on_screen: dict[str, bool] = {}

        self.keys = GiveKeysBack(self)  # Enter or Esc in a field gives Space and → back
        self.transport = TransportBar(controller, self)
        self.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, self.transport)
        self.addToolBarBreak()
        self.banner = Banner(self)
        self.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, self.banner)
        self.banner.closed.connect(self._banner_closed)
        self.status = LiveLabel()  # rewritten every frame
        self.status.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # a saved halt message is the file's text
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().setSizeGripEnabled(False)

        for panel in (SetupPanel(controller), LandscapePanel(controller), LossPanel(controller),
                      GradientsPanel(controller), WeightsPanel(controller),
                      # teaching panels, tabbed behind the ones above by arrange_default
                      StoryPanel(controller), RacePanel(controller), WeightSpacePanel(controller),
                      DiagnosticsPanel(controller), CurvaturePanel(controller)):
            self.add_dock(panel)
        self.panels["curvature"].attach_landscape(self.panels["landscape"])
        # hovering a neuron in the network diagram shows its map large on the output plane
        self.panels["weights"].unit_hovered.connect(self.panels["landscape"].show_unit)
        # Rewritten every frame, like the panels' summary lines: they paint their own background
        # (a transparent label's repaint repaints the window behind it too).
        for label in (self.status, self.transport.counter):
            label.setAutoFillBackground(True)
        self.panels["story"].link.connect(self._story_link)
        self.layout_mode = self.settings.value("window/mode", "full", type=str)
        self._build_menus()
        self._default_size()
        self.arrange(self.layout_mode)
        self._restored = self._fitted = False

        controller.stepped.connect(self.refresh)
        controller.session_replaced.connect(self.reset_panels)
        controller.config_changed.connect(self._config_changed)
        controller.halted.connect(self.show_halt)
        # Bound methods, not lambdas: a lambda holding `self` on a signal of the controller (which
        # outlives the window's widgets) kept every closed window alive, ~100 MB each in the GUI tests.
        controller.stopped.connect(self._stopped)
        controller.play_state.connect(self._play_state)
        controller.working.connect(self._working)
        if restore:
            self.restore_layout()
        if not self.settings.value("hint/seen", False, type=bool):
            self.banner.show_message(HINTS[controller.session.kind], "info")
        self.reset_panels()

    # ----------------------------------------------------------------- docks
    def add_dock(self, panel: Panel, area: Area = Area.RightDockWidgetArea) -> QtWidgets.QDockWidget:
        """Wrap a panel in a movable, floatable, closable dock named after it, listed in View."""
        dock = QtWidgets.QDockWidget(panel.title, self)
        dock.setObjectName(panel.name)
        dock.setWidget(panel)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        dock.visibilityChanged.connect(lambda visible, name=panel.name: self._dock_shown(name, visible))
        self.docks[panel.name] = dock
        self.panels[panel.name] = panel
        return dock

    def arrange(self, mode: str) -> None:
        """Lay the docks out as `mode`: "full" (every panel, the deep ones as tabs) or "simple" (the
        TensorFlow Playground story left to right: setup → network → output, the rest one click
        away in View)."""
        self.layout_mode = mode if mode in LAYOUTS else "full"
        self.settings.setValue("window/mode", self.layout_mode)
        if self.layout_mode == "simple":
            self.arrange_simple()
        else:
            self.arrange_default()
        for act in self.layout_group.actions() if hasattr(self, "layout_group") else ():
            act.setChecked(act.data() == self.layout_mode)
        self.classroom.apply(relayout=True)  # the layout showed every dock it has

    def _undock_all(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            self.removeDockWidget(dock)

    def arrange_simple(self) -> None:
        """Setup (tab: Story) left, the network diagram (Weights) in the middle, the output map over
        the loss right; the deep panels are placed (tabs behind these) but hidden."""
        d = self.docks
        self._undock_all()
        self.addDockWidget(Area.LeftDockWidgetArea, d["setup"])
        self.splitDockWidget(d["setup"], d["weights"], QtCore.Qt.Orientation.Horizontal)
        self.splitDockWidget(d["weights"], d["landscape"], QtCore.Qt.Orientation.Horizontal)
        self.splitDockWidget(d["landscape"], d["loss"], QtCore.Qt.Orientation.Vertical)
        for front, behind in (("setup", "story"), ("landscape", "race"), ("race", "weightspace"),
                              ("weights", "gradients"), ("gradients", "diagnostics"), ("diagnostics", "curvature")):
            self.tabifyDockWidget(d[front], d[behind])
        for name, dock in d.items():
            dock.setVisible(name not in DEEP_PANELS)
        for front in ("setup", "weights", "landscape"):
            d[front].raise_()
        self._docks_layers = None
        self._task_docks()
        self._fit_docks()

    def arrange_default(self) -> None:
        """Setup (tab: Story) left; the landscape (tabs: Race, Weight space) big in the middle over the
        loss; gradients (tabs: Diagnostics, Curvature) over weights right."""
        d = self.docks
        self._undock_all()
        self.addDockWidget(Area.LeftDockWidgetArea, d["setup"])
        self.splitDockWidget(d["setup"], d["landscape"], QtCore.Qt.Orientation.Horizontal)
        self.splitDockWidget(d["landscape"], d["loss"], QtCore.Qt.Orientation.Vertical)
        self.addDockWidget(Area.RightDockWidgetArea, d["gradients"])
        self.splitDockWidget(d["gradients"], d["weights"], QtCore.Qt.Orientation.Vertical)
        # The teaching panels are tabs behind the main ones, so the default window stays uncluttered.
        for front, behind in (("setup", "story"), ("landscape", "race"), ("race", "weightspace"),
                              ("gradients", "diagnostics"), ("diagnostics", "curvature")):
            self.tabifyDockWidget(d[front], d[behind])
        for dock in d.values():
            dock.show()
        for front in ("setup", "landscape", "gradients"):
            d[front].raise_()
        self._docks_layers = None
        self._task_docks()
        self._fit_docks()

    def _task_docks(self) -> bool:
        """When the task kind changes: a landscape's parameters are the point on the map, so the
        Weights dock (a quarter of the window for one sentence) steps aside, and comes back for a
        network. A dock the user opened or closed by hand stays so until the kind changes again.
        True when the kind changed (the docks' sizes are then fitted to it again)."""
        layers = self.controller.session.problem.has_layers
        if layers == getattr(self, "_docks_layers", None):
            return False
        self._docks_layers = layers
        weights = self.docks["weights"]
        if not layers and not weights.isHidden() and not weights.isFloating():
            weights.hide()
            self._weights_stepped_aside = True
        elif layers and getattr(self, "_weights_stepped_aside", False):
            weights.show()
            self._weights_stepped_aside = False
        return True

    def _default_size(self) -> None:
        """1600×1000 where the screen has room, else 92 % of it."""
        screen = QtGui.QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen else QtCore.QRect(0, 0, 1600, 1000)
        self.resize(min(1600, int(avail.width() * 0.92)), min(1000, int(avail.height() * 0.92)))

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._restored and not self._fitted:
            # Dock sizes can only be set once the window has its real size.
            self._fitted = True
            QtCore.QTimer.singleShot(0, self._fit_docks)

    def _fit_docks(self) -> None:
        # Proportions that suit 1280×720 to 1920×1080: a readable form, a square-ish landscape.
        w, h = max(self.width(), 900), max(self.height(), 600)
        setup = 300 if w < 1400 else 330
        d = self.docks
        if getattr(self, "layout_mode", "full") == "simple":
            net = int((w - setup) * 0.36)
            self.resizeDocks([d["setup"], d["weights"], d["landscape"]], [setup, net, w - setup - net],
                             QtCore.Qt.Orientation.Horizontal)
            self.resizeDocks([d["landscape"], d["loss"]], [int(h * 0.64), int(h * 0.36)],
                             QtCore.Qt.Orientation.Vertical)
            return
        right = int((w - setup) * (0.5 if w < 1400 else 0.45))
        if self.controller.session.problem.traces_path:  # the landscape is the picture: it gets the room
            right = int((w - setup) * 0.36)
        self.resizeDocks([d["setup"], d["landscape"], d["gradients"]], [setup, w - setup - right, right],
                         QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([d["landscape"], d["loss"]], [int(h * 0.62), int(h * 0.38)],
                         QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([d["gradients"], d["weights"]], [1, 1], QtCore.Qt.Orientation.Vertical)

    def on_screen(self, name: str) -> bool:
        """Whether a panel is really shown (not closed, not behind another dock's tab)."""
        return self.panels[name].isVisible() and self._on_screen.get(name, True)

    def _dock_shown(self, name: str, visible: bool) -> None:
        self._on_screen[name] = visible
        # panels with work of their own (a race, an overlay) pause or resume
        self.panels[name].on_screen_changed(visible)
        if visible and name in self._stale:
            self._stale.discard(name)
            self.panels[name].reset()
        elif visible:
            self.panels[name].refresh()

    # ----------------------------------------------------------------- menus
    def _build_menus(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        self.files = FileActions(self, file)  # Open…, Save, Save as…, Export ▸ and the window title
        self.panels["landscape"].confirm_restart = self.files.confirm_discard
        file.addSeparator()
        quit_ = file.addAction("&Quit", self.close)
        quit_.setShortcut(QtGui.QKeySequence("Ctrl+Q"))
        quit_.setMenuRole(QtGui.QAction.MenuRole.QuitRole)

        edit = mb.addMenu("&Edit")  # the setup as text: to a chat, a lesson plan, another machine
        copy = edit.addAction("&Copy setup", self.copy_setup)
        copy.setShortcut(QtGui.QKeySequence("Ctrl+Shift+C"))
        copy.setToolTip("The current settings as TOML, with a one-line gradplay:// link, on the clipboard")
        paste = self.paste_action = edit.addAction("&Paste setup", self.paste_setup)
        paste.setShortcut(QtGui.QKeySequence("Ctrl+Shift+V"))
        paste.setToolTip("Open the setup on the clipboard (TOML text or a gradplay:// link)")
        edit.setToolTipsVisible(True)

        train = mb.addMenu("&Train")
        for a in self.transport.actions_:
            train.addAction(a)
            self.addAction(a)  # shortcuts work even when the toolbar is hidden

        # Grouped (start here, stories in teaching order, landscapes) with the current one checked:
        # a flat list of 31 titles in file-name order put fixes before their problems.
        presets = self.presets_menu = mb.addMenu("&Presets")
        self.preset_group = QtGui.QActionGroup(self)
        self.preset_group.setExclusionPolicy(QtGui.QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.preset_titles: dict[str, str] = {}
        stories = None
        for heading, names in menu_groups():
            if heading.startswith("Stories: "):
                if stories is None:
                    presets.addSection("Stories")
                    stories = presets.addMenu("Each problem, then its fix")
                    stories.setToolTipsVisible(True)
                menu = stories
                menu.addSection(heading.removeprefix("Stories: "))
            else:
                menu = presets
                menu.addSection(heading)
            for name in names:
                try:
                    title = load_preset(name)["meta"]["title"] or name
                except ConfigError:  # a broken preset file must not keep the window from opening
                    continue
                self.preset_titles[name] = title
                act = menu.addAction(title, lambda n=name: self.load_preset(n))
                act.setToolTip(name)
                act.setData(name)
                act.setCheckable(True)
                self.preset_group.addAction(act)
        presets.setToolTipsVisible(True)

        self.view_menu = mb.addMenu("&View")
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.transport.toggleViewAction())
        self.view_menu.addSeparator()
        self.layout_group = QtGui.QActionGroup(self)
        for mode, label, tip in (("simple", "&Simple layout", "Setup → network → output map and loss, as in "
                                  "TensorFlow Playground; the deep panels stay in this menu"),
                                 ("full", "&Full layout", "Every panel: gradients, diagnostics, curvature, "
                                  "the race and weight space as tabs")):
            act = self.view_menu.addAction(label, lambda m=mode: self.arrange(m))
            act.setCheckable(True)
            act.setData(mode)
            act.setToolTip(tip)
            act.setChecked(mode == self.layout_mode)
            self.layout_group.addAction(act)
        self.view_menu.setToolTipsVisible(True)
        self.view_menu.addAction("Reset layout", lambda: self.arrange(self.layout_mode))
        self.view_menu.addSeparator()
        self.classroom = Classroom(self)  # hides what the config's [classroom] section names
        room = self.view_menu.addAction("&Classroom mode…", self.classroom.open_dialog)
        room.setToolTip("Hide chosen controls from students; saved with the setup")

        help_ = mb.addMenu("&Help")
        keys = help_.addAction("&Keyboard shortcuts", self.show_shortcuts)
        keys.setShortcut(QtGui.QKeySequence("F1"))
        help_.addAction("&About gradplay", self.show_about)

    def createPopupMenu(self) -> QtWidgets.QMenu:  # noqa: N802 (Qt override)
        """Right-click on a title bar: the View menu's list of panels."""
        menu = QtWidgets.QMenu(self)
        for dock in self.docks.values():
            menu.addAction(dock.toggleViewAction())
        return menu

    # ----------------------------------------------------------------- redraw
    def refresh(self) -> None:
        """After a training frame: visible panels pull the new state, then the readouts. While
        playing, expensive redraws (the decision map, the weights) come at a throttled rate; when
        paused every picture shows the current step (a paused map could show an older one)."""
        exact = not self.controller.playing
        shown = [panel for name, panel in self.panels.items() if self.on_screen(name)]
        now = time.perf_counter()
        # While playing, one expensive redraw a frame, the longest overdue first: on their common
        # 0.2 s beat the map, the weights, the histogram and the confusion counts all landed on one
        # frame of ~50 ms every ~6 frames of ~19 (spiral 2-8-8-1 at full speed, default layout).
        shown.sort(key=lambda panel: -panel.overdue(now))
        taken = False
        try:
            for panel in shown:
                if exact:
                    panel.make_due()
                panel.slow_turn = exact or not taken
                taken = panel.timed_refresh() or taken
        finally:
            for panel in shown:
                panel.slow_turn = True
        self._update_readouts()
        self._settle_views()

    def _settle_views(self) -> None:
        """Let every plot settle, then paint the frame in one pass.

        Each scene's ranges settle first (auto-range runs at its paint) and its queued "changed"
        calls run. Qt's graphics view then sends the window's pending repaint at once, for each scene
        in turn (QGraphicsViewPrivate::dispatchPendingUpdateRequests), which made ~4 window repaint
        passes a frame, one per changed plot. Those requests are held here and one is posted instead.
        """
        self._hold_repaints = True
        try:
            for view in self.findChildren(pg.GraphicsView):  # panels make views as they need them
                if view.isVisible():
                    view.scene().prepareForPaint()
            QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.MetaCall)
        finally:
            self._hold_repaints = False
        if self._held_repaint:
            self._held_repaint = False
            QtCore.QCoreApplication.postEvent(self, QtCore.QEvent(QtCore.QEvent.Type.UpdateRequest),
                                              QtCore.Qt.EventPriority.LowEventPriority.value)

    def event(self, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt override)
        if self._hold_repaints and event.type() == QtCore.QEvent.Type.UpdateRequest:
            self._held_repaint = True  # painted by the one request `_settle_views` posts
            return True
        return super().event(event)

    def reset_panels(self) -> None:
        """The session was rebuilt or replaced: panels re-shape; hidden ones do it when shown."""
        self.banner.dismiss("warning")
        # An epoch is one pass over a dataset; a landscape has none to finish.
        self.transport.epoch_action.setEnabled(self.controller.session.problem.has_epochs)
        self.files.update_title()
        self._mark_preset()
        self.classroom.apply()
        for name, panel in self.panels.items():
            if self.on_screen(name) or not self.isVisible():
                panel.reset()
            else:
                self._stale.add(name)
        self._update_readouts()
        if self._task_docks() and self.isVisible():
            self._fit_docks()
        self._warn_if_heavy()

    def _warn_if_heavy(self) -> None:
        """A config beyond this machine (seconds per step, or most of its memory) is said once, with
        the estimate, when it is opened or set, before Play is pressed."""
        s = self.controller.session
        heavy = cost.warning(s.config) if s.halted is None else None
        if heavy:
            self.banner.show_message(heavy, "warning")

    def _mark_preset(self) -> None:
        """Check the preset the run comes from (by its title, which edits keep), or none."""
        title = (self.controller.session.run_config.get("meta") or {}).get("title")
        for act in self.preset_group.actions():
            act.setChecked(bool(title) and self.preset_titles.get(act.data()) == title)

    def _stopped(self, message: str) -> None:
        self.banner.show_message(message, "info")

    def _autosave_failed(self, message: str) -> None:
        self.banner.show_message(message, "warning")

    def _config_changed(self) -> None:
        if self.controller.session.halted is None:
            self.banner.dismiss("warning")
        self.classroom.apply()
        self.refresh()
        self._warn_if_heavy()

    def _update_readouts(self) -> None:
        self.transport.update_counter()
        s = self.controller.session
        st = self.controller.status()
        parts = [f"stopped at step {s.step:,} (non-finite values)"] if s.halted else []
        if s.problem.traces_path:
            parts.append(f"f(x, y) = {fmt(st['loss'])} at ({fmt(s.theta[0])}, "
                         f"{fmt(s.theta[1])})")
        else:
            if not math.isnan(st["loss"]):
                parts.append(f"batch loss {fmt(st['loss'])}")
            for key, label in (("train_loss", "train loss"), ("test_loss", "test loss")):
                if not math.isnan(st.get(key, math.nan)):
                    parts.append(f"{label} {fmt(st[key])}")
            for key, label in (("train_acc", "train acc"), ("test_acc", "test acc")):
                if not math.isnan(st.get(key, math.nan)):
                    parts.append(f"{label} {100 * st[key]:.1f}%")
        lr = s.history.last("lr")
        if lr is not None:
            parts.append(f"lr {fmt(lr)}")
        if self.controller.playing and self.controller.steps_per_second:
            parts.append(f"{fmt(self.controller.steps_per_second)} steps/s")
        self.status.setText("   ·   ".join(parts))

    def _working(self, seconds: float) -> None:
        # A slice of one huge step (a 256-wide net on 100 000 samples) takes seconds: say so, so
        # the still picture is not taken for a hang.
        self.status.setText(f"Training step {self.controller.session.step + 1:,}… {seconds:.1f} s so far "
                            f"(one step at these sizes takes seconds). Pause or change a setting at any "
                            f"time.")

    def _play_state(self, playing: bool) -> None:
        set_moving(self, playing)  # curves grow in coarse axis steps, then fit when paused
        if playing:
            self.banner.dismiss()  # the hint did its job; a halt message is stale once playing
            self.settings.setValue("hint/seen", True)
            self._update_readouts()
        else:
            self.refresh()  # paused: the last frame may have skipped a throttled redraw

    def show_halt(self, message: str) -> None:
        """Training stopped on NaN/inf: the run is paused and kept; say why, without a modal box."""
        advice = halt_advice(self.controller.session)
        if advice is not None:  # what happened and what to try; the fixes are buttons in Diagnostics
            message = advice.message
            if not self.classroom.hides_dock("diagnostics"):  # a classroom may hide the fixes
                message += "  One-click fixes: the Diagnostics panel."
                self.docks["diagnostics"].show()
                self.docks["diagnostics"].raise_()
        # One warning, one place: the banner (its fixes in Diagnostics); the status bar keeps figures.
        # The message was also in the status bar (cut off there) and under the loss plot.
        self.banner.show_message(message, "warning")
        self._update_readouts()

    def _story_link(self, kind: str, name: str) -> None:
        """A link in the Story panel: open a preset, or show the panel the story talks about."""
        if kind == "preset":
            if not self.classroom.hides("presets"):
                self.load_preset(name)
        elif name in self.docks and not self.classroom.hides_dock(name):
            self.docks[name].show()
            self.docks[name].raise_()

    def _banner_closed(self) -> None:
        self.settings.setValue("hint/seen", True)

    # ----------------------------------------------------------------- files and presets
    def load_preset(self, name: str) -> None:
        if not self.files.confirm_discard(f"opening the preset '{name}'"):
            return
        try:
            self.controller.load_preset(name)
        except ConfigError as e:
            self.banner.show_message(f"Cannot open preset '{name}': {e}", "warning")

    def copy_setup(self) -> None:
        """The current settings (share.text: TOML and its gradplay:// line) to the clipboard."""
        QtWidgets.QApplication.clipboard().setText(share.text(self.controller.session.config))
        self.status.setText("Setup copied: paste it into a text, or open it with Edit → Paste setup or "
                            "`gradplay gradplay://…`")

    def paste_setup(self) -> bool:
        """Open the setup on the clipboard (after the unsaved-work question); a clear message if it
        is not one."""
        pasted = QtWidgets.QApplication.clipboard().text()
        try:
            cfg = share.parse(pasted)
        except ConfigError as e:
            self.banner.show_message(f"Cannot paste a setup: {e}", "warning")
            return False
        if not self.files.confirm_discard("pasting a setup"):
            return False
        self.controller.open_session(Session(cfg))
        return True

    def open_path(self, path: str | Path) -> bool:
        """Open a config or saved session; False (with the reason shown) if it cannot be read, or if
        the user keeps the unsaved run."""
        if not self.files.confirm_discard(f"opening {Path(path).name}"):
            return False
        try:
            self.controller.load_config(path)
        except (ConfigError, SessionFileError) as e:
            self.banner.show_message(f"Cannot open {path}: {e}", "warning")
            self.statusBar().showMessage(f"Cannot open {path}", 8000)
            return False
        self.settings.setValue("files/last_dir", str(Path(path).parent))
        return True

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.NoIcon, "Keyboard shortcuts",
                                    f"<table>{rows}</table>", parent=self)
        box.setModal(False)
        box.show()

    def show_about(self) -> None:
        QtWidgets.QMessageBox.about(
            self, "About gradplay",
            f"<b>gradplay {__version__}</b><p>A playground that makes gradients visible: pick a loss "
            "landscape or a small dataset and network, an optimizer, and watch the loss, the weights "
            "and each layer's gradients while it trains.</p><p>Optimizers follow torch.optim "
            "semantics and defaults.</p>")

    # ----------------------------------------------------------------- layout memory
    def restore_layout(self) -> None:
        s = self.settings
        if s.value("window/layout_version", 0, type=int) != LAYOUT_VERSION:
            return
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if state is not None:
            self._restored = self.restoreState(state, LAYOUT_VERSION)
        self.banner.hide()  # banners are shown for a reason, never restored
        c = self.controller
        for kind in c.speeds:
            c.speeds[kind] = s.value(f"transport/speed_{kind}", c.speeds[kind], type=float)
        self.transport.set_speed(c.speeds[c.session.kind])

    def save_layout(self) -> None:
        s = self.settings
        s.setValue("window/layout_version", LAYOUT_VERSION)
        s.setValue("window/geometry", self.saveGeometry())
        if not self.classroom.hides_any_dock():  # the panels it hides stay the user's next time
            s.setValue("window/state", self.saveState(LAYOUT_VERSION))
        for kind, speed in self.controller.speeds.items():
            s.setValue(f"transport/speed_{kind}", speed)
        s.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.files.confirm_discard("quitting"):
            event.ignore()
            return
        self.controller.pause()
        self.save_layout()
        if self.autosaver is not None:  # a clean exit: last save, marked clean (no restore offer)
            self.autosaver.release(self._orphans)
            self._orphans = []
            self.autosaver.finish()
        super().closeEvent(event)

    # Ask Save / Discard / Cancel before an unsaved run is dropped (build_window sets it for the
    # app; windows that scripts and tests drive close without asking).
    confirm_unsaved = False

    # ----------------------------------------------------------------- autosave (gui/autosave.py)
    autosaver = None
    _orphans: list = []

    def attach_autosave(self, autosaver, choice: str | None = None) -> None:
        """Autosave this window's session; offer back one left by a crash.

        `choice` (else $GRADPLAY_RESTORE): "ask" (a Restore / Discard bar, the default), "restore"
        or "discard" (tests and scripts).
        """
        from .autosave import RestoreBar, describe

        self.autosaver = autosaver
        autosaver.failed.connect(self._autosave_failed)
        if autosaver.problem:
            self.banner.show_message(f"Autosave is off: {autosaver.problem}. Save your session yourself "
                                     f"(or set GRADPLAY_AUTOSAVE_DIR to a writable folder).", "warning")
        self._orphans = autosaver.orphans()
        if not self._orphans:
            return
        choice = (choice or os.environ.get("GRADPLAY_RESTORE") or "ask").lower()
        if choice == "restore":
            self.restore_autosave()
        elif choice == "discard":
            self.discard_autosave()
        else:
            if getattr(self, "restore_bar", None) is None:  # made after restoreState: never restored hidden
                self.addToolBarBreak()
                self.restore_bar = RestoreBar(self)
                self.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, self.restore_bar)
                self.restore_bar.restore_clicked.connect(self.restore_autosave)
                self.restore_bar.discard_clicked.connect(self.discard_autosave)
            self.restore_bar.offer(describe(self._orphans[0], len(self._orphans)))

    def restore_autosave(self) -> bool:
        """Continue the newest orphaned autosave; False (with the reason shown) if it cannot be read."""
        orphans, self._orphans = self._orphans, []
        self._hide_restore_bar()
        if not orphans:
            return False
        try:
            self.autosaver.restore(orphans[0], orphans[1:])
        except SessionFileError as e:
            self.banner.show_message(f"The autosaved session could not be restored: {e}", "warning")
            return False
        files = getattr(self, "files", None)
        if files is not None:  # the restored run belongs to no file yet: Save asks where
            files.path = None
            files.update_title()
        self.statusBar().showMessage(f"Restored the autosaved session at step {self.controller.session.step:,}",
                                     8000)
        return True

    def discard_autosave(self) -> None:
        orphans, self._orphans = self._orphans, []
        self._hide_restore_bar()
        if self.autosaver is not None:
            self.autosaver.discard(orphans)

    def _hide_restore_bar(self) -> None:
        if getattr(self, "restore_bar", None) is not None:
            self.restore_bar.hide()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        # The system switched between light and dark: plots follow (theme.restyle).
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            restyle(self)
        super().changeEvent(event)
