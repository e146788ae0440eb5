"""Classroom mode: controls a teacher hides from students, saved with the setup as `[classroom]`.

    [classroom]
    hide = ["optimizer", "hyperparameters", "presets"]   # names from HIDEABLE
    locked = true    # turning it off asks for the teacher's confirmation ("Unlock (teacher)")

It travels with everything that carries a config (a TOML file, Copy setup, a saved session, a
preset). It holds for the whole run, like `[stop]`: it is not a timeline key, and changing it
neither restarts training nor touches the optimizer. It is a convenience for a lesson, not a
security boundary: the file it lives in can be edited.
"""
from __future__ import annotations

from typing import Any

from . import config as config_mod
from .config import ConfigError

SECTION = "classroom"
KEYS = ("hide", "locked")
# Every name a teacher can hide -> what it hides (the dialog's text), grouped as the dialog shows them.
SETUP = {
    "task": "Task: the dataset or landscape and its data (and File → Import data)",
    "pictures": "the dataset pictures above the task list",
    "network": "Network and loss",
    "optimizer": "the choice of optimizer",
    "hyperparameters": "the optimizer's settings: learning rate, momentum, …",
    "training": "Training: batch size, L1 / L2, clipping",
    "schedule": "the learning-rate schedule",
    "seed": "the seed",
    "stop": "Stop conditions",
}
PANELS = {  # the deep panels (docks), and their entries in the View menu
    "gradients": "the Gradients panel",
    "diagnostics": "the Diagnostics panel",
    "curvature": "the Curvature panel",
    "race": "the Race panel",
    "weight_space": "the Weight space panel",
}
OTHER = {
    "presets": "the Presets menu (and the Story panel's links to presets)",
    "open": "File → Open… and Edit → Paste setup (another setup)",
    "edit_points": "edit points on the map (own data)",
}
HIDEABLE: dict[str, str] = {**SETUP, **PANELS, **OTHER}
DEFAULTS: dict[str, Any] = {"hide": [], "locked": False}


def resolve(raw: Any) -> dict[str, Any]:
    """The resolved `[classroom]` section: `hide` in HIDEABLE's order, `locked` a boolean."""
    if not isinstance(raw, dict):
        raise ConfigError(f"'{SECTION}' must be a table ([{SECTION}]), got {config_mod._type_name(raw)}")
    config_mod._check_keys(raw, KEYS, f"{SECTION}.")
    hide = raw.get("hide", DEFAULTS["hide"])
    if not isinstance(hide, list):
        raise ConfigError(f"'{SECTION}.hide' must be a list of names of controls to hide "
                          f"({config_mod._choices(HIDEABLE)}), got {config_mod._show(hide)}")
    names = [config_mod._name(v, f"{SECTION}.hide[{i}]", tuple(HIDEABLE)) for i, v in enumerate(hide)]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"'{SECTION}.hide' lists {twice!r} twice")
    return {"hide": [n for n in HIDEABLE if n in names],
            "locked": config_mod._bool(raw.get("locked", DEFAULTS["locked"]), f"{SECTION}.locked")}


def of(cfg: dict) -> dict[str, Any]:
    """The `[classroom]` section of a resolved config (the defaults for one made before it existed)."""
    return cfg.get(SECTION) or dict(DEFAULTS)


def is_on(cfg: dict) -> bool:
    """Whether the config hides anything."""
    return bool(of(cfg)["hide"])


def with_classroom(cfg: dict, hide: list[str], locked: bool = False) -> dict:
    """`cfg` (resolved) re-resolved with this `[classroom]` section; the rest stays as it is."""
    return config_mod.with_changes(cfg, **{SECTION: {"hide": list(hide), "locked": bool(locked)}})


def toml_lines(cfg: dict) -> list[str]:
    """The section as TOML lines for config.dumps; none when it is the default (nothing hidden and
    not locked), so a shared setup without classroom mode does not mention it."""
    section = of(cfg)
    if section == DEFAULTS:
        return []
    return [f"\n[{SECTION}]", *(f"{k} = {config_mod._toml_value(section[k])}" for k in KEYS)]


def describe(cfg: dict) -> str:
    """What is hidden, one line per name (the classroom mark's tooltip)."""
    section = of(cfg)
    if not section["hide"]:
        return "Classroom mode is off: every control is shown."
    lines = ["Classroom mode" + (" (locked)" if section["locked"] else "") + " hides:"]
    lines += [f"• {HIDEABLE[n]}" for n in section["hide"]]
    lines.append("View → Classroom mode… changes it.")
    return "\n".join(lines)
