"""Train without a display and collect the full per-step arrays of the headless run contract (SPEC.md)."""
from __future__ import annotations

from typing import Callable

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
    s = session
    if s.kind == "function":
        traj = np.empty((steps + 1, 2))
        loss = np.empty(steps + 1)
        traj[0] = s.theta
        loss[0] = s.landscape.value(s.theta)
    else:
        out = {"x_train": s.data.x_train, "y_train": s.data.y_train,
               "x_test": s.data.x_test, "y_test": s.data.y_test}
        out.update({f"init.{k}": v.copy() for k, v in s.model.params().items()})
        loss = np.empty(steps)
        gnorm = np.empty((steps, s.n_layers))
        sampled = s.batch_size < s.n_train
        bidx = np.full((steps, s.batch_size), -1, dtype=np.int64) if sampled else None
    done = 0
    while done < steps:
        if s.run(1) == 0:
            break
        if s.kind == "function":
            traj[done + 1] = s.theta
            loss[done + 1] = s.landscape.value(s.theta)
        else:
            loss[done] = s.last_loss
            gnorm[done] = s.grad_norms
            if sampled:
                bidx[done, : len(s.last_batch)] = s.last_batch
        done += 1
        if progress is not None and done % chunk == 0 and progress(done) is False:
            break
    if s.kind == "function":
        return {"trajectory": traj[: done + 1], "loss": loss[: done + 1]}
    out.update({f"final.{k}": v.copy() for k, v in s.model.params().items()})
    out["loss"] = loss[:done]
    out["grad_norm"] = gnorm[:done]
    if sampled:
        out["batch_index"] = bidx[:done]
    return out
