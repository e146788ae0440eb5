"""Stop conditions: each fires at the step worked out by hand, says which it was, and a stopped run
is one that really happened (a rewind to the best check gives the bits of a run of that length)."""
import numpy as np
import pytest

from gradplay.core import config, headless, io
from gradplay.core.config import ConfigError
from gradplay.core.session import Session

SPIRAL = {"task": {"name": "spiral", "n_samples": 200}, "network": {"hidden": [6]},
          "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10}}


def session(**stop) -> Session:
    return Session(config.resolve(dict(SPIRAL, stop=stop)))


def crafted(s: Session, test_losses: list[float]) -> list[int]:
    """Make the session's evaluations return `test_losses` in turn; returns the steps evaluated."""
    seen, real = [], s.evaluate
    curve = iter(test_losses)

    def evaluate(record: bool = True) -> dict:
        res = real(record)
        seen.append(s.step)
        return dict(res, test_loss=next(curve))
    s.evaluate = evaluate
    return seen


# best 0.70 at the 3rd check; 0.69 is not better by more than min_delta 0.02; patience 3 ends it at
# the 6th check, step 60 with a check every 10 steps
CURVE = [1.0, 0.8, 0.7, 0.71, 0.69, 0.75, 0.5, 0.4]


def test_early_stopping_stops_at_the_worked_out_step():
    s = session(patience=3, min_delta=0.02, check_every=10)
    seen = crafted(s, CURVE)
    arrays = headless.record(s, 1000)
    assert seen == [10, 20, 30, 40, 50, 60]
    assert s.step == 60 and len(arrays["loss"]) == 60 and len(arrays["batch_index"]) == 60
    assert "early stopping" in s.stopped and "step 30" in s.stopped and "0.7" in s.stopped


def test_restore_best_rewinds_to_a_run_of_that_length():
    s = session(patience=3, min_delta=0.02, check_every=10, restore_best=True)
    crafted(s, CURVE)
    arrays = headless.record(s, 1000)
    ref = session()
    ref_arrays = headless.record(ref, 30)
    assert s.step == 30 and "rewound" in s.stopped
    assert np.array_equal(s.theta, ref.theta)
    for k in ("loss", "grad_norm", "batch_index", "final.W1"):
        assert np.array_equal(arrays[k], ref_arrays[k]), k
    assert s.history.get_steps()[-1] == 29  # the history is the rewound run's
    # and it trains on exactly as the run of 30 steps does
    s.run(25)
    ref.run(25)
    assert np.array_equal(s.theta, ref.theta)


def test_after_a_rewind_play_trains_on_instead_of_rewinding_again():
    """The steps after the best check replay exactly: early stopping would fire at step 60 again and
    rewind to 30 at every Play. It is off after a rewind, and the message says so."""
    s = session(patience=3, min_delta=0.02, check_every=10, restore_best=True)
    crafted(s, CURVE + [0.9] * 20)
    headless.record(s, 1000)
    assert s.step == 30 and "early stopping is now off" in s.stopped
    headless.record(s, 100)
    assert s.step == 130 and not s.stopped
    twin = s.clone()  # a training thread's twin carries it too
    assert twin.stopper.rewound


def reopened(s: Session, tmp_path, name: str = "run.gradplay") -> Session:
    io.save_session(s, tmp_path / name)
    return io.load_session(tmp_path / name)


def test_a_saved_run_stops_where_the_run_that_went_on_does(tmp_path):
    """What early stopping has seen is saved: reopened after two checks without improvement, the run
    stops after one more, as the uninterrupted run does (it used to start counting afresh)."""
    curve = CURVE + [0.9] * 10
    whole = session(patience=3, min_delta=0.02, check_every=10)
    crafted(whole, curve)
    headless.record(whole, 1000)
    part = session(patience=3, min_delta=0.02, check_every=10)
    crafted(part, curve)
    headless.record(part, 50)  # checks at 10..50: best 0.70 at 30, then 2 without improvement
    assert not part.stopped and part.stopper.waited == 2
    again = reopened(part, tmp_path)
    assert again.stopper.progress() == part.stopper.progress()
    crafted(again, curve[5:])  # the checks it has not seen yet
    headless.record(again, 1000)
    assert whole.step == again.step == 60 and again.stopped == whole.stopped
    np.testing.assert_array_equal(again.theta, whole.theta)


def test_a_rewound_run_reopened_does_not_rewind_again(tmp_path):
    s = session(patience=3, min_delta=0.02, check_every=10, restore_best=True)
    crafted(s, CURVE + [0.9] * 20)
    headless.record(s, 1000)
    assert s.step == 30 and s.stopper.rewound
    again = reopened(s, tmp_path)
    assert again.stopper.rewound and again.stopper.best_step == 30
    crafted(again, [0.9] * 20)
    headless.record(again, 100)
    assert again.step == 130 and not again.stopped


@pytest.mark.parametrize("change, message", [
    ({"waited": -1}, "stopper.waited must be a whole number from 0"),
    ({"best": "low"}, "stopper.best must be a number"),
    ({"best_step": 10**9}, "stopper.best_step must be a whole number from 0 to 40"),
    ({"rewound": 1}, "stopper.rewound must be true or false"),
    ({"best_state": {}}, "stopper must be a table of best, best_step, rewound, target_spent, waited"),
])
def test_a_damaged_stopper_in_a_file_is_named(tmp_path, change, message):
    import json
    import zipfile

    s = session(patience=3, check_every=10)
    s.run(40)
    io.save_session(s, tmp_path / "run.gradplay")
    with zipfile.ZipFile(tmp_path / "run.gradplay") as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(members["session.json"])
    meta["state"]["stopper"].update(change)
    members["session.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(tmp_path / "bad.gradplay", "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(io.SessionFileError, match=message):
        io.load_session(tmp_path / "bad.gradplay")


def test_a_file_from_before_the_stopper_was_saved_starts_it_afresh(tmp_path):
    s = session(patience=3, check_every=10)
    crafted(s, CURVE)
    s.run(50)
    state = s.snapshot()
    del state["stopper"]
    fresh = session(patience=3, check_every=10)
    fresh.restore(state)
    assert fresh.step == 50 and fresh.stopper.waited == 0 and fresh.stopper.best_step is None


def test_max_epochs_and_max_steps():
    s = session(max_epochs=3)
    assert s.steps_per_epoch == 16  # 160 training rows in batches of 10
    headless.record(s, 1000)
    assert s.step == 48 and "3 epochs" in s.stopped
    s = session(max_steps=77, max_epochs=100)
    headless.record(s, 1000)
    assert s.step == 77 and "step limit" in s.stopped


def test_target_loss_on_a_landscape_fires_at_the_first_step_at_or_below_it():
    raw = {"task": {"kind": "function", "name": "quadratic"}, "optimizer": {"name": "sgd", "lr": 0.05}}
    ref = Session(config.resolve(raw))
    while ref.landscape.value(ref.theta) > 1e-3:
        ref.run(1)
    s = Session(config.resolve(dict(raw, stop={"target_loss": 1e-3})))
    arrays = headless.record(s, 10_000)
    assert s.step == ref.step and len(arrays["trajectory"]) == ref.step + 1
    assert "reached the target" in s.stopped


def test_a_condition_that_fired_is_spent_and_play_goes_on():
    s = session(target_loss=10.0)  # met at the first check
    s.run(100)
    assert s.step == 16 and s.stopped
    assert s.run(100) == 100 and s.stopped is None and s.step == 116


def test_a_twin_trains_to_the_stop_and_hands_it_back():
    s = session(max_steps=40)
    twin = s.clone()
    twin.run(100)
    s.sync_from(twin)
    assert s.step == 40 and s.stopped == twin.stopped and "step limit" in s.stopped


def test_changing_the_conditions_keeps_the_optimizer_and_the_timeline():
    s = session()
    s.run(20)
    moments = s.optimizer.state_dict()
    s.set_config(config.with_changes(s.config, stop={"max_steps": 30}))
    assert s.timeline == [] and s.run_config["stop"]["max_steps"] == 30
    assert s.optimizer.state_dict()["state"]["step"] == moments["state"]["step"] == 20
    s.run(100)
    assert s.step == 30 and s.stopped


@pytest.mark.parametrize("stop, message", [
    ({"patience": -1}, "'stop.patience' = -1 is out of range"),
    ({"patience": 2.5}, "'stop.patience' must be an integer"),
    ({"restore_best": 1}, "'stop.restore_best' must be true or false"),
    ({"after": 3}, "unknown key 'stop.after'"),
])
def test_bad_conditions_are_named(stop, message):
    with pytest.raises(ConfigError, match=message):
        config.resolve(dict(SPIRAL, stop=stop))


def test_stop_keys_are_not_timeline_keys():
    with pytest.raises(ConfigError, match="holds for the whole run"):
        config.resolve(dict(SPIRAL, timeline=[{"step": 5, "stop.max_steps": 9}]))
