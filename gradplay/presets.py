"""Ready-made configs shipped in assets/presets (one of them the app's default)."""
from __future__ import annotations

from pathlib import Path

from .core import config

DEFAULT_PRESET = "spiral_tanh"


def presets_dir() -> Path:
    """assets/presets of the source tree (the package is installed editable, see README)."""
    return Path(__file__).resolve().parent.parent / "assets" / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.toml"))


def preset_path(name: str) -> Path:
    path = presets_dir() / f"{name}.toml"
    if not path.is_file():
        raise config.ConfigError(f"unknown preset '{name}'; choose one of: {', '.join(preset_names())}")
    return path


def load_preset(name: str) -> dict:
    return config.load(preset_path(name))


def resolve_source(source: str | None) -> dict:
    """A preset name or a path to a TOML config -> resolved config (None: the default preset)."""
    if source is None:
        return load_preset(DEFAULT_PRESET)
    p = Path(source)
    if p.suffix == ".toml" or p.exists():
        return config.load(p)
    return load_preset(source)
