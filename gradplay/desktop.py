"""gradplay on the Linux desktop: its icon, and an entry in the application menu.

The package ships `share/gradplay.desktop` (a freedesktop desktop entry) and `share/gradplay.svg`.
`gradplay install-desktop` copies both where desktop environments look for a user's own entries
(`$XDG_DATA_HOME`, by default `~/.local/share`), with `Exec` naming this installation's `gradplay`
so the entry works from a menu whose PATH does not include pipx's or a venv's bin folder.
"""
from __future__ import annotations

import os
import shutil
import sys
from importlib import resources
from pathlib import Path

APP_ID = "gradplay"


def _share(name: str):
    return resources.files("gradplay") / "share" / name


def icon_bytes() -> bytes:
    """The app's icon (SVG)."""
    return _share(f"{APP_ID}.svg").read_bytes()


def desktop_entry(executable: str | None = None) -> str:
    """The desktop entry's text, its Exec line pointing at `executable` (default: this gradplay)."""
    exe = executable or _this_executable()
    lines = []
    for line in _share(f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={_quote(exe)} %f"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _this_executable() -> str:
    """The `gradplay` script beside this Python (a venv's or pipx's bin), else whatever is on PATH."""
    beside = Path(sys.executable).with_name("gradplay")
    if beside.is_file():
        return str(beside)
    return shutil.which("gradplay") or "gradplay"


def _quote(arg: str) -> str:
    """Quote an Exec argument as the desktop entry specification asks (only when needed)."""
    if not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def install(data_dir: Path | None = None) -> list[Path]:
    """Write the desktop entry and the icon under `data_dir` (default: `data_home()`); the paths."""
    base = data_dir or data_home()
    entry = base / "applications" / f"{APP_ID}.desktop"
    icon = base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    for path, data in ((entry, desktop_entry().encode()), (icon, icon_bytes())):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return [entry, icon]
