"""MLP and activations against independent references: finite differences, formulas, PyTorch."""
from __future__ import annotations

import copy
import math
import warnings
import zlib

import numpy as np
import pytest

from gradplay.core import losses
from gradplay.core.nn import ACTIVATIONS, BN_EPS, INITS, MLP, activate, activate_grad, activate_grad2

REL, ABS = 1e-6, 1e-8          # finite-difference tolerance: relative, with a small absolute floor
FD_STEP = 1e-6


def central_diff(f, x: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    """d f / d x for scalar f by central differences, perturbing x in place one entry at a time."""
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        fp = f()
        flat[k] = old - h
        fm = f()
        flat[k] = old
        gflat[k] = (fp - fm) / (2 * h)
    return g


def assert_fd_close(analytic: np.ndarray, numeric: np.ndarray) -> None:
    err = np.abs(analytic - numeric)
    bad = err > REL * np.abs(numeric) + ABS
    assert not bad.any(), f"max abs err {err.max():.3g}; analytic {analytic[bad][:5]} vs fd {numeric[bad][:5]}"


# --- activations -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_grad_matches_finite_differences(name):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, size=200)
    z = z[np.abs(z) > 1e-3]                     # keep away from the relu / leaky / elu kink
    numeric = np.array([(activate(name, np.array(v + FD_STEP)) - activate(name, np.array(v - FD_STEP)))
                        / (2 * FD_STEP) for v in z])
    assert_fd_close(activate_grad(name, z), numeric)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_second_derivative_matches_finite_differences(name):
    rng = np.random.default_rng(2)
    z = rng.normal(0, 3, size=200)
    z = z[np.abs(z) > 1e-3]
    numeric = (activate_grad(name, z + FD_STEP) - activate_grad(name, z - FD_STEP)) / (2 * FD_STEP)
    assert_fd_close(activate_grad2(name, z), numeric)


def test_activation_values_match_formulas():
    z = np.linspace(-6, 6, 97)
    sig = 1 / (1 + np.exp(-z))
    expected = {
        "linear": z, "relu": np.maximum(z, 0), "leaky_relu": np.where(z > 0, z, 0.01 * z),
        "elu": np.where(z > 0, z, np.exp(z) - 1), "tanh": np.tanh(z), "sigmoid": sig,
        "gelu": 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3))),
        "silu": z * sig,
    }
    assert set(expected) == set(ACTIVATIONS)
    for name, want in expected.items():
        np.testing.assert_allclose(activate(name, z), want, rtol=1e-13, atol=1e-15, err_msg=name)
    # derivative at the kink is 0 for relu (as torch), 1 for elu
    assert activate_grad("relu", np.array([0.0]))[0] == 0.0
    assert activate_grad("elu", np.array([0.0]))[0] == 1.0
    # second derivative at the kink: 0 for all three, as torch autograd (elu's is exp(z) only for z < 0)
    for name in ("relu", "leaky_relu", "elu"):
        assert activate_grad2(name, np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_are_finite_and_silent_at_extremes(name):
    z = np.array([-1e300, -1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad, curv = activate(name, z), activate_grad(name, z), activate_grad2(name, z)
    assert np.isfinite(value).all() and np.isfinite(grad).all() and np.isfinite(curv).all()
    if name in ("sigmoid",):
        assert value[0] == 0.0 and value[-1] == 1.0


def test_unknown_names_list_allowed_values():
    with pytest.raises(ValueError, match="tanh"):
        activate("swish", np.zeros(2))
    with pytest.raises(ValueError, match="he_normal"):
        MLP(2, [3], 1, init="lecun")
    with pytest.raises(ValueError, match="relu"):
        MLP(2, [3], 1, activation="softplus")


@pytest.mark.parametrize("hidden", [[3] * 9, [0], [257], [4, -1]])
def test_invalid_architecture_rejected(hidden):
    with pytest.raises(ValueError):
        MLP(2, hidden, 1)


# --- layout and init ---------------------------------------------------------------------------

def test_flat_buffer_layout_and_views():
    net = MLP(3, [4, 5], 2, batch_norm=True, rng=np.random.default_rng(0))
    assert net.n_layers == 3
    assert net.param_names == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert [w.shape for w in net.W] == [(3, 4), (4, 5), (5, 2)]
    assert net.theta.dtype == np.float64 and net.theta.shape == net.grad.shape == (12 + 4 + 8 + 20 + 5 + 10 + 10 + 2,)
    for arrays, base in ((net.W + net.b + net.gamma + net.beta, net.theta),
                         (net.dW + net.db + net.dgamma + net.dbeta, net.grad)):
        for a in arrays:
            assert np.shares_memory(a, base)
    params = net.params()
    assert list(params) == net.param_names
    # layer slices tile theta and hold exactly that layer's parameters
    assert net.layer_slices[0].start == 0 and net.layer_slices[-1].stop == net.theta.size
    for i, s in enumerate(net.layer_slices):
        size = sum(v.size for k, v in params.items() if k[-1] == str(i + 1))
        assert s.stop - s.start == size
    assert net.weight_mask.sum() == sum(w.size for w in net.W)
    net.theta[net.weight_mask] = 7.0
    assert all((w == 7.0).all() for w in net.W) and not any((b == 7.0).any() for b in net.b)


def test_init_is_drawn_layer_by_layer_from_the_generator():
    net = MLP(3, [4, 5], 2, init="xavier_uniform", rng=np.random.default_rng(42))
    rng = np.random.default_rng(42)
    for (fi, fo), w in zip([(3, 4), (4, 5), (5, 2)], net.W):
        bound = math.sqrt(6 / (fi + fo))
        np.testing.assert_array_equal(w, rng.uniform(-bound, bound, (fi, fo)))
    assert all((b == 0).all() for b in net.b)


@pytest.mark.parametrize("init", INITS)
def test_init_seed_determinism_and_zero_biases(init):
    nets = [MLP(2, [8, 8], 3, init=init, batch_norm=True, rng=np.random.default_rng(s)) for s in (7, 7, 8)]
    np.testing.assert_array_equal(nets[0].theta, nets[1].theta)
    assert not np.array_equal(nets[0].theta, nets[2].theta)
    assert all((b == 0).all() for b in nets[0].b + nets[0].beta)
    assert all((g == 1).all() for g in nets[0].gamma)


@pytest.mark.parametrize("init", INITS)
def test_init_statistics(init):
    fan_in, fan_out, std = 400, 250, 0.37
    w = MLP(fan_in, [fan_out], 1, init=init, init_std=std, rng=np.random.default_rng(3)).W[0]
    target = {"xavier_uniform": math.sqrt(6 / (fan_in + fan_out)) / math.sqrt(3),
              "xavier_normal": math.sqrt(2 / (fan_in + fan_out)),
              "he_uniform": math.sqrt(6 / fan_in) / math.sqrt(3),
              "he_normal": math.sqrt(2 / fan_in),
              "normal": std}[init]
    assert abs(w.mean()) < 0.01 * target
    assert w.std() == pytest.approx(target, rel=0.01)
    if init.endswith("uniform"):
        bound = target * math.sqrt(3)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound


# --- gradients ---------------------------------------------------------------------------------

def make_targets(loss: str, n: int, n_classes: int, rng) -> np.ndarray:
    if loss == "cross_entropy":
        return rng.integers(0, n_classes, n)
    if loss == "bce":
        return rng.integers(0, 2, n).astype(float)
    if loss == "hinge":
        return rng.choice([-1.0, 1.0], n)
    return rng.normal(0, 2, n)        # scale 2: huber sees both its quadratic and linear parts


def total_loss(net: MLP, loss: str, x, y, l1: float, l2: float, train: bool = True) -> float:
    return losses.loss_value(loss, net.forward(x, train), y) + losses.penalty(net.theta, net.weight_mask, l1, l2)


def analytic_grad(net: MLP, loss: str, x, y, l1: float, l2: float, train: bool = True):
    _, dout = losses.loss_and_grad(loss, net.forward(x, train), y)
    dx = net.backward(dout)
    losses.add_penalty_grad(net.theta, net.weight_mask, l1, l2, net.grad)
    return net.grad.copy(), dx


@pytest.mark.parametrize("loss", losses.LOSSES)
@pytest.mark.parametrize("batch_norm, hidden", [(False, []), (False, [5]), (False, [4, 3]),
                                                (True, [5]), (True, [4, 3])])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_gradient_matches_finite_differences(activation, batch_norm, hidden, loss):
    rng = np.random.default_rng(zlib.crc32(f"{activation}-{batch_norm}-{len(hidden)}-{loss}".encode()))
    n_classes = 3
    net = MLP(3, hidden, losses.output_units(loss, n_classes), activation, "xavier_normal",
              batch_norm=batch_norm, rng=rng)
    net.theta += rng.normal(0, 0.1, net.theta.size)     # non-trivial biases, gamma and beta
    x, y = rng.normal(size=(6, 3)), make_targets(loss, 6, n_classes, rng)
    l1, l2 = 0.01, 0.02
    grad, dx = analytic_grad(net, loss, x, y, l1, l2)
    assert_fd_close(grad, central_diff(lambda: total_loss(net, loss, x, y, l1, l2), net.theta))
    assert_fd_close(dx, central_diff(lambda: total_loss(net, loss, x, y, l1, l2), x))


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu"])
def test_eval_mode_batch_norm_gradient(activation):
    rng = np.random.default_rng(5)
    net = MLP(3, [5, 4], 1, activation, batch_norm=True, rng=rng)
    for _ in range(3):                                     # give running stats non-default values
        net.forward(rng.normal(1, 2, size=(8, 3)))
    x, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    grad, _ = analytic_grad(net, "mse", x, y, 0, 0, train=False)
    assert_fd_close(grad, central_diff(lambda: total_loss(net, "mse", x, y, 0, 0, train=False), net.theta))


def test_backward_overwrites_and_keeps_dz():
    rng = np.random.default_rng(0)
    net = MLP(2, [6, 6], 1, "tanh", batch_norm=True, rng=rng)
    x = rng.normal(size=(10, 2))
    dout = rng.normal(size=(10, 1))
    net.forward(x)
    net.backward(dout)
    first = net.grad.copy()
    net.backward(dout)
    np.testing.assert_array_equal(net.grad, first)
    assert net.dz[-1] is dout
    for i in range(net.n_layers):
        assert net.dz[i].shape == net.z[i].shape
        np.testing.assert_allclose(net.dW[i], net.a[i].T @ net.dz[i], rtol=1e-14)


def test_caches_hold_layer_values():
    rng = np.random.default_rng(0)
    net = MLP(2, [4, 3], 2, "sigmoid", rng=rng)
    x = rng.normal(size=(5, 2))
    out = net.forward(x)
    assert net.a[0] is x and net.h[-1] is out
    for i in range(net.n_layers):
        np.testing.assert_allclose(net.z[i], net.a[i] @ net.W[i] + net.b[i])
    for i in range(net.n_layers - 1):
        np.testing.assert_allclose(net.h[i], activate("sigmoid", net.z[i]))
        assert net.a[i + 1] is net.h[i]


def test_norms():
    net = MLP(2, [5, 4], 3, batch_norm=True, rng=np.random.default_rng(1))
    net.grad[:] = np.random.default_rng(2).normal(size=net.grad.size)
    np.testing.assert_allclose(net.layer_grad_norms(), [np.linalg.norm(net.grad[s]) for s in net.layer_slices])
    np.testing.assert_allclose(net.layer_weight_norms(), [np.linalg.norm(w) for w in net.W])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_extreme_weights_raise_no_warnings(activation):
    rng = np.random.default_rng(0)
    net = MLP(2, [8, 8], 1, activation, init="normal", init_std=30.0, batch_norm=False, rng=rng)
    x = rng.normal(0, 10, size=(10, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = net.forward(x)
        net.backward(np.ones_like(out))
        net.predict(x)
    assert np.isfinite(net.grad).all()


# --- batch norm --------------------------------------------------------------------------------

def test_batch_norm_train_mode_normalises_and_updates_running_stats():
    rng = np.random.default_rng(0)
    net = MLP(3, [6, 5], 1, "linear", batch_norm=True, rng=rng)
    x = rng.normal(2, 3, size=(16, 3))
    net.forward(x)
    z1 = x @ net.W[0] + net.b[0]                         # independent recomputation of layer 1
    for i, z in enumerate([z1, net.z[1]]):
        h = net.h[i]                                      # gamma 1, beta 0, linear activation
        np.testing.assert_allclose(h.mean(axis=0), 0, atol=1e-12)
        var = z.var(axis=0)
        np.testing.assert_allclose(h.var(axis=0), var / (var + BN_EPS), rtol=1e-12)
        # torch: running = (1 - momentum) * running + momentum * batch stat (unbiased variance)
        np.testing.assert_allclose(net.running_mean[i], 0.9 * 0 + 0.1 * z.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(net.running_var[i], 0.9 * 1 + 0.1 * z.var(axis=0, ddof=1), rtol=1e-12)


def test_bn_cache_is_the_normalised_batch_and_inverse_std_of_each_hidden_layer():
    rng = np.random.default_rng(3)
    net = MLP(3, [6, 5], 2, "tanh", batch_norm=True, rng=rng)
    x = rng.normal(1, 2, size=(9, 3))
    for train in (True, False):
        net.forward(x, train=train)
        a = x
        for j in range(2):
            z = a @ net.W[j] + net.b[j]                  # independent recomputation of layer j
            mean, var = (z.mean(axis=0), z.var(axis=0)) if train else (net.running_mean[j], net.running_var[j])
            xhat, inv = net.bn_cache(j)
            np.testing.assert_allclose(inv, 1 / np.sqrt(var + BN_EPS), rtol=1e-13)
            np.testing.assert_allclose(xhat, (z - mean) / np.sqrt(var + BN_EPS), rtol=1e-11, atol=1e-13)
            a = np.tanh(xhat * net.gamma[j] + net.beta[j])


def test_batch_norm_gamma_beta_scale_and_shift():
    rng = np.random.default_rng(1)
    net = MLP(2, [4], 1, "linear", batch_norm=True, rng=rng)
    net.gamma[0][:] = [1.0, 2.0, 3.0, 4.0]
    net.beta[0][:] = [-1.0, 0.0, 1.0, 2.0]
    net.forward(rng.normal(size=(50, 2)))
    np.testing.assert_allclose(net.h[0].mean(axis=0), net.beta[0], atol=1e-12)
    np.testing.assert_allclose(net.h[0].std(axis=0), net.gamma[0], rtol=1e-4)


def test_batch_norm_eval_mode_uses_running_stats():
    rng = np.random.default_rng(2)
    net = MLP(2, [4], 1, "tanh", batch_norm=True, rng=rng)
    for _ in range(4):
        net.forward(rng.normal(1, 2, size=(12, 2)))
    net.gamma[0][:] = rng.normal(size=4)
    net.beta[0][:] = rng.normal(size=4)
    rm, rv = net.running_mean[0].copy(), net.running_var[0].copy()
    x = rng.normal(size=(1, 2))                            # a single sample is fine in eval mode
    y = (x @ net.W[0] + net.b[0] - rm) / np.sqrt(rv + BN_EPS) * net.gamma[0] + net.beta[0]
    want = np.tanh(y) @ net.W[1] + net.b[1]
    np.testing.assert_allclose(net.forward(x, train=False), want, rtol=1e-13)
    np.testing.assert_allclose(net.predict(x), want, rtol=1e-13)
    np.testing.assert_array_equal(net.running_mean[0], rm)
    np.testing.assert_array_equal(net.running_var[0], rv)


def test_batch_norm_single_sample_train_raises_without_side_effects():
    net = MLP(2, [4], 1, batch_norm=True, rng=np.random.default_rng(0))
    before = net.buffers()
    with pytest.raises(ValueError, match="batch norm needs at least 2 samples per batch"):
        net.forward(np.ones((1, 2)))
    for k, v in net.buffers().items():
        np.testing.assert_array_equal(v, before[k])
    MLP(2, [4], 1, rng=np.random.default_rng(0)).forward(np.ones((1, 2)))   # fine without batch norm


@pytest.mark.parametrize("batch_norm", [False, True])
def test_predict_leaves_caches_and_running_stats_untouched(batch_norm):
    rng = np.random.default_rng(3)
    net = MLP(2, [5, 5], 1, "relu", batch_norm=batch_norm, rng=rng)
    x = rng.normal(size=(8, 2))
    out = net.forward(x)
    net.backward(np.ones_like(out))
    caches = {k: list(getattr(net, k)) for k in ("a", "z", "h", "dz")}
    snapshot = {k: [v.copy() for v in vs] for k, vs in caches.items()}
    grad, buffers = net.grad.copy(), net.buffers()
    p = net.predict(rng.normal(size=(30, 2)))
    assert p.shape == (30, 1)
    for k, vs in caches.items():
        assert all(a is b for a, b in zip(vs, getattr(net, k)))
        for a, b in zip(vs, snapshot[k]):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net.grad, grad)
    for k, v in net.buffers().items():
        np.testing.assert_array_equal(v, buffers[k])
    np.testing.assert_allclose(net.predict(x), net.forward(x, train=False), rtol=1e-14)
    if not batch_norm:
        np.testing.assert_allclose(net.predict(x), out, rtol=1e-14)


def test_buffers_round_trip_and_copy_is_deep():
    rng = np.random.default_rng(4)
    net = MLP(2, [5, 3], 2, "elu", batch_norm=True, rng=rng)
    x = rng.normal(size=(9, 2))
    net.forward(x)
    saved = net.buffers()
    assert sorted(saved) == ["running_mean1", "running_mean2", "running_var1", "running_var2"]
    twin = net.copy()
    net.forward(x + 1)
    net.load_buffers(saved)
    for k, v in net.buffers().items():
        np.testing.assert_array_equal(v, saved[k])
    with pytest.raises(ValueError):
        net.load_buffers({"running_mean1": np.zeros(5)})
    for other in (twin, copy.deepcopy(net)):
        np.testing.assert_array_equal(other.theta, net.theta)
        np.testing.assert_allclose(other.predict(x), net.predict(x))
        other.theta[:] = 0.0
        other.running_mean[0][:] = 9.0
        assert all((w == 0).all() for w in other.W)            # views follow the copy's own theta
        assert not (net.theta == 0).all() and not (net.running_mean[0] == 9.0).any()


# --- PyTorch cross-check -----------------------------------------------------------------------

def torch_model(net: MLP):
    """An nn.Sequential equal to `net`, weights copied (torch Linear weight is W.T)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    acts = {"linear": nn.Identity, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01),
            "elu": lambda: nn.ELU(1.0), "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
            "gelu": lambda: nn.GELU(approximate="tanh"), "silu": nn.SiLU}
    layers, linears, bns = [], [], []
    for i in range(net.n_layers):
        lin = nn.Linear(*net.W[i].shape).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(net.W[i].T.copy()))
            lin.bias.copy_(torch.from_numpy(net.b[i].copy()))
        layers.append(lin)
        linears.append(lin)
        if i < net.n_layers - 1:
            if net.batch_norm:
                bn = nn.BatchNorm1d(net.W[i].shape[1]).double()
                with torch.no_grad():
                    bn.weight.copy_(torch.from_numpy(net.gamma[i].copy()))
                    bn.bias.copy_(torch.from_numpy(net.beta[i].copy()))
                layers.append(bn)
                bns.append(bn)
            layers.append(acts[net.activations[i]]())
    return nn.Sequential(*layers), linears, bns


def torch_loss(name: str, out, y):
    torch = pytest.importorskip("torch")
    yt = torch.from_numpy(y)
    if name == "cross_entropy":
        return torch.nn.CrossEntropyLoss()(out, yt.long())
    if name == "hinge":   # relu, not clamp: gradient 0 exactly at the hinge, as gradplay and its script
        return torch.relu(1 - yt * out[:, 0]).mean()
    fn = {"mse": torch.nn.MSELoss(), "mae": torch.nn.L1Loss(), "huber": torch.nn.HuberLoss(delta=1.0),
          "bce": torch.nn.BCEWithLogitsLoss()}[name]
    return fn(out[:, 0], yt)


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", losses.LOSSES)
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_torch(activation, batch_norm, loss):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    net = MLP(3, [5, 4], losses.output_units(loss, 3), activation, "he_normal", batch_norm=batch_norm, rng=rng)
    net.theta += rng.normal(0, 0.1, net.theta.size)
    model, linears, bns = torch_model(net)
    x, y = rng.normal(size=(7, 3)), make_targets(loss, 7, 3, rng)

    value, dout = losses.loss_and_grad(loss, net.forward(x), y)
    dx = net.backward(dout)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    model.train()
    lt = torch_loss(loss, model(xt), y)
    lt.backward()

    assert value == pytest.approx(lt.item(), rel=1e-10)
    close(dx, xt.grad.numpy())
    for i, lin in enumerate(linears):
        close(net.dW[i], lin.weight.grad.numpy().T)
        close(net.db[i], lin.bias.grad.numpy())
    for i, bn in enumerate(bns):
        close(net.dgamma[i], bn.weight.grad.numpy())
        close(net.dbeta[i], bn.bias.grad.numpy())
        close(net.running_mean[i], bn.running_mean.numpy())
        close(net.running_var[i], bn.running_var.numpy())
    model.eval()
    with torch.no_grad():
        close(net.predict(x), model(torch.from_numpy(x)).numpy())
