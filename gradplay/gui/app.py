"""Start the desktop app: the QApplication, the controller on a preset or config, the window."""
from __future__ import annotations

import signal
import sys

from PySide6 import QtCore, QtGui, QtWidgets

from .. import source as source_mod


def load_source(source: str | None):
    """A resolved config (preset name, TOML path, None: default preset) or a saved Session."""
    return source_mod.load(source)


def make_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The running QApplication (created if needed), named so QSettings finds the user's layout."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(sys.argv[:1] if argv is None else argv)
    app.setOrganizationName("gradplay")
    app.setApplicationName("gradplay")
    app.setApplicationDisplayName("gradplay")
    from ..core import fast

    fast.gui_process()  # sessions train on numpy until start_fast_path has the kernels ready
    app.setDesktopFileName("gradplay")  # Wayland matches the window to gradplay.desktop by this
    from ..desktop import icon_bytes

    pixmap = QtGui.QPixmap()
    if pixmap.loadFromData(icon_bytes(), "SVG"):  # without Qt's SVG plugin: Qt's default icon
        app.setWindowIcon(QtGui.QIcon(pixmap))
    return app


def build_window(source: str | None, play: bool = False, restore: str | None = None,
                 autosave: bool = True):
    """The shown main window on `source`, with autosave and the offer to restore a crashed session.

    `restore` ("ask", "restore", "discard"; default $GRADPLAY_RESTORE or "ask") decides what happens
    to an autosave left by a crash; `play` starts training at once (`gradplay --play`).
    """
    cfg = load_source(source)  # a bad config fails here, before a window appears (cli reports it)
    make_app()
    from .autosave import Autosaver
    from .controller import Controller
    from .main_window import MainWindow

    controller = Controller(cfg)
    window = MainWindow(controller)
    window.files.adopt(source)  # a session opened from the command line is the file Ctrl+S saves to
    if autosave:
        window.attach_autosave(Autosaver(controller, parent=window), choice=restore)
    window.show()
    if play:
        controller.play()
    return window


def start_fast_path(parent: QtCore.QObject) -> QtCore.QProcess | None:
    """Bring up the engine's compiled kernels without stalling the window.

    A first compile holds the GIL for ~20 s, so a child process fills Numba's on-disk cache; this
    process then loads the cached kernels in a background thread (well under a second). Until then,
    and if anything fails, sessions train on the numpy path, which gives the same bits.
    """
    from ..core import fast

    if not fast.requested():
        return None
    if fast.cache_warm():  # ~0.3 s to load in a thread: no child process needed
        fast.warm_up()
        return None
    proc = QtCore.QProcess(parent)
    proc.finished.connect(lambda *args: fast.warm_up())
    proc.start(sys.executable, ["-c", "from gradplay.core import fast; fast.ensure()"])
    app = QtCore.QCoreApplication.instance()
    if app is not None:
        # Quitting within the first compile: stop it ourselves (Qt would, with a warning on the
        # console); Numba caches per function, so the next launch compiles only what is missing.
        app.aboutToQuit.connect(lambda: (proc.kill(), proc.waitForFinished(2000)))
    return proc


def run_app(source: str | None, play: bool = False) -> int:
    """Open the window on `source` (preset name or TOML path; None: the default preset); exit code."""
    window = build_window(source, play)
    window.confirm_unsaved = True  # a person's window: never drop an unsaved run without asking
    app = QtWidgets.QApplication.instance()
    start_fast_path(app)
    from .errors import install_excepthook

    install_excepthook(lambda: window)
    _quit_on_signals(app, window)
    return app.exec()


def _quit_on_signals(app: QtWidgets.QApplication, window) -> None:
    """SIGTERM/SIGINT (logout, kill, Ctrl+C in the terminal): save the latest steps, then quit.

    The autosave stays marked unclean, so the next launch offers it back. Python runs signal
    handlers only between bytecodes, so a timer wakes the interpreter up while Qt waits for events.
    """
    def quit_now() -> None:
        if window.autosaver is not None:
            window.autosaver.crash_exit()
        window.confirm_unsaved = False  # no question at logout: the autosave offers the run back
        app.quit()

    def on_signal(signum, frame) -> None:
        # The handler runs at whatever bytecode Python was at, often inside a paintEvent: quitting
        # there (Qt closes the windows) segfaulted 3 runs in 10 (`QBackingStore::endPaint() called
        # with active painter`). Only queue the quit; the event loop runs it between events.
        QtCore.QTimer.singleShot(0, quit_now)

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(sig, on_signal)
        except (ValueError, OSError):  # not the main thread, or not supported here
            return
    wake = QtCore.QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)
