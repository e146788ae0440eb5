"""Fast paths for `Session`'s training loop that give bit-identical results to the numpy reference.

At the engine's sizes a step is a few hundred tiny numpy calls, and their per-call cost, not the
arithmetic, sets the speed. Two fast paths remove it without changing a single bit:

- dataset tasks: a Numba-compiled loop (`mlp.train`) that performs the same operations in the same
  order and calls the same native routines numpy calls (its OpenBLAS for products, its own ufunc
  loops for tanh/exp/log1p/...; see `native.py`), many steps per call;
- landscape tasks: a Python loop over two floats (`loop.run_landscape`), which is the same IEEE
  arithmetic as numpy's on 2-element arrays.

Newton and L-BFGS (they evaluate an Objective) always take the numpy path.

Switches: the environment variable GRADPLAY_JIT=0 (or Session(config, fast=False)) selects the
numpy reference everywhere. The compiled code is cached on disk (Numba `cache=True`); the first
compile takes seconds, a cached load well under one. Until the kernels are ready a session trains
on the numpy path; since both paths agree bit for bit, switching in the middle of a run is harmless.
Nothing waits for the compiler. Headless, when the on-disk cache is known to be warm (a marker
written after the last successful compile, see `cache_warm`), the first dataset run loads the kernels
synchronously (~0.3 s). On a cold cache a child process compiles them (~20 s, measured on the
2-core VM) while the run goes on on the numpy path, and the run switches to the kernels once the
child has filled the cache: `gradplay run spiral_tanh --steps 2000` took 26 s on a cold cache when
it waited, and the numpy path alone finishes it in well under a second. A run that ends first leaves
the child to finish (it holds a lock, so runs started meanwhile do not compile again); the next run
finds the cache warm. The app (`gui_process()`) trains on numpy until it calls `warm_up()`, which
loads or compiles the kernels in a background thread.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..problem import LandscapeProblem

if TYPE_CHECKING:
    from ..session import Session

_lock = threading.Lock()
_state: dict[str, Any] = {"status": "cold", "error": None, "fp": None, "seconds": None, "thread": None,
                          "child": None, "polled": 0.0, "gui": False}
_blas_limited = False
POLL_SECONDS = 0.05  # how often a headless run looks whether the compiling child has finished


def requested() -> bool:
    """False when GRADPLAY_JIT is 0/false/no/off: every session then trains on the numpy path."""
    return os.environ.get("GRADPLAY_JIT", "1").strip().lower() not in ("0", "false", "no", "off")


def status() -> dict[str, Any]:
    """{"status": cold | compiling | ready | failed, "error": str | None, "seconds": load/compile time}."""
    return {k: _state[k] for k in ("status", "error", "seconds")}


def ready() -> bool:
    return _state["status"] == "ready"


def limit_blas_threads() -> None:
    """Use one BLAS thread in this process (once; a no-op without threadpoolctl).

    The engine's matrices are at most 256 wide: OpenBLAS's threads only add synchronisation, and
    when the other core is busy (drawing the GUI) they wait for it. Measured on 2 cores with a busy
    neighbour: config (c) 222 steps/s with two threads, 1,700 with one. Setting it at run time with
    threadpoolctl works whatever imported numpy first, unlike OPENBLAS_NUM_THREADS.
    """
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


def _compile() -> None:
    """Import Numba, load (or compile) the kernels and check them against numpy on a tiny case."""
    t0 = time.perf_counter()
    try:
        import numpy as np

        from . import mlp, native, prims

        fp = native.pointers()
        _warm(mlp)
        # Self-check: the borrowed routines must reproduce numpy exactly, or we stay on numpy.
        rng = np.random.default_rng(0)
        x = rng.normal(size=37) * 4
        y = np.empty_like(x)
        sc = np.zeros(8, dtype=np.int64)
        for index, ufunc, arg in ((prims.F_TANH, np.tanh, x), (prims.F_EXP, np.exp, x),
                                  (prims.F_LOG1P, np.log1p, abs(x)), (prims.F_EXPM1, np.expm1, x),
                                  (prims.F_LOG, np.log, abs(x))):
            prims.ufunc1(fp[index], arg, 0, y, 0, x.size, sc)
            if not np.array_equal(y, ufunc(arg)):
                raise RuntimeError(f"numpy's {ufunc.__name__} loop gave other results; using the numpy path")
        _self_check(fp)
        _state.update(status="ready", fp=fp, seconds=time.perf_counter() - t0)
        _mark_warm(mlp)
    except Exception as e:  # no Numba, another BLAS, an unexpected numpy layout: numpy path
        _state.update(status="failed", error=f"{type(e).__name__}: {e}", seconds=time.perf_counter() - t0)


def _self_check(fp) -> None:
    """Train a small network both ways for a few dozen steps; any differing bit disables the kernels
    (a numpy release that changed its summation order or BLAS dispatch would be caught here)."""
    import numpy as np

    from .. import config
    from ..session import Session
    from .loop import MLPLoop

    cfg = config.resolve({"task": {"name": "spiral", "n_samples": 60}, "loss": {"name": "cross_entropy"},
                          "network": {"hidden": [5, 1, 3], "activation": "gelu", "batch_norm": True,
                                      "dropout": [0.3, 0.0, 0.5]},
                          "optimizer": {"name": "adam", "lr": 0.05}, "seed": 1,
                          "training": {"batch_size": 16, "clip_norm": 1.0, "l1": 1e-3, "l2": 1e-3}})
    ref, got = Session(cfg, fast=False), Session(cfg, fast=False)
    ref.run(40)
    MLPLoop(got, fp).run(got, 40)
    if not (np.array_equal(ref.theta, got.theta) and np.array_equal(ref.history.get("loss"), got.history.get("loss"))
            and np.array_equal(ref.history.get("update_ratio"), got.history.get("update_ratio"))):
        raise RuntimeError("the compiled loop differs from the numpy reference here; using the numpy path")


def _warm(mlp) -> None:
    """Call the kernel for zero steps on arguments of the real types, which compiles or loads it."""
    import numpy as np

    f, i = np.zeros(4), np.zeros(4, dtype=np.int64)
    f2, i2 = np.zeros((1, 1)), np.zeros((1, 4), dtype=np.int64)
    iv = np.zeros(mlp.I_SIZE, dtype=np.int64)
    lay, wo = np.zeros((1, mlp.L_SIZE), dtype=np.int64), np.zeros((1, mlp.W_SIZE), dtype=np.int64)
    wg, sc = np.zeros(mlp.G_SIZE, dtype=np.int64), np.zeros(8, dtype=np.int64)
    mlp.train(0, iv, np.zeros(mlp.F_SIZE), i, f, f, f, lay, wo, f, wg, i, f, f, f, i, i2, i, f, f, f, f,
              i, f, f, f2, f2, f2, f, sc, f, np.zeros(1, dtype=np.uint64))


def ensure(block: bool = True) -> bool:
    """Make the kernels ready; with block=False start a background compile and return at once."""
    if _state["status"] in ("ready", "failed"):
        return _state["status"] == "ready"
    with _lock:
        if _state["status"] == "cold":
            if block:
                _state["status"] = "compiling"
                _compile()
                return ready()
            _state["status"] = "compiling"
            t = threading.Thread(target=_compile, name="gradplay-jit", daemon=True)
            _state["thread"] = t
            t.start()
            return False
    t = _state["thread"]
    if block and t is not None:
        t.join()
    return ready()


def gui_process() -> None:
    """Called by the app: sessions of this process never load or compile the kernels themselves (the
    app starts that with `warm_up()` or a child process) and train on numpy until they are ready."""
    _state["gui"] = True


def warm_up() -> None:
    """Start loading/compiling the kernels in the background (for a GUI: call before showing)."""
    ensure(block=False)


# ----------------------------------------------------------------------------- the on-disk cache
def _cache_key() -> str:
    """What the cached kernels depend on: these sources, and the installed Numba, llvmlite and numpy
    (each by its __init__.py's path, size and mtime, which an upgrade changes), the Python and
    NUMBA_CACHE_DIR. Found without importing anything (importlib.metadata took 44 ms here)."""
    from importlib.util import find_spec

    files = sorted(Path(__file__).parent.glob("*.py"))
    for name in ("numba", "llvmlite", "numpy"):
        spec = find_spec(name)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    parts: list[Any] = [sys.version, sys.platform, os.environ.get("NUMBA_CACHE_DIR", "")]
    for src in files:
        st = src.stat()
        parts.append((str(src.resolve()), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]


def _marker_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gradplay" / "jit"


def _marker() -> Path:
    return _marker_dir() / f"{_cache_key()}.json"


def _mark_warm(mlp) -> None:
    """After a successful compile or load: note where Numba keeps the kernel's cache index, so
    `cache_warm` can tell without importing Numba. Best effort: no marker only means the next cold
    start compiles in a child process instead of loading at once."""
    try:
        cache = mlp.train._cache
        index = Path(cache._cache_path) / cache._cache_file._index_name
        marker = _marker()
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"index": str(index)}))
        os.replace(tmp, marker)
    except Exception:  # a read-only home, a Numba without these attributes: no marker
        pass


def cache_warm() -> bool:
    """True if this machine's cache holds the kernels for these sources and versions (a load then
    takes ~0.3 s instead of a ~20 s compile). Cheap: reads one small file, imports nothing."""
    try:
        index = Path(json.loads(_marker().read_text())["index"])
        return index.is_file()
    except (OSError, ValueError, KeyError, TypeError):
        return False


class Detached:
    """A child process started to outlive its parent: poll() and wait() as subprocess.Popen's, but no
    Popen object, whose finaliser prints "ResourceWarning: subprocess N is still running" when a
    short run exits before the compile it started (which is the point of starting it)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def _reap(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = 0
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self._reap(os.WNOHANG)

    def wait(self, timeout: float | None = None) -> int | None:
        if timeout is None:
            return self._reap(0)
        end = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired(sys.executable, timeout)
            time.sleep(0.05)
        return self.returncode


def compile_in_child() -> Detached | subprocess.Popen | None:
    """Start a child process that fills the on-disk cache (`gradplay.core.fast._child_main`).

    The child outlives a run that ends before it, so the next run finds the cache warm; it takes
    a lock, so runs started meanwhile wait for its marker instead of compiling again. None if the
    child cannot be started (the caller then stays on numpy)."""
    argv = [sys.executable, "-c", "from gradplay.core import fast; fast._child_main()"]
    try:
        if hasattr(os, "posix_spawn"):
            quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY, 0)
                     for fd in (0, 1, 2)]
            # setsid: Ctrl+C on the run does not kill a half-done compile
            return Detached(os.posix_spawn(sys.executable, argv, os.environ, file_actions=quiet, setsid=True))
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except OSError:
        return None


def _child_main() -> None:
    """Body of the compiling child: compile under an exclusive lock, unless another child holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: compile without a lock
        ensure()
        return
    try:
        os.nice(5)  # the parent's numpy run and the GUI come first
    except OSError:
        pass
    _marker_dir().mkdir(parents=True, exist_ok=True)
    with open(_marker_dir() / f"{_cache_key()}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process is compiling these kernels right now
            return
        ensure()


def _compiler_busy() -> bool:
    """True while any process holds the compile lock for these kernels."""
    try:
        import fcntl
    except ImportError:
        return False
    path = _marker_dir() / f"{_cache_key()}.lock"
    try:
        with open(path) as lock:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False


def _numba_importable() -> bool:
    """Whether this interpreter could import Numba (without importing it: that takes ~0.3 s)."""
    if "numba" in sys.modules:
        return sys.modules["numba"] is not None
    from importlib.util import find_spec

    try:
        return find_spec("numba") is not None
    except (ImportError, ValueError):
        return False


def _headless_ready() -> bool:
    """For a process without Qt: load the kernels now if the cache is warm; otherwise have a child
    compile them and report False (train on numpy) until its marker appears."""
    if _state["status"] != "cold":
        return ensure(block=_state["thread"] is None)
    if _state["child"] is None:
        if cache_warm() or not _numba_importable():  # load at once, or fail at once
            return ensure(block=True)
        _state["child"] = compile_in_child() or False
        _state["polled"] = time.monotonic()
        return False
    now = time.monotonic()
    if now - _state["polled"] < POLL_SECONDS:
        return False
    _state["polled"] = now
    child = _state["child"]
    if cache_warm():
        return ensure(block=True)
    if child is False or (child.poll() is not None and not _compiler_busy()):
        # no child, or it ended without a marker and nobody else is compiling: the compile failed
        # (no Numba here?) or the marker cannot be written; find out in-process, as before
        return ensure(block=True)
    return False


def runner(session: Session):
    """A callable (session, n) -> steps done for this session's fast path, or None for numpy."""
    if not (session.fast and requested()) or session.optimizer.needs_objective:
        return None
    from . import loop

    if session.optimizer.name not in loop.OPT:  # an optimizer without a kernel trains on numpy
        return None

    if isinstance(session.problem, LandscapeProblem):
        return loop.run_landscape
    if session._mlp_loop is None:
        if not ready():
            # The app never blocks its event loop on a compile: it trains on numpy until the
            # kernels are ready, and compiles only once it has asked for it with warm_up().
            if _state["status"] == "cold" and _state["gui"]:
                return None
            if not _headless_ready():
                return None
        session._mlp_loop = loop.MLPLoop(session, _state["fp"])
    return session._mlp_loop.run
