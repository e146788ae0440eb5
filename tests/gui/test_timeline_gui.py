"""The edit timeline in the window: a scripted edit applies while Play trains in the worker thread,
the Setup panel and the title say what the run is now, and the Loss panel marks the edit."""
import numpy as np
from PySide6 import QtCore

from gradplay.core import config
from gradplay.core.session import Session

RAW = {"meta": {"title": "Moons with a learning-rate drop"},
       "task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [5]},
       "optimizer": {"name": "adam", "lr": 0.05}, "training": {"batch_size": 12},
       "timeline": [{"step": 60, "optimizer.lr": 0.005}]}


def test_a_scripted_edit_applies_while_playing(qtbot, make_window):
    w = make_window(config.resolve(RAW))
    w.controller.set_speed(5)
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.controller.session.step > 80, timeout=20000)
    qtbot.mouseClick(w.transport.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.controller.playing)
    s = w.controller.session
    assert s.config["optimizer"]["lr"] == 0.005
    lr = s.history.get("lr")
    assert lr[59] == 0.05 and lr[60] == 0.005
    # the Setup panel shows the lr in force now
    setup = w.panels["setup"]
    assert setup.hyper.values()["lr"] == 0.005
    # the run that Play trained is the run the timeline describes, bit for bit
    replay = Session(s.run_config)
    replay.run(s.step)
    assert np.array_equal(replay.theta, s.theta)
    # the Loss panel marks the edit at its step, and hovering near it tells what changed
    loss = w.panels["loss"]
    loss.refresh()
    assert [line.value() for line in loss.edit_lines] == [60]
    _, text = loss.loss_hover.text_at(60)
    assert "step 60: optimizer.lr = 0.005" in text


def test_an_edit_in_the_app_is_recorded_and_titled(qtbot, make_window):
    w = make_window(config.resolve({k: v for k, v in RAW.items() if k != "timeline"}))
    w.controller.run_steps(30, frames=3)
    w.controller.apply_config(config.with_changes(w.controller.session.config, optimizer={"name": "sgd"}))
    w.controller.run_steps(10, frames=2)
    s = w.controller.session
    assert [e["step"] for e in s.timeline] == [30] and s.timeline[0]["origin"] == "app"
    header = w.panels["setup"].header
    assert header.title.text() == "based on Moons with a learning-rate drop"
    assert "step 30: optimizer.name = sgd" in header.title.toolTip()
    loss = w.panels["loss"]
    loss.refresh()
    assert [line.value() for line in loss.edit_lines] == [30]
