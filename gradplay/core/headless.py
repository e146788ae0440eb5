"""Train without a display and collect the full per-step arrays of the headless run contract (docs/FORMATS.md)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .session import Session


def record(session: Session, steps: int, progress: Callable[[int], bool | None] | None = None,
           chunk: int = 256) -> dict[str, np.ndarray]:
    """Run `steps` optimizer steps and return the contract arrays at full resolution.

    Function tasks: `trajectory` (N+1, 2) with the start first, `loss` (N+1,).
    Dataset tasks: data splits, `init.*` and `final.*` parameters, `loss` (N,) batch loss before each
    update, `grad_norm` (N, L) before clipping, `batch_index` (N, B) when batches are sampled (-1 pads
    a short last batch of an epoch).
    `progress(done)` is called every `chunk` steps; returning False cancels (arrays are cut to the
    steps done). Training also stops early when the session halts on a non-finite value.
    """
    if session.kind == "function":
        return _record_function(session, steps, progress, chunk)
    return _record_dataset(session, steps, progress, chunk)


def _record_function(s: Session, steps: int, progress: Callable[[int], bool | None] | None,
                     chunk: int) -> dict[str, np.ndarray]:
    assert s.landscape is not None  # a function task
    traj = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    traj[0] = s.theta
    loss[0] = s.landscape.value(s.theta)
    done = 0
    while done < steps:
        if s.run(1) == 0:
            break
        traj[done + 1] = s.theta
        loss[done + 1] = s.landscape.value(s.theta)
        done += 1
        if progress is not None and done % chunk == 0 and progress(done) is False:
            break
    return {"trajectory": traj[: done + 1], "loss": loss[: done + 1]}


def _record_dataset(s: Session, steps: int, progress: Callable[[int], bool | None] | None,
                    chunk: int) -> dict[str, np.ndarray]:
    assert s.data is not None and s.model is not None  # a dataset task
    out = {"x_train": s.data.x_train, "y_train": s.data.y_train,
           "x_test": s.data.x_test, "y_test": s.data.y_test}
    out.update({f"init.{k}": v.copy() for k, v in s.model.params().items()})
    loss = np.empty(steps)
    gnorm = np.empty((steps, s.n_layers))
    # (N, B): B the largest sampled batch of the run (the timeline may change the size); -1 pads a
    # smaller batch, and a full-batch step of a run that also samples is a row of -1
    sampled = [b for b in s.batch_sizes_ahead() if b < s.n_train]
    bidx = np.full((steps, max(sampled)), -1, dtype=np.int64) if sampled else None
    done = 0
    while done < steps:
        if s.run(1) == 0:
            break
        loss[done] = s.last_loss
        gnorm[done] = s.grad_norms
        if bidx is not None and s.last_batch is not None:  # a sampled step
            bidx[done, : len(s.last_batch)] = s.last_batch
        done += 1
        if progress is not None and done % chunk == 0 and progress(done) is False:
            break
    out.update({f"final.{k}": v.copy() for k, v in s.model.params().items()})
    out["loss"] = loss[:done]
    out["grad_norm"] = gnorm[:done]
    if bidx is not None:
        out["batch_index"] = bidx[:done]
    return out
