"""The landscape of a network: its loss on a 2-D plane through weight space, around the current weights.

    L(α, β) = loss(θc + α d₁ + β d₂),   θc = the weights when "Compute" was pressed.

d₁, d₂ are either two random filter-normalised directions (Li et al., 2018: each unit's direction
is scaled to the norm of its own weights, so α = 1 is "as far as the weights themselves" in every
layer), or the top two principal directions of the weights recorded during training, which span the
plane the run actually moved in. The grid is computed by `weightspace.network_slice` in a worker
thread on a frozen copy of the session, with a progress bar and Cancel, so training and the window
go on meanwhile.

Shown: log10 of the loss as a heatmap with contours, the recorded trajectory projected onto the
plane, ● the weights at the centre (whose value is the Loss panel's train loss at that step) and ◆
where training has moved since (projected, while it keeps training).

A `TrajectoryRecorder` is attached to every dataset session from the start, whether or not the
panel is shown (it keeps at most 200 thinned snapshots), so PCA mode has a path to analyse.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core import weightspace
from .. import workers
from ..colors import SEQUENTIAL
from ..number_format import fmt
from ..plotting import apply_plot_style, axes
from ..widgets.numbers import SciSpinBox, compact_combo, guard_wheel, int_spin
from .base import Panel, SessionHolder
from .landscape import _rect

N_CONTOURS = 14
MODES = (("random", "random (filter-normalised)"), ("pca", "PCA of the path"))
FUNCTION_MESSAGE = ("A landscape task is already a 2-D loss surface: see the Landscape panel. This panel "
                    "slices the weight space of a network (dataset tasks).")
PATH_COLOR, NOW_COLOR = "#ffffff", "#ff2d55"


class WeightSpacePanel(Panel):
    """Compute controls over the slice's heatmap, contours and projected path."""

    title = "Weight space"
    name = "weightspace"
    exportable = False  # interactive: a fresh copy for File → Export would show nothing of it
    slow_interval = 0.25

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.recorder: weightspace.TrajectoryRecorder | None = None
        self.slice: weightspace.WeightSlice | None = None
        self.slice_step = 0
        self.slice_session: int | None = None
        self.job: workers.Job | None = None

        self.mode = compact_combo()
        self.mode.setMinimumContentsLength(15)
        for value, text in MODES:
            self.mode.addItem(text, value)
        self.mode.setToolTip("random: a typical plane around the weights (Li et al. 2018). PCA: the plane "
                             "that holds most of the path training took (needs some training first)")
        self.grid_n = guard_wheel(int_spin(11, 101, 31))
        self.grid_n.setSingleStep(2)
        self.grid_n.setToolTip("Grid points per axis (odd, so the centre is a grid point); cost grows with its square")
        self.span = guard_wheel(SciSpinBox(0.0, 1e3, 1.0, "auto"))
        self.span.setToolTip("The grid covers −span … span along both directions. Random: 1 = one filter "
                             "norm. PCA: 'auto' fits the path with a margin")
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.compute_button = QtWidgets.QPushButton("Compute")
        self.compute_button.setToolTip("Evaluate the full training loss on the grid (in the background)")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(6)
        for label, w in (("directions", self.mode), ("grid", self.grid_n), ("span ±", self.span)):
            row.addWidget(QtWidgets.QLabel(label))
            row.addWidget(w)
        row.addWidget(self.compute_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress)
        row.addStretch(1)
        self.controls = QtWidgets.QWidget()
        self.controls.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)

        self.info = self.summary_label()
        self.message = QtWidgets.QLabel(FUNCTION_MESSAGE, wordWrap=True)
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("font-size: 12pt; padding: 24px;")
        self.view = pg.GraphicsLayoutWidget()
        self.plot = self.view.addPlot(row=0, col=0, axisItems=axes())
        self.plot.setMenuEnabled(False)
        self.plot.setAspectLocked(True)  # α and β are in the same units: a valley's true shape
        self.bar = pg.ColorBarItem(colorMap=SEQUENTIAL, interactive=False, width=12, colorMapMenu=False)
        self.view.addItem(self.bar, row=0, col=1)
        self.img = pg.ImageItem(axisOrder="row-major")
        self.img.setColorMap(SEQUENTIAL)
        self.plot.addItem(self.img)
        self.contours = [pg.IsocurveItem(level=0, pen=pg.mkPen(255, 255, 255, 90), axisOrder="row-major")
                         for _ in range(N_CONTOURS)]
        for iso in self.contours:
            iso.setParentItem(self.img)
        self.path_shadow = pg.PlotCurveItem(pen=pg.mkPen(0, 0, 0, 140, width=4))
        self.path = pg.PlotCurveItem(pen=pg.mkPen(PATH_COLOR, width=2))
        self.snaps = pg.ScatterPlotItem(size=4, brush=pg.mkBrush(PATH_COLOR), pen=None)
        self.start = pg.ScatterPlotItem(size=10, brush=None, pen=pg.mkPen(PATH_COLOR, width=2))
        self.center = pg.ScatterPlotItem(size=12, brush=pg.mkBrush(PATH_COLOR), pen=pg.mkPen("k", width=1.5))
        self.now = pg.ScatterPlotItem(symbol="d", size=12, brush=pg.mkBrush(NOW_COLOR), pen=pg.mkPen("k", width=1))
        for z, item in enumerate((self.path_shadow, self.path, self.snaps, self.start, self.center, self.now)):
            item.setZValue(10 + z)
            self.plot.addItem(item, ignoreBounds=True)  # the view frames the grid
        self.hover = QtWidgets.QLabel(" ")
        self.view.scene().sigMouseMoved.connect(self._moved)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        lay.addWidget(self.controls)
        lay.addWidget(self.info)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.message, 1)
        lay.addWidget(self.hover)
        self.setMinimumSize(320, 200)
        # the recorder must follow every session from its first step, shown or not (PCA needs the path)
        holder.on_session_replaced(self.follow_session)
        self.follow_session()
        self._clear()
        self.reset()

    def mouse_readout(self) -> QtWidgets.QLabel:
        return self.hover

    def retheme(self) -> None:
        if hasattr(self, "img"):  # titles, axes: the new theme (not while __init__ builds them)
            self._draw_slice() if self.slice is not None else self._clear()

    # ----------------------------------------------------------------- recording
    def follow_session(self) -> None:
        """Attach the trajectory recorder to the current session (once per session)."""
        s = self.session
        if self.recorder is not None and self.recorder._session is s:
            return
        if self.recorder is not None:
            self.recorder.detach()
            self.recorder = None
        if s.problem.has_layers:
            self.recorder = weightspace.TrajectoryRecorder(s.theta.size)
            self.recorder.attach(s)

    # ----------------------------------------------------------------- structure
    def reset(self) -> None:
        self.hover.setText(" ")  # the last slice's readout is stale for this session
        self.follow_session()
        s = self.session
        dataset = s.problem.has_layers
        for w in (self.controls, self.info, self.view, self.hover):
            w.setVisible(dataset)
        self.message.setVisible(not dataset)
        if self.slice is not None and (self.slice_session != id(s) or self.slice.center.size != s.theta.size
                                       or s.step < self.slice_step):
            self.cancel()
            self._clear()
        super().reset()

    def _clear(self) -> None:
        self.slice = None
        self.img.clear()
        for iso in self.contours:
            iso.setData(None)
        for item in (self.path_shadow, self.path):
            item.setData([], [])
        for item in (self.snaps, self.start, self.center, self.now):
            item.setData([])
        apply_plot_style(self.plot, "Loss on a plane through weight space", "α (direction 1)",
                               "β (direction 2)", self.th, grid=False)

    def _mode_changed(self) -> None:
        pca = self.mode.currentData() == "pca"
        self.span.setValue(0.0 if pca else 1.0)

    # ----------------------------------------------------------------- computing
    def compute(self) -> None:
        """Start the slice in a worker on a frozen copy of the current weights."""
        s = self.session
        if not s.problem.has_layers:
            return
        self.cancel()
        mode = self.mode.currentData()
        rec = self.recorder
        frozen = SimpleNamespace(thetas=rec.thetas, steps=rec.steps, n=rec.n) if rec is not None else None
        if mode == "pca" and (frozen is None or frozen.n < 3):
            self.info.setText("PCA needs a recorded path: train a little first (or use random directions).")
            return
        n = self.grid_n.value() | 1  # odd: the centre is on the grid
        span = self.span.value() or None
        self._pending = (id(s), s.step, frozen)
        self.job = workers.start(weightspace.network_slice, workers.detached(s), mode=mode, recorder=frozen,
                                 n=n, span=span, seed=s.config["seed"])
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self._busy(True)
        self.progress.setRange(0, n * n)
        self.progress.setValue(0)
        self.info.setText(f"Computing the loss at {n}×{n} points around the weights of step {s.step}… "
                          f"(training can go on meanwhile)")

    def compute_now(self, **kwargs) -> weightspace.WeightSlice:
        """The same slice synchronously (shots, tests); kwargs override the controls."""
        s = self.session
        rec = self.recorder
        frozen = SimpleNamespace(thetas=rec.thetas, steps=rec.steps, n=rec.n) if rec is not None else None
        args = dict(mode=self.mode.currentData(), recorder=frozen, n=self.grid_n.value() | 1,
                    span=self.span.value() or None, seed=s.config["seed"])
        args.update(kwargs)
        self._pending = (id(s), s.step, frozen)
        ws = weightspace.network_slice(workers.detached(s), **args)
        self._done(ws)
        return ws

    def cancel(self) -> None:
        if self.job is not None:
            self.job.abandon()  # a result still on its way must not reach the view
            self.job = None
            self._busy(False)
            self.info.setText("Cancelled." if self.slice is None else self._summary())

    def _busy(self, busy: bool) -> None:
        self.compute_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _failed(self, message: str) -> None:
        self.job = None
        self._busy(False)
        self.info.setText(f"Could not compute the slice: {message}")

    def _cancelled(self) -> None:
        self.job = None
        self._busy(False)

    def _done(self, ws: weightspace.WeightSlice) -> None:
        self.job = None
        self._busy(False)
        sid, step, frozen = self._pending
        if sid != id(self.session) or ws.center.size != self.session.theta.size:
            self.info.setText("The run changed while computing: press Compute again.")
            return
        self.slice, self.slice_step, self.slice_session = ws, step, sid
        self._draw_slice()
        self.refresh()

    # ----------------------------------------------------------------- drawing
    @staticmethod
    def display(Z: np.ndarray) -> tuple[np.ndarray, float, float]:
        """log10 of the loss for the colours (losses span decades), non-finite shown as the top colour."""
        with np.errstate(all="ignore"):
            D = np.log10(np.where(Z > 0, Z, np.nan))
        fin = np.isfinite(D)
        lo, hi = (float(D[fin].min()), float(D[fin].max())) if fin.any() else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1e-3
        return np.where(fin, D, hi), lo, hi

    def _draw_slice(self) -> None:
        ws = self.slice
        D, lo, hi = self.display(ws.Z)
        self.img.setImage(D, autoLevels=False, levels=(lo, hi))
        self.img.setRect(_rect(ws.alphas, ws.betas))
        for k, iso in enumerate(self.contours):
            iso.setData(D, lo + (hi - lo) * (k + 0.5) / N_CONTOURS)
        self.bar.setLevels((lo, hi))
        self.bar.axis.setLabel("training loss (log colour)")
        ticks = []
        for e in range(math.floor(lo), math.ceil(hi) + 1):
            for m in (1, 2, 5):
                v = math.log10(m * 10.0**e)
                if lo <= v <= hi:
                    ticks.append((v, fmt(m * 10.0**e)))
        self.bar.axis.setTicks([ticks] if len(ticks) >= 2 else None)
        path = ws.path
        self.path_shadow.setData(path[:, 0], path[:, 1])
        self.path.setData(path[:, 0], path[:, 1])
        self.snaps.setData(pos=path)
        self.start.setData(pos=path[:1])
        self.center.setData(pos=[(0.0, 0.0)])
        pca = not np.isnan(ws.explained).all()
        what = "principal directions of the path" if pca else "random filter-normalised directions"
        apply_plot_style(self.plot, f"Training loss on a plane through weight space ({what})",
                               "α (direction 1)", "β (direction 2)", self.th, grid=False)
        self.plot.enableAutoRange()  # frames the image (and follows resizes while hidden)

    def origin_value(self) -> float:
        """The slice's loss at (0, 0), the grid's centre (the weights it was computed around)."""
        ws = self.slice
        return float(ws.Z[len(ws.betas) // 2, len(ws.alphas) // 2])

    def refresh(self) -> None:
        s = self.session
        if not s.problem.has_layers or self.job is not None:
            return
        if self.slice is None:
            self.info.setText(f"<b>step {s.step}</b> · Press <b>Compute</b> to draw the training loss on a "
                              f"plane through the current weights: random directions show the shape around "
                              f"them, PCA the plane the path moved in ({self.recorder.n if self.recorder else 0} "
                              f"snapshots recorded).")
            return
        if not self.due():
            return
        ws = self.slice
        if s.step != self.slice_step and s.theta.size == ws.center.size:
            coords, off = weightspace.project(s.theta[None, :], ws.center, ws.dirs)
            self.now.setData(pos=coords)
            self._off_now = float(off[0])
        else:
            self.now.setData([])
            self._off_now = None
        self.info.setText(self._summary())

    def _summary(self) -> str:
        ws = self.slice
        s = self.session
        parts = [f"<b>computed at step {self.slice_step}</b> · ● centre: loss {fmt(self.origin_value())} "
                 f"(the Loss panel's train loss then)"]
        if not np.isnan(ws.explained).all():
            parts.append(f"the plane holds {ws.explained[0]:.0%} + {ws.explained[1]:.0%} of the path's spread")
        if len(ws.path):
            parts.append(f"○ start … path: {np.median(ws.off_plane):.0%} of its distance from the centre is off "
                         f"the plane (median)")
        if getattr(self, "_off_now", None) is not None:
            parts.append(f"<span style='color:{NOW_COLOR}'>◆</span> now (step {s.step}), "
                         f"{self._off_now:.0%} off the plane")
        return " · ".join(parts)

    def _moved(self, pos: QtCore.QPointF) -> None:
        ws = self.slice
        if ws is None or not self.plot.vb.sceneBoundingRect().contains(pos):
            return
        p = self.plot.vb.mapSceneToView(pos)
        i, j = int(np.abs(ws.alphas - p.x()).argmin()), int(np.abs(ws.betas - p.y()).argmin())
        self.hover.setText(f"(α, β) = ({fmt(ws.alphas[i])}, {fmt(ws.betas[j])}) · "
                           f"loss = {fmt(ws.Z[j, i])}")

    def prepare_shot(self, steps: int = 0) -> None:
        """For `gradplay shot --dock weightspace`: compute the slice now (PCA when a path exists)."""
        if not self.session.problem.has_layers:
            return
        if self.recorder is not None and self.recorder.n >= 3:
            self.mode.setCurrentIndex(self.mode.findData("pca"))
        self.compute_now()
