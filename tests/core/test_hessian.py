"""The exact network Hessian against central differences of the analytic gradient and against
torch.autograd.functional.hessian of the same network, and its use by Newton's method."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from gradplay.core import hessian, losses, optim
from gradplay.core.hessian import network_hessian
from gradplay.core.nn import ACTIVATIONS, MLP
from tests.core.test_nn import analytic_grad, assert_fd_close, make_targets, torch_loss, torch_model

PENALTIES = {"no-penalty": (0.0, 0.0), "l1-l2": (0.01, 0.02)}
KINKED = ("relu", "leaky_relu", "elu")


def case(activation, loss: str, batch_norm: bool, hidden=(5, 4), n: int = 9, draw: int = 0):
    """A small net with non-trivial biases, γ and β, and a batch (x, y) for `loss`, seeded by the case."""
    rng = np.random.default_rng(zlib.crc32(f"{activation}-{loss}-{batch_norm}-{hidden}-{n}-{draw}".encode()))
    net = MLP(3, hidden, losses.output_units(loss, 3), activation, "xavier_normal", batch_norm=batch_norm,
              rng=rng)
    net.theta += rng.normal(0, 0.1, net.theta.size)
    return net, rng.normal(size=(n, 3)), make_targets(loss, n, 3, rng)


def distance_to_kinks(net: MLP, x, y, loss: str) -> float:
    """How far the case is from the nearest kink of its activation, loss and L1 penalty."""
    net = net.copy()
    out = net.forward(x)
    d = [np.abs(net.theta[net.weight_mask]).min()]                # |w| of the L1 penalty
    d += [np.abs(net._y[i]).min() for i in range(net.n_layers - 1) if net.activations[i] in KINKED]
    r = out[:, 0] - y
    d += {"mae": [np.abs(r).min()], "huber": [np.abs(np.abs(r) - 1).min()],
          "hinge": [np.abs(1 - y * out[:, 0]).min()]}.get(loss, [])
    return float(min(d))


def smooth_case(activation, loss: str, batch_norm: bool, **shape):
    """`case`, drawn again until it is 1e-3 away from every kink: central differences with steps of
    1e-5 then see one smooth piece."""
    for draw in range(20):
        net, x, y = case(activation, loss, batch_norm, draw=draw, **shape)
        if distance_to_kinks(net, x, y, loss) > 1e-3:
            return net, x, y
    raise AssertionError("no draw away from the kinks")


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("loss", losses.LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_central_differences_of_the_gradient(activation, loss, batch_norm, penalty):
    net, x, y = smooth_case(activation, loss, batch_norm)
    l1, l2 = PENALTIES[penalty]
    probe = net.copy()

    def grad(theta):
        probe.theta[:] = theta
        return analytic_grad(probe, loss, x, y, l1, l2)[0]

    assert_fd_close(network_hessian(net, x, y, loss, l1, l2), optim.numerical_hessian(grad, net.theta))


@pytest.fixture(scope="module")
def torch():
    """torch on one thread: these tiny Hessians take ~10 ms that way, seconds with contending threads."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def torch_hessian(torch, net: MLP, x, y, loss: str, l1: float, l2: float) -> np.ndarray:
    """torch.autograd.functional.hessian of the same objective (test_nn's mirror network, train
    mode), as a function of gradplay's flat theta."""
    model, linears, bns = torch_model(net)
    model.train()
    name_of = {id(p): name for name, p in model.named_parameters()}
    slot = {}
    for i, lin in enumerate(linears):
        slot[f"W{i + 1}"], slot[f"b{i + 1}"] = name_of[id(lin.weight)], name_of[id(lin.bias)]
    for i, bn in enumerate(bns):
        slot[f"gamma{i + 1}"], slot[f"beta{i + 1}"] = name_of[id(bn.weight)], name_of[id(bn.bias)]
    xt = torch.from_numpy(x)

    def objective(theta):
        params, weights, offset = {}, [], 0
        for name, view in net.params().items():
            value = theta[offset:offset + view.size].reshape(view.shape)
            offset += view.size
            if name.startswith("W"):
                weights.append(value)
                value = value.T                                   # torch's Linear keeps Wᵀ
            params[slot[name]] = value
        out = torch.func.functional_call(model, params, (xt,))
        return (torch_loss(loss, out, y) + l1 * sum(w.abs().sum() for w in weights)
                + l2 * sum((w * w).sum() for w in weights))

    theta = torch.from_numpy(net.theta.copy())
    return torch.autograd.functional.hessian(objective, theta, vectorize=True).numpy()


def assert_torch_close(ours: np.ndarray, theirs: np.ndarray) -> None:
    # Entries that vanish exactly (batch norm cancels the bias before it) are rounding noise on both
    # sides, so the absolute floor is relative to the largest entry.
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12 * np.abs(theirs).max())


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("loss", losses.LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_torch(torch, activation, loss, batch_norm, penalty):
    net, x, y = case(activation, loss, batch_norm)
    l1, l2 = PENALTIES[penalty]
    assert_torch_close(network_hessian(net, x, y, loss, l1, l2), torch_hessian(torch, net, x, y, loss, l1, l2))


@pytest.mark.parametrize("loss, y0", [("mae", 1.0), ("hinge", 1.0), ("huber", 0.0)])
@pytest.mark.parametrize("activation", KINKED)
def test_at_kinks_follows_torch(torch, activation, loss, y0):
    # Sample 0 is x = 0 with zero hidden biases: every hidden pre-activation is exactly 0 (the
    # activation's kink) and its logit is exactly the output bias 1, which y0 puts on the loss's
    # kink: mae's r = 0, hinge's margin 0, huber's |r| = 1. W1[0, 0] = 0 is L1's kink.
    net, x, y = case(activation, loss, False)
    x[0] = 0.0
    for b in net.b[:-1]:
        b[...] = 0.0
    net.b[-1][...] = 1.0
    net.W[0][0, 0] = 0.0
    y[0] = y0
    assert_torch_close(network_hessian(net, x, y, loss, 0.01, 0.02),
                       torch_hessian(torch, net, x, y, loss, 0.01, 0.02))


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_symmetric_and_leaves_the_model_untouched(batch_norm, loss):
    net, x, y = case("tanh", loss, batch_norm)
    for _ in range(2):                          # running statistics away from their defaults
        analytic_grad(net, loss, x + 1.0, y, 0.0, 0.0)
    before = net.copy()
    H = network_hessian(net, x, y, loss, 0.01, 0.02)
    assert np.array_equal(H, H.T)
    assert np.array_equal(net.theta, before.theta) and np.array_equal(net.grad, before.grad)
    for key, value in before.buffers().items():
        assert np.array_equal(net.buffers()[key], value), key
    for name in ("a", "z", "h", "dz"):          # the caches still describe the last training pass
        for ours, saved in zip(getattr(net, name), getattr(before, name)):
            assert np.array_equal(ours, saved), name


def test_at_another_theta_equals_the_hessian_of_a_net_there():
    net, x, y = case("gelu", "bce", True)
    theta = net.theta + 0.05
    moved = net.copy()
    moved.theta[:] = theta
    kept = net.theta.copy()
    assert np.array_equal(network_hessian(net, x, y, "bce", 0.0, 0.1, theta=theta),
                          network_hessian(moved, x, y, "bce", 0.0, 0.1))
    assert np.array_equal(net.theta, kept)


def test_tangents_split_into_small_stacks_give_the_same_hessian(monkeypatch):
    net, x, y = case("silu", "cross_entropy", True, hidden=(6, 5, 4), n=12)
    whole = network_hessian(net, x, y, "cross_entropy")
    monkeypatch.setattr(hessian, "_STACK_ELEMENTS", 1)           # one tangent per sweep
    np.testing.assert_allclose(network_hessian(net, x, y, "cross_entropy"), whole, rtol=1e-12,
                               atol=1e-14 * np.abs(whole).max())


@pytest.mark.parametrize("hidden, n", [((), 9), ((4,), 1), ((3, 3, 3), 5)])
def test_other_shapes_match_central_differences(hidden, n):
    net, x, y = smooth_case("tanh", "bce", False, hidden=hidden, n=n)
    probe = net.copy()

    def grad(theta):
        probe.theta[:] = theta
        return analytic_grad(probe, "bce", x, y, 0.0, 0.0)[0]

    assert_fd_close(network_hessian(net, x, y, "bce"), optim.numerical_hessian(grad, net.theta))


def test_newton_on_a_network_takes_the_exact_hessian(make_session):
    s = make_session(task={"name": "moons", "n_samples": 40}, network={"hidden": [4], "batch_norm": True},
                     optimizer={"name": "newton"}, training={"batch_size": 16, "l1": 0.01, "l2": 0.02})
    _, objective = s._loss_and_grad()
    xb, yb = s.data.x_train[s.last_batch], s.data.y_train[s.last_batch]
    theta, grad, buffers = s.theta.copy(), s.grad.copy(), s.model.buffers()
    exact = network_hessian(s.model, xb, yb, s.loss_name, 0.01, 0.02)
    assert np.array_equal(objective.hessian(s.theta), exact)
    elsewhere = theta + 0.1
    assert np.array_equal(objective.hessian(elsewhere),
                          network_hessian(s.model, xb, yb, s.loss_name, 0.01, 0.02, theta=elsewhere))
    assert np.array_equal(s.theta, theta) and np.array_equal(s.grad, grad)
    for key, value in buffers.items():
        assert np.array_equal(s.model.buffers()[key], value), key


MIXED = ("relu", "tanh", "gelu")


@pytest.mark.parametrize("batch_norm", [False, True])
def test_an_activation_per_layer_matches_central_differences_and_torch(torch, batch_norm):
    """One network whose hidden layers each have their own activation: the exact Hessian is the
    central differences of the gradient, and torch's autograd Hessian."""
    net, x, y = smooth_case(MIXED, "bce", batch_norm, hidden=(5, 4, 3))
    assert net.activations == MIXED
    probe = net.copy()

    def grad(theta):
        probe.theta[:] = theta
        out = probe.forward(x)
        probe.backward(losses.loss_and_grad("bce", out, y)[1])
        return probe.grad.copy()
    exact = network_hessian(net, x, y, "bce", 0.01, 0.02)
    assert_fd_close(network_hessian(net, x, y, "bce"), optim.numerical_hessian(grad, net.theta))
    assert_torch_close(exact, torch_hessian(torch, net, x, y, "bce", 0.01, 0.02))
