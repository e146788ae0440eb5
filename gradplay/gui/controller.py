"""The window's controller: owns the current Session and the play loop, and tells the views.

The GUI never keeps training state of its own: everything the panels show is pulled from
`controller.session`, which is replaced when a preset or file is opened. While playing, a worker
thread trains a twin of the session (see trainer.py) and a ~60 Hz QTimer copies its progress into
the session between slices, so drawing overlaps training and the window stays responsive however
slow a step is. Single steps and headless runs train the session directly.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from .. import source
from ..core.pacing import FRAME_MS, Pacer
from ..core.problem import LandscapeProblem
from ..core.session import Session
from ..presets import load_preset
from .docks.base import SessionHolder
from .trainer import Trainer, run_guarded

MAX_SPEED = 5000         # steps per frame, the top of the speed control
MIN_SPEED = 2 * FRAME_MS / 1000  # ...and its bottom, slow motion: 2 steps a second (one every half second)
WORKING_AFTER = 0.5      # a slice running longer than this is reported (`working`) while it runs
# Steps per frame until the user moves the speed control, per task kind: a landscape's trajectory
# is worth watching in slow motion; a network shows its boundary forming at 5 (300 steps/s: the
# spirals take ~15 s to wind; at 20 they were solved in ~4 s, before a newcomer had looked).
DEFAULT_SPEEDS: dict[str, float] = {"function": 2, "dataset": 5}


class Controller(QtCore.QObject, SessionHolder):
    """Play/pause/step/reset of the current session; signals drive the window's redraws.

    Signals: `stepped` after training advanced (the window refreshes visible docks);
    `session_replaced` when the session was rebuilt or replaced (docks `reset()`);
    `config_changed` when a config was applied without a rebuild; `halted(str)` with the message when
    training stopped on NaN/inf; `stopped(str)` with the message when a stop condition paused it
    (core/stopping.py); `play_state(bool)` when playing starts or stops; `working(float)`
    at each frame while one slice has been training for more than WORKING_AFTER seconds.
    """

    stepped = QtCore.Signal()
    session_replaced = QtCore.Signal()
    config_changed = QtCore.Signal()
    halted = QtCore.Signal(str)
    stopped = QtCore.Signal(str)
    play_state = QtCore.Signal(bool)
    speed_changed = QtCore.Signal(float)
    working = QtCore.Signal(float)

    def __init__(self, cfg: dict | Session, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session: Session = cfg if isinstance(cfg, Session) else Session(cfg)
        self.session.subscribe(self._on_session_event)
        self.origin_config = self.session.config  # as loaded: the setup panel marks edits "modified"
        self.speeds = dict(DEFAULT_SPEEDS)  # remembered per task kind
        self.speed = self.speeds[self.session.kind]
        self.playing = False
        self._target: int | None = None  # step_epoch on a long epoch plays until this step
        self._pacer = Pacer()  # steps owed per frame (catch-up, slow motion) and each slice's time budget
        self._trainer: Trainer | None = None
        self.steps_per_second = 0.0
        self._sec_per_step = 1e-4  # running estimate (from the trainer), sizes step_epoch
        self._rate_t0, self._rate_step = time.perf_counter(), 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._evaluate()

    # ----------------------------------------------------------------- session events
    def _on_session_event(self, event: str) -> None:
        # Resets can come from outside the controller too (the landscape panel moving the start).
        if event in ("reset", "config"):
            self._retire_trainer()  # its twin trains what no longer is the session
        if event == "reset":
            self._kind_speed()
            self._evaluate()
            self.session_replaced.emit()
        elif event == "config":
            self.config_changed.emit()

    def _kind_speed(self) -> None:
        # A new task kind brings back the speed last used for that kind.
        if self.speeds[self.session.kind] != self.speed:
            self.speed = self.speeds[self.session.kind]
            self.speed_changed.emit(self.speed)

    def _replace(self, session: Session) -> None:
        self._retire_trainer()
        self.session.unsubscribe(self._on_session_event)
        self.session = session
        self.origin_config = session.config
        session.subscribe(self._on_session_event)
        self._kind_speed()
        self._evaluate()
        self.session_replaced.emit()

    # ----------------------------------------------------------------- transport
    def play(self) -> None:
        if self.playing:
            return
        if self.session.halted:  # nothing would happen: say why instead of "playing" in vain
            self.halted.emit(self.session.halted)
            return
        self.playing = True
        self.session.stopped = None  # Play goes on past a stop condition that fired
        self._pacer.start()  # slow motion: the first step at once
        self._rate_t0, self._rate_step = time.perf_counter(), self.session.step
        self._timer.start()
        self.play_state.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._target = None
        self._timer.stop()
        # The window shows the session as of the last frame; a slice still training is dropped
        # rather than waited for (one step at the largest sizes takes seconds).
        self._retire_trainer()
        self.steps_per_second = 0.0
        self.play_state.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def step_once(self) -> None:
        """One optimizer step (pauses first, so the step can be looked at)."""
        self.pause()
        self._advance(1)

    def step_epoch(self) -> None:
        """Steps up to the next epoch boundary (one full pass over the training set)."""
        self.pause()
        s = self.session
        n = s.steps_per_epoch - s.step % s.steps_per_epoch
        if n * self._sec_per_step < 0.25:
            self._advance(n)
        else:  # a long epoch plays to its end, so the window stays responsive meanwhile
            self._target = s.step + n
            self.play()

    def run_steps(self, n: int, frames: int = 1) -> int:
        """Train n steps now (headless use: shots, tests), evaluating `frames` times along the way."""
        done, frames = 0, max(1, min(frames, n)) if n else 1
        for i in range(frames):
            chunk = n * (i + 1) // frames - n * i // frames
            got = run_guarded(self.session, chunk) if chunk else 0
            done += got
            self._evaluate()
            if self.session.halted:
                self._on_halt()
                break
            if self.session.stopped:
                break
        self.stepped.emit()
        if self.session.stopped:
            self.stopped.emit(self.session.stopped)
        return done

    def _advance(self, n: int) -> None:
        run_guarded(self.session, n)
        self._evaluate()
        self.stepped.emit()
        if self.session.halted:
            self._on_halt()
        elif self.session.stopped:
            self.stopped.emit(self.session.stopped)

    def reset(self) -> None:
        """Back to step 0 with the same seed (same initial weights, data and batch order)."""
        self.session.reset()  # the "reset" event re-evaluates and emits session_replaced

    def set_speed(self, steps_per_frame: float) -> None:
        """Steps per frame (MIN_SPEED…MAX_SPEED; below 1 a step every few frames: slow motion),
        remembered for the current task kind."""
        speed = max(MIN_SPEED, min(MAX_SPEED, float(steps_per_frame)))
        speed = int(speed) if speed >= 1 else speed
        self.speeds[self.session.kind] = speed
        if speed != self.speed:
            self.speed = speed
            self.speed_changed.emit(speed)

    # ----------------------------------------------------------------- the frame
    def _tick(self) -> None:
        """Show the slice the trainer finished and hand it the next one, `speed` steps per 60 Hz
        frame.

        When drawing makes frames slower than 60 Hz, a slice runs the steps of the frames it stood
        for (core/pacing.py), so the pace in steps per second does not depend on how costly the
        panels are to paint. The next slice is requested before the panels redraw, so it trains
        while they draw.
        """
        s = self.session
        t0 = time.perf_counter()
        pacer = self._pacer
        pacer.tick(t0)
        if self._trainer is None:
            self._trainer = Trainer(s.clone())
        t = self._trainer
        fresh = t.take()
        if fresh:
            if s.sync_from(t.twin):  # the timeline changed a setting in that slice
                self.config_changed.emit()
            self._sec_per_step = t.sec_per_step or self._sec_per_step
        if t.idle and not s.halted and not s.stopped and not (self._target is not None and s.step >= self._target):
            owed = pacer.due(self.speed)
            if self._target is not None:
                owed = min(owed, self._target - s.step)
            # Half a frame: the slice is ready by the next tick, which would otherwise find it
            # busy and draw nothing new (the engine is fast enough that frames, not it, are scarce).
            if owed > 0:
                t.request(owed, pacer.budget)
        if not fresh:
            if t.busy_for() > WORKING_AFTER:
                self.working.emit(t.busy_for())
            return
        if t0 - self._rate_t0 >= 0.5:
            self.steps_per_second = (s.step - self._rate_step) / (t0 - self._rate_t0)
            self._rate_t0, self._rate_step = t0, s.step
        self.stepped.emit()
        if s.halted:
            self._on_halt()
        elif s.stopped:
            self.pause()
            self.stopped.emit(s.stopped)
        elif self._target is not None and s.step >= self._target:
            self.pause()

    def _retire_trainer(self) -> None:
        """Let the trainer's thread end after its slice; its twin's progress is not shown."""
        if self._trainer is not None:
            self._trainer.close()
            self._trainer = None

    def _evaluate(self) -> None:
        """Record full-set train/test loss and accuracy (datasets; a landscape's loss is its history).
        While playing, the trainer evaluates its twin instead, at most EVAL_SHARE of the time."""
        if self.session.problem.has_data:
            self.session.evaluate()

    def _on_halt(self) -> None:
        # Keep the session (its last finite parameters) so the user can look at what went wrong.
        self.pause()
        self.halted.emit(self.session.halted or "Training stopped.")

    # ----------------------------------------------------------------- configs
    def apply_config(self, cfg: dict) -> None:
        """Apply a resolved config: keeps the parameters if only optimizer/schedule/training changed."""
        self.session.set_config(cfg)  # its "config" or "reset" event tells the window

    def edit_param(self, name: str, index: tuple[int, ...], value: float) -> None:
        """Set one weight or bias by hand, now (playing or paused): the session records it on its
        timeline; its "config" event retires the trainer, whose twin still has the old value."""
        self.session.edit_param(name, index, value)
        self._evaluate()  # the losses and accuracy of the edited network, not of the one before

    def on_session_replaced(self, slot: Callable[[], None]) -> None:
        """Call `slot` at each `session_replaced`."""
        self.session_replaced.connect(slot)

    def open_session(self, session: Session) -> None:
        """Show and train `session` from now on (paused); the current one is dropped."""
        self.pause()
        self._replace(session)

    def load_preset(self, name: str) -> None:
        self.open_session(Session(load_preset(name)))

    def load_config(self, path: str | Path) -> None:
        """Open a TOML config, or a saved session (folder or .gradplay) to continue it.

        Raises ConfigError / SessionFileError with a message for the user; the current session stays.
        """
        opened = source.load(path)
        self.open_session(opened if isinstance(opened, Session) else Session(opened))

    def status(self) -> dict[str, float]:
        """Numbers for the status line: the latest batch loss and, for datasets, the last evaluation."""
        s = self.session
        out = {"loss": s.last_loss if s.step else math.nan}
        p = s.problem
        if isinstance(p, LandscapeProblem):
            with np.errstate(all="ignore"):  # a diverged point may overflow f: show inf, not raise
                out["loss"] = float(p.landscape.f(np.float64(s.theta[0]), np.float64(s.theta[1])))
        elif len(s.evals):
            for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
                out[k] = float(s.evals.last(k))
        return out
