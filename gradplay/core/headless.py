"""Train without a display and collect the full per-step arrays of the headless run contract (docs/FORMATS.md).

The run goes in chunks of `Session.run(k)`, each small enough for the session's history to keep
every row it writes, and the contract's per-step arrays are copied from those rows: the loss and
gradient norms the training loop (compiled or numpy) already wrote into preallocated arrays. The
batch indices come from a `BatchLog` the loop fills. The arrays are the same bits as a run of
single steps. Measured on config (a) of `gradplay bench` (spiral 2-8-8-1, batch 10, Adam): calling
`run(1)` per step to read the values after it held `gradplay run` to ~28k steps/s, a fifth of the
engine's rate; the chunks bring it to the engine's (`gradplay bench` prints both).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .history import BatchLog
from .problem import DatasetProblem, LandscapeProblem
from .session import Session

Progress = Callable[[int], bool | None]
GROW_BELOW = 0.05  # seconds: a chunk that ran faster may double (record's grow_to)


def record(session: Session, steps: int, progress: Progress | None = None,
           chunk: int = 256, grow_to: int = 0) -> dict[str, np.ndarray]:
    """Run `steps` optimizer steps and return the contract arrays at full resolution.

    Function tasks: `trajectory` (N+1, 2) with the start first, `loss` (N+1,).
    Dataset tasks: data splits, `init.*` and `final.*` parameters, `loss` (N,) batch loss before each
    update, `grad_norm` (N, L) before clipping, `batch_index` (N, B) when batches are sampled (-1 pads
    a short last batch of an epoch).
    `progress(done)` is called every `chunk` steps; returning False cancels (arrays are cut to the
    steps done). With `grow_to`, the chunk doubles up to that many steps while a chunk takes under
    GROW_BELOW seconds: progress and Ctrl+C stay prompt, with fewer calls into the training loop.
    Training also stops early when the session halts on a non-finite value, or when a stop
    condition fires (`session.stopped` says which; the arrays end where the run does).
    """
    if isinstance(session.problem, LandscapeProblem):
        return _record_function(session, steps, progress, chunk, grow_to)
    return _record_dataset(session, steps, progress, chunk, grow_to)


def _train(s: Session, steps: int, progress: Progress | None, chunk: int,
           take: Callable[[int, int, int], None], grow_to: int = 0) -> int:
    """Train up to `steps` steps; after each run of k steps done, `take(done, row, k)` copies the
    k history rows from `row` on (the arrays' rows `done` on). Returns the steps done."""
    hist = s.history
    done, start = 0, s.step
    while done < steps:
        room = hist.make_room()
        want = min(steps - done, chunk - done % chunk, room)
        row = hist.n
        t0 = time.perf_counter()
        got = s.run(want)
        took = time.perf_counter() - t0
        take(done, row, got)
        done += got
        if got < want or s.stopped:  # halted, or a stop condition fired
            break
        if progress is not None and done % chunk == 0 and progress(done) is False:
            break
        if chunk < grow_to and took < GROW_BELOW:  # (chunk ends stay multiples of the last chunk)
            chunk *= 2
    return min(done, s.step - start)  # early stopping may have rewound the run to its best check


def _record_function(s: Session, steps: int, progress: Progress | None, chunk: int,
                     grow_to: int) -> dict[str, np.ndarray]:
    assert isinstance(s.problem, LandscapeProblem)
    land, hist = s.problem.landscape, s.history
    traj = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    traj[0] = s.theta
    loss[0] = land.value(s.theta)

    def take(done: int, row: int, k: int) -> None:
        # Row i holds the point before step i and f there; the point after a chunk's last step is θ.
        if k == 0:
            return
        rows = slice(row + 1, row + k)
        traj[done + 1: done + k, 0] = hist.data["x"][rows]
        traj[done + 1: done + k, 1] = hist.data["y"][rows]
        loss[done + 1: done + k] = hist.data["loss"][rows]
        traj[done + k] = s.theta
        loss[done + k] = land.value(s.theta)

    done = _train(s, steps, progress, chunk, take, grow_to)
    return {"trajectory": traj[: done + 1], "loss": loss[: done + 1]}


def _record_dataset(s: Session, steps: int, progress: Progress | None, chunk: int,
                    grow_to: int) -> dict[str, np.ndarray]:
    p = s.problem
    assert isinstance(p, DatasetProblem)
    hist, d = s.history, p.data
    out = {"x_train": d.x_train, "y_train": d.y_train, "x_test": d.x_test, "y_test": d.y_test}
    out.update({f"init.{k}": v.copy() for k, v in p.model.params().items()})
    loss = np.empty(steps)
    gnorm = np.empty((steps, s.n_layers))
    # (N, B): B the largest sampled batch of the run (the timeline may change the size); -1 pads a
    # smaller batch, and a full-batch step of a run that also samples is a row of -1
    sampled = [b for b in s.batch_sizes_ahead() if b < s.n_train]
    log = BatchLog(steps, max(sampled)) if sampled else None
    s.batch_log = log

    def take(done: int, row: int, k: int) -> None:
        loss[done: done + k] = hist.data["loss"][row: row + k]
        gnorm[done: done + k] = hist.data["grad_norm"][row: row + k].reshape(k, s.n_layers)

    try:
        done = _train(s, steps, progress, chunk, take, grow_to)
    finally:
        s.batch_log = None
    out.update({f"final.{k}": v.copy() for k, v in p.model.params().items()})
    out["loss"] = loss[:done]
    out["grad_norm"] = gnorm[:done]
    if log is not None:
        out["batch_index"] = log.table()[:done]
    return out
