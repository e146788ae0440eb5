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
Headless, the first dataset run loads or compiles the kernels synchronously. A Qt process never
waits: it trains on numpy until it calls `warm_up()`, which loads or compiles them in a background
thread, and switches to the kernels once they are ready.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..session import Session

_lock = threading.Lock()
_state: dict[str, Any] = {"status": "cold", "error": None, "fp": None, "seconds": None, "thread": None}
_blas_limited = False


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
                          "network": {"hidden": [5, 1, 3], "activation": "gelu", "batch_norm": True},
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
    f2 = np.zeros((1, 1))
    iv = np.zeros(mlp.I_SIZE, dtype=np.int64)
    lay, wo = np.zeros((1, 9), dtype=np.int64), np.zeros((1, 8), dtype=np.int64)
    wg, sc = np.zeros(mlp.G_SIZE, dtype=np.int64), np.zeros(8, dtype=np.int64)
    mlp.train(0, iv, np.zeros(mlp.F_SIZE), i, f, f, f, lay, wo, f, wg, i, f, f, f, i, i, i, f, f, f, f,
              i, f, f, f2, f2, f2, f, sc)


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


def warm_up() -> None:
    """Start loading/compiling the kernels in the background (for a GUI: call before showing)."""
    ensure(block=False)


def runner(session: "Session"):
    """A callable (session, n) -> steps done for this session's fast path, or None for numpy."""
    if not (session.fast and requested()) or session.optimizer.needs_objective:
        return None
    from . import loop

    if session.kind == "function":
        return loop.run_landscape
    if session._mlp_loop is None:
        if not ready():
            # A Qt process never blocks its event loop on a compile: it trains on numpy until the
            # kernels are ready, and compiles only once it has asked for it with warm_up().
            if _state["status"] == "cold" and "PySide6" in sys.modules:
                return None
            if not ensure(block=_state["thread"] is None):
                return None
        session._mlp_loop = loop.MLPLoop(session, _state["fp"])
    return session._mlp_loop.run
