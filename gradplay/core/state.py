"""The training state of a Session, declared once: what changes as it trains.

Part of it: the parameters θ, the last gradient, the optimizer's and the schedule's state, the random
streams, the step, the halt message, the last loss, the history and evaluation tables and, on a
dataset task, the batch order (permutation and position in it) and the batch-norm running
statistics. These are saved: `as_dict()` is `Session.snapshot()` and what a session file holds under
`state` (docs/FORMATS.md). Also part of it, but carried only from a twin (`copy_into`): the index of
the next timeline edit, the best check's training state (early stopping's restore best), why the
last run stopped, the engine it took, the last per-layer gradient norms and the last batch. What
early stopping has seen (the best test loss and its step, the checks waited, a spent target, a
rewind done) is saved: a reopened run stops where the run that went on would.

Not part of it: the settings (config, run config and timeline) and the data or landscape, which a
twin shares read-only; the model's caches (the last pass's activations), the compiled loop's buffers
and the batch log, which belong to one session's arrays; and the listeners, which are never copied.

Each field names how it is read from a session, written into one, carried from a twin in place
(arrays the panels hold stay valid) and checked when it comes from a file; adding a piece of state
means adding a field here.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from . import config as config_mod
from .history import History

if TYPE_CHECKING:
    from .session import Session


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
"""A field's value when the state does not hold it (a piece a file lacks, a dataset-only piece on a
landscape, a piece not saved): `apply_to` leaves the session's own."""


# ----------------------------------------------------------------------------- validating values
def check_int(v: Any, what: str, lo: int, hi: int) -> int:
    """`v` as an int; ValueError unless it is a whole number from lo to hi."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{what} must be a whole number from {lo} to {hi}, got {config_mod._show(v)}")
    return int(v)


def check_array(v: Any, what: str, shape: tuple[int, ...] | None = None, integer: bool = False) -> np.ndarray:
    """`v` itself; ValueError unless it is an array of real numbers (integers) of the given shape."""
    if not isinstance(v, np.ndarray) or v.dtype.kind not in ("iu" if integer else "iuf"):
        kind = "integers" if integer else "real numbers"
        raise ValueError(f"{what} must be an array of {kind}, got "
                         f"{getattr(v, 'dtype', type(v).__name__)}")
    if shape is not None and v.shape != shape:
        raise ValueError(f"{what} has shape {v.shape}, expected {shape}")
    return v


def _check_table(table: Any, fresh: History, what: str, step: int, last_step_below: bool) -> None:
    """A saved History: the session's columns, equal lengths, at most its capacity, steps in order."""
    want = set(fresh.columns) | {"step"}
    if not isinstance(table, dict) or set(table) != want:
        raise ValueError(f"{what} must have the columns {sorted(want)}, got "
                         f"{sorted(table) if isinstance(table, dict) else type(table).__name__}")
    steps = check_array(table["step"], f"{what}.step", integer=True)
    n = len(steps) if steps.ndim == 1 else -1
    if not 0 <= n <= fresh.capacity:
        raise ValueError(f"{what}.step must be a list of at most {fresh.capacity} steps")
    for k, width in fresh.columns.items():
        check_array(table[k], f"{what}.{k}", (n, width) if width > 1 else (n,))
    if n and (np.any(np.diff(steps) < 0) or steps[0] < 0
              or (steps[-1] >= step if last_step_below else steps[-1] > step)):
        raise ValueError(f"{what}.step must rise from 0 and stay below the step count {step}")


def _check_halted(v: Any, s: Session, step: int) -> None:
    if v is not None and not isinstance(v, str):
        raise ValueError(f"halted must be a message or null, got {config_mod._show(v)}")


def _check_theta(v: Any, s: Session, step: int) -> None:
    check_array(v, "theta", s.theta.shape)
    if not np.isfinite(np.asarray(v, dtype=np.float64)).all():
        # a run keeps its last finite parameters when it halts: no genuine file has others
        raise ValueError("theta holds non-finite values (inf or nan)")


def _check_grad(v: Any, s: Session, step: int) -> None:
    check_array(v, "grad", s.grad.shape)


def _check_settings(part: str, saved: Any, mine: dict[str, Any]) -> None:
    """The optimizer's or schedule's name and settings are those the config has in force."""
    if not isinstance(saved, dict):
        raise ValueError(f"{part} must be a table")
    for k in ("name", "hyper") + (("base_lr",) if part == "schedule" else ()):
        if saved.get(k) != mine[k]:
            raise ValueError(f"{part}.{k} is {config_mod._show(saved.get(k))} but the config gives "
                             f"{config_mod._show(mine[k])}")


def _check_optimizer(v: Any, s: Session, step: int) -> None:
    from .session import MAX_STEP  # (session imports this module)

    counters = v.get("state") if isinstance(v, dict) else None
    if not isinstance(counters, dict):
        raise ValueError("optimizer.state must be a table")
    for k in ("step", "func_evals", "n_iter"):  # a negative step count divides by 1 − β⁰ = 0 in Adam
        if k in counters:  # (a step that halted on NaN counted in the optimizer, not in the session)
            check_int(counters[k], f"optimizer.state.{k}", 0, step + 1 if k == "step" else MAX_STEP)
    _check_settings("optimizer", v, s.optimizer.state_dict())


def _check_schedule(v: Any, s: Session, step: int) -> None:
    if isinstance(v, dict) and "last_step" in v:
        check_int(v["last_step"], "schedule.last_step", 0, step)
    _check_settings("schedule", v, s.schedule.state_dict())


def _check_history(v: Any, s: Session, step: int) -> None:
    _check_table(v, s.history, "history", step, last_step_below=True)
    rows = len(v["step"])
    if step <= s.history.capacity and rows != step:  # one row per step until it is thinned
        raise ValueError(f"history has {rows} rows for {step} steps")


def _check_evals(v: Any, s: Session, step: int) -> None:
    _check_table(v, s.evals, "evals", step, last_step_below=False)


def _check_last_loss(v: Any, s: Session, step: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"last_loss must be a number, got {config_mod._show(v)}")


def _check_perm(v: Any, s: Session, step: int) -> None:
    n = s.n_train
    perm = check_array(v, "perm", (n,), integer=True)
    if not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValueError(f"perm must be an ordering of the {n} training samples")


def _check_pos(v: Any, s: Session, step: int) -> None:
    check_int(v, "pos", 0, s.n_train)


# ----------------------------------------------------------------------------- the fields
@dataclass(frozen=True)
class _Part:
    get: Callable[[Session], Any]               # the session's value, as a copy it no longer touches
    put: Callable[[Session, Any], None]         # write a value into the session (arrays in place)
    carry: Callable[[Session, Session], None] | None = None  # (dst, src) in place; default put(get)
    own: Callable[[Session, Session], None] | None = None    # (dst, src): give a copy its own holder
    check: Callable[[Any, Session, int], None] | None = None  # (value, session, step): ValueError
    saved: bool = True      # in the snapshot dict and the session file
    optional: bool = False  # files written before it existed lack it; the session keeps its own
    model: bool = False     # dataset tasks only


def _part(**kw: Any) -> Any:
    return field(default=KEEP, metadata={"part": _Part(**kw)})


def _value(attr: str, cast: Callable[[Any], Any] | None = None, **kw: Any) -> Any:
    """A plain value held in a session attribute."""
    def put(s: Session, v: Any) -> None:
        setattr(s, attr, v if cast is None else cast(v))
    return _part(get=lambda s: getattr(s, attr), put=put, **kw)


def _inplace(attr: str, **kw: Any) -> Any:
    """An array the panels hold: written and carried in place."""
    def put(s: Session, v: Any) -> None:
        getattr(s, attr)[:] = v

    def carry(dst: Session, src: Session) -> None:
        getattr(dst, attr)[:] = getattr(src, attr)
    return _part(get=lambda s: getattr(s, attr).copy(), put=put, carry=carry, **kw)


def _table(attr: str, **kw: Any) -> Any:
    """A History, saved as its arrays, carried without reallocating."""
    def put(s: Session, v: Any) -> None:
        getattr(s, attr).load_arrays(v)

    def carry(dst: Session, src: Session) -> None:
        getattr(dst, attr).copy_from(getattr(src, attr))

    def own(dst: Session, src: Session) -> None:
        h = getattr(src, attr)
        setattr(dst, attr, History(h.columns, h.capacity))
    return _part(get=lambda s: getattr(s, attr).as_arrays(), put=put, carry=carry, own=own, **kw)


def _own_params(dst: Session, src: Session) -> None:
    # θ, the gradient and the running statistics live in the model (the caches, hundreds of MB for
    # a big full batch, are left to the copy's first step)
    if src.model is not None:
        dst.model = src.model.copy(caches=False)
        dst.theta, dst.grad = dst.model.theta, dst.model.grad
    else:
        dst.theta, dst.grad = src.theta.copy(), src.grad.copy()


def _put_rng(s: Session, v: dict[str, Any]) -> None:
    for k, state in v.items():
        s.rngs[k].bit_generator.state = state


def _put_perm(s: Session, v: Any) -> None:
    s._perm = np.asarray(v).copy()


def _carry_perm(dst: Session, src: Session) -> None:
    dst._perm[:] = src._perm


def _own_optimizer(dst: Session, src: Session) -> None:
    dst._make_optimizer()  # the schedule too


def _put_stopper(s: Session, v: dict[str, Any]) -> None:
    s.stopper.load_state(v)


def _carry_stopper(dst: Session, src: Session) -> None:
    dst.stopper.load_state(src.stopper.state())  # with the best check's training state


def _own_stopper(dst: Session, src: Session) -> None:
    dst.stopper = dst._make_stopper()


def _check_stopper(v: Any, s: Session, step: int) -> None:
    keys = set(s.stopper.progress())
    if not isinstance(v, dict) or set(v) != keys:
        raise ValueError(f"stopper must be a table of {', '.join(sorted(keys))}")
    best = v["best"]
    if isinstance(best, bool) or not isinstance(best, (int, float)) or math.isnan(best):
        raise ValueError(f"stopper.best must be a number, got {config_mod._show(best)}")
    if v["best_step"] is not None:
        check_int(v["best_step"], "stopper.best_step", 0, step)
    check_int(v["waited"], "stopper.waited", 0, 10**9)
    for k in ("target_spent", "rewound"):
        if not isinstance(v[k], bool):
            raise ValueError(f"stopper.{k} must be true or false, got {config_mod._show(v[k])}")


def _copy_or_none(v: np.ndarray | None) -> np.ndarray | None:
    return None if v is None else v.copy()


@dataclass
class TrainingState:
    """A session's training state (see the module docstring). Fields a state does not hold are KEEP.

    The saved fields come first, in the order of the snapshot dict."""

    step: int = _value("step", int)
    halted: str | None = _value("halted", check=_check_halted)
    theta: np.ndarray = _inplace("theta", own=_own_params, check=_check_theta)
    grad: np.ndarray = _inplace("grad", check=_check_grad, optional=True)  # the last step's, which panels show
    optimizer: dict[str, Any] = _part(get=lambda s: s.optimizer.state_dict(),
                                      put=lambda s, v: s.optimizer.load_state_dict(v),
                                      carry=lambda d, s: d.optimizer.copy_state_from(s.optimizer),
                                      own=_own_optimizer, check=_check_optimizer)
    schedule: dict[str, Any] = _part(get=lambda s: s.schedule.state_dict(),
                                     put=lambda s, v: s.schedule.load_state_dict(v), check=_check_schedule)
    rng: dict[str, Any] = _part(get=lambda s: {k: g.bit_generator.state for k, g in s.rngs.items()},
                                put=_put_rng, own=lambda d, s: setattr(d, "rngs", copy.deepcopy(s.rngs)))
    history: dict[str, np.ndarray] = _table("history", check=_check_history)
    evals: dict[str, np.ndarray] = _table("evals", check=_check_evals)
    last_loss: float = _value("last_loss", float, check=_check_last_loss)
    perm: np.ndarray = _part(get=lambda s: s._perm.copy(), put=_put_perm, carry=_carry_perm,
                             own=lambda d, s: setattr(d, "_perm", s._perm.copy()), check=_check_perm, model=True)
    pos: int = _value("_pos", int, check=_check_pos, model=True)
    buffers: dict[str, np.ndarray] = _part(get=lambda s: s.model.buffers(),
                                           put=lambda s, v: s.model.load_buffers(v), model=True)
    # files written before it existed lack it: the reopened run's early stopping starts afresh
    stopper: dict[str, Any] = _part(get=lambda s: s.stopper.progress(), put=_put_stopper, carry=_carry_stopper,
                                    own=_own_stopper, check=_check_stopper, optional=True)
    # carried from a twin only
    next_edit: int = _value("_next_edit", saved=False)
    stopped: str | None = _value("stopped", saved=False)
    engine: str = _value("engine", saved=False)
    grad_norms: np.ndarray = _part(get=lambda s: s.grad_norms.copy(),
                                   put=lambda s, v: setattr(s, "grad_norms", np.array(v)), saved=False)
    last_batch: np.ndarray | None = _part(get=lambda s: _copy_or_none(s.last_batch),
                                          put=lambda s, v: setattr(s, "last_batch", _copy_or_none(v)), saved=False)

    # ------------------------------------------------------------------------- sessions
    @classmethod
    def of(cls, session: Session) -> TrainingState:
        """A copy of `session`'s training state, independent of it."""
        return cls(**{name: part.get(session) for name, part in _parts(session)})

    def apply_to(self, session: Session) -> None:
        """Put this state into `session` (a session of the same run config): first the settings the
        timeline has in force at this step (the optimizer and schedule the state is for), then every
        field it holds; arrays the panels hold are written in place. Emits nothing."""
        if self.step is not KEEP:
            session.seek_settings(int(self.step))
        for name, part in _parts(session):
            value = getattr(self, name)
            if value is not KEEP:
                part.put(session, value)

    @staticmethod
    def copy_into(dst: Session, src: Session) -> None:
        """Make `dst` take over the training state of `src`, a twin with the same settings now, in
        place: O(parameters) copies, no optimizer rebuilt, arrays the panels hold stay valid."""
        for _, part in _parts(dst):
            if part.carry is not None:
                part.carry(dst, src)
            else:
                part.put(dst, part.get(src))

    @staticmethod
    def give_own(dst: Session, src: Session) -> None:
        """Give `dst`, a shallow copy of `src`, its own holder of every piece of training state (a
        model, tables, random streams, optimizer, ...) and fill them from `src`: training either
        session then leaves the other alone."""
        for _, part in _parts(src):
            if part.own is not None:
                part.own(dst, src)
        TrainingState.copy_into(dst, src)

    # ------------------------------------------------------------------------- the snapshot dict
    def as_dict(self) -> dict[str, Any]:
        """The snapshot dict (`Session.snapshot()`, and a session file's `state`): the saved fields
        this state holds, as plain arrays, numbers and dicts."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.metadata["part"].saved and getattr(self, f.name) is not KEEP}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainingState:
        """Inverse of `as_dict` (the values are not copied; `apply_to` copies them into a session).
        KeyError when a piece every snapshot has is missing."""
        values = {}
        for f in fields(cls):
            part = f.metadata["part"]
            if not part.saved:
                continue
            if f.name in d:
                values[f.name] = d[f.name]
            elif not (part.optional or part.model):
                raise KeyError(f.name)
        return cls(**values)

    @staticmethod
    def required_keys(session: Session) -> set[str]:
        """The keys a session file's state must have for `session`."""
        return {name for name, part in _parts(session) if part.saved and not part.optional}

    @staticmethod
    def check(d: dict[str, Any], session: Session, step: int) -> None:
        """ValueError unless the pieces of `d` (a file's state at `step`, with every required key) fit
        `session`, which has the settings of that step in force: what restore would accept but would
        fail later (batch order, history length, halt message, optimizer settings unlike the config)."""
        for name, part in _parts(session):
            if part.check is not None and name in d:
                part.check(d[name], session, step)


def _parts(session: Session) -> Iterator[tuple[str, _Part]]:
    """The fields that apply to `session` (the dataset-only ones when it has a model)."""
    for f in fields(TrainingState):
        part = f.metadata["part"]
        if not part.model or session.model is not None:
            yield f.name, part
