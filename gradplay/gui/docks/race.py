"""Optimizer race: two to six optimizers from the same start, weights and batches, side by side.

The racers are `core.race.Race` sessions built from the current run's config with only [optimizer]
replaced, so their curves are comparable step for step. The panel:
- a chip per racer, 2-6 of them: its colour and marker, optimizer, a summary of its settings and
  an "edit…" popup holding the shared HyperForm (every hyperparameter of that optimizer);
- Start / Pause / Reset, a tolerance that defines "finished", steps per frame and a step limit; the
  race advances on its own ~60 Hz timer, paced and time-budgeted like the play loop (core/pacing.py)
  so the window never freezes, and only while the panel is shown (a hidden dock does no work);
- on landscapes, f as a heatmap with one coloured path per racer; for every task, the loss curves
  (f − f* on landscapes with a minimum), the tolerance as a dashed line;
- the results table, which is also the legend: colour, label, the step where the racer first came
  within the tolerance, and its loss now; the winner is `Race.winner()`.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...core import config as config_mod
from ...core import optimizers
from ...core.pacing import FRAME_MS, MIN_BUDGET, Pacer, Slicer
from ...core.problem import LandscapeProblem
from ...core.race import MAX_RACERS, MIN_RACERS, Race, default_entries
from ..decimate import decimate, positive
from ..hover import HoverReadout
from ..number_format import fmt
from ..plotting import apply_plot_style, axes, plot_widget
from ..widgets.flow import FlowLayout
from ..widgets.hyper_form import HyperForm
from ..widgets.numbers import SciSpinBox, compact_combo, guard_wheel, int_spin
from .base import Panel, SessionHolder
from .landscape import GRID, N_CONTOURS, ViewFill, draw_surface

# Racers are not layers or signs: their own hues, readable on white and on the dark end of viridis
# (paths get a dark shadow), plus a marker shape each so colour is not the only cue.
RACER_COLORS = ("#ff3b5c", "#00b4d8", "#8bc34a", "#e056fd", "#ffb300", "#b0b0b0")
RACER_SYMBOLS = ("o", "s", "t", "d", "star", "h")
SYMBOL_TEXT = ("●", "■", "▼", "◆", "★", "⬢")
KEY_HYPER = ("lr", "momentum", "nesterov", "betas", "alpha", "rho", "damping", "max_iter", "line_search_fn")
DEFAULT_TOL = {"function": 1e-3, "dataset": 0.05}
DEFAULT_LIMIT = {"function": 3000, "dataset": 2000}
DEFAULT_SPEED = {"function": 10, "dataset": 5}
COMPACT_PX = 460  # a shorter panel drops the loss plot's title and x label and packs the table's rows
CONTROLS_SHARE = 0.3  # of the panel's height, at most, for the settings and racer cards (they scroll)
# The race trains on the GUI thread: a frame's slice gets the play loop's budget at 60 Hz, half a
# frame (8 ms), and no more however slowly the window draws (the play loop's slices grow with slow
# frames, on their own thread). With 12 ms, ticks of 4 racers on spiral_tanh took 14-15 ms (median).
GUI_BUDGET = MIN_BUDGET
MAX_POINTS = 2000


def _problem(cfg: dict) -> dict:
    """What every racer shares: the config without [optimizer], [schedule] and [meta]."""
    return {k: v for k, v in cfg.items() if k not in ("meta", "optimizer", "schedule")}


class RacerCard(QtWidgets.QFrame):
    """One racer as a compact chip: symbol and colour, optimizer, a summary of its settings, and a
    popup with the shared HyperForm (every hyperparameter of that optimizer) to edit them."""

    changed = QtCore.Signal()
    removed = QtCore.Signal(object)

    def __init__(self, resolve: Callable[[dict], dict], section: dict, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.resolve = resolve
        self.setObjectName("racerCard")
        self.swatch = QtWidgets.QLabel()
        self.name = compact_combo(list(optimizers.OPTIMIZERS))
        self.name.setMinimumContentsLength(7)
        self.name.setToolTip("This racer's update rule (torch.optim semantics)")
        self.summary = QtWidgets.QLabel()
        self.edit = QtWidgets.QToolButton(text="edit…")
        self.edit.setToolTip("Set this racer's hyperparameters (learning rate, momentum, betas, …)")
        self.remove = QtWidgets.QToolButton(text="✕")
        self.remove.setToolTip("Remove this racer")
        self.remove.setAutoRaise(True)
        # the hyperparameters live in a popup so that six racers fit in a row or two
        self.popup = QtWidgets.QFrame(self, QtCore.Qt.WindowType.Popup)
        self.popup.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.hyper = HyperForm()
        pl = QtWidgets.QVBoxLayout(self.popup)
        pl.setContentsMargins(8, 8, 8, 8)
        pl.addWidget(self.hyper)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(5, 2, 3, 2)
        row.setSpacing(4)
        for w in (self.swatch, self.name, self.summary, self.edit, self.remove):
            row.addWidget(w)
        self.load(section)
        self.name.currentIndexChanged.connect(self._renamed)
        self.hyper.changed.connect(self._edited)
        self.edit.clicked.connect(self.open_editor)
        self.remove.clicked.connect(lambda: self.removed.emit(self))

    def set_index(self, i: int) -> None:
        self.index = i
        self.color = RACER_COLORS[i % len(RACER_COLORS)]
        self.swatch.setText(f"<span style='color:{self.color};font-size:13pt'>"
                            f"{SYMBOL_TEXT[i % len(SYMBOL_TEXT)]}</span>")
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt override)
        # the racer's colour as a rounded border, painted (a style sheet would freeze the text colours
        # of the children at the palette of the moment, wrong after a light/dark switch)
        super().paintEvent(event)
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setPen(QtGui.QPen(QtGui.QColor(getattr(self, "color", "#888888")), 2))
        p.drawRoundedRect(QtCore.QRectF(self.rect()).adjusted(1, 1, -1, -1), 5, 5)

    def load(self, section: dict) -> None:
        """Show an [optimizer] section (partial ones are resolved against the run's config)."""
        sec = self.resolve(section)
        was = self.name.blockSignals(True)
        self.name.setCurrentText(sec["name"])
        self.name.blockSignals(was)
        self.hyper.set_optimizer(sec["name"], sec)
        self._summarise()

    def open_editor(self) -> None:
        self.popup.adjustSize()
        self.popup.move(self.mapToGlobal(QtCore.QPoint(0, self.height())))
        self.popup.show()

    def _renamed(self) -> None:
        # a new optimizer starts from its torch defaults (as in the Setup panel)
        self.load({"name": self.name.currentText()})
        self.changed.emit()

    def _edited(self) -> None:
        self._summarise()
        self.changed.emit()

    def _summarise(self) -> None:
        """The key settings in a few words, e.g. "lr 0.001 · momentum 0.9"."""
        v = self.hyper.values()
        defaults = optimizers.OPTIMIZERS[v["name"]].defaults
        parts = [f"lr {fmt(v['lr'])}"]
        for k in KEY_HYPER[1:]:
            default = defaults.get(k)
            default = list(default) if isinstance(default, tuple) else default
            if k not in v or k not in defaults or v[k] == default:
                continue
            val = v[k]
            if val is True:
                parts.append(k)
            elif isinstance(val, list):
                parts.append(f"{k} " + ", ".join(fmt(x) for x in val))
            else:
                parts.append(f"{k} {val if isinstance(val, str) else fmt(val)}")
        self.summary.setText(" · ".join(parts))

    def entry(self) -> dict:
        return {"optimizer": self.hyper.values()}


class RacePanel(Panel):
    """Settings and racer chips on top; the map with the paths left, loss curves and results right."""

    title = "Race"
    name = "race"
    exportable = False  # interactive: a fresh copy for File → Export would show nothing of it
    _compacted: bool | None = None  # whether `_compact` last dropped the loss plot's title (None: not yet)

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.race: Race | None = None
        self._building = False
        self.running = False
        self._resume = False
        self._task: tuple | None = None
        self.pacer = Pacer(max_budget=GUI_BUDGET)
        self.slicer = Slicer()
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)

        # ---- controls: one row of settings, then the racers as chips that wrap
        self.cards: list[RacerCard] = []
        self.add_button = QtWidgets.QPushButton("+ optimizer")
        self.add_button.setToolTip(f"Add a racer (up to {MAX_RACERS})")
        self.add_button.clicked.connect(lambda: self.add_racer({"name": "adam"}))
        self.tol = guard_wheel(SciSpinBox(1e-12, 1e6, 1e-3))
        self.tol.setToolTip("A racer finishes when its loss first comes within this of the target: f* (the "
                            "global minimum) on landscapes, 0 on datasets (full training-set loss)")
        self.speed = guard_wheel(int_spin(1, 2000, 10))
        self.speed.setToolTip("Race steps per 60 Hz frame (at most ~8 ms of computing per frame, so "
                              "slow steps make the race slower, never the window)")
        self.limit = guard_wheel(int_spin(10, 10_000_000, 3000))
        self.limit.setToolTip("The race stops at this step (or when every racer finished or stopped)")
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setToolTip("Start or pause the race (the main run is not affected)")
        self.start_button.clicked.connect(self.toggle)
        self.reset_button = QtWidgets.QPushButton("Reset")
        self.reset_button.setToolTip("Back to step 0 with the racers as set and the run's current settings")
        self.reset_button.clicked.connect(self.rebuild)
        self.tol.valueChanged.connect(self._retime)
        self.error = QtWidgets.QLabel(wordWrap=True)
        self.error.setStyleSheet(f"color: {RACER_COLORS[0]};")
        self.error.hide()
        settings = QtWidgets.QWidget()
        flow = FlowLayout(settings)
        for w in (self.start_button, self.reset_button):
            flow.addWidget(w)
        for label, w in (("finish within", self.tol), ("steps/frame", self.speed), ("stop at step", self.limit)):
            pair = QtWidgets.QWidget()
            pl = QtWidgets.QHBoxLayout(pair)
            pl.setContentsMargins(0, 0, 0, 0)
            pl.setSpacing(3)
            pl.addWidget(QtWidgets.QLabel(label))
            pl.addWidget(w)
            flow.addWidget(pair)
        self.racers_box = QtWidgets.QWidget()
        self.racers_flow = FlowLayout(self.racers_box, spacing=4)
        self.racers_flow.addWidget(self.add_button)

        # ---- views
        self.info = self.summary_label()
        self.land_view = pg.GraphicsLayoutWidget()
        self.land_plot = self.land_view.addPlot(axisItems=axes())
        self.land_plot.setAspectLocked(True)
        self.land_plot.setMenuEnabled(False)
        self.img = pg.ImageItem(axisOrder="row-major")
        self.land_plot.addItem(self.img)
        self.contours = [pg.IsocurveItem(level=0, pen=pg.mkPen(255, 255, 255, 80), axisOrder="row-major")
                         for _ in range(N_CONTOURS)]
        for iso in self.contours:
            iso.setParentItem(self.img)
        self.minima = pg.ScatterPlotItem(symbol="star", size=16, brush="#ffd60a", pen=pg.mkPen("k", width=1))
        self.start = pg.ScatterPlotItem(size=10, brush=None, pen=pg.mkPen("w", width=2))
        for z, item in enumerate((self.minima, self.start)):
            item.setZValue(30 + z)
            self.land_plot.addItem(item, ignoreBounds=True)
        self.fill = ViewFill(self.land_plot, self)
        self.fill.redraw.connect(self._fill)
        self.loss_view = plot_widget()
        self.loss_plot = self.loss_view.getPlotItem()
        # its label under the line, where only finished racers go (above it, it sat on their curves)
        self.tol_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(self.th.muted, width=1.5,
                                                             style=QtCore.Qt.PenStyle.DashLine),
                                        label="tolerance", labelOpts={"position": 0.97, "color": self.th.fg,
                                                                      "anchors": [(1, 0), (1, 0)]})
        self.loss_plot.addItem(self.tol_line, ignoreBounds=True)
        self.hover = HoverReadout(self.loss_plot)
        self.paths: list[tuple[pg.PlotCurveItem, pg.PlotCurveItem, pg.ScatterPlotItem]] = []
        self.curves: list[pg.PlotDataItem] = []
        self.winner = QtWidgets.QLabel()
        self.winner.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["racer (legend)", "finished at", "loss now"])
        self.table.horizontalHeaderItem(1).setToolTip("The step at which the racer's loss first came within "
                                                      "the tolerance")
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the map takes the full height on the left (paths need room); curves and results on the right
        right = QtWidgets.QVBoxLayout()
        right.setSpacing(3)
        right.addWidget(self.loss_view, 1)
        right.addWidget(self.winner)
        right.addWidget(self.table)
        plots = QtWidgets.QHBoxLayout()
        plots.setSpacing(4)
        plots.addWidget(self.land_view, 1)
        plots.addLayout(right, 1)
        controls = QtWidgets.QWidget()
        top = QtWidgets.QVBoxLayout(controls)
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(3)
        top.addWidget(settings)
        top.addWidget(self.racers_box)
        # At 1280×720 the settings and four racer cards took ~200 of the panel's ~380 px and left the
        # map and the loss plot ~90 px tall; the controls now scroll within CONTROLS_SHARE of the height.
        self.controls = QtWidgets.QScrollArea()
        self.controls.setWidget(controls)
        self.controls.setWidgetResizable(True)
        self.controls.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.controls.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        lay.addWidget(self.controls)
        lay.addWidget(self.error)
        lay.addWidget(self.info)
        lay.addLayout(plots, 1)
        self.setMinimumSize(420, 220)
        self.reset()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_controls()
        if hasattr(self, "table"):
            self._compact()

    def _fit_controls(self) -> None:
        """The controls take the height they need, at most CONTROLS_SHARE of the panel's."""
        inner = self.controls.widget()
        need = inner.layout().heightForWidth(max(1, self.controls.viewport().width())) if inner else 0
        self.controls.setFixedHeight(max(40, min(need, int(CONTROLS_SHARE * self.height()))))

    def retheme(self) -> None:
        if hasattr(self, "table"):  # (not while __init__ is still building the panel)
            self._setup_view()
            self.draw()

    # ----------------------------------------------------------------- racers
    def _resolve(self, section: dict) -> dict:
        """A whole [optimizer] section from a partial one: missing keys take the optimizer's defaults
        (not the run's: a plain-SGD racer must not inherit the run's momentum)."""
        raw = {k: v for k, v in self.session.config.items()}
        for sec in (section, {"name": section["name"]}):
            try:
                return config_mod.resolve({**raw, "optimizer": dict(sec)})["optimizer"]
            except config_mod.ConfigError:
                continue
        raise config_mod.ConfigError(f"unknown optimizer {section['name']!r}")

    def add_racer(self, section: dict) -> RacerCard | None:
        if len(self.cards) >= MAX_RACERS:
            return None
        card = RacerCard(self._resolve, section)
        card.changed.connect(self._entries_changed)
        card.removed.connect(self._remove)
        self.cards.append(card)
        self.racers_flow.removeWidget(self.add_button)  # the "+" stays last
        self.racers_flow.addWidget(card)
        self.racers_flow.addWidget(self.add_button)
        self._renumber()
        self._entries_changed()
        return card

    def _remove(self, card: RacerCard) -> None:
        if len(self.cards) <= MIN_RACERS:
            return
        self.cards.remove(card)
        self.racers_flow.removeWidget(card)
        card.deleteLater()
        self._renumber()
        self._entries_changed()

    def _renumber(self) -> None:
        for i, c in enumerate(self.cards):
            c.set_index(i)
            c.remove.setEnabled(len(self.cards) > MIN_RACERS)
        self.add_button.setEnabled(len(self.cards) < MAX_RACERS)
        self._fit_controls()

    def set_entries(self, sections: list[dict]) -> None:
        """Replace the racers by these [optimizer] sections (partial ones get defaults)."""
        self._building = True
        for c in self.cards:
            self.racers_flow.removeWidget(c)
            c.deleteLater()
        self.cards = []
        for sec in sections[:MAX_RACERS]:
            self.add_racer(sec)
        self._building = False
        self.rebuild()

    def entries(self) -> list[dict]:
        return [c.entry() for c in self.cards]

    def _entries_changed(self) -> None:
        if not self._building:
            self.rebuild()  # a race only means something when every racer ran the same steps

    # ----------------------------------------------------------------- the race
    def reset(self) -> None:
        """The main session was rebuilt or replaced: a new task brings new default racers."""
        s = self.session
        task = (s.kind, s.config["task"]["name"])
        if task != self._task:
            self._task = task
            was = self.tol.blockSignals(True)
            self.tol.setValue(DEFAULT_TOL[s.kind])
            self.tol.blockSignals(was)
            self.limit.setValue(DEFAULT_LIMIT[s.kind])
            self.speed.setValue(DEFAULT_SPEED[s.kind])
            self._setup_view()
            self.set_entries(default_entries(s.config))
        else:
            self._setup_view()
            self.rebuild()

    def rebuild(self) -> None:
        """A fresh race (step 0) from the run's current config and the cards."""
        self.pause()
        try:
            race = Race(self.session.config, self.entries(), self.tol.value())
        except (ValueError, config_mod.ConfigError) as e:
            self.error.setText(f"Cannot race these settings: {e}")
            self.error.show()
            return
        self.error.hide()
        self.race = race
        self.slicer = Slicer()  # other racers, other seconds per step
        self._make_items(len(race.racers))
        self.draw()

    def _setup_view(self) -> None:
        s = self.session
        p = s.problem
        self.land_view.setVisible(p.traces_path)
        if isinstance(p, LandscapeProblem):
            land = p.landscape
            self.minima.setData(pos=np.array(land.minima, dtype=float).reshape(-1, 2))
            self.start.setData(pos=[s.config["task"]["start"]])
            apply_plot_style(self.land_plot, land.title, "x", "y", self.th,
                                   grid=False)
            self.fill.set_base((*land.xrange, *land.yrange))  # the map fills the plot (paths ignore bounds)
            self._fill()
        log = self._log_y()
        self.loss_plot.setLogMode(y=log)
        if isinstance(p, LandscapeProblem):
            ylabel = "f − f*" if log and p.landscape.fmin != 0 else "f(x, y)"
        else:
            ylabel = "loss (full training set)"
        apply_plot_style(self.loss_plot, "Loss per racer", "step", ylabel, self.th)
        self._compact(force=True)

    def _compact(self, force: bool = False) -> None:
        """Below COMPACT_PX the loss plot was ~50 px tall (Full, 1280×720): its title ("Loss per
        racer", which the results table says too) and its "step" label give it ~40 px back."""
        compact = self.height() < COMPACT_PX
        if compact == self._compacted and not force:
            return
        self._compacted = compact
        self.loss_plot.setTitle(None if compact else "Loss per racer", color=self.th.fg, size="10pt")
        self.loss_plot.getAxis("bottom").showLabel(not compact)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + (2 if compact else 6))
        if self.table.rowCount():
            self._fill_table()  # its fixed height follows the rows

    def _fill(self) -> None:
        p = self.session.problem
        if isinstance(p, LandscapeProblem):
            land = p.landscape
            box = self.fill.take()
            draw_surface(self.img, self.contours, land, land.grid(*self.fill.shape(GRID, box), box))

    def _log_y(self) -> bool:
        s = self.session
        return not isinstance(s.problem, LandscapeProblem) or bool(s.problem.landscape.minima)

    def _make_items(self, n: int) -> None:
        for shadow, path, end in self.paths:
            for item in (shadow, path, end):
                self.land_plot.removeItem(item)
        for c in self.curves:
            self.loss_plot.removeItem(c)
        self.paths, self.curves = [], []
        for i in range(n):
            color = RACER_COLORS[i % len(RACER_COLORS)]
            shadow = pg.PlotCurveItem(pen=pg.mkPen(0, 0, 0, 150, width=5))
            path = pg.PlotCurveItem(pen=pg.mkPen(color, width=2.5))
            end = pg.ScatterPlotItem(symbol=RACER_SYMBOLS[i], size=12, brush=pg.mkBrush(color),
                                     pen=pg.mkPen("k", width=1.2))
            for z, item in enumerate((shadow, path, end)):
                item.setZValue(10 + 3 * i + z)
                self.land_plot.addItem(item, ignoreBounds=True)  # the view frames the map, not a divergence
            self.paths.append((shadow, path, end))
            curve = self.loss_plot.plot(pen=pg.mkPen(color, width=2))
            curve.setZValue(10 + i)
            self.curves.append(curve)
        self.loss_plot.enableAutoRange()

    # ----------------------------------------------------------------- running
    def toggle(self) -> None:
        self.pause() if self.running else self.start_race()

    def start_race(self) -> None:
        if self.race is None or self.finished():
            self.rebuild()
        if self.race is None:
            return
        self.running = True
        self.start_button.setText("Pause")
        self.pacer.start()
        self.timer.start()

    def pause(self) -> None:
        self.running = False
        self._resume = False
        self.timer.stop()
        self.start_button.setText("Start" if self.race is None or self.race.step == 0 else
                                  "Restart" if self.finished() else "Continue")

    def finished(self) -> bool:
        r = self.race
        return r is not None and (r.step >= self.limit.value() or
                                  all(x.halted or x.finished_step is not None for x in r.racers))

    def advance(self, n: int) -> int:
        """Run the race n steps now (up to the step limit) and redraw; returns the steps done."""
        if self.race is None:
            return 0
        n = max(0, min(n, self.limit.value() - self.race.step))
        if n:
            self.race.run(n)
        self.draw()
        return n

    def _tick(self) -> None:
        """One frame: the race steps it owes at `speed` steps per frame, within the slice's time
        budget (core/pacing.py), then a redraw."""
        race = self.race
        pacer = self.pacer
        pacer.tick(time.perf_counter())
        owed = min(pacer.due(self.speed.value()), self.limit.value() - race.step)
        if owed > 0:
            self.slicer.run(race.run, owed, pacer.budget, stop=self.finished)
        self.draw()
        if self.finished():
            self.pause()

    def _retime(self) -> None:
        """A new tolerance: finishing steps are re-read from the recorded losses (no re-run)."""
        if self.race is not None:
            self.race.set_tol(self.tol.value())
            self.draw()

    def on_screen_changed(self, visible: bool) -> None:
        """A hidden dock does no work: the race waits while its tab is not shown, then goes on."""
        if not visible and self.running and self.timer.isActive():
            self.timer.stop()
            self._resume = True
        elif visible and self._resume and self.running:
            self._resume = False
            self.pacer.start()  # the hidden time is not owed
            self.timer.start()

    def _docked(self) -> bool:
        return isinstance(self.parentWidget(), QtWidgets.QDockWidget)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self._docked():  # docked, the window calls on_screen_changed (tabs stay "visible")
            self.on_screen_changed(False)
        super().hideEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._docked():
            self.on_screen_changed(True)

    # ----------------------------------------------------------------- drawing
    def refresh(self) -> None:
        """The main run moved or its settings changed: a race not started follows its settings."""
        race = self.race
        if race is None or _problem(race.base) == _problem(self.session.config):
            return
        if race.step == 0 and not self.running:
            self.rebuild()
        else:
            self.info.setText(self._info() + "<br><i>The run's settings changed since this race started: "
                                              "Reset to race with them.</i>")

    def curve_data(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Racer i's loss curve as handed to the plot: (steps, loss − target on log landscapes)."""
        race = self.race
        steps, loss = race.racers[i].loss_curve()
        if isinstance(self.session.problem, LandscapeProblem) and self._log_y():
            loss = loss - race.target
        if self._log_y():
            steps, loss = positive(steps, loss)
        return decimate(steps, loss, MAX_POINTS)

    def draw(self) -> None:
        race = self.race
        if race is None:
            return
        self.hover.clear()
        function = self.session.problem.traces_path
        for i, r in enumerate(race.racers):
            color = RACER_COLORS[i % len(RACER_COLORS)]
            if function:
                shadow, path, end = self.paths[i]
                pts = r.trajectory()
                pts = pts[np.isfinite(pts).all(axis=1)]
                shadow.setData(pts[:, 0], pts[:, 1])
                path.setData(pts[:, 0], pts[:, 1])
                end.setData(pos=pts[-1:])
            x, y = self.curve_data(i)
            self.curves[i].setData(x, y)
            self.hover.set(f"{SYMBOL_TEXT[i]} {r.label}", x, y, color)
        tol = race.tol  # the loss plot shows loss − target, so the finish line sits at tol
        self.tol_line.setPos(math.log10(tol) if self._log_y() and tol > 0 else tol)
        self.tol_line.label.setFormat(f"tolerance {fmt(race.tol)}")
        self._fill_table()
        self.info.setText(self._info())

    def _info(self) -> str:
        race = self.race
        p = self.session.problem
        target = "f* (the global minimum)" if isinstance(p, LandscapeProblem) and p.landscape.minima else "0"
        state = "running" if self.running else "finished" if self.finished() else "paused" if race.step else "ready"
        same = "same start, weights and batches" if p.has_layers else "same start"
        return (f"<b>race step {race.step}</b> · {state} · a racer finishes when its loss is within "
                f"{fmt(race.tol)} of {target} · {same}")

    def _fill_table(self) -> None:
        race = self.race
        order = race.results()
        t = self.table
        t.setRowCount(len(order))
        bold = QtGui.QFont()
        bold.setBold(True)
        for row, r in enumerate(order):
            i = r.index
            color = RACER_COLORS[i % len(RACER_COLORS)]
            place = f"{row + 1}." if r.finished_step is not None else "–"
            name = QtWidgets.QTableWidgetItem(f"{place} {SYMBOL_TEXT[i]} {r.label}")
            name.setForeground(QtGui.QColor(color))
            name.setData(QtCore.Qt.ItemDataRole.UserRole, r.label)
            name.setToolTip(r.label)
            if r.finished_step is not None:
                when = f"step {r.finished_step}"
            elif r.halted:
                when = f"NaN at {r.session.step}"
            else:
                when = "not yet"
            last = r.measured.last("loss")
            items = (name, QtWidgets.QTableWidgetItem(when),
                     QtWidgets.QTableWidgetItem(fmt(last) if last is not None else "–"))
            for col, item in enumerate(items):
                if row == 0 and r.finished_step is not None:
                    item.setFont(bold)
                t.setItem(row, col, item)
        t.resizeColumnToContents(1)
        t.resizeColumnToContents(2)
        t.setFixedHeight(t.horizontalHeader().height() + sum(t.rowHeight(k) for k in range(len(order))) + 4)
        w = race.winner()
        if w is None:
            self.winner.setText(f"Nobody within {fmt(race.tol)} yet.")
        else:
            color = RACER_COLORS[w.index % len(RACER_COLORS)]
            self.winner.setText(f"<b>Winner</b> (first within {fmt(race.tol)}): <b style='color:{color}'>"
                                f"{SYMBOL_TEXT[w.index]} {w.label}</b>, step {w.finished_step}")

    def shown_winner(self) -> str | None:
        """The label of the racer the panel shows as the winner (tests)."""
        w = self.race.winner() if self.race else None
        if w is None or self.table.rowCount() == 0:
            return None
        return self.table.item(0, 0).data(QtCore.Qt.ItemDataRole.UserRole)

    def prepare_shot(self, steps: int = 0) -> None:
        """For `gradplay shot --dock race`: run the race to its end (or `steps`) now."""
        if self.race is None:
            self.rebuild()
        goal = min(steps or self.limit.value(), self.limit.value())
        while not self.finished() and self.race.step < goal:
            self.advance(min(100, goal - self.race.step))
        self.pause()
