"""TrainingState: the snapshot dict's format, restore and twins through it, independent copies."""
import json

import numpy as np
import pytest

from gradplay.core import config, io
from gradplay.core.session import Session
from gradplay.core.state import KEEP, TrainingState

from .test_unit_maps import assert_same

SPIRAL = {"task": {"name": "spiral", "n_samples": 120},
          "network": {"hidden": [6, 5], "batch_norm": True, "dropout": 0.2},
          "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 10},
          "schedule": {"name": "step", "step_size": 7, "gamma": 0.5},
          "stop": {"patience": 4, "check_every": 6}}
LANDSCAPE = {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.05}}
# the keys of a session file's state (docs/FORMATS.md), in the order session.json lists them
SAVED = ["step", "halted", "theta", "grad", "optimizer", "schedule", "rng", "history", "evals", "last_loss"]
DATASET_ONLY = ["perm", "pos", "buffers"]
PROGRESS = ["stopper"]  # what early stopping has seen, after the model's pieces


def everything(s: Session) -> dict:
    """The whole training state, the pieces carried only between twins included."""
    st = TrainingState.of(s)
    return {**st.as_dict(), "next_edit": st.next_edit, "stopped": st.stopped, "last_batch": st.last_batch,
            "grad_norms": st.grad_norms, "best_state": s.stopper.best_state}


@pytest.mark.parametrize("raw, keys", [(SPIRAL, SAVED + DATASET_ONLY + PROGRESS), (LANDSCAPE, SAVED + PROGRESS)])
def test_as_dict_is_the_snapshot_format_and_from_dict_reads_it_back(raw, keys):
    s = Session(config.resolve(raw))
    s.run(25)
    s.evaluate()
    snap = s.snapshot()
    assert list(snap) == keys
    assert snap["step"] == 25 and snap["theta"] is not s.theta and np.array_equal(snap["theta"], s.theta)
    assert list(TrainingState.from_dict(snap).as_dict()) == keys == list(TrainingState.of(s).as_dict())
    assert_same(TrainingState.from_dict(snap).as_dict(), snap)
    assert_same(TrainingState.of(s).as_dict(), snap)
    # a session file holds the same keys (its arrays moved into arrays.npz)
    meta, _ = io.session_files(s)
    assert list(json.loads(meta)["state"]) == keys


def test_apply_to_writes_in_place_and_a_file_without_grad_keeps_the_sessions():
    cfg = config.resolve(SPIRAL)
    a = Session(cfg)
    a.run(30)
    b = Session(cfg)
    theta, grad, history = b.theta, b.grad, b.history
    grad[:] = 7.0
    snap = a.snapshot()
    del snap["grad"], snap["stopper"]  # (files written before they were saved)
    state = TrainingState.from_dict(snap)
    assert state.grad is KEEP and state.stopper is KEEP
    state.apply_to(b)
    assert b.theta is theta and b.grad is grad and b.history is history
    assert np.array_equal(b.theta, a.theta) and (b.grad == 7.0).all() and b.step == 30
    with pytest.raises(KeyError, match="halted"):
        TrainingState.from_dict({k: v for k, v in a.snapshot().items() if k != "halted"})


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("raw", [SPIRAL, LANDSCAPE])
def test_sync_from_a_twin_continues_as_training_in_place(raw, fast):
    cfg = config.resolve(raw)
    direct = Session(cfg, fast=fast)
    shown = Session(cfg, fast=fast)
    for s in (direct, shown):
        s.run(11)
    direct.run(35)
    twin = shown.clone()
    twin.run(35)
    shown.sync_from(twin)
    assert_same(everything(shown), everything(direct))
    if raw is SPIRAL:  # early stopping has waited 3 checks (30, 36, 42) since its best, at 24
        assert shown.step == 46 and shown.stopper.best_step == 24 and shown.stopper.waited == 3
    for s in (direct, shown):
        s.run(100)
    assert_same(everything(shown), everything(direct))
    if raw is SPIRAL:  # ...so the 4th, at 48, stops it
        assert shown.step == 48 and shown.stopped.startswith("Stopped at step 48 by early stopping")
    for s in (direct, shown):
        s.run(100)
    assert_same(everything(shown), everything(direct))


def test_a_detached_copy_keeps_its_own_state_while_the_live_session_trains():
    live = Session(config.resolve({**SPIRAL, "stop": {}}))
    live.run(9)
    frozen = live.clone(caches=True)
    before = everything(frozen)
    caches = [a.copy() for a in frozen.model.a if a is not None]
    other = live.clone()
    other.run(40)  # crosses an epoch: a new batch order
    live.sync_from(other)  # writes the live session's arrays in place
    live.run(40)
    assert_same(everything(frozen), before)
    assert len(frozen.history) == 9 and len(live.history) == 89
    assert all(np.array_equal(a, b) for a, b in zip(caches, [a for a in frozen.model.a if a is not None]))
    assert frozen._perm is not live._perm and frozen.history is not live.history
    assert frozen.optimizer is not live.optimizer and frozen.rngs["batch"] is not live.rngs["batch"]
