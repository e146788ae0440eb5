"""Load, validate and fill defaults for a run's TOML config (see docs/FORMATS.md, "Config").

A resolved config is a plain nested dict (JSON-able) with every key present, so it can be saved in
`session.json` and compared. Every mistake raises `ConfigError` whose message names the key, the
value and what is allowed.
"""
from __future__ import annotations

import copy
import datetime
import math
import os
import stat
import sys
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from . import datasets, features, landscapes, losses, nn, optimizers, stopping

_T = TypeVar("_T")


class ConfigError(ValueError):
    """A config that cannot be run; the message is meant for the user as it is."""


MAX_HIDDEN_LAYERS = 8
MAX_WIDTH = 256
# The seed field of the GUI is a 32-bit spin box; a larger seed could not be shown, and the first
# edit of any other field would silently replace it.
MAX_SEED = 2**31 - 1
# Newton's exact Hessian on a network costs about n gradient evaluations, and an n×n solve.
MAX_NEWTON_PARAMS = 2000
# Second-order methods evaluate the loss many times per step, so their step time multiplies; a step
# estimated (step_seconds) above this would freeze the window while it runs. First-order steps are
# bounded by the size limits alone.
MAX_SECOND_ORDER_SECONDS = 2.0

TOP_KEYS = ("seed", "meta", "task", "network", "loss", "optimizer", "training", "schedule", "stop")
MAX_TEXT = 4000  # characters in a title, description or "try" line
MAX_CONFIG_BYTES = 2**20  # a TOML config (a long timeline is ~100 bytes an entry)
TIMELINE = "timeline"  # [[timeline]] entries: edits from step k on (core/timeline.py)
CLASSROOM = "classroom"  # [classroom]: controls hidden from students (core/classroom.py)
FUNCTION_TASK_KEYS = ("kind", "name", "start")
DATASET_TASK_KEYS = ("kind", "name", "n_samples", "noise", "test_fraction", "classes", "data_seed")
# Own data: the points themselves (n_samples, noise and classes follow from them and are written back)
OWN_TASK_KEYS = ("kind", "name", "points", "targets", "test_fraction", "n_samples", "noise", "classes")
OWN_TARGETS = ("classes", "values")
META_KEYS = ("title", "description", "try")

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "meta": {"title": "", "description": "", "try": ""},
    "task": {"kind": "dataset", "name": "spiral", "n_samples": 400, "noise": 0.1, "test_fraction": 0.2},
    "network": {"hidden": [8, 8], "activation": "tanh", "init": "xavier_uniform", "init_std": 1.0,
                "batch_norm": False, "dropout": 0.0, "inputs": list(features.PLANE)},
    "loss": {"name": None},  # None: the natural loss of the dataset (see default_loss)
    "optimizer": {"name": "adam"},
    "training": {"batch_size": 32, "clip_norm": 0.0, "clip_value": 0.0, "l1": 0.0, "l2": 0.0},
    "schedule": {"name": "constant"},
    "stop": stopping.DEFAULTS,
}
TINY = 1e-300  # smallest non-zero magnitude of a number (subnormals like 5e-324 would print as 0)
# Closed ranges [lo, hi] of every number in a config. The GUI's fields use exactly these, so any
# config that resolves can be shown and edited without being clipped.
TASK_RANGES = {"n_samples": (10, 100_000), "noise": (0.0, 1.0), "test_fraction": (0.0, 0.9),
               "start": (-1e6, 1e6)}
INIT_STD_RANGE = (1e-6, 100.0)
BATCH_SIZE_RANGE = (1, 100_000)  # larger than the training set means the whole set
TRAINING_RANGES = {"clip_norm": (0.0, 1e6), "clip_value": (0.0, 1e6), "l1": (0.0, 10.0), "l2": (0.0, 10.0)}
# Optimizer hyperparameters by name (torch's own rules are checked afterwards, in optim).
HYPER_RANGES: dict[str, tuple[float, float]] = {
    "lr": (0.0, 1e6), "momentum": (0.0, 1.0), "dampening": (0.0, 1.0), "alpha": (0.0, 1.0),
    "rho": (0.0, 1.0), "betas": (0.0, 0.99999), "eps": (0.0, 1.0), "weight_decay": (0.0, 10.0),
    "lr_decay": (0.0, 10.0), "initial_accumulator_value": (0.0, 1e6), "damping": (0.0, 1e6),
    "tolerance_grad": (0.0, 1.0), "tolerance_change": (0.0, 1.0),
    "max_iter": (1, 10_000), "history_size": (1, 10_000), "max_eval": (1, 100_000),
}
DEFAULT_HYPER_RANGE = (0.0, 1e6)  # a numeric hyperparameter not listed above
HYPER_LABELS = {"lr": "the learning rate", "eps": "epsilon", "betas": "a beta"}
SCHEDULE_RANGES = {"step_size": (1, 10**9), "t_max": (1, 10**9), "gamma": (1e-12, 1.0),
                   "eta_min": (0.0, 1e6)}
SCHEDULE_PARAMS: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"step_size": 100, "gamma": 0.5},
    "exponential": {"gamma": 0.999},
    "cosine": {"t_max": 1000, "eta_min": 0.0},
}


def _choices(allowed) -> str:
    return ", ".join(str(a) for a in allowed)


def _type_name(v: Any) -> str:
    if isinstance(v, (datetime.date, datetime.time)):
        return "a TOML date/time"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


def _check_keys(section: dict, allowed, where: str) -> None:
    for k in section:
        if k not in allowed:
            plain = isinstance(k, str) and len(k) <= 60 and k.isprintable() and "'" not in k
            name = f"'{where}{k}'" if plain else f"{where}{_show(k)}"  # a newline in a key: shown escaped
            raise ConfigError(f"unknown key {name}; allowed keys: {_choices(allowed)}")


def _table(raw: dict, key: str) -> dict:
    val = raw.get(key, {})
    if not isinstance(val, dict):
        raise ConfigError(f"'{key}' must be a table ([{key}]), got {_type_name(val)}")
    return val


def _show(val: Any, limit: int = 60) -> str:
    """repr() for messages, shortened: a 400-digit integer or a huge table must not flood the screen."""
    try:
        text = repr(val)
    except RecursionError:  # thousands of nested lists
        text = f"<deeply nested {type(val).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bound(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def _number(val: Any, key: str, lo: float, hi: float, integer: bool = False) -> float | int:
    """Check type and closed range [lo, hi]; ints are accepted where floats are expected."""
    if isinstance(val, bool) or not isinstance(val, (int, float)) or (integer and not isinstance(val, int)):
        want = "an integer" if integer else "a number"
        raise ConfigError(f"'{key}' must be {want}, got {_show(val)} ({_type_name(val)})")
    # Compare before converting: float() of a 400-digit integer raises OverflowError.
    if (isinstance(val, float) and not math.isfinite(val)) or not lo <= val <= hi:
        raise ConfigError(f"'{key}' = {_show(val)} is out of range; allowed: {_bound(lo)} to {_bound(hi)}")
    if 0 < abs(val) < TINY:  # the GUI's fields (and most maths) cannot tell these from 0
        raise ConfigError(f"'{key}' = {_show(val)} is too close to 0: use 0 or a value of at least {TINY:g}")
    return int(val) if integer else float(val) + 0.0  # + 0.0: -0.0 becomes 0.0 (numpy refuses scale -0.0)


def _name(val: Any, key: str, allowed) -> str:
    if not isinstance(val, str) or val not in allowed:
        raise ConfigError(f"'{key}' = {_show(val)} is not known; choose one of: {_choices(allowed)}")
    return val


def _bool(val: Any, key: str) -> bool:
    if not isinstance(val, bool):
        raise ConfigError(f"'{key}' must be true or false, got {_show(val)}")
    return val


def _string(val: Any, key: str) -> str:
    if not isinstance(val, str):
        raise ConfigError(f"'{key}' must be a string, got {_show(val)}")
    try:  # a lone surrogate (JSON "\ud800") cannot be written to a file or shown by Qt
        val.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"'{key}' = {_show(val)} is not valid text (it holds an unpaired surrogate "
                          f"character)") from None
    bad = next((c for c in val if _control(c) and c not in "\n\t"), None)
    if bad is not None:  # "\x00" made every exported SVG ill-formed and train_torch.py unrunnable
        raise ConfigError(f"'{key}' holds the control character U+{ord(bad):04X}; text may hold line breaks "
                          f"and tabs, no other control characters")
    if len(val) > MAX_TEXT:  # a 1 MB title took the window 68-82 s to open
        raise ConfigError(f"'{key}' has {len(val):,} characters; at most {MAX_TEXT:,} are allowed")
    return val


def default_loss(info: datasets.DatasetInfo) -> str:
    """The loss a dataset is usually trained with."""
    if info.kind == "regression":
        return "mse"
    return "cross_entropy" if info.n_classes > 2 else "bce"


def _resolve_task(raw: dict) -> dict:
    t = _table(raw, "task")
    kind = _name(t.get("kind", DEFAULTS["task"]["kind"]), "task.kind", ("function", "dataset"))
    if kind == "function":
        _check_keys(t, FUNCTION_TASK_KEYS, "task.")
        name = _name(t.get("name", "rosenbrock"), "task.name", tuple(landscapes.LANDSCAPES))
        land = landscapes.LANDSCAPES[name]
        start = t.get("start", list(land.start))
        if (not isinstance(start, list) or len(start) != 2
                or any(isinstance(s, bool) or not isinstance(s, (int, float)) for s in start)):
            raise ConfigError(f"'task.start' must be a list of two numbers [x, y], got {_show(start)}")
        start = [_number(s, f"task.start[{i}]", *TASK_RANGES["start"]) for i, s in enumerate(start)]
        return {"kind": kind, "name": name, "start": start}
    d = DEFAULTS["task"]
    if t.get("name") == datasets.OWN:
        return _resolve_own(t)
    _check_keys(t, DATASET_TASK_KEYS, "task.")
    name = _name(t.get("name", d["name"]), "task.name", (*datasets.DATASETS, datasets.OWN))
    own = datasets.DATASETS[name].n_classes
    classes = int(_number(t.get("classes", own), "task.classes", 0, 6, integer=True))
    try:
        datasets.info_for(name, classes)
    except ValueError as e:
        raise ConfigError(f"'task.classes' = {classes}: {e}") from None
    task = {
        "kind": kind,
        "name": name,
        "n_samples": _number(t.get("n_samples", d["n_samples"]), "task.n_samples", *TASK_RANGES["n_samples"],
                             integer=True),
        "noise": _number(t.get("noise", d["noise"]), "task.noise", *TASK_RANGES["noise"]),
        "test_fraction": _number(t.get("test_fraction", d["test_fraction"]), "task.test_fraction",
                                 *TASK_RANGES["test_fraction"]),
        "classes": classes,  # the set's own number, unless it is one of datasets.CLASS_RANGES
    }
    if "data_seed" in t:  # the points' own seed (Regenerate); without it they follow `seed`
        task["data_seed"] = _number(t["data_seed"], "task.data_seed", 0, MAX_SEED, integer=True)
    return task


def _resolve_own(t: dict) -> dict:
    """Own data: `points` = [[x1, x2, label or target], ...], `targets` = "classes" (labels 0 to 5)
    or "values" (a regression)."""
    _check_keys(t, OWN_TASK_KEYS, "task.")
    targets = _name(t.get("targets", "classes"), "task.targets", OWN_TARGETS)
    points = t.get("points")
    if not isinstance(points, list) or not 10 <= len(points) <= datasets.MAX_OWN_POINTS:
        got = f"{len(points):,} points" if isinstance(points, list) else _show(points)
        raise ConfigError(f"'task.points' must be a list of 10 to {datasets.MAX_OWN_POINTS:,} points "
                          f"[x1, x2, {'label' if targets == 'classes' else 'target'}], got {got}")
    lo, hi = TASK_RANGES["start"]
    out = []
    for i, p in enumerate(points):
        where = f"task.points[{i}]"
        if not isinstance(p, list) or len(p) != 3:
            raise ConfigError(f"'{where}' must be [x1, x2, {'label' if targets == 'classes' else 'target'}], "
                              f"got {_show(p)}")
        x1, x2 = (_number(v, f"{where}[{j}]", lo, hi) for j, v in enumerate(p[:2]))
        if targets == "classes":
            y: float | int = _number(p[2], f"{where}[2]", 0, datasets.MAX_OWN_CLASSES - 1, integer=True)
        else:
            y = _number(p[2], f"{where}[2]", lo, hi)
        out.append([x1, x2, y])
    info = datasets.own_info(out, targets)
    return {"kind": "dataset", "name": datasets.OWN, "points": out, "targets": targets,
            "test_fraction": _number(t.get("test_fraction", DEFAULTS["task"]["test_fraction"]),
                                     "task.test_fraction", *TASK_RANGES["test_fraction"]),
            "n_samples": len(out), "noise": 0.0, "classes": info.n_classes}


def _resolve_network(raw: dict) -> dict:
    t = _table(raw, "network")
    d = DEFAULTS["network"]
    _check_keys(t, tuple(d), "network.")
    hidden = t.get("hidden", d["hidden"])
    if not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_LAYERS:
        raise ConfigError(f"'network.hidden' must be a list of 0 to {MAX_HIDDEN_LAYERS} layer widths, "
                          f"got {_show(hidden)}")
    hidden = [_number(w, f"network.hidden[{i}]", 1, MAX_WIDTH, integer=True) for i, w in enumerate(hidden)]
    return {
        "hidden": hidden,
        "activation": _activation(t.get("activation", d["activation"]), len(hidden)),
        "init": _name(t.get("init", d["init"]), "network.init", nn.INITS),
        "init_std": _number(t.get("init_std", d["init_std"]), "network.init_std", *INIT_STD_RANGE),
        "batch_norm": _bool(t.get("batch_norm", d["batch_norm"]), "network.batch_norm"),
        "dropout": _dropout(t.get("dropout", d["dropout"]), len(hidden)),
        "inputs": _inputs(t.get("inputs", d["inputs"])),
    }


def _activation(val: Any, n_hidden: int) -> str | list[str]:
    """`network.activation`: one name for every hidden layer, or a list of one name per hidden layer."""
    if not isinstance(val, list):
        return _name(val, "network.activation", nn.ACTIVATIONS)
    if len(val) != n_hidden:
        raise ConfigError(f"'network.activation' lists {len(val)} activations for {n_hidden} hidden layers; "
                          f"give one name, or one per hidden layer")
    return [_name(v, f"network.activation[{i}]", nn.ACTIVATIONS) for i, v in enumerate(val)]


def _dropout(val: Any, n_hidden: int) -> float | list[float]:
    """`network.dropout`: one probability for every hidden layer, or a list of one per hidden layer;
    each 0 <= p < 1 (torch's range)."""
    if not isinstance(val, list):
        return _probability(val, "network.dropout")
    if len(val) != n_hidden:
        raise ConfigError(f"'network.dropout' lists {len(val)} probabilities for {n_hidden} hidden layers; "
                          f"give one probability, or one per hidden layer")
    return [_probability(v, f"network.dropout[{i}]") for i, v in enumerate(val)]


def _probability(val: Any, key: str) -> float:
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        raise ConfigError(f"'{key}' must be a number, got {_show(val)} ({_type_name(val)})")
    if not 0 <= val <= 1:  # nan fails too
        raise ConfigError(f"'{key}': dropout probability has to be between 0 and 1, but got {_show(val)}")
    if val == 1:  # torch allows it (all zeros); inverted dropout's 1/(1 - p) does not exist
        raise ConfigError(f"'{key}' = 1 would drop every unit (and 1/(1 - p) is infinite): dropout "
                          f"probability has to be below 1")
    if 0 < val < TINY:
        raise ConfigError(f"'{key}' = {_show(val)} is too close to 0: use 0 or a value of at least {TINY:g}")
    return float(val) + 0.0


def _inputs(val: Any) -> list[str]:
    """`network.inputs`: a non-empty list of distinct feature names, kept in the canonical order."""
    if not isinstance(val, list) or not val:
        raise ConfigError(f"'network.inputs' must be a non-empty list of input features "
                          f"({_choices(features.NAMES)}), got {_show(val)}")
    names = [_name(v, f"network.inputs[{i}]", features.NAMES) for i, v in enumerate(val)]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"'network.inputs' lists {twice!r} twice")
    return features.ordered(names)


INTEGER_HYPER = ("max_iter", "max_eval", "history_size")


def hyper_range(optimizer: str, key: str) -> tuple[float, float]:
    """The allowed range of hyperparameter `key` (per element, for pairs) of `optimizer`."""
    own = optimizers.OPTIMIZERS[optimizer].ranges if optimizer in optimizers.OPTIMIZERS else {}
    return own.get(key) or HYPER_RANGES.get(key, DEFAULT_HYPER_RANGE)


def _resolve_hyper(key: str, val: Any, default: Any, optimizer: str = "") -> Any:
    """Type- and range-check one optimizer hyperparameter against the type of its default.

    torch writes some float defaults as int literals (momentum=0), so integers are named explicitly.
    """
    name = key.rsplit(".", 1)[-1]
    lo, hi = hyper_range(optimizer, name)
    if name in INTEGER_HYPER:
        return _number(val, key, lo, hi, integer=True)
    if isinstance(default, bool):
        return _bool(val, key)
    if isinstance(default, (tuple, list)):
        if not isinstance(val, list) or len(val) != len(default):
            raise ConfigError(f"'{key}' must be a list of {len(default)} numbers, got {_show(val)}")
        return [_hyper_number(v, f"{key}[{i}]", lo, hi, name, optimizer) for i, v in enumerate(val)]
    if isinstance(default, (int, float)):
        return _hyper_number(val, key, lo, hi, name, optimizer)
    return _string(val, key)


def _hyper_number(val: Any, key: str, lo: float, hi: float, name: str, optimizer: str) -> float:
    try:
        return _number(val, key, lo, hi)
    except ConfigError as e:
        if "out of range" not in str(e):
            raise
        what = HYPER_LABELS.get(name, name.replace("_", " "))
        raise ConfigError(f"'{key}' = {_show(val)} ({what} of {optimizer}) is out of range; "
                          f"allowed: {_bound(lo)} to {_bound(hi)}") from None


def _resolve_optimizer(raw: dict) -> dict:
    t = _table(raw, "optimizer")
    name = _name(t.get("name", DEFAULTS["optimizer"]["name"]), "optimizer.name", tuple(optimizers.OPTIMIZERS))
    defaults = optimizers.OPTIMIZERS[name].defaults
    _check_keys(t, ("name",) + tuple(defaults), "optimizer.")
    hyper = {k: _resolve_hyper(f"optimizer.{k}", t[k], defaults[k], name) for k in t if k != "name"}
    if "line_search_fn" in hyper:
        search = "none" if hyper["line_search_fn"] == "" else hyper["line_search_fn"]
        hyper["line_search_fn"] = None if _name(search, "optimizer.line_search_fn",
                                                ("none", "strong_wolfe")) == "none" else search
    try:  # the optimizer's own validation (torch's messages) names the value; we add the keys
        opt = optimizers.make_optimizer(name, 2, **hyper)
    except ValueError as e:
        given = ", ".join(f"optimizer.{k} = {_show(v)}" for k, v in hyper.items())
        raise ConfigError(f"[optimizer] {name}: {e}" + (f" (given: {given})" if given else "")) from None
    resolved: dict[str, Any] = {"name": name}
    for k, v in opt.hyper.items():
        resolved[k] = list(v) if isinstance(v, tuple) else v
    if resolved.get("line_search_fn", "") is None:
        resolved["line_search_fn"] = "none"
    if resolved.get("max_eval", "") is None:
        resolved.pop("max_eval")
    return resolved


def _resolve_training(raw: dict) -> dict:
    t = _table(raw, "training")
    d = DEFAULTS["training"]
    _check_keys(t, tuple(d), "training.")
    bs = t.get("batch_size", d["batch_size"])
    if bs != "full":
        if isinstance(bs, bool) or not isinstance(bs, int):
            raise ConfigError(f"'training.batch_size' must be a positive integer or \"full\", "
                              f"got {_show(bs)} ({_type_name(bs)})")
        lo, hi = BATCH_SIZE_RANGE
        if not lo <= bs <= hi:
            raise ConfigError(f"'training.batch_size' = {_show(bs)} is out of range; allowed: {lo} to "
                              f"{hi} or \"full\" (sizes above the training set use the whole set)")
    out: dict[str, Any] = {"batch_size": bs}
    for k, bounds in TRAINING_RANGES.items():
        out[k] = _number(t.get(k, d[k]), f"training.{k}", *bounds)
    return out


def _resolve_schedule(raw: dict) -> dict:
    t = _table(raw, "schedule")
    name = _name(t.get("name", "constant"), "schedule.name", tuple(SCHEDULE_PARAMS))
    params = SCHEDULE_PARAMS[name]
    _check_keys(t, ("name",) + tuple(params), "schedule.")
    out: dict[str, Any] = {"name": name}
    for k, default in params.items():
        out[k] = _number(t.get(k, default), f"schedule.{k}", *SCHEDULE_RANGES[k],
                         integer=k in ("step_size", "t_max"))
    return out


def _resolve_stop(raw: dict) -> dict:
    t = _table(raw, "stop")
    d = stopping.DEFAULTS
    _check_keys(t, tuple(d), "stop.")
    out: dict[str, Any] = {}
    for k, default in d.items():
        if isinstance(default, bool):
            out[k] = _bool(t.get(k, default), f"stop.{k}")
        else:
            out[k] = _number(t.get(k, default), f"stop.{k}", *stopping.RANGES[k],
                             integer=k in stopping.INTEGER_KEYS)
    return out


def _check_consistency(cfg: dict) -> None:
    """Choices that are each valid but do not fit together."""
    task = cfg["task"]
    if task["kind"] == "dataset":
        info = datasets.task_info(task)
        try:
            datasets.label_format_for(cfg["loss"]["name"], info)
        except ValueError as e:
            raise ConfigError(f"'loss.name' = '{cfg['loss']['name']}' does not fit task '{task['name']}': {e}") \
                from None
        if cfg["network"]["batch_norm"] and cfg["training"]["batch_size"] == 1:
            raise ConfigError("'training.batch_size' = 1 cannot be used with 'network.batch_norm' = true: "
                              "batch norm needs at least 2 samples per batch")
        if cfg["network"]["batch_norm"] and train_size(task) < 2:
            raise ConfigError(f"'network.batch_norm' = true needs at least 2 training samples, but "
                              f"'task.n_samples' = {task['n_samples']} with 'task.test_fraction' = "
                              f"{task['test_fraction']:g} leaves {train_size(task)}; use more samples or a "
                              f"smaller test fraction")
        if cfg["optimizer"]["name"] == "newton":
            n = n_params(cfg)
            if n > MAX_NEWTON_PARAMS:
                raise ConfigError(f"'optimizer.name' = 'newton' builds the full Hessian: at most "
                                  f"{MAX_NEWTON_PARAMS} parameters, this network has {n}; "
                                  f"make it smaller or use lbfgs")
        if cfg["optimizer"]["name"] in ("newton", "lbfgs") and step_seconds(cfg) > MAX_SECOND_ORDER_SECONDS:
            opt = cfg["optimizer"]
            evals = (f"the work of ~{n_params(cfg) + 1} gradient evaluations (its exact Hessian)"
                     if opt["name"] == "newton"
                     else f"up to {opt['max_eval']} evaluations ('optimizer.max_eval')")
            raise ConfigError(
                f"'optimizer.name' = '{opt['name']}' would need {evals} of a {n_params(cfg)}-parameter "
                f"network on batches of {batch_rows(cfg)} samples for every step, an estimated "
                f"{step_seconds(cfg):.2g} s per step (at most {MAX_SECOND_ORDER_SECONDS:g} s keeps the window "
                f"responsive); use a smaller network ('network.hidden') or batch ('training.batch_size')"
                + (", or fewer iterations ('optimizer.max_iter')" if opt["name"] == "lbfgs" else ", or lbfgs"))


def batch_rows(cfg: dict) -> int:
    """Samples per optimizer step of a resolved dataset config (a batch above the set is the set)."""
    n = train_size(cfg["task"])
    bs = cfg["training"]["batch_size"]
    return n if bs == "full" else min(bs, n)


def step_seconds(cfg: dict) -> float:
    """Estimated seconds of one optimizer step of a dataset config (within ~2× on the machine the
    constants were measured on: 2 CPU cores, numpy + OpenBLAS).

    One loss-and-gradient evaluation costs a fixed ~0.2 ms of numpy calls, ~5 ns per activation value
    (batch rows × units: the elementwise work) and ~0.2 ns per parameter and row (the products).
    Newton's exact Hessian (core/hessian.py) costs about n + 1 evaluations (measured: 2-4x below the
    2n + 1 of the difference Hessian it replaced, so the estimate errs on the slow side), L-BFGS up
    to max_eval evaluations, first-order methods one.
    """
    n, rows = n_params(cfg), batch_rows(cfg)
    units = sum(cfg["network"]["hidden"]) + losses.output_units(
        cfg["loss"]["name"], datasets.task_info(cfg["task"]).n_classes)
    opt = cfg["optimizer"]
    evals = {"newton": n + 1, "lbfgs": opt.get("max_eval", 1)}.get(opt["name"], 1)
    return evals * (2e-4 + 5e-9 * rows * units + 2e-10 * n * rows)


def train_size(task: dict) -> int:
    """Training samples of a resolved dataset task: the stratified split of datasets.make_dataset
    (per class round(count · test_fraction) to test, at least one kept for training)."""
    if task["name"] == datasets.OWN:
        labels = [int(p[2]) for p in task["points"]] if task["targets"] == "classes" else [0] * len(task["points"])
        counts = [labels.count(c) for c in set(labels)]
    else:
        info = datasets.info_for(task["name"], task["classes"])
        n, groups = task["n_samples"], max(info.n_classes, 1)
        counts = [n // groups + (i < n % groups) for i in range(groups)]
    return sum(c - min(math.floor(c * task["test_fraction"] + 0.5), c - 1) for c in counts)


def n_params(cfg: dict) -> int:
    """Trainable parameters of the config's network (dataset tasks)."""
    info = datasets.task_info(cfg["task"])
    net = cfg["network"]
    sizes = [len(net["inputs"]), *net["hidden"], losses.output_units(cfg["loss"]["name"], info.n_classes)]
    total = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if cfg["network"]["batch_norm"]:
        total += 2 * sum(cfg["network"]["hidden"])
    return total


def resolve(raw: dict) -> dict:
    """Validate a raw config dict and return a new one with every default filled in."""
    if not isinstance(raw, dict):
        raise ConfigError(f"a config must be a table of sections, got {_type_name(raw)}")
    _check_keys(raw, (*TOP_KEYS, CLASSROOM, TIMELINE), "")
    meta = _table(raw, "meta")
    _check_keys(meta, META_KEYS, "meta.")
    cfg: dict[str, Any] = {
        "seed": _number(raw.get("seed", 0), "seed", 0, MAX_SEED, integer=True),
        "meta": {k: _string(meta.get(k, ""), f"meta.{k}") for k in META_KEYS},
        "task": _resolve_task(raw),
        "network": _resolve_network(raw),
    }
    loss_t = _table(raw, "loss")
    _check_keys(loss_t, ("name",), "loss.")
    loss_name = loss_t.get("name")
    if loss_name is None:
        loss_name = (default_loss(datasets.task_info(cfg["task"]))
                     if cfg["task"]["kind"] == "dataset" else "mse")
    cfg["loss"] = {"name": _name(loss_name, "loss.name", losses.LOSSES)}
    cfg["optimizer"] = _resolve_optimizer(raw)
    cfg["training"] = _resolve_training(raw)
    cfg["schedule"] = _resolve_schedule(raw)
    cfg["stop"] = _resolve_stop(raw)
    _check_consistency(cfg)
    from . import classroom, timeline  # (they build on this module)

    cfg[CLASSROOM] = classroom.resolve(raw.get(CLASSROOM, {}))
    cfg[TIMELINE] = timeline.resolve_entries(raw.get(TIMELINE, []), cfg)
    return cfg


def loads(text: str, source: str = "config") -> dict:
    """Parse TOML text and resolve it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source} is not valid TOML: {e}") from None
    except RecursionError:  # tomllib recurses once per nested bracket
        raise ConfigError(f"{source} is not a usable config: its arrays or tables are nested "
                          f"thousands of levels deep") from None
    return resolve(raw)


def load(path: str | Path) -> dict:
    """Read, parse and resolve a TOML config file."""
    path = Path(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # /dev/null trained the defaults; a FIFO hung
            raise ConfigError(f"{path} is not a regular file (a folder, pipe or device), so it is not read "
                              f"as a config")
        if st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} has {st.st_size:,} bytes; a config has at most {MAX_CONFIG_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from None
    return loads(text, source=str(path))


def with_changes(cfg: dict, **sections: dict) -> dict:
    """A re-resolved copy of `cfg` with some sections' keys replaced (used by the GUI and races)."""
    raw = copy.deepcopy(cfg)
    for section, changes in sections.items():
        if section == "seed":
            raw["seed"] = changes
            continue
        if (section in ("optimizer", "schedule") and "name" in changes
                and changes["name"] != raw[section]["name"]):
            raw[section] = {}  # hyperparameters of another optimizer or schedule do not carry over
        raw.setdefault(section, {}).update(changes)
    return resolve(raw)


def with_hidden(cfg: dict, hidden: list[int]) -> dict:
    """`cfg` re-resolved with new hidden widths. An activation (and a dropout probability) per layer
    follows the layers: a layer added at the end takes the last layer's, a removed one takes its own
    away, and a list whose values have all become one (or that has no layer left) is written as one."""
    net = dict(cfg["network"], hidden=list(hidden))
    for key in ("activation", "dropout"):
        old = net.get(key)
        if isinstance(old, list) and old:
            # no layer left: the first layer's value, the one a network of one layer would have kept
            net[key] = per_layer_value((old + [old[-1]] * len(hidden))[: len(hidden)], old[0])
    return resolve(dict(cfg, network=net))


def per_layer_value(names: list[_T], no_layer: _T) -> _T | list[_T]:
    """`network.activation` (or `network.dropout`) for one value per hidden layer: one value when
    they all agree (`no_layer` when there is no layer), else the list."""
    return no_layer if not names else names[0] if len(set(names)) == 1 else list(names)


def dumps(cfg: dict) -> str:
    """Write a resolved config back as TOML (simple writer: the format only has scalars and lists)."""
    lines = [f"seed = {cfg['seed']}"]
    for section in TOP_KEYS[1:]:
        lines.append(f"\n[{section}]")
        for k, v in cfg[section].items():
            if v is None:
                continue
            lines.append(f"{k} = {_toml_value(v)}")
    from . import classroom

    lines += classroom.toml_lines(cfg)
    for entry in cfg.get(TIMELINE, []):
        lines.append(f"\n[[{TIMELINE}]]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").isalnum() else _toml_value(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + "".join(_TOML_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if _control(c) else c) for c in v) + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _control(c: str) -> bool:
    """Characters a TOML basic string may not hold literally."""
    return ord(c) < 0x20 or ord(c) == 0x7F
