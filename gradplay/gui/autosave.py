"""No lost work: the running session is autosaved, and a session left behind by a crash is offered back.

Each running window owns one *slot* in the autosave folder, three files named after the slot id:

    <id>.gradplay   the session (gradplay.core.io.save_session: temp file + rename, so never half-written)
    <id>.json       a marker: {"clean": false, "step": ..., "title": ..., "saved": ...}
    <id>.lock       a QLockFile held while the window runs

The slot is saved every `interval` seconds while there is work that the file does not have yet, and
on exit. A clean exit writes the last save and marks it clean. After a crash or a kill the marker
stays "clean": false and the lock goes stale, so the next launch finds an *orphan* and offers it
back (Restore / Discard); slots whose lock is still held belong to another running window and are
left alone. The folder is $GRADPLAY_AUTOSAVE_DIR, else the per-user AppDataLocation + "/autosave";
the interval is $GRADPLAY_AUTOSAVE_SECONDS (default 30).
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..core import io
from ..core.io import SessionFileError

DEFAULT_INTERVAL = 30.0  # seconds between autosaves while there are unsaved steps
MARKER_FORMAT = "gradplay-autosave"
_serial = itertools.count()  # several windows in one process (tests) get distinct slots
log = logging.getLogger(__name__)


def autosave_dir() -> Path:
    """$GRADPLAY_AUTOSAVE_DIR, else <per-user app data>/autosave (needs the QApplication's names set)."""
    env = os.environ.get("GRADPLAY_AUTOSAVE_DIR")
    if env:
        return Path(env)
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".gradplay") / "autosave"


def autosave_interval() -> float:
    """$GRADPLAY_AUTOSAVE_SECONDS (at least 0.1 s), else DEFAULT_INTERVAL."""
    try:
        return max(0.1, float(os.environ.get("GRADPLAY_AUTOSAVE_SECONDS", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


@dataclass
class Orphan:
    """An autosave left behind by a window that did not exit cleanly."""

    slot: str
    path: Path          # the .gradplay file
    step: int
    title: str
    saved: float        # time.time() of the save
    lock: QtCore.QLockFile  # held by us while the offer is open, so no other window offers it too


def _slot_files(folder: Path, slot: str) -> tuple[Path, Path, Path]:
    return folder / f"{slot}.gradplay", folder / f"{slot}.json", folder / f"{slot}.lock"


def _remove(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:  # a read-only folder must not take the app down
            log.warning("cannot remove %s: %s", p, e)


class _SaveJob(threading.Thread):
    """Compress and atomically write one save, then its marker (zlib and file I/O release the GIL)."""

    def __init__(self, key: tuple, step: int, path: Path, marker: Path, meta: bytes, arrays: bytes,
                 marker_data: dict):
        super().__init__(name="gradplay-autosave", daemon=True)
        self.key, self.step, self.path, self.marker = key, step, path, marker
        self.meta, self.arrays, self.marker_data = meta, arrays, marker_data
        self.done = False
        self.error: str | None = None

    def run(self) -> None:
        try:
            io.atomic_write_bytes(self.path, io.pack_session(self.meta, self.arrays))
            # the marker last: it never points at a save that is not complete
            io.atomic_write_bytes(self.marker, json.dumps(self.marker_data).encode())
        except (OSError, ValueError) as e:
            self.error = f"{type(e).__name__}: {e}" if not isinstance(e, OSError) else (e.strerror or str(e))
        finally:
            self.meta = self.arrays = b""
            self.done = True


class Autosaver(QtCore.QObject):
    """Autosaves `controller.session` into this window's slot; finds and resolves orphans.

    Signals: `saved(int)` with the step count after each save; `failed(str)` when a save could not
    be written (the message is meant for the user; the app keeps running).
    """

    saved = QtCore.Signal(int)
    failed = QtCore.Signal(str)

    def __init__(self, controller, folder: str | os.PathLike | None = None, interval: float | None = None,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self.folder = Path(folder) if folder is not None else autosave_dir()
        self.interval = autosave_interval() if interval is None else float(interval)
        self.slot = f"session-{os.getpid()}-{int(time.time() * 1000)}-{next(_serial)}"
        self.path, self.marker, lock_path = _slot_files(self.folder, self.slot)
        self._saved_key: tuple | None = None  # what the file holds: (session id, step, config)
        self._job: _SaveJob | None = None
        self._finished = False
        self._failed_once = False
        self.problem = ""  # why autosave is off, for the user ("" when it works)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self.problem = f"cannot create the folder {self.folder} ({e.strerror or e})"
        self._lock = QtCore.QLockFile(str(lock_path))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        if not self.problem and not self._lock.tryLock(0):
            self.problem = f"cannot write in {self.folder}"
        self.enabled = not self.problem
        if self.problem:
            log.warning("autosave is off: %s", self.problem)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(int(self.interval * 1000))
        self._timer.timeout.connect(self.maybe_save)
        if self.enabled:
            self._timer.start()

    # ----------------------------------------------------------------- saving
    def _key(self) -> tuple:
        s = self.controller.session
        return (id(s), s.step, repr(s.config))

    def has_work(self) -> bool:
        """Whether the current session holds something worth restoring: steps, or edited settings."""
        s = self.controller.session
        return s.step > 0 or s.config != self.controller.origin_config

    def dirty(self) -> bool:
        """True when the session differs from what the slot holds (or is being written)."""
        key = self._key()
        return key != self._saved_key and not (self._job is not None and self._job.key == key)

    def busy(self) -> bool:
        """A save is being compressed and written in the background."""
        return self._job is not None and self._job.is_alive()

    def maybe_save(self) -> bool:
        """Start a save if there is unsaved work (the timer calls this); True if one was started."""
        self._collect()
        if not self.enabled or self._finished or self.busy() or not self.dirty():
            return False
        if not self.has_work():
            # Back at step 0 (Reset, a new preset): an older save would offer stale work after a crash.
            _remove(self.path, self.marker)
            self._saved_key = self._key()
            return False
        return self.save_now(block=False)

    def save_now(self, clean: bool = False, block: bool = True) -> bool:
        """Save the session: the snapshot is taken now, on this thread; the compression and the atomic
        write happen here (`block`) or in a background thread. False if the save failed (`failed` is
        emitted once) or, not blocking, could not start because a save is still being written.
        """
        if not self.enabled:
            return False
        if self.busy():
            if not block:
                return False
            self._job.join()
        self._collect()
        s = self.controller.session
        meta, arrays = io.session_files(s)  # a consistent copy; the session may train on meanwhile
        job = _SaveJob(self._key(), s.step, self.path, self.marker, meta, arrays,
                       {"format": MARKER_FORMAT, "clean": clean, "step": s.step,
                        "title": s.config["meta"].get("title", ""), "pid": os.getpid(), "saved": time.time()})
        self._job = job
        if not block:
            job.start()
            return True
        job.run()
        return self._collect()

    def wait(self) -> bool:
        """Block until a background save is written; True if the slot is now up to date."""
        if self.busy():
            self._job.join()
        self._collect()
        return not self.dirty()

    def _collect(self) -> bool:
        """Take the result of a finished save job (on the GUI thread): update state, emit signals."""
        job = self._job
        if job is None or job.is_alive() or not job.done:
            return False
        self._job = None
        if job.error:
            log.warning("autosave failed: %s", job.error)
            if not self._failed_once:  # say it once, not every interval
                self._failed_once = True
                self.failed.emit(f"Autosave failed: cannot write {self.path} ({job.error}). Training goes "
                                 f"on; save the session yourself to keep it.")
            return False
        self._failed_once = False
        self._saved_key = job.key
        self.saved.emit(job.step)
        return True

    def _stop(self) -> bool:
        """Stop the timer and wait for a save in flight; False when the slot was already finished."""
        if self._finished:
            return False
        self._timer.stop()
        if self._job is not None and self._job.is_alive():
            self._job.join()
        self._collect()
        return True

    def finish(self) -> None:
        """A clean exit: a last save (if there is work), marked clean; then the slot is released."""
        if not self._stop():
            return
        if self.enabled:
            if self.has_work():
                self.save_now(clean=True)
            else:
                _remove(self.path, self.marker)
        self._finished = True
        self._lock.unlock()

    def crash_exit(self) -> None:
        """SIGTERM/SIGINT: save what is there but leave the marker unclean, so the next launch offers it."""
        if not self._stop():
            return
        if self.enabled and self.has_work() and self.dirty():
            self.save_now(clean=False)
        self._finished = True
        self._lock.unlock()

    # ----------------------------------------------------------------- orphans
    def orphans(self) -> list[Orphan]:
        """Autosaves of windows that did not exit cleanly, newest first (their locks are now ours).

        Clean slots of finished windows are removed on the way; slots of running windows are skipped.
        """
        found: list[Orphan] = []
        if not self.enabled:
            return found
        for marker in sorted(self.folder.glob("session-*.json")):
            slot = marker.stem
            if slot == self.slot:
                continue
            path, _, lock_path = _slot_files(self.folder, slot)
            lock = QtCore.QLockFile(str(lock_path))
            lock.setStaleLockTime(0)
            if not lock.tryLock(0):
                continue  # another window is running on it
            try:
                data = json.loads(marker.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT:
                    raise ValueError("not an autosave marker")
            except (OSError, ValueError, UnicodeDecodeError):
                data = {"clean": False}  # unreadable marker: offer the file if there is one
            if data.get("clean") is not False or not path.exists():
                _remove(path, marker)
                lock.unlock()
                continue
            step = data.get("step")
            saved = data.get("saved")
            found.append(Orphan(slot, path, step if isinstance(step, int) else -1, str(data.get("title") or ""),
                                float(saved) if isinstance(saved, (int, float)) else path.stat().st_mtime, lock))
        found.sort(key=lambda o: o.saved, reverse=True)
        return found

    def discard(self, orphans: list[Orphan]) -> None:
        """Delete orphans' files and release their locks."""
        for o in orphans:
            path, marker, _ = _slot_files(self.folder, o.slot)
            # temp files of a write that a kill interrupted (io.atomic_write_bytes names them so)
            _remove(path, marker, *self.folder.glob(f".{o.slot}.*.tmp"))
            o.lock.unlock()

    def release(self, orphans: list[Orphan]) -> None:
        """Leave orphans for a later launch (the user neither restored nor discarded them)."""
        for o in orphans:
            o.lock.unlock()

    def restore(self, orphan: Orphan, others: list[Orphan] = ()) -> None:
        """Open `orphan` in the controller, save it into this window's slot, then delete the orphans.

        Raises SessionFileError when the autosave cannot be read (the orphan is then discarded).
        """
        try:
            self.controller.load_config(orphan.path)
        except SessionFileError:
            self.discard([orphan, *others])
            raise
        except Exception as e:  # anything else a damaged file provokes: never a crash loop at launch
            self.discard([orphan, *others])
            raise SessionFileError(f"{orphan.path.name} could not be opened ({type(e).__name__}: {e})") from None
        self.save_now()  # our slot has it before the orphan's copy goes
        self.discard([orphan, *others])


# --------------------------------------------------------------------------- the offer in the window
def describe(orphan: Orphan, count: int) -> str:
    when = QtCore.QDateTime.fromSecsSinceEpoch(int(orphan.saved)).toString("yyyy-MM-dd HH:mm:ss")
    title = f"“{orphan.title}”, " if orphan.title else ""
    steps = f"{orphan.step:,} steps" if orphan.step >= 0 else "an unknown number of steps"
    more = f" ({count - 1} older autosave{'s' if count > 2 else ''} will be removed either way)" if count > 1 else ""
    return (f"gradplay did not close normally last time. A session was autosaved at {when}: {title}{steps}."
            f" Restore it?{more}")


class RestoreBar(QtWidgets.QToolBar):
    """A non-modal strip under the toolbar: the orphan's description with Restore and Discard."""

    restore_clicked = QtCore.Signal()
    discard_clicked = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Restore autosave", parent)
        self.setObjectName("restore_bar")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)
        box = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(box)
        row.setContentsMargins(10, 2, 6, 2)
        self.text = QtWidgets.QLabel(wordWrap=True)
        self.text.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)
        self.restore_button = QtWidgets.QPushButton("Restore")
        self.discard_button = QtWidgets.QPushButton("Discard")
        self.restore_button.setToolTip("Continue the autosaved session where it stopped")
        self.discard_button.setToolTip("Delete the autosave and keep the session shown now")
        self.restore_button.clicked.connect(self.restore_clicked)
        self.discard_button.clicked.connect(self.discard_clicked)
        row.addWidget(self.text, 1)
        row.addWidget(self.restore_button)
        row.addWidget(self.discard_button)
        self.addWidget(box)
        self.hide()

    def offer(self, text: str) -> None:
        self.text.setText(text)
        self.show()
