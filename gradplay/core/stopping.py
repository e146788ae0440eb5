"""Stop conditions: when a run pauses by itself, and the message that says why.

A config's `[stop]` table (all off by default):

    max_steps = 0        # pause at this step (0: no limit)
    max_epochs = 0       # pause after this many epochs of the training set (datasets)
    target_loss = 0.0    # pause once the full training loss (f on a landscape) is at or below it
    patience = 0         # early stopping: pause after this many checks without a better test loss
    min_delta = 0.0      # ...where "better" means lower by more than this
    restore_best = false # ...and rewind the run to the check with the best test loss
    check_every = 0      # steps between checks (0: one epoch on a dataset, every step on a landscape)

As in Keras' EarlyStopping, the losses are looked at on a fixed schedule of steps (`check_every`),
not once a frame, so a run stops at the same step in the app, in `gradplay run` and in a test,
whatever the machine. The session runs its chunks up to the next check (`Stopper.next_check`) and
calls `Stopper.check` there; a condition that fired is spent, so Play goes on past it (early
stopping waits `patience` more checks). Rewinding to the best check restores the whole training
state of that step (`Session.snapshot`), so the run that remains is one that really happened: the
steps after it are dropped, and a replay or an export ends at that step too.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session

DEFAULTS: dict[str, Any] = {"max_steps": 0, "max_epochs": 0, "target_loss": 0.0, "patience": 0,
                            "min_delta": 0.0, "restore_best": False, "check_every": 0}
RANGES: dict[str, tuple[float, float]] = {"max_steps": (0, 10**12), "max_epochs": (0, 10**9),
                                          "target_loss": (0.0, 1e12), "patience": (0, 10**6),
                                          "min_delta": (0.0, 1e12), "check_every": (0, 10**9)}
INTEGER_KEYS = ("max_steps", "max_epochs", "patience", "check_every")


class Stopper:
    """The `[stop]` conditions of one session's settings, and what early stopping has seen so far."""

    def __init__(self, stop: dict[str, Any], steps_per_epoch: int | None):
        self.stop = stop
        dataset = steps_per_epoch is not None
        self.every = stop["check_every"] or (steps_per_epoch if dataset else 1) or 1
        limits = [stop["max_steps"]] if stop["max_steps"] else []
        if stop["max_epochs"] and dataset:
            limits.append(stop["max_epochs"] * (steps_per_epoch or 1))
        self.limit: int | None = min(limits) if limits else None
        self.target: float | None = stop["target_loss"] or None
        self.patience: int = stop["patience"] if dataset else 0  # a landscape has no test set
        self.checks = self.target is not None or self.patience > 0
        self.reset()

    def reset(self) -> None:
        """Back to a fresh run: nothing seen, every condition armed."""
        self.best = math.inf
        self.best_step: int | None = None
        self.best_state: dict[str, Any] | None = None
        self.waited = 0
        self.target_spent = False
        # after a rewind to the best check, early stopping is off: from there the steps replay
        # exactly, so it would fire at the same step and rewind to the same check at every Play
        self.rewound = False

    @property
    def active(self) -> bool:
        return self.limit is not None or self.checks

    def state(self) -> dict[str, Any]:
        """What early stopping has seen (the twin of a training thread hands it back each frame)."""
        return {"best": self.best, "best_step": self.best_step, "best_state": self.best_state,
                "waited": self.waited, "target_spent": self.target_spent, "rewound": self.rewound}

    def progress(self) -> dict[str, Any]:
        """`state()` as a session file keeps it: without the best check's training state, which
        would be a second copy of the run (a reopened run's early stopping then stops there without
        rewinding, and says so by not saying it rewound)."""
        return {k: v for k, v in self.state().items() if k != "best_state"}

    def load_state(self, d: dict[str, Any]) -> None:
        """`state()` or `progress()` (then there is no best check's state to rewind to)."""
        self.best, self.best_step, self.best_state = d["best"], d["best_step"], d.get("best_state")
        self.waited, self.target_spent, self.rewound = d["waited"], d["target_spent"], d["rewound"]

    def next_check(self, step: int) -> int | None:
        """The first step after `step` at which a condition is looked at (None: never)."""
        due = []
        if self.limit is not None and self.limit > step:
            due.append(self.limit)
        if self.checks:
            due.append((step // self.every + 1) * self.every)
        return min(due) if due else None

    def check(self, s: Session) -> str | None:
        """Look at the conditions due at the session's step; the message of the one that fired."""
        step = s.step
        if self.limit is not None and step == self.limit:
            what = (f"{self.stop['max_epochs']:,} epochs" if self.stop["max_epochs"]
                    and self.limit == self.stop["max_epochs"] * max(1, s.steps_per_epoch) else "the step limit")
            return f"Stopped at step {step:,}: the run reached {what} set in Stop conditions."
        if not self.checks or step % self.every:
            return None
        res = s.evaluate()
        if self.target is not None and not self.target_spent and res["train_loss"] <= self.target:
            self.target_spent = True
            return (f"Stopped at step {step:,}: the training loss {res['train_loss']:.4g} reached the "
                    f"target {self.target:g}.")
        if self.patience and not self.rewound:
            return self._early_stopping(s, res["test_loss"])
        return None

    def _early_stopping(self, s: Session, test_loss: float) -> str | None:
        if test_loss < self.best - self.stop["min_delta"]:
            self.best, self.best_step, self.waited = test_loss, s.step, 0
            if self.stop["restore_best"]:
                self.best_state = s.snapshot()
            return None
        self.waited += 1
        if self.waited < self.patience:
            return None
        self.waited = 0  # Play goes on: the next stop comes after `patience` more checks
        best = ("no check has had a finite test loss" if self.best_step is None else
                f"the best, {self.best:.4g}, was at step {self.best_step:,}")
        msg = (f"Stopped at step {s.step:,} by early stopping: the test loss has not improved for "
               f"{self.patience} checks ({self.patience * self.every:,} steps); {best}.")
        if self.best_state is not None and self.best_step != s.step:
            s.restore(self.best_state)
            self.best_state, self.rewound = None, True
            msg += (" The run is rewound to that step (restore best); early stopping is now off, "
                    "so Play trains on from there.")
        return msg
