"""Learning-rate schedules with torch.optim.lr_scheduler semantics, stepped once per optimizer step.

The rate used at step k (counting from 0) is `lr` after k calls of `step()`, starting from base_lr.
Like torch, each schedule updates its rate recursively from the previous one ("chainable" get_lr),
so the values agree with torch's schedulers to the last bit; the closed forms in the docstrings agree
to a few ulp.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar


def _positive_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return v


def _number(name: str, v: Any, *, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {v!r}")
    return float(v)


class Schedule:
    """Base class. `lr` is the current rate, `last_step` the number of `step()` calls so far."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}  # optional hyperparameters and torch's defaults
    required: ClassVar[tuple[str, ...]] = ()  # hyperparameters without a default (as in torch)

    def __init__(self, base_lr: float, **hyper: Any) -> None:
        allowed = self.required + tuple(self.defaults)
        unknown = [k for k in hyper if k not in allowed]
        missing = [k for k in self.required if k not in hyper]
        if unknown or missing:
            what = (f"unknown hyperparameter {', '.join(map(repr, unknown))}" if unknown
                    else f"missing hyperparameter {', '.join(map(repr, missing))}")
            raise ValueError(f"schedule {self.name!r}: {what}; it takes: {', '.join(allowed) or 'nothing'}")
        self.base_lr = _number("base_lr", base_lr)
        self.hyper = self._validate({**self.defaults, **hyper})
        self.lr = self.base_lr
        self.last_step = 0

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        return h

    def step(self) -> float:
        """Advance one optimizer step and return the new rate."""
        self.last_step += 1
        self.lr = self._next_lr()
        return self.lr

    def _next_lr(self) -> float:
        """The rate after `last_step` calls, from the previous rate (torch's get_lr)."""
        return self.lr

    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name, "base_lr": self.base_lr, "hyper": dict(self.hyper),
                "lr": self.lr, "last_step": self.last_step}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Continue from a `state_dict()`; on any error this schedule is left as it was."""
        if d.get("name") != self.name:
            raise ValueError(f"state is for schedule {d.get('name')!r}, not {self.name!r}")
        fresh = type(self)(d["base_lr"], **d["hyper"])  # re-validates
        fresh.lr, fresh.last_step = float(d["lr"]), int(d["last_step"])
        self.__dict__.update(fresh.__dict__)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}(base_lr={self.base_lr!r}{args})"


class Constant(Schedule):
    """lr_k = base_lr."""

    name = "constant"


class Step(Schedule):
    """torch StepLR: multiply by gamma every step_size steps, lr_k = base_lr · gamma^⌊k / step_size⌋."""

    name = "step"
    required = ("step_size",)
    defaults = {"gamma": 0.1}

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        return {"step_size": _positive_int("step_size", h["step_size"]),
                "gamma": _number("gamma", h["gamma"], positive=True)}

    def _next_lr(self) -> float:
        if self.last_step % self.hyper["step_size"] != 0:
            return self.lr
        return self.lr * self.hyper["gamma"]


class Exponential(Schedule):
    """torch ExponentialLR: multiply by gamma every step, lr_k = base_lr · gamma^k."""

    name = "exponential"
    required = ("gamma",)

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        return {"gamma": _number("gamma", h["gamma"], positive=True)}

    def _next_lr(self) -> float:
        return self.lr * self.hyper["gamma"]


class Cosine(Schedule):
    """torch CosineAnnealingLR: half a cosine from base_lr down to eta_min over t_max steps.

    lr_k = eta_min + (base_lr − eta_min) · (1 + cos(πk / t_max)) / 2 for k ≤ t_max. Like torch it
    keeps going past t_max (there is no restart): the rate rises back to base_lr at 2·t_max, and so on.
    """

    name = "cosine"
    required = ("t_max",)
    defaults = {"eta_min": 0.0}

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        return {"t_max": _positive_int("t_max", h["t_max"]), "eta_min": _number("eta_min", h["eta_min"])}

    def _next_lr(self) -> float:
        k, t_max, eta_min = self.last_step, self.hyper["t_max"], self.hyper["eta_min"]
        if (k - 1 - t_max) % (2 * t_max) == 0:
            # just past a minimum the ratio below would divide by 1 + cos(π) = 0: step up instead
            return self.lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return ((1 + math.cos(math.pi * k / t_max)) / (1 + math.cos(math.pi * (k - 1) / t_max))
                * (self.lr - eta_min) + eta_min)


SCHEDULES: dict[str, type[Schedule]] = {c.name: c for c in (Constant, Step, Exponential, Cosine)}


def make_schedule(name: str, base_lr: float, **hyper: Any) -> Schedule:
    """The schedule called `name`, starting from base_lr."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}")
    return SCHEDULES[name](base_lr, **hyper)
