"""A twin trained in another thread must be indistinguishable from training the session itself."""
import numpy as np
import pytest

from gradplay.core import config
from gradplay.core.session import Session

MOONS = {"task": {"kind": "dataset", "name": "moons", "n_samples": 120},
         "network": {"hidden": [6, 5], "activation": "tanh"}, "loss": {"name": "bce"}}
CASES = {
    "landscape-adam": {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.05}},
    "landscape-lbfgs": {"task": {"kind": "function", "name": "beale"}, "optimizer": {"name": "lbfgs", "lr": 0.5}},
    "minibatch-bn-adam-step": {**MOONS, "network": {"hidden": [6, 5], "batch_norm": True},
                               "training": {"batch_size": 10},
                               "optimizer": {"name": "adam", "lr": 0.01},
                               "schedule": {"name": "step", "step_size": 7, "gamma": 0.5}},
    "full-lbfgs": {**MOONS, "training": {"batch_size": "full"}, "optimizer": {"name": "lbfgs", "lr": 0.5}},
    "sgd-momentum-l2-clip": {**MOONS, "training": {"batch_size": 16, "l2": 1e-3, "clip_norm": 0.5},
                             "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}},
}


def state(s: Session) -> dict:
    out = {"step": s.step, "halted": s.halted, "theta": s.theta.copy(), "grad": s.grad.copy(),
           "rng": {k: g.bit_generator.state for k, g in s.rngs.items()},
           "opt": s.optimizer.state_dict()["state"]}
    out.update(s.history.as_arrays())
    out.update(s.evals.as_arrays("eval_"))
    if s.model is not None:
        out.update(pos=s._pos, perm=s._perm.copy(), **s.model.buffers())
    return out


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict):
            assert_same(a[k], b[k])
        elif isinstance(a[k], np.ndarray):
            assert np.array_equal(a[k], b[k], equal_nan=True), k
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("case", CASES)
def test_twin_progress_synced_back_equals_training_in_place(case):
    cfg = config.resolve(CASES[case])
    direct = Session(cfg)
    direct.run(23)
    direct.evaluate()
    direct.run(40)

    shown = Session(cfg)
    shown.run(23)
    shown.evaluate()
    before = state(shown)
    twin = shown.clone()
    twin.run(25)
    assert_same(state(shown), before)  # training the twin leaves the shown session alone
    shown.sync_from(twin)
    twin.run(15)
    shown.sync_from(twin)
    assert_same(state(shown), state(direct))
    # ...and the synced session continues exactly as the one trained in place
    direct.run(30)
    shown.run(30)
    assert_same(state(shown), state(direct))


def test_sync_keeps_the_arrays_panels_hold_and_tells_that_it_stepped():
    s = Session(config.resolve(CASES["sgd-momentum-l2-clip"]))
    events = []
    s.subscribe(events.append)
    theta, grad = s.theta, s.grad
    twin = s.clone()
    twin.run(5)
    assert events == []  # nobody listens to the twin
    assert s.sync_from(twin) is False  # no edit of the settings
    assert events == ["stepped"] and s.theta is theta and s.grad is grad and s.step == 5
    s.sync_from(twin)
    assert events == ["stepped"], "nothing new: no event"


def test_twin_halt_is_carried_back():
    s = Session(config.resolve({"task": {"kind": "function", "name": "rosenbrock"},
                                   "optimizer": {"name": "sgd", "lr": 1.0}}))
    twin = s.clone()
    twin.run(200)
    s.sync_from(twin)
    assert s.halted and s.step == twin.step < 200
    assert np.isfinite(s.theta).all()


def test_upcoming_batches_are_the_ones_training_draws():
    s = Session(config.resolve(CASES["minibatch-bn-adam-step"]))
    s.run(5)
    ahead = s.upcoming_batches(30)  # crosses an epoch boundary (108 train samples, batches of 10)
    assert s.upcoming_batches(30)[0].tolist() == ahead[0].tolist()  # looking ahead draws nothing
    for idx in ahead:
        s.run(1)
        assert s.last_batch.tolist() == idx.tolist()
    full = Session(config.resolve({**MOONS, "training": {"batch_size": "full"}}))
    assert full.upcoming_batches(3) is None
