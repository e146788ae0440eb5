"""Curvature: exact landscape eigen-decompositions, power iteration against the full Hessian, limits."""
import numpy as np
import pytest

from gradplay.core import config, curvature, optim, optimizers
from gradplay.core.landscapes import get_landscape
from gradplay.core.objective import BatchObjective
from gradplay.core.session import Session


def test_ravine_eigenvalues_and_directions():
    c = curvature.landscape_curvature(get_landscape("ravine"), np.array([1.0, -0.5]))
    assert c.eigenvalues == pytest.approx([1.0, 20.0]) and c.lam_max == 20.0
    assert np.abs(c.eigenvectors) == pytest.approx(np.eye(2))
    assert "bowl" in c.message and "20" in c.message


@pytest.mark.parametrize("name,point,word", [("saddle", (0.3, 0.2), "saddle"), ("quadratic", (1, 1), "round bowl"),
                                             ("monkey_saddle", (0, 0), "flat")])
def test_landscape_shape_words(name, point, word):
    assert word in curvature.landscape_curvature(get_landscape(name), np.array(point, float)).message


def test_rosenbrock_eigenvectors_diagonalise_the_hessian():
    land, p = get_landscape("rosenbrock"), np.array([-1.5, 2.0])
    c = curvature.landscape_curvature(land, p)
    v, lam = c.eigenvectors, c.eigenvalues
    assert land.hessian(p) @ v == pytest.approx(v * lam, rel=1e-12)
    assert v.T @ v == pytest.approx(np.eye(2), abs=1e-12)


def test_hvp_of_a_quadratic():
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    v = np.array([0.3, -2.0])
    assert curvature.hvp(lambda t: a @ t, np.array([1.0, 5.0]), v) == pytest.approx(a @ v, rel=1e-8)
    assert np.array_equal(curvature.hvp(lambda t: a @ t, np.zeros(2), np.zeros(2)), np.zeros(2))


def test_power_iteration_finds_the_top_eigenvalue_when_a_negative_one_dominates():
    h = np.diag([-5.0, 1.0, 0.5])
    top = curvature.top_eigenvalue(lambda t: h @ t, np.zeros(3), tol=1e-12, iters=2000)
    assert top.value == pytest.approx(1.0, rel=1e-6) and abs(top.vector[1]) == pytest.approx(1.0, rel=1e-6)


NETS = [
    {"network": {"hidden": [5, 4], "activation": "tanh"}},
    {"network": {"hidden": [6, 6], "activation": "relu", "init": "he_normal"}},
    {"network": {"hidden": [6], "activation": "sigmoid", "batch_norm": True},
     "training": {"batch_size": 16, "l2": 0.01}},
    {"network": {"hidden": [5], "activation": "gelu"}, "task": {"name": "blobs3", "n_samples": 150},
     "loss": {"name": "cross_entropy"}},
]


@pytest.mark.parametrize("raw", NETS)
def test_top_eigenvalue_matches_the_full_hessian_on_a_small_net(raw):
    base = {"task": {"name": "circles", "n_samples": 150}, "optimizer": {"name": "adam", "lr": 0.01},
            "training": {"batch_size": 16}}
    s = Session(config.resolve({**base, **raw}))
    s.run(100)
    theta = s.theta.copy()
    hessian = optim.numerical_hessian(BatchObjective.of_session(s).grad, theta)
    exact = np.linalg.eigvalsh(hessian)[-1]
    top = curvature.network_top_eigenvalue(s, iters=2000, tol=1e-12)
    assert top.converged
    assert top.value == pytest.approx(exact, rel=1e-4)
    assert np.array_equal(s.theta, theta)
    # the eigenvector really is one: H v = λ v
    assert hessian @ top.vector == pytest.approx(exact * top.vector, abs=1e-3 * abs(exact))


def test_stability_limits():
    lim = curvature.stability_limit
    assert lim({"name": "sgd", "momentum": 0.0}, 20.0) == 0.1
    assert lim({"name": "sgd", "momentum": 0.8}, 20.0) == pytest.approx(2 * 1.8 / 20)
    assert lim({"name": "sgd", "momentum": 0.8, "nesterov": True}, 20.0) == pytest.approx(2 * 1.8 / (2.6 * 20))
    assert lim({"name": "sgd", "momentum": 0.5, "dampening": 0.5}, 4.0) == pytest.approx(2 * 1.5 / (0.5 * 4))
    assert lim({"name": "sgd", "weight_decay": 1.0}, 1.0) == 1.0
    assert lim({"name": "sgd"}, -3.0) == np.inf
    assert lim({"name": "adam", "lr": 0.1}, 20.0) is None


@pytest.mark.parametrize("hyper", [{}, {"momentum": 0.9}, {"momentum": 0.6, "nesterov": True},
                                   {"momentum": 0.5, "dampening": 0.3}])
def test_the_limit_separates_convergence_from_divergence(hyper):
    lam = 4.0
    limit = curvature.stability_limit({"name": "sgd", **hyper}, lam)

    def final(lr):
        opt = optimizers.make_optimizer("sgd", 1, lr=lr, **hyper)
        theta = np.array([1.0])
        for _ in range(3000):
            opt.step(theta, lam * theta)
        return abs(theta[0])
    assert final(0.98 * limit) < 1e-3
    assert final(1.02 * limit) > 1e3


def test_tracker_on_a_network_records_lambda_against_the_limit():
    s = Session(config.resolve({"task": {"name": "circles", "n_samples": 100}, "network": {"hidden": [4]},
                                "optimizer": {"name": "sgd", "lr": 0.5}, "training": {"batch_size": "full"}}))
    tr = curvature.CurvatureTracker(s, every=10, iters=30)
    tr.attach()
    for _ in range(30):
        s.run(1)
    steps = tr.history.get_steps()
    assert list(steps) == [1, 11, 21]
    lam = tr.history.get("lam_max")
    assert tr.history.get("limit") == pytest.approx(2.0 / lam)
    assert tr.history.get("lr") == pytest.approx(0.5)
    s.reset()
    assert len(tr.history) == 0
    tr.detach()
    s.run(5)
    assert len(tr.history) == 0


def test_tracker_on_a_landscape_uses_the_exact_hessian():
    s = Session(config.resolve({"task": {"kind": "function", "name": "rosenbrock"},
                                "optimizer": {"name": "sgd", "lr": 1e-3}}))
    tr = curvature.CurvatureTracker(s, every=1)
    assert tr.update() == pytest.approx(np.linalg.eigvalsh(s.landscape.hessian(s.theta))[-1])
    assert tr.update() is None            # not due: no step since
    assert tr.update(force=True) is not None
