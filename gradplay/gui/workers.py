"""Long computations off the GUI thread: a weight-space slice, a gradient check on a big network.

`start(fn, *args)` runs `fn(*args, progress=report)` on Qt's global thread pool and returns a `Job`
whose signals arrive in the GUI thread (queued): `progress(done, total)`, `finished(result)`,
`failed(message)` and `cancelled()`. `report(done, total)` returns False once `Job.cancel()` was
called; functions that take a progress callback (weightspace.network_slice) stop there, and for
those that cannot stop early the result is dropped, so a cancelled job never reaches the view.

The engine mutates the session it trains in place, and the window keeps training while a job runs,
so a job must never touch the live session: `detached(session)` gives a frozen copy (own weights,
caches, batch-norm statistics, tables and batch order; the dataset arrays, which training never
writes, are shared).
"""
from __future__ import annotations

import threading
import traceback
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore

if TYPE_CHECKING:
    from ..core.session import Session


class Job(QtCore.QObject):
    """One background computation. The worker thread posts what happens to this object, which
    lives in the GUI thread and re-emits it there (`progress`, `finished`, `failed`, `cancelled`)
    unless the job was abandoned meanwhile."""

    progress = QtCore.Signal(int, int)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()
    _posted = QtCore.Signal(str, object)  # (signal name, arguments), from the worker thread

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._abandoned = False
        self._posted.connect(self._deliver)

    def _post(self, name: str, *args: Any) -> None:
        self._posted.emit(name, args)

    def _deliver(self, name: str, args: tuple) -> None:
        # Runs in the GUI thread, in order: a result queued before `abandon` is dropped here,
        # where disconnecting would not reach calls already queued.
        if not self._abandoned:
            getattr(self, name).emit(*args)

    def cancel(self) -> None:
        """Ask the computation to stop; `cancelled` follows (instead of `finished`)."""
        self._cancel.set()

    def abandon(self) -> None:
        """Cancel, and let nothing the job still reports reach its receivers (the caller has
        moved on, e.g. to a new job of the same kind)."""
        self._abandoned = True
        self.cancel()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker returned (tests; the GUI never waits)."""
        return self._done.wait(timeout)

    def report(self, done: int, total: int) -> bool:
        """The progress callback handed to the computation: False means "stop now"."""
        if self._cancel.is_set():
            return False
        self._post("progress", int(done), int(total))
        return True


class _Runnable(QtCore.QRunnable):
    def __init__(self, job: Job, fn: Callable[..., Any], args: tuple, kwargs: dict):
        super().__init__()
        self.job, self.fn, self.args, self.kwargs = job, fn, args, kwargs
        self.setAutoDelete(True)

    def run(self) -> None:
        job = self.job
        try:
            result = self.fn(*self.args, progress=job.report, **self.kwargs)
        except Exception as e:  # noqa: BLE001 (shown to the user, not swallowed)
            job._done.set()
            if not job.is_cancelled:
                job._post("failed", f"{type(e).__name__}: {e}")
                traceback.print_exc()
            else:
                job._post("cancelled")
            return
        job._done.set()
        if job.is_cancelled or getattr(result, "cancelled", False):
            job._post("cancelled")
        else:
            job._post("finished", result)


_active: weakref.WeakSet[Job] = weakref.WeakSet()
_hooked = False


def cancel_all() -> None:
    """Ask every running job to stop (the application is quitting)."""
    for job in list(_active):
        job.cancel()


def start(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
    """Run fn(*args, progress=job.report, **kwargs) in the thread pool; returns the Job at once.

    The Job has no Qt parent: the caller keeps it (a panel closed meanwhile then loses only its
    connections, which Qt drops with the receiver). Jobs still running at quit are cancelled."""
    global _hooked
    app = QtCore.QCoreApplication.instance()
    if app is not None and not _hooked:
        app.aboutToQuit.connect(cancel_all)
        _hooked = True
    job = Job()
    _active.add(job)
    QtCore.QThreadPool.globalInstance().start(_Runnable(job, fn, args, kwargs))
    return job


def detached(session: Session) -> Session:
    """A frozen copy of a session for a background computation: its own training state (model with
    its caches and running statistics, tables, batch order, random streams), the config and data
    shared read-only, and nobody subscribed to it; training the live session leaves it alone."""
    return session.clone(caches=True)
