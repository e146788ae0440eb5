"""Pictures and readouts show the current state: the throttled decision map is redrawn when
training pauses, and hover readouts of another run do not stay under a new one."""
import numpy as np
from PySide6 import QtCore

from gradplay.core import config

MOONS = {"task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [6]},
         "optimizer": {"name": "adam", "lr": 0.05}, "training": {"batch_size": 12}}


def test_pausing_draws_the_map_of_the_current_step(qtbot, make_window):
    w = make_window(config.resolve(MOONS))
    land = w.panels["landscape"]
    land.slow_interval = 60.0  # while playing, the map would wait a minute between redraws
    w.controller.set_speed(20)
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.controller.session.step > 200, timeout=20000)
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.controller.playing)
    xs, ys, shown = land._grid
    _, _, now = w.controller.session.output_grid(len(xs))
    assert np.array_equal(shown, now), "the map is the one of the paused step"
    weights = w.panels["weights"]
    assert f"step {w.controller.session.step}" in weights.info.text()


def test_a_single_step_while_paused_redraws_at_once(qtbot, make_window):
    w = make_window(config.resolve(MOONS))
    land = w.panels["landscape"]
    land.slow_interval = 60.0
    for _ in range(3):
        w.controller.run_steps(1)
        xs, _, shown = land._grid
        assert np.array_equal(shown, w.controller.session.output_grid(len(xs))[2])


def test_hover_readouts_of_another_run_are_cleared(make_window):
    w = make_window({"task": {"kind": "function", "name": "rosenbrock"}})
    land, weights = w.panels["landscape"], w.panels["weights"]
    land.hover.setText("(x, y) = (−1.01, −0.489) · f = 234")
    w.load_preset("circles_relu")
    assert "234" not in land.hover.text()
    weights.hover.setText("W1[2, 7] = −0.0977")
    w.load_preset("xor_relu")
    assert "W1[2, 7]" not in weights.hover.text()
