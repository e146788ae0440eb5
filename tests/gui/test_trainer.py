"""The trainer thread's slices (gui/trainer.py), driven with a made-up clock."""
from __future__ import annotations

import time

from gradplay.core import config
from gradplay.core.pacing import Slicer
from gradplay.core.session import Session
from gradplay.gui.trainer import Trainer


def test_a_stop_condition_ends_the_slice_when_a_chunk_ends_on_it():
    # The slicer's chunk is budget / seconds-per-step steps: 1.0 / 0.1 = 10, the step limit exactly.
    # run() returned all 10 steps, so the slicer went on with a next chunk, whose run() cleared
    # `stopped` and trained past the limit: Play never paused there (seen in CI, 1 run in ~10).
    twin = Session(config.resolve({"task": {"name": "circles"}, "stop": {"max_steps": 10}}))
    t = Trainer(twin)
    t._slicer = Slicer(sec_per_step=0.1, clock=lambda: 0.0)  # time stands still: the budget is never spent
    try:
        t.request(40, 1.0)
        deadline = time.monotonic() + 20
        while not t.take():
            assert time.monotonic() < deadline, "the slice did not finish"
            time.sleep(0.01)
    finally:
        t.close()
    assert twin.step == 10 and twin.stopped and "step limit" in twin.stopped
