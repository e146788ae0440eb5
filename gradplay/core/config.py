"""Load, validate and fill defaults for a run's TOML config (see SPEC.md, "Config").

A resolved config is a plain nested dict (JSON-able) with every key present, so it can be saved in
`session.json` and compared. Every mistake raises `ConfigError` whose message names the key, the
value and what is allowed.
"""
from __future__ import annotations

import copy
import math
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from . import datasets, landscapes, losses, nn, optim, schedules


class ConfigError(ValueError):
    """A config that cannot be run; the message is meant for the user as it is."""


MAX_HIDDEN_LAYERS = 8
MAX_WIDTH = 256
# Newton's Hessian on a network is built from 2n gradient evaluations and an n×n solve.
MAX_NEWTON_PARAMS = 2000

TOP_KEYS = ("seed", "meta", "task", "network", "loss", "optimizer", "training", "schedule")
FUNCTION_TASK_KEYS = ("kind", "name", "start")
DATASET_TASK_KEYS = ("kind", "name", "n_samples", "noise", "test_fraction")
META_KEYS = ("title", "description", "try")

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "meta": {"title": "", "description": "", "try": ""},
    "task": {"kind": "dataset", "name": "spiral", "n_samples": 400, "noise": 0.1, "test_fraction": 0.2},
    "network": {"hidden": [8, 8], "activation": "tanh", "init": "xavier_uniform", "init_std": 1.0,
                "batch_norm": False},
    "loss": {"name": None},  # None: the natural loss of the dataset (see default_loss)
    "optimizer": {"name": "adam"},
    "training": {"batch_size": 32, "clip_norm": 0.0, "clip_value": 0.0, "l1": 0.0, "l2": 0.0},
    "schedule": {"name": "constant"},
}
TRAINING_RANGES = {"clip_norm": (0.0, 1e6), "clip_value": (0.0, 1e6), "l1": (0.0, 10.0), "l2": (0.0, 10.0)}
SCHEDULE_PARAMS: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"step_size": 100, "gamma": 0.5},
    "exponential": {"gamma": 0.999},
    "cosine": {"t_max": 1000, "eta_min": 0.0},
}


def _choices(allowed) -> str:
    return ", ".join(str(a) for a in allowed)


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


def _check_keys(section: dict, allowed, where: str) -> None:
    for k in section:
        if k not in allowed:
            raise ConfigError(f"unknown key '{where}{k}'; allowed keys: {_choices(allowed)}")


def _table(raw: dict, key: str) -> dict:
    val = raw.get(key, {})
    if not isinstance(val, dict):
        raise ConfigError(f"'{key}' must be a table ([{key}]), got {_type_name(val)}")
    return val


def _number(val: Any, key: str, lo: float, hi: float, integer: bool = False) -> float | int:
    """Check type and closed range [lo, hi]; ints are accepted where floats are expected."""
    if isinstance(val, bool) or not isinstance(val, (int, float)) or (integer and not isinstance(val, int)):
        want = "an integer" if integer else "a number"
        raise ConfigError(f"'{key}' must be {want}, got {val!r} ({_type_name(val)})")
    if not math.isfinite(val) or not lo <= val <= hi:
        raise ConfigError(f"'{key}' = {val!r} is out of range; allowed: {lo:g} to {hi:g}")
    return int(val) if integer else float(val)


def _name(val: Any, key: str, allowed) -> str:
    if not isinstance(val, str) or val not in allowed:
        raise ConfigError(f"'{key}' = {val!r} is not known; choose one of: {_choices(allowed)}")
    return val


def _bool(val: Any, key: str) -> bool:
    if not isinstance(val, bool):
        raise ConfigError(f"'{key}' must be true or false, got {val!r}")
    return val


def _string(val: Any, key: str) -> str:
    if not isinstance(val, str):
        raise ConfigError(f"'{key}' must be a string, got {val!r}")
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
            raise ConfigError(f"'task.start' must be a list of two numbers [x, y], got {start!r}")
        start = [_number(s, "task.start", -1e6, 1e6) for s in start]
        return {"kind": kind, "name": name, "start": start}
    _check_keys(t, DATASET_TASK_KEYS, "task.")
    d = DEFAULTS["task"]
    return {
        "kind": kind,
        "name": _name(t.get("name", d["name"]), "task.name", tuple(datasets.DATASETS)),
        "n_samples": _number(t.get("n_samples", d["n_samples"]), "task.n_samples", 10, 100_000, integer=True),
        "noise": _number(t.get("noise", d["noise"]), "task.noise", 0.0, 1.0),
        "test_fraction": _number(t.get("test_fraction", d["test_fraction"]), "task.test_fraction", 0.0, 0.9),
    }


def _resolve_network(raw: dict) -> dict:
    t = _table(raw, "network")
    d = DEFAULTS["network"]
    _check_keys(t, tuple(d), "network.")
    hidden = t.get("hidden", d["hidden"])
    if not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_LAYERS:
        raise ConfigError(f"'network.hidden' must be a list of 0 to {MAX_HIDDEN_LAYERS} layer widths, "
                          f"got {hidden!r}")
    hidden = [_number(w, "network.hidden", 1, MAX_WIDTH, integer=True) for w in hidden]
    return {
        "hidden": hidden,
        "activation": _name(t.get("activation", d["activation"]), "network.activation", nn.ACTIVATIONS),
        "init": _name(t.get("init", d["init"]), "network.init", nn.INITS),
        "init_std": _number(t.get("init_std", d["init_std"]), "network.init_std", 1e-6, 100.0),
        "batch_norm": _bool(t.get("batch_norm", d["batch_norm"]), "network.batch_norm"),
    }


INTEGER_HYPER = ("max_iter", "max_eval", "history_size")


def _resolve_hyper(key: str, val: Any, default: Any) -> Any:
    """Type-check one optimizer hyperparameter against the type of its default.

    torch writes some float defaults as int literals (momentum=0), so integers are named explicitly.
    """
    name = key.rsplit(".", 1)[-1]
    if name in INTEGER_HYPER:
        return _number(val, key, 1, 100_000, integer=True)
    if isinstance(default, bool):
        return _bool(val, key)
    if isinstance(default, (tuple, list)):
        if not isinstance(val, list) or len(val) != len(default):
            raise ConfigError(f"'{key}' must be a list of {len(default)} numbers, got {val!r}")
        return [_number(v, key, -1e12, 1e12) for v in val]
    if isinstance(default, (int, float)):
        return _number(val, key, -1e12, 1e12)
    return _string(val, key)


def _resolve_optimizer(raw: dict) -> dict:
    t = _table(raw, "optimizer")
    name = _name(t.get("name", DEFAULTS["optimizer"]["name"]), "optimizer.name", tuple(optim.OPTIMIZERS))
    defaults = optim.OPTIMIZERS[name].defaults
    _check_keys(t, ("name",) + tuple(defaults), "optimizer.")
    hyper = {k: _resolve_hyper(f"optimizer.{k}", t[k], defaults[k]) for k in t if k != "name"}
    if hyper.get("line_search_fn") in ("", "none"):
        hyper["line_search_fn"] = None
    try:  # the optimizer's own validation (torch's messages) names the value; we add the key
        opt = optim.make_optimizer(name, 2, **hyper)
    except ValueError as e:
        raise ConfigError(f"[optimizer] {name}: {e}") from None
    resolved = {"name": name}
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
        bs = _number(bs, "training.batch_size", 1, 100_000, integer=True) if not isinstance(bs, str) else None
        if bs is None:
            raise ConfigError(f"'training.batch_size' must be a positive integer or \"full\", "
                              f"got {t['batch_size']!r}")
    out: dict[str, Any] = {"batch_size": bs}
    for k, (lo, hi) in TRAINING_RANGES.items():
        out[k] = _number(t.get(k, d[k]), f"training.{k}", lo, hi)
    return out


def _resolve_schedule(raw: dict) -> dict:
    t = _table(raw, "schedule")
    name = _name(t.get("name", "constant"), "schedule.name", tuple(SCHEDULE_PARAMS))
    params = SCHEDULE_PARAMS[name]
    _check_keys(t, ("name",) + tuple(params), "schedule.")
    out: dict[str, Any] = {"name": name}
    for k, default in params.items():
        v = t.get(k, default)
        if k in ("step_size", "t_max"):
            out[k] = _number(v, f"schedule.{k}", 1, 10**9, integer=True)
        elif k == "gamma":
            out[k] = _number(v, f"schedule.{k}", 1e-12, 1.0)
        else:
            out[k] = _number(v, f"schedule.{k}", 0.0, 1e6)
    return out


def _check_consistency(cfg: dict) -> None:
    """Choices that are each valid but do not fit together."""
    task = cfg["task"]
    if task["kind"] == "dataset":
        info = datasets.DATASETS[task["name"]]
        try:
            datasets.label_format_for(cfg["loss"]["name"], info)
        except ValueError as e:
            raise ConfigError(f"'loss.name' = '{cfg['loss']['name']}' does not fit task '{task['name']}': {e}") \
                from None
        if cfg["network"]["batch_norm"] and cfg["training"]["batch_size"] == 1:
            raise ConfigError("'training.batch_size' = 1 cannot be used with 'network.batch_norm' = true: "
                              "batch norm needs at least 2 samples per batch")
        if cfg["optimizer"]["name"] == "newton":
            n = n_params(cfg)
            if n > MAX_NEWTON_PARAMS:
                raise ConfigError(f"'optimizer.name' = 'newton' builds the full Hessian: at most "
                                  f"{MAX_NEWTON_PARAMS} parameters, this network has {n}; "
                                  f"make it smaller or use lbfgs")


def n_params(cfg: dict) -> int:
    """Trainable parameters of the config's network (dataset tasks)."""
    info = datasets.DATASETS[cfg["task"]["name"]]
    sizes = [2] + cfg["network"]["hidden"] + [losses.output_units(cfg["loss"]["name"], info.n_classes)]
    total = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if cfg["network"]["batch_norm"]:
        total += 2 * sum(cfg["network"]["hidden"])
    return total


def resolve(raw: dict) -> dict:
    """Validate a raw config dict and return a new one with every default filled in."""
    if not isinstance(raw, dict):
        raise ConfigError(f"a config must be a table of sections, got {_type_name(raw)}")
    _check_keys(raw, TOP_KEYS, "")
    meta = _table(raw, "meta")
    _check_keys(meta, META_KEYS, "meta.")
    cfg: dict[str, Any] = {
        "seed": _number(raw.get("seed", 0), "seed", 0, 2**63 - 1, integer=True),
        "meta": {k: _string(meta.get(k, ""), f"meta.{k}") for k in META_KEYS},
        "task": _resolve_task(raw),
        "network": _resolve_network(raw),
    }
    loss_t = _table(raw, "loss")
    _check_keys(loss_t, ("name",), "loss.")
    loss_name = loss_t.get("name")
    if loss_name is None:
        loss_name = (default_loss(datasets.DATASETS[cfg["task"]["name"]])
                     if cfg["task"]["kind"] == "dataset" else "mse")
    cfg["loss"] = {"name": _name(loss_name, "loss.name", losses.LOSSES)}
    cfg["optimizer"] = _resolve_optimizer(raw)
    cfg["training"] = _resolve_training(raw)
    cfg["schedule"] = _resolve_schedule(raw)
    _check_consistency(cfg)
    return cfg


def loads(text: str, source: str = "config") -> dict:
    """Parse TOML text and resolve it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source} is not valid TOML: {e}") from None
    return resolve(raw)


def load(path: str | Path) -> dict:
    """Read, parse and resolve a TOML config file."""
    path = Path(path)
    try:
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
        if section == "optimizer" and "name" in changes and changes["name"] != raw["optimizer"]["name"]:
            raw["optimizer"] = {}  # hyperparameters of another optimizer do not carry over
        raw.setdefault(section, {}).update(changes)
    return resolve(raw)


def dumps(cfg: dict) -> str:
    """Write a resolved config back as TOML (simple writer: the format only has scalars and lists)."""
    lines = [f"seed = {cfg['seed']}"]
    for section in TOP_KEYS[1:]:
        lines.append(f"\n[{section}]")
        for k, v in cfg[section].items():
            if v is None:
                continue
            lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)
