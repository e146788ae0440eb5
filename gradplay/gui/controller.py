"""The window's controller: owns the current Session and the play loop, and tells the views.

The GUI never keeps training state of its own: everything the panels show is pulled from
`controller.session`, which is replaced when a preset or file is opened. A ~60 Hz QTimer runs the
session in small slices within a time budget, so the window stays responsive however slow a step is.
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from ..core import config as config_mod
from ..core import io
from ..core.session import Session
from ..presets import load_preset

FRAME_MS = 16            # ~60 frames a second
TRAIN_BUDGET = 0.010     # seconds of training per frame: leaves time to draw and to handle input
MAX_BUDGET = 0.050       # ...and never more than this, however slow the frames
CATCH_UP = 10            # a slow frame runs the steps of at most this many 60 Hz frames
MAX_SPEED = 5000         # steps per frame, the top of the speed control
EVAL_SHARE = 0.1         # at most this share of the playing time goes to full-set evaluation
# Steps per frame until the user moves the speed control, per task kind: a landscape's trajectory
# is worth watching in slow motion; a network needs about an epoch per frame to show progress.
DEFAULT_SPEEDS = {"function": 2, "dataset": 20}
log = logging.getLogger(__name__)


class Controller(QtCore.QObject):
    """Play/pause/step/reset of the current session; signals drive the window's redraws.

    Signals: `stepped` after training advanced (the window refreshes visible docks);
    `session_replaced` when the session was rebuilt or replaced (docks `reset()`);
    `config_changed` when a config was applied without a rebuild; `halted(str)` with the message when
    training stopped on NaN/inf; `play_state(bool)` when playing starts or stops.
    """

    stepped = QtCore.Signal()
    session_replaced = QtCore.Signal()
    config_changed = QtCore.Signal()
    halted = QtCore.Signal(str)
    play_state = QtCore.Signal(bool)
    speed_changed = QtCore.Signal(int)

    def __init__(self, cfg: dict | Session, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session: Session = cfg if isinstance(cfg, Session) else Session(cfg)
        self.session.subscribe(self._on_session_event)
        self.origin_config = self.session.config  # as loaded: the setup panel marks edits "modified"
        self.speeds = dict(DEFAULT_SPEEDS)  # remembered per task kind
        self.speed = self.speeds[self.session.kind]
        self.playing = False
        self._target: int | None = None  # step_epoch on a long epoch plays until this step
        self._last_tick = 0.0
        self.steps_per_second = 0.0
        self._sec_per_step = 1e-4  # running estimate, sizes the slices
        self._rate_t0, self._rate_step = time.perf_counter(), 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._next_eval = 0.0  # perf_counter time before which a frame skips the full-set evaluation
        self._evaluate()

    # ----------------------------------------------------------------- session events
    def _on_session_event(self, event: str) -> None:
        # Resets can come from outside the controller too (the landscape panel moving the start).
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
        self._last_tick = 0.0
        self._rate_t0, self._rate_step = time.perf_counter(), self.session.step
        self._timer.start()
        self.play_state.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._target = None
        self._timer.stop()
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
            got = self._run(chunk) if chunk else 0
            done += got
            self._evaluate()
            if self.session.halted:
                self._on_halt()
                break
        self.stepped.emit()
        return done

    def _advance(self, n: int) -> None:
        self._run(n)
        self._evaluate()
        self.stepped.emit()
        if self.session.halted:
            self._on_halt()

    def reset(self) -> None:
        """Back to step 0 with the same seed (same initial weights, data and batch order)."""
        self.session.reset()  # the "reset" event re-evaluates and emits session_replaced

    def set_speed(self, steps_per_frame: int) -> None:
        """Steps per frame (1…MAX_SPEED), remembered for the current task kind."""
        speed = max(1, min(MAX_SPEED, int(steps_per_frame)))
        self.speeds[self.session.kind] = speed
        if speed != self.speed:
            self.speed = speed
            self.speed_changed.emit(speed)

    # ----------------------------------------------------------------- the frame
    def _tick(self) -> None:
        """Run `speed` steps per 60 Hz frame in slices sized from the measured step time.

        When drawing makes frames slower than 60 Hz, a tick runs the steps of the frames it stood
        for (up to CATCH_UP of them), so the pace in steps per second does not depend on how costly
        the panels are to paint; training still gets at most half of a frame (and MAX_BUDGET).
        """
        s = self.session
        t0 = time.perf_counter()
        dt = t0 - self._last_tick if self._last_tick else FRAME_MS / 1000
        self._last_tick = t0
        frames = min(max(dt * 1000 / FRAME_MS, 1.0), CATCH_UP)
        budget = max(TRAIN_BUDGET, min(0.5 * dt, MAX_BUDGET))
        remaining = max(1, round(self.speed * frames))
        if self._target is not None:
            remaining = min(remaining, self._target - s.step)
        while remaining > 0:
            left = budget - (time.perf_counter() - t0)
            if left <= 0:
                break
            n = max(1, min(remaining, int(left / self._sec_per_step)))
            t = time.perf_counter()
            got = self._run(n)
            if got:
                per = (time.perf_counter() - t) / got
                self._sec_per_step = 0.7 * self._sec_per_step + 0.3 * per
            remaining -= n
            if s.halted or got < n:
                break
        self._evaluate(force=bool(s.halted))
        now = time.perf_counter()
        if now - self._rate_t0 >= 0.5:
            self.steps_per_second = (s.step - self._rate_step) / (now - self._rate_t0)
            self._rate_t0, self._rate_step = now, s.step
        self.stepped.emit()
        if s.halted:
            self._on_halt()
        elif self._target is not None and s.step >= self._target:
            self.pause()

    def _evaluate(self, force: bool = True) -> None:
        """Record full-set train/test loss and accuracy once per frame (datasets; a landscape's loss
        is its history).

        While playing (`force` False) evaluation takes at most EVAL_SHARE of the time: on 100 000
        samples and a 256-wide network one full-set pass takes seconds, and doing it every frame would
        freeze the window even with small batches.
        """
        if self.session.kind != "dataset":
            return
        t0 = time.perf_counter()
        if not force and t0 < self._next_eval:
            return
        self.session.evaluate()
        took = time.perf_counter() - t0
        self._next_eval = t0 + took / EVAL_SHARE

    def _run(self, n: int) -> int:
        """session.run(n), but an unexpected error halts the run with a message instead of escaping.

        An exception inside a Qt slot would be printed and then repeated at every frame while the
        window pretends to play; the work so far stays in the window (and its autosave).
        """
        s = self.session
        try:
            return s.run(n)
        except Exception as e:  # noqa: BLE001 - an engine bug must not cost the user the session
            log.exception("training step failed")
            s.halted = (f"Training stopped at step {s.step:,} by an internal error ({type(e).__name__}: {e}). "
                        f"The run is kept as it was; change a setting or reset to go on. Please report this.")
            return 0

    def _on_halt(self) -> None:
        # Keep the session (its last finite parameters) so the user can look at what went wrong.
        self.pause()
        self.halted.emit(self.session.halted or "Training stopped.")

    # ----------------------------------------------------------------- configs
    def apply_config(self, cfg: dict) -> None:
        """Apply a resolved config: keeps the parameters if only optimizer/schedule/training changed."""
        self.session.set_config(cfg)  # its "config" or "reset" event tells the window

    def load_preset(self, name: str) -> None:
        self.pause()
        self._replace(Session(load_preset(name)))

    def load_config(self, path: str | Path) -> None:
        """Open a TOML config, or a saved session (folder or .gradplay) to continue it.

        Raises ConfigError / SessionFileError with a message for the user; the current session stays.
        """
        path = Path(path)
        if path.is_dir() or path.suffix == ".gradplay" or path.name == "session.json":
            session = io.load_session(path.parent if path.name == "session.json" else path)
        else:
            session = Session(config_mod.load(path))
        self.pause()
        self._replace(session)

    def status(self) -> dict[str, float]:
        """Numbers for the status line: the latest batch loss and, for datasets, the last evaluation."""
        s = self.session
        out = {"loss": s.last_loss if s.step else math.nan}
        if s.kind == "function":
            with np.errstate(all="ignore"):  # a diverged point may overflow f: show inf, not raise
                out["loss"] = float(s.landscape.f(np.float64(s.theta[0]), np.float64(s.theta[1])))
        elif len(s.evals):
            for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
                out[k] = float(s.evals.last(k))
        return out
