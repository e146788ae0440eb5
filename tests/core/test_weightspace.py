"""The loss on a plane of weight space: exact at the origin, equal to hand-set weights, fast, cancellable."""
import time

import numpy as np
import pytest

from gradplay.core import config
from gradplay.core import weightspace as ws
from gradplay.core.session import Session


def make(steps=200, **net) -> Session:
    s = Session(config.resolve({"task": {"name": "spiral", "n_samples": 400},
                                "network": {"hidden": [8, 8], **net}, "optimizer": {"name": "adam", "lr": 0.01}}))
    s.run(steps)
    return s


@pytest.mark.parametrize("net", [{}, {"batch_norm": True, "activation": "relu"}])
def test_slice_origin_is_the_current_loss_and_points_match_hand_set_weights(net):
    s = make(**net)
    sl = ws.network_slice(s, "random", n=41)
    assert sl.Z.shape == (41, 41) and sl.alphas[20] == 0.0 and sl.betas[20] == 0.0
    assert sl.Z[20, 20] == s.current_loss()                            # bit for bit
    theta = s.theta.copy()
    for i, j in [(0, 0), (3, 37), (40, 12), (25, 20)]:
        a, b = sl.alphas[i], sl.betas[j]
        s.model.theta[:] = theta + a * sl.dirs[0] + b * sl.dirs[1]
        assert sl.Z[j, i] == pytest.approx(s.current_loss(), rel=1e-12)
        s.model.theta[:] = theta
    assert np.array_equal(s.theta, theta)                              # slicing left the session alone


def test_filter_normalised_directions():
    s = make(batch_norm=True)
    d = ws.random_directions(s.model, seed=3)
    params = s.model.params()
    offset = 0
    for name, w in params.items():
        block = d[:, offset:offset + w.size]
        if name[0] == "W":
            for k in range(2):
                cols = block[k].reshape(w.shape)
                assert np.linalg.norm(cols, axis=0) == pytest.approx(np.linalg.norm(w, axis=0), rel=1e-12)
        else:
            assert not block.any(), name                               # b, gamma, beta: zero
        offset += w.size
    assert not np.allclose(d[0], d[1])
    assert np.array_equal(d, ws.random_directions(s.model, seed=3))


def test_pca_directions_and_projection_of_a_planar_path():
    rng = np.random.default_rng(0)
    n = 30
    u, v = np.linalg.qr(rng.standard_normal((n, 2)))[0].T
    center = rng.standard_normal(n)
    t = np.linspace(-1, 0, 25)
    snaps = center + np.outer(3 * t, u) + np.outer(np.sin(4 * t), v)   # a curved path in one plane
    dirs, explained = ws.pca_directions(snaps, center)
    assert dirs @ dirs.T == pytest.approx(np.eye(2), abs=1e-12)
    assert explained.sum() == pytest.approx(1.0) and explained[0] > explained[1]
    coords, off = ws.project(snaps, center, dirs)
    assert coords @ dirs + center == pytest.approx(snaps, abs=1e-12) and off.max() < 1e-12
    assert coords[0, 0] < 0 and coords[0, 1] < 0                       # the start sits at negative coordinates
    with pytest.raises(ValueError):
        ws.pca_directions(center[None, :], center)


def test_project_with_non_orthogonal_directions():
    rng = np.random.default_rng(1)
    dirs, center = rng.standard_normal((2, 12)), rng.standard_normal(12)
    ab = rng.standard_normal((5, 2))
    coords, off = ws.project(center + ab @ dirs, center, dirs)
    assert coords == pytest.approx(ab, rel=1e-10) and off.max() < 1e-10


def test_recorder_is_bounded_and_spans_the_run():
    rec = ws.TrajectoryRecorder(3, capacity=8)
    for step in range(100):
        rec.record(step, np.full(3, float(step)))
    # each time the buffer fills, every other snapshot goes and the stride doubles: 1, 2, 4, 8, 16
    assert rec.stride == 16 and list(rec.steps) == list(range(0, 100, 16))
    assert np.array_equal(rec.thetas[:, 0], rec.steps)
    rec.clear()
    assert rec.n == 0 and rec.stride == 1
    rec.record(5, np.zeros(3))
    rec.record(6, np.ones(4))                                          # a new network: start over
    assert list(rec.steps) == [6] and rec.thetas.shape == (1, 4)


def test_recorder_follows_a_session_and_pca_slice():
    s = make(steps=0)
    rec = ws.TrajectoryRecorder(s.theta.size, capacity=40)
    rec.attach(s)
    for _ in range(100):
        s.run(3)
    assert rec.steps[0] == 0 and rec.n <= 40 and rec.steps[-1] >= 300 - rec.stride
    sl = ws.network_slice(s, "pca", recorder=rec, n=21)
    assert sl.Z[10, 10] == s.current_loss()
    assert sl.path.shape == (rec.n, 2) and sl.path_loss.shape == (rec.n,)
    assert sl.path_loss[0] == pytest.approx(Session(s.config).current_loss(), rel=1e-12)  # step 0's loss
    assert 0.5 < sl.explained[0] < 1 and np.abs(sl.path).max() < sl.alphas[-1]
    s.reset()
    assert list(rec.steps) == [0]
    rec.detach()
    s.run(10)
    assert list(rec.steps) == [0]


def test_a_41_by_41_grid_on_a_2_8_8_1_net_takes_well_under_a_second():
    s = make()
    best = np.inf
    for _ in range(3):                                                 # best of three: a busy machine
        t0 = time.perf_counter()                                       # should not fail the test
        sl = ws.network_slice(s, n=41)
        best = min(best, time.perf_counter() - t0)
    assert best < 1.0                                                  # about 0.15 s on an idle machine
    assert np.isfinite(sl.Z).all() and s.n_train == 320


def test_progress_reports_and_cancels():
    s = make(steps=0)
    calls = []

    def progress(done, total):
        calls.append((done, total))
        return len(calls) < 2                                          # cancel at the second report
    sl = ws.network_slice(s, n=41, progress=progress)
    assert sl.cancelled and calls[0][1] == 41 * 41 and len(calls) == 2
    assert np.isnan(sl.Z).sum() == 41 * 41 - calls[-1][0]
    done = []
    sl = ws.network_slice(s, n=41, progress=lambda d, t: done.append(d))
    assert not sl.cancelled and done[-1] == 41 * 41 and np.isfinite(sl.Z).all()


def test_landscapes_and_bad_modes_are_refused():
    with pytest.raises(ValueError, match="network"):
        ws.network_slice(Session(config.resolve({"task": {"kind": "function", "name": "saddle"}})))
    with pytest.raises(ValueError, match="mode"):
        ws.network_slice(make(steps=0), mode="hessian")
