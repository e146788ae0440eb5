"""Start the desktop app: the QApplication, the controller on a preset or config, the window."""
from __future__ import annotations

import sys

from PySide6 import QtWidgets

from ..presets import resolve_source


def load_source(source: str | None):
    """A resolved config (preset name, TOML path, None: default preset) or a saved Session."""
    from pathlib import Path

    if source is not None:
        p = Path(source)
        if p.is_dir() or p.suffix == ".gradplay":
            from ..core.io import load_session

            return load_session(p)
    return resolve_source(source)


def make_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The running QApplication (created if needed), named so QSettings finds the user's layout."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(sys.argv[:1] if argv is None else argv)
    app.setOrganizationName("gradplay")
    app.setApplicationName("gradplay")
    app.setApplicationDisplayName("gradplay")
    return app


def run_app(source: str | None) -> int:
    """Open the window on `source` (preset name or TOML path; None: the default preset); exit code."""
    cfg = load_source(source)  # a bad config fails here, before a window appears (cli reports it)
    app = make_app()
    from .controller import Controller
    from .main_window import MainWindow

    window = MainWindow(Controller(cfg))
    window.show()
    return app.exec()
