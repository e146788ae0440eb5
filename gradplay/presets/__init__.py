"""Ready-made configs, shipped as package data beside this module (one of them the app's default).

They are read with importlib.resources, so a wheel, `pipx` or a zipped install finds them as an
editable checkout does.
"""
from __future__ import annotations

from functools import cache
from importlib import resources

from ..core import config

DEFAULT_PRESET = "spiral_tanh"


def _files():
    return resources.files(__name__)


@cache
def preset_names() -> tuple[str, ...]:
    """Every preset's name (the file name without .toml), sorted."""
    return tuple(sorted(f.name.removesuffix(".toml") for f in _files().iterdir()
                        if f.is_file() and f.name.endswith(".toml")))


def preset_text(name: str) -> str:
    """The TOML text of preset `name` (ConfigError naming the choices if there is none)."""
    if name not in preset_names():
        raise config.ConfigError(f"unknown preset '{name}'; choose one of: {', '.join(preset_names())}")
    return (_files() / f"{name}.toml").read_text(encoding="utf-8")


def load_preset(name: str) -> dict:
    """The resolved config of preset `name`."""
    return config.loads(preset_text(name), source=f"preset '{name}'")

