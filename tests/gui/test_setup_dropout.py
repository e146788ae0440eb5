"""The Setup dock's dropout field per hidden layer, used as a person would (typed numbers and Enter,
arrow steps, + layer); the assertions are on the session the window trains."""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from gradplay.core import config
from gradplay.core.session import Session

SPIRAL = {"seed": 3, "task": {"name": "spiral", "n_samples": 200}, "network": {"hidden": [6, 6]},
          "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10}}


def type_into(qtbot, spin: QtWidgets.QAbstractSpinBox, text: str) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Return)


def test_a_dropout_per_layer_reaches_the_session_and_evaluation_does_not_drop(qtbot, make_window):
    w = make_window(SPIRAL)
    layers = w.panels["setup"].layers
    s = w.controller.session
    assert layers.dropouts() == [0.0, 0.0] and layers.drops[0].text() == "p 0"
    assert "inverted dropout" in layers.drops[0].toolTip() and "does not drop" in layers.drops[0].toolTip()
    type_into(qtbot, layers.drops[1], "0.3")
    s = w.controller.session
    assert s.config["network"]["dropout"] == [0.0, 0.3] and s.model.dropout_p == (0.0, 0.3)
    for _ in range(6):
        layers.drops[0].stepUp()                    # six arrow steps of 0.05
    s = w.controller.session
    assert s.model.dropout_p[0] == layers.drops[0].value() and abs(s.model.dropout_p[0] - 0.3) < 1e-12
    qtbot.mouseClick(layers.add_button, QtCore.Qt.MouseButton.LeftButton)   # takes the last layer's p
    s = w.controller.session
    assert s.config["network"]["hidden"] == [6, 6, 6] and s.model.dropout_p[2] == 0.3

    w.controller.run_steps(20)
    assert s.step == 20
    # the window's run is the run of its config: the same masks, the same weights
    same = Session(config.resolve(s.config))
    same.run(20)
    assert np.array_equal(same.theta, s.theta)
    # evaluation drops nothing: deterministic, and what a network without dropout computes
    first = s.evaluate(record=False)
    assert s.evaluate(record=False) == first
    plain = Session(config.resolve({**s.config, "network": {**s.config["network"], "dropout": 0.0}}))
    plain.theta[:] = s.theta
    assert plain.evaluate(record=False) == first
    _, _, grid = s.output_grid(20)
    assert np.array_equal(grid, plain.output_grid(20)[2])


def test_a_config_above_the_arrows_range_is_shown_unclipped(qtbot, make_window):
    w = make_window({**SPIRAL, "network": {"hidden": [6, 6], "dropout": 0.97}})
    layers = w.panels["setup"].layers
    assert layers.dropouts() == [0.97, 0.97]
    w.panels["setup"].l2.setValue(0.001)          # another edit keeps it
    assert w.controller.session.config["network"]["dropout"] == 0.97
