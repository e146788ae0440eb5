"""The headless recording: the arrays it reads from the training loop's own rows are the same bits as
a run of single steps read one at a time, on every path, through edits, history thinning, halts and
cancellation."""
import numpy as np
import pytest

from gradplay.core import config, fast, headless
from gradplay.core.history import BatchLog
from gradplay.core.session import Session

SPIRAL = {"task": {"name": "spiral", "n_samples": 120}, "network": {"hidden": [6, 5], "activation": "tanh"},
          "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 10}}


@pytest.fixture(scope="module", autouse=True)
def compiled():
    assert fast.ensure(block=True), fast.status()


def one_step_at_a_time(s: Session, steps: int) -> dict[str, np.ndarray]:
    """The contract's per-step arrays by their definition: after each single step, the loss, the
    gradient norms and the batch the step saw (the recording before chunks did just this)."""
    if s.kind == "function":
        traj, loss = [s.theta.copy()], [s.landscape.value(s.theta)]
        while len(traj) <= steps and s.run(1):
            traj.append(s.theta.copy())
            loss.append(s.landscape.value(s.theta))
        return {"trajectory": np.array(traj), "loss": np.array(loss)}
    loss, gn, batches = [], [], []
    while len(loss) < steps and s.run(1):
        loss.append(s.last_loss)
        gn.append(s.grad_norms.copy())
        batches.append(s.last_batch)
    out = {"loss": np.array(loss), "grad_norm": np.array(gn).reshape(len(loss), s.n_layers)}
    width = max((len(b) for b in batches if b is not None), default=0)
    if width:
        table = np.full((len(batches), width), -1)
        for i, b in enumerate(batches):
            if b is not None:
                table[i, : len(b)] = b
        out["batch_index"] = table
    return out


def assert_same_run(raw: dict, steps: int, fast_path: bool, chunk: int = 256, **kw) -> dict[str, np.ndarray]:
    cfg = config.resolve(raw)
    ref_session, got_session = Session(cfg, fast=fast_path), Session(cfg, fast=fast_path)
    ref = one_step_at_a_time(ref_session, steps)
    got = headless.record(got_session, steps, chunk=chunk, **kw)
    for k, v in ref.items():
        assert got[k].dtype == v.dtype or k == "batch_index", k
        assert np.array_equal(got[k], v), k
    assert np.array_equal(got_session.theta, ref_session.theta)
    assert got_session.step == ref_session.step and got_session.halted == ref_session.halted
    expect = "numpy" if not fast_path else ("scalar" if cfg["task"]["kind"] == "function" else "compiled")
    assert got_session.engine == expect
    assert got_session.batch_log is None  # the log belongs to the recording only
    return got


@pytest.mark.parametrize("fast_path", [True, False], ids=["compiled", "numpy"])
def test_recorded_arrays_are_the_single_step_values(fast_path):
    got = assert_same_run(SPIRAL, 300, fast_path, chunk=37)
    assert got["batch_index"].shape == (300, 10)


@pytest.mark.parametrize("fast_path", [True, False], ids=["compiled", "numpy"])
def test_edits_of_the_batch_size_and_a_short_last_batch(fast_path):
    # 96 training rows: batches of 10 end each epoch with a short one of 6; then full batches, then 7s
    raw = dict(SPIRAL, timeline=[{"step": 40, "training.batch_size": "full"},
                                 {"step": 50, "training.batch_size": 7, "optimizer.lr": 0.003}])
    got = assert_same_run(raw, 120, fast_path)
    bidx = got["batch_index"]
    assert (bidx[40:50] == -1).all() and (bidx[50:, 7:] == -1).all() and (bidx[50:, 0] >= 0).all()
    assert (bidx[:40] == -1).any()  # the short last batches of the epochs are padded


@pytest.mark.parametrize("fast_path", [True, False], ids=["compiled", "numpy"])
def test_many_epochs_a_chunk_and_a_batch_norm_leftover(fast_path):
    # 96 training rows in batches of 19 leave 1, which batch norm cannot normalise: each epoch is 5
    # batches and that row waits for a later epoch. A chunk of 500 steps spans 100 epochs, whose
    # permutations the compiled loop draws ahead: each step's row is still the batch it saw.
    raw = dict(SPIRAL, network={"hidden": [4], "batch_norm": True}, training={"batch_size": 19})
    got = assert_same_run(raw, 1200, fast_path, chunk=500)
    assert (got["batch_index"] >= 0).all()


def test_the_history_thins_while_recording_and_every_step_is_kept():
    got = assert_same_run(dict(SPIRAL, network={"hidden": [3]}), 9000, True, chunk=1000)
    assert len(got["loss"]) == 9000


def test_growing_chunks_record_the_same_arrays_and_report_progress_in_order(monkeypatch):
    """`gradplay run` lets a fast chunk double (fewer calls into the loop): same bits, and progress
    still comes at chunk ends, further apart as they grow."""
    seen: list[int] = []
    monkeypatch.setattr(headless, "GROW_BELOW", 10.0)  # every chunk counts as fast
    assert_same_run(dict(SPIRAL, network={"hidden": [3]}), 9000, True, chunk=64, grow_to=1024,
                    progress=lambda done: seen.append(done) or True)
    gaps = np.diff([0, *seen])
    assert list(gaps[:6]) == [64, 64, 128, 256, 512, 1024] and set(gaps[6:]) <= {1024}
    assert seen == sorted(seen) and seen[-1] <= 9000


@pytest.mark.parametrize("fast_path", [True, False], ids=["scalar", "numpy"])
def test_landscape_trajectory_and_values(fast_path):
    raw = {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.01}}
    got = assert_same_run(raw, 500, fast_path, chunk=64)
    assert got["trajectory"].shape == (501, 2)


@pytest.mark.parametrize("fast_path", [True, False], ids=["scalar", "numpy"])
def test_a_halt_cuts_the_arrays_at_the_last_finite_step(fast_path):
    raw = {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "sgd", "lr": 0.5}}
    got = assert_same_run(raw, 200, fast_path, chunk=16)
    assert 1 < len(got["loss"]) < 201 and np.isfinite(got["trajectory"]).all()


def test_a_dataset_halt_is_recorded_up_to_it():
    raw = dict(SPIRAL, optimizer={"name": "sgd", "lr": 1e3}, network={"hidden": [8], "activation": "relu"},
               loss={"name": "mse"})
    got = assert_same_run(raw, 400, True, chunk=16)
    assert len(got["loss"]) < 400


def test_cancelling_keeps_the_steps_done():
    s = Session(config.resolve(SPIRAL))
    seen = []
    got = headless.record(s, 1000, progress=lambda done: seen.append(done) or done < 300, chunk=100)
    assert seen == [100, 200, 300] and s.step == 300
    assert len(got["loss"]) == len(got["batch_index"]) == 300


def test_batch_log_pads_short_batches_and_whole_set_steps():
    log = BatchLog(5, 3)
    perm = np.array([4, 0, 3, 1, 2])
    log.add_run(perm, 1, 2, 3)       # perm[1:4] and perm[4:5], cut by the permutation's end
    log.add_run(None, 0, 1, 3)       # a step that saw the whole set
    log.add(np.array([2, 4]))        # a batch of two after an edit
    assert log.table().tolist() == [[0, 3, 1], [2, -1, -1], [-1, -1, -1], [2, 4, -1]]
