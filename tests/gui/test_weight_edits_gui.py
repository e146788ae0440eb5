"""Weights and biases set by hand in the window (issue 16): a click on a heatmap cell, an edge or a
neuron of the Weights dock opens a dialog; the typed value is in the model at once, on the run's
timeline, and a fresh session replaying that timeline ends with the same weights."""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from gradplay.core import config
from gradplay.core.session import Session

SPIRAL = {"seed": 5, "task": {"name": "spiral", "n_samples": 200}, "network": {"hidden": [5, 4]},
          "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10}}


def click_view(qtbot, view, plot, x: float, y: float) -> None:
    """A left click on the view point (x, y) of `plot`, shown in the graphics view `view`."""
    pos = view.mapFromScene(plot.vb.mapViewToScene(QtCore.QPointF(x, y)))
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)


def type_value(qtbot, editor, text: str) -> None:
    editor.field.selectAll()
    qtbot.keyClicks(editor.field, text)
    qtbot.keyClick(editor.field, QtCore.Qt.Key.Key_Return)


def test_a_heatmap_cell_set_by_hand_holds_and_replays(qtbot, make_window, play_past):
    w = make_window(SPIRAL)
    weights = w.panels["weights"]
    play_past(w, 20)
    s = w.controller.session
    step = s.step
    others = [W.copy() for W in s.model.W]
    moments = {k: np.copy(v) for k, v in s.optimizer.state_dict()["state"].items()}  # Adam: step, m, v
    # W2 is 5 × 4: click row 3, column 2 (from 0: [2, 1]) of its heatmap
    click_view(qtbot, weights.maps_view, weights.maps[1], 1.5, 2.5)
    editor = weights.editor
    assert editor is not None and editor.isVisible()
    assert editor.windowTitle() == "Set W2[3, 2]"
    assert float(editor.field.text()) == s.model.W[1][2, 1]  # it starts from the current value
    type_value(qtbot, editor, "1.75")
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert s.model.W[1][2, 1] == 1.75 and s.step == step
    others[1][2, 1] = 1.75
    for a, b in zip(s.model.W, others):
        np.testing.assert_array_equal(a, b)  # nothing else moved
    entries = [e for e in s.run_config["timeline"] if "params.W2[2,1]" in e]
    assert len(entries) == 1 and entries[0]["step"] == step and entries[0]["params.W2[2,1]"] == 1.75
    for k, v in s.optimizer.state_dict()["state"].items():  # kept, as torch keeps it after a no_grad write
        np.testing.assert_array_equal(v, moments[k])
    assert "W2[3, 2] set to 1.75" in weights.hover.text()
    # the evaluation shows the edited network, at the same step
    assert s.evals.steps[len(s.evals) - 1] == step
    assert s.evals.last("train_loss") == s.evaluate(record=False)["train_loss"]
    # training goes on from the edited value, and the run replays from its config alone
    play_past(w, step + 15)
    replay = Session(config.resolve(s.run_config))
    replay.run(s.step)
    for a, b in zip(replay.model.W, s.model.W):
        np.testing.assert_array_equal(a, b)


def test_a_neuron_click_sets_its_bias_and_bad_input_is_refused(qtbot, make_window):
    w = make_window(SPIRAL)
    weights = w.panels["weights"]
    s = w.controller.session
    qtbot.waitUntil(lambda: hasattr(weights, "cols") and len(weights.neurons.data) > 0)
    before = [b.copy() for b in s.model.b]
    # neuron 2 of hidden layer 1: column 1 of the diagram
    x, y = weights.xy[len(weights.cols[0]) + 1]  # xy lists the input column, then layer 1's neurons
    click_view(qtbot, weights.net_view, weights.net, x, y)
    editor = weights.editor
    assert editor is not None and editor.windowTitle() == "Set b1[2]"
    type_value(qtbot, editor, "abc")
    assert editor.isVisible() and "'abc' is not a number" in editor.error.text()
    type_value(qtbot, editor, "1e9")
    assert editor.isVisible() and "out of range" in editor.error.text()
    qtbot.waitUntil(lambda: editor.error.isVisible())
    # the two-line message has its own room: header, field and message do not overlap
    head, field, error = (x.geometry() for x in (editor.head, editor.field, editor.error))
    assert head.bottom() < field.top() and field.bottom() < error.top()
    assert error.height() >= 2 * editor.error.fontMetrics().height()
    for a, b in zip(s.model.b, before):
        np.testing.assert_array_equal(a, b)  # refused values changed nothing
    assert not any("params.b1[1]" in e for e in s.run_config.get("timeline", []))
    editor.field.setText("−0.5")  # the window's own minus sign, pasted from a label (keyClicks: ASCII only)
    qtbot.keyClick(editor.field, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert s.model.b[0][1] == -0.5


def test_an_edge_click_sets_its_weight(qtbot, make_window):
    w = make_window(SPIRAL)
    weights = w.panels["weights"]
    s = w.controller.session
    qtbot.waitUntil(lambda: hasattr(weights, "cols") and len(weights.neurons.data) > 0)
    # the edge from neuron 1 of layer 1 to neuron 3 of layer 2, clicked at 40 % of its way
    from gradplay.gui.docks.weights import COLUMN_GAP

    y0, y1 = weights.cols[1][0], weights.cols[2][2]
    x = COLUMN_GAP * 1.4
    y = y0 + 0.4 * (y1 - y0)
    assert weights._edge_at(x, y) == (1, 0, 2)  # the hit test the click uses
    click_view(qtbot, weights.net_view, weights.net, x, y)
    editor = weights.editor
    assert editor is not None and editor.windowTitle() == "Set W2[1, 3]"
    type_value(qtbot, editor, "-2")
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert s.model.W[1][0, 2] == -2.0
    # Esc closes a dialog without a change
    click_view(qtbot, weights.net_view, weights.net, x, y)
    editor = weights.editor
    editor.field.selectAll()
    qtbot.keyClicks(editor.field, "3")
    qtbot.keyClick(editor.field, QtCore.Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert s.model.W[1][0, 2] == -2.0
    assert isinstance(editor, QtWidgets.QDialog)


def test_diagram_names_neither_touch_nor_leave_the_view(qtbot, make_window):
    """At 1280×720 in Simple (a ~350-px Weights panel), 'layer 1 · 16' headers ran into each other and
    the four 'class k' names were cut at the view's right edge."""
    w = make_window({"task": {"name": "spiral", "classes": 4}, "network": {"hidden": [16, 16, 16]}})
    w.arrange("simple")
    w.resize(1280, 720)
    weights = w.panels["weights"]
    qtbot.waitUntil(lambda: weights.net_view.width() < 420 and len(weights.neurons.data) > 0)
    weights._resized()

    def rect(t):  # the label as drawn, in the view widget's pixels
        return weights.net_view.mapFromScene(t.sceneBoundingRect()).boundingRect()

    heads = [rect(t) for t in weights.headers]
    assert all(not a.intersects(b) for i, a in enumerate(heads) for b in heads[i + 1:])
    assert weights._head_lines == 2  # it had to wrap here
    view = weights.net_view.viewport().rect()
    outs = [rect(t) for t in weights.output_labels]
    assert len(outs) == 4 and all(view.contains(r) for r in outs)
    # a wide panel puts them back on one line
    w.resize(1900, 1000)
    qtbot.waitUntil(lambda: weights.net_view.width() > 450)
    weights._resized()
    assert weights._head_lines == 1
    heads = [rect(t) for t in weights.headers]
    assert all(not a.intersects(b) for i, a in enumerate(heads) for b in heads[i + 1:])
