"""Stop conditions in the window: Play trains (in the trainer thread) to the step a condition names,
pauses there with the condition's message, and the plots end at that step; Play again goes on."""
from gradplay.core import config as config_mod

SPIRAL = {"task": {"name": "spiral", "n_samples": 200}, "network": {"hidden": [6]},
          "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10}}


def test_play_pauses_at_a_stop_condition_and_goes_on_when_played_again(qtbot, make_window):
    w = make_window(dict(SPIRAL, stop={"max_epochs": 5}))  # 16 steps an epoch
    c = w.controller
    c.set_speed(8)
    c.play()
    qtbot.waitUntil(lambda: not c.playing, timeout=10_000)
    s = c.session
    assert s.step == 80 and "5 epochs" in s.stopped
    assert s.stopped in w.banner.text.text() and w.banner.isVisible()
    loss = w.panels["loss"]
    loss.refresh()
    xs, _ = loss.batch_curve.getData()
    assert xs[-1] == 79  # the batch-loss curve ends at the last step trained
    c.play()
    qtbot.waitUntil(lambda: s.step > 100, timeout=10_000)
    c.pause()
    assert s.stopped is None


def test_early_stopping_with_restore_best_shows_the_rewound_run(qtbot, make_window):
    # lr 2 makes the test loss worsen early on, so patience 2 fires within a few epochs
    raw = dict(SPIRAL, optimizer={"name": "sgd", "lr": 2.0},
               stop={"patience": 2, "restore_best": True, "check_every": 8})
    w = make_window(raw)
    c = w.controller
    c.set_speed(8)
    c.play()
    qtbot.waitUntil(lambda: not c.playing, timeout=20_000)
    s = c.session
    assert s.stopped and "early stopping" in s.stopped
    best = s.stopper.best_step
    assert s.step == best and "rewound" in s.stopped
    # the window shows the rewound run: θ as trained to that step, history up to it
    ref = type(s)(config_mod.resolve(dict(raw, stop={})))
    ref.run(best)
    assert (ref.theta == s.theta).all()
    assert s.history.get_steps()[-1] == best - 1
