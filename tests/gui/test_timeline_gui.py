"""The truth of an edited run in the window: a scripted edit applies while Play trains in the worker
thread, the Setup panel and the title say what the run is now, the Loss panel marks the edit; and
an unsaved run is never dropped without asking."""
import numpy as np
import pytest
from PySide6 import QtWidgets

from gradplay.core import config
from gradplay.core.session import Session

RAW = {"meta": {"title": "Moons with a learning-rate drop"},
       "task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [5]},
       "optimizer": {"name": "adam", "lr": 0.05}, "training": {"batch_size": 12},
       "timeline": [{"step": 60, "optimizer.lr": 0.005}]}


def test_a_scripted_edit_applies_while_playing(make_window, play_past):
    w = make_window(config.resolve(RAW))
    play_past(w, 80)
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
    assert w.windowTitle() == "based on Moons with a learning-rate drop[*] — gradplay"
    assert "step 30: optimizer.name = sgd" in header.title.toolTip()
    loss = w.panels["loss"]
    loss.refresh()
    assert [line.value() for line in loss.edit_lines] == [30]


# ----------------------------------------------------------------------------- unsaved work
@pytest.fixture
def asking(make_window, monkeypatch):
    """A window that asks before dropping an unsaved run (as the app's does), answering `answer[0]`."""
    from gradplay.gui.file_actions import FileActions

    asked: list[str] = []
    answer = [QtWidgets.QMessageBox.StandardButton.Cancel]

    def ask(self, text):
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(FileActions, "ask_unsaved", ask)
    w = make_window(config.resolve({k: v for k, v in RAW.items() if k != "timeline"}))
    w.confirm_unsaved = True
    return w, asked, answer


def test_switching_preset_asks_and_cancel_keeps_the_run(asking):
    w, asked, answer = asking
    w.load_preset("xor_relu")  # nothing trained yet: nothing to lose, no question
    assert asked == [] and w.controller.session.config["task"]["name"] == "xor"
    w.controller.run_steps(25, frames=2)
    before = w.controller.session
    w.load_preset("circles_relu")
    assert len(asked) == 1 and "25 training steps" in asked[0] and "circles_relu" in asked[0]
    assert w.controller.session is before  # Cancel: the run stays
    answer[0] = QtWidgets.QMessageBox.StandardButton.Discard
    w.load_preset("circles_relu")
    assert w.controller.session.config["task"]["name"] == "circles"


def test_quitting_asks_and_save_saves_first(asking, tmp_path):
    w, asked, answer = asking
    w.controller.run_steps(12, frames=2)
    closed = []
    w.destroyed.connect(lambda: closed.append(True))
    assert not w.close()  # Cancel: the window stays
    assert w.isVisible() and len(asked) == 1
    w.files.path = tmp_path / "kept.gradplay"  # Save goes to the run's file
    answer[0] = QtWidgets.QMessageBox.StandardButton.Save
    assert w.close()
    from gradplay.core import io

    assert io.load_session(tmp_path / "kept.gradplay").step == 12


def test_opening_a_file_asks_too(asking, tmp_path):
    w, asked, answer = asking
    w.controller.run_steps(5, frames=1)
    (tmp_path / "other.toml").write_text('[task]\nname = "xor"\n')
    assert not w.open_path(tmp_path / "other.toml")
    assert "other.toml" in asked[0] and w.controller.session.config["task"]["name"] == "moons"


def test_play_feeds_the_recorders_that_follow_the_run(make_window, play_past):
    """The weight-space recorder hears the steps Play trains in the worker thread (it heard only
    single steps: 3,520 played steps left one θ recorded)."""
    w = make_window(config.resolve({k: v for k, v in RAW.items() if k != "timeline"}))
    rec = w.panels["weightspace"].recorder
    assert rec is not None and rec.n == 1
    play_past(w, 120)
    s = w.controller.session
    assert rec.n >= 4 and rec.steps[-1] <= s.step
    replay = Session(s.run_config)  # each recorded θ is the run's θ at that step
    for step, theta in zip(rec.steps, rec.thetas):
        replay.run(int(step) - replay.step)
        assert np.array_equal(replay.theta, theta), step


# ----------------------------------------------------------------------------- exports of an edited run
def test_exports_of_a_run_edited_in_the_window_tell_the_truth(make_window, tmp_path, pil_image):
    """An lr change, an optimizer switch and a batch-size change at different steps, made in the
    window: the PyTorch script prints the run's losses (1e-8), and the GIF's last frame is the map
    the PNG shows (the GIF replayed the final settings from step 0 before, a nearly untrained map)."""
    import re
    import subprocess
    import sys

    from gradplay.gui import gif

    w = make_window(config.resolve({k: v for k, v in RAW.items() if k != "timeline"}))
    c = w.controller
    c.run_steps(40, frames=2)
    c.apply_config(config.with_changes(c.session.config, optimizer={"lr": 0.02}))
    c.run_steps(40, frames=2)
    c.apply_config(config.with_changes(c.session.config, optimizer={"name": "sgd", "lr": 0.1, "momentum": 0.9}))
    c.run_steps(40, frames=2)
    c.apply_config(config.with_changes(c.session.config, training={"batch_size": 30}))
    c.run_steps(40, frames=2)
    s = c.session
    assert [e["step"] for e in s.timeline] == [40, 80, 120]
    png = w.files.export_panel_png("landscape", tmp_path / "map.png",
                                   pixels=(round(gif.FRAME_SIZE[0] * gif.FRAME_SCALE),
                                           round(gif.FRAME_SIZE[1] * gif.FRAME_SCALE)), scale=gif.FRAME_SCALE)
    notes: list[str] = []
    path = w.files.export_gif(tmp_path / "map.gif", every=40, notes=notes)
    assert notes == []
    with pil_image.open(path) as im, pil_image.open(png) as ref:
        im.seek(im.n_frames - 1)
        last = np.asarray(im.convert("RGB"), dtype=float)
        im.seek(0)
        first = np.asarray(im.convert("RGB"), dtype=float)
        want = np.asarray(ref.convert("RGB"), dtype=float)
    assert last.shape == want.shape
    assert np.abs(last - want).mean() < 3.0  # the same map, up to the GIF's 256-colour palette
    assert np.abs(first - want).mean() > 2 * np.abs(last - want).mean()  # (step 0 is another picture)
    pytest.importorskip("torch")
    script = w.files.export_torch(tmp_path / "train_torch.py")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    theirs = np.array([float(m.group(1)) for m in re.finditer(r"^step \d+ loss (\S+)$", out.stdout, re.M)])
    ours = s.history.get("loss")
    assert len(theirs) == len(ours) == 160
    assert np.max(np.abs(theirs - ours) / np.abs(ours)) < 1e-8
