"""`gradplay shot`: render the whole window offscreen after N training steps, to a PNG.

Used to look at the app without a display (docs, CI artefacts, reviews). The window is built
exactly as on screen, trained through the controller in "frames" (so test-loss curves get points
along the way as when playing), every panel is redrawn, then the window is grabbed.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

FRAMES = 60  # evaluations along the run, like the frames of a live session


def take_shot(source: str | None, steps: int, out: Path, size: tuple[int, int] | None = None,
              dock: str | None = None, layout: str = "full") -> None:
    """Write a PNG of the main window on `source` after `steps` steps; `size` (w, h) in pixels.

    `dock` brings that panel's tab to the front first and, if it has `prepare_shot(steps)`, lets it
    finish its own work (run the race, compute the weight-space slice, check the gradients).
    `layout`: "full" or "simple" (View → Simple / Full layout)."""
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never open a window for a screenshot
    from PySide6 import QtCore

    from . import exporters
    from .app import load_source, make_app
    from .controller import Controller
    from .main_window import MainWindow

    cfg = load_source(source)
    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        # A fresh settings file: the shot shows the default layout, not the user's saved one.
        settings = QtCore.QSettings(str(Path(tmp) / "shot.ini"), QtCore.QSettings.Format.IniFormat)
        window = MainWindow(Controller(cfg), settings=settings, restore=False)
        try:
            w, h = size or (1600, 1000)
            window.resize(w, h)
            window.show()
            _settle(app)
            if layout != window.layout_mode:
                window.arrange(layout)
                _settle(app)
            if steps:
                window.controller.run_steps(steps, frames=FRAMES)
                window.banner.dismiss("info")  # as after pressing Space
            window.reset_panels()  # every panel draws now, throttled or not
            _settle(app)
            if dock:
                if dock not in window.docks:
                    raise RuntimeError(f"no panel '{dock}'; choose one of: {', '.join(window.docks)}")
                window.docks[dock].show()
                window.docks[dock].raise_()
                # the panel the shot is about gets most of its column's height
                window.resizeDocks([window.docks[dock]], [int(window.height() * 0.72)],
                                   QtCore.Qt.Orientation.Vertical)
                _settle(app)
                window.panels[dock].prepare_shot(steps)
                _settle(app)
            if window.size() != QtCore.QSize(w, h):
                raise RuntimeError(f"the window cannot be {w}x{h}: its panels need at least "
                                   f"{window.minimumSizeHint().width()}x{window.minimumSizeHint().height()}")
            image = window.grab().toImage()
            out = Path(out)
            out.parent.mkdir(parents=True, exist_ok=True)
            # atomic: on a full disk the previous PNG stays whole (QImage.save left it truncated)
            exporters.write_png(image, out, f"gradplay — {exporters.run_title(window.controller.session)}")
        finally:
            window.controller.pause()
            window.close()
            window.deleteLater()
            _settle(app)


def _settle(app) -> None:
    """Let layouts, deferred resizes and posted paints run."""
    for _ in range(3):
        app.processEvents()
