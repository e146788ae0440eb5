"""The bounded history: memory stays fixed, recent steps stay at full resolution, the past keeps a
share of rows in proportion to its log-length."""
import numpy as np

from gradplay.core.history import History


def test_memory_is_bounded_and_recent_rows_are_complete():
    h = History({"loss": 1, "gn": 3}, capacity=64)
    buffers = (h.steps.nbytes, h.data["loss"].nbytes, h.data["gn"].nbytes)
    for step in range(100_000):
        h.append(step, loss=float(step), gn=np.full(3, step))
    assert len(h) <= 64
    assert (h.steps.nbytes, h.data["loss"].nbytes, h.data["gn"].nbytes) == buffers
    steps = h.get_steps()
    assert np.all(np.diff(steps) > 0), "rows stay in step order"
    assert steps[0] == 0, "the very first step is kept"
    assert np.array_equal(steps[-16:], np.arange(100_000 - 16, 100_000)), "newest rows at full resolution"
    assert np.array_equal(h.get("loss"), steps.astype(float)), "values stay with their steps"
    assert np.array_equal(h.get("gn")[:, 2], steps)


def test_older_rows_get_sparser():
    h = History({"v": 1}, capacity=32)
    for step in range(10_000):
        h.append(step, v=0.0)
    gaps = np.diff(h.get_steps())
    assert gaps[0] > gaps[-1] == 1


def test_a_long_run_keeps_rows_spaced_in_proportion_to_age():
    n = 200_000
    h = History({"v": 1}, capacity=512)
    for step in range(n):
        h.append(step, v=0.0)
    steps = h.get_steps()
    # the first half of the run keeps ~ln 2 / ln n of the rows (halving the older half at every
    # fill, the previous rule, left it 1 or 2 rows)
    assert (steps < n // 2).sum() >= 0.04 * len(steps)
    age = n - 1 - steps[1:-1]
    gap = (steps[2:] - steps[:-2]) / (age + 1)
    lo, hi = np.percentile(gap[age > 50], [1, 99])
    assert hi < 8 * lo, "row spacing grows with age, evenly on a log scale"


def test_round_trip_through_arrays():
    h = History({"a": 1, "b": 2}, capacity=16)
    for s in range(40):
        h.append(s, a=s * 0.5, b=[s, -s])
    g = History({"a": 1, "b": 2}, capacity=16)
    g.load_arrays(h.as_arrays())
    for k in ("a", "b"):
        assert np.array_equal(g.get(k), h.get(k))
    assert np.array_equal(g.get_steps(), h.get_steps())
