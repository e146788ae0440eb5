"""NAdam, RAdam, Adamax and Rprop (gradplay/core/optimizers/): hand-worked steps, one coordinate at a
time in plain Python, and torch.optim step for step where torch is installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gradplay.core import config, optimizers
from gradplay.core.session import Session

NEW = ("nadam", "radam", "adamax", "rprop")


def run(name: str, theta, grads, **hyper):
    opt = optimizers.make_optimizer(name, len(theta), **hyper)
    theta = np.array(theta, dtype=float)
    for g in grads:
        opt.step(theta, np.array(g, dtype=float))
    return theta, opt


def test_adamax_by_hand():
    # θ = 1, g = 0.5, then −0.2; lr 0.1, β = (0.9, 0.999), ε = 1e-8, no decay
    m = 0.1 * 0.5                   # 0.05
    u = max(0.0, 0.5 + 1e-8)
    t1 = 1.0 - (0.1 / (1 - 0.9)) * m / u
    m2 = m + 0.1 * (-0.2 - m)
    u2 = max(0.999 * u, 0.2 + 1e-8)
    t2 = t1 - (0.1 / (1 - 0.9**2)) * m2 / u2
    theta, _ = run("adamax", [1.0], [[0.5], [-0.2]], lr=0.1)
    assert theta[0] == pytest.approx(t2, rel=1e-14)


def test_nadam_by_hand():
    b1, b2, psi, lr, eps = 0.9, 0.999, 4e-3, 0.01, 1e-8
    theta, m, v, prod = 2.0, 0.0, 0.0, 1.0
    for t, g in enumerate([1.0, -0.5, 0.25], start=1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = m + (1 - b1) * (g - m)
        v = b2 * v + (1 - b2) * g * g
        d = math.sqrt(v / (1 - b2**t)) + eps
        theta = theta - lr * (1 - mu) / (1 - prod) * g / d - lr * mu_next / (1 - prod * mu_next) * m / d
    ours, opt = run("nadam", [2.0], [[1.0], [-0.5], [0.25]], lr=lr)
    assert ours[0] == pytest.approx(theta, rel=1e-13)
    assert opt.state["mu_product"] == pytest.approx(prod, rel=1e-15)


def test_radam_by_hand_before_and_after_the_rectifier_switches_on():
    b1, b2, lr, eps = 0.9, 0.999, 0.01, 1e-8
    rho_inf = 2 / (1 - b2) - 1
    theta, m, v = 1.0, 0.0, 0.0
    grads = [0.3 * (-1) ** k + 0.1 for k in range(8)]
    adaptive_steps = 0
    for t, g in enumerate(grads, start=1):
        m = m + (1 - b1) * (g - m)
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1**t)
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 5:
            adaptive_steps += 1
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            theta -= mhat * lr * (math.sqrt(1 - b2**t) / (math.sqrt(v) + eps)) * r
        else:
            theta -= mhat * lr
    assert 0 < adaptive_steps < len(grads)  # both branches are exercised (ρₜ passes 5 at t = 6)
    ours, _ = run("radam", [1.0], [[g] for g in grads], lr=lr)
    assert ours[0] == pytest.approx(theta, rel=1e-13)


def test_rprop_by_hand():
    # two coordinates: one keeps its sign (the step grows ×1.2), one flips (shrinks ×0.5, no move)
    theta, opt = run("rprop", [0.0, 0.0], [[1.0, 1.0], [2.0, -3.0], [0.5, 4.0]], lr=0.1)
    # coord 0: steps 0.1, 0.12, 0.144 all against +g: θ = −0.364
    # coord 1: −0.1 (g>0), then a flip: Δ = 0.05, no step, g_prev = 0; then g·0 = 0: Δ stays, step −0.05
    assert theta == pytest.approx([-0.364, -0.15], rel=1e-14)
    assert opt.state["step_size"] == pytest.approx([0.144, 0.05])


@pytest.mark.parametrize("name", NEW)
def test_state_saves_and_continues_exactly(name):
    rng = np.random.default_rng(3)
    grads = rng.normal(size=(10, 4))
    a = optimizers.make_optimizer(name, 4)
    ta = rng.normal(size=4)
    for g in grads[:5]:
        a.step(ta, g)
    b = optimizers.make_optimizer(name, 4)
    b.load_state_dict(a.state_dict())
    tb = ta.copy()
    for g in grads[5:]:
        a.step(ta, g)
        b.step(tb, g)
    assert np.array_equal(ta, tb)


@pytest.mark.parametrize("name,hyper,message", [
    ("nadam", {"betas": [0.9, 1.0]}, "Invalid beta parameter at index 1"),
    ("radam", {"lr": -1.0}, "Invalid learning rate"),
    ("adamax", {"betas": [0.9]}, "betas must be two numbers"),
    ("rprop", {"etas": [1.5, 1.2]}, "Invalid eta values"),
    ("rprop", {"step_sizes": [1.0, 0.1]}, "step_sizes must be"),
])
def test_invalid_hyperparameters_are_refused(name, hyper, message):
    with pytest.raises(ValueError, match=message):
        optimizers.make_optimizer(name, 2, **hyper)


@pytest.mark.parametrize("name", NEW)
def test_a_network_trains_and_the_session_saves_with_each(name, tmp_path):
    from gradplay.core import io

    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [4]},
                                "optimizer": {"name": name}}))
    before = s.evaluate()["train_loss"]
    s.run(200)
    assert s.halted is None and s.evaluate()["train_loss"] < before
    back = io.load_session(io.save_session(s, tmp_path / "s.gradplay"))
    s.run(5)
    back.run(5)
    assert np.array_equal(s.theta, back.theta)


# ----------------------------------------------------------------------------- torch
CASES = [
    ("nadam", {}),
    ("nadam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, momentum_decay=0.01)),
    ("nadam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("radam", {}),
    ("radam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("radam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("adamax", {}),
    ("adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("rprop", {}),
    ("rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
]


@pytest.mark.parametrize("name,hyper", CASES)
def test_matches_torch_for_50_steps(name, hyper):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    n = 7
    grads = rng.standard_normal((50, n)) * rng.uniform(0.01, 10, n)
    grads[10:20] *= np.sign(rng.standard_normal((10, n)))  # sign flips for Rprop
    theta = rng.standard_normal(n)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as the exported scripts run (NAdam's μ product is a tensor)
    try:
        p = torch.nn.Parameter(torch.tensor(theta.copy()))
        ref = getattr(torch.optim, optimizers.OPTIMIZERS[name].torch_class)([p], **hyper)
        opt = optimizers.make_optimizer(name, n, **hyper)
        for k in range(50):
            opt.step(theta, grads[k])
            p.grad = torch.tensor(grads[k].copy())
            ref.step()
            diff = np.abs(theta - p.detach().numpy()).max()
            assert diff <= 1e-12 * max(1.0, np.abs(theta).max()), (k, diff)
    finally:
        torch.set_default_dtype(old)


def test_defaults_match_torch():
    torch = pytest.importorskip("torch")
    p = [torch.nn.Parameter(torch.zeros(1))]
    for name in NEW:
        cls = optimizers.OPTIMIZERS[name]
        theirs = getattr(torch.optim, cls.torch_class)(p).defaults
        for k, v in optimizers.make_optimizer(name, 1).hyper.items():
            mine = list(v) if isinstance(v, tuple) else v
            assert (list(theirs[k]) if isinstance(v, tuple) else theirs[k]) == mine, (name, k)
