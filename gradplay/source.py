"""What a source argument names: a preset, a TOML config, or a saved session, and how to open it.

The app (`gradplay SOURCE`), `gradplay run`, `export` and `shot`, and File → Open all decide here,
so a path means the same thing everywhere:

======================  ==================================================  ===========
argument                what it is                                          kind
======================  ==================================================  ===========
``None``                the default preset (``spiral_tanh``)                ``preset``
``spiral_tanh``         a preset name (``gradplay presets`` lists them)      ``preset``
``run.toml``            a TOML config                                       ``config``
``run.gradplay``        a saved session (a zip of session.json + arrays)    ``session``
``RUN_DIR/``            a session folder (session.json + arrays.npz)        ``session``
``RUN_DIR/session.json`` the same folder, picked by its session.json         ``session``
``gradplay://…``        a shared setup (Edit → Copy setup)                  ``link``
``try gradplay://…``    text holding such a link (a chat message)           ``link``
a multi-line text       the TOML text Copy setup wrote (pasted)             ``link``
======================  ==================================================  ===========

An existing file with another suffix is a session if it is a zip (a renamed .gradplay) and a
config otherwise. A word that is no existing path is a preset name.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from . import presets
from .core import config
from .core.io import SESSION_SUFFIX, SessionFileError

if TYPE_CHECKING:
    from .core.session import Session

Kind = Literal["preset", "config", "session", "link"]
SESSION_JSON = "session.json"


@dataclass(frozen=True)
class Source:
    """A classified source argument. `path` is None for a preset; for a session it is the file or
    folder to open and save back to (a picked session.json stands for its folder)."""

    kind: Kind
    name: str
    path: Path | None = None

    @property
    def is_session(self) -> bool:
        return self.kind == "session"

    def describe(self) -> str:
        return {"preset": f"preset '{self.name}'", "config": f"config {self.path}",
                "session": f"saved session {self.path}",
                "link": "shared setup (gradplay:// link or pasted text)"}[self.kind]

    def load_config(self) -> dict:
        """The resolved config of a preset or TOML file (ConfigError for a saved session)."""
        if self.kind == "preset":
            return presets.load_preset(self.name)
        if self.kind == "config":
            assert self.path is not None
            return config.load(self.path)
        if self.kind == "link":
            from .core import share

            return share.parse(self.name)
        raise config.ConfigError(f"{self.path} is a saved session, not a config")

    def load_session(self) -> Session:
        """The saved session, ready to continue (SessionFileError for anything else)."""
        from .core.io import load_session

        if self.kind != "session":
            raise SessionFileError(f"{self.describe()} is not a saved session")
        assert self.path is not None
        return load_session(self.path)

    def load(self) -> dict | Session:
        """A resolved config (preset, TOML) or a Session (saved session)."""
        return self.load_session() if self.is_session else self.load_config()


def classify(arg: str | Path | None) -> Source:
    """Decide what `arg` names (see the module's table). Raises ConfigError when it names nothing:
    a missing file, or a word that is neither a path nor a preset."""
    if arg is None:
        return Source("preset", presets.DEFAULT_PRESET)
    text = str(arg)
    if not text.strip():
        raise config.ConfigError("no preset or file given (an empty name)")
    if "gradplay://" in text or "\n" in text:  # a shared setup (Edit → Copy setup) or its TOML, not a path
        return Source("link", text)
    p = Path(text).expanduser()
    if p.is_dir():
        if not (p / SESSION_JSON).exists():
            raise SessionFileError(f"{p} is a folder without {SESSION_JSON}: not a gradplay session "
                                   f"folder (`gradplay run --out` and Save as → Session folder write one)")
        return Source("session", p.name, p)
    if p.name == SESSION_JSON and p.exists():
        return Source("session", p.parent.name, p.parent)
    if p.exists():
        if p.suffix == SESSION_SUFFIX or (p.suffix != ".toml" and _is_zip(p)):
            return Source("session", p.stem, p)
        return Source("config", p.stem, p)
    looks_like_path = p.suffix in (".toml", SESSION_SUFFIX, ".json") or "/" in text or "\\" in text
    if looks_like_path:
        raise config.ConfigError(f"file not found: {text}")
    if text in presets.preset_names():
        return Source("preset", text)
    raise config.ConfigError(f"unknown preset '{text}' (and no file of that name); choose one of: "
                             f"{', '.join(presets.preset_names())}")


def _is_zip(path: Path) -> bool:
    try:
        return path.is_file() and zipfile.is_zipfile(path)
    except OSError:
        return False


def load(arg: str | Path | None) -> dict | Session:
    """classify(arg).load(): a resolved config, or a saved Session."""
    return classify(arg).load()
