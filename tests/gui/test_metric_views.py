"""The Loss dock's live confusion matrices, the Weights diagram's input-feature column and the
hover readouts of the loss and accuracy curves, in real windows trained by the real Play button and
trainer thread. Expected values come from the session (`Session.confusion`, its history and
evaluations, its config), never from the view.
"""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore
from PySide6.QtTest import QTest

from gradplay.core import config, features
from gradplay.core.session import Session
from gradplay.gui.docks import weights as weights_mod
from gradplay.gui.docks.loss import LossPanel
from gradplay.gui.number_format import fmt
from gradplay.gui.widgets.confusion import share_text

BLOBS3 = {"task": {"kind": "dataset", "name": "blobs", "classes": 3, "n_samples": 300},
          "network": {"hidden": [8]}, "loss": {"name": "cross_entropy"},
          "optimizer": {"name": "adam", "lr": 0.03}}
CIRCLES = {"task": {"kind": "dataset", "name": "circles", "n_samples": 200},
           "network": {"hidden": [6]}, "optimizer": {"name": "adam", "lr": 0.03}}


def fresh(raw: dict) -> Session:
    """The session of `raw` at step 0 (the seed fixes its initial weights)."""
    return Session(config.resolve(raw))


def shown(panel: LossPanel) -> dict[str, np.ndarray]:
    return panel.confusion.matrices


def assert_matches_session(panel: LossPanel, s) -> None:
    """The view holds the session's confusion matrices at the session's step, each summing to its set."""
    want = s.confusion()
    assert panel.confusion_step == s.step and panel.confusion.step == s.step
    for split, n in (("train", s.n_train), ("test", len(s.data.y_test))):
        np.testing.assert_array_equal(shown(panel)[split], want[split])
        assert shown(panel)[split].sum() == n


def test_confusion_matrices_follow_training_reset_and_presets(qtbot, make_window, play_past):
    w = make_window(BLOBS3)
    w.resize(1600, 1000)  # a Loss dock with room for the matrices beside the curves
    panel = w.panels["loss"]
    qtbot.waitUntil(lambda: panel.confusion.isVisible())
    s = w.controller.session
    assert panel.confusion_step == 0 and shown(panel)["train"].shape == (3, 3)
    assert_matches_session(panel, s)
    play_past(w, 60)  # Play, the trainer thread, Pause: the paused window draws the current step
    qtbot.waitUntil(lambda: panel.confusion_step == s.step)
    assert s.step > 60
    assert_matches_session(panel, s)
    assert not np.array_equal(shown(panel)["train"], fresh(BLOBS3).confusion()["train"])  # it learned
    assert f"confusion · step {s.step:,}" == panel.confusion._title()
    # a cell's tooltip says what it counts
    m = shown(panel)["test"]
    pos = panel.confusion.cell_center("test", 2, 0)
    assert panel.confusion.cell_at(pos) == ("test", 2, 0)
    row = int(m[2].sum())
    assert panel.confusion.tooltip_at(pos) == (f"test: true class 2 predicted as 0: {int(m[2, 0])} of {row} "
                                               f"({100 * m[2, 0] / row:.1f} %)")
    # Reset: back at step 0, the matrices of the initial weights
    w.transport.reset_action.trigger()
    qtbot.waitUntil(lambda: w.controller.session.step == 0 and panel.confusion_step == 0)
    assert_matches_session(panel, w.controller.session)
    np.testing.assert_array_equal(shown(panel)["train"], fresh(BLOBS3).confusion()["train"])
    # another preset: a binary classification (2 × 2), then a regression and a landscape (hidden)
    w.controller.load_preset("circles_relu")
    s = w.controller.session
    qtbot.waitUntil(lambda: panel.confusion.isVisible() and panel.confusion.matrices
                    and shown(panel)["train"].shape == (2, 2))
    assert_matches_session(panel, s)
    for preset in ("sine_regression", "rosenbrock_adam"):
        w.controller.load_preset(preset)
        qtbot.waitUntil(lambda: not panel.confusion.isVisible())
        assert w.controller.session.confusion() is None
        assert "confusion" not in panel.info.text()


def test_share_text_of_an_empty_class():
    m = np.array([[3, 1], [0, 0]])
    assert share_text(m, 0, 1) == "true class 0 predicted as 1: 1 of 4 (25.0 %)"
    assert share_text(m, 1, 0) == "true class 1 predicted as 0: 0 of 0 (no samples of this class)"


def loss_panel(qtbot, holder, s, size: tuple[int, int]) -> LossPanel:
    holder.session = s
    panel = LossPanel(holder)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_confusion_hides_when_the_panel_is_small_and_says_so(qtbot, holder, make_session):
    s = make_session(BLOBS3)
    s.run(20)
    panel = loss_panel(qtbot, holder, s, (420, 260))
    panel.refresh()
    assert not panel.confusion.isVisible()
    assert "confusion matrices hidden: enlarge the panel" in panel.info.text()
    panel.resize(900, 500)
    qtbot.waitUntil(lambda: panel.confusion.isVisible() and panel.confusion_step == 20)
    assert "confusion matrices hidden" not in panel.info.text()
    np.testing.assert_array_equal(shown(panel)["test"], s.confusion()["test"])
    # the curves keep their width beside the matrices
    assert panel.loss_view.width() >= 320


def test_confusion_recount_is_throttled_while_playing(qtbot, holder, make_session):
    """Counting is spaced by its measured cost: not due again right after a count (paused windows
    call make_due for an exact picture)."""
    s = make_session(BLOBS3)
    panel = loss_panel(qtbot, holder, s, (900, 500))
    panel.slow_interval = 60.0  # (a slow test machine must not make the next count due)
    qtbot.waitUntil(lambda: panel.confusion_step == 0)
    s.run(5)
    panel.timed_refresh()  # just counted when shown: not due yet
    assert panel.confusion_step == 0
    panel.make_due()
    panel.timed_refresh()
    assert panel.confusion_step == 5


def click_tile(qtbot, panel, name: str) -> None:
    rect = panel.map_rects[0][features.NAMES.index(name)]
    pos = panel.net_view.mapFromScene(panel.net.vb.mapViewToScene(rect.center()))
    qtbot.mouseClick(panel.net_view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)


def test_clicking_input_tiles_changes_the_networks_inputs(qtbot, make_window, play_past):
    w = make_window(CIRCLES)
    w.resize(1600, 1000)
    panel = w.panels["weights"]
    qtbot.waitUntil(lambda: panel.inputs_on and panel.map_grid is not None)
    assert len(panel.map_items[0]) == len(features.NAMES) == 9
    # used inputs bright, the others faded, labelled by their features
    assert [img.opacity() for img in panel.map_items[0]] == [1.0] * 2 + [weights_mod.FADED] * 7
    assert [t.toPlainText() for t in panel.input_labels] == [features.LABELS[n] for n in features.NAMES]
    play_past(w, 10)
    click_tile(qtbot, panel, "x1^2")
    s = w.controller.session
    qtbot.waitUntil(lambda: panel.inputs == ["x1", "x2", "x1^2"])
    assert s.inputs == ["x1", "x2", "x1^2"] and s.model.n_in == 3 and s.model.W[0].shape[0] == 3
    assert s.config["network"]["inputs"] == ["x1", "x2", "x1^2"]
    assert panel.map_items[0][2].opacity() == 1.0
    # the W1 heatmap's hover names the row by its feature
    plot = panel.maps[0]
    qtbot.waitUntil(lambda: panel.images[0].image is not None and panel.images[0].image.shape[0] == 3
                    and plot.vb.viewRange()[1][1] > 2.5)  # (the view range follows at the next paint)
    panel._hover_maps(plot.vb.mapViewToScene(QtCore.QPointF(0.5, 2.5)))
    assert panel.hover.text().startswith(f"W1[3, 1] = {fmt(s.model.W[0][2, 0])}  (weight from input x₁² to ")
    # edges of W1 leave the x₁² slot
    assert panel.in_slot.tolist() == [0, 1, 2]
    # hovering the tile names the feature and shows its map large in the Landscape panel
    rect = panel.map_rects[0][2]
    panel._hover_net(panel.net.vb.mapViewToScene(rect.center()))
    assert panel.hover.text() == "input x₁² · used: click to remove it"
    assert "x₁² over the input plane (hovered)" in w.panels["landscape"].plot.titleLabel.text
    panel._hover_net(panel.net.vb.mapViewToScene(panel.map_rects[0][3].center()))  # x₂², not used
    assert panel.hover.text() == "input x₂² · not used: click to add it"
    assert "(hovered)" not in w.panels["landscape"].plot.titleLabel.text
    # remove x₁ and x₂ (the network keeps x₁²), then the last one stays, with a message
    for name, left in (("x1", ["x2", "x1^2"]), ("x2", ["x1^2"])):
        click_tile(qtbot, panel, name)
        qtbot.waitUntil(lambda left=left: w.controller.session.inputs == left and panel.inputs == left)
    s = w.controller.session
    assert s.inputs == ["x1^2"] and s.model.n_in == 1 and s.model.W[0].shape == (1, 6)
    qtbot.waitUntil(lambda: panel.inputs == ["x1^2"])
    click_tile(qtbot, panel, "x1^2")
    qtbot.wait(50)
    assert w.controller.session.inputs == ["x1^2"]
    assert panel.hover.text().startswith("Cannot remove x₁²: the network needs at least one input")
    # the new network trains
    play_past(w, 5)
    assert w.controller.session.step > 5


def test_hovering_the_curves_reads_the_step_and_value(qtbot, make_window, play_past):
    w = make_window(BLOBS3)
    w.resize(1600, 1000)
    play_past(w, 40)
    panel = w.panels["loss"]
    s = w.controller.session
    qtbot.waitUntil(lambda: panel.info.text().startswith(f"<b>step {s.step}</b>"))
    steps, loss = s.history.get_steps(), s.history.get("loss")
    k = int(np.flatnonzero(steps == 25)[0])
    ev_steps = s.evals.get_steps()

    def hover(plot, view, x: float) -> None:
        qtbot.waitUntil(lambda: plot.vb.viewRange()[0][1] >= s.step - 1)  # (the range follows at the next paint)
        (_, _), (y0, y1) = plot.vb.viewRange()
        pos = view.mapFromScene(plot.vb.mapViewToScene(QtCore.QPointF(x, (y0 + y1) / 2)))
        qtbot.wait(60)  # pyqtgraph's scene drops mouse moves that come faster than its rate limit
        QTest.mouseMove(view.viewport(), pos)

    hover(panel.loss_plot, panel.loss_view, 25.0)
    qtbot.waitUntil(lambda: panel.loss_hover.text.isVisible())
    text = panel.loss_hover.text.toPlainText()
    assert text.startswith("step 25")
    assert f"batch: {fmt(loss[k])}" in text
    assert "batch (smoothed):" in text
    # the evaluations are recorded once per frame: the row says at which step its value is
    j = int(np.argmin(np.abs(ev_steps - 25)))
    train_at = fmt(s.evals.get("train_loss")[j])
    assert f"train: {train_at}" in text
    if ev_steps[j] != 25:
        assert f"(step {ev_steps[j]})" in text
    # the accuracy plot: the same step, the accuracy in %
    hover(panel.acc_plot, panel.acc_view, float(ev_steps[j]))
    qtbot.waitUntil(lambda: panel.acc_hover.text.isVisible())
    acc = panel.acc_hover.text.toPlainText()
    assert acc.startswith(f"step {ev_steps[j]}")
    assert f"train %: {fmt(100 * s.evals.get('train_acc')[j])}" in acc
    assert f"test %: {fmt(100 * s.evals.get('test_acc')[j])}" in acc
