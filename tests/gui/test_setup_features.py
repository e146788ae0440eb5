"""The Setup dock's controls for input features, classes, per-layer activations and stop conditions,
used as a person would (clicks, typed numbers and Enter, combo choices); the assertions are on the
session the window trains and on what the panels show."""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from gradplay.gui.docks.setup import NO_EPOCHS, NOT_ON_LANDSCAPE

# 200 points, 20 % held out: 160 training samples in batches of 10, 16 steps an epoch
SPIRAL = {"seed": 3, "task": {"name": "spiral", "n_samples": 200}, "network": {"hidden": [6, 6]},
          "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10}}
QUADRATIC = {"task": {"kind": "function", "name": "quadratic"}, "optimizer": {"name": "sgd", "lr": 0.05}}


def click(qtbot, widget: QtWidgets.QWidget) -> None:
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton)


def type_into(qtbot, spin: QtWidgets.QAbstractSpinBox, text: str) -> None:
    """Replace a number field's text and press Enter (the fields apply on Enter, not per keystroke)."""
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Return)


def choose(combo: QtWidgets.QComboBox, text: str) -> None:
    i = combo.findText(text)
    assert i >= 0, text
    combo.setCurrentIndex(i)


def test_input_toggles_change_what_the_network_sees(qtbot, make_window, play_past):
    w = make_window(SPIRAL)
    inputs = w.panels["setup"].inputs
    s = w.controller.session
    assert s.model.n_in == 2 and [n for n, b in inputs.buttons.items() if b.isChecked()] == ["x1", "x2"]
    assert inputs.buttons["x1^2"].text() == "x₁²" and "squared" in inputs.buttons["x1^2"].toolTip()
    click(qtbot, inputs.buttons["sin(x2)"])
    click(qtbot, inputs.buttons["x1^2"])
    s = w.controller.session
    assert s.config["network"]["inputs"] == ["x1", "x2", "x1^2", "sin(x2)"]  # the canonical order
    assert s.model.n_in == 4 and s.model.W[0].shape[0] == 4
    for x, seen in ((s.data.x_train, s.inputs_train), (s.data.x_test, s.inputs_test)):
        np.testing.assert_array_equal(seen, np.column_stack([x[:, 0], x[:, 1], x[:, 0] ** 2, np.sin(x[:, 1])]))
    click(qtbot, inputs.buttons["x1"])  # off again
    assert s.config["network"]["inputs"] == ["x2", "x1^2", "sin(x2)"] and s.model.n_in == 3
    np.testing.assert_array_equal(s.inputs_train[:, 0], s.data.x_train[:, 1])
    # the Weights diagram names the inputs the network has, and the run trains on them
    weights = w.panels["weights"]  # all nine features stand in its input column; the used ones are lit
    labels = [t.textItem.toPlainText() for t, on in zip(weights.input_labels, weights.active) if on]
    assert labels == ["x₂", "x₁²", "sin x₂"]
    play_past(w, 5)
    assert np.isfinite(s.last_loss)


def test_the_last_input_cannot_be_turned_off(qtbot, make_window):
    w = make_window(dict(SPIRAL, network={"hidden": [6], "inputs": ["x1*x2"]}))
    setup = w.panels["setup"]
    s = w.controller.session
    before = s.config
    click(qtbot, setup.inputs.buttons["x1*x2"])
    assert setup.inputs.buttons["x1*x2"].isChecked()
    assert s.config is before and s.model.n_in == 1
    assert setup.error.isVisible() and "at least one input" in setup.error.text()
    click(qtbot, setup.inputs.buttons["x1"])  # another input first, then the first one may go
    assert not setup.error.isVisible() and s.config["network"]["inputs"] == ["x1", "x1*x2"]
    click(qtbot, setup.inputs.buttons["x1*x2"])
    assert s.config["network"]["inputs"] == ["x1"] and s.model.n_in == 1


def test_a_landscape_greys_out_the_inputs_and_what_has_no_epochs(make_window):
    w = make_window(QUADRATIC)
    setup = w.panels["setup"]
    assert not setup.inputs.isEnabled() and setup.network_box.toolTip() == NOT_ON_LANDSCAPE
    assert setup.max_steps.isEnabled() and setup.target_loss.isEnabled()
    for field in (setup.max_epochs, setup.patience, setup.min_delta, setup.restore_best):
        assert not field.isEnabled() and field.toolTip() == NO_EPOCHS
    assert setup.check_every.specialValueText() == "every step"
    setup.kind.setCurrentIndex(setup.kind.findData("dataset"))
    assert setup.inputs.isEnabled() and setup.patience.isEnabled() and "Early stopping" in setup.patience.toolTip()
    assert setup.check_every.specialValueText() == "each epoch"


def test_the_classes_field_sets_the_outputs_and_the_loss(qtbot, make_window):
    w = make_window(SPIRAL)
    setup = w.panels["setup"]
    s = w.controller.session
    assert setup.classes.isEnabled() and (setup.classes.minimum(), setup.classes.maximum()) == (2, 6)
    assert s.model.n_out == 1 and s.config["loss"]["name"] == "bce"
    type_into(qtbot, setup.classes, "4")
    assert s.config["task"]["classes"] == 4 and s.config["loss"]["name"] == "cross_entropy"
    assert s.model.n_out == 4 and set(np.unique(s.data.y_train)) == {0, 1, 2, 3}
    assert setup.loss.currentText() == "cross_entropy" and setup.loss.findText("bce") < 0
    # another set comes with its own number of classes, fixed unless it is spiral or blobs
    click(qtbot, setup.thumbs.buttons["circles"])
    # (cross-entropy fits two classes too, so it stays, with one output per class)
    assert s.config["task"]["classes"] == 2 and s.config["loss"]["name"] == "cross_entropy"
    assert s.model.n_out == 2
    assert not setup.classes.isEnabled() and setup.classes.value() == 2
    assert "own 2 classes" in setup.classes.toolTip()
    click(qtbot, setup.thumbs.buttons["blobs"])
    assert s.config["task"]["classes"] == 4 and s.model.n_out == 4
    assert (setup.classes.minimum(), setup.classes.maximum()) == (3, 6)
    type_into(qtbot, setup.classes, "6")
    assert s.model.n_out == 6 and set(np.unique(s.data.y_train)) == set(range(6))
    click(qtbot, setup.thumbs.buttons["sine"])
    assert not setup.classes.isEnabled() and setup.classes.text() == "none"


def test_an_activation_per_layer(qtbot, make_window):
    w = make_window(SPIRAL)  # two layers of tanh
    setup = w.panels["setup"]
    layers = setup.layers
    s = w.controller.session
    choose(layers.combos[1], "relu")
    assert list(s.model.activations) == ["tanh", "relu"] and s.config["network"]["activation"] == ["tanh", "relu"]
    assert setup.activation.currentIndex() == -1 and setup.activation.placeholderText() == "per layer"
    click(qtbot, layers.add_button)  # a new layer takes the last one's activation
    assert s.config["network"]["hidden"] == [6, 6, 6]
    assert list(s.model.activations) == ["tanh", "relu", "relu"] and layers.activations() == ["tanh", "relu", "relu"]
    click(qtbot, layers.remove_button)
    click(qtbot, layers.remove_button)  # one layer left: one name again
    assert s.config["network"]["activation"] == "tanh" and setup.activation.currentText() == "tanh"
    click(qtbot, layers.add_button)
    choose(layers.combos[0], "gelu")
    assert list(s.model.activations) == ["gelu", "tanh"]
    choose(setup.activation, "elu")  # the combo of every layer
    assert s.config["network"]["activation"] == "elu" and list(s.model.activations) == ["elu", "elu"]
    assert layers.activations() == ["elu", "elu"]


def test_a_step_limit_set_in_the_group_pauses_play_there(qtbot, make_window, play_past):
    w = make_window(SPIRAL)
    setup = w.panels["setup"]
    c = w.controller
    s = c.session
    assert not setup.stop_box.body.isVisible() and setup.stop_box.summary.text() == "off"
    click(qtbot, setup.stop_box.toggle)
    assert setup.stop_box.body.isVisible()
    play_past(w, 3)
    step, theta = s.step, s.theta.copy()
    type_into(qtbot, setup.max_steps, str(step + 37))
    # a stop condition is no edit of the run: the weights and the optimizer go on as they were
    assert s.config["stop"]["max_steps"] == step + 37 and s.step == step
    np.testing.assert_array_equal(s.theta, theta)
    assert setup.stop_box.summary.text() == f"step {step + 37}"
    setup.hyper.widget_for("lr").setValue(0.01)  # another edit keeps the stop conditions
    assert s.config["stop"]["max_steps"] == step + 37
    c.set_speed(8)
    c.play()
    qtbot.waitUntil(lambda: not c.playing, timeout=20_000)
    assert s.step == step + 37 and "step limit" in s.stopped
    assert w.banner.isVisible() and s.stopped in w.banner.text.text()


def test_early_stopping_set_in_the_group_pauses_at_the_best_check(qtbot, make_window):
    # lr 2 makes the test loss worsen early on, so patience 2 fires within a few epochs
    w = make_window(dict(SPIRAL, network={"hidden": [6]}, optimizer={"name": "sgd", "lr": 2.0}))
    setup = w.panels["setup"]
    c = w.controller
    s = c.session
    click(qtbot, setup.stop_box.toggle)  # the group opens
    assert not setup.min_delta.isEnabled() and not setup.restore_best.isEnabled()  # patience is off
    assert setup.check_every.text() == "each epoch"
    type_into(qtbot, setup.patience, "2")
    assert setup.min_delta.isEnabled() and setup.restore_best.isEnabled()
    click(qtbot, setup.restore_best)
    type_into(qtbot, setup.check_every, "8")
    assert s.config["stop"] == dict(s.config["stop"], patience=2, restore_best=True, check_every=8)
    c.set_speed(8)
    c.play()
    qtbot.waitUntil(lambda: not c.playing, timeout=20_000)
    assert s.stopped and "early stopping" in s.stopped and "rewound" in s.stopped
    assert s.step == s.stopper.best_step and s.step % 8 == 0
    assert s.stopped in w.banner.text.text()


def test_regenerate_draws_new_points_and_keeps_the_initial_weights(qtbot, make_window):
    w = make_window(SPIRAL)
    setup = w.panels["setup"]
    s = w.controller.session
    points, weights = s.data.x_train.copy(), [W.copy() for W in s.model.W]
    click(qtbot, setup.regenerate)
    s = w.controller.session
    seed = s.config["task"]["data_seed"]
    assert not np.array_equal(s.data.x_train, points) and s.step == 0
    for a, b in zip(s.model.W, weights):
        np.testing.assert_array_equal(a, b)
    # another setting of the set keeps the regenerated points' seed
    type_into(qtbot, setup.noise, "0.1")
    assert w.controller.session.config["task"]["data_seed"] == seed
    assert setup.n_samples.toolTip() == "Points drawn (training + test)"
