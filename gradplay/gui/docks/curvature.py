"""Curvature: the Hessian's eigen-directions on landscapes, the top eigenvalue against 2/lr on networks.

Why: on a quadratic with top curvature λmax, gradient descent with rate γ multiplies the error along
the top eigenvector by (1 − γλmax) each step, so it converges only if γ < 2/λmax. Plotting λmax
against 2/lr (the curvature at which the current rate turns unstable) shows whether the rate fits
the terrain, and, on networks trained with plain SGD, how λmax rises until it meets 2/lr ("edge of
stability", Cohen et al. 2021).

- Landscapes: at the current point, two segments along the Hessian's eigenvectors are drawn on the
  Landscape panel (an `EigenOverlay`, shown while this panel is shown), with lengths in proportion
  to |λ| and a label each; this panel plots λmin and λmax along the trajectory.
- Networks: a `CurvatureTracker` (power iteration on Hessian-vector products, warm-started) measures
  λmax while this panel is shown, at a rate that keeps its cost under about a tenth of the time.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core import curvature, diagnostics
from ...core.problem import LandscapeProblem
from ..colors import LAYER_COLORS
from ..decimate import decimate, positive
from ..hover import HoverReadout
from ..legends import LegendStrip
from ..number_format import fmt
from ..plotting import apply_plot_style, plot_widget
from .base import Panel, SessionHolder

UP_COLOR = "#00e5ff"     # the surface curves up along this direction (λ > 0)
DOWN_COLOR = "#ff4fd8"   # ...curves down (λ < 0): a way out of a saddle
SEGMENT = 0.16           # half-length of the larger-|λ| segment, as a share of the view's smaller side
MIN_SEGMENT = 0.12       # the other one never shorter than this share of it (its label gives the value)
PATH_POINTS = 600        # trajectory points whose Hessian is evaluated for the plot
SUBS = "₁₂"  # λ₁ ≤ λ₂, the order of landscape_curvature


def _vec(v: np.ndarray) -> str:
    return f"({v[0]:.2f}, {v[1]:.2f})".replace("-", "−")


def curvature_words(c: curvature.LandscapeCurvature) -> str:
    """'curves up along (…) (λ₂ = 2), down along (…) (λ₁ = −2)': the eigen-directions in words."""
    parts = []
    for k in (1, 0):
        lam, v = c.eigenvalues[k], c.eigenvectors[:, k]
        how = "up" if lam > 0 else "down" if lam < 0 else "flat"
        parts.append(f"curves {how} along {_vec(v)} (λ{SUBS[k]} = {fmt(lam)})")
    lo, hi = c.eigenvalues
    kind = "saddle" if lo < 0 < hi else "bowl" if lo > 0 else "hilltop" if hi < 0 else "flat"
    return f"{kind}: " + ", ".join(parts)


class EigenOverlay:
    """Two segments through the current point along the Hessian's eigenvectors, on a landscape plot.

    `segments[k]` is the (2, 2) array [start, end] of eigenvalue k's segment (ascending order as in
    `landscape_curvature`), centred on the point, half-length ∝ |λ_k|."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.shadows = [pg.PlotCurveItem(pen=pg.mkPen(0, 0, 0, 150, width=6)) for _ in range(2)]
        self.lines = [pg.PlotCurveItem() for _ in range(2)]
        self.labels = [pg.TextItem(anchor=(0, 0.5), fill=pg.mkBrush(0, 0, 0, 150)) for _ in range(2)]
        for z, item in enumerate(self.shadows + self.lines + self.labels):
            item.setZValue(40 + z)
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        self.enabled = False
        self.curvature: curvature.LandscapeCurvature | None = None
        self.segments: list[np.ndarray] = []

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if not on:
            self._hide()

    def _hide(self) -> None:
        self.segments = []
        try:
            for item in self.shadows + self.lines + self.labels:
                item.hide()
        except RuntimeError:  # the landscape plot was deleted first (window closing): nothing to hide
            pass

    def update(self, session) -> None:
        """Redraw at the session's point (hidden unless enabled and on a landscape)."""
        p = session.problem
        if not self.enabled or not isinstance(p, LandscapeProblem):
            self._hide()
            return
        land = p.landscape
        with np.errstate(all="ignore"):
            c = curvature.landscape_curvature(land, session.theta)
        lam = c.eigenvalues
        if not (np.isfinite(lam).all() and np.isfinite(session.theta).all()):
            self._hide()
            return
        self.curvature = c
        span = min(land.xrange[1] - land.xrange[0], land.yrange[1] - land.yrange[0])
        top = float(np.max(np.abs(lam)))
        p = np.asarray(session.theta, dtype=float)
        self.segments = []
        for k in range(2):
            v = c.eigenvectors[:, k]
            share = abs(lam[k]) / top if top > 0 else 1.0
            half = SEGMENT * span * max(share, MIN_SEGMENT)
            seg = np.array([p - half * v, p + half * v])
            self.segments.append(seg)
            color = UP_COLOR if lam[k] >= 0 else DOWN_COLOR
            dash = QtCore.Qt.PenStyle.SolidLine if lam[k] >= 0 else QtCore.Qt.PenStyle.DashLine
            self.lines[k].setPen(pg.mkPen(color, width=3, style=dash))
            self.lines[k].setData(seg[:, 0], seg[:, 1])
            self.shadows[k].setData(seg[:, 0], seg[:, 1])
            end = seg[1] if (v[0], v[1]) >= (0, 0) else seg[0]  # label the right-hand end
            self.labels[k].setAnchor((0, 0.5))
            self.labels[k].setPos(float(end[0]), float(end[1]))
            how = "curves up" if lam[k] > 0 else "curves down" if lam[k] < 0 else "flat"
            self.labels[k].setHtml(f"<span style='color:{color};font-size:9pt'>&nbsp;λ{SUBS[k]} = "
                                   f"{fmt(lam[k])} {how}&nbsp;</span>")
        for item in self.shadows + self.lines + self.labels:
            item.show()


class CurvaturePanel(Panel):
    """Eigenvalues now and along the run, against the curvature the learning rate can take."""

    title = "Curvature"
    name = "curvature"
    exportable = False  # interactive: a fresh copy for File → Export would show nothing of it
    slow_interval = 0.25

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.info = self.summary_label()
        self.info.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.draw_check = QtWidgets.QCheckBox("Draw the eigen-directions at the point on the Landscape panel")
        self.draw_check.setChecked(True)
        self.draw_check.toggled.connect(lambda _: self._sync_overlay(self.isVisible()))
        self.view = plot_widget()
        self.plot = self.view.getPlotItem()
        self.legend = LegendStrip()  # in a strip: inside the plot it hid λmax after step 350
        self.lam_max_curve = self.plot.plot()
        self.lam_min_curve = self.plot.plot()
        self.limit_curve = self.plot.plot()
        self.hover = HoverReadout(self.plot)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        lay.addWidget(self.info)
        lay.addWidget(self.draw_check)
        lay.addWidget(self.legend)
        lay.addWidget(self.view, 1)
        self.setMinimumSize(300, 200)
        self.overlay: EigenOverlay | None = None
        self.tracker: curvature.CurvatureTracker | None = None
        self._kind: tuple | None = None
        self._cost = 0.0
        self._pens()
        self.reset()

    # ----------------------------------------------------------------- overlay on the landscape
    def attach_landscape(self, panel) -> EigenOverlay:
        """Draw the eigen-directions on `panel` (a LandscapePanel) while this panel is shown."""
        self.overlay = EigenOverlay(panel.plot)
        panel.overlays.append(self.overlay)
        self._sync_overlay(self.isVisible())
        return self.overlay

    def _sync_overlay(self, visible: bool) -> None:
        if self.overlay is None:
            return
        self.overlay.set_enabled(visible and self.draw_check.isChecked())
        self.overlay.update(self.session)

    def on_screen_changed(self, visible: bool) -> None:
        """In the window: the dock came to the front or went behind a tab (or was closed)."""
        self._sync_overlay(visible)

    def _docked(self) -> bool:
        return isinstance(self.parentWidget(), QtWidgets.QDockWidget)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._docked():  # docked, the window's on_screen_changed decides (tabs stay "visible")
            self._sync_overlay(True)

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        if not self._docked():
            self._sync_overlay(False)

    # ----------------------------------------------------------------- structure
    def _pens(self) -> None:
        th = self.th
        self.lam_max_curve.setPen(pg.mkPen(th.fg, width=2))
        self.lam_max_curve.setSymbolSize(4)
        self.lam_max_curve.setSymbolBrush(th.fg)
        self.lam_max_curve.setSymbolPen(None)
        self.lam_min_curve.setPen(pg.mkPen(th.muted, width=1.5))
        self.limit_curve.setPen(pg.mkPen(LAYER_COLORS[2], width=2, style=QtCore.Qt.PenStyle.DashLine))

    def retheme(self) -> None:
        self._pens()
        self._kind = None
        self.reset()

    def _limit_factor(self) -> tuple[float | None, str]:
        """(c, name) with the rate's critical curvature = c / lr for the optimizer, or (None, '')."""
        opt = dict(self.session.config["optimizer"], weight_decay=0.0)
        c = curvature.stability_limit(opt, 1.0)
        if c is None or not math.isfinite(c):
            return None, ""
        beta = opt.get("momentum", 0.0)
        name = "2/lr" if beta == 0 else f"{fmt(c)}/lr (momentum {fmt(beta)})"
        return c, name

    def reset(self) -> None:
        s = self.session
        c, limit_name = self._limit_factor()
        exact = isinstance(s.problem, LandscapeProblem)  # a landscape's Hessian is exact, all of it
        mode = (s.kind, limit_name)
        if mode != self._kind:
            self._kind = mode
            pen = lambda curve: curve.opts["pen"]  # noqa: E731
            if exact:
                entries = [("λmax (steepest curvature)", pen(self.lam_max_curve)), ("λmin", pen(self.lam_min_curve))]
            else:
                entries = [("λmax of the training loss", pen(self.lam_max_curve))]
            if c is not None:
                entries.append((f"{limit_name}: λ above it diverges", pen(self.limit_curve)))
            self.legend.set_entries(entries)
            self.plot.setLogMode(y=not exact)
            apply_plot_style(self.plot, "Hessian eigenvalues along the run" if exact
                                   else "Top Hessian eigenvalue λmax vs the stability limit", "step",
                                   "curvature λ", self.th)
        self.draw_check.setVisible(exact)
        # dots on networks: measurements are sparse, and the first one is a single point
        self.lam_max_curve.setSymbol(None if exact else "o")
        self.tracker = None if exact else curvature.CurvatureTracker(s, every=1, iters=10)
        self.slow_interval = 0.25
        for curve in (self.lam_max_curve, self.lam_min_curve, self.limit_curve):
            curve.setData([], [])
        self.plot.enableAutoRange()
        if self.overlay is not None:
            self.overlay.update(s)
        super().reset()

    # ----------------------------------------------------------------- refresh
    def refresh(self, force: bool = False) -> None:
        if not self.due(force):
            return
        s = self.session
        if isinstance(s.problem, LandscapeProblem):
            self._refresh_function(s)
        else:
            self._refresh_network(s)

    def _limit_curve(self, steps: np.ndarray, lrs: np.ndarray) -> None:
        c, _ = self._limit_factor()
        if c is None or not len(steps):
            self.limit_curve.setData([], [])
            return
        with np.errstate(divide="ignore"):
            crit = c / np.asarray(lrs, dtype=float)
        self.limit_curve.setData(*decimate(steps, crit))

    def _refresh_function(self, s) -> None:
        h = s.history
        steps = np.append(h.get_steps(), s.step)
        xs, ys = np.append(h.get("x"), s.theta[0]), np.append(h.get("y"), s.theta[1])
        lrs = np.append(h.get("lr"), s.schedule.lr)
        idx = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), PATH_POINTS)).astype(int))
        lam = np.full((len(idx), 2), np.nan)
        with np.errstate(all="ignore"):
            for j, i in enumerate(idx):
                if np.isfinite(xs[i]) and np.isfinite(ys[i]):
                    H = s.landscape.hessian(np.array([xs[i], ys[i]]))
                    if np.isfinite(H).all():
                        lam[j] = np.linalg.eigvalsh(H)
        self.lam_max_curve.setData(*decimate(steps[idx], lam[:, 1]))
        self.lam_min_curve.setData(*decimate(steps[idx], lam[:, 0]))
        self._limit_curve(steps[idx], lrs[idx])
        self.hover.clear()
        self.hover.set("λmax", *decimate(steps[idx], lam[:, 1]), self.th.fg)
        self.hover.set("λmin", *decimate(steps[idx], lam[:, 0]), self.th.muted)
        with np.errstate(all="ignore"):
            c = curvature.landscape_curvature(s.landscape, s.theta)
            st = diagnostics.stability(s)
        text = [f"<b>step {s.step}</b> · at ({fmt(s.theta[0])}, {fmt(s.theta[1])}) the surface is a "
                f"{curvature_words(c)}.",
                f"<span style='color:{UP_COLOR}'>━</span> curves up, <span style='color:{DOWN_COLOR}'>╍</span> "
                f"curves down; length ∝ |λ|." if self.draw_check.isChecked() else "",
                st.message]
        self.info.setText("<br>".join(t for t in text if t))

    def _refresh_network(self, s) -> None:
        if not self.isVisible():  # never measured (the costly part) for a panel not shown
            return
        tr = self.tracker
        if tr is None or s.halted:
            self.info.setText(f"<b>step {s.step}</b> · training stopped: no curvature to measure."
                              if s.halted else "")
            return
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            measured = tr.update() is not None
        if measured:
            self._cost = time.perf_counter() - t0
            self.slow_interval = max(0.25, 10.0 * self._cost)  # measuring takes at most ~10 % of the time
        cost = self._cost
        h = tr.history
        steps, lam, lrs = h.get_steps(), h.get("lam_max"), h.get("lr")
        self.lam_max_curve.setData(*decimate(*positive(steps, lam)))
        self._limit_curve(steps, lrs)
        self.hover.clear()
        self.hover.set("λmax", *positive(steps, lam), self.th.fg)
        self.info.setText(self._network_text(s, lam[-1] if len(lam) else math.nan,
                                             lrs[-1] if len(lrs) else s.schedule.lr, cost))

    def _network_text(self, s, lam: float, lr: float, cost: float) -> str:
        opt = s.config["optimizer"]["name"]
        c, name = self._limit_factor()
        head = (f"<b>step {s.step}</b> · λmax = {fmt(lam)} (power iteration on Hessian-vector products, "
                f"full training set, {1000 * cost:.0f} ms each; tracked while this panel is shown)")
        if c is not None:
            crit = c / lr
            ratio = lam / crit
            verdict = (f"λmax is {ratio:.0%} of {name} = {fmt(crit)}: "
                       + ("above it, steps overshoot along the steepest direction and the loss grows or "
                          "oscillates." if ratio > 1 else
                          "at the edge of stability — plain gradient descent drives λmax up until it meets "
                          "2/lr and then hovers there (Cohen et al., 2021)." if ratio > 0.8 else
                          "below it, so steps of this size are stable here."))
        elif opt in ("newton", "lbfgs"):
            verdict = (f"{opt} uses the curvature itself to size its steps, so the limit 2/λmax of plain "
                       f"gradient descent does not apply.")
        else:
            verdict = (f"{opt} rescales each coordinate's step by its running gradient statistics, so the "
                       f"plain gradient-descent limit 2/λmax does not apply in that simple form; λmax is shown "
                       f"for reference.")
        return f"{head}<br>{verdict}"
