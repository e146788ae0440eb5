"""The shared pace of the play loop and the race: steps owed per frame, slow motion, catch-up, the
slice's time budget and the budgeted chunks, against hand-worked numbers on made-up clocks."""
import pytest

from gradplay.core.pacing import CATCH_UP, FRAME, MIN_BUDGET, Pacer, Slicer, smoothed


def due_at_frames(speed: float, n: int, every: float = FRAME) -> list[int]:
    """Steps owed at n ticks `every` seconds apart, from a fresh start."""
    p = Pacer()
    out = []
    for k in range(n):
        p.tick(k * every)
        out.append(p.due(speed))
    return out


def test_slow_motion_quarter_step_per_frame_is_one_step_every_fourth_frame():
    # owed starts at 1 (the first step at once): 1.25 → 1 step, then .5, .75, 1.0 → a step, ...
    assert due_at_frames(0.25, 12) == [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]


def test_slow_motion_tenth_of_a_step_adds_up_despite_rounding():
    # 1 + 0.1 at the first frame (a step, 0.1 left), then 0.1 + nine more tenths at frame 10, which is
    # 0.9999999999999999 in floating point: it still makes a whole step; then every tenth frame
    got = due_at_frames(0.1, 31)
    assert [k + 1 for k, n in enumerate(got) if n] == [1, 10, 20, 30]


def test_whole_speeds_owe_speed_steps_per_frame_at_least_one():
    assert due_at_frames(5, 4) == [5, 5, 5, 5]
    assert due_at_frames(1, 3) == [1, 1, 1]
    # a tick that comes early (4 ms after the last) still counts as one frame
    assert due_at_frames(3, 3, every=0.004) == [3, 3, 3]


def test_a_late_frame_owes_the_frames_it_stood_for_up_to_catch_up():
    p = Pacer()
    p.tick(0.0)
    assert p.due(5) == 5
    p.tick(3 * FRAME)                  # three frames late-ish: 3 frames' steps
    assert p.frames == pytest.approx(3.0) and p.due(5) == 15
    p.tick(3 * FRAME + 1.0)            # a second later: 62.5 frames, capped at CATCH_UP = 10
    assert CATCH_UP == 10 and p.frames == 10 and p.due(5) == 50
    p.tick(3 * FRAME + 1.0 + 4 * FRAME)  # slow motion catches up too: 4 frames × 0.25 = one step
    p.owed = 0.0
    assert p.due(0.25) == 1


def test_start_forgets_the_time_paused():
    p = Pacer()
    p.tick(0.0)
    p.start()
    p.tick(100.0)  # the first tick after a start stands for one frame, not 100 s of them
    assert p.frames == 1.0 and p.due(4) == 4


def test_smoothing_and_the_budget_of_a_slice():
    assert smoothed(1.0, 2.0) == pytest.approx(1.3)    # 0.7 · 1 + 0.3 · 2
    p = Pacer()
    assert p.budget == MIN_BUDGET == 0.008             # half of a 16 ms frame
    p.tick(0.0)                                        # the first tick counts one frame: 16 ms
    p.tick(0.050)                                      # 50 ms: 0.7·16 + 0.3·50 = 26.2 ms
    assert p.frame == pytest.approx(0.0262) and p.budget == pytest.approx(0.0131)
    p.tick(1.050)                                      # a 1 s frame counts as 100 ms (MAX_BUDGET)
    assert p.frame == pytest.approx(0.7 * 0.0262 + 0.03) and p.budget == pytest.approx(0.02417)
    for k in range(2, 80):
        p.tick(0.050 + k)                              # frames of a second: half of 100 ms at most
    assert p.budget == pytest.approx(0.05, abs=1e-9)
    p.tick(100.0)
    p.tick(100.001)                                    # 1 ms frames: the budget's floor
    for k in range(80):
        p.tick(100.002 + k * 0.001)
    assert p.budget == MIN_BUDGET


def test_a_capped_pacer_never_hands_out_more_than_its_cap():
    p = Pacer(max_budget=0.012)
    for k in range(20):
        p.tick(k * 0.2)  # slow frames: half a frame would be 50 ms
    assert p.budget == 0.012


class FakeSteps:
    """step(k): k steps of `per` seconds each on a made-up clock; records the chunks."""

    def __init__(self, per: float, halt_after: int | None = None):
        self.per, self.now, self.chunks, self.halt_after = per, 0.0, [], halt_after

    def clock(self) -> float:
        return self.now

    def step(self, k: int) -> int:
        done = sum(self.chunks)
        if self.halt_after is not None:
            k = min(k, self.halt_after - done)
        self.chunks.append(k)
        self.now += k * self.per
        return k


def test_slicer_times_one_step_then_fills_the_budget():
    f = FakeSteps(0.25)
    s = Slicer(clock=f.clock)
    # 1 step to time it (0.25 s), then int(0.5 / 0.25) = 2 fill the 0.75 s budget exactly
    assert s.run(f.step, 10, 0.75) == 3 and f.chunks == [1, 2] and s.sec_per_step == 0.25


def test_slicer_runs_at_least_one_chunk_past_the_estimate_and_stops_when_spent():
    f = FakeSteps(0.3)
    s = Slicer(clock=f.clock)
    # 0.3 s, left 0.45 → 1 step; left 0.15 → int(0.5) = 0 → still 1 step; left −0.15 → done
    assert s.run(f.step, 10, 0.75) == 3 and f.chunks == [1, 1, 1]
    assert s.sec_per_step == pytest.approx(0.3)


def test_slicer_stops_at_n_at_stop_and_when_steps_fall_short():
    f = FakeSteps(0.001)
    s = Slicer(sec_per_step=0.001, clock=f.clock)
    assert s.run(f.step, 4, 1.0) == 4 and f.chunks == [4]  # n, not the budget, ends it
    f = FakeSteps(0.001)
    s = Slicer(clock=f.clock)
    assert s.run(f.step, 100, 1.0, stop=lambda: bool(f.chunks)) == 1
    f = FakeSteps(0.001, halt_after=3)  # a halted run does fewer steps than asked: the slice ends
    s = Slicer(sec_per_step=0.001, clock=f.clock)
    assert s.run(f.step, 100, 1.0) == 3 and f.chunks == [3]


def test_slicer_estimate_is_smoothed():
    f = FakeSteps(1.0)
    s = Slicer(sec_per_step=2.0, clock=f.clock)
    s.run(f.step, 1, 10.0)
    assert s.sec_per_step == pytest.approx(0.7 * 2.0 + 0.3 * 1.0)
