"""The Output (Landscape) panel's counter and loss curve, and its sampled drawing of large data sets.

Training goes through the real Play button and trainer thread; expected values come from the
session (its step, epoch, evaluations and history), never from the widgets under test.
"""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from gradplay.gui.colors import class_index
from gradplay.gui.number_format import fmt
from gradplay.gui.point_sample import MAX_TEST_DRAWN, MAX_TRAIN_DRAWN, priority, stratified_sample
from gradplay.gui.widgets.sparkline import MAX_POINTS, Sparkline
from tests.gui.test_own_data_gui import click_map

MOONS = {"task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [6]},
         "optimizer": {"name": "sgd", "lr": 0.1}, "training": {"batch_size": 12}}
ROSENBROCK = {"task": {"kind": "function", "name": "rosenbrock", "start": [-1.5, 2.0]},
              "optimizer": {"name": "adam", "lr": 0.05}}
# 20,000 points in three unequal-looking classes after the random train/test split
BIG = {"task": {"name": "spiral", "n_samples": 20000, "classes": 3, "test_fraction": 0.2},
       "network": {"hidden": [4]}, "loss": {"name": "cross_entropy"}, "training": {"batch_size": 10}}


def reset(qtbot, w) -> None:
    qtbot.mouseClick(w.transport.widgetForAction(w.transport.reset_action), QtCore.Qt.MouseButton.LeftButton)


def series(land) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {name: (x, y) for name, x, y, _ in land.sparkline.series}


def trained(qtbot, make_window, play_past, raw: dict, steps: int, speed: int):
    """A window on `raw` played past `steps` with the Play button; its Output panel, once it shows
    the paused session's step."""
    w = make_window(raw)
    land = w.panels["landscape"]
    play_past(w, steps, speed=speed)
    s = w.controller.session
    qtbot.waitUntil(lambda: land.counter.text("step") == f"{s.step:,}")
    return w, land, s


def test_counter_and_curve_show_the_sessions_step_and_losses_and_clear_on_reset(qtbot, make_window, play_past):
    w, land, s = trained(qtbot, make_window, play_past, MOONS, 150, speed=20)
    assert land.counter.text("epoch") == f"{s.epoch:,.1f}" and s.step > 150
    ev = s.evals
    assert 2 <= len(ev) <= MAX_POINTS  # short enough to be held undecimated
    lines = series(land)
    assert list(lines) == ["train", "test"]
    for name in lines:
        x, y = lines[name]
        np.testing.assert_array_equal(x, ev.get_steps())
        np.testing.assert_array_equal(y, ev.get(f"{name}_loss"))
    assert land.sparkline.labels() == [f"train {fmt(ev.last('train_loss'))}", f"test {fmt(ev.last('test_loss'))}"]
    assert land.sparkline.drawn()
    last_train = ev.last("train_loss")

    reset(qtbot, w)
    s = w.controller.session
    assert s.step == 0
    assert land.counter.text("step") == "0" and land.counter.text("epoch") == "0.0"
    assert not land.sparkline.drawn()  # one evaluation (step 0) is no line
    for name, (x, y) in series(land).items():
        np.testing.assert_array_equal(x, s.evals.get_steps())
        np.testing.assert_array_equal(y, s.evals.get(f"{name}_loss"))
        assert list(x) in ([], [0])
    # the numbers are the new run's step-0 losses, not the last run's
    assert land.sparkline.labels()[0] != f"train {fmt(last_train)}"


def test_a_landscape_counts_steps_and_draws_f_along_the_path(qtbot, make_window, play_past):
    w, land, s = trained(qtbot, make_window, play_past, ROSENBROCK, 60, speed=5)
    assert list(land.counter.values) == ["step"]
    (name, x, y, _), = land.sparkline.series
    assert name == "f" and len(x) <= MAX_POINTS + 1
    if len(s.history) + 1 <= MAX_POINTS:
        np.testing.assert_array_equal(x, np.append(s.history.get_steps(), s.step))
        np.testing.assert_array_equal(y[:-1], s.history.get("loss"))
    assert x[-1] == s.step and y[-1] == s.landscape.value(s.theta)  # the curve ends at the point
    reset(qtbot, w)
    assert land.counter.text("step") == "0" and not land.sparkline.drawn()
    assert land.sparkline.labels() == [f"f {fmt(w.controller.session.landscape.value(w.controller.session.theta))}"]


def test_a_long_series_is_decimated_keeping_its_extremes():
    line = Sparkline()
    x = np.arange(100_000)
    y = np.exp(-x / 20_000.0) + 0.01 * np.sin(x)
    y[54_321] = 5.0  # a spike
    line.set_series([("train", x, y, "#000000")])
    (_, dx, dy, _), = line.series
    assert len(dx) <= MAX_POINTS + 1 and dy.max() == 5.0 and dy.min() == y.min() and dx[-1] == x[-1]


def test_stratified_sample_keeps_class_shares_is_repeatable_and_keeps_small_sets_whole():
    rng = np.random.default_rng(5)
    labels = np.repeat([0, 1, 2], [9000, 900, 100])
    rng.shuffle(labels)
    points = rng.normal(size=(len(labels), 2))
    idx = stratified_sample(labels, 1000, priority(points))
    assert len(idx) == 1000 and len(np.unique(idx)) == 1000 and np.all(np.diff(idx) > 0)
    counts = np.bincount(labels[idx], minlength=3)
    np.testing.assert_allclose(counts, [900, 90, 10], atol=1)  # 9000:900:100 scaled to 1000
    np.testing.assert_array_equal(idx, stratified_sample(labels, 1000, priority(points.copy())))  # no flicker
    np.testing.assert_array_equal(stratified_sample(labels[:500], 1000, priority(points[:500])), np.arange(500))
    # a point more (own data edited): the points drawn before are drawn again, but for at most one
    more = np.vstack([points, [[0.1, 0.2]]])
    again = stratified_sample(np.append(labels, 0), 1000, priority(more))
    assert len(np.setdiff1d(idx, again)) <= 1


def test_the_priority_is_spread_evenly_over_a_grid():
    """Neighbouring coordinates (a grid, as own data drawn by clicks can be) get unrelated ranks:
    the lowest tenth of the ranks falls in every quarter of the grid, about a tenth of each."""
    g = np.linspace(-1, 1, 100)
    pts = np.array([(a, b) for a in g for b in g])
    low = priority(pts) < np.quantile(priority(pts).astype(float), 0.1)
    for qx in (pts[:, 0] < 0, pts[:, 0] >= 0):
        for qy in (pts[:, 1] < 0, pts[:, 1] >= 0):
            assert 0.07 < low[qx & qy].mean() < 0.13


def test_a_large_set_is_drawn_as_a_stratified_sample_and_the_note_says_so(qtbot, make_window):
    w = make_window(BIG)
    land = w.panels["landscape"]
    s = w.controller.session
    d = s.data
    n_tr, n_te = len(d.x_train), len(d.x_test)
    assert n_tr + n_te == 20000
    assert len(land.train_pts.data) == MAX_TRAIN_DRAWN and len(land.test_pts.data) == MAX_TEST_DRAWN
    note = land.info.text()
    assert f"showing {MAX_TRAIN_DRAWN:,} of {n_tr:,} training" in note
    assert f"{MAX_TEST_DRAWN:,} of {n_te:,} test" in note
    # the points drawn are real points, each class in its share of the set (to within one point)
    drawn = np.array([(p.pos().x(), p.pos().y()) for p in land.train_pts.points()])
    np.testing.assert_allclose(drawn, d.x_train[land.drawn_train], rtol=1e-6)
    for y, idx, cap in ((d.y_train, land.drawn_train, MAX_TRAIN_DRAWN), (d.y_test, land.drawn_test, MAX_TEST_DRAWN)):
        cls = class_index(y)
        share = np.bincount(cls[idx], minlength=3) / cap
        np.testing.assert_allclose(share, np.bincount(cls, minlength=3) / len(cls), atol=1.0 / cap)
    # the same points after a step and after a reset of the same data
    before = land.drawn_train.copy()
    qtbot.mouseClick(w.transport.widgetForAction(w.transport.step_action), QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.controller.session.step == 1)
    np.testing.assert_array_equal(land.drawn_train, before)
    # the step's batch is ringed whole, its points drawn in the sample or not
    ring = np.array([(p.pos().x(), p.pos().y()) for p in land.batch_ring.points()])
    np.testing.assert_allclose(ring, d.x_train[s.last_batch], rtol=1e-6)
    assert not np.isin(s.last_batch, land.drawn_train).all()
    reset(qtbot, w)
    np.testing.assert_array_equal(land.drawn_train, before)


def test_a_small_set_is_drawn_whole_without_a_note(qtbot, make_window):
    w = make_window(MOONS)
    land = w.panels["landscape"]
    d = w.controller.session.data
    assert len(land.train_pts.data) == len(d.x_train) and len(land.test_pts.data) == len(d.x_test)
    assert "showing" not in land.info.text()


def test_shift_click_removes_the_nearest_real_point_drawn_or_not(qtbot, make_window):
    g = np.linspace(-1, 1, 70)
    points = [[float(a), float(b), int(a * b > 0)] for a in g for b in g]  # 4,900: more than the cap
    w = make_window({"task": {"kind": "dataset", "name": "own", "points": points, "targets": "classes"},
                     "network": {"hidden": [4]}})
    land = w.panels["landscape"]
    d = w.controller.session.data
    assert len(d.x_train) > MAX_TRAIN_DRAWN
    hidden = np.setdiff1d(np.arange(len(d.x_train)), land.drawn_train)[0]
    px, py = d.x_train[hidden]
    qtbot.mouseClick(land.edit_points, QtCore.Qt.MouseButton.LeftButton)
    click_map(qtbot, land, px, py, modifier=QtCore.Qt.KeyboardModifier.ShiftModifier)
    s = w.controller.session
    assert s.config["task"]["n_samples"] == len(points) - 1
    x = np.concatenate([s.data.x_train, s.data.x_test])
    assert np.hypot(x[:, 0] - px, x[:, 1] - py).min() > 0.02  # that point (grid spacing 0.029) is gone


def test_an_empty_test_set_has_an_empty_sample():
    """test_fraction 0 (the GUI fuzz found it): the window opened with a ValueError from the reshape."""
    from gradplay.gui.point_sample import priority, stratified_sample

    none = np.zeros((0, 2))
    assert priority(none).shape == (0,)
    assert len(stratified_sample(np.zeros(0, dtype=int), 1000, priority(none))) == 0


def test_the_counter_keeps_its_width_as_digits_change(qtbot):
    """Its numbers only widen it: resized with each digit change, it moved its neighbours."""
    from gradplay.gui.widgets.counter import Counter

    c = Counter()
    qtbot.addWidget(c)
    c.set_captions(["epoch", "step"])
    c.show()
    widths = []
    for step in ("9,999", "10,000", "99,999", "100,000", "99,999", "1,000,000", "0"):
        c.set_values({"epoch": "1.0", "step": step})
        qtbot.wait(1)  # the layout request is handled
        widths.append(c.values["step"].parentWidget().width())
    assert widths == sorted(widths) and widths[-1] > widths[0]
    assert c.text("step") == "0"
