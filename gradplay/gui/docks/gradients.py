"""Per-layer gradients: their norms over time, their distribution now, and the update-to-weight ratio.

- Gradient norm vs step, log y, one line per layer in the layer's colour: vanishing gradients show as
  early layers sitting orders of magnitude below late ones, exploding ones as lines shooting up.
- Histogram of the current step's ∂L/∂W per layer, on LOG-SPACED bins of |g|. Layers' gradients
  differ by orders of magnitude exactly when training goes wrong; on linear bins the small layers
  collapse into one bar at 0 and the picture says nothing. On log bins each layer is a hump and the
  humps shift left layer by layer when gradients vanish. The sign is dropped (gradients are roughly
  symmetric about 0); exact zeros (dead ReLUs) cannot sit on a log axis and are counted in the label.
- ‖Δw‖/‖w‖ per layer vs step, log y, with the rule-of-thumb healthy ratio 1e−3 dashed: far below,
  the layer barely learns; far above, the steps are wild.
Landscapes have one "layer", the point (x, y): only |∇f| is shown.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.smoothing import RunningEma
from ..axes import share_axis_width
from ..colors import layer_color
from ..decimate import decimate, positive, thin
from ..hover import HoverReadout
from ..number_format import fmt
from ..plotting import apply_plot_style, curve_points, plot_widget
from ..theme import faint
from ..widgets.smoothing import SmoothingBox
from .base import Panel, SessionHolder

MAX_POINTS = 1000
MAX_BINS = 40
HEALTHY_RATIO = 1e-3
SMOOTHING = 0.8  # the per-step curves' EMA weight at start: per-sample gradients are noisier than losses


def _columns(a: np.ndarray, n: int) -> np.ndarray:
    """A per-layer history column as (rows, layers), also when there is a single layer."""
    return np.asarray(a, dtype=np.float64).reshape(len(a), -1) if len(a) else np.zeros((0, n))


LOG_LIMIT = 300.0  # histogram edges within 10**±LOG_LIMIT


def log_histograms(grads: list[np.ndarray], bins: int | None = None
                   ) -> tuple[np.ndarray, list[np.ndarray], list[float]]:
    """Shared log10-spaced bin edges of |g| (bins + 1,), per layer the percentage of its weights in
    each bin (bins,), and per layer the fraction that is exactly zero or non-finite.

    By default the bin count grows with the layers' size (a 2×8 layer has only 16 gradients)."""
    if bins is None:
        typical = float(np.median([np.size(g) for g in grads])) if grads else 1.0
        bins = int(np.clip(round(1.5 * math.sqrt(typical)), 8, MAX_BINS))
    logs, rest = [], []
    for g in grads:
        a = np.abs(np.asarray(g, dtype=np.float64).ravel())
        ok = np.isfinite(a) & (a > 0)
        logs.append(np.log10(a[ok]))
        rest.append(1.0 - ok.sum() / max(a.size, 1))
    every = np.concatenate(logs) if logs else np.zeros(0)
    lo, hi = (float(every.min()), float(every.max())) if every.size else (-3.0, 0.0)
    # Edges stay within 1e±300: a gradient of 1e308 put the last edge at 10**308.75 = inf, and
    # pyqtgraph died painting it (SIGSEGV). Values beyond fall into the end bins.
    lo, hi = max(lo, -LOG_LIMIT), min(hi, LOG_LIMIT)
    if hi - lo < 1.0:  # at least one decade, so a tight cluster is not stretched across the axis
        mid = min(max((lo + hi) / 2, -LOG_LIMIT + 0.5), LOG_LIMIT - 0.5)
        lo, hi = mid - 0.5, mid + 0.5
    logs = [np.clip(lg, lo, hi) for lg in logs]
    edges = np.linspace(lo, hi, bins + 1)
    fracs = [100.0 * np.histogram(lg, edges)[0] / max(np.size(g), 1) for lg, g in zip(logs, grads)]
    return 10.0**edges, fracs, rest


class GradientsPanel(Panel):
    """Gradient norms and update ratios per layer over time, and today's gradient histogram."""

    title = "Gradients"
    name = "gradients"

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.info = self.summary_label()
        self.norm_view, self.ratio_view, self.hist_view = plot_widget(), plot_widget(), plot_widget()
        self.norm_plot = self.norm_view.getPlotItem()
        self.ratio_plot = self.ratio_view.getPlotItem()
        self.hist_plot = self.hist_view.getPlotItem()
        for plot in (self.norm_plot, self.ratio_plot):
            plot.setLogMode(y=True)
        self.ratio_plot.setXLink(self.norm_plot)
        share_axis_width(self.norm_plot, self.ratio_plot)
        self.hist_plot.setLogMode(x=True)
        # the dashed reference is named in the title: a label on the line lay under the curves
        apply_plot_style(self.ratio_plot, "Update / weight  ╌ 1e−3 healthy", "step", "ratio",
                               self.th)
        apply_plot_style(self.hist_plot, "Gradients now", "|∂L/∂W| (log scale)", "% of the layer's weights",
                               self.th)
        self.ref_line = pg.InfiniteLine(pos=math.log10(HEALTHY_RATIO), angle=0)
        self.ref_line.setToolTip("1e−3: the update moves each layer's weights by about 0.1 % a step, "
                                 "a healthy rate (Karpathy's rule of thumb)")
        self.ratio_plot.addItem(self.ref_line)
        # An invisible point at the reference keeps the dashed line inside the auto range.
        self.ratio_plot.plot([0], [HEALTHY_RATIO], pen=None, symbol="o", symbolSize=0, symbolPen=None, symbolBrush=None)
        self.norm_hover = HoverReadout(self.norm_plot)
        self.ratio_hover = HoverReadout(self.ratio_plot)
        self.hist_hover = HoverReadout(self.hist_plot, xname="|g| ≈")
        self.norm_curves: list[pg.PlotCurveItem] = []  # raw, log10 values
        self.ratio_curves: list[pg.PlotCurveItem] = []
        self.hist_curves: list[pg.PlotDataItem] = []
        # Each layer's per-step curves drawn raw and faint, with their moving average (log10) on top:
        # six raw bands overlapped with the last layer drawn over the rest, and the vanishing
        # story's claim (the first layers' norms orders of magnitude below) was lost in them.
        self.smooth = SmoothingBox(SMOOTHING)
        self.smooth.changed.connect(self._smoothing_changed)
        self.norm_smooth: list[pg.PlotDataItem] = []
        self.ratio_smooth: list[pg.PlotDataItem] = []
        self._emas: dict[tuple[str, int], RunningEma] = {}

        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setSpacing(2)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.smooth, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        grid.addLayout(top, 0, 0, 1, 2)
        grid.addWidget(self.norm_view, 1, 0)
        grid.addWidget(self.ratio_view, 2, 0)
        grid.addWidget(self.hist_view, 1, 1, 2, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(2, 1)
        self.setMinimumSize(360, 200)
        self._shape: tuple | None = None
        self.reset()

    # ------------------------------------------------------------------ structure
    def retheme(self) -> None:
        self._shape = None  # rebuild the theme-coloured items
        self.reset()

    def reset(self) -> None:
        s = self.session
        shape = (s.problem.has_layers, s.n_layers)
        if shape != self._shape:  # items depend only on the task kind and the layer count
            self._shape = shape
            self._build(s.problem.has_layers, s.n_layers)
        else:
            for curve in self.norm_curves + self.ratio_curves + self.hist_curves + self.norm_smooth + self.ratio_smooth:
                curve.setData([], [])
        self._emas = {}  # another run: its averages start afresh
        self.norm_plot.enableAutoRange()
        self.hist_plot.enableAutoRange()
        super().reset()

    def _build(self, layers: bool, n: int) -> None:
        for plot, curves in ((self.norm_plot, self.norm_curves), (self.ratio_plot, self.ratio_curves),
                             (self.hist_plot, self.hist_curves), (self.norm_plot, self.norm_smooth),
                             (self.ratio_plot, self.ratio_smooth)):
            for c in curves:
                plot.removeItem(c)
            curves.clear()
        function = not layers
        th = self.th
        self.ref_line.setPen(pg.mkPen(th.fg, width=1, style=QtCore.Qt.PenStyle.DashLine))
        title = "Gradient norm |∇f| at the point" if function else "Gradient norm ‖∂L/∂W‖ per layer"
        apply_plot_style(self.norm_plot, title, "step", "norm", self.th)
        self.norm_plot.getAxis("bottom").showLabel(function)  # "step" under the lowest plot only
        # Panels' grid: without the ratio and histogram plots the norm plot takes the whole panel.
        grid = self.layout()
        grid.setColumnStretch(1, 0 if function else 2)
        grid.setRowStretch(2, 0 if function else 1)
        names = ["|∇f|"] if function else [f"layer {i + 1}" for i in range(n)]
        self.smooth.setVisible(not function)  # a landscape's |∇f| is one exact value a step
        smoothed = not function and self.smooth.value() > 0
        for i, name in enumerate(names):
            color = self.th.fg if function else layer_color(i)
            raw = faint(color, 35 / 255, th) if smoothed else pg.mkColor(color)
            # width 1: Qt strokes wide antialiased pens on long noisy curves ~40x slower (230 ms vs 5 ms).
            # Bare curves fed log10 values (the plots' y is logarithmic), like the averages: a
            # PlotDataItem's setData took 133 µs against 19 µs, six times a frame.
            curve = pg.PlotCurveItem(pen=pg.mkPen(raw, width=1), name=name)
            self.norm_plot.addItem(curve)
            self.norm_curves.append(curve)
            if not function:
                curve = pg.PlotCurveItem(pen=pg.mkPen(raw, width=1), name=f"layer {i + 1}")
                self.ratio_plot.addItem(curve)
                self.ratio_curves.append(curve)
                for plot, smooth in ((self.norm_plot, self.norm_smooth), (self.ratio_plot, self.ratio_smooth)):
                    # a bare curve fed log10 values (the plot's y is logarithmic): PlotDataItem's
                    # mapping and bookkeeping cost more than the average itself. Width 1: a wider
                    # pen took the panel's paint from 10 to 39 ms.
                    item = pg.PlotCurveItem(pen=pg.mkPen(color, width=1), connect="finite")
                    item.setZValue(10)  # every layer's average over every layer's raw band
                    plot.addItem(item)
                    smooth.append(item)
                fill = pg.mkColor(color)
                fill.setAlpha(45)
                self.hist_curves.append(self.hist_plot.plot(stepMode="center", fillLevel=0, brush=fill,
                                                            pen=pg.mkPen(color, width=1.5)))
        self.ratio_view.setVisible(not function)
        self.hist_view.setVisible(not function)

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        s = self.session
        h, L = s.history, s.n_layers
        steps = h.get_steps()
        norms = _columns(h.get("grad_norm"), L)
        points = curve_points(self.norm_plot, MAX_POINTS)  # (the ratio plot is as wide)
        self.norm_hover.clear()
        for i, curve in enumerate(self.norm_curves):
            x, y = decimate(*positive(steps, norms[:, i]), points)
            curve.setData(x, np.log10(y))
            color = layer_color(i) if s.problem.has_layers else self.th.fg
            self.norm_hover.set(curve.name(), x, y, color)
        if s.problem.has_layers:
            ratios = _columns(h.get("update_ratio"), L)
            self.ratio_hover.clear()
            for i, curve in enumerate(self.ratio_curves):
                x, y = decimate(*positive(steps, ratios[:, i]), points)
                curve.setData(x, np.log10(y))
                self.ratio_hover.set(f"layer {i + 1}", x, y, layer_color(i))
            if self.due():  # the averages move slowly: at the throttled rate, exactly when paused
                self._draw_smoothed(steps, norms, ratios, points)
                self._draw_histogram()
        self.info.setText(self._summary(norms))

    def _smoothing_changed(self, _weight: float) -> None:
        self._shape = None  # the raw curves' pens change (faint or not)
        self.reset()  # (rebuilds the curves, and redraws: a reset is due)

    def _draw_smoothed(self, steps: np.ndarray, norms: np.ndarray, ratios: np.ndarray, points: int) -> None:
        weight = self.smooth.value()
        for key, values, items in (("norm", norms, self.norm_smooth), ("ratio", ratios, self.ratio_smooth)):
            for i, item in enumerate(items):
                if weight == 0:
                    item.setData([], [])
                    continue
                ema = self._emas.setdefault((key, i), RunningEma(log=True, as_log10=True))
                item.setData(*thin(steps, ema(steps, values[:, i], weight), points))

    def _draw_histogram(self) -> None:
        edges, fracs, rest = log_histograms(self.session.model.dW)
        self._rest = rest
        centres = np.sqrt(edges[:-1]) * np.sqrt(edges[1:])  # geometric middle of a log bin (no overflow)
        self.hist_hover.clear()
        for i, (curve, f) in enumerate(zip(self.hist_curves, fracs)):
            curve.setData(edges, f)
            self.hist_hover.set(f"layer {i + 1} %", centres, f, layer_color(i))

    def _summary(self, norms: np.ndarray) -> str:
        s = self.session
        parts = [f"<b>step {s.step}</b>"]
        if len(norms):
            last = norms[-1]
            if not s.problem.has_layers:
                parts.append(f"|∇f| = {fmt(last[0])}")
            else:  # the legend of all three plots, with each layer's gradient norm now
                parts.append(" ".join(f"<span style='color:{layer_color(i)}'>■</span> layer {i + 1} "
                                      f"{fmt(v)}" for i, v in enumerate(last)))
                zeros = [(i, r) for i, r in enumerate(getattr(self, "_rest", [])) if r >= 0.005]
                if zeros:
                    parts.append("exactly 0: " + ", ".join(f"layer {i + 1} {fmt(100 * r)}%" for i, r in zeros))
        else:
            parts.append("no steps yet: train to see the gradients")
            if s.problem.has_layers:
                parts.append(" ".join(f"<span style='color:{layer_color(i)}'>■</span> layer {i + 1}"
                                      for i in range(s.n_layers)))
        return " · ".join(parts)
