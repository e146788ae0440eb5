"""Per-neuron maps over the input plane: each hidden unit's eval-mode output against a hand-written
forward pass and PyTorch, on the view plane, with the session's training state left untouched."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from gradplay.core import config, features, losses
from gradplay.core.nn import ACTIVATIONS, MLP
from gradplay.core.session import Session
from gradplay.core.unit_maps import feature_grids, map_levels, unit_grids

from .test_nn import torch_model

# --- a hand-written forward pass, one point and one unit at a time ------------------------------
SCALAR = {"tanh": math.tanh, "relu": lambda z: max(z, 0.0), "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
          "linear": lambda z: z}


def hand_units(net: MLP, point: tuple[float, float]) -> list[list[float]]:
    """Outputs of every hidden unit at one input point: plain Python sums, no matrix product."""
    f = SCALAR[net.activation]
    a = list(point)
    layers = []
    for i in range(net.n_layers - 1):
        W, b = net.W[i], net.b[i]
        out = []
        for j in range(W.shape[1]):
            z = sum(a[k] * W[k, j] for k in range(W.shape[0])) + b[j]
            if net.batch_norm:
                z = (z - net.running_mean[i][j]) / math.sqrt(net.running_var[i][j] + 1e-5)
                z = z * net.gamma[i][j] + net.beta[i][j]
            out.append(f(z))
        layers.append(out)
        a = out
    return layers


def tiny_net(activation: str, batch_norm: bool = False) -> MLP:
    net = MLP(2, [3, 2], 1, activation, batch_norm=batch_norm, rng=np.random.default_rng(5))
    rng = np.random.default_rng(6)
    net.theta[:] = rng.normal(0.0, 1.2, net.theta.size)  # biases, gamma and beta not at their defaults
    for m, v in zip(net.running_mean, net.running_var):
        m[:] = rng.normal(0.0, 0.5, m.size)
        v[:] = rng.uniform(0.3, 2.0, v.size)
    return net


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("activation", sorted(SCALAR))
def test_unit_outputs_match_a_hand_written_forward_pass(activation, batch_norm):
    net = tiny_net(activation, batch_norm)
    x = np.array([[0.3, -1.2], [1.5, 0.0], [-0.7, 0.9]])
    outs = net.unit_outputs(x)
    assert [o.shape for o in outs] == [(3, 3), (3, 2)]
    for r, point in enumerate(x):
        for layer, want in zip(outs, hand_units(net, tuple(point))):
            np.testing.assert_allclose(layer[r], want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_last_hidden_layer_feeds_predict_bit_for_bit(batch_norm):
    net = tiny_net("tanh", batch_norm)
    x = np.random.default_rng(1).normal(size=(50, 2))
    h = net.unit_outputs(x)[-1]
    out = h @ net.W[-1]
    out += net.b[-1]
    np.testing.assert_array_equal(out, net.predict(x))


def test_no_hidden_layer_has_no_unit_outputs():
    assert MLP(2, [], 1, rng=np.random.default_rng(0)).unit_outputs(np.zeros((4, 2))) == []


# --- the grids over a session's view plane ----------------------------------------------------
CIRCLES = {"task": {"kind": "dataset", "name": "circles", "n_samples": 120}, "network": {"hidden": [3, 2]},
           "optimizer": {"name": "adam", "lr": 0.03}, "training": {"batch_size": 10}, "seed": 3}


def session(**network) -> Session:
    return Session(config.resolve({**CIRCLES, "network": {**CIRCLES["network"], **network}}), fast=False)


def test_unit_grids_sample_the_view_plane_point_by_point():
    s = session(activation="tanh")
    s.run(30)
    n = 5
    xs, ys, layers = unit_grids(s, n)
    x0, x1, y0, y1 = s.data.info.view
    np.testing.assert_array_equal(xs, np.linspace(x0, x1, n))
    np.testing.assert_array_equal(ys, np.linspace(y0, y1, n))
    assert [a.shape for a in layers] == [(n, n, 2), (n, n, 3), (n, n, 2)]
    for j in range(n):          # row j is y = ys[j], column i is x = xs[i], as Session.output_grid
        for i in range(n):
            assert tuple(layers[0][j, i]) == (xs[i], ys[j])
            for got, want in zip(layers[1:], hand_units(s.model, (xs[i], ys[j]))):
                np.testing.assert_allclose(got[j, i], want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_unit_grids_agree_with_the_output_map(loss):
    """The last hidden layer's maps, through the output layer, are the model's displayed output."""
    raw = dict(CIRCLES, loss={"name": loss})
    s = Session(config.resolve(raw), fast=False)
    s.run(40)
    xs, ys, layers = unit_grids(s, 7)
    h = layers[-1].reshape(49, -1)
    logits = h @ s.model.W[-1]
    logits += s.model.b[-1]
    _, _, Z = s.output_grid(7)
    np.testing.assert_array_equal(losses.prediction(loss, logits).reshape(Z.shape), Z)


def state(s: Session) -> dict:
    m = s.model
    return copy.deepcopy({"step": s.step, "theta": s.theta.copy(), "grad": s.grad.copy(),
                          "optimizer": s.optimizer.state_dict(), "schedule": s.schedule.state_dict(),
                          "rng": {k: g.bit_generator.state for k, g in s.rngs.items()},
                          "buffers": m.buffers(), "perm": s._perm.copy(), "pos": s._pos,
                          "caches": {k: [None if v is None else v.copy() for v in getattr(m, k)]
                                     for k in ("a", "z", "h", "dz", "_y", "_xhat", "_inv")}})


def assert_same(a, b, path="state"):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{k}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    else:
        assert a == b, path


def test_unit_grids_leave_the_training_state_untouched():
    """Params, gradient, optimizer and schedule state, running statistics, random streams, batch
    order and the forward/backward caches are the same after the call, and training goes on bit
    for bit as in a twin session that never drew a map."""
    s, twin = session(batch_norm=True, activation="relu"), session(batch_norm=True, activation="relu")
    s.run(25)
    twin.run(25)
    before = state(s)
    assert any((m != 0).any() for m in s.model.running_mean)  # the statistics have moved
    unit_grids(s, 9)
    s.model.unit_outputs(np.ones((3, 2)))
    assert_same(before, state(s))
    s.run(25)
    twin.run(25)
    np.testing.assert_array_equal(s.theta, twin.theta)
    assert_same(s.model.buffers(), twin.model.buffers())


def test_unit_grids_refuse_landscape_tasks_and_tiny_grids():
    s = Session(config.resolve({"task": {"kind": "function", "name": "rosenbrock"}}))
    with pytest.raises(ValueError, match="dataset"):
        unit_grids(s, 8)
    with pytest.raises(ValueError, match="n >= 2"):
        unit_grids(session(), 1)


# --- PyTorch cross-check --------------------------------------------------------------------------
TORCH_ACTS = ("linear", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "gelu", "silu")


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_unit_grids_match_torch_in_eval_mode(activation, batch_norm):
    """Each hidden layer's maps are what torch's activation modules output for the plane's points,
    the batch-norm net in eval mode with the session's running statistics."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    assert set(TORCH_ACTS) == set(ACTIVATIONS)
    s = session(activation=activation, batch_norm=batch_norm, hidden=[4, 3])
    s.run(30)
    net = s.model
    model, _, bns = torch_model(net)  # tests/core/test_nn.py's copy of the net in torch
    with torch.no_grad():
        for i, bn in enumerate(bns):  # eval mode: the session's running statistics
            bn.running_mean.copy_(torch.from_numpy(net.running_mean[i].copy()))
            bn.running_var.copy_(torch.from_numpy(net.running_var[i].copy()))
    taps = []
    for module in model:  # the activations' outputs: the hidden units
        if not isinstance(module, (nn.Linear, nn.BatchNorm1d)):
            module.register_forward_hook(lambda mod, inp, out: taps.append(out.detach().numpy().copy()))
    model.eval()
    n = 6
    xs, ys, layers = unit_grids(s, n)
    gx, gy = np.meshgrid(xs, ys)
    with torch.no_grad():
        logits = model(torch.from_numpy(np.column_stack([gx.ravel(), gy.ravel()])))
    assert len(taps) == len(layers) - 1 == 2
    for got, want in zip(layers[1:], taps):
        np.testing.assert_allclose(got.reshape(n * n, -1), want, rtol=1e-10, atol=1e-12)
    h = layers[-1].reshape(n * n, -1)
    np.testing.assert_allclose(h @ net.W[-1] + net.b[-1], logits.numpy(), rtol=1e-10, atol=1e-12)


# --- colour ranges --------------------------------------------------------------------------------
def test_map_levels_per_activation():
    v = np.array([[0.2, -0.05], [np.nan, 0.4]])
    assert map_levels("tanh", 1, v) == (-1.0, 1.0)          # bounded: the full range, whatever v holds
    assert map_levels("sigmoid", 2, v) == (0.0, 1.0)
    assert map_levels("relu", 1, v) == (-0.4, 0.4)          # unbounded: ±max finite |h| of the layer
    assert map_levels("gelu", 3, -v) == (-0.4, 0.4)
    assert map_levels("tanh", 0, np.array([-1.5, 1.2])) == (-1.5, 1.5)  # inputs: ±max |x|, any activation
    lo, hi = map_levels("relu", 1, np.zeros(4))
    assert lo == -hi and 0 < hi <= 1e-12
    assert map_levels("linear", 1, np.array([np.inf, -3.0])) == (-3.0, 3.0)


def test_feature_grids_hold_every_candidate_feature_over_the_plane():
    xs, ys, F = feature_grids((-2.0, 2.0, -1.0, 3.0), 7)
    assert F.shape == (7, 7, len(features.NAMES))
    gx, gy = np.meshgrid(xs, ys)
    want = [gx, gy, gx**2, gy**2, gx * gy, np.sin(gx), np.sin(gy), np.cos(gx), np.cos(gy)]
    for k, w in enumerate(want):
        np.testing.assert_allclose(F[:, :, k], w, rtol=0, atol=1e-15)
