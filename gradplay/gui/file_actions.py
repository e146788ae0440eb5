"""File menu: Open (configs and sessions), Save / Save as, and Export ▸, plus the window title.

`FileActions(window, menu)` adds its actions to the window's File menu and keeps track of the session
file: the title reads "name[*] — gradplay" and Qt shows the `*` while the run differs from what was
last saved or opened (another step, another setting). Every action has a dialog-free method
(`open_path`, `save_to`, `export_*`) that the dialogs call and tests drive directly.

Exports run on the GUI thread (Qt paints widgets nowhere else) under a window-modal progress dialog
that keeps the window painting and can cancel between files and between GIF frames; training is
paused meanwhile so every file shows the same step.
The dialog that asks where and how to export is `export_dialog.ExportDialog`.
"""
from __future__ import annotations

import copy
import re
import weakref
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from .. import source as source_mod
from ..core import io, own_data
from ..core.io import SESSION_SUFFIX
from . import exporters, gif
from .export_dialog import ExportDialog, with_filter_suffix

OPEN_FILTER = ("gradplay files (*.toml *.gradplay session.json);;Configs (*.toml);;"
               "Saved sessions (*.gradplay session.json);;All files (*)")
SAVE_FILE_FILTER = "gradplay session (*.gradplay)"
SAVE_FOLDER_FILTER = "Session folder: session.json + arrays.npz (*)"


def session_location(path: str | Path | None) -> Path | None:
    """Where the saved session that `path` names lives (the folder for a picked session.json), or
    None when it names a preset or a config; `source.classify` decides."""
    try:
        found = source_mod.classify(path)
    except ValueError:  # ConfigError and SessionFileError: nothing that can be saved back to
        return None
    return found.path.resolve() if found.is_session and found.path is not None else None


def slug(text: str) -> str:
    """A file-name-safe version of a run title."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()[:60] or "session"


class FileActions(QtCore.QObject):
    """Open / Save / Save as / Export ▸ of a MainWindow, and its title with the unsaved marker."""

    def __init__(self, window: QtWidgets.QMainWindow, menu: QtWidgets.QMenu):
        super().__init__(window)
        self.window = window
        self.path: Path | None = None  # the session file or folder being edited, if any
        self._clean: tuple = ()
        self._mark_clean()

        self.open_action = self._action(menu, "&Open…", self.open_dialog, QtGui.QKeySequence.StandardKey.Open,
                                        "Open a config (.toml) or a saved session (.gradplay, or the "
                                        "session.json in a session folder)")
        self.save_action = self._action(menu, "&Save session", self.save, QtGui.QKeySequence.StandardKey.Save,
                                        "Save the run (settings, weights, optimizer state, history) to "
                                        "continue it later exactly where it stopped")
        self.save_as_action = self._action(menu, "Save session &as…", self.save_as_dialog,
                                           QtGui.QKeySequence("Ctrl+Shift+S"),
                                           "Save the run to a new .gradplay file or session folder")
        self.import_action = self._action(menu, "&Import data (CSV)…", self.import_dialog,
                                          QtGui.QKeySequence("Ctrl+I"),
                                          "Train on your own points: a CSV file of x1, x2 and a label (classes) "
                                          "or a target (regression), header optional")
        self.export_menu = menu.addMenu("&Export")
        self.export_menu.setToolTipsVisible(True)
        self.export_menu.aboutToShow.connect(self._fill_export_menu)
        # The shortcut must work before the menu was ever opened, so this action lives on the window.
        self.export_all_action = QtGui.QAction("&Everything…", window)
        self.export_all_action.setShortcut(QtGui.QKeySequence("Ctrl+E"))
        self.export_all_action.triggered.connect(self.export_all_dialog)
        window.addAction(self.export_all_action)
        self._fill_export_menu()

        c = window.controller
        for signal in (c.stepped, c.session_replaced):
            signal.connect(self._changed)
        c.config_changed.connect(self.update_title)  # an edit: "based on TITLE", and the unsaved mark

    def _action(self, menu: QtWidgets.QMenu, text: str, slot: Callable, key, tip: str) -> QtGui.QAction:
        action = menu.addAction(text, slot)
        action.setShortcut(QtGui.QKeySequence(key))
        action.setStatusTip(tip)
        action.setToolTip(tip)
        return action

    @property
    def controller(self):
        return self.window.controller

    @property
    def session(self):
        return self.window.controller.session

    # ----------------------------------------------------------------- title and unsaved marker
    def _mark_clean(self) -> None:
        s = self.session
        # A weak reference: a replaced session may be freed, and a new one could reuse its id().
        self._clean = (weakref.ref(s), s.step, copy.deepcopy(s.config))
        self.window.setWindowModified(False)

    def _follow_session(self) -> None:
        """Another session was put in the window (a preset, Open): it is not the saved file's run."""
        if self._clean[0]() is not self.session:
            self.path = None
            self._mark_clean()

    def is_modified(self) -> bool:
        """True when the run differs from the last save/open: other steps or other settings."""
        ref, step, cfg = self._clean
        s = self.session
        return ref() is not s or s.step != step or s.config != cfg

    def _changed(self) -> None:
        if self._clean[0]() is not self.session:
            self.update_title()
            return
        modified = self.is_modified()
        if modified != self.window.isWindowModified():
            self.window.setWindowModified(modified)

    def update_title(self) -> None:
        """"file.gradplay[*] — gradplay" for a session file, else the run's title; `*` = unsaved."""
        self._follow_session()
        if self.path is not None:
            name = self.path.name
        else:
            name = exporters.run_title(self.session) or "untitled"  # "based on TITLE" once edited
        self.window.setWindowTitle(f"{name}[*] — gradplay")
        self._changed()

    def adopt(self, source: str | Path | None) -> None:
        """The window was opened on `source` (command line): remember it if it is a session file."""
        self.path = session_location(source) if source else None
        self._mark_clean()
        self.update_title()

    # ----------------------------------------------------------------- open
    def _last_dir(self) -> str:
        return str(self.window.settings.value("files/last_dir", str(Path.home())))

    def _remember_dir(self, path: Path) -> None:
        self.window.settings.setValue("files/last_dir", str(path.parent))

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open config or session",
                                                        self._last_dir(), OPEN_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a TOML config or a saved session; False (the reason shown by the window) if not."""
        if not self.window.open_path(path):
            return False
        self.path = session_location(path)
        self._mark_clean()
        self.update_title()
        return True

    # ----------------------------------------------------------------- own data
    def import_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Import data", self._last_dir(),
                                                        "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.import_csv(path)

    def import_csv(self, path: str | Path) -> bool:
        """Train on the points of a CSV file (core/own_data.py); False, with the reason shown, if not."""
        path = Path(path)
        try:
            if path.stat().st_size > own_data.MAX_CSV_BYTES:
                raise own_data.DataError(f"the file has {path.stat().st_size:,} bytes; own data is at most "
                                         f"{own_data.MAX_CSV_BYTES:,}")
            points, targets = own_data.read_csv(path.read_text(encoding="utf-8-sig"))
            cfg = own_data.own_config(self.session.config, points, targets)
        except (OSError, UnicodeDecodeError, own_data.DataError) as e:
            self.window.banner.show_message(f"Cannot import {path.name}: {e}", "warning")
            return False
        if not self.confirm_discard(f"importing {path.name}"):
            return False
        self._remember_dir(path)
        self.controller.apply_config(cfg)
        return True

    # ----------------------------------------------------------------- save
    # ----------------------------------------------------------------- unsaved work
    def confirm_discard(self, doing: str) -> bool:
        """Before the run is dropped (`doing`: "opening the preset X", "quitting"): True to go on.

        When the window asks (`MainWindow.confirm_unsaved`, set by the app) and the run has steps
        or edits that are not saved, it offers Save / Discard / Cancel; Save goes on only once
        saved. The autosave slot stays a safety net either way."""
        s = self.session
        if not self.window.confirm_unsaved or not self.is_modified() or (s.step == 0 and not s.timeline):
            return True
        self.controller.pause()
        what = f"{s.step:,} training steps" + (" and edits" if s.timeline else "")
        choice = self.ask_unsaved(f"This run has {what} that are not saved. Save it before {doing}?")
        if choice == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save()
        return choice == QtWidgets.QMessageBox.StandardButton.Discard

    def ask_unsaved(self, text: str) -> QtWidgets.QMessageBox.StandardButton:
        """The Save / Discard / Cancel question (tests replace this method)."""
        buttons = (QtWidgets.QMessageBox.StandardButton.Save | QtWidgets.QMessageBox.StandardButton.Discard
                   | QtWidgets.QMessageBox.StandardButton.Cancel)
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Unsaved run", text, buttons, self.window)
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Save)
        box.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        return QtWidgets.QMessageBox.StandardButton(box.exec())

    def save(self) -> bool:
        """Save to the current session file; asks where when the run has none yet."""
        if self.path is None:
            return self.save_as_dialog()
        return self.save_to(self.path)

    def save_as_dialog(self) -> bool:
        start = self.path or Path(self._last_dir()) / (slug(
            (self.session.config.get("meta") or {}).get("title") or self.session.config["task"]["name"])
            + SESSION_SUFFIX)
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self.window, "Save session as", str(start), f"{SAVE_FILE_FILTER};;{SAVE_FOLDER_FILTER}")
        if not path:
            return False
        path = Path(path)
        if chosen != SAVE_FOLDER_FILTER and path.suffix != SESSION_SUFFIX:
            path = path.with_name(path.name + SESSION_SUFFIX)
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Save the session to `path` (a .gradplay file, else a folder); it becomes the current file."""
        path = Path(path)
        try:
            if path.suffix != SESSION_SUFFIX and path.exists() and not path.is_dir():
                raise OSError(f"{path.name} is a file; a session folder needs a new name")
            io.save_session(self.session, path)
        except OSError as e:
            self._warn(f"Could not save the session to {path}: {e.strerror or e}. The previous save, if "
                       "any, is unchanged.")
            return False
        self.path = path.resolve()
        self._remember_dir(self.path)
        self._mark_clean()
        self.update_title()
        self.window.statusBar().showMessage(f"Saved {self.path}", 5000)
        return True

    # ----------------------------------------------------------------- exports (no dialogs)
    def _panel(self, name: str):
        return self.window.panels[name]

    def export_panel_png(self, name: str, path: str | Path, pixels: tuple[int, int] | None = None,
                         scale: float = exporters.DEFAULT_SCALE) -> Path:
        """One panel as PNG of `pixels` (default its export size × `scale`)."""
        return exporters.panel_png(self._panel(name), self.controller, path, pixels, scale)

    def export_panel_svg(self, name: str, path: str | Path) -> Path:
        return exporters.panel_svg(self._panel(name), self.controller, path)

    def export_csv(self, path: str | Path) -> list[Path]:
        """history.csv at `path` and the evaluations beside it (NAME_evals.csv)."""
        from ..core.export import write_evals_csv, write_history_csv

        path = Path(path)
        return [write_history_csv(self.session, path),
                write_evals_csv(self.session, path.with_name(path.stem + "_evals.csv"))]

    def export_gif(self, path: str | Path, every: int | None = None,
                   progress: Callable[[int, int], bool] | None = None, notes: list[str] | None = None
                   ) -> Path | None:
        return gif.write_gif(self._panel("landscape"), self.controller, path, every=every,
                             progress=progress, notes=notes)

    def export_summary(self, path: str | Path) -> Path:
        from .summary import write_summary

        return write_summary(self.window, path)

    def export_torch(self, path: str | Path) -> Path:
        from ..core.torch_script import write_torch_script

        return write_torch_script(self.session, path)

    def export_all(self, folder: str | Path, formats=exporters.FORMATS, scale: float = exporters.DEFAULT_SCALE,
                   gif_every: int | None = None, progress: exporters.Progress | None = None) -> list[Path] | None:
        return exporters.export_all(self.window, folder, formats, scale=scale, gif_every=gif_every,
                                    progress=progress)

    # ----------------------------------------------------------------- export menu and dialogs
    def _fill_export_menu(self) -> None:
        m = self.export_menu
        m.clear()
        m.addAction(self.export_all_action)
        m.addSeparator()
        panels = exporters.exportable_panels(self.window)
        png = m.addMenu("Panel as &PNG")
        svg = m.addMenu("Panel as &SVG")
        for name, panel in panels.items():
            png.addAction(f"{panel.title}…", lambda n=name: self.panel_png_dialog(n))
            svg.addAction(f"{panel.title}…", lambda n=name: self.panel_svg_dialog(n))
        m.addAction("History as &CSV…", self.csv_dialog)
        gif_action = m.addAction("Landscape as animated &GIF…", self.gif_dialog)
        gif_action.setToolTip("The optimizer's path growing on the landscape (datasets: the decision map "
                              "as the network learns), one frame every k steps")
        m.addAction("Summary &image…", self.summary_dialog)
        m.addAction("&PyTorch script…", self.torch_dialog)

    def _save_name(self, caption: str, default: str, filt: str) -> Path | None:
        start = Path(self._last_dir()) / default
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, caption, str(start), filt)
        if not path:
            return None
        path = with_filter_suffix(Path(path), filt)
        self._remember_dir(path)
        return path

    def _base(self) -> str:
        return self.path.stem if self.path is not None else slug(exporters.run_title(self.session))

    def panel_png_dialog(self, name: str) -> None:
        w, h = exporters.export_sizes(name)
        dlg = ExportDialog(self.window, f"Export {self._panel(name).title} as PNG",
                           Path(self._last_dir()) / f"{self._base()}_{name}.png", "PNG image (*.png)",
                           pixels=(w * 2, h * 2), scale=exporters.DEFAULT_SCALE)
        if dlg.ask():
            v = dlg.values()
            self._run(lambda progress: [self.export_panel_png(name, v["path"], v["pixels"], v["scale"])])

    def panel_svg_dialog(self, name: str) -> None:
        path = self._save_name(f"Export {self._panel(name).title} as SVG", f"{self._base()}_{name}.svg",
                               "SVG drawing (*.svg)")
        if path:
            self._run(lambda progress: [self.export_panel_svg(name, path)])

    def csv_dialog(self) -> None:
        path = self._save_name("Export the history as CSV", f"{self._base()}_history.csv", "CSV table (*.csv)")
        if path:
            self._run(lambda progress: self.export_csv(path))

    def gif_dialog(self) -> None:
        dlg = ExportDialog(self.window, "Export the landscape as an animated GIF",
                           Path(self._last_dir()) / f"{self._base()}_landscape.gif", "GIF animation (*.gif)",
                           steps=self.session.step)
        if not dlg.ask():
            return
        v = dlg.values()
        notes: list[str] = []

        def job(progress):
            frames = lambda done, n: progress(f"Rendering frame {done} of {n}…", done, n)  # noqa: E731
            out = self.export_gif(v["path"], v["every"], frames, notes)
            return None if out is None else [out]

        self._run(job, notes)

    def summary_dialog(self) -> None:
        path = self._save_name("Export a summary image", f"{self._base()}_summary.png", "PNG image (*.png)")
        if path:
            self._run(lambda progress: [self.export_summary(path)])

    def torch_dialog(self) -> None:
        path = self._save_name("Export as a PyTorch script", f"{self._base()}_torch.py", "Python script (*.py)")
        if path:
            self._run(lambda progress: [self.export_torch(path)])

    def export_all_dialog(self) -> None:
        dlg = ExportDialog(self.window, "Export everything", Path(self._last_dir()) / f"{self._base()}_export",
                           folder=True, scale=exporters.DEFAULT_SCALE, steps=self.session.step,
                           formats=exporters.FORMATS)
        if dlg.ask():
            v = dlg.values()
            self._run(lambda progress: self.export_all(v["path"], v["formats"], v["scale"], v["every"], progress))

    # ----------------------------------------------------------------- running an export
    def _run(self, job: Callable, notes: list[str] | None = None) -> list[Path] | None:
        """Run an export under a cancellable progress dialog; report the files or the error."""
        self.controller.pause()  # every file shows the same step
        dialog = QtWidgets.QProgressDialog("Exporting…", "Cancel", 0, 1000, self.window)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)  # quick exports finish before it would appear
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)

        def progress(label: str, done: int, total: int) -> bool:
            dialog.setLabelText(label)
            dialog.setValue(int(1000 * done / max(total, 1)))
            QtWidgets.QApplication.processEvents()  # paint, and let Cancel be clicked
            return not dialog.wasCanceled()

        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.BusyCursor)
        try:
            written = job(progress)
        except (OSError, ValueError) as e:
            self._warn(f"Export failed: {getattr(e, 'strerror', None) or e}")
            return None
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
            dialog.close()
            dialog.deleteLater()
        if written is None:
            self.window.statusBar().showMessage("Export cancelled", 5000)
            return None
        where = written[0].parent if written else ""
        msg = f"Exported {written[0].name}" if len(written) == 1 else f"Exported {len(written)} files"
        self.window.statusBar().showMessage(f"{msg} to {where}", 8000)
        for note in notes or []:
            self.window.banner.show_message(note, "info")
        return written

    def _warn(self, message: str) -> None:
        self.window.banner.show_message(message, "warning")
        self.window.statusBar().showMessage(message.split(":")[0], 8000)
