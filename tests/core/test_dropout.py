"""Dropout per hidden layer: the masks, inverted scaling, eval mode, gradients, config and reruns.

The masks are checked against SplitMix64's published outputs and a plain-Python-integer version of
the hash; the gradient against finite differences; the Hessian against differences of the gradient;
the compiled kernel against the numpy reference (also in test_fast.py), and the PyTorch export in
test_torch_script.py.
"""
import numpy as np
import pytest

from gradplay.core import config, dropout, io
from gradplay.core.config import ConfigError
from gradplay.core.hessian import network_hessian
from gradplay.core.nn import MLP
from gradplay.core.objective import BatchObjective
from gradplay.core.session import Session

U64 = (1 << 64) - 1


def py_mix(z: int) -> int:
    """SplitMix64's finaliser on Python integers (an independent reference for dropout.mix)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & U64
    return z ^ (z >> 31)


def py_uniform(key: int, step: int, layer: int, e: int) -> float:
    g = 0x9E3779B97F4A7C15
    k1 = py_mix((key + g * (step + 1)) & U64)
    k2 = py_mix((k1 + g * (layer + 1)) & U64)
    return (py_mix((k2 + g * (e + 1)) & U64) >> 11) / 2.0 ** 53


SPIRAL = {"task": {"name": "spiral", "n_samples": 120}, "network": {"hidden": [8, 6], "dropout": [0.2, 0.5]},
          "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 16}, "seed": 4}


# ----------------------------------------------------------------------------- the masks
def test_the_hash_is_splitmix64():
    # SplitMix64 seeded with 0 outputs 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F
    # (the reference sequence of Vigna's splitmix64.c); output k is mix(k · golden).
    with np.errstate(over="ignore"):
        got = [int(dropout.mix(np.uint64(dropout.GOLDEN) * np.uint64(k))) for k in (1, 2, 3)]
    assert got == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_uniforms_match_a_python_integer_reference():
    key = dropout.stream_key(7)
    u = dropout.uniforms(key, 123, 2, 4, 5)
    for r in range(4):
        for j in range(5):
            assert u[r, j] == py_uniform(key, 123, 2, r * 5 + j)
    assert dropout.uniforms(key, 10**15, 7, 1, 3)[0, 2] == py_uniform(key, 10**15, 7, 2)


def test_masks_repeat_with_the_seed_and_differ_with_seed_step_and_layer():
    k = dropout.stream_key(3)
    m = dropout.mask(k, 5, 0, 32, 16, 0.5)
    assert np.array_equal(m, dropout.mask(dropout.stream_key(3), 5, 0, 32, 16, 0.5))
    for other in (dropout.mask(dropout.stream_key(4), 5, 0, 32, 16, 0.5), dropout.mask(k, 6, 0, 32, 16, 0.5),
                  dropout.mask(k, 5, 1, 32, 16, 0.5)):
        # independent masks of 512 units agree in about half of them, never in all
        assert 0.4 < np.mean(other == m) < 0.6
    assert set(np.unique(m)) == {0.0, 2.0}


def test_the_dropout_stream_is_the_seeds_fourth_child():
    # the session's init, data and batch streams are children 0, 1, 2 of SeedSequence(seed)
    ss = np.random.SeedSequence(11).spawn(4)[3]
    assert dropout.stream_key(11) == int(ss.generate_state(1, dtype=np.uint64)[0])


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9])
def test_kept_fraction_is_one_minus_p(p):
    # N = 200 × 100 units, kept independently with probability 1 − p: the fraction has standard
    # deviation sqrt(p (1 − p) / N) <= 0.0036; 5 of them bound a chance failure to < 1e-6.
    n = 200 * 100
    kept = dropout.uniforms(dropout.stream_key(0), 17, 1, 200, 100) >= p
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    # neighbours (unit j and j + 1 of a row, the same unit of rows r and r + 1) are independent:
    # both kept with probability (1 − p)², within the same 5-sigma bound of ~20,000 pairs
    for both in (kept[:, 1:] & kept[:, :-1], kept[1:] & kept[:-1]):
        q = (1 - p) ** 2
        assert abs(both.mean() - q) < 5 * np.sqrt(q * (1 - q) / both.size)
    # and the expected multiplier is 1 (inverted dropout keeps the expected activation)
    m = dropout.mask(dropout.stream_key(0), 17, 1, 200, 100, p)
    assert abs(m.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)   # var of m is p / (1 − p)


# ----------------------------------------------------------------------------- the network
def net(p, key=99, bn=False):
    return MLP(3, [4, 5], 2, activation=["tanh", "relu"], batch_norm=bn, rng=np.random.default_rng(1),
               dropout=p, dropout_key=key)


def test_eval_mode_drops_nothing():
    x = np.random.default_rng(0).normal(size=(9, 3))
    for bn in (False, True):
        a, b = net([0.4, 0.7], bn=bn), net(0.0, bn=bn)
        b.theta[:] = a.theta
        assert np.array_equal(a.forward(x, train=False), b.forward(x, train=False))
        assert np.array_equal(a.predict(x), b.predict(x))
        assert all(m is None for m in a.m)
        for ua, ub in zip(a.unit_outputs(x), b.unit_outputs(x)):
            assert np.array_equal(ua, ub)


def test_training_forward_by_hand():
    # one hidden layer of 3 linear units, p = 0.5: the logit is Σ_j W2[j] · h_j · m_j with
    # m_j = 2 where the hash keeps unit j, else 0; computed here from the Python-integer hash
    model = MLP(2, [3], 1, activation="linear", rng=np.random.default_rng(0), dropout=0.5, dropout_key=12345)
    model.W[0][...] = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.25]]
    model.b[0][...] = [0.1, 0.2, 0.3]
    model.W[1][...] = [[1.0], [10.0], [100.0]]
    x = np.array([[1.0, 2.0], [-1.0, 0.0]])
    out = model.forward(x, train=True, step=8)
    h = x @ model.W[0] + model.b[0]                     # row 0: 2.1, 0.2, 3.8; row 1: -0.9, -1.8, -2.7
    for r in range(2):
        keep = [py_uniform(12345, 8, 0, r * 3 + j) >= 0.5 for j in range(3)]
        expected = sum(w * v * (2.0 if k else 0.0) for w, v, k in zip((1.0, 10.0, 100.0), h[r], keep))
        assert out[r, 0] == pytest.approx(expected, rel=1e-15)
    assert np.array_equal(model.a[1], model.h[0] * model.m[0])


def test_the_gradient_under_a_fixed_mask_matches_finite_differences():
    x = np.random.default_rng(2).normal(size=(7, 3))
    y = np.array([0, 1, 1, 0, 1, 0, 1])
    for bn in (False, True):
        model = net([0.3, 0.6], bn=bn)
        loss = BatchObjective(model, "cross_entropy", x, y, 0.0, 1e-3, step=41)
        theta = model.theta.copy()
        value, g = loss.value_and_grad(theta)
        assert loss.value(theta) == value                 # the same masks on every evaluation
        h = 1e-6
        numeric = np.empty_like(theta)
        for i in range(theta.size):
            e = np.zeros_like(theta)
            e[i] = h
            numeric[i] = (loss.value(theta + e) - loss.value(theta - e)) / (2 * h)
        assert np.abs(g - numeric).max() < 1e-7 * max(1.0, np.abs(g).max())
        assert BatchObjective(model, "cross_entropy", x, y, 0.0, 1e-3, step=42).value(theta) != value


def test_the_exact_hessian_uses_the_steps_masks():
    x = np.random.default_rng(3).normal(size=(6, 3))
    y = np.array([0, 1, 1, 0, 1, 0])
    model = net([0.5, 0.25], bn=True)
    loss = BatchObjective(model, "cross_entropy", x, y, 0.0, 0.0, step=5)
    theta = model.theta.copy()
    H = network_hessian(model, x, y, "cross_entropy", theta=theta, step=5)
    h = 1e-5
    for i in range(0, theta.size, 3):
        e = np.zeros_like(theta)
        e[i] = h
        column = (loss.grad(theta + e) - loss.grad(theta - e)) / (2 * h)
        assert np.abs(H[:, i] - column).max() < 1e-6 * max(1.0, np.abs(H).max())


# ----------------------------------------------------------------------------- the session
def test_a_session_trains_with_dropout_and_evaluates_without_it():
    s = Session(config.resolve(SPIRAL))
    assert s.model.dropout_p == (0.2, 0.5)
    s.run(30)
    first = s.evaluate(record=False)
    assert s.evaluate(record=False) == first              # evaluation is deterministic
    same = Session(config.resolve(SPIRAL))
    same.run(30)
    assert np.array_equal(same.theta, s.theta)
    plain = Session(config.resolve({**SPIRAL, "network": {"hidden": [8, 6]}}))
    plain.run(30)
    assert not np.array_equal(plain.theta, s.theta)
    # dropout draws nothing from the session's generators: the same batches, the same stream states
    assert np.array_equal(plain._perm, s._perm)
    for k, g in plain.rngs.items():
        assert s.rngs[k].bit_generator.state == g.bit_generator.state


def test_every_evaluation_at_a_step_sees_its_masks():
    s = Session(config.resolve(SPIRAL))
    s.run(12)
    objective = BatchObjective.of_session(s, np.arange(16))
    assert objective.step == 12
    assert objective.value(s.theta.copy()) == objective.value(s.theta.copy())


@pytest.mark.parametrize("suffix", ["", ".gradplay"])
def test_saved_and_continued_equals_the_uninterrupted_run(tmp_path, suffix):
    cfg = config.resolve({**SPIRAL, "network": {"hidden": [8, 6], "dropout": 0.3, "batch_norm": True}})
    one_go = Session(cfg)
    one_go.run(70)
    s = Session(cfg)
    s.run(30)
    back = io.load_session(io.save_session(s, tmp_path / f"saved{suffix}"))
    assert back.config["network"]["dropout"] == 0.3
    back.run(40)
    assert np.array_equal(back.theta, one_go.theta)
    assert np.array_equal(back.history.get("loss"), one_go.history.get("loss"))


def test_snapshot_restore_and_clone_continue_identically():
    cfg = config.resolve(SPIRAL)
    a = Session(cfg)
    a.run(23)
    snap = a.snapshot()
    twin = a.clone()
    a.run(31)
    b = Session(cfg)
    b.restore(snap)
    b.run(31)
    twin.run(31)
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.theta, twin.theta)


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("value, message", [
    (1.5, "'network.dropout': dropout probability has to be between 0 and 1, but got 1.5"),
    (-0.1, "dropout probability has to be between 0 and 1, but got -0.1"),
    (1, "'network.dropout' = 1 would drop every unit"),
    ("0.2", "'network.dropout' must be a number"),
    (True, "'network.dropout' must be a number"),
    ([0.1, 1.2], "'network.dropout[1]': dropout probability has to be between 0 and 1, but got 1.2"),
    ([0.1], "'network.dropout' lists 1 probabilities for 2 hidden layers"),
])
def test_bad_dropout_is_refused_with_a_message_naming_the_key(value, message):
    with pytest.raises(ConfigError) as e:
        config.resolve({"network": {"hidden": [4, 4], "dropout": value}})
    assert message in str(e.value)


def test_dropout_resolves_and_follows_the_layers():
    cfg = config.resolve({"network": {"hidden": [4, 4]}})
    assert cfg["network"]["dropout"] == 0.0
    cfg = config.resolve({"network": {"hidden": [4, 4], "dropout": [0.1, 0.5]}})
    assert cfg["network"]["dropout"] == [0.1, 0.5]
    assert config.with_hidden(cfg, [4, 4, 4])["network"]["dropout"] == [0.1, 0.5, 0.5]
    assert config.with_hidden(cfg, [4])["network"]["dropout"] == 0.1        # all alike: one number
    assert config.with_hidden(cfg, [])["network"]["dropout"] == 0.1
    assert config.loads(config.dumps(cfg)) == cfg
    with pytest.raises(ValueError, match="dropout probability"):
        MLP(2, [3], 1, dropout=1.0)
