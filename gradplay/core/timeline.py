"""The edit timeline of a run: every change that alters it from step k on.

A run is its step-0 config plus a timeline. Each entry names the step from which it holds and the
config keys it changes, as `"section.key" = value`:

    [[timeline]]
    step = 1000
    "optimizer.lr" = 0.3
    [[timeline]]
    step = 2000
    "optimizer.name" = "sgd"
    "training.batch_size" = 64

A config scripts such moments; the app records the user's edits the same way (`origin = "app"`),
so a saved session, its exports and the PyTorch script replay the run that really happened.

Semantics, those of `Session.set_config`: an entry at step k is applied after k steps, before
step k trains. It keeps the parameters and builds a fresh optimizer and schedule from the new
settings (torch: a new `torch.optim` object), whatever it changes; a new batch size takes its next
batch from where the current epoch's shuffle stands. Changing `optimizer.name` or `schedule.name`
drops the old one's hyperparameters (the new one's defaults apply unless the entry sets them).
Only optimizer, schedule and training keys can change mid-run: the task, network, loss and seed
define the run itself, and changing them in the app restarts training (`origin = "app"`,
`restart = true` entries at step 0 record that; their values are already in the config).

A weight or bias set by hand is an entry too: `"params.W1[0,3]" = 0.5` writes that value into the
parameter before step k trains (W1[i, j]: input i, unit j; b2[j]; gamma1[j]; beta1[j]). It changes
no setting, so the optimizer keeps its state, as it does in torch when a weight is set in place.
"""
from __future__ import annotations

import copy
import math
import re
from typing import Any

from . import config as config_mod
from .config import ConfigError
from .problem import of_config as problem_of

CONTINUING = ("optimizer", "schedule", "training")  # sections a mid-run edit may change
ORIGINS = ("config", "app")
MAX_ENTRIES = 10_000
MAX_STEP = 10**12
RESERVED = ("step", "origin", "restart")
PARAMS = "params"  # "params.W1[0,3]": a parameter set by hand (dataset tasks)
_PARAM_KEY = re.compile(r"^params\.(W|b|gamma|beta)([1-9]\d?)\[(\d{1,4})(?:, ?(\d{1,4}))?\]$")
MAX_PARAM_VALUE = 1e6


def changes(entry: dict) -> dict[str, Any]:
    """The "section.key" -> value pairs of a timeline entry."""
    return {k: v for k, v in entry.items() if k not in RESERVED}


def config_changes(entry: dict) -> dict[str, Any]:
    """The settings an entry changes (its params.* keys aside)."""
    return {k: v for k, v in changes(entry).items() if split_key(k)[0] != PARAMS}


def param_changes(entry: dict) -> dict[str, Any]:
    """The parameters an entry sets by hand: "params.W1[0,3]" -> value."""
    return {k: v for k, v in changes(entry).items() if split_key(k)[0] == PARAMS}


def param_key(name: str, index: tuple[int, ...]) -> str:
    """The timeline key of parameter `name` ("W1", "b2", ...) at `index` ((i, j) for a W, (j,) else)."""
    return f"{PARAMS}.{name}[{','.join(str(int(i)) for i in index)}]"


def parse_param_key(key: str) -> tuple[str, tuple[int, ...]] | None:
    """(name, index) of a params.* key, or None when it is not one."""
    m = _PARAM_KEY.match(key)
    if m is None:
        return None
    kind, layer, i, j = m.groups()
    index = (int(i),) if j is None else (int(i), int(j))
    return f"{kind}{layer}", index


def param_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """The shape of each parameter of a dataset config's network ("W1": (fan_in, fan_out), ...)."""
    from . import datasets, losses

    net = cfg["network"]
    n_out = losses.output_units(cfg["loss"]["name"], datasets.task_info(cfg["task"]).n_classes)
    sizes = [len(net["inputs"]), *net["hidden"], n_out]
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(len(sizes) - 1):
        shapes[f"W{i + 1}"], shapes[f"b{i + 1}"] = (sizes[i], sizes[i + 1]), (sizes[i + 1],)
        if net["batch_norm"] and i < len(sizes) - 2:
            shapes[f"gamma{i + 1}"] = shapes[f"beta{i + 1}"] = (sizes[i + 1],)
    return shapes


def check_param(cfg: dict, key: str, value: Any, where: str) -> float:
    """The value of a params.* edit, checked against the network of `cfg`; ConfigError naming it."""
    if not problem_of(cfg).has_data:
        raise ConfigError(f"{where}: '{key}' sets a network parameter; a landscape task has none "
                          f"(its parameters are the point: set task.start)")
    parsed = parse_param_key(key)
    if parsed is None:
        raise ConfigError(f"{where}: '{key}' is not a parameter; write e.g. \"params.W1[0,3]\" (W1 row 0, "
                          f"column 3), \"params.b2[1]\"")
    name, index = parsed
    shape = param_shapes(cfg).get(name)
    if shape is None:
        raise ConfigError(f"{where}: the network has no parameter {name}; it has "
                          f"{', '.join(param_shapes(cfg))}")
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        raise ConfigError(f"{where}: {name} has shape {shape}; index {list(index)} is outside it")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > MAX_PARAM_VALUE:
        raise ConfigError(f"{where}: '{key}' must be a finite number within ±{MAX_PARAM_VALUE:g}, "
                          f"got {config_mod._show(value)}")
    return float(value) + 0.0


def split_key(key: str) -> tuple[str, str]:
    section, _, name = key.partition(".")
    return section, name


def apply(cfg: dict, edits: dict[str, Any]) -> dict:
    """`cfg` (resolved) with the edits applied and re-resolved; its timeline is carried over as is."""
    sections: dict[str, dict] = {}
    for key, value in edits.items():
        section, name = split_key(key)
        sections.setdefault(section, {})[name] = value
    timeline = cfg.get("timeline", [])
    base = {k: v for k, v in cfg.items() if k != "timeline"}
    out = config_mod.with_changes(base, **sections)
    out["timeline"] = timeline
    return out


def diff(old: dict, new: dict) -> dict[str, Any]:
    """The "section.key" -> new value pairs where two resolved configs differ (timeline aside)."""
    out: dict[str, Any] = {}
    if old.get("seed") != new.get("seed"):
        out["seed.seed"] = new.get("seed")
    for section in config_mod.TOP_KEYS[1:]:
        a, b = old.get(section) or {}, new.get(section) or {}
        if section == "meta":
            continue
        renamed = a.get("name") != b.get("name")  # another optimizer or schedule: all of its keys,
        for key in sorted(set(a) | set(b), key=lambda k: (k != "name", k)):  # as apply() starts it afresh
            if key in b and (renamed or a.get(key) != b.get(key)):
                out[f"{section}.{key}"] = b[key]
    return out


def restarts(edits: dict[str, Any]) -> list[str]:
    """The keys among `edits` whose change restarts training."""
    return [k for k in edits if split_key(k)[0] not in CONTINUING]


def resolve_entries(raw: Any, base: dict) -> list[dict]:
    """Validate a config's `timeline` (a list of tables) against its step-0 config `base`.

    Each entry: `step` (a whole number), optional `origin` ("config" or "app") and `restart`, and at
    least one "section.key" = value. Steps rise strictly. The changes are applied in order, so a
    value out of range, an unknown key or a hyperparameter the optimizer of that moment does not take
    gets the config's own message, prefixed with the entry's step.
    """
    if not isinstance(raw, list):
        raise ConfigError(f"timeline must be a list of tables ([[timeline]] entries), got "
                          f"{config_mod._show(raw)}")
    if len(raw) > MAX_ENTRIES:
        raise ConfigError(f"timeline has {len(raw):,} entries; at most {MAX_ENTRIES:,} are allowed")
    out: list[dict] = []
    cfg = base
    last = -1
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ConfigError(f"timeline entry {i + 1} must be a table, got {config_mod._show(entry)}")
        if "step" not in entry:
            raise ConfigError(f"timeline entry {i + 1} has no step (the step from which its changes hold)")
        step = int(config_mod._number(entry["step"], f"timeline entry {i + 1}: step", 0, MAX_STEP, integer=True))
        where = f"timeline entry at step {step}"
        if step <= last:
            raise ConfigError(f"{where}: steps must rise from entry to entry (the one before is at step {last}); "
                              f"put changes of the same step in one entry")
        origin = config_mod._name(entry.get("origin", "config"), f"{where}: origin", ORIGINS)
        restart = config_mod._bool(entry.get("restart", False), f"{where}: restart")
        if not changes(entry):
            raise ConfigError(f"{where} changes nothing: give at least one \"section.key\" = value")
        params = {k: check_param(cfg, k, v, where) for k, v in param_changes(entry).items()}
        edits = config_changes(entry)
        for key in edits:
            section, name = split_key(key)
            if section in ("stop", config_mod.CLASSROOM):
                what = "a stop condition" if section == "stop" else "classroom mode"
                raise ConfigError(f"{where}: '{key}' is {what}, which holds for the whole run: "
                                  f"set it in [{section}]")
            if section not in config_mod.TOP_KEYS[2:] or not name:
                raise ConfigError(f"{where}: unknown key '{key}'; keys are \"section.key\" of the config, "
                                  f"e.g. \"optimizer.lr\" (sections: {', '.join(CONTINUING)})")
        try:
            new = apply(cfg, edits)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
        moved = restarts(diff(cfg, new))
        if moved and not restart:
            raise ConfigError(f"{where} changes {', '.join(moved)}, which would restart training; a timeline "
                              f"changes only {', '.join(s + '.*' for s in CONTINUING)} keys")
        if restart and (moved or step != 0):
            raise ConfigError(f"{where}: a restart entry records an app edit at step 0 whose values the config "
                              f"already has")
        cfg = new
        last = step
        resolved = {"step": step, **{k: _plain(new, k) for k in edits}, **params}
        if origin != "config":
            resolved["origin"] = origin
        if restart:
            resolved["restart"] = True
        out.append(resolved)
    return out


def _plain(cfg: dict, key: str) -> Any:
    """The resolved value of "section.key" in cfg (so a saved timeline holds what the run used)."""
    section, name = split_key(key)
    return copy.deepcopy(cfg[section].get(name))


def config_at(run_config: dict, step: int) -> dict:
    """The settings in force after `step` steps: the step-0 config with every entry up to `step`."""
    cfg = run_config
    for entry in run_config.get("timeline", []):
        if entry["step"] > step:
            break
        if not entry.get("restart"):
            cfg = apply(cfg, config_changes(entry))
    return cfg


def record(run_config: dict, step: int, old: dict, new: dict) -> dict:
    """`run_config` with the app's edit at `step` (from settings `old` to `new`) on its timeline.

    Entries after `step` that the app made are dropped (they belonged to a run that was rewound);
    scripted ones stay. An edit at the step of an existing entry merges into it."""
    if not diff(old, new):
        return run_config
    entries = run_config.get("timeline", [])
    earlier = [e for e in entries if e["step"] < step]
    later = [e for e in entries if e["step"] > step and e.get("origin", "config") == "config"]
    # One entry per step: from the settings before this step's entries to the new ones (a second
    # edit at the same step replaces the first; an edit back to those settings leaves no entry)
    before = config_at(dict(run_config, timeline=earlier), step)
    edits = diff(before, new)
    same = [e for e in entries if e["step"] == step]
    kept = param_changes(same[0]) if same else {}  # weights set by hand at this step stay set
    merged = [{"step": step, **edits, **kept, "origin": "app"}] if edits or kept else []
    return dict(run_config, timeline=[*earlier, *merged, *later])


def record_param(run_config: dict, step: int, key: str, value: float) -> dict:
    """`run_config` with a parameter set by hand at `step` (merged into that step's entry; later
    entries the app made are dropped, as `record` drops them)."""
    entries = run_config.get("timeline", [])
    earlier = [e for e in entries if e["step"] < step]
    later = [e for e in entries if e["step"] > step and e.get("origin", "config") == "config"]
    same = next((e for e in entries if e["step"] == step), None)
    entry = {**(same or {"step": step}), key: value, "origin": "app"}
    return dict(run_config, timeline=[*earlier, entry, *later])


def title(run_config: dict) -> tuple[str, str]:
    """(title, tooltip) of a run: the config's title, or "based on TITLE" once the user edited it,
    with the changed keys in the tooltip."""
    meta_title = (run_config.get("meta") or {}).get("title") or ""
    entries = [e for e in run_config.get("timeline", []) if e.get("origin") == "app"]
    if not entries:
        return meta_title, ""
    tip = "Changed in the app:\n" + "\n".join(describe(e) for e in entries)
    return (f"based on {meta_title}" if meta_title else "edited run"), tip


def describe(entry: dict) -> str:
    """One line for people: "step 1000: optimizer.lr = 0.3, optimizer.name = sgd (in the app)"."""
    parts = ", ".join(f"{k} = {_show(v)}" for k, v in changes(entry).items())
    tail = " (restarted training in the app)" if entry.get("restart") else (
        " (in the app)" if entry.get("origin") == "app" else "")
    return f"step {entry['step']}: {parts}{tail}"


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def parse_set(text: str) -> tuple[str, Any, int]:
    """`--set section.key=VALUE@STEP` -> (key, value, step); VALUE is a TOML value (a bare word is a
    string). ConfigError with the expected form otherwise."""
    form = "--set takes section.key=VALUE@STEP, e.g. optimizer.lr=0.3@1000"
    key, eq, rest = text.partition("=")
    value_text, at, step_text = rest.rpartition("@")
    if not eq or not at or not key.strip() or not value_text.strip():
        raise ConfigError(f"{form}; got {text!r}")
    try:
        step = int(step_text.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{form}; the step must be a whole number, got {step_text!r}") from None
    try:
        value = config_mod.tomllib.loads(f"v = {value_text.strip()}")["v"]
    except config_mod.tomllib.TOMLDecodeError:
        value = value_text.strip()  # a bare word: "sgd", "cosine", "full"
    return key.strip(), value, step


def with_sets(raw_timeline: list[dict], sets: list[tuple[str, Any, int]]) -> list[dict]:
    """A raw timeline with `--set` changes merged in (by step; a later --set of a key wins)."""
    by_step: dict[int, dict] = {}
    for entry in raw_timeline:
        by_step.setdefault(int(entry["step"]), {}).update(entry)
    for key, value, step in sets:
        by_step.setdefault(step, {"step": step})[key] = value
    return [by_step[s] for s in sorted(by_step)]
