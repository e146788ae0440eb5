"""Catch the system libraries Qt's xcb plugin needs before Qt aborts the process without them.

pip cannot install these; when one is missing Qt prints a cryptic plugin error and calls abort(),
so we look for them first and name the apt packages instead.
"""
from __future__ import annotations

import ctypes
import os
import sys

# soname -> Debian/Ubuntu package (Qt 6's documented xcb requirements)
XCB_LIBS = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
APT_LINE = "sudo apt-get install " + " ".join(XCB_LIBS.values())


def missing_xcb_libs() -> list[str]:
    """Packages whose library cannot be loaded (empty when all are present)."""
    missing = []
    for soname, package in XCB_LIBS.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(package)
    return missing


def check_display(env: dict[str, str] | None = None) -> str | None:
    """A message saying why the app cannot open a window here, or None when it can."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: not the xcb plugin
    if not platform and env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return ("no display found (DISPLAY is not set). Run gradplay on a desktop session, or use the "
                "headless commands: `gradplay run`, `gradplay shot` (see `gradplay --help`).")
    missing = missing_xcb_libs()
    if missing:
        return ("Qt cannot open a window: its xcb platform plugin needs system libraries that are not "
                f"installed: {', '.join(missing)}.\nInstall them with:\n  {APT_LINE}")
    return None
