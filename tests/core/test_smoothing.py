"""The EMA against hand-worked values and a plain reference loop."""
import math

import numpy as np
import pytest

from gradplay.core.smoothing import RunningEma, ema


def test_hand_worked_debiased_average():
    # w = 0.5: s1 = 0.5·2 = 1 → 1/(1−0.5) = 2; s2 = 0.5·1 + 0.5·4 = 2.5 → 2.5/(1−0.25) = 10/3;
    # s3 = 0.5·2.5 + 0.5·0 = 1.25 → 1.25/(1−0.125) = 10/7
    np.testing.assert_allclose(ema(np.array([2.0, 4.0, 0.0]), 0.5), [2.0, 10 / 3, 10 / 7])


def test_zero_weight_is_the_curve_and_a_constant_stays_constant():
    x = np.array([3.0, -1.0, 7.5])
    np.testing.assert_array_equal(ema(x, 0.0), x)
    np.testing.assert_allclose(ema(np.full(50, 4.2), 0.9), 4.2)


def test_non_finite_points_are_gaps_that_do_not_poison_the_rest():
    x = np.array([1.0, np.nan, np.inf, 3.0])
    got = ema(x, 0.5)
    assert math.isnan(got[1]) and math.isnan(got[2])
    np.testing.assert_allclose(got[[0, 3]], ema(np.array([1.0, 3.0]), 0.5))


def test_log_smoothing_averages_orders_of_magnitude():
    x = np.array([1e-6, 1e-2, 1e-6, 1e-2])
    got = ema(x, 0.5, log=True)
    ref = 10 ** ema(np.log10(x), 0.5)
    np.testing.assert_allclose(got, ref)
    assert got[-1] < 1e-2 / 10  # a linear average would sit near 1e-2 / 2


def test_random_curves_against_a_reference_loop():
    rng = np.random.default_rng(0)
    for w in (0.1, 0.6, 0.99):
        x = rng.normal(size=200)
        s, ref = 0.0, []
        for t, v in enumerate(x, start=1):
            s = w * s + (1 - w) * v
            ref.append(s / (1 - w**t))
        np.testing.assert_allclose(ema(x, w), ref, rtol=1e-12)


def test_weight_out_of_range_is_refused():
    with pytest.raises(ValueError, match="smoothing weight must be in"):
        ema(np.ones(3), 1.0)


def test_a_running_average_extends_a_growing_history_as_a_full_pass_would():
    rng = np.random.default_rng(1)
    x = rng.lognormal(size=3000)
    x[[10, 500]] = np.nan
    steps = np.arange(len(x))
    run = RunningEma(log=True)
    for n in (0, 1, 5, 64, 65, 700, 3000):  # block edges and an empty start
        got = run(steps[:n], x[:n], 0.9)
        np.testing.assert_allclose(got, ema(x[:n], 0.9, log=True), rtol=1e-12)
    thinned = steps[::2]  # a thinned history (other steps): computed afresh
    np.testing.assert_allclose(run(thinned, x[::2], 0.9), ema(x[::2], 0.9, log=True), rtol=1e-12)
    np.testing.assert_allclose(run(thinned, x[::2], 0.5), ema(x[::2], 0.5, log=True), rtol=1e-12)


def test_a_thinned_history_keeps_the_full_stream_averages_of_its_rows():
    """History drops rows when full (keeping the newest): the kept rows' averages stay those of the
    whole stream, and the new rows continue from it, as if nothing had been dropped."""
    from gradplay.core.history import History

    rng = np.random.default_rng(2)
    x = rng.lognormal(size=400)
    h = History({"v": 1}, capacity=64)
    run = RunningEma(log=True)
    full = ema(x, 0.9, log=True)
    for t, v in enumerate(x):
        h.append(t, v=v)
        if t % 7 == 0:  # a frame now and then
            steps = h.get_steps()
            np.testing.assert_allclose(run(steps, h.get("v"), 0.9), full[steps], rtol=1e-12)


def test_a_different_run_at_the_same_steps_is_computed_afresh():
    run = RunningEma()
    steps = np.arange(100)
    run(steps[:50], np.ones(50), 0.5)
    other = np.full(100, 3.0)  # a reset, then another run trained past the cached steps
    np.testing.assert_allclose(run(steps, other, 0.5), 3.0)
