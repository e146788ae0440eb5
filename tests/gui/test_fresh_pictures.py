"""Pictures and readouts show the current state: the throttled decision map is redrawn when
training pauses, and hover readouts of another run do not stay under a new one."""
import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gradplay.core import config

MOONS = {"task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [6]},
         "optimizer": {"name": "adam", "lr": 0.05}, "training": {"batch_size": 12}}


def fresh_map(session, xs, ys):
    """The model's output evaluated now over the grid the panel drew."""
    return session.output_grid(len(xs), (xs[0], xs[-1], ys[0], ys[-1]), len(ys))[2]


def test_pausing_draws_the_map_of_the_current_step(make_window, play_past):
    w = make_window(config.resolve(MOONS))
    land = w.panels["landscape"]
    land.slow_interval = 60.0  # while playing, the map would wait a minute between redraws
    play_past(w, 200, speed=20)
    xs, ys, shown = land._grid
    assert np.array_equal(shown, fresh_map(w.controller.session, xs, ys)), "the map is the one of the paused step"
    weights = w.panels["weights"]
    assert f"step {w.controller.session.step}" in weights.info.text()


def test_a_single_step_while_paused_redraws_at_once(qtbot, make_window):
    w = make_window(config.resolve(MOONS))
    land = w.panels["landscape"]
    land.slow_interval = 60.0
    for _ in range(3):
        w.controller.run_steps(1)
        xs, ys, shown = land._grid
        assert np.array_equal(shown, fresh_map(w.controller.session, xs, ys))


def test_hover_readouts_of_another_run_are_cleared(make_window):
    w = make_window({"task": {"kind": "function", "name": "rosenbrock"}})
    land, weights = w.panels["landscape"], w.panels["weights"]
    land.hover.setText("(x, y) = (−1.01, −0.489) · f = 234")
    w.load_preset("circles_relu")
    assert "234" not in land.hover.text()
    weights.hover.setText("W1[2, 7] = −0.0977")
    w.load_preset("xor_relu")
    assert "W1[2, 7]" not in weights.hover.text()


# ----------------------------------------------------------------------------- divergence
def test_clip_path_cuts_segments_at_the_box():
    from gradplay.gui.docks.landscape import clip_path

    box = (-1.0, 1.0, -1.0, 1.0)
    x, y = np.array([0.0, 0.5, 0.25]), np.array([0.0, 0.5, -0.5])
    assert clip_path(x, y, box) == (x, y)  # all inside: untouched
    # a zig-zag that diverges: 0.5 -> -0.6 -> 0.72 ... along the diagonal, out to 50, then to 1e23
    x = np.array([0.5, -0.6, 0.72, -0.864, 50.0, -1e23])
    cx, cy = clip_path(x, -x, box)
    pieces = np.split(np.column_stack([cx, cy]), np.flatnonzero(np.isnan(cx)) + 1)
    pieces = [p[~np.isnan(p[:, 0])] for p in pieces if np.isfinite(p).any()]
    assert len(pieces) == 4, "the segment out to 1e23 and back is too far to place: left out"
    assert np.isfinite(np.concatenate(pieces)).all()
    last = pieces[-1]
    assert last[0, 0] == -0.864 and last[1] == pytest.approx([1.0, -1.0])  # cut where it leaves the box
    for (a, b), (p, q) in zip(zip(x[:-1], x[1:]), pieces):  # every piece lies on its own segment
        for px, py in (p, q):
            assert py == pytest.approx(-px) and min(a, b) - 1e-12 <= px <= max(a, b) + 1e-12


def test_a_diverging_path_stays_drawn(qtbot, make_window, recwarn):
    """lr_limit_above: once the point overflowed, the whole path vanished and the start marker
    became a white square; pyqtgraph printed overflow warnings."""
    from gradplay.presets import load_preset

    w = make_window(load_preset("lr_limit_above"))
    w.controller.run_steps(300, frames=3)
    land = w.panels["landscape"]
    x, y = land.path.getData()
    finite = np.isfinite(x) & np.isfinite(y)
    x0, x1, y0, y1 = land._box
    assert finite.sum() > 20 and (x[finite] >= x0).all() and (x[finite] <= x1).all()
    assert (y[finite] >= y0).all() and (y[finite] <= y1).all()
    assert len(land.start.data) == 1  # the start marker is still there
    assert len(land.point.data) == 0  # the point is far outside: no marker, no arrow
    w.grab()  # paint it all
    assert not [m for m in recwarn if "overflow" in str(m.message)]


def test_a_loss_curve_cut_by_the_log_axis_says_so(make_window):
    from gradplay.presets import load_preset

    w = make_window(load_preset("saddle_sgd"))
    w.controller.run_steps(200, frames=2)
    loss = w.panels["loss"]
    loss.refresh()
    assert "the curve stops at step" in loss.info.text() and "untick log y" in loss.info.text()
    loss.log_check.setChecked(False)
    assert "the curve stops" not in loss.info.text()


# ----------------------------------------------------------------------------- keys
def test_space_plays_after_enter_in_the_lr_field(qtbot, make_window):
    """After typing a learning rate and pressing Enter, Space replaced the value with a space."""
    w = make_window(config.resolve(MOONS), activate=True)
    field = w.panels["setup"].hyper.widget_for("lr")
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    field.lineEdit().selectAll()
    qtbot.keyClicks(field, "0.02")
    qtbot.keyClick(field, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not field.hasFocus())
    assert w.controller.session.config["optimizer"]["lr"] == 0.02  # Enter committed it
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: w.controller.playing)
    w.controller.pause()
    assert w.controller.session.config["optimizer"]["lr"] == 0.02  # and Space did not type into it


def test_axes_refit_on_reset_and_on_a_new_run(qtbot, make_window):
    """At step 0 the loss axis kept the last run's range (steps −162…162 and its losses)."""
    w = make_window("rosenbrock_gd")
    w.controller.run_steps(300, frames=5)
    loss, grads = w.panels["loss"], w.panels["gradients"]
    qtbot.waitUntil(lambda: loss.loss_plot.viewRange()[0][1] > 250)  # (ranges follow at the next paint)
    w.controller.reset()
    qtbot.wait(50)
    (x0, x1), (y0, y1) = loss.loss_plot.viewRange()
    assert (x0, x1) == (0.0, 1.0)  # no data at step 0: a neutral range, not the last run's
    w.load_preset("xor_relu")
    qtbot.wait(50)
    assert loss.acc_view.isVisible()  # (1280×800: room for the accuracy plot)
    for plot in (loss.loss_plot, loss.acc_plot):
        (x0, x1), _ = plot.viewRange()
        assert x0 <= 0 <= x1 and x1 - x0 <= 1.0  # the step-0 evaluation only
    views = grads.findChildren(type(loss.loss_view))
    assert len(views) >= 2
    for view in views:
        (x0, x1), _ = view.getPlotItem().viewRange()
        assert x1 <= 1.0, "the gradient plots refit too"


# ----------------------------------------------------------------------------- overlaps
def test_legends_sit_in_a_strip_of_their_own(make_window):
    """The Loss legend lay on the curves (worst at 1280×720), the Curvature legend hid λmax."""
    import pyqtgraph as pg

    w = make_window(config.resolve(MOONS))
    w.resize(1280, 720)
    w.controller.run_steps(300, frames=3)
    for name in ("loss", "curvature"):
        panel = w.panels[name]
        assert not [i for v in panel.findChildren(pg.GraphicsView) for i in v.scene().items()
                    if isinstance(i, pg.LegendItem)], f"no legend inside a {name} plot"
    loss = w.panels["loss"]
    assert loss.legend.names() == ["batch loss (faint: raw)", "train (full set)", "test"]
    legend_box = loss.legend.geometry()
    plot_box = loss.loss_view.geometry()
    assert legend_box.bottom() <= plot_box.top(), "the strip is above the plot, not on it"


def test_log_ticks_of_a_narrow_axis_do_not_run_together(make_window):
    """'Gradients now' read "1e−50.00010.001" on a narrow dock."""
    from PySide6 import QtGui

    w = make_window(config.resolve(MOONS))
    w.resize(1280, 720)
    w.controller.run_steps(300, frames=3)
    grads = w.panels["gradients"]
    grads.refresh()
    axis = grads.hist_plot.getAxis("bottom")
    lo, hi = sorted(axis.range)
    ticks = axis.tickValues(lo, hi, axis.width())
    values = [v for _, vs in ticks for v in vs]
    texts = [t for t in axis.logTickStrings(values, 1.0, 1.0) if t]
    fm = QtGui.QFontMetrics(axis.font())
    need = sum(fm.horizontalAdvance(t) + 6 for t in texts)
    assert texts and need <= axis.width(), (texts, axis.width())


# ----------------------------------------------------------------------------- the Presets menu
def test_presets_menu_is_grouped_in_teaching_order_with_the_current_one_checked(make_window):
    from gradplay.presets import menu_groups, preset_names

    groups = menu_groups()
    listed = [n for _, names in groups for n in names]
    assert sorted(listed) == sorted(preset_names()) and len(set(listed)) == len(listed)
    assert groups[0][0] == "Start here" and groups[0][1][0] == "spiral_tanh"
    stories = [names for heading, names in groups if heading.startswith("Stories")]
    for names in stories:  # each problem before its fix
        fixes = [i for i, n in enumerate(names) if "_fix_" in n]
        assert all(i > 0 for i in fixes)
    assert not [h for h, _ in groups if h == "More"], "every preset has a place in the menu"
    w = make_window("xor_relu")
    checked = [a.data() for a in w.preset_group.actions() if a.isChecked()]
    assert checked == ["xor_relu"]
    w.load_preset("vanish_fix_he_relu")
    assert [a.data() for a in w.preset_group.actions() if a.isChecked()] == ["vanish_fix_he_relu"]
    story_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Presets").actions()
    assert any(a.menu() is not None and a.text() == "Each problem, then its fix" for a in story_menu)


@pytest.mark.parametrize("raw", [MOONS, {"task": {"kind": "function", "name": "rosenbrock"}}])
def test_the_map_fills_the_plot_with_no_blank_bands(make_window, raw):
    """The map was a square inside a wide plot, with blank bands beside it (x axis −2.5…2.5 around a
    −1.5…1.5 map). Now the drawn image covers the whole visible range, also after a resize."""
    w = make_window(raw)
    land = w.panels["landscape"]
    for size in ((1280, 720), (1600, 1000), (1000, 900)):
        w.resize(*size)
        QtWidgets.QApplication.processEvents()
        (vx0, vx1), (vy0, vy1) = land.plot.vb.viewRange()
        r = land.img.mapRectToView(land.img.boundingRect())
        assert r.left() <= vx0 + 1e-9 and r.right() >= vx1 - 1e-9, (size, (vx0, vx1), (r.left(), r.right()))
        assert r.top() <= vy0 + 1e-9 and r.bottom() >= vy1 - 1e-9, (size, (vy0, vy1), (r.top(), r.bottom()))


@pytest.mark.parametrize("preset", ["explode_large_init", "lr_limit_above", "saddle_sgd"])
def test_divergence_is_drawn_without_a_warning_or_an_unbounded_value(make_window, preset):
    """pyqtgraph printed 'RuntimeWarning: overflow' to the terminal when an overflowed output (inf)
    met the map's rescale; every image now holds finite values within its levels."""
    import warnings

    w = make_window(preset)
    w.controller.run_steps(4000, frames=20)
    w.reset_panels()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in w.docks:  # bring each panel to the front and paint it
            w.docks[name].show()
            w.docks[name].raise_()
            QtWidgets.QApplication.processEvents()
            w.panels[name].grab()
    assert not [c for c in caught if "pyqtgraph" in c.filename], [str(c.message) for c in caught]
    land = w.panels["landscape"]
    img, levels = land.img.image, land.img.levels
    assert np.isfinite(img).all()
    if img.ndim == 2 and levels is not None:
        assert levels[0] <= img.min() and img.max() <= levels[1]


def _left_axes(panel):
    from pyqtgraph import PlotItem

    for view in panel.findChildren(QtWidgets.QGraphicsView):
        for item in view.scene().items():
            if isinstance(item, PlotItem) and item.isVisible() and item.getAxis("left").isVisible():
                yield item.getAxis("left")


def test_tick_labels_never_overwrite_an_axis_title_after_divergence(make_window):
    """On lr_limit_above the loss axis reached "1e300" and its tick labels overwrote "f(x, y)"."""
    from PySide6 import QtGui

    w = make_window("lr_limit_above")
    w.controller.run_steps(4000, frames=20)
    w.reset_panels()
    QtWidgets.QApplication.processEvents()
    checked = 0
    for name in ("loss", "gradients"):
        panel = w.panels[name]
        for _ in range(2):  # paint: the axes size themselves to their labels, then lay out again
            panel.grab()
            QtWidgets.QApplication.processEvents()
        for axis in _left_axes(panel):
            if not axis.label.isVisible() or not axis.label.toPlainText():
                continue
            # the image is held by a name for as long as the painter paints on it: a temporary one
            # was freed under the painter, which crashed the interpreter in one CI run of two
            image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
            painter = QtGui.QPainter(image)
            _, _, texts = axis.generateDrawSpecs(painter)
            painter.end()
            # glyph extents: the title's rotated box less its document margin, each label's text
            # right-aligned in its box
            title = axis.label.mapRectToParent(axis.label.boundingRect())
            title_right = title.right() - axis.label.document().documentMargin()
            metrics = QtGui.QFontMetricsF(axis.style.get("tickFont") or axis.font())
            for rect, _, text in texts:
                left = rect.right() - metrics.horizontalAdvance(text)
                assert left >= title_right, (name, text, left, title_right, axis.label.toPlainText())
            checked += 1
    assert checked >= 2


def test_test_data_and_discretize_toggles(qtbot, make_window):
    """TF Playground's toggles: hide the test points; colour by the predicted side of the boundary."""
    w = make_window(MOONS)
    w.controller.run_steps(100)
    land = w.panels["landscape"]
    qtbot.mouseClick(land.show_test, QtCore.Qt.MouseButton.LeftButton)
    assert not land.test_pts.isVisible() and land.train_pts.isVisible()
    qtbot.mouseClick(land.discretize, QtCore.Qt.MouseButton.LeftButton)
    xs, ys, P = land._grid
    expected = np.where(fresh_map(w.controller.session, xs, ys) > 0.5, 1.0, -1.0)
    np.testing.assert_array_equal(land.img.image, expected)
    w.load_preset("rosenbrock_gd")  # a landscape: no data, no toggles
    assert not land.toggles.isVisible()


def test_axis_labels_stand_apart_in_a_fresh_window(make_window):
    """In a real window at step 0 the short plots' left axes were labelled at every tick ("0.0004 …
    0.002" in 100 px, "42 … 50" in 60 px), one label on another: the axis' own log ticks had been
    lost from the class. Every drawn label is now a text line from the next, on every left axis."""
    from PySide6 import QtGui

    w = make_window("spiral_tanh")
    QtWidgets.QApplication.processEvents()
    checked = 0
    for name in ("gradients", "loss"):
        panel = w.panels[name]
        panel.grab()
        for axis in _left_axes(panel):
            # the image is held by a name for as long as the painter paints on it: a temporary one
            # was freed under the painter, which crashed the interpreter in one CI run of two
            image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
            painter = QtGui.QPainter(image)
            _, _, texts = axis.generateDrawSpecs(painter)
            painter.end()
            line = QtGui.QFontMetricsF(axis.style.get("tickFont") or axis.font()).height()
            centres = sorted(r.center().y() for r, _, _ in texts)
            assert all(b - a >= line for a, b in zip(centres, centres[1:])), (name, [t for _, _, t in texts])
            checked += 1
    assert checked >= 3
