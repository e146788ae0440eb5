"""Loss vs step: the noisy batch loss, the full-set train and test loss, and accuracy.

Edits of the run (its timeline: an lr raised, an optimizer switched, from step k on) are dotted
vertical lines at their steps; hovering near one lists what changed.

The batch loss (one value per step, from the history) shows the noise of stochastic gradients;
the full-set curves (from the evaluations the window records once per frame) show the real
progress, and the gap between train and test shows over-fitting. Landscapes have one curve, f
along the trajectory.

Classification runs also show the train and test confusion matrices at the current parameters,
right of the curves, when the panel has room for them (widgets/confusion.py).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core import losses, timeline
from ...core.smoothing import RunningEma
from ..axes import share_axis_width
from ..decimate import decimate, positive, thin
from ..hover import HoverReadout
from ..legends import LegendStrip
from ..number_format import fmt
from ..plotting import apply_plot_style, curve_points, plot_widget
from ..theme import faint
from ..widgets.confusion import ConfusionView
from ..widgets.smoothing import SmoothingBox
from .base import Panel, SessionHolder

MAX_POINTS = 1000  # per curve handed to setData; longer histories are min/max decimated
SMOOTHING = 0.6  # the batch loss's EMA weight at start (TensorBoard's default)
MIN_ACC_PANEL_PX = 235  # panel height below which the accuracy plot gives its room (222 px at 1280×720)
MIN_LOSS_PLOT_PX = 320  # the confusion matrices show only if the curves keep at least this width
# Counting the confusion matrices is one prediction over the whole train and test sets: on 100 000
# samples ~30 ms for a 2-8-8-3 net, ~380 ms for 64-64-64 (measured). Recounted at most every
# `slow_interval`, and spaced so that the counting takes at most `slow_share` of the GUI's time.
CONFUSION_INTERVAL = 0.25
CONFUSION_SHARE = 0.1


class LossPanel(Panel):
    """Loss curves with a log-y toggle, an accuracy plot for classification, and the current values."""

    title = "Loss"
    name = "loss"
    slow_interval = CONFUSION_INTERVAL
    slow_share = CONFUSION_SHARE

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self._kind: tuple | None = None  # (f along a path?, has accuracy): the layout built
        self.info = self.summary_label()
        self.log_check = QtWidgets.QCheckBox("log y")
        self.log_check.setChecked(True)  # losses fall over orders of magnitude
        self.log_check.setToolTip("Logarithmic loss axis: equal ratios look equal, so late progress stays visible")
        self.log_check.toggled.connect(self._set_log)
        self.smooth = SmoothingBox(SMOOTHING)
        self.smooth.changed.connect(self._smoothing_changed)

        self.loss_view = plot_widget()
        self.acc_view = plot_widget()
        self.loss_plot, self.acc_plot = self.loss_view.getPlotItem(), self.acc_view.getPlotItem()
        # "acc %": "accuracy (%)" was clipped, the plot is ~60 px tall at 1280x720
        apply_plot_style(self.acc_plot, "", "step", "acc %")
        self.acc_plot.setXLink(self.loss_plot)
        share_axis_width(self.loss_plot, self.acc_plot)
        self.acc_plot.setLimits(yMin=-2, yMax=102)
        # One legend, in a strip above the plots (inside them it covered the curves); the accuracy
        # plot repeats its convention (solid train, dashed test).
        self.legend = LegendStrip()
        self.batch_curve = self.loss_plot.plot()
        # a bare curve in view coordinates (log10 on a log axis): lighter than a PlotDataItem
        self.batch_smooth = pg.PlotCurveItem(connect="finite")
        self.loss_plot.addItem(self.batch_smooth)
        self.train_curve = self.loss_plot.plot()
        self.test_curve = self.loss_plot.plot()
        self.train_acc = self.acc_plot.plot()
        self.test_acc = self.acc_plot.plot()
        self._pen_curves()
        self.loss_hover = HoverReadout(self.loss_plot)
        self.acc_hover = HoverReadout(self.acc_plot)
        self.confusion = ConfusionView()
        self.confusion.setVisible(False)
        self.confusion_step: int | None = None  # the step the shown matrices were counted at
        self._confusion_cramped = False  # a classification whose matrices have no room
        self.edit_lines: list[pg.InfiniteLine] = []  # one per edit of the timeline, at its step
        self._cut_note = ""
        self._edits_shown: list | None = None

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.smooth, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.log_check, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.legend)
        plots = QtWidgets.QVBoxLayout()
        plots.setSpacing(2)
        plots.addWidget(self.loss_view, 3)
        plots.addWidget(self.acc_view, 2)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(4)
        row.addLayout(plots, 1)
        row.addWidget(self.confusion)
        lay.addLayout(row, 1)
        self.setMinimumSize(320, 170)
        self.loss_plot.setLogMode(y=True)
        self.reset()

    # ------------------------------------------------------------------ look
    def _pen_curves(self) -> None:
        th = self.th
        dash = QtCore.Qt.PenStyle.DashLine
        function = self._kind is not None and self._kind[0]
        # Greys and dashes, not hues: these series are not layers or signs, and they survive greyscale print.
        # On a landscape f is the only curve, so it is drawn as the main one.
        smoothed = not function and self.smooth.value() > 0
        # smoothed: the raw batch loss stays faint behind its moving average
        self.batch_curve.setPen(pg.mkPen(th.fg, width=2) if function else
                                pg.mkPen(faint(th.muted, 70 / 255, th) if smoothed else th.muted, width=1))
        self.batch_smooth.setPen(pg.mkPen(th.muted, width=1))
        self.smooth.setVisible(not function)
        self.train_curve.setPen(pg.mkPen(th.fg, width=2))
        self.test_curve.setPen(pg.mkPen(th.fg, width=2, style=dash))
        self.train_acc.setPen(pg.mkPen(th.fg, width=2))
        self.test_acc.setPen(pg.mkPen(th.fg, width=2, style=dash))
        if function:
            self.legend.set_entries([("f along the trajectory", self.batch_curve.opts["pen"])])
        else:
            batch = (("batch loss (faint: raw)", self.batch_smooth.opts["pen"]) if smoothed else
                     ("batch loss", self.batch_curve.opts["pen"]))
            self.legend.set_entries([batch,
                                     ("train (full set)", self.train_curve.opts["pen"]),
                                     ("test", self.test_curve.opts["pen"])])

    def retheme(self) -> None:
        self._pen_curves()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_accuracy()

    def _fit_accuracy(self) -> None:
        """The accuracy plot only where it has room: at 1280×720 it was ~30 px tall, its three tick
        labels stacked on one another (the header line still gives both accuracies). The confusion
        matrices likewise, where the curves keep MIN_LOSS_PLOT_PX of width beside them and the
        plots' height holds both matrices (the header line says when they are hidden)."""
        classify = self._kind is not None and self._kind[1]
        show = classify and self.height() >= MIN_ACC_PANEL_PX
        if show != self.acc_view.isVisibleTo(self):
            self.acc_view.setVisible(show)
            self.loss_plot.getAxis("bottom").showLabel(not show)
        if classify:
            k = self.session.data.info.n_classes
            room = self.height() - self.legend.geometry().bottom() - 6  # the plots' height
            fits = (self.width() - self.confusion.width() - 12 >= MIN_LOSS_PLOT_PX
                    and room >= self.confusion.needed_height(k))
        else:
            fits = False
        if self._confusion_cramped != (classify and not fits):
            self._confusion_cramped = classify and not fits
            self.info.setText(self._summary())
        if fits != self.confusion.isVisibleTo(self):
            self.confusion.setVisible(fits)
            if fits:  # count now, not at the next step (paused)
                self.make_due()
                self._count_confusion()

    # ------------------------------------------------------------------ structure
    def _mode(self) -> tuple[str, bool]:
        s = self.session
        classify = s.data is not None and s.data.info.kind == "classification"
        return s.problem.traces_path, classify

    def reset(self) -> None:
        mode = self._mode()
        if mode != self._kind:  # legend entries and the accuracy plot depend only on the task kind
            self._kind = mode
            self._fit_accuracy()
            self._pen_curves()
        for curve in (self.batch_curve, self.batch_smooth, self.train_curve, self.test_curve, self.train_acc,
                      self.test_acc):
            curve.setData([], [])
        self._edits_shown = None
        self.confusion.clear()
        self.confusion_step = None
        self._fit_accuracy()
        # the batch loss's averages, afresh for each run (a log axis averages log10)
        self._ema = {log: RunningEma(log, as_log10=True) for log in (False, True)}
        self._titles()
        self.loss_plot.enableAutoRange()
        super().reset()

    def _titles(self) -> None:
        s = self.session
        if s.problem.traces_path:
            shifted = self.log_check.isChecked() and s.landscape.fmin != 0
            # Unbounded surfaces (saddles) have no minimum: their f* is the lowest f in view.
            star = "f* = global min" if s.landscape.minima else "f* = lowest f in view"
            ylabel = f"f − f* ({star})" if shifted else "f(x, y)"
            title = f"Loss: {s.landscape.title}"
        else:
            ylabel, title = "loss", f"Loss ({s.loss_name})"  # (named in the title: "cross_entropy loss" was cut)
        apply_plot_style(self.loss_plot, title, "step", ylabel, self.th)
        # "step" is written once, under the lowest plot
        self.loss_plot.getAxis("bottom").showLabel(not self.acc_view.isVisibleTo(self))

    def _smoothing_changed(self, _weight: float) -> None:
        self._pen_curves()
        self.refresh()

    def _set_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self._titles()
        self.refresh()
        self.loss_plot.enableAutoRange()

    # ------------------------------------------------------------------ data
    @staticmethod
    def _curve(x: np.ndarray, y: np.ndarray, log: bool, points: int) -> tuple[np.ndarray, np.ndarray]:
        if log:
            x, y = positive(x, y)
        return decimate(x, y, points)

    def refresh(self) -> None:
        s = self.session
        log = self.log_check.isChecked()
        steps, loss = s.history.get_steps(), s.history.get("loss")
        if s.problem.traces_path and log:
            loss = loss - s.landscape.fmin  # a log axis needs f − f* > 0 (f itself may be negative)
        self.loss_hover.clear()
        # On a log axis values ≤ 0 cannot be drawn: say from which step the curve is cut (a saddle's
        # f falls below the lowest f in view, and the curve just stopped at step 55)
        with np.errstate(invalid="ignore"):
            cut = steps[~(loss > 0)] if log else steps[:0]
        self._cut_note = (f"the curve stops at step {int(cut[0]):,}: from there "
                          f"{'f − f* ≤ 0' if s.problem.traces_path else 'the loss is 0 or not finite'}, which a "
                          f"log axis cannot show (untick log y)") if len(cut) else ""
        points = curve_points(self.loss_plot, MAX_POINTS)  # (the accuracy plot is as wide)
        bx, by = self._curve(steps, loss, log, points)
        self.batch_curve.setData(bx, by)
        self.loss_hover.set("f" if s.problem.traces_path else "batch", bx, by, self.th.fg)
        weight = self.smooth.value() if s.problem.has_data else 0.0
        if weight > 0:
            sx, sy = thin(steps, self._ema[log](steps, loss, weight), points)
            self.batch_smooth.setData(sx, sy)
            with np.errstate(over="ignore"):  # (a log axis holds log10 of the average)
                self.loss_hover.set("batch (smoothed)", sx, 10.0 ** sy if log else sy, self.th.muted)
        else:
            self.batch_smooth.setData([], [])
        if s.problem.has_data:
            ev = s.evals
            es = ev.get_steps()
            for curve, col, name in ((self.train_curve, "train_loss", "train"), (self.test_curve, "test_loss", "test")):
                x, y = self._curve(es, ev.get(col), log, points)
                curve.setData(x, y)
                self.loss_hover.set(name, x, y, self.th.fg)
            if self._kind[1]:
                self.acc_hover.clear()
                for curve, col, name in ((self.train_acc, "train_acc", "train"), (self.test_acc, "test_acc", "test")):
                    x, y = decimate(es, 100.0 * ev.get(col), points)
                    curve.setData(x, y)
                    self.acc_hover.set(name + " %", x, y, self.th.fg)
                self._count_confusion()
        self._show_edits()
        self.info.setText(self._summary())

    def _count_confusion(self) -> None:
        """Recount the confusion matrices at the session's current parameters, if they are shown and
        due (the count is a prediction over both sets: see CONFUSION_SHARE)."""
        if not self.confusion.isVisibleTo(self) or not self.due():
            return
        s = self.session
        matrices = s.confusion()
        if matrices is None:
            return
        self.confusion.set_matrices(matrices, s.step)
        self.confusion_step = s.step
        self._fit_accuracy()  # larger counts make the matrices wider: do the curves keep their room?

    def _show_edits(self) -> None:
        """A dotted line at each edit's step (not restarts: their step 0 begins the run)."""
        entries = [e for e in self.session.timeline if not e.get("restart") and e["step"] > 0]
        if entries == self._edits_shown:
            return
        self._edits_shown = entries
        for line in self.edit_lines:
            self.loss_plot.removeItem(line)
        pen = pg.mkPen(self.th.muted, width=1, style=QtCore.Qt.PenStyle.DotLine)
        self.edit_lines = []
        for e in entries:
            line = pg.InfiniteLine(pos=e["step"], angle=90, pen=pen, movable=False)
            line.setToolTip(timeline.describe(e))
            line.setZValue(-5)  # under the curves
            self.loss_plot.addItem(line, ignoreBounds=True)
            self.edit_lines.append(line)
        self.loss_hover.marks = [(e["step"], "edit " + timeline.describe(e)) for e in entries]

    def _summary(self) -> str:
        s = self.session
        parts = [f"<b>step {s.step}</b>"]
        if s.problem.traces_path:
            parts.append(f"f(x, y) = {fmt(s.landscape.value(s.theta))} at "
                         f"({fmt(s.theta[0])}, {fmt(s.theta[1])})")
        else:
            last = s.history.last("loss")
            parts.append(f"batch {fmt(last) if last is not None else '–'}")
            if len(s.evals):
                ev = s.evals
                parts.append(f"train {fmt(ev.last('train_loss'))}")
                parts.append(f"test {fmt(ev.last('test_loss'))}")
                if self._kind[1]:
                    parts.append(f"accuracy {fmt(100 * ev.last('train_acc'))}% / "
                                 f"{fmt(100 * ev.last('test_acc'))}%")
                elif s.loss_name == "mse":  # regression scored as it is trained: RMSE and R², train / test
                    d = s.data
                    (tr, r2_tr), (te, r2_te) = (losses.regression_scores(ev.last(f"{k}_loss"), y)
                                                for k, y in (("train", d.y_train), ("test", d.y_test)))
                    parts.append(f"RMSE {fmt(tr)} / {fmt(te)} · R² {fmt(r2_tr)} / "
                                 f"{fmt(r2_te)}")
        if len(s.history) == 0:
            parts.append("no steps yet: train to draw the curve")
        if self._cut_note:
            parts.append(self._cut_note)
        if self._confusion_cramped:
            parts.append("confusion matrices hidden: enlarge the panel")
        return " · ".join(parts)  # a halt is said once, in the window's banner
