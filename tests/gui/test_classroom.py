"""Classroom mode in the real window: View → Classroom mode… hides the ticked controls without
touching the run, and a setup with `[classroom]` opened from a file, a paste or a preset hides
them too; one without it brings them back."""
import numpy as np
from PySide6 import QtCore, QtWidgets

from gradplay.core import config, share

SMALL = {"task": {"name": "spiral", "n_samples": 80}, "network": {"hidden": [4]}}
LEFT = QtCore.Qt.MouseButton.LeftButton


def _action(menu: QtWidgets.QMenu, text: str):
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def _open_dialog(qtbot, w):
    _action(w.view_menu, "Classroom mode…").trigger()
    dialog = w.classroom.dialog
    qtbot.waitExposed(dialog)
    return dialog


def _tick(qtbot, dialog, *names):
    for name in names:
        box = dialog.boxes[name]
        qtbot.mouseClick(box, LEFT, pos=QtCore.QPoint(8, box.height() // 2))  # on the tick box itself
        assert dialog.boxes[name].isChecked()


def _hidden_things(w):
    """Each hideable control of the window -> whether it is on screen (the real widgets)."""
    setup = w.panels["setup"]
    return {
        "optimizer": setup.optimizer.isVisible(),
        "hyperparameters": setup.hyper.isVisible(),
        "optimizer group": setup.optimizer.parentWidget().isVisible(),
        "seed": setup.seed.isVisible(),
        "l2": setup.l2.isVisible(),
        "network": setup.network_box.isVisible(),
        "gradients": w.docks["gradients"].isVisible(),
        "gradients in View": w.docks["gradients"].toggleViewAction().isVisible(),
        "presets": w.presets_menu.menuAction().isVisible(),
        "open": w.files.open_action.isVisible(),
        "paste": w.paste_action.isVisible(),
        "mark": w.classroom.mark.isVisible(),
    }


def test_the_dialog_hides_the_ticked_controls_and_keeps_the_run(qtbot, make_window, play_past):
    w = make_window(SMALL)
    assert not w.classroom.mark.isVisible() and w.panels["setup"].optimizer.isVisible()
    play_past(w, 5)
    s = w.controller.session
    step, theta, optimizer = s.step, s.theta.copy(), s.optimizer
    dialog = _open_dialog(qtbot, w)
    _tick(qtbot, dialog, "optimizer", "hyperparameters", "seed", "gradients", "presets", "open")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert w.controller.session is s and s.step == step and s.optimizer is optimizer  # not restarted
    np.testing.assert_array_equal(s.theta, theta)
    assert s.config["classroom"] == {"hide": ["optimizer", "hyperparameters", "seed", "gradients", "presets",
                                              "open"], "locked": False}
    assert _hidden_things(w) == {
        "optimizer": False, "hyperparameters": False, "optimizer group": False,  # no empty titled frame
        "seed": False, "l2": True, "network": True, "gradients": False, "gradients in View": False,
        "presets": False, "open": False, "paste": False, "mark": True}
    assert "the Gradients panel" in w.classroom.mark.toolTip()
    # the Setup form still edits the run, and classroom mode stays
    w.panels["setup"].l2.setValue(0.01)
    assert s.config["training"]["l2"] == 0.01 and s.config["classroom"]["hide"][0] == "optimizer"
    assert not w.panels["setup"].optimizer.isVisible()
    # Show everything: the same dialog turns it off
    dialog = _open_dialog(qtbot, w)
    qtbot.mouseClick(dialog.show_all, LEFT)
    assert s.config["classroom"] == {"hide": [], "locked": False} and s.step == step
    assert all(_hidden_things(w)[k] for k in _hidden_things(w) if k != "mark")
    assert not w.classroom.mark.isVisible()


def test_a_locked_exercise_needs_the_teachers_confirmation(qtbot, make_window, monkeypatch):
    w = make_window({**SMALL, "classroom": {"hide": ["network", "race"], "locked": True}})
    assert not w.panels["setup"].network_box.isVisible() and w.classroom.mark.text() == "Classroom (locked)"
    dialog = _open_dialog(qtbot, w)
    assert dialog.unlock_button.isVisible()
    assert not dialog.show_all.isEnabled() and not dialog.boxes["network"].isEnabled()
    answers = [QtWidgets.QMessageBox.StandardButton.No, QtWidgets.QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: answers.pop(0))
    qtbot.mouseClick(dialog.unlock_button, LEFT)  # a student says No: still locked
    assert not dialog.show_all.isEnabled()
    qtbot.mouseClick(dialog.unlock_button, LEFT)
    assert dialog.show_all.isEnabled() and dialog.boxes["network"].isEnabled()
    qtbot.mouseClick(dialog.show_all, LEFT)
    assert w.panels["setup"].network_box.isVisible() and w.controller.session.config["classroom"]["locked"] is False


def test_a_file_with_classroom_hides_and_one_without_brings_back(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window("spiral_tanh", activate=True)
    exercise = config.resolve({**SMALL, "classroom": {"hide": ["optimizer", "hyperparameters", "race",
                                                               "edit_points", "training", "schedule", "seed"]}})
    path = tmp_path / "exercise.toml"
    path.write_text(config.dumps(exercise))
    picked = [str(path)]
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (picked[0], ""))
    w.files.open_action.trigger()  # File → Open…
    setup = w.panels["setup"]
    assert w.controller.session.config["classroom"]["hide"] == exercise["classroom"]["hide"]
    training_group = setup.l1.parentWidget().parentWidget()
    assert not setup.optimizer.isVisible() and not training_group.isVisible()  # every row of it hidden
    assert not w.docks["race"].isVisible() and not w.panels["landscape"].edit_points.isVisible()
    assert w.panels["landscape"].show_test.isVisible() and setup.network_box.isVisible()
    # a setup without [classroom]: everything back, through Paste setup
    QtWidgets.QApplication.clipboard().setText(share.text(config.resolve(SMALL)))
    w.paste_action.trigger()
    assert w.controller.session.config["classroom"]["hide"] == []
    assert setup.optimizer.isVisible() and training_group.isVisible()
    assert w.docks["race"].toggleViewAction().isVisible() and w.panels["landscape"].edit_points.isVisible()
    # and the saved layout kept the race where it was (a tab behind the landscape)
    assert not w.docks["race"].isHidden()


def test_a_preset_or_paste_with_classroom_hides_and_the_simple_layout_keeps_its_choice(qtbot, make_window):
    w = make_window(SMALL)
    _action(w.view_menu, "Simple layout").trigger()
    assert w.docks["gradients"].isHidden()  # the Simple layout closes the deep panels
    QtWidgets.QApplication.clipboard().setText(share.link(config.resolve(
        {**SMALL, "classroom": {"hide": ["gradients", "stop", "pictures"]}})))
    w.paste_action.trigger()
    setup = w.panels["setup"]
    assert not setup.stop_box.isVisible() and not setup.thumbs.isVisible() and setup.task_name.isVisible()
    assert not w.docks["gradients"].toggleViewAction().isVisible()
    _action(w.view_menu, "Full layout").trigger()  # every dock the layout has, but the hidden one
    assert not w.docks["gradients"].isVisible() and w.docks["diagnostics"].toggleViewAction().isVisible()
    w.load_preset("xor_relu")  # a preset without [classroom]: the gradients come back (Full shows them)
    assert not w.docks["gradients"].isHidden() and setup.stop_box.isVisible() and setup.thumbs.isVisible()


def test_hidden_network_and_task_cannot_be_changed_from_the_diagram_or_the_map(qtbot, make_window):
    """The Weights diagram's ± buttons, input tiles and click-to-set, and a landscape's click-to-start,
    change what Setup shows: hidden from students, they are shut too."""
    w = make_window(dict(SMALL, classroom={"hide": ["network"]}))
    weights = w.panels["weights"]
    s = w.controller.session
    qtbot.waitUntil(lambda: hasattr(weights, "cols") and len(weights.neurons.data) > 0)
    weights.refresh()
    assert not weights.buttons.row.isVisible()
    assert not any(b.isVisible() for pair in weights.buttons.columns for b in pair)
    inputs, b = list(s.inputs), s.model.b[0].copy()
    for x, y in (weights.xy[2], weights.xy[len(weights.cols[0])]):  # the x₁² tile, a hidden neuron
        pos = weights.net_view.mapFromScene(weights.net.vb.mapViewToScene(QtCore.QPointF(x, y)))
        qtbot.mouseClick(weights.net_view.viewport(), LEFT, pos=pos)
    assert weights.editor is None and list(w.controller.session.inputs) == inputs
    np.testing.assert_array_equal(w.controller.session.model.b[0], b)

    land = make_window({"task": {"kind": "function", "name": "quadratic"}, "classroom": {"hide": ["task"]}})
    start = list(land.controller.session.theta)
    assert not land.panels["landscape"].click_at(0.5, 0.5)
    assert list(land.controller.session.theta) == start
