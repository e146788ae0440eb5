"""Training in a background thread, so that drawing and training overlap and a slow step never
blocks the window.

The thread trains a twin of the window's session (`Session.clone`); between slices the controller
copies the twin's progress into the window's session (`Session.sync_from`) on the GUI thread. The
window's session is therefore only ever touched by the GUI thread: panels, saves, autosaves and
exports read it without locks, and a change the user makes mid-run simply retires the twin.
The compiled training loop releases the GIL, so on two cores a frame is drawn while the next slice
trains; the numpy reference path releases it inside BLAS calls.
"""
from __future__ import annotations

import logging
import threading
import time

from ..core.pacing import Slicer
from ..core.session import Session

EVAL_SHARE = 0.1  # at most this share of the training time goes to full-set evaluation
log = logging.getLogger(__name__)


def run_guarded(session: Session, n: int) -> int:
    """session.run(n), but an unexpected error halts the run with a message instead of escaping.

    An exception inside a Qt slot (or a thread) would be printed and then repeated at every frame
    while the window pretends to play; the work so far stays in the window (and its autosave).
    """
    try:
        return session.run(n)
    except Exception as e:  # noqa: BLE001 - an engine bug must not cost the user the session
        log.exception("training step failed")
        session.halted = (f"Training stopped at step {session.step:,} by an internal error "
                          f"({type(e).__name__}: {e}). The run is kept as it was; change a setting or "
                          f"reset to go on. Please report this.")
        return 0


class Trainer:
    """A worker thread that trains `twin` on request: up to n steps within a time budget.

    `request` hands over a slice, `take` returns True once when a slice has finished (the twin may
    then be read until the next request), `close` lets the thread end after its current slice.
    A closed trainer's twin is simply dropped: nothing it does reaches the window any more.
    """

    def __init__(self, twin: Session, generation: int = 0):
        self.twin = twin
        self.generation = generation
        self._slicer = Slicer()  # sizes the chunks inside a slice by a running seconds-per-step estimate
        self._cond = threading.Condition()
        self._job: tuple[int, float] | None = None
        self._finished = False
        self._closed = False
        self._started_at: float | None = None  # perf_counter() when the current slice began
        self._next_eval = 0.0
        self._thread = threading.Thread(target=self._loop, name="gradplay-trainer", daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- GUI-thread side
    @property
    def idle(self) -> bool:
        """No slice requested or running (the twin is safe to read)."""
        with self._cond:
            return self._started_at is None

    def busy_for(self) -> float:
        """Seconds the current slice has been running (0 when idle)."""
        started = self._started_at
        return 0.0 if started is None else time.perf_counter() - started

    def request(self, n: int, budget: float) -> None:
        """Train up to n steps (at least one) for about `budget` seconds, then evaluate if due."""
        with self._cond:
            if self._started_at is not None or self._closed:
                raise RuntimeError("the trainer is busy or closed")
            self._job, self._finished = (int(n), float(budget)), False
            self._started_at = time.perf_counter()
            self._cond.notify()

    def take(self) -> bool:
        """True once after each finished slice."""
        with self._cond:
            done, self._finished = self._finished, False
            return done

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    # ----------------------------------------------------------------- worker side
    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                n, budget = self._job
            self._train(n, budget)
            with self._cond:
                self._job, self._started_at, self._finished = None, None, True

    @property
    def sec_per_step(self) -> float | None:
        """Running estimate of the seconds one step takes (None until a step was timed)."""
        return self._slicer.sec_per_step

    def _train(self, n: int, budget: float) -> None:
        twin = self.twin
        # A stop condition ends the slice: a next run() would clear `stopped` and train past it (a
        # chunk that ended exactly on the step limit went on, and Play never paused there).
        self._slicer.run(lambda k: run_guarded(twin, k), n, budget,
                         stop=lambda: self._closed or bool(twin.halted) or bool(twin.stopped))
        self._maybe_evaluate(force=bool(twin.halted))

    def _maybe_evaluate(self, force: bool) -> None:
        """Full-set loss and accuracy, taking at most EVAL_SHARE of the time: on 100 000 samples and
        a 256-wide network one pass takes seconds, so every slice cannot afford one."""
        if not self.twin.problem.has_data or self._closed:
            return
        t0 = time.perf_counter()
        if not force and t0 < self._next_eval:
            return
        try:
            self.twin.evaluate()
        except Exception:  # noqa: BLE001 - the window's own evaluation reports it on the next pause
            log.exception("evaluation failed")
        self._next_eval = t0 + (time.perf_counter() - t0) / EVAL_SHARE
