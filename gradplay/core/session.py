"""One training run: config, parameters, optimizer state, random streams, step counter and history.

The GUI observes a `Session` through `subscribe` and never keeps training state of its own. A
session's random streams (initial weights, data, batch order) are separate children of the
config's seed, so several sessions can share initial weights and batches (races) and any stream can
be re-seeded on its own. Dropout's masks come from a fourth child, used as the key of a hash of the
step (core/dropout.py): it holds no state, so nothing about it needs saving, restoring or syncing.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import datasets, landscapes, optim, optimizers, schedules, timeline
from . import fast as fastpaths
from . import problem as problems
from .history import BatchLog, History
from .nn import MLP
from .objective import LandscapeObjective
from .problem import DatasetProblem, LandscapeProblem, Problem
from .state import TrainingState
from .stopping import Stopper

if TYPE_CHECKING:
    from .fast.loop import MLPLoop

STREAMS = ("init", "data", "batch")
MAX_STEP = 10**15  # a run stops here (session files accept no more; ~60 years at 500,000 steps/s)


def make_streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for initial weights, the dataset and the batch order."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.Generator(np.random.PCG64(s)) for name, s in zip(STREAMS, children)}


def _layer_norms(v: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """L2 norm of each contiguous layer block of a flat vector."""
    return np.sqrt(np.add.reduceat(v * v, starts))


class Session:
    """A run of one config. `run(n)` trains n optimizer steps; observers are told after each call.

    `fast` (default True, or False when GRADPLAY_JIT=0) lets `run` use the fast paths of
    `gradplay.core.fast`, which give bit-identical results; False keeps the numpy reference loop.
    """

    problem: Problem  # what the run trains (core/problem.py): a landscape or a network on a dataset
    _mlp_loop: MLPLoop | None  # the compiled loop's buffers (fast.runner makes it on first use)
    batch_log: BatchLog | None  # when set, every training path writes each step's batch into it

    def __init__(self, config: dict, *, fast: bool | None = None):
        self._listeners: list[Callable[[str], None]] = []
        self.fast = fastpaths.requested() if fast is None else bool(fast)
        self.engine = "numpy"  # the path the last run() took: numpy | compiled | scalar
        fastpaths.limit_blas_threads()
        self._build(config)

    # ----------------------------------------------------------------- construction
    def _build(self, run_config: dict) -> None:
        # run_config: the step-0 settings and the edit timeline, which replays the whole run;
        # config: the settings in force now (what the panels show), without a timeline.
        self.run_config = run_config
        self._next_edit = 0  # index of the next timeline entry to apply
        config = self._settings_at(0)
        self.config = config
        self.rngs = make_streams(config["seed"])
        self.step = 0
        self.halted: str | None = None
        self.last_loss = math.nan
        self.last_batch: np.ndarray | None = None
        self._mlp_loop = None  # the compiled loop's buffers, made on first use for this model
        self.batch_log = None
        self._build_problem()
        self.grad_norms = np.zeros(self.n_layers)
        self.stopped: str | None = None  # why the last run() stopped by a stop condition
        self.stopper = self._make_stopper()
        self.starts = np.array([s.start for s in self.layer_slices])
        self._prev = np.empty_like(self.theta)
        self._make_optimizer()
        for entry in self.timeline:  # weights set by hand at step 0 hold from the start
            if entry["step"] == 0:
                self._set_params(timeline.param_changes(entry))
        width = self.n_layers
        cols = {"loss": 1, "lr": 1, "grad_norm": width, "weight_norm": width, "update_ratio": width}
        cols.update(self.problem.history_columns())
        self.history = History(cols)
        self.evals = History({"train_loss": 1, "test_loss": 1, "train_acc": 1, "test_acc": 1}, capacity=2048)

    def _build_problem(self) -> None:
        task = self.config["task"]
        # Regenerate draws the points from their own seed, so the initial weights and batch order stay
        data_rng = make_streams(task["data_seed"])["data"] if "data_seed" in task else self.rngs["data"]
        self.problem = problems.from_config(self.config, self.rngs, data_rng)
        self.theta, self.grad = self.problem.params()
        self.layer_slices = self.problem.layer_slices
        self.n_train = self.problem.n_train
        self.batch_size = self.batch_rows(self.config["training"]["batch_size"])
        self._perm = np.arange(self.n_train)
        self._pos = self.n_train  # forces a fresh permutation at the first step
        self._min_batch = 2 if self.problem.has_layers and self.config["network"]["batch_norm"] else 1
        t = self.config["training"]
        self._l1, self._l2 = t["l1"], t["l2"]

    @property
    def kind(self) -> str:
        """The task kind as the config file spells it ("function" or "dataset"); code asks `problem`."""
        return self.problem.kind

    # The problem's parts, None where the kind has none: narrow `problem` with isinstance for types.
    def _get_model(self) -> MLP | None:
        p = self.problem
        return p.model if isinstance(p, DatasetProblem) else None

    def _set_model(self, model: MLP) -> None:
        """A twin's own copy of the network (clone, workers.detached): its problem trains that copy."""
        p = self.problem
        assert isinstance(p, DatasetProblem), "a landscape has no network"
        self.problem = p.with_model(model)

    if TYPE_CHECKING:  # an attribute to mypy, so `twin.model = copy` narrows as an assignment does
        model: MLP | None
    else:
        model = property(_get_model, _set_model)

    @property
    def data(self) -> datasets.Dataset | None:
        p = self.problem
        return p.data if isinstance(p, DatasetProblem) else None

    @property
    def loss_name(self) -> str | None:
        p = self.problem
        return p.loss_name if isinstance(p, DatasetProblem) else None

    @property
    def inputs(self) -> list[str]:
        p = self.problem
        return p.inputs if isinstance(p, DatasetProblem) else []

    @property
    def inputs_train(self) -> np.ndarray:
        p = self.problem
        assert isinstance(p, DatasetProblem)
        return p.inputs_train

    @property
    def inputs_test(self) -> np.ndarray:
        p = self.problem
        assert isinstance(p, DatasetProblem)
        return p.inputs_test

    @property
    def landscape(self) -> landscapes.Landscape | None:
        p = self.problem
        return p.landscape if isinstance(p, LandscapeProblem) else None

    @property
    def objective(self) -> LandscapeObjective | None:
        p = self.problem
        return p.objective if isinstance(p, LandscapeProblem) else None

    # ----------------------------------------------------------------- the edit timeline
    @property
    def timeline(self) -> list[dict]:
        """The run's edits: [{"step": k, "section.key": value, ...}, ...] (see core/timeline.py)."""
        return self.run_config.get("timeline", [])

    def _settings_at(self, step: int) -> dict:
        """The settings in force after `step` steps; sets the index of the next entry to apply."""
        entries = self.timeline
        self._next_edit = next((i for i, e in enumerate(entries) if e["step"] > step), len(entries))
        if not entries:
            return self.run_config if "timeline" in self.run_config else dict(self.run_config, timeline=[])
        return dict(timeline.config_at(self.run_config, step), timeline=[])

    def _next_edit_step(self) -> int | None:
        entries = self.timeline
        return entries[self._next_edit]["step"] if self._next_edit < len(entries) else None

    def _apply_due_edits(self) -> bool:
        """Apply the timeline entries whose step has come; True if the settings changed."""
        entries = self.timeline
        changed = False
        while self._next_edit < len(entries) and entries[self._next_edit]["step"] <= self.step:
            entry = entries[self._next_edit]
            self._next_edit += 1
            settings = timeline.config_changes(entry)
            if not entry.get("restart") and settings:
                self._continue_with(dict(timeline.apply(self.config, settings), timeline=[]))
                changed = True
            self._set_params(timeline.param_changes(entry))
        return changed

    def _set_params(self, edits: dict[str, float]) -> None:
        """Write weights set by hand ("params.W1[0,3]" -> value) into θ; the optimizer keeps its state."""
        if not edits:
            return
        assert self.model is not None  # the timeline allows params.* on dataset tasks only
        views = self.model.params()
        for key, value in edits.items():
            parsed = timeline.parse_param_key(key)
            assert parsed is not None  # checked when the timeline was resolved
            name, index = parsed
            views[name][index] = value

    def edit_param(self, name: str, index: tuple[int, ...], value: float) -> None:
        """Set one weight or bias by hand, now: it holds from this step on and is recorded on the
        timeline (so a replay, a save and the exports do the same); training goes on with the
        optimizer's state as it was. ConfigError for a parameter or value the network cannot take."""
        key = timeline.param_key(name, index)
        value = timeline.check_param(self.config, key, value, f"step {self.step}")
        run_config = timeline.record_param(self.run_config, self.step, key, value)
        timeline.resolve_entries(run_config["timeline"], {k: v for k, v in run_config.items() if k != "timeline"})
        self.run_config = run_config
        self._settings_at(self.step)  # the index of the next entry, in the new timeline
        self._set_params({key: value})
        self._emit("config")

    def _continue_with(self, config: dict) -> None:
        """Train on with new optimizer/schedule/training settings: the parameters stay, the
        optimizer and schedule start afresh, a new batch size takes effect at the next batch."""
        self.config = config
        self._make_optimizer()
        t = config["training"]
        self._l1, self._l2 = t["l1"], t["l2"]
        size = self.batch_rows(t["batch_size"])  # always 1 on a landscape
        if size != self.batch_size:
            self.batch_size = size
            self._mlp_loop = None  # the compiled loop's buffers are sized for one batch size
        seen = self.stopper.state()
        self.stopper = self._make_stopper()  # the conditions (or the epoch's length) may have changed
        self.stopper.load_state(seen)

    def _make_stopper(self) -> Stopper:
        return Stopper(self.config["stop"], self.steps_per_epoch if self.problem.has_epochs else None)

    def _make_optimizer(self) -> None:
        oc = dict(self.config["optimizer"])
        name = oc.pop("name")
        if oc.get("line_search_fn") == "none":
            oc["line_search_fn"] = None
        self.optimizer = optimizers.make_optimizer(name, self.theta.size, **oc)
        sc = dict(self.config["schedule"])
        self.schedule = schedules.make_schedule(sc.pop("name"), self.optimizer.lr, **sc)
        t = self.config["training"]
        self._clip_norm, self._clip_value = t["clip_norm"], t["clip_value"]

    def batch_rows(self, batch_size: int | str) -> int:
        """Rows of a batch for the config value `training.batch_size` ("full" or a number)."""
        return self.n_train if batch_size == "full" else min(int(batch_size), self.n_train)

    def batch_sizes_ahead(self) -> list[int]:
        """The batch sizes this run uses from its current step on (the timeline may change it)."""
        return [self.batch_size] + [self.batch_rows(e["training.batch_size"]) for e in self.timeline
                                    if e["step"] >= self.step and "training.batch_size" in e]

    @property
    def n_layers(self) -> int:
        return len(self.layer_slices)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch_size)

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch

    # ----------------------------------------------------------------- observers
    def subscribe(self, callback: Callable[[str], None]) -> None:
        """callback(event) with event in {"stepped", "reset", "halted", "config"}."""
        self._listeners.append(callback)

    def unsubscribe(self, callback: Callable[[str], None]) -> None:
        self._listeners.remove(callback)

    def _emit(self, event: str) -> None:
        for cb in list(self._listeners):
            cb(event)

    # ----------------------------------------------------------------- training
    def batches_left(self, start: int) -> int:
        """Mini-batches an epoch's permutation still gives from position `start` on (0: the next
        batch starts a new epoch). Batch norm cannot normalise a single sample, so a leftover smaller
        than `_min_batch` starts the next epoch too."""
        last = self.n_train - max(1, self._min_batch)  # the last position a batch may start at
        return 0 if start > last else (last - start) // self.batch_size + 1

    def _next_batch(self) -> np.ndarray | None:
        """Indices of the next mini-batch: a fresh permutation each epoch, like a shuffling DataLoader."""
        if self.batch_size >= self.n_train:
            return None
        if not self.batches_left(self._pos):
            self._perm = self.rngs["batch"].permutation(self.n_train)
            self._pos = 0
        idx = self._perm[self._pos: self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    def upcoming_batches(self, steps: int) -> list[np.ndarray | None] | None:
        """Indices of the next `steps` batches as training will draw them (None for a step that sees
        the whole set), following the timeline's batch-size changes, and leaving this session's
        batch stream where it is; None when every step sees the whole set."""
        if not self.problem.has_data:
            return None
        twin = self.clone()
        batches: list[np.ndarray | None] = []
        for _ in range(steps):
            twin._apply_due_edits()
            idx = twin._next_batch()
            batches.append(None if idx is None else idx.copy())
            twin.step += 1
        return batches if any(b is not None for b in batches) else None

    def _loss_and_grad(self) -> tuple[float, Any]:
        """Loss at the current parameters and the objective second-order methods need."""
        idx = self._next_batch() if self.problem.has_data else None
        self.last_batch = idx
        return self.problem.loss_and_grad(self.theta, self.grad, idx, step=self.step, l1=self._l1, l2=self._l2)

    def _halt(self, why: str) -> None:
        self.halted = why

    def run(self, n: int) -> int:
        """Train up to n steps; stop early (and set `halted`) if the loss or parameters stop being finite.

        Returns the number of steps done. The last finite parameters are kept on a halt.
        """
        if self.halted:
            return 0
        if self.step + n > MAX_STEP:  # a file claiming 10^15 steps trained on, then could not be reopened
            n = MAX_STEP - self.step
            if n <= 0:
                self._halt(f"the run reached gradplay's step limit ({MAX_STEP:,} steps)")
                self._emit("halted")
                return 0
        done, edited = 0, False
        self.stopped = None
        # Overflow is expected at extreme settings; it is caught as a halt, not printed as a warning.
        with np.errstate(all="ignore"):
            while True:
                edited = self._apply_due_edits() or edited
                if done >= n or self.halted:
                    break
                chunk = n - done
                for nxt in (self._next_edit_step(), self.stopper.next_check(self.step)):
                    if nxt is not None:
                        chunk = min(chunk, nxt - self.step)
                got = self._run_steps(chunk)
                done += got
                if got < chunk:
                    break
                if self.stopper.active and self.stopper.next_check(self.step - got) == self.step:
                    self.stopped = self.stopper.check(self)
                    if self.stopped:
                        break
        if edited:
            self._emit("config")
        self._emit("halted" if self.halted else "stepped")
        return done

    def _run_steps(self, n: int) -> int:
        """Up to n steps on the fastest path available; every path gives the same bits."""
        run = fastpaths.runner(self) if n > 0 else None
        if run is None:
            self.engine = "numpy"
            return self._run_steps_numpy(n)
        self.engine = self.problem.fast_engine
        return run(self, n)

    def _run_steps_numpy(self, n: int) -> int:
        """The reference loop: the definition of a step that the fast paths reproduce bit for bit."""
        theta, grad, prev = self.theta, self.grad, self._prev
        starts, hist = self.starts, self.history
        path = self.problem.traces_path
        # History stores width-1 columns as 1-D, so one layer's (1,) norms go in as scalars.
        row = (lambda v: v[0]) if self.n_layers == 1 else (lambda v: v)
        done = 0
        for _ in range(n):
            lr = self.schedule.lr
            self.optimizer.lr = lr
            loss, objective = self._loss_and_grad()
            gn = _layer_norms(grad, starts)
            if not (math.isfinite(loss) and np.isfinite(gn).all()):
                self._halt(self._nan_message("loss" if not math.isfinite(loss) else "gradient", loss))
                break
            if self._clip_norm > 0:
                optim.clip_grad_norm_(grad, self._clip_norm)
            if self._clip_value > 0:
                optim.clip_grad_value_(grad, self._clip_value)
            np.copyto(prev, theta)
            self.optimizer.step(theta, grad, objective)
            if not np.isfinite(theta).all():
                np.copyto(theta, prev)
                self._halt(self._nan_message("parameters", loss))
                break
            delta = _layer_norms(theta - prev, starts)
            wn = _layer_norms(theta, starts)
            ratio = delta / np.maximum(wn, 1e-300)
            if path:
                hist.append(self.step, loss=loss, lr=lr, grad_norm=row(gn), weight_norm=row(wn),
                            update_ratio=row(ratio), x=prev[0], y=prev[1])
            else:
                hist.append(self.step, loss=loss, lr=lr, grad_norm=row(gn), weight_norm=row(wn),
                            update_ratio=row(ratio))
            self.last_loss = loss
            self.grad_norms = gn
            if self.batch_log is not None:
                self.batch_log.add(self.last_batch)
            self.schedule.step()
            self.step += 1
            done += 1
        return done

    def _nan_message(self, what: str, loss: float) -> str:
        opt = self.config["optimizer"]
        return (f"Training paused at step {self.step}: the {what} became {'NaN' if math.isnan(loss) else 'infinite'}"
                f" (loss {loss:.3g}). The parameters are kept as they were before this step. "
                f"Try a smaller learning rate (now {opt.get('lr', 0):.3g}), gradient clipping, "
                f"or a gentler initialisation.") if what != "parameters" else (
                f"Training paused at step {self.step}: the update made the parameters overflow to "
                f"infinity/NaN (loss before it {loss:.3g}). The last finite parameters are kept. "
                f"Try a smaller learning rate (now {opt.get('lr', 0):.3g}) or gradient clipping.")

    # ----------------------------------------------------------------- evaluation
    def current_loss(self) -> float:
        """Loss at the current parameters (full training set for datasets, f for landscapes)."""
        return self.problem.current_loss(self.theta)

    def evaluate(self, record: bool = True) -> dict[str, float]:
        """Full-set train/test loss and accuracy at the current parameters (eval mode); a dataset's
        are recorded in `evals`."""
        res = self.problem.evaluate(self.theta)
        if not self.problem.has_data:
            return res
        if record and len(self.evals) and self.evals.steps[len(self.evals) - 1] == self.step:
            self.evals.replace_last(**res)  # the same parameters give the same row; a hand edit, a new one
        elif record:
            self.evals.append(self.step, **res)
        return res

    def confusion(self) -> dict[str, np.ndarray] | None:
        """The confusion matrices of the train and test sets at the current parameters (eval mode),
        as `losses.confusion_matrix` counts them; None on a landscape or a regression."""
        return self.problem.confusion()

    def output_grid(self, n: int = 80, view: tuple[float, float, float, float] | None = None,
                    ny: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The model's displayed output over `view` (x0, x1, y0, y1; the dataset's view plane by
        default): xs (n,), ys (ny,), Z (ny, n[, C]); ny defaults to n."""
        p = self.problem
        assert isinstance(p, DatasetProblem), "a landscape has no network output"
        return p.output_grid(n, view, ny)

    # ----------------------------------------------------------------- control
    def reset(self) -> None:
        """Back to step 0 with the same seed: the same initial weights, data and batch order.

        A scripted timeline replays from its start; once the user has edited the run, its
        settings of now are those of the new run (and the script is over)."""
        edited = any(e.get("origin") == "app" and not e.get("restart") for e in self.timeline)
        self._build(dict(self.config, timeline=[]) if edited else self.run_config)
        self._emit("reset")

    def set_config(self, config: dict) -> None:
        """Apply a new resolved config.

        When only the optimizer, schedule, clipping or penalties change, training continues from the
        current parameters with a fresh optimizer state; new stop conditions apply from now on and
        change nothing else, as does classroom mode; any other change rebuilds the run.
        """
        old = self.config
        config = dict(config, timeline=[])
        whole_run = {k: config[k] for k in ("stop", "classroom") if k in config and config[k] != old.get(k)}
        if whole_run:
            # Stop conditions and classroom mode hold for the whole run: they are not edits on its
            # timeline, and changing them leaves the optimizer's state alone.
            self.run_config = dict(self.run_config, **whole_run)
            old = self.config = dict(old, **whole_run)
            if "stop" in whole_run:
                seen = self.stopper.state()
                self.stopper = self._make_stopper()
                self.stopper.load_state(seen)
            if config == old:
                self._emit("config")
                return
        keep = ("optimizer", "schedule", "training", "meta", "timeline")
        same_problem = all(old[k] == config[k] for k in old if k not in keep)
        if same_problem and not self.halted:
            self.run_config = timeline.record(self.run_config, self.step, old, config)
            self._settings_at(self.step)  # the index of the next entry, in the new timeline
            self._continue_with(config)
            self._emit("config")
        else:
            self._restart(old, config)

    def _restart(self, old: dict, config: dict) -> None:
        """Rebuild the run from `config`; the timeline records which edit restarted it."""
        edits = timeline.diff(old, config)
        entries = [{"step": 0, **edits, "origin": "app", "restart": True}] if edits else []
        self._build(dict(config, timeline=entries))
        self._emit("reset")

    def move_start(self, x: float, y: float) -> None:
        """Landscapes: restart from a new point (the config's start changes with it)."""
        cfg = dict(self.config)
        cfg["task"] = dict(cfg["task"], start=[float(x), float(y)])
        self._restart(self.config, cfg)

    # ----------------------------------------------------------------- snapshots
    def snapshot(self) -> dict[str, Any]:
        """Everything needed to continue exactly from here (plain arrays and dicts; core/state.py)."""
        return TrainingState.of(self).as_dict()

    def restore(self, snap: dict[str, Any]) -> None:
        """Return to a snapshot taken from a session of the same run config."""
        TrainingState.from_dict(snap).apply_to(self)
        self._emit("reset")

    def seek_settings(self, step: int) -> None:
        """Put the settings (and optimizer and schedule objects) of step `step` in force, as a
        restore to that step needs before it loads their state."""
        config = self._settings_at(step)
        if config != self.config:
            self._continue_with(config)

    # ----------------------------------------------------------------- twins for a training thread
    def clone(self, caches: bool = False) -> Session:
        """An independent twin to train in another thread: config, data and landscape are shared
        read-only; the training state (core/state.py) is its own, as are the model's caches (copied
        when `caches`, else made by its first step); nobody is subscribed to it. `sync_from(twin)`
        later brings its progress back."""
        c = copy.copy(self)
        c._listeners = []
        c._mlp_loop = None  # the compiled loop's buffers are bound to one model's arrays
        c.batch_log = None
        c._prev = np.empty_like(self._prev)
        TrainingState.give_own(c, self)
        if caches and self.model is not None:
            assert c.model is not None
            c.model.copy_caches_from(self.model)
        return c

    def sync_from(self, other: Session) -> bool:
        """Take over the training state of a twin made by `clone` (in place: arrays the panels hold
        stay valid). Returns True when the twin's timeline changed the settings.

        Emits "stepped" (or "halted") as run() does when the twin trained, so whatever follows the
        session's steps (the weight-space and curvature recorders) sees the steps Play trains in
        the worker thread by the same event as single steps."""
        edited = other.config is not self.config
        stepped = other.step != self.step
        if edited:
            self.run_config = other.run_config
            self._continue_with(other.config)
        TrainingState.copy_into(self, other)
        if stepped:
            self._emit("halted" if self.halted else "stepped")
        return edited
