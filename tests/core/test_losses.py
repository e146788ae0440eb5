"""Losses, penalties and accuracy against hand-computed values, finite differences and PyTorch."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gradplay.core.losses import (
    LOSSES,
    accuracy,
    add_penalty_grad,
    add_penalty_hessian,
    loss_and_grad,
    loss_fn,
    loss_hvp,
    loss_value,
    output_units,
    penalty,
    prediction,
)

col = lambda *v: np.array(v, dtype=float)[:, None]   # logits (n, 1)  # noqa: E731


def targets(name: str, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Random logits and matching labels, away from the kinks of mae, huber and hinge."""
    if name == "cross_entropy":
        return rng.normal(0, 2, size=(n, 4)), rng.integers(0, 4, n)
    out = rng.normal(0, 2, size=(n, 1))
    if name == "bce":
        return out, rng.integers(0, 2, n).astype(float)
    if name == "hinge":
        y = rng.choice([-1.0, 1.0], n)
        margin = 1 - y * out[:, 0]
        out[np.abs(margin) < 1e-3, 0] += 0.01
        return out, y
    y = rng.normal(0, 2, n)
    d = out[:, 0] - y
    y[(np.abs(d) < 1e-3) | (np.abs(np.abs(d) - 1) < 1e-3)] += 0.01
    return out, y


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_matches_finite_differences(name):
    rng = np.random.default_rng(LOSSES.index(name) + 1)
    out, y = targets(name, 9, rng)
    value, grad = loss_and_grad(name, out, y)
    assert grad.shape == out.shape and isinstance(value, float)
    assert value == loss_value(name, out, y)
    h = 1e-6
    numeric = np.zeros_like(out)
    for idx in np.ndindex(out.shape):
        p, m = out.copy(), out.copy()
        p[idx] += h
        m[idx] -= h
        numeric[idx] = (loss_value(name, p, y) - loss_value(name, m, y)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", LOSSES)
def test_curvature_matches_finite_differences_of_the_gradient(name):
    rng = np.random.default_rng(LOSSES.index(name) + 11)
    out, y = targets(name, 9, rng)
    r = rng.normal(size=(3,) + out.shape)                     # a stack of 3 logit tangents
    got = loss_hvp(name, out, y, r)
    assert got.shape == r.shape
    h = 1e-6
    numeric = np.array([(loss_and_grad(name, out + h * v, y)[1] - loss_and_grad(name, out - h * v, y)[1])
                        / (2 * h) for v in r])
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-9)
    if name in ("mae", "hinge"):
        assert not got.any()                                  # piecewise linear: no curvature


def test_hand_computed_values():
    assert loss_value("bce", col(0.0), np.array([1.0])) == pytest.approx(math.log(2))
    assert loss_value("bce", col(0.0, 0.0), np.array([0.0, 1.0])) == pytest.approx(math.log(2))
    assert loss_value("mse", col(1.0, 3.0), np.zeros(2)) == pytest.approx(5.0)        # no 1/2
    assert loss_value("mae", col(1.0, -3.0), np.zeros(2)) == pytest.approx(2.0)
    assert loss_value("huber", col(0.5, 3.0), np.zeros(2)) == pytest.approx((0.125 + 2.5) / 2)
    assert loss_value("cross_entropy", np.zeros((2, 5)), np.array([0, 3])) == pytest.approx(math.log(5))
    assert loss_value("hinge", col(0.5, 2.0, -1.0), np.ones(3)) == pytest.approx((0.5 + 0 + 2) / 3)

    _, g = loss_and_grad("mse", col(1.0, 3.0), np.zeros(2))
    np.testing.assert_allclose(g, col(1.0, 3.0))                                         # 2 d / n
    _, g = loss_and_grad("mae", col(2.0, 0.0, -1.0), np.zeros(3))
    np.testing.assert_array_equal(g, col(1 / 3, 0.0, -1 / 3))                            # sign(0) = 0
    _, g = loss_and_grad("huber", col(0.5, 3.0, -3.0), np.zeros(3))
    np.testing.assert_allclose(g, col(0.5, 1.0, -1.0) / 3)
    _, g = loss_and_grad("bce", col(0.0), np.array([1.0]))
    np.testing.assert_allclose(g, col(-0.5))
    _, g = loss_and_grad("hinge", col(1.0, 0.5, -2.0), np.array([1.0, 1.0, -1.0]))
    np.testing.assert_array_equal(g, col(0.0, -1 / 3, 0.0))                            # 0 at the kink
    _, g = loss_and_grad("cross_entropy", np.zeros((1, 4)), np.array([2]))
    np.testing.assert_allclose(g, [[0.25, 0.25, -0.75, 0.25]])


def test_extreme_logits_are_stable():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, g = loss_and_grad("bce", col(1000.0, -1000.0, 1e300), np.array([1.0, 1.0, 0.0]))
        assert v == pytest.approx((0 + 1000 + 1e300) / 3)
        np.testing.assert_allclose(g, col(0.0, -1 / 3, 1 / 3))
        v, g = loss_and_grad("cross_entropy", np.array([[1000.0, 0.0, -1000.0]]), np.array([2]))
        assert v == pytest.approx(2000.0)
        np.testing.assert_allclose(g, [[1.0, 0.0, -1.0]], atol=1e-300)
        p = prediction("bce", col(-1e4, 0.0, 1e4))
        np.testing.assert_array_equal(p, [0.0, 0.5, 1.0])


def test_penalty_applies_to_weights_only():
    theta = np.array([1.0, -2.0, 3.0, -4.0])
    mask = np.array([True, True, False, False])               # last two are biases
    assert penalty(theta, mask, 0.1, 0.0) == pytest.approx(0.3)
    assert penalty(theta, mask, 0.0, 0.5) == pytest.approx(2.5)
    assert penalty(theta, mask, 0.1, 0.5) == pytest.approx(2.8)
    assert penalty(theta, mask, 0.0, 0.0) == 0.0
    grad = np.ones(4)
    add_penalty_grad(theta, mask, 0.1, 0.5, grad)
    np.testing.assert_allclose(grad, [1 + 0.1 + 1.0, 1 - 0.1 - 2.0, 1.0, 1.0])
    add_penalty_grad(theta, mask, 0.0, 0.0, grad)                 # no-op
    np.testing.assert_allclose(grad, [2.1, -1.1, 1.0, 1.0])
    hess = np.ones((4, 4))
    add_penalty_hessian(mask, 0.5, hess)                          # 2·l2 on the weights' diagonal only
    np.testing.assert_array_equal(hess, np.ones((4, 4)) + np.diag([1.0, 1.0, 0.0, 0.0]))


def test_accuracy():
    assert accuracy("bce", col(2.0, -1.0, 0.5, -3.0), np.array([1, 0, 0, 0])) == 0.75
    assert accuracy("cross_entropy", np.array([[2.0, 1, 0], [0, 0, 5], [1, 3, 0]]), np.array([0, 2, 0])) == 2 / 3
    assert accuracy("hinge", col(0.3, -0.2, 4.0, -1.0), np.array([1.0, -1.0, -1.0, -1.0])) == 0.75
    for name in ("mse", "mae", "huber"):
        assert accuracy(name, col(0.3, -0.2), np.array([1.0, 1.0])) == 0.5           # +-1 labels: sign
        assert accuracy(name, col(0.3, -0.2), np.array([0.7, 1.0])) is None           # real targets
        assert accuracy(name, col(0.3, -0.2), np.array([1.0, 1.0]), regression=True) is None
        assert accuracy(name, col(0.3, -0.2), np.array([1.0, 1.0]), regression=False) == 0.5


def test_output_units_and_prediction():
    assert output_units("cross_entropy", 3) == 3
    assert all(output_units(n, 3) == 1 for n in LOSSES if n != "cross_entropy")
    out = np.array([[0.0, 1.0, 2.0], [3.0, 3.0, 3.0]])
    p = prediction("cross_entropy", out)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], 1 / 3)
    np.testing.assert_allclose(prediction("bce", col(0.0, math.log(3))), [0.5, 0.75])
    for name in ("mse", "mae", "huber", "hinge"):
        np.testing.assert_array_equal(prediction(name, col(0.3, -2.0)), [0.3, -2.0])


@pytest.mark.parametrize("call", [
    lambda: loss_and_grad("l2", col(0.0), np.zeros(1)), lambda: loss_value("nll", col(0.0), np.zeros(1)),
    lambda: loss_fn("x"), lambda: accuracy("x", col(0.0), np.zeros(1)), lambda: output_units("x", 2),
    lambda: prediction("x", col(0.0))])
def test_unknown_loss_names_list_allowed_values(call):
    with pytest.raises(ValueError, match="cross_entropy"):
        call()


@pytest.mark.parametrize("name", LOSSES)
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    out, y = targets(name, 11, rng)
    value, grad = loss_and_grad(name, out, y)
    ot = torch.from_numpy(out.copy()).requires_grad_(True)
    yt = torch.from_numpy(y)
    if name == "cross_entropy":
        lt = torch.nn.CrossEntropyLoss()(ot, yt.long())
    elif name == "hinge":
        lt = torch.clamp(1 - yt * ot[:, 0], min=0).mean()
    else:
        fn = {"mse": torch.nn.MSELoss(), "mae": torch.nn.L1Loss(), "huber": torch.nn.HuberLoss(delta=1.0),
              "bce": torch.nn.BCEWithLogitsLoss()}[name]
        lt = fn(ot[:, 0], yt)
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(grad, ot.grad.numpy(), rtol=1e-12, atol=1e-15)
