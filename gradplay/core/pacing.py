"""Time-budgeted training: how many steps a ~60 Hz frame owes, and running them within a time budget.

One pace for everything that trains while the window draws: the play loop (gui/controller.py, whose
slices run on the trainer thread, gui/trainer.py) and the optimizer race (gui/docks/race.py, whose
slices run on the GUI thread). Pure arithmetic on times (seconds, as from time.perf_counter) and step
counts, so it is tested with made-up clocks; no Qt.

- `Pacer`: at each frame, the steps owed at a speed in steps per frame. A frame that came late (the
  window was busy drawing) owes the steps of the 60 Hz frames it stood for, up to CATCH_UP of them, so
  the pace in steps per second does not depend on how costly the panels are to paint; below one step
  per frame (slow motion) the fractions add up from frame to frame. It also keeps the smoothed length
  of a frame, which sizes a slice's time budget.
- `Slicer`: runs up to n steps within a budget, in chunks sized by a running estimate of the seconds
  a step takes (one step at first: at the largest sizes one step takes seconds).
"""
from __future__ import annotations

import time
from collections.abc import Callable

FRAME_MS = 16            # ~60 frames a second
FRAME = FRAME_MS / 1000  # the same, in seconds
CATCH_UP = 10            # a slow frame owes the steps of at most this many 60 Hz frames
MIN_BUDGET = 0.008       # seconds of training per slice at least...
MAX_BUDGET = 0.100       # ...and at most: a slice spans about one frame of the window
# Running estimates (seconds per step, seconds per frame): this share the previous estimate, the rest
# the new measurement, so one slow step or frame (a GC pause, a repaint) does not halve the next slice.
KEEP = 0.7
TAKE = 1.0 - KEEP


def smoothed(previous: float, measured: float) -> float:
    """The running estimate after one more measurement: KEEP · previous + TAKE · measured."""
    return KEEP * previous + TAKE * measured


class Pacer:
    """Steps owed per frame at a speed in steps per frame, and the time budget of the next slice.

    `start()` when playing starts, `tick(now)` at each frame, then `due(speed)` for the steps that
    frame owes and `budget` for how long they may take: half a smoothed frame, within MIN_BUDGET and
    `max_budget` (so a slice handed to a thread is ready by the next frame).
    """

    def __init__(self, max_budget: float = MAX_BUDGET):
        self.max_budget = float(max_budget)
        self.frame = FRAME  # smoothed seconds between ticks
        self.start()

    def start(self) -> None:
        """Playing starts: the next tick stands for one frame, and slow motion takes its first step at once."""
        self._last: float | None = None
        self.frames = 1.0
        self.owed = 1.0

    def tick(self, now: float) -> float:
        """A frame at `now` (seconds): how many 60 Hz frames it stands for, 1 to CATCH_UP."""
        dt = FRAME if self._last is None else now - self._last
        self._last = now
        self.frame = smoothed(self.frame, min(dt, MAX_BUDGET))
        self.frames = min(max(dt / FRAME, 1.0), CATCH_UP)
        return self.frames

    def due(self, speed: float) -> int:
        """Steps owed by the last tick at `speed` steps per frame: at least one from 1 up; below 1,
        the whole steps of the fractions added up so far (0.25 gives one step every fourth frame)."""
        if speed >= 1:
            return max(1, round(speed * self.frames))
        self.owed += speed * self.frames
        n = int(self.owed + 1e-9)  # 4 × 0.25 adds up to 1 exactly; 10 × 0.1 to 0.9999999999999999
        self.owed -= n
        return n

    @property
    def budget(self) -> float:
        """Seconds the next slice may train: half a smoothed frame, within MIN_BUDGET and max_budget."""
        return min(max(MIN_BUDGET, 0.5 * self.frame), self.max_budget)


class Slicer:
    """Runs steps in time-budgeted slices: `run(step, n, budget)` calls `step(k)` (which trains k steps
    and returns how many it did) in chunks until n are done or the budget is spent, always at least one.
    `sec_per_step` is the running estimate that sizes the chunks (None until a step was timed)."""

    def __init__(self, sec_per_step: float | None = None, clock: Callable[[], float] = time.perf_counter):
        self.sec_per_step = sec_per_step
        self.clock = clock

    def run(self, step: Callable[[int], int], n: int, budget: float,
            stop: Callable[[], bool] = lambda: False) -> int:
        """Up to n steps within about `budget` seconds; ends early when `stop()` or when `step` did
        fewer than asked (halted). Returns the steps done."""
        clock = self.clock
        t0 = clock()
        done = 0
        while done < n and not stop():
            left = budget - (clock() - t0)
            if left <= 0 and done:
                break
            per = self.sec_per_step
            k = 1 if per is None else max(1, min(n - done, int(left / per)))
            t = clock()
            got = step(k)
            if got:
                took = (clock() - t) / got
                self.sec_per_step = took if per is None else smoothed(per, took)
            done += got
            if got < k:
                break
        return done
