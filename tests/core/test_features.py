"""Input features: the values by hand, the config's rules, and a network fed features trains with a
backprop gradient that finite differences confirm (the fast path and torch agree in test_fast.py and
test_torch_script.py)."""
import math

import numpy as np
import pytest

from gradplay.core import config, features, gradcheck, headless
from gradplay.core.config import ConfigError
from gradplay.core.session import Session

CIRCLES = {"task": {"name": "circles", "n_samples": 100}, "network": {"hidden": [5]},
           "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10}}


def test_every_feature_by_hand():
    x = np.array([[0.5, -2.0], [3.0, 0.25]])
    got = features.transform(list(features.NAMES), x)
    for row, (a, b) in zip(got, x):
        assert row.tolist() == [a, b, a * a, b * b, a * b, math.sin(a), math.sin(b), math.cos(a), math.cos(b)]
    assert features.transform(["x1", "x2"], x) is x  # the plain plane: the same array, no copy
    assert features.transform(["x2^2"], x).shape == (2, 1)


def test_the_config_keeps_them_in_order_and_names_mistakes():
    assert config.resolve({})["network"]["inputs"] == ["x1", "x2"]
    raw = dict(CIRCLES, network={"inputs": ["sin(x1)", "x1", "x1*x2"]})
    assert config.resolve(raw)["network"]["inputs"] == ["x1", "x1*x2", "sin(x1)"]
    for inputs, message in (([], "non-empty list"), ("x1", "non-empty list"), (["x3"], "'x3' is not known"),
                            (["x1", "x1"], "lists 'x1' twice")):
        with pytest.raises(ConfigError, match=message):
            config.resolve(dict(CIRCLES, network={"inputs": inputs}))


def test_the_network_sees_the_features_and_the_data_stays_the_plane():
    inputs = ["x1^2", "x2^2", "x1*x2"]
    s = Session(config.resolve(dict(CIRCLES, network={"hidden": [5], "inputs": inputs})))
    assert s.model.W[0].shape == (3, 5)
    a, b = s.data.x_train[:, 0], s.data.x_train[:, 1]
    assert np.array_equal(s.inputs_train, np.column_stack([a * a, b * b, a * b]))
    arrays = headless.record(s, 30)
    assert arrays["x_train"].shape[1] == 2 and arrays["init.W1"].shape == (3, 5)
    # the step's batch is the features of the batch's points
    out = s.model.predict(s.inputs_train)
    assert np.array_equal(out, s.model.predict(features.transform(inputs, s.data.x_train)))


def test_backprop_through_a_feature_network_matches_finite_differences():
    s = Session(config.resolve(dict(CIRCLES, network={"hidden": [4, 3], "inputs": list(features.NAMES)})))
    s.run(20)
    res = gradcheck.gradcheck(s)
    assert res.ok, res.table()


def test_circles_are_linearly_separable_on_squares():
    # TensorFlow Playground's lesson: with x1² and x2² a network without hidden layers solves circles
    raw = dict(CIRCLES, network={"hidden": [], "inputs": ["x1^2", "x2^2"]}, optimizer={"name": "adam", "lr": 0.1},
               task={"name": "circles", "n_samples": 200, "noise": 0.0})
    s = Session(config.resolve(raw))
    s.run(600)
    assert s.evaluate()["train_acc"] >= 0.97
    plain = Session(config.resolve(dict(raw, network={"hidden": []})))
    plain.run(600)
    assert plain.evaluate()["train_acc"] < 0.75


def test_an_activation_per_hidden_layer():
    raw = dict(CIRCLES, network={"hidden": [5, 4], "activation": ["relu", "tanh"]})
    s = Session(config.resolve(raw))
    assert s.model.activations == ("relu", "tanh")
    h = s.model.unit_outputs(s.inputs_train)
    assert (h[0] >= 0).all() and (np.abs(h[1]) < 1).all() and (h[1] < 0).any()
    assert gradcheck.gradcheck(s).ok
    for act, message in ((["relu"], "lists 1 activations for 2 hidden layers"),
                         (["relu", "swish"], r"'network.activation\[1\]' = 'swish' is not known")):
        with pytest.raises(ConfigError, match=message):
            config.resolve(dict(CIRCLES, network={"hidden": [5, 4], "activation": act}))


def test_an_activation_list_follows_the_layers_when_they_change():
    cfg = config.resolve(dict(CIRCLES, network={"hidden": [5, 4], "activation": ["relu", "tanh"]}))
    assert config.with_hidden(cfg, [5, 4, 3])["network"]["activation"] == ["relu", "tanh", "tanh"]
    assert config.with_hidden(cfg, [5])["network"]["activation"] == "relu"   # one name again
    assert config.with_hidden(cfg, [])["network"]["activation"] == "relu"
    plain = config.resolve(CIRCLES)
    assert config.with_hidden(plain, [7, 7])["network"] == dict(plain["network"], hidden=[7, 7])
