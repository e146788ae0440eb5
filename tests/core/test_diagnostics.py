"""Diagnostics: each number against a hand computation, each message in plain words."""
import numpy as np
import pytest

from gradplay.core import config
from gradplay.core import diagnostics as dg
from gradplay.core.session import Session


def make(**raw) -> Session:
    base = {"task": {"name": "circles", "n_samples": 100}, "optimizer": {"name": "sgd", "lr": 0.1},
            "training": {"batch_size": 20}}
    return Session(config.resolve({**base, **raw}))


def test_pow10():
    assert dg.pow10(1e-5) == "10⁻⁵" and dg.pow10(3e-6) == "10⁻⁶" and dg.pow10(2e3) == "10³"
    assert dg.pow10(0.0) == "0"


def test_vanishing_gradients_before_any_step_and_after_training():
    net = {"hidden": [8] * 5, "activation": "sigmoid", "init": "normal", "init_std": 0.3}
    s = make(network=net)
    f = dg.gradient_flow(s)                                  # no history yet: the current batch's gradient
    assert f.level == "warning" and f.value < 1e-3
    assert f.message.startswith("Layer 1 gets a gradient 10⁻") and "vanishing gradients" in f.message
    assert "ReLU with He init" in f.message
    assert f.details["ratios"][-1] == 1.0 and f.details["norms"].shape == (6,)
    s.run(30)
    f = dg.gradient_flow(s, window=20)
    rows = s.history.get("grad_norm")[-20:]
    geo = np.exp(np.log(rows).mean(axis=0))                  # the documented smoothing
    assert f.details["norms"] == pytest.approx(geo) and f.value == pytest.approx(geo[0] / geo[-1])
    assert ("Add batch norm", {"network": {"batch_norm": True}}) in f.suggestions


def test_healthy_and_exploding_flow():
    ok = make(network={"hidden": [8, 8], "activation": "relu", "init": "he_normal"})
    ok.run(10)
    assert dg.gradient_flow(ok).level == "ok"
    big = make(network={"hidden": [16] * 4, "activation": "relu", "init": "normal", "init_std": 3.0},
               task={"name": "sine", "n_samples": 100})
    f = dg.gradient_flow(big)
    assert f.level == "warning" and "exploding" in f.message
    assert dg.gradient_flow(make(task={"kind": "function", "name": "ravine"})).level == "n/a"


def test_dead_relus_counted_exactly():
    s = make(network={"hidden": [8, 8], "activation": "relu", "init": "he_normal"})
    s.model.b[0][:3] = -100.0                                # three units below 0 for every input
    f = dg.dead_relus(s)
    assert f.details["dead"][0].sum() == 3 and f.details["per_layer"][0] == 3 / 8
    n_dead = sum(int(d.sum()) for d in f.details["dead"])
    assert n_dead >= 3 and f.value == n_dead / 16 and f"{n_dead} of 16 ReLUs" in f.message
    s.model.b[0][:] = -100.0                                 # layer 2 then sees only its biases
    f = dg.dead_relus(s)
    assert f.level == "warning" and f.details["per_layer"][0] == 1.0
    assert dg.dead_relus(make()).level == "n/a"              # tanh


def test_saturation_fraction_by_hand():
    s = make(network={"hidden": [6], "activation": "tanh", "init": "normal", "init_std": 5.0})
    h = np.tanh(s.data.x_train @ s.model.W[0] + s.model.b[0])
    f = dg.saturation(s)
    assert f.value == pytest.approx(np.mean(np.abs(h) > 0.99))
    assert f.level == ("warning" if f.value > 0.25 else "ok") and f.level == "warning"
    sig = make(network={"hidden": [6], "activation": "sigmoid", "init": "normal", "init_std": 5.0})
    h = 1 / (1 + np.exp(-(sig.data.x_train @ sig.model.W[0])))
    assert dg.saturation(sig).value == pytest.approx(np.mean((h < 0.01) | (h > 0.99)))
    assert dg.saturation(make(network={"activation": "relu"})).level == "n/a"


def test_saturation_of_a_solved_classifier_is_not_a_warning():
    from gradplay.presets import load_preset

    s = Session(load_preset("spiral_tanh"))
    s.run(1500)
    f = dg.saturation(s)
    acc = s.evaluate(record=False)["train_acc"]
    assert f.value > dg.WARN_FRACTION and acc >= dg.SOLVED_ACCURACY  # saturated, and solved
    assert f.level == "ok" and "confident" in f.message
    bad = Session(load_preset("saturate_tanh_large_init"))  # as saturated, at chance accuracy
    assert dg.saturation(bad).level == "warning"


def test_batch_norm_units_are_judged_with_batch_statistics():
    s = make(network={"hidden": [6], "activation": "tanh", "init": "normal", "init_std": 5.0, "batch_norm": True})
    z = s.data.x_train @ s.model.W[0]
    h = np.tanh((z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5))
    assert dg.hidden_outputs(s.model, s.data.x_train)[0] == pytest.approx(h)
    assert dg.saturation(s).value < 0.05


def test_hidden_outputs_reproduce_predict():
    s = make(network={"hidden": [5, 4], "activation": "elu"})
    s.run(5)
    last = dg.hidden_outputs(s.model, s.data.x_test)[-1]
    assert last @ s.model.W[-1] + s.model.b[-1] == pytest.approx(s.model.predict(s.data.x_test), rel=1e-14)


def test_stability_on_landscapes():
    above = make(task={"kind": "function", "name": "ravine"}, optimizer={"name": "sgd", "lr": 0.11})
    f = dg.stability(above)
    assert f.level == "warning" and f.details["limit"] == pytest.approx(0.1) and f.value == pytest.approx(1.1)
    assert np.abs(f.details["direction"]) == pytest.approx([0.0, 1.0])
    assert "above the stability limit 2/λmax = 0.1;" in f.message
    assert f.suggestions[0][1] == {"optimizer": {"lr": 0.09}}
    mom = make(task={"kind": "function", "name": "ravine"}, optimizer={"name": "sgd", "lr": 0.15, "momentum": 0.8})
    f = dg.stability(mom)
    assert f.level == "ok" and f.details["limit"] == pytest.approx(0.18)
    assert "2(1+β)/λmax = 0.18 (momentum β = 0.8)" in f.message
    adam = make(task={"kind": "function", "name": "ravine"}, optimizer={"name": "adam", "lr": 5.0})
    assert dg.stability(adam).level == "n/a"
    saddle = make(task={"kind": "function", "name": "saddle"}, optimizer={"name": "sgd", "lr": 1.1})
    assert dg.stability(saddle).level == "warning"           # λmax = 2 along x: limit 1
    flat = make(task={"kind": "function", "name": "monkey_saddle", "start": [0.0, 0.0]})
    f = dg.stability(flat)                                   # zero Hessian: nothing to overshoot
    assert f.level == "ok" and f.details["limit"] == np.inf and "No upward curvature" in f.message


def test_stability_on_networks():
    s = make(network={"hidden": [4]}, training={"batch_size": "full"}, optimizer={"name": "sgd", "lr": 100.0})
    f = dg.stability(s)
    assert f.level == "warning" and f.details["lam_max"] > 0
    assert dg.stability(s, lam_max=0.01).level == "ok"
    assert dg.stability(make(optimizer={"name": "adam"})).level == "n/a"


def test_halt_advice():
    s = make(task={"kind": "function", "name": "quadratic"}, optimizer={"name": "sgd", "lr": 1.5})
    assert dg.halt_advice(s) is None
    s.run(5000)
    assert s.halted
    a = dg.halt_advice(s)
    assert a.message.startswith(s.halted) and "above the stability limit 2/λmax = 1;" in a.message
    assert ("Set lr to 0.9", {"optimizer": {"lr": 0.9}}) in a.suggestions
    assert any("Divide the learning rate by 10" in t for t, _ in a.suggestions)
    big = make(task={"name": "sine", "n_samples": 100}, optimizer={"name": "sgd", "lr": 0.05},
               network={"hidden": [16] * 4, "activation": "relu", "init": "normal", "init_std": 1.0})
    big.run(100)
    a = dg.halt_advice(big)
    assert "large for this network" in a.message
    assert ("Use he_normal init", {"network": {"init": "he_normal"}}) in a.suggestions
    for _, changes in a.suggestions:                         # every suggestion is a valid config change
        config.with_changes(big.config, **changes)


def test_diagnose_puts_the_halt_first():
    s = make(task={"kind": "function", "name": "quadratic"}, optimizer={"name": "sgd", "lr": 1.5})
    s.run(5000)
    found = dg.diagnose(s)
    assert [f.key for f in found] == ["halt", "stability"]
    net = make(network={"hidden": [8] * 5, "activation": "sigmoid", "init": "normal", "init_std": 0.3})
    keys = [f.key for f in dg.diagnose(net)]
    assert keys[0] == "gradient_flow" and "saturation" in keys and "dead_relu" not in keys


def test_after_a_blow_up_the_flow_says_exploding_not_vanishing():
    s = make(task={"name": "sine", "n_samples": 100}, optimizer={"name": "sgd", "lr": 0.05},
             network={"hidden": [16] * 4, "activation": "relu", "init": "normal", "init_std": 1.0})
    s.run(100)
    assert s.halted
    f = dg.gradient_flow(s)
    assert f.level == "warning" and "exploding" in f.message and f.value > 1e3
