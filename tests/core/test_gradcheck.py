"""Gradient check: agreement on correct backprop, detection of a wrong one, no side effects."""
import numpy as np
import pytest

from gradplay.core import config, gradcheck
from gradplay.core.gradcheck import default_batch
from gradplay.core.objective import BatchObjective
from gradplay.core.session import Session


def session(steps=20, **raw):
    base = {"task": {"name": "circles", "n_samples": 120}, "network": {"hidden": [5, 4]},
            "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 16}}
    for k, v in raw.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    s = Session(config.resolve(base))
    s.run(steps)
    return s


def state(s):
    m = s.model
    return (s.theta.copy(), s.grad.copy(), m.buffers(), [None if z is None else z.copy() for z in m.z])


def assert_same_state(a, b):
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert all(np.array_equal(a[2][k], b[2][k]) for k in a[2])
    assert all((x is None and y is None) or np.array_equal(x, y) for x, y in zip(a[3], b[3]))


@pytest.mark.parametrize("network,loss,training", [
    ({"activation": "tanh"}, "bce", {"l2": 0.01}),
    ({"activation": "sigmoid", "hidden": [6, 6, 6]}, "mse", {"l1": 0.001}),
    ({"activation": "gelu"}, "hinge", {}),
    ({"activation": "elu", "batch_norm": True}, "bce", {"l2": 0.001}),
    ({"activation": "tanh", "batch_norm": True}, "mse", {}),
    ({"activation": "silu"}, "huber", {}),
])
def test_backprop_agrees_with_finite_differences(network, loss, training):
    s = session(network=network, loss={"name": loss}, training=training)
    before = state(s)
    res = gradcheck.gradcheck(s)
    assert res.ok and res.max_rel_err < 1e-6, res.table()
    assert res.layer_rel_err.shape == (s.n_layers,)
    names = [b.name for b in res.blocks]
    assert names == list(s.model.params())                   # W/b (and gamma/beta) per layer, θ order
    assert "agrees" in res.message
    assert_same_state(before, state(s))                      # the session is untouched


def test_cross_entropy_three_classes():
    s = session(task={"name": "blobs3"}, loss={"name": "cross_entropy"})
    res = gradcheck.gradcheck(s)
    assert res.max_rel_err < 1e-6 and res.blocks[-2].size == 4 * 3   # W3: 4 units -> 3 logits


def test_a_wrong_gradient_is_found_in_its_block():
    s = session()
    model = s.model
    original = model.backward

    def wrong_backward(dout):                                # a 1% error in dL/dW1, nothing else
        dx = original(dout)
        model.dW[0] *= 1.01
        return dx
    model.backward = wrong_backward
    res = gradcheck.gradcheck(s)
    by_name = {b.name: b for b in res.blocks}
    assert by_name["W1"].max_rel_err == pytest.approx(0.01 / 1.01, rel=1e-3)
    assert all(b.max_rel_err < 1e-6 for b in res.blocks if b.name != "W1")
    assert res.layer_rel_err[0] > 1e-3 and res.layer_rel_err[1:].max() < 1e-6
    assert not res.ok and "W1 disagrees" in res.message


def test_default_batch_is_the_last_steps_batch_and_its_loss_is_the_sessions():
    s = session(steps=0)
    assert np.array_equal(default_batch(s), np.arange(16))   # before the first step: first batch_size points
    theta = s.theta.copy()
    s.run(1)
    assert np.array_equal(default_batch(s), s.last_batch)
    assert BatchObjective.of_session(s, s.last_batch).value(theta) == pytest.approx(s.last_loss, rel=1e-15)
    full = session(steps=1, training={"batch_size": "full"})
    assert default_batch(full) is None


def test_bn_in_train_mode_uses_the_batch_statistics_and_restores_the_running_ones():
    s = session(network={"batch_norm": True})
    loss = BatchObjective.of_session(s, np.arange(16))
    before = s.model.buffers()
    v1 = loss.value(s.theta)
    v2 = loss.value(s.theta)
    assert v1 == v2                                          # running statistics did not drift
    assert all(np.array_equal(before[k], s.model.buffers()[k]) for k in before)


def test_sampling_limits_the_entries_checked():
    s = session(network={"hidden": [16, 16]})
    res = gradcheck.gradcheck(s, max_per_block=10)
    assert [b.checked for b in res.blocks] == [min(b.size, 10) for b in res.blocks]
    assert res.analytic.size == sum(b.checked for b in res.blocks) and res.max_rel_err < 1e-6


def test_progress_counts_entries_and_can_stop_the_check():
    s = session(network={"hidden": [6, 6]})
    before = state(s)
    calls = []

    def progress(done, total):
        calls.append((done, total))
        return done < 7

    res = gradcheck.gradcheck(s, progress=progress)
    assert res.cancelled and calls[-1][0] == 7 and len(calls) == 7  # stopped at once
    assert calls[0][1] == s.theta.size  # every entry is counted
    assert_same_state(state(s), before)
    full = gradcheck.gradcheck(s, progress=lambda d, t: None)  # None: go on
    assert not full.cancelled and full.analytic.size == s.theta.size


def test_kink_is_detected_and_retried_with_a_smaller_step():
    class Abs:                                              # L(θ) = |θ₀| + θ₁², kink at θ₀ = 0
        def value(self, x):
            return abs(x[0]) + x[1] ** 2
    theta = np.array([1e-5, 0.5])
    d, kink = gradcheck._difference_quotient(Abs(), theta, 0, 1e-4)
    assert not kink and d == pytest.approx(1.0, rel=1e-9)   # h/100 no longer straddles the kink
    d, kink = gradcheck._difference_quotient(Abs(), np.array([1e-9, 0.5]), 0, 1e-4)
    assert kink                                             # still straddles it: flagged
    d, kink = gradcheck._difference_quotient(Abs(), theta, 1, 1e-4)
    assert not kink and d == pytest.approx(1.0, rel=1e-10)


def test_relative_error_floor():
    a, n = np.array([1.0, 1e-12, 0.0]), np.array([1.0 + 1e-9, 2e-12, 0.0])
    err = gradcheck.relative_error(a, n, floor=1e-6)
    assert err == pytest.approx([1e-9, 1e-6, 0.0], rel=1e-6)


def test_table_has_a_row_per_block():
    s = session()
    res = gradcheck.gradcheck(s)
    lines = res.table().splitlines()
    assert len(lines) == 1 + len(res.blocks) and lines[1].split()[0] == "W1"


def test_an_evaluation_leaves_the_network_as_it_was_after_an_exception():
    s = session()
    before = state(s)
    with pytest.raises(RuntimeError), s.model.unchanged():
        s.model.theta[:] = 0.0
        s.model.forward(s.data.x_train[:8])
        raise RuntimeError
    assert_same_state(before, state(s))


def test_landscapes_are_refused():
    s = Session(config.resolve({"task": {"kind": "function", "name": "quadratic"}}))
    with pytest.raises(ValueError, match="dataset"):
        BatchObjective.of_session(s)
