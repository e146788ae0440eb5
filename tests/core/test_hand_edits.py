"""Weights set by hand: the value holds at once, is on the timeline, the optimizer keeps its state,
and a replay, a save and `gradplay run --set` give the same bits."""
import numpy as np
import pytest

from gradplay.core import config, headless, io, timeline
from gradplay.core.config import ConfigError
from gradplay.core.session import Session

MOONS = {"task": {"name": "moons", "n_samples": 100}, "network": {"hidden": [5, 4]},
         "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10}}


def test_an_edited_weight_holds_is_recorded_and_keeps_the_optimizer():
    s = Session(config.resolve(MOONS))
    s.run(40)
    moments = {k: v.copy() for k, v in s.optimizer.state.items() if isinstance(v, np.ndarray)}
    s.edit_param("W1", (1, 3), 0.75)
    assert s.model.W[0][1, 3] == 0.75
    assert s.timeline == [{"step": 40, "params.W1[1,3]": 0.75, "origin": "app"}]
    for k, v in moments.items():
        assert np.array_equal(s.optimizer.state[k], v), k    # the optimizer's state is untouched
    s.run(30)
    # the run replayed from its config and timeline: the same bits
    replay = Session(s.run_config)
    replay.run(70)
    assert np.array_equal(replay.theta, s.theta)
    # a run that trains past the edit in one call applies it at its step (the compiled path splits there)
    one_go = Session(s.run_config)
    one_go.run(70)
    assert np.array_equal(one_go.theta, s.theta)


def test_a_second_edit_at_the_same_step_merges_and_settings_edits_keep_it():
    s = Session(config.resolve(MOONS))
    s.run(10)
    s.edit_param("b2", (0,), -0.5)
    s.edit_param("W3", (2, 0), 1.5)
    s.set_config(config.with_changes(s.config, optimizer={"lr": 0.005}))
    (entry,) = s.timeline
    assert entry["params.b2[0]"] == -0.5 and entry["params.W3[2,0]"] == 1.5 and entry["optimizer.lr"] == 0.005


def test_saved_and_reopened_it_continues_bit_for_bit(tmp_path):
    s = Session(config.resolve(MOONS))
    s.run(20)
    s.edit_param("W2", (0, 0), 0.3)
    s.run(5)
    back = io.load_session(io.save_session(s, tmp_path / "s.gradplay"))
    assert back.timeline == s.timeline and np.array_equal(back.theta, s.theta)
    back.run(15)
    s.run(15)
    assert np.array_equal(back.theta, s.theta)


def test_a_scripted_timeline_sets_weights_as_gradplay_run_set_does():
    scripted = config.resolve(dict(MOONS, timeline=[{"step": 12, "params.W1[0,0]": -0.4}]))
    key, value, step = timeline.parse_set("params.W1[0,0]=-0.4@12")
    assert (key, value, step) == ("params.W1[0,0]", -0.4, 12)
    a = headless.record(Session(scripted), 30)
    s = Session(config.resolve(MOONS))
    s.run(12)
    s.edit_param("W1", (0, 0), -0.4)
    s.run(18)
    assert np.array_equal(a["final.W1"], s.model.W[0])


@pytest.mark.parametrize("key, value, message", [
    ("params.W9[0,0]", 1.0, "no parameter W9"),
    ("params.W1[2,0]", 1.0, r"W1 has shape \(2, 5\); index \[2, 0\] is outside it"),
    ("params.W1[0]", 1.0, "index \\[0\\] is outside it"),
    ("params.W1[0,0]", float("nan"), "must be a finite number"),
    ("params.weights", 1.0, "is not a parameter"),
    ("params.gamma1[0]", 1.0, "no parameter gamma1"),
])
def test_bad_hand_edits_are_named(key, value, message):
    with pytest.raises(ConfigError, match=message):
        config.resolve(dict(MOONS, timeline=[{"step": 3, key: value}]))


def test_landscapes_have_no_network_parameters():
    with pytest.raises(ConfigError, match="landscape task has none"):
        config.resolve({"task": {"kind": "function", "name": "booth"},
                        "timeline": [{"step": 3, "params.W1[0,0]": 1.0}]})


def test_the_evaluation_at_the_edit_step_is_of_the_edited_network():
    s = Session(config.resolve(MOONS))
    s.run(7)
    s.evaluate()
    rows, before = len(s.evals), s.evals.last("train_loss")
    s.edit_param("W2", (0, 0), 4.0)
    s.evaluate()
    assert len(s.evals) == rows and s.evals.steps[rows - 1] == 7  # one row per step: replaced, not added
    assert s.loss_name == "bce"  # recomputed by hand from the edited network's logits
    p = 1.0 / (1.0 + np.exp(-s.model.predict(s.inputs_train).ravel()))
    y = s.data.y_train.ravel()
    assert s.evals.last("train_loss") == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-9)
    assert s.evals.last("train_loss") != before
