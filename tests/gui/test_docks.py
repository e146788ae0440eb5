"""The plot panels: what their plot items hold after training, reset, clicks, bad numbers and paint.

Assertions read the data handed to pyqtgraph (getOriginalDataset, ImageItem.image/levels), so a
panel that builds widgets but plots the wrong thing fails.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from gradplay.gui.colors import class_index, layer_color
from gradplay.gui.decimate import decimate
from gradplay.gui.docks import gradients as gradients_mod
from gradplay.gui.docks import landscape as landscape_mod
from gradplay.gui.docks import weights as wm
from gradplay.gui.docks.gradients import GradientsPanel
from gradplay.gui.docks.landscape import LandscapePanel
from gradplay.gui.docks.loss import MAX_POINTS, LossPanel
from gradplay.gui.docks.weights import EDGE_CAP, FUNCTION_MESSAGE, WeightsPanel
from gradplay.gui.levels import symmetric_levels
from gradplay.gui.number_format import fmt
from gradplay.gui.plotting import plot_widget
from gradplay.gui.sticky_view import StickyViewBox
from gradplay.gui.theme import theme

ROSENBROCK = {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.05}}
QUADRATIC = {"task": {"kind": "function", "name": "quadratic"}, "optimizer": {"name": "sgd", "lr": 0.1}}
CIRCLES = {"task": {"kind": "dataset", "name": "circles", "n_samples": 200}, "network": {"hidden": [8, 8]},
           "optimizer": {"name": "adam", "lr": 0.03}}
PANELS = (LossPanel, LandscapePanel, WeightsPanel, GradientsPanel)


def circles(hidden: list[int], **extra) -> dict:
    return {**CIRCLES, "network": {"hidden": hidden}, **extra}


def train(session, steps: int, evals_every: int = 0) -> None:
    """Train like the window does: a slice of steps, then one evaluation per frame."""
    chunk = evals_every or steps
    for _ in range(steps // chunk):
        session.run(chunk)
        if evals_every:
            session.evaluate()


def make_panel(qtbot, cls, holder, session, size=(600, 400), show=False):
    holder.session = session
    panel = cls(holder)
    panel.slow_interval = 0.0  # throttled views redraw on every refresh in tests
    qtbot.addWidget(panel)
    panel.resize(*size)
    if show:
        panel.show()
        qtbot.waitExposed(panel)
    panel.reset()
    return panel


def ydata(curve) -> np.ndarray:
    """The values a curve was handed; a bare PlotCurveItem on a log axis holds their log10."""
    if isinstance(curve, pg.PlotCurveItem) and curve.getViewBox().state["logMode"][1]:
        return 10.0 ** np.asarray(curve.getData()[1])
    return np.asarray(curve.getOriginalDataset()[1])


# ------------------------------------------------------------------------------------------ loss
def test_loss_curves_equal_history_and_evals(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    train(s, 120, evals_every=10)
    panel = make_panel(qtbot, LossPanel, holder, s)
    panel.refresh()
    x, y = panel.batch_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, s.history.get_steps())
    np.testing.assert_allclose(y, s.history.get("loss"))
    assert len(y) == 120
    np.testing.assert_allclose(ydata(panel.test_curve), s.evals.get("test_loss"))
    np.testing.assert_allclose(ydata(panel.train_acc), 100 * s.evals.get("train_acc"))
    assert not panel.acc_view.isHidden()  # classification shows accuracy
    assert panel.loss_plot.ctrl.logYCheck.isChecked()
    assert "step 120" in panel.info.text()


def test_sticky_auto_range_moves_in_steps_and_only_when_needed(qtbot):
    view = plot_widget()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    curve = view.plot([0, 1], [0, 1])
    vb = view.getPlotItem().getViewBox()
    vb.set_moving(True)  # as while playing
    ranges = []
    for n in range(2, 400):  # a curve that grows by one point a frame, as a loss curve does
        x = np.arange(n, dtype=float)
        curve.setData(x, np.exp(-x / 50))
        vb.updateAutoRange()
        (x0, x1), (y0, y1) = vb.viewRange()
        assert x0 <= 0 and x1 >= n - 1 and y0 <= np.exp(-(n - 1) / 50) and y1 >= 1  # all data in view
        ranges.append((x0, x1))
    changes = sum(a != b for a, b in zip(ranges, ranges[1:]))
    assert changes <= 20  # ~log(n) times; pyqtgraph's own auto-range changes at every point
    curve.setData([0, 1], [0, 1])  # a reset: the range comes back down to the data
    vb.updateAutoRange()
    assert vb.viewRange()[0][1] < 5
    curve.setData(np.arange(1500.0), np.ones(1500))
    vb.set_moving(False)  # paused: a tight fit, no room for growth
    vb.updateAutoRange()
    assert vb.viewRange()[0][1] < 1600


def test_decimate_keeps_extremes_in_order():
    x = np.arange(10_001, dtype=float)
    y = np.sin(x / 300) + (x == 7777) * 5.0
    dx, dy = decimate(x, y, 500)
    assert len(dx) <= 500 and np.all(np.diff(dx) > 0)
    assert dy.max() == y.max() and dy.min() == y.min() and dx[0] == 0


@pytest.mark.parametrize("n", [10_001, 10_007, 12_345, 99_999])
def test_decimate_keeps_the_first_and_last_points(n):
    """The curve ends at the step shown: the last bucket's min and max may lie before its end."""
    x = np.arange(n, dtype=float)
    y = np.cos(x / 37.0) * (1 + (x % 11 == 0))  # the extremes of each bucket are inside it
    dx, dy = decimate(x, y, 1000)
    assert dx[0] == 0 and dx[-1] == n - 1 and dy[-1] == y[-1]
    assert np.all(np.diff(dx) > 0) and len(dx) <= 1002


def test_loss_decimates_long_history_but_keeps_spikes(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    n = 7000
    loss = np.linspace(1.0, 0.01, n)
    loss[4321] = 50.0  # a spike must survive decimation
    for k in range(n):
        s.history.append(k, loss=loss[k], lr=0.01, grad_norm=np.ones(3), weight_norm=np.ones(3),
                         update_ratio=np.ones(3))
    panel = make_panel(qtbot, LossPanel, holder, s)
    panel.refresh()
    x, y = panel.batch_curve.getOriginalDataset()
    assert len(y) <= MAX_POINTS
    assert y.max() == 50.0 and y.min() == pytest.approx(s.history.get("loss").min())
    assert np.all(np.diff(x) > 0)
    assert isinstance(panel.loss_plot.getViewBox(), StickyViewBox)


def test_loss_regression_and_landscape_hide_accuracy(qtbot, holder, make_session):
    panel = make_panel(qtbot, LossPanel, holder, make_session({"task": {"kind": "dataset", "name": "sine"}}))
    assert panel.acc_view.isHidden()
    holder.session = make_session(QUADRATIC)
    panel.reset()
    train(holder.session, 30)
    panel.refresh()
    assert panel.acc_view.isHidden()
    assert len(ydata(panel.batch_curve)) == 30  # f along the path (fmin = 0, log y still valid)


# ------------------------------------------------------------------------------------- gradients
def test_gradient_panel_has_one_curve_per_layer_equal_to_history(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    train(s, 60)
    panel = make_panel(qtbot, GradientsPanel, holder, s)
    panel.refresh()
    norms, ratios = s.history.get("grad_norm"), s.history.get("update_ratio")
    assert len(panel.norm_curves) == len(panel.ratio_curves) == len(panel.hist_curves) == 3
    # smoothed, the raw curves are the layer's colour faded over the background (alpha 35/255), drawn
    # opaque: Qt strokes a translucent antialiased pen ~10x slower
    fade = 35 / 255 if panel.smooth.value() > 0 else 1.0
    bg = pg.mkColor(panel.th.bg).getRgb()[:3]
    for i, curve in enumerate(panel.norm_curves):
        np.testing.assert_allclose(ydata(curve), norms[:, i])
        pen = curve.opts["pen"].color().getRgb()
        expect = [b + (c - b) * fade for c, b in zip(pg.mkColor(layer_color(i)).getRgb()[:3], bg)]
        assert pen[3] == 255 and np.allclose(pen[:3], expect, atol=1), (pen, expect)
    for i, curve in enumerate(panel.ratio_curves):
        np.testing.assert_allclose(ydata(curve), ratios[:, i])
    # Histogram: every layer's bins hold (up to its exact zeros) 100 % of its weights' gradients.
    for curve, rest in zip(panel.hist_curves, panel._rest):
        assert ydata(curve).sum() == pytest.approx(100 * (1 - rest))


def test_reset_after_switching_to_three_hidden_layers_gives_four_layers(qtbot, holder, make_session):
    grads = make_panel(qtbot, GradientsPanel, holder, make_session(CIRCLES))
    weights = make_panel(qtbot, WeightsPanel, holder, holder.session)
    holder.session = make_session(circles([8, 8, 8]))
    train(holder.session, 20)
    for panel in (grads, weights):
        panel.reset()
    assert len(grads.norm_curves) == 4
    for i, curve in enumerate(grads.norm_curves):
        np.testing.assert_allclose(ydata(curve), holder.session.history.get("grad_norm")[:, i])
    assert len(weights.images) == 4


def test_landscape_gradients_show_only_the_point_norm(qtbot, holder, make_session):
    s = make_session(QUADRATIC)
    panel = make_panel(qtbot, GradientsPanel, holder, s)
    train(s, 25)
    panel.refresh()
    assert len(panel.norm_curves) == 1 and not panel.ratio_curves and not panel.hist_curves
    assert panel.ratio_view.isHidden() and panel.hist_view.isHidden()
    np.testing.assert_allclose(ydata(panel.norm_curves[0]), np.ravel(s.history.get("grad_norm")))


def test_log_histograms_shared_bins():
    g = [np.array([[1e-6, -1e-5], [0.0, 2e-6]]), np.array([0.1, -0.3, 0.2])]
    edges, fracs, rest = gradients_mod.log_histograms(g, bins=10)
    assert len(edges) == 11 and all(len(f) == 10 for f in fracs)
    assert edges[0] == pytest.approx(1e-6) and edges[-1] == pytest.approx(0.3)
    assert fracs[0].sum() == pytest.approx(75.0) and rest[0] == pytest.approx(0.25)  # one exact zero
    assert fracs[1].sum() == pytest.approx(100.0)


# ------------------------------------------------------------------------------------- landscape
def drawn_surface(panel):
    """f evaluated afresh over the box the panel's map covers (its own view, and what the plot's
    shape adds around it), at the image's sample counts."""
    ny, nx = panel.img.image.shape[:2]
    box = panel.fill.drawn
    (x0, x1), (y0, y1) = panel.plot.vb.viewRange()
    assert box[0] <= x0 and box[1] >= x1 and box[2] <= y0 and box[3] >= y1  # no blank band
    return panel.session.landscape.grid(nx, ny, box)[2]


def test_landscape_image_is_f_on_the_grid_and_path_ends_at_theta(qtbot, holder, make_session):
    s = make_session(ROSENBROCK)
    panel = make_panel(qtbot, LandscapePanel, holder, s)
    train(s, 80)
    panel.refresh()
    land = s.landscape
    Z = drawn_surface(panel)
    assert land.log_color
    np.testing.assert_allclose(panel.img.image, np.clip(np.log1p(Z - land.fmin), *panel._surface_levels))
    x, y = panel.path.getData()
    assert len(x) == 81
    assert (x[-1], y[-1]) == pytest.approx(tuple(s.theta))
    assert (x[0], y[0]) == pytest.approx(tuple(s.config["task"]["start"]))
    # The arrow points downhill: along −∇f at the current point.
    ax, ay = panel.arrow_line.getData()
    d = np.array([ax[1] - ax[0], ay[1] - ay[0]])
    g = land.gradient(s.theta)
    assert np.dot(d, -g) / (np.linalg.norm(d) * np.linalg.norm(g)) == pytest.approx(1.0)
    assert len(panel.minima.data) == len(land.minima)
    assert land.formula in panel.plot.titleLabel.text


def test_landscape_without_log_colour_shows_f_itself(qtbot, holder, make_session):
    panel = make_panel(qtbot, LandscapePanel, holder, make_session(QUADRATIC))
    panel.refresh()
    Z = drawn_surface(panel)
    np.testing.assert_allclose(panel.img.image, np.clip(Z, *panel._surface_levels))
    x, _ = panel.path.getData()
    assert len(x) == 1  # step 0: the path is the start point


def test_clicking_the_landscape_moves_the_start(qtbot, holder, make_session):
    s = make_session(QUADRATIC)
    events = []
    s.subscribe(events.append)
    panel = make_panel(qtbot, LandscapePanel, holder, s, show=True)
    target = QtCore.QPointF(0.5, -0.75)
    scene_pos = panel.plot.vb.mapViewToScene(target)
    widget_pos = panel.view.mapFromScene(scene_pos)
    qtbot.mouseClick(panel.view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=widget_pos)
    px = panel.plot.vb.viewPixelSize()
    assert s.theta[0] == pytest.approx(0.5, abs=2 * px[0])
    assert s.theta[1] == pytest.approx(-0.75, abs=2 * px[1])
    assert s.step == 0 and events == ["reset"]
    assert panel.click_at(9.0, 0.0)  # outside the view: clamped to its edge
    assert tuple(s.theta) == (holder.session.landscape.xrange[1], 0.0)


def test_dataset_map_changes_with_training_and_has_symmetric_levels(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    panel = make_panel(qtbot, LandscapePanel, holder, s)
    panel.refresh()
    before = panel.img.image.copy()
    train(s, 150)
    panel.refresh()
    after = panel.img.image
    lo, hi = panel.img.levels
    assert lo == -hi == -1.0
    xs, ys, _ = panel._grid
    _, _, P = s.output_grid(len(xs), (xs[0], xs[-1], ys[0], ys[-1]), len(ys))
    np.testing.assert_allclose(after, 2 * P - 1)
    assert np.abs(after - before).max() > 0.1
    assert len(panel.train_pts.data) == len(s.data.x_train) and len(panel.test_pts.data) == len(s.data.x_test)


@pytest.mark.parametrize("raw", [
    {"task": {"kind": "dataset", "name": "sine"}, "network": {"hidden": [6]}},
    {"task": {"kind": "dataset", "name": "circles"}, "loss": {"name": "hinge"}, "network": {"hidden": [6]}},
    {"task": {"kind": "dataset", "name": "blobs3"}, "network": {"hidden": [6]}},
])
def test_dataset_map_for_other_losses(qtbot, holder, make_session, raw):
    s = make_session(raw)
    panel = make_panel(qtbot, LandscapePanel, holder, s)
    train(s, 20)
    panel.refresh()
    if s.loss_name == "cross_entropy":  # class colours blended with white by confidence
        assert panel.img.image.shape == (len(panel._grid[1]), len(panel._grid[0]), 3)
        assert min(panel.img.image.shape[:2]) >= landscape_mod.OUT_GRID
        assert "class 2" in panel.legend.text()
    else:
        lo, hi = panel.img.levels
        assert lo == -hi and hi >= np.abs(s.data.y_train).max()


# --------------------------------------------------------------------------------------- weights
def edge_points(panel: WeightsPanel) -> int:
    return sum(0 if c.getData()[0] is None else len(c.getData()[0]) for c in panel.edges)


def test_weight_heatmaps_hold_current_weights_with_shared_levels(qtbot, holder, make_session):
    s = make_session(circles([8, 8, 8]))
    train(s, 40)
    panel = make_panel(qtbot, WeightsPanel, holder, s)
    panel.refresh()
    m = s.model
    top = max(np.abs(a).max() for a in list(m.W) + list(m.b))
    assert len(panel.images) == 4
    for i, (img, W) in enumerate(zip(panel.images, m.W)):
        np.testing.assert_array_equal(img.image, W)
        assert tuple(img.levels) == pytest.approx((-top, top))
        assert f"W{i + 1} ({W.shape[0]}×{W.shape[1]})" in panel.maps[i].titleLabel.text
    # Diagram: every weight is one edge, drawn as a pair of points; neurons = 9 candidate inputs + 8·3 + 1.
    assert edge_points(panel) == 2 * sum(W.size for W in m.W)
    assert len(panel.neurons.data) == 9 + 24 + 1


def test_weights_diagram_caps_edges_of_wide_layers(qtbot, holder, make_session):
    s = make_session(circles([64, 64]))
    panel = make_panel(qtbot, WeightsPanel, holder, s)
    panel.refresh()
    assert panel.edge_cap == EDGE_CAP
    assert edge_points(panel) == 2 * (128 + EDGE_CAP + 64)  # W2 (4096 weights) shows only its strongest
    assert f"{EDGE_CAP} strongest edges of W2" in panel.info.text()
    holder.session = make_session(circles([64] * 8))
    panel.reset()
    assert panel.edge_cap * 9 <= 3000 and edge_points(panel) == 2 * (128 + 7 * panel.edge_cap + 64)


def test_weights_panel_explains_landscapes(qtbot, holder, make_session):
    panel = make_panel(qtbot, WeightsPanel, holder, make_session(ROSENBROCK))
    panel.refresh()
    assert panel.stack.currentWidget() is panel.message and panel.message.text() == FUNCTION_MESSAGE
    holder.session = make_session(CIRCLES)
    panel.reset()
    assert panel.stack.currentWidget() is panel.content and len(panel.images) == 3


# ------------------------------------------------------------------------------- robustness
def test_zero_hidden_layers(qtbot, holder, make_session):
    s = make_session(circles([]))
    panels = [make_panel(qtbot, cls, holder, s) for cls in PANELS]
    for p in panels:
        p.refresh()  # step 0, empty history
    train(s, 10)
    for p in panels:
        p.refresh()
    assert len(panels[3].norm_curves) == 1 and len(panels[2].images) == 1


def test_nan_and_inf_do_not_raise(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    train(s, 5, evals_every=5)
    bad = np.array([np.nan, np.inf, 0.0])
    for k, v in enumerate([np.nan, np.inf, -1.0, 0.0]):
        s.history.append(5 + k, loss=v, lr=0.01, grad_norm=bad, weight_norm=bad, update_ratio=bad)
    s.evals.append(9, train_loss=np.nan, test_loss=np.inf, train_acc=np.nan, test_acc=0.5)
    s.model.W[1][0, 0] = np.nan
    s.model.dW[0][0, 0] = np.inf
    for cls in PANELS:
        panel = make_panel(qtbot, cls, holder, s)
        panel.refresh()
    loss = make_panel(qtbot, LossPanel, holder, s)
    for log in (True, False):
        loss.log_check.setChecked(log)
        assert np.isfinite(ydata(loss.batch_curve)).all()


def test_empty_landscape_history(qtbot, holder, make_session):
    s = make_session(ROSENBROCK)
    for cls in PANELS:
        make_panel(qtbot, cls, holder, s).refresh()


# ------------------------------------------------------------------------------ paint and look
def _not_uniform(widget: QtWidgets.QWidget) -> bool:
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return len(np.unique(arr[:, : img.width() * 4].view(np.uint32))) > 20


@pytest.mark.parametrize("raw", [CIRCLES, QUADRATIC], ids=["dataset", "function"])
@pytest.mark.parametrize("cls", PANELS, ids=lambda c: c.name)
def test_every_panel_really_paints(qtbot, holder, make_session, cls, raw):
    s = make_session(raw)
    train(s, 30, evals_every=10)
    panel = make_panel(qtbot, cls, holder, s, size=(500, 350), show=True)
    panel.refresh()
    qtbot.wait(10)
    assert _not_uniform(panel)


def test_plots_follow_a_switch_to_a_dark_palette(qtbot, holder, make_session):
    app = QtWidgets.QApplication.instance()
    saved = app.palette()
    panels = [make_panel(qtbot, cls, holder, make_session(CIRCLES)) for cls in PANELS]
    try:
        dark = QtGui.QPalette(saved)
        dark.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("#202124"))
        dark.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor("#e8eaed"))
        app.setPalette(dark)
        app.processEvents()  # Qt posts the PaletteChange events
        assert theme().dark
        for panel in panels:  # already built in the light theme, recoloured live
            panel.refresh()
            for view in panel.findChildren(pg.GraphicsView):
                assert view.backgroundBrush().color().lightness() < 60
        loss = panels[0]
        assert loss.train_curve.opts["pen"].color().lightness() > 180  # light curves on dark
        assert make_panel(qtbot, LossPanel, holder, holder.session).th.dark
    finally:
        app.setPalette(saved)
        app.processEvents()


def test_style_helpers():
    assert fmt(0.000123456) == "0.000123" and fmt(-1234567) == "−1.23e6"
    assert fmt(math.nan) == "nan" and fmt(math.inf) == "∞"
    assert symmetric_levels(np.array([-0.5, 2.0, np.nan])) == (-2.0, 2.0)
    assert symmetric_levels(np.zeros(3))[1] > 0  # never a zero-width range
    x = np.arange(10_000)
    y = np.sin(x / 50.0)
    dx, dy = decimate(x, y, 1000)
    assert len(dx) <= 1000 and dy.max() == y.max() and dy.min() == y.min()
    assert layer_color(0) != layer_color(1)
    assert class_index(np.array([-1.0, 1.0])).tolist() == [0, 1]


def test_hover_readout_gives_exact_values(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    train(s, 20, evals_every=10)
    panel = make_panel(qtbot, LossPanel, holder, s)
    panel.refresh()
    step, html = panel.loss_hover.text_at(7.2)
    assert step == 7 and fmt(s.history.get("loss")[7]) in html


def test_switching_task_kind_back_and_forth(qtbot, holder, make_session):
    panels = [make_panel(qtbot, cls, holder, make_session(CIRCLES)) for cls in PANELS]
    for raw in (ROSENBROCK, CIRCLES, QUADRATIC):
        holder.session = make_session(raw)
        train(holder.session, 5, evals_every=5)
        for p in panels:
            p.reset()
            p.refresh()
    land = panels[1]
    assert land.plot.items.count(land.path) == 1 and land.bar in land.view.ci.items
    assert not land.legend.isVisibleTo(land)


def test_histogram_hover_names_each_layer(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    train(s, 10)
    panel = make_panel(qtbot, GradientsPanel, holder, s)
    panel.refresh()
    centre = float(np.median(np.abs(s.model.dW[1])))
    _, html = panel.hist_hover.text_at(centre)
    assert all(f"layer {i} %" in html for i in (1, 2, 3))


def test_mouse_hover_shows_exact_values(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    train(s, 20, evals_every=10)
    loss = make_panel(qtbot, LossPanel, holder, s, show=True)
    loss.refresh()
    qtbot.wait(20)  # let the view auto-range to the data before mapping coordinates
    vb = loss.loss_plot.vb
    loss.loss_hover._moved(vb.mapViewToScene(QtCore.QPointF(12, np.mean(vb.viewRange()[1]))))
    assert loss.loss_hover.text.isVisible() and loss.loss_hover.line.value() == 12

    weights = make_panel(qtbot, WeightsPanel, holder, s, show=True)
    weights.refresh()
    qtbot.wait(20)
    W = s.model.W[1]
    weights._hover_maps(weights.maps[1].vb.mapViewToScene(QtCore.QPointF(2.5, 1.5)))  # row 2, column 3
    assert weights.hover.text().startswith(f"W2[2, 3] = {fmt(W[1, 2])}")
    # the first hidden column's first neuron as drawn: its map (a short panel shows the strongest
    # neurons' maps in slots) or, without maps, its circle
    if weights.maps_on:
        at, unit = (wm.COLUMN_GAP, weights.map_slots[1][0]), int(weights.map_units[1][0])
    else:
        at, unit = tuple(weights.xy[2]), 0
    weights._hover_net(weights.net.vb.mapViewToScene(QtCore.QPointF(*at)))
    said = f"b1[{unit + 1}] = {fmt(s.model.b[0][unit])}  (bias of neuron {unit + 1} of layer 1)"
    assert weights.hover.text().startswith(said)

    land = make_panel(qtbot, LandscapePanel, holder, s, show=True)
    land.refresh()
    qtbot.wait(20)
    land._moved(land.plot.vb.mapViewToScene(QtCore.QPointF(0.0, 0.0)))
    assert "P(class 1) = " in land.hover.text()


def test_regression_reports_rmse_and_r2_computed_from_the_predictions(qtbot, holder, make_session):
    """Issue 16's metrics for regression: RMSE and R² (train / test) in the Loss panel's header,
    checked against the model's own predictions (independent of the loss code)."""
    s = make_session({"task": {"kind": "dataset", "name": "sine", "n_samples": 120}, "network": {"hidden": [8]},
                      "optimizer": {"name": "adam", "lr": 0.02}})
    s.run(200)
    s.evaluate()
    panel = make_panel(qtbot, LossPanel, holder, s)
    panel.refresh()
    parts = []
    for x, y in ((s.data.x_train, s.data.y_train), (s.data.x_test, s.data.y_test)):
        pred = s.model.predict(x).reshape(-1)
        y = y.reshape(-1)
        rmse = np.sqrt(np.mean((pred - y) ** 2))
        r2 = 1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)
        parts.append((rmse, r2))
    (a, b), (c, d) = parts
    assert f"RMSE {fmt(a)} / {fmt(c)} · R² {fmt(b)} / {fmt(d)}" in panel.info.text()
    assert 0 < b < 1  # it learned something, not everything
