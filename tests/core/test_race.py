"""Optimizer races: same start, same weights, same batches; finishing steps; legend labels."""
import math

import numpy as np
import pytest

from gradplay.core import config
from gradplay.core.race import Race, default_entries, racer_label, safe_lr

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


def landscape(name: str, start: list[float], optimizer: dict | None = None) -> dict:
    raw = {"task": {"kind": "function", "name": name, "start": start}}
    return config.resolve({**raw, "optimizer": optimizer} if optimizer else raw)


@pytest.mark.parametrize("name, start, lr", [
    ("quadratic", [1.0, 1.0], 0.1),        # x² + y²: λmax 2, 1/λ = 0.5, capped at 0.1
    ("ravine", [1.0, 1.0], 0.05),          # ½(x² + 20y²): λmax 20 → 0.05
    ("booth", [0.0, 0.0], 0.05),           # Hessian [[10, 8], [8, 10]]: λmax 18, 1/18 = 0.0556 → 0.05
    ("rosenbrock", [0.0, 0.0], 0.005),     # Hessian at 0: diag(2, 200) → 1/200
    # at the minimum (1, 1): [[802, −400], [−400, 200]], λmax = 501 + √(301² + 400²) = 1001.6 → 0.000998
    ("rosenbrock", [1.0, 1.0], 0.0009),
    ("saddle", [1.0, 0.5], 0.1),           # x² − y²: λ = 2 and −2; the largest is 2
    ("monkey_saddle", [0.0, 0.0], 0.01),   # x³ − 3xy²: Hessian 0 at the origin, no limit: 0.01
])
def test_safe_lr_is_one_over_the_top_curvature_rounded_down(name, start, lr):
    assert safe_lr(landscape(name, start)) == pytest.approx(lr, rel=1e-12)


def test_default_entries_by_hand():
    # a landscape run on plain SGD keeps its rate for the SGD racers; Adam and Newton complete four
    own = {"name": "sgd", "lr": 0.2}
    got = default_entries(landscape("quadratic", [1.0, 1.0], own))
    assert [e["name"] for e in got] == ["sgd", "sgd", "adam", "newton"]
    assert got[0]["lr"] == 0.2 and got[1] == {"name": "sgd", "lr": 0.2, "momentum": 0.9}
    assert got[2] == {"name": "adam", "lr": 0.05}
    # a landscape run on Adam: the SGD racers take the safe rate (0.005 at Rosenbrock's origin)
    got = default_entries(landscape("rosenbrock", [0.0, 0.0], {"name": "adam", "lr": 0.02}))
    assert got[1:] == [{"name": "sgd", "lr": 0.005}, {"name": "sgd", "lr": 0.005, "momentum": 0.9},
                       {"name": "newton"}]
    assert got[0]["name"] == "adam" and got[0]["lr"] == 0.02
    # datasets: three racers; a run with momentum already is the "momentum" kind
    got = default_entries(config.with_changes(CIRCLES, optimizer={"name": "sgd", "lr": 0.3, "momentum": 0.5}))
    assert got[1:] == [{"name": "sgd", "lr": 0.1}, {"name": "adam", "lr": 0.01}]
    got = default_entries(CIRCLES)  # the default optimizer is Adam
    assert got[0]["name"] == "adam"
    assert got[1:] == [{"name": "sgd", "lr": 0.1}, {"name": "sgd", "lr": 0.1, "momentum": 0.9}]


def test_a_new_tolerance_rereads_the_finish_from_the_measured_losses():
    base = landscape("quadratic", [1.0, 1.0])
    entries = [{"optimizer": {"name": "sgd", "lr": 0.1}}, {"optimizer": {"name": "sgd", "lr": 0.4}}]
    race = Race(base, entries, tol=1e-3)
    race.run(100)

    def by_hand(lr, tol):        # f after k steps = 2·(1 − 2lr)^(2k); the first k with f ≤ tol
        return math.ceil(math.log(tol / 2) / (2 * math.log(abs(1 - 2 * lr))))
    for tol in (1e-6, 1e-2, 1e-30):
        race.set_tol(tol)
        slow, fast = race.racers
        assert race.tol == tol
        if tol == 1e-30:         # slow: (0.8)^(2k)·2 ≤ 1e-30 needs k = 157 > 100 steps: not yet
            assert slow.finished_step is None and math.isnan(slow.finished_loss)
            assert fast.finished_step == by_hand(0.4, tol) == 22
        else:
            assert [slow.finished_step, fast.finished_step] == [by_hand(0.1, tol), by_hand(0.4, tol)]
            assert fast.finished_loss == pytest.approx(2 * 0.2 ** (2 * by_hand(0.4, tol)))
        fresh = Race(base, entries, tol=tol)  # as if the race had run with this tolerance
        fresh.run(100)
        assert [r.finished_step for r in race.racers] == [r.finished_step for r in fresh.racers]
