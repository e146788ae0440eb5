"""Optimizer races: same start, same weights, same batches; finishing steps; legend labels."""
import math

import numpy as np
import pytest

from gradplay.core import config
from gradplay.core.race import Race, racer_label

CIRCLES = config.resolve({"task": {"name": "circles", "n_samples": 150}, "network": {"hidden": [6, 5]},
                          "training": {"batch_size": 16}})
ENTRIES = [{"optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}},
           {"optimizer": {"name": "adam", "lr": 0.01}},
           {"optimizer": {"name": "rmsprop"}, "schedule": {"name": "cosine", "t_max": 100}},
           {"optimizer": {"name": "lbfgs", "max_iter": 3}}]


def test_racers_see_identical_batches_step_for_step():
    race = Race(CIRCLES, ENTRIES)
    steps_per_epoch = race.racers[0].session.steps_per_epoch
    for _ in range(3 * steps_per_epoch + 2):                 # across epoch boundaries (reshuffles)
        race.run(1)
        batches = [r.session.last_batch for r in race.racers]
        assert all(np.array_equal(batches[0], b) for b in batches[1:])


def test_racers_start_from_the_same_weights_and_data():
    race = Race(CIRCLES, ENTRIES)
    s0 = race.racers[0].session
    for r in race.racers[1:]:
        assert np.array_equal(r.session.theta, s0.theta)
        assert np.array_equal(r.session.data.x_train, s0.data.x_train)
    loss0 = [r.loss_curve()[1][0] for r in race.racers]
    assert loss0 == [loss0[0]] * 4 and race.racers[0].loss_curve()[0][0] == 0
    race.run(5)
    assert not np.array_equal(race.racers[0].session.theta, race.racers[1].session.theta)


def test_same_batches_whatever_the_optimizer_as_headless_batch_index():
    # the "batch" stream depends on the seed only: two sessions' recorded batch_index arrays agree
    from gradplay.core import headless
    from gradplay.core.session import Session
    a = headless.record(Session(config.with_changes(CIRCLES, optimizer={"name": "adagrad"})), 40)
    b = headless.record(Session(config.with_changes(CIRCLES, optimizer={"name": "newton"})), 40)
    assert np.array_equal(a["batch_index"], b["batch_index"])


def test_landscape_race_finishing_steps_by_hand():
    base = config.resolve({"task": {"kind": "function", "name": "quadratic", "start": [1.0, 1.0]}})
    race = Race(base, [{"optimizer": {"name": "sgd", "lr": 0.1}}, {"optimizer": {"name": "sgd", "lr": 0.4}}],
                tol=1e-6)
    race.run(100)

    def by_hand(lr):            # f after k steps = 2·(1 − 2lr)^(2k); first k with f ≤ 1e-6
        return math.ceil(math.log(1e-6 / 2) / (2 * math.log(abs(1 - 2 * lr))))
    slow, fast = race.racers
    assert slow.finished_step == by_hand(0.1) and fast.finished_step == by_hand(0.4)
    assert fast.finished_loss == pytest.approx(2 * 0.2 ** (2 * by_hand(0.4)))
    assert race.winner() is fast and race.results() == [fast, slow]
    assert race.summary().splitlines()[0] == f"1. sgd lr=0.4: reached loss {fast.finished_loss:.3g} at step 5"
    traj = slow.trajectory()
    assert traj.shape == (101, 2) and traj[0] == pytest.approx([1.0, 1.0]) and traj[1] == pytest.approx([0.8, 0.8])


def test_halted_racer_stops_and_ranks_last():
    base = config.resolve({"task": {"kind": "function", "name": "quadratic"}})
    race = Race(base, [{"optimizer": {"name": "sgd", "lr": 2.0}}, {"optimizer": {"name": "sgd", "lr": 0.001}}],
                tol=1e-9)
    race.run(1200)
    blown, slow = race.racers
    assert blown.halted and blown.session.step < 1200 and slow.session.step == 1200
    assert race.winner() is None and race.results()[-1] is blown
    assert "non-finite" in race.summary().splitlines()[-1]


def test_dataset_race_measures_the_full_training_loss():
    race = Race(CIRCLES, ENTRIES[:2], tol=0.3)
    race.run(200)
    for r in race.racers:
        steps, loss = r.loss_curve()
        assert list(steps) == list(range(201))
        assert loss[-1] == pytest.approx(r.session.current_loss())
        if r.finished_step is not None:
            assert loss[r.finished_step] <= 0.3 and np.all(loss[: r.finished_step] > 0.3)
    assert race.winner() is not None


@pytest.mark.parametrize("entry,label", [
    ({"optimizer": {"name": "adam", "lr": 0.01}}, "adam lr=0.01"),
    ({"optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True}},
     "sgd lr=0.1 momentum=0.9 nesterov"),
    ({"optimizer": {"name": "adam", "lr": 0.001, "betas": [0.8, 0.99]}}, "adam lr=0.001 betas=(0.8, 0.99)"),
    ({"optimizer": {"name": "rmsprop"}, "schedule": {"name": "step", "step_size": 50, "gamma": 0.5}},
     "rmsprop lr=0.01 · step(step_size=50, gamma=0.5)"),
    ({"optimizer": {"name": "lbfgs"}}, "lbfgs lr=1"),
    ({"optimizer": {"name": "lbfgs", "line_search_fn": "strong_wolfe"}}, "lbfgs lr=1 line_search_fn=strong_wolfe"),
    ({"optimizer": {"name": "newton", "damping": 0.1}}, "newton lr=1 damping=0.1"),
])
def test_labels_name_what_differs(entry, label):
    assert racer_label(config.with_changes(CIRCLES, **entry)) == label


def test_a_racer_may_switch_the_base_schedule():
    base = config.with_changes(CIRCLES, schedule={"name": "step", "step_size": 10})
    race = Race(base, [{"optimizer": {"name": "sgd", "lr": 0.1}},
                       {"optimizer": {"name": "sgd", "lr": 0.1}, "schedule": {"name": "cosine", "t_max": 50}}])
    assert race.racers[0].session.config["schedule"] == {"name": "step", "step_size": 10, "gamma": 0.5}
    assert race.racers[1].session.config["schedule"] == {"name": "cosine", "t_max": 50, "eta_min": 0.0}
    assert race.racers[1].label == "sgd lr=0.1 · cosine(t_max=50, eta_min=0)"


def test_identical_racers_get_distinct_labels_and_identical_runs():
    race = Race(CIRCLES, [ENTRIES[1], ENTRIES[1]])
    assert [r.label for r in race.racers] == ["adam lr=0.01", "adam lr=0.01 #2"]
    race.run(30)
    assert np.array_equal(race.racers[0].session.theta, race.racers[1].session.theta)


def test_bad_races_are_refused():
    with pytest.raises(ValueError, match="2 to 6"):
        Race(CIRCLES, ENTRIES[:1])
    with pytest.raises(ValueError, match="2 to 6"):
        Race(CIRCLES, ENTRIES * 2)
    with pytest.raises(config.ConfigError, match="network"):
        Race(CIRCLES, [ENTRIES[0], {"network": {"hidden": [3]}}])
    with pytest.raises(config.ConfigError, match="lr"):
        Race(CIRCLES, [ENTRIES[0], {"optimizer": {"name": "adam", "lr": -1.0}}])


def test_from_session_uses_its_config():
    from gradplay.core.session import Session
    s = Session(CIRCLES)
    race = Race.from_session(s, ENTRIES[:2])
    assert np.array_equal(race.racers[0].session.theta, s.theta)
