"""core/problem.py: what each task kind answers, and its loss and gradient against independent references."""
import copy

import numpy as np
import pytest

from gradplay.core import losses
from gradplay.core.config import resolve
from gradplay.core.problem import DatasetProblem, LandscapeProblem, Problem
from gradplay.core.session import Session, make_streams
from gradplay.presets import load_preset


def _session(name: str) -> Session:
    return Session(load_preset(name), fast=False)


def test_capabilities_of_a_landscape_preset():
    s = _session("rosenbrock_gd")
    p = s.problem
    assert isinstance(p, LandscapeProblem) and isinstance(p, Problem)
    assert s.kind == "function" == s.config["task"]["kind"]
    assert (p.has_data, p.has_epochs, p.has_layers, p.draws_decision_map) == (False,) * 4
    assert (p.traces_path, p.can_move_start) == (True, True)
    assert p.n_layers == 0 and p.n_train == 1 and p.fast_engine == "scalar"
    assert p.history_columns() == {"x": 1, "y": 1}
    assert p.confusion() is None
    assert s.model is None and s.data is None and s.loss_name is None and s.inputs == []
    assert s.landscape is p.landscape and s.objective is p.objective
    assert p.landscape.name == "rosenbrock" and p.start == (-1.5, 2.0)


def test_capabilities_of_a_dataset_preset():
    s = _session("spiral_tanh")
    p = s.problem
    assert isinstance(p, DatasetProblem)
    assert s.kind == "dataset" == s.config["task"]["kind"]
    assert (p.has_data, p.has_epochs, p.has_layers, p.draws_decision_map) == (True,) * 4
    assert (p.traces_path, p.can_move_start) == (False, False)
    assert p.n_layers == 3 == len(s.config["network"]["hidden"]) + 1 and p.fast_engine == "compiled"
    assert p.n_train == len(p.data.x_train) == s.n_train and p.n_classes == 2
    assert p.history_columns() == {}
    assert s.model is p.model and s.data is p.data and s.landscape is None and s.objective is None
    assert p.params()[0] is s.theta and p.params()[1] is s.grad  # the network's vectors are θ and ∇


def test_landscape_loss_and_grad_is_rosenbrock_worked_by_hand():
    p = LandscapeProblem.from_config(resolve({"task": {"kind": "function", "name": "rosenbrock"}}))
    theta, grad = np.array([0.5, 2.0]), np.zeros(2)
    loss, objective = p.loss_and_grad(theta, grad, None, step=0, l1=0.0, l2=0.0)
    # (1-x)² + 100(y-x²)² at (0.5, 2): 0.25 + 100·1.75² = 306.5;
    # ∂x = -2(1-x) - 400x(y-x²) = -1 - 350 = -351, ∂y = 200(y-x²) = 350
    assert loss == 306.5 and grad.tolist() == [-351.0, 350.0]
    assert objective is p.objective and p.current_loss(theta) == 306.5 == p.evaluate(theta)["train_loss"]


def test_landscape_problem_gives_the_sessions_first_step():
    s = _session("rosenbrock_gd")
    p = s.problem
    theta0, grad = p.params()
    assert theta0.tolist() == [-1.5, 2.0]
    loss, _ = p.loss_and_grad(theta0, grad, None, step=0, l1=0.0, l2=0.0)
    s.run(1)
    assert s.history.as_arrays()["loss"][0] == loss and np.array_equal(s.grad, grad)


def _tiny_dataset_problem(l2: float = 0.0) -> tuple[DatasetProblem, dict]:
    cfg = resolve({"task": {"kind": "dataset", "name": "xor", "n_samples": 24}, "seed": 3,
                   "network": {"hidden": [3], "activation": "tanh"},
                   "loss": {"name": "bce"}, "training": {"l2": l2}})
    rngs = make_streams(cfg["seed"])
    return DatasetProblem.from_config(cfg, rngs["data"], rngs["init"]), cfg


def test_dataset_loss_and_grad_matches_finite_differences():
    p, _ = _tiny_dataset_problem(l2=0.01)
    theta, grad = p.params()
    idx = np.array([0, 3, 5, 7])
    loss, _ = p.loss_and_grad(theta, grad, idx, step=0, l1=0.0, l2=0.01)
    analytic = grad.copy()
    x, y = p.inputs_train[idx], p.data.y_train[idx]
    mask = p.model.weight_mask

    def loss_at(t: np.ndarray) -> float:  # an independent forward pass: the model's predict in eval mode
        m = p.model.copy()
        m.theta[:] = t
        return losses.loss_value(p.loss_name, m.predict(x), y) + 0.01 * float(np.sum((t * t)[mask]))

    assert loss == pytest.approx(loss_at(theta.copy()), rel=1e-12)
    h = 1e-6
    fd = np.array([(loss_at(theta + h * e) - loss_at(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(analytic, fd, rtol=1e-6, atol=1e-8)


def test_dataset_evaluate_counts_the_accuracy_by_hand():
    p, _ = _tiny_dataset_problem()
    theta = p.params()[0]
    res = p.evaluate(theta)
    for split, x, y in (("train", p.inputs_train, p.data.y_train), ("test", p.inputs_test, p.data.y_test)):
        out = p.model.predict(x).reshape(-1)
        right = ((out > 0) == (y.reshape(-1) > 0.5)).mean()  # bce: a logit above 0 says class 1
        assert res[f"{split}_acc"] == pytest.approx(right)
    assert p.current_loss(theta) == res["train_loss"]
    m = p.confusion()
    assert m is not None and m["train"].sum() == p.n_train and m["test"].sum() == len(p.data.x_test)


def test_with_model_shares_the_data_and_trains_its_own_network():
    p, _ = _tiny_dataset_problem()
    twin = p.with_model(p.model.copy())
    assert twin.data is p.data and twin.inputs_train is p.inputs_train and twin.model is not p.model
    before = p.model.theta.copy()
    t, g = twin.params()
    twin.loss_and_grad(t, g, None, step=0, l1=0.0, l2=0.0)
    t -= 0.5 * g
    assert np.array_equal(p.model.theta, before) and not np.array_equal(twin.model.theta, before)


def test_a_sessions_copy_with_its_own_network_leaves_the_original_alone():
    s = _session("spiral_tanh")
    twin = copy.copy(s)
    twin.model = s.model.copy()
    assert twin.problem is not s.problem and twin.data is s.data and twin.model is not s.model
    twin.theta, twin.grad = twin.model.theta, twin.model.grad
    assert s.problem.model is s.model  # the original's problem still trains the original's network


def test_the_class_of_a_config_answers_before_a_session_exists():
    from gradplay.core import datasets, landscapes
    from gradplay.core.problem import of_config, problem_class

    assert problem_class("function") is LandscapeProblem and problem_class("dataset") is DatasetProblem
    assert LandscapeProblem.tasks is landscapes.LANDSCAPES and DatasetProblem.tasks is datasets.DATASETS
    assert LandscapeProblem.default_task in landscapes.LANDSCAPES
    assert DatasetProblem.default_task in datasets.DATASETS
    for name, cls in (("rosenbrock_gd", LandscapeProblem), ("spiral_tanh", DatasetProblem)):
        cfg = load_preset(name)
        assert of_config(cfg) is cls is type(Session(cfg).problem)
