"""The teaching panels: race, curvature overlay, weight-space slice, diagnostics, gradient check, story.

Assertions compare what the panels hand to pyqtgraph and Qt (curve data, image arrays, table cells)
with the engine's own numbers, and drive the panels as a user would (buttons, the race's timer,
worker threads that must stay cancellable while the window keeps handling events).
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gradplay.core import config as config_mod
from gradplay.core import weightspace
from gradplay.core.race import Race, default_entries
from gradplay.core.session import Session
from gradplay.gui import workers
from gradplay.gui.controller import Controller
from gradplay.gui.docks.curvature import CurvaturePanel
from gradplay.gui.docks.diagnostics import DiagnosticsPanel
from gradplay.gui.docks.landscape import LandscapePanel
from gradplay.gui.docks.race import RacePanel
from gradplay.gui.docks.story import StoryPanel
from gradplay.gui.docks.weightspace import WeightSpacePanel
from gradplay.presets import load_preset

CIRCLES = {"task": {"kind": "dataset", "name": "circles", "n_samples": 120}, "network": {"hidden": [6, 5]},
           "optimizer": {"name": "adam", "lr": 0.03}, "training": {"batch_size": 16}}
QUADRATIC = {"task": {"kind": "function", "name": "quadratic", "start": [1.0, 1.0]},
             "optimizer": {"name": "sgd", "lr": 0.1}}


def panel_for(qtbot, cls, holder, session, size=(900, 600), show=True, **kwargs):
    holder.session = session
    panel = cls(holder, **kwargs)
    panel.slow_interval = 0.0  # throttled views redraw on every refresh in tests
    qtbot.addWidget(panel)
    panel.resize(*size)
    if show:
        panel.show()
        qtbot.waitExposed(panel)
    return panel


def curve_xy(item) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(item, "getOriginalDataset"):
        x, y = item.getOriginalDataset()
    else:
        x, y = item.getData()
    return np.asarray(x, float), np.asarray(y, float)


# ------------------------------------------------------------------------------------------ race
def test_race_gives_every_optimizer_the_same_batches_through_its_timer(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    panel = panel_for(qtbot, RacePanel, holder, s)
    panel.set_entries([{"name": "sgd", "lr": 0.1, "momentum": 0.9}, {"name": "adam", "lr": 0.01},
                       {"name": "rmsprop"}, {"name": "adagrad", "lr": 0.1}])
    batches: list[list[np.ndarray]] = [[] for _ in panel.race.racers]
    for r, log in zip(panel.race.racers, batches):
        r.session.subscribe(lambda ev, s=r.session, log=log: log.append(s.last_batch.copy()))
    per_epoch = panel.race.racers[0].session.steps_per_epoch
    panel.speed.setValue(7)
    qtbot.mouseClick(panel.start_button, QtCore.Qt.MouseButton.LeftButton)
    assert panel.running
    qtbot.waitUntil(lambda: panel.race.step >= 3 * per_epoch + 2, timeout=10_000)
    qtbot.mouseClick(panel.start_button, QtCore.Qt.MouseButton.LeftButton)  # pause
    assert not panel.running
    n = panel.race.step
    assert all(len(log) == n for log in batches)  # one batch per step, steps taken one at a time
    for log in batches[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(batches[0], log))
    # ...and they are real mini-batches from fresh shuffles, not one repeated batch
    assert len({tuple(b) for b in batches[0]}) > per_epoch
    # the same initial weights too: the same loss at step 0 and the same first batch loss
    first = [(r.loss_curve()[1][0], r.session.history.get("loss")[0]) for r in panel.race.racers]
    assert first == [first[0]] * len(first)


def test_race_panel_draws_the_racers_data_and_the_true_winner(qtbot, holder, make_session):
    s = make_session(QUADRATIC)
    panel = panel_for(qtbot, RacePanel, holder, s)
    panel.set_entries([{"name": "sgd", "lr": 0.1}, {"name": "sgd", "lr": 0.4}, {"name": "adam", "lr": 0.05}])
    panel.tol.setValue(1e-6)
    panel.advance(120)
    race = panel.race
    assert race.step == 120
    for i, r in enumerate(race.racers):
        x, y = curve_xy(panel.paths[i][1])
        traj = r.trajectory()
        np.testing.assert_array_equal(x, traj[:, 0])
        np.testing.assert_array_equal(y, traj[:, 1])
        np.testing.assert_array_equal(panel.paths[i][2].getData()[0], traj[-1:, 0])  # the end marker
        steps, loss = r.loss_curve()
        keep = loss - race.target > 0  # the log axis shows f − f* > 0
        lx, ly = curve_xy(panel.curves[i])
        np.testing.assert_array_equal(lx, steps[keep])
        np.testing.assert_allclose(ly, (loss - race.target)[keep], rtol=0, atol=0)
    winner = race.winner()
    assert winner is not None and winner.label == "sgd lr=0.4"  # f = 2·0.2^(2k): 5 steps
    assert panel.shown_winner() == winner.label
    assert winner.label in panel.winner.text() and f"step {winner.finished_step}" in panel.winner.text()
    # the table lists every racer in Race.results() order, with its finishing step
    order = race.results()
    for row, r in enumerate(order):
        assert panel.table.item(row, 0).data(QtCore.Qt.ItemDataRole.UserRole) == r.label
        want = f"step {r.finished_step}" if r.finished_step is not None else "not yet"
        assert panel.table.item(row, 1).text() == want


def test_a_short_race_panel_gives_the_loss_plot_its_title_and_label_room(qtbot, holder, make_session):
    """At Full 1280×720 the panel is ~610×405 px and the loss plot was ~50 px tall under its title."""
    s = make_session(QUADRATIC)
    panel = panel_for(qtbot, RacePanel, holder, s, size=(610, 405))
    panel.advance(20)
    short = panel.loss_plot.vb.height()
    assert not panel.loss_plot.titleLabel.isVisible() or panel.loss_plot.titleLabel.text == ""
    assert not panel.loss_plot.getAxis("bottom").label.isVisible()
    assert short >= 90
    panel.resize(610, 700)  # room again: the title and the label come back
    qtbot.waitUntil(lambda: panel.loss_plot.getAxis("bottom").label.isVisible())
    assert panel.loss_plot.titleLabel.text == "Loss per racer"
    assert panel.table.rowCount() == len(panel.race.racers)


def test_race_tolerance_change_rereads_the_finish_like_a_fresh_race(qtbot, holder, make_session):
    s = make_session(QUADRATIC)
    panel = panel_for(qtbot, RacePanel, holder, s)
    panel.set_entries([{"name": "sgd", "lr": 0.05}, {"name": "sgd", "lr": 0.3}])
    panel.advance(80)
    panel.tol.setValue(1e-8)
    fresh = Race(s.config, panel.entries(), tol=1e-8)
    fresh.run(80)
    assert [r.finished_step for r in panel.race.racers] == [r.finished_step for r in fresh.racers]
    assert panel.shown_winner() == fresh.winner().label


def test_race_dataset_curves_are_the_measured_training_loss(qtbot, holder, make_session):
    s = make_session(CIRCLES)
    panel = panel_for(qtbot, RacePanel, holder, s)
    assert panel.land_view.isHidden()  # no map for a dataset: loss curves only
    assert [e["optimizer"]["name"] for e in panel.entries()] == ["adam", "sgd", "sgd"]
    panel.advance(60)
    for i, r in enumerate(panel.race.racers):
        steps, loss = r.loss_curve()
        x, y = curve_xy(panel.curves[i])
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_array_equal(y, loss)
        assert len(x) == 61


def test_race_follows_the_runs_settings_until_started(qtbot, holder, make_session):
    s = make_session(QUADRATIC)
    panel = panel_for(qtbot, RacePanel, holder, s)
    s.move_start(-1.0, 0.5)
    holder.session = s
    panel.reset()
    assert all(np.array_equal(r.trajectory()[0], [-1.0, 0.5]) for r in panel.race.racers)
    entries = default_entries(s.config)
    assert [e["name"] for e in entries] == ["sgd", "sgd", "adam", "newton"] and entries[1]["momentum"] == 0.9


def test_a_race_frame_runs_speed_steps_and_the_race_stops_at_its_limit(qtbot, holder, make_session):
    s = make_session(QUADRATIC)
    panel = panel_for(qtbot, RacePanel, holder, s)
    panel.set_entries([{"name": "sgd", "lr": 0.1}, {"name": "sgd", "lr": 0.2}])
    panel.tol.setValue(1e-300)  # nobody finishes: only the limit ends the race
    panel.speed.setValue(3)
    panel.limit.setValue(12)
    panel.start_race()
    panel.timer.stop()
    panel._tick()  # the first frame after Start stands for one 60 Hz frame: 3 steps (µs each)
    assert panel.race.step == 3 and panel.running
    panel.timer.start()
    qtbot.waitUntil(lambda: not panel.running)
    assert panel.race.step == 12 and panel.start_button.text() == "Restart"


def test_the_race_does_no_work_while_hidden(qtbot, holder, make_session):
    s = make_session(QUADRATIC)
    panel = panel_for(qtbot, RacePanel, holder, s)
    panel.speed.setValue(1)
    panel.limit.setValue(100_000)
    panel.start_race()
    qtbot.waitUntil(lambda: panel.race.step > 3)
    panel.hide()
    step = panel.race.step
    qtbot.wait(150)
    assert panel.race.step == step and panel.running
    panel.show()
    qtbot.waitUntil(lambda: panel.race.step > step + 2)
    panel.pause()


# ------------------------------------------------------------------------------------------ curvature
@pytest.mark.parametrize("name, start", [("rosenbrock", [-1.5, 2.0]), ("saddle", [-1.8, 0.01]),
                                         ("himmelblau", [-0.5, -0.2])])
def test_curvature_overlay_is_along_the_hessian_eigenvectors_at_the_point(qtbot, holder, make_session,
                                                                          name, start):
    s = make_session({"task": {"kind": "function", "name": name, "start": start},
                      "optimizer": {"name": "adam", "lr": 0.02}})
    land = panel_for(qtbot, LandscapePanel, holder, s, size=(600, 500))
    curv = panel_for(qtbot, CurvaturePanel, holder, s, size=(400, 300))
    overlay = curv.attach_landscape(land)
    s.run(37)
    land.refresh()
    H = s.landscape.hessian(s.theta)
    lam, vec = np.linalg.eigh(H)
    assert len(overlay.segments) == 2
    for k, seg in enumerate(overlay.segments):
        x, y = curve_xy(overlay.lines[k])
        np.testing.assert_array_equal(np.column_stack([x, y]), seg)  # what is drawn is the segment
        np.testing.assert_allclose(seg.mean(axis=0), s.theta, atol=1e-12)  # centred on the point
        d = seg[1] - seg[0]
        assert abs(d @ vec[:, k]) / np.linalg.norm(d) == pytest.approx(1.0, abs=1e-12)
        assert overlay.lines[k].isVisible()
    lengths = [np.linalg.norm(seg[1] - seg[0]) for seg in overlay.segments]
    big = int(np.argmax(np.abs(lam)))
    ratio = abs(lam[1 - big]) / abs(lam[big])
    expected = max(ratio, 0.12)  # ∝ |λ|, the shorter one never below 12 % of the longer
    assert lengths[1 - big] / lengths[big] == pytest.approx(expected, rel=1e-9)
    assert "λ₂" in overlay.labels[1].toPlainText() or "λ₂" in overlay.labels[1].textItem.toPlainText()
    # hidden with the Curvature panel (a hidden dock does no work)
    curv.hide()
    land.refresh()
    assert not any(line.isVisible() for line in overlay.lines)


def test_curvature_panel_says_saddle_and_plots_the_eigenvalues(qtbot, holder, make_session):
    s = make_session({"task": {"kind": "function", "name": "saddle", "start": [-1.0, 0.2]},
                      "optimizer": {"name": "sgd", "lr": 0.05}})
    curv = panel_for(qtbot, CurvaturePanel, holder, s)
    s.run(10)
    curv.refresh()
    text = curv.info.text()
    assert "saddle: curves up along (1.00, 0.00)" in text and "down along (0.00, 1.00)" in text
    x, y = curve_xy(curv.lam_max_curve)
    np.testing.assert_allclose(y, 2.0)
    np.testing.assert_array_equal(x, np.arange(11))
    _, lim = curve_xy(curv.limit_curve)
    np.testing.assert_allclose(lim, 2 / 0.05)  # the curvature at which lr 0.05 turns unstable


def test_curvature_panel_tracks_lambda_max_on_a_network(qtbot, holder, make_session):
    s = make_session({**CIRCLES, "optimizer": {"name": "sgd", "lr": 0.2}})
    curv = panel_for(qtbot, CurvaturePanel, holder, s)
    for _ in range(4):
        s.run(15)
        curv.refresh(force=True)  # the panel throttles itself to ~10 % of the time
    h = curv.tracker.history
    assert len(h) == 4 and h.get_steps()[0] == 15  # after each slice; nothing while it was not yet shown
    x, y = curve_xy(curv.lam_max_curve)
    np.testing.assert_array_equal(x, h.get_steps())
    np.testing.assert_array_equal(y, h.get("lam_max"))
    _, lim = curve_xy(curv.limit_curve)
    np.testing.assert_allclose(lim, 2 / 0.2)
    assert "2/lr" in curv.info.text()
    holder.session = make_session(CIRCLES)  # adam: no simple limit
    curv.reset()
    assert "does not apply" in curv.info.text()
    assert len(curv.limit_curve.getData()[0] or []) == 0


# ------------------------------------------------------------------------------------------ weight space
@pytest.mark.parametrize("mode", ["pca", "random"])
def test_weightspace_image_is_the_slice_and_its_centre_the_current_loss(qtbot, holder, make_session, mode):
    s = make_session({**CIRCLES, "network": {"hidden": [8, 8]}})
    panel = panel_for(qtbot, WeightSpacePanel, holder, s)
    for _ in range(30):  # the recorder keeps thinned snapshots as the window's frames go by
        s.run(10)
    assert panel.recorder.n >= 10
    panel.mode.setCurrentIndex(panel.mode.findData(mode))
    panel.grid_n.setValue(21)
    qtbot.mouseClick(panel.compute_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.slice is not None, timeout=20_000)
    ws = panel.slice
    assert ws.Z.shape == (21, 21)
    np.testing.assert_allclose(10.0 ** panel.img.image, ws.Z, rtol=1e-13)  # log colour of exactly Z
    assert panel.origin_value() == s.current_loss()  # the centre is the current weights
    assert ws.alphas[10] == 0.0 and ws.betas[10] == 0.0
    x, y = curve_xy(panel.path)
    np.testing.assert_array_equal(np.column_stack([x, y]), ws.path)
    assert len(ws.path) == panel.recorder.n
    if mode == "pca":
        assert ws.explained.sum() > 0.5 and "of the path's spread" in panel.info.text()
    # training moves on: the "now" marker is the projection of the new weights
    s.run(20)
    panel.refresh()
    coords, _ = weightspace.project(s.theta[None, :], ws.center, ws.dirs)
    np.testing.assert_allclose(panel.now.getData()[0], coords[:, 0])


def test_weightspace_shows_a_message_on_landscapes(qtbot, holder, make_session):
    panel = panel_for(qtbot, WeightSpacePanel, holder, make_session(QUADRATIC))
    assert panel.message.isVisible() and not panel.view.isVisible()


def test_worker_runs_off_the_gui_thread_and_can_be_cancelled(qtbot):
    ticks = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    threads = []

    def slow(progress):
        threads.append(QtCore.QThread.currentThread())
        for i in range(10_000):
            time.sleep(0.002)
            if progress(i, 10_000) is False:
                return "stopped"
        return "done"

    job = workers.start(slow)
    finished = []
    job.finished.connect(finished.append)
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=5000)  # the event loop runs meanwhile
    assert job.running
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()
    timer.stop()
    assert not job.running and finished == []
    assert threads and threads[0] is not QtWidgets.QApplication.instance().thread()


def test_weightspace_compute_can_be_cancelled_while_the_window_stays_live(qtbot, holder, make_session):
    s = make_session({**CIRCLES, "task": {"kind": "dataset", "name": "spiral", "n_samples": 600},
                      "network": {"hidden": [64, 64, 64]}})
    panel = panel_for(qtbot, WeightSpacePanel, holder, s)
    panel.mode.setCurrentIndex(panel.mode.findData("random"))
    panel.grid_n.setValue(101)
    ticks = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    panel.compute()
    job = panel.job
    assert job is not None and panel.cancel_button.isVisible() and not panel.compute_button.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=10_000)  # progress arrives
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=5000)  # while the GUI keeps handling events
    s.run(5)  # and training goes on meanwhile (the job works on a frozen copy)
    qtbot.mouseClick(panel.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    timer.stop()
    assert job.wait(10)
    qtbot.wait(50)
    assert panel.slice is None and panel.job is None and panel.compute_button.isEnabled()
    assert not panel.cancel_button.isVisible()


def test_detached_copies_never_touch_the_live_session(make_session):
    s = make_session(CIRCLES)
    s.run(7)
    theta = s.theta.copy()
    d = workers.detached(s)
    d.theta[:] = 0.0
    d.model.forward(d.data.x_train, train=True)
    assert np.array_equal(s.theta, theta) and d.current_loss() != s.current_loss()
    assert np.array_equal(d.last_batch, s.last_batch) and d.last_batch is not s.last_batch


def test_a_detached_copy_keeps_its_history_and_batch_order_while_the_session_trains(make_session):
    s = make_session(CIRCLES)
    s.run(7)
    d = workers.detached(s)
    steps, perm, pos = d.history.get_steps(), d._perm.copy(), d._pos
    twin = s.clone()
    twin.run(3 * s.steps_per_epoch)  # new batch orders, synced back into the session's arrays in place
    s.sync_from(twin)
    s.run(5)
    assert len(s.history) == 7 + 3 * s.steps_per_epoch + 5
    assert np.array_equal(d.history.get_steps(), steps) and len(d.history) == 7
    assert np.array_equal(d._perm, perm) and d._pos == pos and not np.array_equal(s._perm, perm)


# ------------------------------------------------------------------------------------------ diagnostics
def test_gradient_check_table_is_green_for_a_small_tanh_net(qtbot, holder, make_session):
    s = make_session({**CIRCLES, "network": {"hidden": [5, 4], "activation": "tanh"}})
    s.run(20)
    panel = panel_for(qtbot, DiagnosticsPanel, holder, s)
    assert s.theta.size <= 100  # checked at once
    qtbot.mouseClick(panel.check_button, QtCore.Qt.MouseButton.LeftButton)
    errs = panel.table_errors()
    assert len(errs) == 3 and (errs < 1e-6).all()
    np.testing.assert_array_equal(errs, panel.result.layer_rel_err)
    assert panel.table.item(0, 1).text() == "W1, b1"
    assert panel.table.item(0, 3).background().color().green() > panel.table.item(0, 3).background().color().red()


def test_gradient_check_of_a_bigger_net_runs_in_a_worker(qtbot, holder, make_session):
    s = make_session({**CIRCLES, "network": {"hidden": [16, 16], "activation": "tanh"}})
    s.run(20)
    panel = panel_for(qtbot, DiagnosticsPanel, holder, s)
    theta = s.theta.copy()
    seen, advanced = [], panel._check_advanced
    panel._check_advanced = lambda done, total: (seen.append((done, total)), advanced(done, total))
    panel.check_gradients()
    assert panel.job is not None and panel.cancel_button.isVisible()
    s.run(3)  # training may go on: the check works on the weights of the moment it started
    qtbot.waitUntil(lambda: panel.result is not None, timeout=30_000)
    errs = panel.table_errors()
    assert len(errs) == 3 and (errs < 1e-6).all()
    assert not np.array_equal(s.theta, theta)
    assert seen and seen[-1] == (s.theta.size, s.theta.size)  # the bar counted every entry
    # and a check can be cancelled: nothing is shown then, and the computation stops
    result = panel.result
    panel.check_gradients()
    job = panel.job
    job.progress.connect(lambda *_: panel.cancel_check())  # Cancel as soon as the bar first moves
    qtbot.waitUntil(lambda: panel.job is None, timeout=10_000)
    assert panel.check_status.text() == "Cancelled." and panel.result is result
    assert job.wait(2.0)  # the worker returns too (core test: within one entry)


def test_gradient_check_on_a_landscape(qtbot, holder, make_session):
    s = make_session({"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.01}})
    s.run(5)
    panel = panel_for(qtbot, DiagnosticsPanel, holder, s)
    panel.check_gradients()
    errs = panel.table_errors()
    assert len(errs) == 2 and (errs < 1e-6).all()


def test_diagnostics_fix_button_applies_he_relu_to_the_vanishing_preset(qtbot):
    controller = Controller(load_preset("vanish_sigmoid_small_init"))
    controller.run_steps(100)
    panel = DiagnosticsPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    panel.diagnose()
    card = panel.cards["gradient_flow"]
    assert card.isVisible() and card.finding.level == "warning" and "vanishing" in card.text.text()
    # layer 1's badge says it, in the layer's colour
    assert "vanishing" in panel.badges[0].text() and "#8e5bd6" in panel.badges[0].styleSheet()
    assert "⚠" in panel.info.text() or "1 warning" in panel.info.text()
    button = next(b for b in card.buttons if b.text() == "Use ReLU with He init")
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)
    net = controller.session.config["network"]
    assert net["activation"] == "relu" and net["init"] == "he_normal"
    assert controller.session.step == 0  # a new network: the run restarted with it
    controller.run_steps(100)
    panel.refresh(force=True)
    assert panel.findings["gradient_flow"].level == "ok"


def test_stability_finding_offers_a_stable_learning_rate(qtbot):
    controller = Controller(load_preset("lr_limit_above"))
    panel = DiagnosticsPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    panel.diagnose()
    card = panel.cards["stability"]
    assert card.finding.level == "warning"
    limit = card.finding.details["limit"]
    card.buttons[0].click()
    assert controller.session.config["optimizer"]["lr"] < limit
    panel.refresh(force=True)
    assert panel.findings["stability"].level == "ok"


# ------------------------------------------------------------------------------------------ window
def test_teaching_docks_are_tabs_behind_the_main_ones(qtbot, make_window):
    w = make_window(load_preset("spiral_tanh"))
    for front, behind in (("setup", "story"), ("landscape", "race"), ("landscape", "weightspace"),
                          ("gradients", "diagnostics"), ("gradients", "curvature")):
        assert w.docks[behind] in w.tabifiedDockWidgets(w.docks[front])
        assert w.on_screen(front) and not w.on_screen(behind)
    titles = [a.text() for a in w.view_menu.actions()]
    for name in ("Story", "Race", "Weight space", "Diagnostics", "Curvature"):
        assert name in titles
    # a hidden teaching panel does no work: its race never started, the tracker is idle
    w.controller.run_steps(50)
    assert w.panels["race"].race.step == 0 and len(w.panels["curvature"].tracker.history) <= 1
    # ...but the trajectory recorder follows the run for PCA
    assert w.panels["weightspace"].recorder.n >= 2
    # a race runs while its tab is in front and waits behind another tab
    race = w.panels["race"]
    w.docks["race"].raise_()
    qtbot.waitUntil(lambda: w.on_screen("race"))
    race.speed.setValue(1)
    race.limit.setValue(100_000)
    race.start_race()
    qtbot.waitUntil(lambda: race.race.step > 2)
    w.docks["landscape"].raise_()
    qtbot.waitUntil(lambda: not w.on_screen("race"))
    step = race.race.step
    qtbot.wait(100)
    assert race.race.step == step and race.running
    w.docks["race"].raise_()
    qtbot.waitUntil(lambda: race.race.step > step + 2)
    race.pause()


def test_a_halt_shows_advice_and_the_diagnostics_with_fixes(qtbot, make_window):
    w = make_window(config_mod.resolve({"task": {"kind": "dataset", "name": "sine"}, "network": {"hidden": [16, 16]},
                                   "optimizer": {"name": "sgd", "lr": 1e6}}))
    w.controller.play()
    qtbot.waitUntil(lambda: w.controller.session.halted is not None, timeout=5000)
    qtbot.waitUntil(lambda: not w.controller.playing)
    text = w.banner.text.text()
    assert w.controller.session.halted in text and "Diagnostics panel" in text
    diag = w.panels["diagnostics"]
    qtbot.waitUntil(diag.isVisible)
    diag.refresh(force=True)
    card = diag.cards["halt"]
    assert card.isVisible() and card.buttons
    lr_fix = next(b for b in card.buttons if b.text().startswith("Divide the learning rate by 10"))
    lr_fix.click()
    assert w.controller.session.halted is None and w.controller.session.config["optimizer"]["lr"] == 1e5


def test_story_links_open_presets_and_show_panels(qtbot, make_window):
    w = make_window(load_preset("vanish_sigmoid_small_init"))
    story = w.panels["story"]
    html = story.body.text()
    assert "href='preset:vanish_fix_he_relu'" in html and "href='dock:gradients'" in html
    assert "vanish_fix_he_relu" in story.group.text()  # the other side of this story
    w.docks["story"].raise_()
    story._clicked("dock:diagnostics")
    qtbot.waitUntil(w.panels["diagnostics"].isVisible)
    story._clicked("preset:vanish_fix_he_relu")
    assert w.controller.session.config["network"]["activation"] == "relu"
    assert "(open now)" in story.group.text() and "ReLU" in story.title_label.text()


def test_story_on_a_custom_run(qtbot, holder, make_session):
    panel = panel_for(qtbot, StoryPanel, holder, make_session(QUADRATIC))
    assert panel.current() is None and panel.title_label.text() == "Custom run"
    assert "preset:rosenbrock_newton" in panel.contents.text()


def test_eigen_directions_show_on_the_landscape_while_the_curvature_tab_is_in_front(qtbot, make_window):
    w = make_window(load_preset("saddle_sgd"))
    overlay = w.panels["curvature"].overlay
    w.controller.run_steps(5)
    assert not overlay.enabled and not overlay.lines[0].isVisible()
    w.docks["curvature"].raise_()
    qtbot.waitUntil(lambda: overlay.enabled)
    w.controller.run_steps(5)
    assert overlay.lines[0].isVisible() and len(overlay.segments) == 2
    np.testing.assert_allclose(overlay.segments[0].mean(axis=0), w.controller.session.theta, atol=1e-12)
    w.docks["gradients"].raise_()
    qtbot.waitUntil(lambda: not overlay.enabled)
    assert not overlay.lines[0].isVisible()


def test_a_plain_sgd_racer_does_not_inherit_the_runs_momentum(qtbot, holder):
    panel = panel_for(qtbot, RacePanel, holder, Session(load_preset("circles_relu")))
    assert holder.session.config["optimizer"]["momentum"] == 0.9
    labels = [r.label for r in panel.race.racers]
    assert labels == ["sgd lr=0.1 momentum=0.9", "sgd lr=0.1", "adam lr=0.01"]
    assert panel.cards[1].summary.text() == "lr 0.1"
