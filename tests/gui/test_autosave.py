"""No lost work: autosave while training, restore after a kill, nothing offered after a clean exit.

The headline test runs the real `gradplay` program in a subprocess with `--play`, waits for an
autosave with steps in it, kills the process with SIGKILL and shows that the next window offers the
session back and restores it with the same step count and parameters.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from gradplay.core import config as config_mod
from gradplay.core import io
from gradplay.gui.app import build_window
from gradplay.gui.autosave import Autosaver, autosave_dir

XOR = {"seed": 2, "meta": {"title": "autosave test"}, "task": {"name": "xor", "n_samples": 120},
       "network": {"hidden": [4]}, "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 16}}


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    """Every test has its own autosave folder and settings file (never the user's)."""
    auto = tmp_path / "autosave"
    monkeypatch.setenv("GRADPLAY_AUTOSAVE_DIR", str(auto))
    monkeypatch.setenv("GRADPLAY_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.delenv("GRADPLAY_RESTORE", raising=False)
    monkeypatch.delenv("GRADPLAY_AUTOSAVE_SECONDS", raising=False)
    return auto


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "xor.toml"
    path.write_text(config_mod.dumps(config_mod.resolve(XOR)))
    return path


@pytest.fixture
def window(qtbot):
    """build_window as `gradplay` runs it; every window is closed (a clean exit) at teardown."""
    made = []

    def make(source, **kw):
        w = build_window(str(source), **kw)
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.controller.pause()


def markers(folder: Path) -> list[dict]:
    out = []
    for p in sorted(folder.glob("session-*.json")):
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            pass  # being replaced right now
    return out


def test_autosave_folder_comes_from_the_environment(folders):
    assert autosave_dir() == folders


def stop_after_an_autosave(config_file: Path, folders: Path, sig: int) -> int:
    """Run `gradplay CONFIG --play` until its autosave holds steps, send `sig`; the exit code."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRADPLAY_AUTOSAVE_SECONDS="1")
    proc = subprocess.Popen([sys.executable, "-m", "gradplay.cli", str(config_file), "--play"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not any(m.get("step", 0) > 0 for m in markers(folders)):
            assert proc.poll() is None, f"gradplay exited early: {proc.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "no autosave with steps appeared"
            time.sleep(0.2)
        proc.send_signal(sig)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_killed_process_is_offered_and_restored(qtbot, window, folders, config_file, tmp_path):
    # SIGKILL: no chance to clean up, as in a crash
    assert stop_after_an_autosave(config_file, folders, signal.SIGKILL) == -signal.SIGKILL
    [marker] = markers(folders)
    assert marker["clean"] is False and marker["step"] > 0 and marker["title"] == "autosave test"
    [saved_path] = folders.glob("session-*.gradplay")
    saved = io.load_session(saved_path)  # what the killed process had written
    assert saved.step == marker["step"]

    w = window(config_file)  # the next launch (choice "ask": the bar with Restore / Discard)
    assert w.restore_bar.isVisible()
    assert f"{marker['step']:,} steps" in w.restore_bar.text.text()
    assert w.controller.session.step == 0
    qtbot.mouseClick(w.restore_bar.restore_button, QtCore.Qt.MouseButton.LeftButton)
    s = w.controller.session
    assert not w.restore_bar.isVisible()
    assert s.step == saved.step == marker["step"]
    np.testing.assert_array_equal(s.theta, saved.theta)
    np.testing.assert_array_equal(s.history.get("loss"), saved.history.get("loss"))
    assert s.config == saved.config
    assert f"step {s.step:,}" in w.transport.counter.text()
    # the orphan is gone; the restored run lives in this window's own slot now
    assert not saved_path.exists()
    assert [m["step"] for m in markers(folders)] == [s.step]
    # ...and it trains on from where it was
    w.controller.step_once()
    assert w.controller.session.step == saved.step + 1


def test_sigterm_saves_the_latest_steps_and_offers_them(qtbot, window, folders, config_file):
    # SIGTERM (logout, kill): quit, keeping the work
    assert stop_after_an_autosave(config_file, folders, signal.SIGTERM) == 0
    [marker] = markers(folders)
    assert marker["clean"] is False
    w = window(config_file, restore="restore")
    assert w.controller.session.step == marker["step"] > 0


def test_clean_exit_is_not_offered_again(qtbot, window, folders, config_file):
    w = window(config_file)
    assert getattr(w, "restore_bar", None) is None  # nothing to offer on a first launch
    w.controller.run_steps(30)
    assert w.autosaver.maybe_save() and w.autosaver.wait()
    [m] = markers(folders)
    assert m["clean"] is False and m["step"] == 30
    w.controller.run_steps(5)
    w.close()  # a clean exit: a last save of step 35, marked clean
    [m] = markers(folders)
    assert m["clean"] is True and m["step"] == 35
    w2 = window(config_file)
    assert getattr(w2, "restore_bar", None) is None and w2.controller.session.step == 0
    assert markers(folders) == [], "the clean slot of the finished window is cleared away"


def test_autosave_runs_on_its_timer_only_while_there_are_unsaved_steps(qtbot, window, folders, config_file,
                                                                       monkeypatch):
    monkeypatch.setenv("GRADPLAY_AUTOSAVE_SECONDS", "0.2")
    w = window(config_file)
    saves = []
    w.autosaver.saved.connect(saves.append)
    qtbot.wait(600)
    assert saves == [] and markers(folders) == [], "step 0 of an unchanged preset: nothing to save"
    w.controller.run_steps(12)
    qtbot.waitUntil(lambda: saves == [12], timeout=5000)
    qtbot.wait(600)
    assert saves == [12], "no new steps: no new save"
    w.controller.reset()  # back at step 0: an older save would offer stale work after a crash
    qtbot.waitUntil(lambda: markers(folders) == [], timeout=5000)


def test_saving_happens_off_the_gui_thread_and_is_atomic(qtbot, window, folders, config_file):
    w = window(config_file)
    w.controller.run_steps(40)
    assert w.autosaver.maybe_save()
    w.controller.run_steps(3)  # training goes on while the file is written
    assert w.autosaver.wait() is False  # the slot holds step 40, the session is at 43
    assert markers(folders)[0]["step"] == 40
    assert io.load_session(w.autosaver.path).step == 40
    assert not list(folders.glob(".*.tmp")), "no temp file is left behind"


def test_discard_removes_the_orphan(qtbot, window, folders, config_file):
    w = window(config_file)
    w.controller.run_steps(20)
    w.autosaver.crash_exit()  # as SIGTERM: saved, unclean, lock released
    w2 = window(config_file, restore="ask")
    assert w2.restore_bar.isVisible() and "20 steps" in w2.restore_bar.text.text()
    qtbot.mouseClick(w2.restore_bar.discard_button, QtCore.Qt.MouseButton.LeftButton)
    assert not w2.restore_bar.isVisible() and w2.controller.session.step == 0
    assert not list(folders.glob("*.gradplay"))
    w3 = window(config_file)
    assert getattr(w3, "restore_bar", None) is None


def test_a_running_window_is_never_offered_to_another(qtbot, window, folders, config_file):
    w = window(config_file)
    w.controller.run_steps(10)
    w.autosaver.save_now()
    w2 = window(config_file, restore="restore")  # a second window while the first still runs
    assert w2.controller.session.step == 0
    assert w.autosaver.path.exists()


def test_a_damaged_autosave_is_reported_and_removed(qtbot, window, folders, config_file):
    w = window(config_file)
    w.controller.run_steps(10)
    w.autosaver.crash_exit()
    w.autosaver.path.write_bytes(b"PK\x03\x04 not really a zip")
    w2 = window(config_file, restore="restore")
    assert w2.controller.session.step == 0
    assert w2.banner.isVisible() and "could not be restored" in w2.banner.text.text()
    assert not list(folders.glob("*.gradplay"))


def test_a_failing_autosave_warns_once_and_training_goes_on(qtbot, window, folders, config_file, monkeypatch):
    w = window(config_file)

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io, "atomic_write_bytes", refuse)
    failures = []
    w.autosaver.failed.connect(failures.append)
    w.controller.run_steps(5)
    assert w.autosaver.save_now() is False
    assert len(failures) == 1 and "No space left" in failures[0]
    assert w.banner.isVisible() and "Autosave failed" in w.banner.text.text()
    w.controller.run_steps(5)
    assert w.autosaver.save_now() is False and len(failures) == 1, "said once, not at every interval"
    assert w.controller.session.step == 10


def test_an_unwritable_folder_turns_autosave_off_with_a_message(qtbot, window, tmp_path, monkeypatch,
                                                                 config_file):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("GRADPLAY_AUTOSAVE_DIR", str(blocker / "autosave"))
    w = window(config_file)
    assert not w.autosaver.enabled
    assert w.banner.isVisible() and "Autosave is off" in w.banner.text.text()
    w.controller.run_steps(3)
    assert w.autosaver.maybe_save() is False
    w.close()


def test_edited_settings_count_as_work(qtbot, window, folders, config_file):
    w = window(config_file)
    setup = w.panels["setup"]
    setup.hyper.widget_for("lr").setValue(0.05)
    assert w.controller.session.step == 0
    assert w.autosaver.maybe_save() and w.autosaver.wait()
    w.autosaver.crash_exit()
    w2 = window(config_file, restore="restore")
    assert w2.controller.session.config["optimizer"]["lr"] == pytest.approx(0.05)


def test_autosaver_alone_restores_the_newest_orphan(qtbot, folders, config_file):
    from gradplay.core.session import Session
    from gradplay.gui.controller import Controller

    old = Controller(Session(config_mod.resolve(XOR)))
    a = Autosaver(old, interval=3600)
    old.run_steps(7)
    a.crash_exit()
    time.sleep(0.01)
    new = Controller(Session(config_mod.resolve(XOR)))
    b = Autosaver(new, interval=3600)
    new.run_steps(9)
    b.crash_exit()
    fresh = Controller(Session(config_mod.resolve(XOR)))
    c = Autosaver(fresh, interval=3600)
    orphans = c.orphans()
    assert [o.step for o in orphans] == [9, 7]
    c.restore(orphans[0], orphans[1:])
    assert fresh.session.step == 9
    assert [m["step"] for m in markers(folders)] == [9]  # c's own slot; both orphans removed
    c.finish()


# ------------------------------------------------------------------------------ errors never close the window
def test_an_engine_error_halts_the_run_with_a_message_and_keeps_it(qtbot, window, config_file, monkeypatch):
    w = window(config_file)
    w.controller.run_steps(5)
    s = w.controller.session
    theta = s.theta.copy()

    def broken(n):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(s, "run", broken)
    w.transport.step_action.trigger()  # an exception here used to escape into Qt at every frame
    assert s.halted and "internal error" in s.halted and "ZeroDivisionError" in s.halted
    assert w.banner.isVisible() and "internal error" in w.banner.text.text()
    assert s.step == 5 and (s.theta == theta).all()
    w.transport.play_action.trigger()
    assert not w.controller.playing, "a halted run does not pretend to play"
    monkeypatch.undo()
    w.transport.reset_action.trigger()  # reset rebuilds the run and clears the halt
    assert w.controller.session.halted is None


def test_the_exception_hook_shows_a_non_modal_box_and_pauses(qtbot, window, config_file):
    import sys

    from PySide6 import QtWidgets

    from gradplay.gui.errors import install_excepthook

    w = window(config_file)
    previous = install_excepthook(lambda: w)
    try:
        w.controller.play()
        try:
            raise RuntimeError("a slot failed")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        boxes = [b for b in QtWidgets.QApplication.topLevelWidgets()
                 if isinstance(b, QtWidgets.QMessageBox) and b.isVisible()]
        assert len(boxes) == 1 and not boxes[0].isModal() and "a slot failed" in boxes[0].text()
        assert not w.controller.playing and w.isVisible()
        try:
            raise RuntimeError("a slot failed")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())  # the same error again: no second box
        assert len([b for b in QtWidgets.QApplication.topLevelWidgets()
                    if isinstance(b, QtWidgets.QMessageBox) and b.isVisible()]) == 1
        boxes[0].close()
    finally:
        sys.excepthook = previous
