"""Optimizer races: two to six Sessions that differ only in [optimizer] (and [schedule]).

Every racer is built from the same base config, so the same seed gives every racer the same start
point, the same initial weights, the same data and the same batch order (a session's "batch"
stream is its own child of the seed, untouched by the optimizer). Only the update rule differs, which
is what makes the loss curves comparable step for step.

A racer "finishes" the first time its loss comes within `tol` of the target: the landscape's
global minimum value on function tasks (0 on landscapes without a minimum), 0 on datasets, where
the loss measured is the full training-set loss after the step (batch losses are too noisy to time).
Racers keep training after they finish, so the curves stay overlaid.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from . import config as config_mod
from . import curvature, landscapes, optimizers
from .history import History
from .problem import LandscapeProblem
from .problem import of_config as problem_of
from .session import Session

MIN_RACERS, MAX_RACERS = 2, 6
RACER_KEYS = ("optimizer", "schedule")


def safe_lr(cfg: dict) -> float:
    """A plain-gradient-descent rate stable at a landscape's start: 1/λmax (half the 2/λmax limit),
    at most 0.1, rounded down to one significant digit; 0.01 where λmax is not positive (no limit)."""
    land = landscapes.get_landscape(cfg["task"]["name"])
    with np.errstate(all="ignore"):
        lam = curvature.landscape_curvature(land, np.array(cfg["task"]["start"], float)).lam_max
    if not (math.isfinite(lam) and lam > 0):
        return 0.01
    raw = min(0.1, 1.0 / lam)
    mag = 10.0 ** math.floor(math.log10(raw))
    return math.floor(raw / mag) * mag


def default_entries(cfg: dict) -> list[dict]:
    """The racers a new race starts with: the run's own [optimizer], then contrasting ones (plain SGD,
    SGD with momentum, Adam, and Newton on landscapes), skipping kinds already present; four racers on
    landscapes, three on datasets. Partial [optimizer] sections (missing keys take the defaults)."""
    own = dict(cfg["optimizer"])
    cands: list[dict]
    if not problem_of(cfg).has_data:
        lr = own["lr"] if own["name"] == "sgd" else safe_lr(cfg)
        cands = [{"name": "sgd", "lr": lr}, {"name": "sgd", "lr": lr, "momentum": 0.9},
                 {"name": "adam", "lr": 0.05}, {"name": "newton"}]
        want = 4
    else:
        cands = [{"name": "sgd", "lr": 0.1}, {"name": "sgd", "lr": 0.1, "momentum": 0.9},
                 {"name": "adam", "lr": 0.01}]
        want = 3

    def kind(e: dict) -> tuple:
        return e["name"], bool(e.get("momentum", 0.0))
    entries = [own]
    for c in cands:
        if len(entries) >= want:
            break
        if kind(c) not in {kind(e) for e in entries}:
            entries.append(c)
    return entries


def racer_label(cfg: dict) -> str:
    """A legend label that identifies the racer without colour: name, lr, non-default settings.

    e.g. "adam lr=0.01", "sgd lr=0.1 momentum=0.9 nesterov", "sgd lr=0.1 · cosine(t_max=1000)".
    """
    opt = cfg["optimizer"]
    defaults = optimizers.OPTIMIZERS[opt["name"]].defaults
    parts = [opt["name"], f"lr={opt['lr']:g}"]
    for k, v in opt.items():
        if k in ("name", "lr") or _is_default(opt, k, v, defaults.get(k)):
            continue
        if isinstance(v, bool):
            parts.append(k if v else f"no {k}")
        elif isinstance(v, list):
            parts.append(f"{k}=({', '.join(f'{x:g}' for x in v)})")
        else:
            parts.append(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}")
    sched = cfg["schedule"]
    if sched["name"] != "constant":
        args = ", ".join(f"{k}={v:g}" for k, v in sched.items() if k != "name")
        parts.append(f"· {sched['name']}({args})")
    return " ".join(parts)


def racer_config(base: dict, entry: dict) -> dict:
    """base with entry's sections merged in; a section whose name changes starts from its defaults
    (config.with_changes does this for [optimizer] only, and a schedule's keys differ by name too)."""
    raw = copy.deepcopy(base)
    for section, changes in entry.items():
        if changes.get("name", raw[section]["name"]) != raw[section]["name"]:
            raw[section] = {}
        raw[section].update(changes)
    return config_mod.resolve(raw)


def _is_default(opt: dict, key: str, value, default) -> bool:
    """Whether a resolved hyperparameter still has its default (config spells some differently)."""
    if isinstance(default, tuple):
        default = list(default)
    if key == "line_search_fn":
        return value in (None, "none")
    if key == "max_eval":               # torch's default: max_iter * 5 // 4
        return value == opt.get("max_iter", 20) * 5 // 4
    return value == default


@dataclass
class Racer:
    """One contestant: its session, label, and when it first reached the tolerance."""

    index: int
    label: str
    session: Session
    measured: History                    # step (after the update) -> loss measured for the finish
    finished_step: int | None = None     # steps taken when the loss first came within tol
    finished_loss: float = math.nan

    @property
    def halted(self) -> str | None:
        return self.session.halted

    def trajectory(self) -> np.ndarray:
        """Landscapes: the visited points (k+1, 2), start first (thinned like the History)."""
        s = self.session
        pts = np.column_stack([s.history.get("x"), s.history.get("y")])
        return np.vstack([pts, s.theta[None, :]])

    def loss_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps (k,), loss (k,)): the measured loss after each step, step 0 = the start."""
        return self.measured.get_steps(), self.measured.get("loss")


class Race:
    """Sessions built from `base` with each entry's sections replaced; run in lockstep.

    entries: 2..6 dicts with keys among "optimizer" and "schedule", e.g.
    [{"optimizer": {"name": "sgd", "lr": 0.1}}, {"optimizer": {"name": "adam", "lr": 0.01},
    "schedule": {"name": "cosine", "t_max": 500}}].
    """

    def __init__(self, base: dict, entries: list[dict], tol: float = 1e-3):
        if not MIN_RACERS <= len(entries) <= MAX_RACERS:
            raise ValueError(f"a race needs {MIN_RACERS} to {MAX_RACERS} optimizers, got {len(entries)}")
        self.base, self.tol = base, float(tol)
        self.racers: list[Racer] = []
        labels: dict[str, int] = {}
        for i, entry in enumerate(entries):
            bad = [k for k in entry if k not in RACER_KEYS]
            if bad:
                raise config_mod.ConfigError(f"racer {i + 1}: only {', '.join(RACER_KEYS)} may differ "
                                             f"between racers, not {', '.join(bad)}")
            cfg = racer_config(base, entry)
            label = racer_label(cfg)
            labels[label] = labels.get(label, 0) + 1
            if labels[label] > 1:          # identical settings still need distinct legend entries
                label = f"{label} #{labels[label]}"
            s = Session(cfg)
            self.racers.append(Racer(i, label, s, History({"loss": 1})))
        s0 = self.racers[0].session
        self.kind = s0.kind
        p = s0.problem
        if isinstance(p, LandscapeProblem):
            land = p.landscape
            self.target = land.fmin if land.minima else 0.0
        else:
            self.target = 0.0
        for r in self.racers:
            self._measure(r)

    @classmethod
    def from_session(cls, session: Session, entries: list[dict], tol: float = 1e-3) -> Race:
        """A race from the session's config: the same seed, hence its step-0 weights and batches."""
        return cls(session.config, entries, tol)

    def _measure(self, r: Racer) -> None:
        s = r.session
        loss = s.current_loss()
        r.measured.append(s.step, loss=loss)
        if r.finished_step is None and loss - self.target <= self.tol:
            r.finished_step, r.finished_loss = s.step, loss

    def set_tol(self, tol: float) -> None:
        """A new tolerance: each finish is re-read from the losses measured so far, as a race run with
        this tolerance from the start would have found it (nothing is re-run). Exact while the
        measured record holds every step (History keeps 8192 rows before it thins)."""
        self.tol = float(tol)
        for r in self.racers:
            steps, loss = r.loss_curve()
            hit = np.flatnonzero(loss - self.target <= self.tol)
            r.finished_step = int(steps[hit[0]]) if hit.size else None
            r.finished_loss = float(loss[hit[0]]) if hit.size else math.nan

    @property
    def step(self) -> int:
        return max(r.session.step for r in self.racers)

    def run(self, n: int) -> int:
        """Advance every racer n steps (halted racers stay where they stopped); returns n."""
        for _ in range(n):
            for r in self.racers:
                if not r.halted and r.session.run(1):
                    self._measure(r)
        return n

    def results(self) -> list[Racer]:
        """Racers ranked: finishers by step (then loss), then the rest by their last measured loss."""
        def key(r: Racer):
            last = r.measured.last("loss")
            last = math.inf if last is None or not math.isfinite(last) else last
            return (r.finished_step is None, r.finished_step or 0, r.finished_loss if r.finished_step
                    is not None else last)
        return sorted(self.racers, key=key)

    def winner(self) -> Racer | None:
        """The first racer to reach the tolerance, or None if nobody has yet."""
        first = self.results()[0]
        return first if first.finished_step is not None else None

    def summary(self) -> str:
        """One line per racer, in finishing order."""
        lines = []
        for place, r in enumerate(self.results(), 1):
            if r.finished_step is not None:
                what = f"reached loss {r.finished_loss:.3g} at step {r.finished_step}"
            elif r.halted:
                what = f"stopped at step {r.session.step} (non-finite values)"
            else:
                what = f"not within {self.tol:g} yet; loss {r.measured.last('loss'):.3g} at step {r.session.step}"
            lines.append(f"{place}. {r.label}: {what}")
        return "\n".join(lines)
