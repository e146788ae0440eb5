"""A pace a person can watch: slow motion down to one step every half second with the step's batch
ringed on the map, and smoothed per-step curves with the raw ones faint behind."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from gradplay.core.smoothing import ema
from gradplay.gui.colors import layer_color
from gradplay.gui.widgets.transport import SPEEDS

MOONS = {"task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [6]},
         "optimizer": {"name": "sgd", "lr": 0.1}, "training": {"batch_size": 12}}


def test_slow_motion_takes_two_steps_a_second_and_rings_each_batch(qtbot, make_window):
    w = make_window(MOONS)
    w.transport.speed.setValue(0)  # the slider's left end
    assert w.transport.speed_label.text() == "2 steps/s · slow" and SPEEDS[0] < 1
    t0 = time.monotonic()
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.controller.session.step >= 3, timeout=5000)
    took = time.monotonic() - t0
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    assert 0.7 < took < 3.0, took  # steps 1 (at once), 2 and 3 at 0.5 s apart
    s = w.controller.session
    land = w.panels["landscape"]
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)  # one more step, by hand
    qtbot.waitUntil(lambda: len(land.batch_ring.data) == 12)
    np.testing.assert_array_equal(np.array([p.pos() for p in land.batch_ring.points()]).tolist(),
                                  s.data.x_train[s.last_batch].tolist())


def test_fast_play_rings_nothing(qtbot, make_window, play_past):
    w = make_window(MOONS)
    play_past(w, 200, speed=20)
    assert len(w.panels["landscape"].batch_ring.data) == 0


def test_smoothed_curves_follow_the_history_and_the_raw_stays_faint(qtbot, make_window, play_past):
    w = make_window(MOONS)
    play_past(w, 300, speed=20)
    loss, grads = w.panels["loss"], w.panels["gradients"]
    h = w.controller.session.history
    steps = h.get_steps()
    x, y = loss.batch_smooth.getData()  # in view coordinates: log10 on the logarithmic loss axis
    ref = ema(h.get("loss"), loss.smooth.value(), log=True)
    assert len(x) == len(steps) and np.allclose(10**y, ref, rtol=1e-9)
    # faint raw: drawn opaque, a quarter of the way from the background to the average's colour
    bg = np.array(pg.mkColor(loss.th.bg).getRgb()[:3])
    raw, avg = (np.array(c.opts["pen"].color().getRgb()) for c in (loss.batch_curve, loss.batch_smooth))
    assert raw[3] == 255 and np.abs(raw[:3] - bg).sum() < 0.35 * np.abs(avg[:3] - bg).sum()
    x, y = grads.norm_smooth[0].getData()
    ref = ema(h.get("grad_norm").reshape(len(h), -1)[:, 0], grads.smooth.value(), log=True)
    assert np.allclose(10**y, ref, rtol=1e-9)
    assert all(c.zValue() > r.zValue() for c in grads.norm_smooth for r in grads.norm_curves)
    grads.smooth.spin.setValue(0.0)  # off: raw curves at full strength, no averages
    assert grads.norm_curves[0].opts["pen"].color().name() == layer_color(0)
    assert all(c.getData()[0] is None or len(c.getData()[0]) == 0 for c in grads.norm_smooth)
