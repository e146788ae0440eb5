"""The training loop: one step against hand computation, reproducibility, halting, snapshots."""
import math

import numpy as np
import pytest

from gradplay.core import config, headless, losses
from gradplay.core.landscapes import get_landscape
from gradplay.core.nn import MLP
from gradplay.core.session import Session, make_streams

CIRCLES = {"task": {"name": "circles", "n_samples": 100}, "network": {"hidden": [5, 4]},
           "optimizer": {"name": "sgd", "lr": 0.1}, "training": {"batch_size": 10}}


def test_landscape_sgd_steps_match_hand_computation(make_session):
    s = make_session(task={"kind": "function", "name": "rosenbrock", "start": [-1.0, 1.5]},
                     optimizer={"name": "sgd", "lr": 1e-3})
    x, y = -1.0, 1.5
    for _ in range(3):
        gx = -2 * (1 - x) - 400 * x * (y - x * x)  # d/dx of (1-x)^2 + 100 (y-x^2)^2
        gy = 200 * (y - x * x)
        x, y = x - 1e-3 * gx, y - 1e-3 * gy
        s.run(1)
    assert s.theta == pytest.approx([x, y], rel=1e-14)
    assert s.step == 3 and len(s.history) == 3
    assert s.history.get("x")[0] == -1.0 and s.history.get("y")[0] == 1.5  # rows hold the point before a step


def test_full_batch_step_matches_a_hand_built_network(make_session):
    s = make_session(**{**CIRCLES, "training": {"batch_size": "full", "l2": 0.01}})
    rngs = make_streams(0)
    # the data came from the "data" stream, so the "init" stream alone rebuilds the same net
    net = MLP(2, [5, 4], 1, activation="tanh", init="xavier_uniform", rng=rngs["init"])
    assert np.array_equal(net.theta, s.theta)
    out = net.forward(s.data.x_train)
    loss, dout = losses.loss_and_grad("bce", out, s.data.y_train)
    net.backward(dout)
    grad = net.grad + 2 * 0.01 * net.theta * net.weight_mask
    loss += 0.01 * np.sum(net.theta[net.weight_mask] ** 2)
    s.run(1)
    assert s.last_loss == pytest.approx(loss, rel=1e-14)
    assert s.theta == pytest.approx(net.theta - 0.1 * grad, rel=1e-13)


def test_minibatches_cover_each_sample_once_per_epoch(make_session):
    s = make_session(**CIRCLES)
    arrays = headless.record(s, s.steps_per_epoch)
    seen = arrays["batch_index"].ravel()
    assert sorted(seen[seen >= 0]) == list(range(s.n_train))


def test_same_seed_gives_bit_identical_runs():
    cfg = config.resolve({**CIRCLES, "optimizer": {"name": "adam", "lr": 0.01}})
    a = headless.record(Session(cfg), 60)
    b = headless.record(Session(cfg), 60)
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    c = headless.record(Session(config.with_changes(cfg, seed=1)), 60)
    assert not np.array_equal(a["final.W1"], c["final.W1"])


def test_record_matches_the_contract_shapes(make_session):
    s = make_session(**CIRCLES)
    arr = headless.record(s, 25)
    assert arr["loss"].shape == (25,) and arr["grad_norm"].shape == (25, 3)
    assert arr["batch_index"].shape == (25, 10)
    assert arr["init.W1"].shape == (2, 5) and arr["final.W3"].shape == (4, 1)
    f = make_session(task={"kind": "function", "name": "booth"}, optimizer={"name": "sgd", "lr": 0.01})
    arr = headless.record(f, 25)
    assert arr["trajectory"].shape == (26, 2) and arr["loss"].shape == (26,)
    land = get_landscape("booth")
    assert np.array_equal(arr["trajectory"][0], land.start)
    assert arr["loss"][-1] == land.value(arr["trajectory"][-1])


def test_grad_norm_is_recorded_before_clipping(make_session):
    s = make_session(**{**CIRCLES, "training": {"batch_size": "full", "clip_norm": 1e-3}})
    before = s.theta.copy()
    s.run(1)
    total = math.sqrt(np.sum(s.grad_norms ** 2))
    assert total > 1e-3
    step = np.linalg.norm(s.theta - before)
    assert step == pytest.approx(0.1 * total * 1e-3 / (total + 1e-6), rel=1e-9)  # lr * clipped norm


def test_divergence_halts_and_keeps_the_last_finite_state(make_session):
    s = make_session(task={"kind": "function", "name": "rosenbrock"}, optimizer={"name": "sgd", "lr": 10.0})
    done = s.run(1000)
    assert s.halted and done < 1000
    assert "learning rate" in s.halted
    assert np.isfinite(s.theta).all()
    assert s.run(10) == 0, "a halted session does not train until reset"
    s.reset()
    assert s.halted is None and s.step == 0


@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_snapshot_restore_continues_bit_identically(dropout):
    cfg = config.resolve({**CIRCLES, "network": {**CIRCLES.get("network", {}), "dropout": dropout},
                          "optimizer": {"name": "adam", "lr": 0.01},
                          "schedule": {"name": "step", "step_size": 7, "gamma": 0.5}})
    a = Session(cfg)
    a.run(23)
    snap = a.snapshot()
    a.run(31)
    b = Session(cfg)
    b.restore(snap)
    b.run(31)
    assert np.array_equal(a.theta, b.theta)
    assert np.array_equal(a.history.get("loss"), b.history.get("loss"))
    assert a.schedule.lr == b.schedule.lr


def test_reset_gives_the_same_initial_weights(make_session):
    s = make_session(**CIRCLES)
    init = s.theta.copy()
    s.run(20)
    assert not np.array_equal(s.theta, init)
    s.reset()
    assert np.array_equal(s.theta, init) and s.step == 0 and len(s.history) == 0


def test_changing_only_the_optimizer_keeps_the_parameters(make_session):
    s = make_session(**CIRCLES)
    s.run(10)
    theta = s.theta.copy()
    s.set_config(config.with_changes(s.config, optimizer={"name": "adam", "lr": 0.01}))
    assert np.array_equal(s.theta, theta) and s.step == 10
    assert s.optimizer.name == "adam"
    s.run(1)
    assert not np.array_equal(s.theta, theta)
    s.set_config(config.with_changes(s.config, network={"hidden": [3]}))
    assert s.step == 0 and s.n_layers == 2


def test_newton_solves_a_quadratic_in_one_step(make_session):
    s = make_session(task={"kind": "function", "name": "quadratic"}, optimizer={"name": "newton", "damping": 0.0})
    s.run(1)
    assert np.abs(s.theta).max() < 1e-12


@pytest.mark.parametrize("opt", ["sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "newton", "lbfgs"])
def test_every_optimizer_lowers_the_loss_on_a_small_net(opt):
    lr = {"sgd": 0.5, "adagrad": 0.1, "rmsprop": 0.01, "adadelta": 1.0, "adam": 0.02, "adamw": 0.02,
          "newton": 0.5, "lbfgs": 0.5}[opt]
    cfg = config.resolve({"task": {"name": "gauss", "n_samples": 60}, "network": {"hidden": [3]},
                          "optimizer": {"name": opt, "lr": lr}, "training": {"batch_size": "full"}})
    s = Session(cfg)
    start = s.current_loss()
    s.run(30)
    assert s.halted is None
    assert s.current_loss() < start


def test_evaluate_records_accuracy(make_session):
    s = make_session(task={"name": "gauss"}, network={"hidden": [4]}, optimizer={"name": "adam", "lr": 0.05})
    s.run(200)
    res = s.evaluate()
    assert res["train_acc"] > 0.9 and len(s.evals) == 1
    s.evaluate()
    assert len(s.evals) == 1, "one eval row per step"


def test_newton_hessian_leaves_batchnorm_statistics_alone(make_session):
    s = make_session(task={"name": "gauss", "n_samples": 40}, network={"hidden": [3], "batch_norm": True},
                     optimizer={"name": "newton", "lr": 0.5}, training={"batch_size": "full"})
    init = Session(s.config)
    z = s.data.x_train @ init.model.W[0] + init.model.b[0]
    s.run(1)
    # exactly one train-mode forward this step: the running mean moved once, by momentum 0.1
    assert s.model.running_mean[0] == pytest.approx(0.1 * z.mean(axis=0), rel=1e-12)


def test_snapshot_keeps_the_last_gradient(make_session):
    s = make_session(**CIRCLES)
    s.run(3)
    t = Session(s.config)
    t.restore(s.snapshot())
    assert np.array_equal(t.grad, s.grad) and np.abs(t.grad).sum() > 0
