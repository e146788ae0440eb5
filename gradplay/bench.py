"""`gradplay bench`: headless engine throughput, memory after a long run and start-up cost.

Each config trains on a Session as the app does (`session.run(k)`): after a warm-up, the median of
several timed runs gives optimizer steps per second, on the fast path (the session's default) and on
the numpy reference path (`Session(config, fast=False)`), whose results are the same bit for bit.
The headless run (`gradplay run`, which also records every step's arrays and writes them) is timed
from outside, as a script would see it: two runs of different lengths, so start-up cancels.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import __version__
from .core import config as configs
from .core import fast
from .core.session import Session


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    raw: dict
    target: float | None     # steps/s the issue asks for (None: no target)
    steps: int               # steps per timed run (full mode); the numpy path runs a tenth


CASES = (
    Case("a", "spiral 2-8-8-1 tanh, batch 10, Adam, bce",
         {"task": {"name": "spiral"}, "network": {"hidden": [8, 8], "activation": "tanh"},
          "loss": {"name": "bce"}, "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 10}},
         500_000, 100_000),
    Case("b", "spiral 2-16-16-16-1 relu, batch 32, SGD momentum",
         {"task": {"name": "spiral"}, "network": {"hidden": [16, 16, 16], "activation": "relu"},
          "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}, "training": {"batch_size": 32}},
         None, 30_000),
    Case("c", "spiral 2-64-64-64-64-1 relu, batch 128, Adam",
         {"task": {"name": "spiral"}, "network": {"hidden": [64, 64, 64, 64], "activation": "relu"},
          "optimizer": {"name": "adam", "lr": 0.001}, "training": {"batch_size": 128}},
         4_500, 2_000),
    Case("d", "rosenbrock, Adam",
         {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.01}},
         100_000, 100_000),
)
MEMORY_STEPS = 1_000_000
HEADLESS_STEPS = (10_000, 210_000)   # the two `gradplay run` lengths (quick: a quarter of the difference)
HEADLESS_TARGET = 0.9                # of the engine's in-process rate on the same config


def _rss_mb() -> float:
    """Resident set size now, in MB (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


def _rate(cfg: dict, fast_path: bool, steps: int, repeats: int) -> tuple[list[float], list[float], str]:
    """Steps per second of `repeats` timed runs of `steps` steps after a warm-up, by the wall clock
    and per second of this process's CPU time (which other programs on the machine do not slow);
    and the path the session took."""
    s = Session(cfg, fast=fast_path)
    s.run(max(100, steps // 5))  # warm-up: caches, first permutations, branch predictors
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        done = s.run(steps)
        t1, c1 = time.perf_counter(), time.process_time()
        wall.append(done / (t1 - t0))
        cpu.append(done / max(c1 - c0, 1e-9))
        if s.halted:
            raise RuntimeError(f"benchmark config halted: {s.halted}")
    return wall, cpu, s.engine


def _headless_rate(cfg: dict, quick: bool) -> dict[str, Any]:
    """Steps per second of `gradplay run CONFIG --steps N` in a fresh process, from the difference of
    two run lengths (start-up, compile-cache loading and the config's data cancel); the median of
    three differences, and of their ratios to the engine's in-process rate measured before each."""
    small, big = HEADLESS_STEPS
    if quick:
        big = small + (big - small) // 4
    rates = []
    with tempfile.TemporaryDirectory(prefix="gradplay-bench-") as tmp:
        path = os.path.join(tmp, "config.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(configs.dumps(cfg))

        def seconds(steps: int) -> float:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "gradplay", "run", path, "--steps", str(steps),
                            "--out", os.path.join(tmp, f"run{steps}"), "--quiet"], check=True)
            return time.perf_counter() - t0

        # This machine's speed drifts by up to 2x within minutes, so each difference is set against
        # the engine's rate measured just before it (a ratio of rates taken minutes apart ranged
        # from 62 % to 168 %).
        ratios = []
        for _ in range(3):
            engine = statistics.median(_rate(cfg, True, big - small, 1)[0])
            rates.append((big - small) / (seconds(big) - seconds(small)))
            ratios.append(rates[-1] / engine)
    return {"steps": [small, big], "steps_per_s": statistics.median(rates), "runs": rates,
            "of_engine": statistics.median(ratios), "of_engine_runs": ratios}


def _import_seconds(runs: int) -> float:
    """Median wall time to import the engine (gradplay.core.session) in a fresh interpreter."""
    code = ("import time; t = time.perf_counter(); import gradplay.core.session; "
            "print(time.perf_counter() - t)")
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def _blas_threads() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(counts) if counts else None


def run_bench(quick: bool = False) -> dict[str, Any]:
    """All measurements as a JSON-ready dict (see `format_table` for the fields)."""
    repeats = 5 if quick else 7
    scale = 10 if quick else 1
    t0 = time.perf_counter()
    # Nothing waits for the compiler: on a cold cache a child compiles the kernels while the numpy
    # reference path is measured (it is measured first in any case).
    child = None
    if fast.requested() and not fast.cache_warm():
        print("gradplay bench: compiling the engine's kernels in the background (the first run on this "
              "machine; ~20 s) while the numpy path is measured", file=sys.stderr)
        child = fast.compile_in_child()
    ref = {case.key: _rate(configs.resolve(case.raw), False, max(20, case.steps // scale // 10), repeats)[0]
           for case in CASES}
    if child is not None:
        child.wait()
    jit_ok = fast.ensure(block=True) if fast.requested() else False
    jit = dict(fast.status(), enabled=fast.requested(), ready_s=time.perf_counter() - t0,
               compiled_in_child=child is not None)
    results = []
    for case in CASES:
        cfg = configs.resolve(case.raw)
        steps = max(50, case.steps // scale)
        rates, cpu_rates, engine = _rate(cfg, True, steps, repeats)
        ref_rates = ref[case.key]
        rate = statistics.median(rates)
        results.append({
            "id": case.key, "label": case.label, "config": cfg, "engine": engine,
            "steps_per_run": steps, "repeats": repeats, "steps_per_s": rate, "runs": rates,
            "steps_per_cpu_s": statistics.median(cpu_rates),
            "numpy_steps_per_s": statistics.median(ref_rates), "target": case.target,
            "meets_target": None if case.target is None else rate >= case.target})
    # the headless run of (a), each against the engine's rate on it measured just before
    headless = _headless_rate(configs.resolve(CASES[0].raw), quick) | {"config": "a"}
    headless["target"] = HEADLESS_TARGET
    headless["meets_target"] = headless["of_engine"] >= HEADLESS_TARGET
    # memory: one long run of (a); the history keeps a fixed number of rows, whatever the length
    mem_steps = MEMORY_STEPS // scale
    s = Session(configs.resolve(CASES[0].raw))
    rss0 = _rss_mb()
    s.run(mem_steps // 10)
    rss_tenth = _rss_mb()
    s.run(mem_steps - mem_steps // 10)
    memory = {"config": "a", "steps": s.step, "rss_mb": _rss_mb(), "rss_mb_at_10pct": rss_tenth,
              "rss_mb_before": rss0, "history_rows": len(s.history), "history_capacity": s.history.capacity}
    startup = {"import_engine_s": _import_seconds(1 if quick else 3), "jit_ready_s": jit["ready_s"]}
    return {
        "gradplay": __version__, "python": platform.python_version(), "numpy": np.__version__,
        "numba": _numba_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "blas_threads": _blas_threads(), "quick": quick, "jit": jit | {"ok": jit_ok},
        "configs": results, "headless": headless, "memory": memory, "startup": startup,
    }


def _numba_version() -> str | None:
    try:
        import numba
    except ImportError:
        return None
    return numba.__version__


def format_table(r: dict[str, Any]) -> str:
    """The readable report printed by `gradplay bench`."""
    lines = [f"gradplay {r['gradplay']} engine benchmark — Python {r['python']}, numpy {r['numpy']}, "
             f"numba {r['numba'] or 'not installed'}, {r['cpus']} CPUs, BLAS threads {r['blas_threads']}"
             f"{' (--quick)' if r['quick'] else ''}",
             "optimizer steps per second (wall clock, and per second of this process's CPU time), median "
             f"of {r['configs'][0]['repeats']} timed runs after a warm-up; numpy ref: the reference path",
             ""]
    head = f"{'config':54s} {'path':>9s} {'steps/s':>10s} {'per CPU-s':>10s} {'numpy ref':>10s} {'target':>9s}"
    lines += [head, "-" * len(head)]
    for c in r["configs"]:
        target = "—" if c["target"] is None else f"≥{c['target']:,.0f}"
        mark = "" if c["meets_target"] is None else ("  ok" if c["meets_target"] else "  below")
        lines.append(f"({c['id']}) {c['label']:50s} {c['engine']:>9s} {c['steps_per_s']:>10,.0f} "
                     f"{c['steps_per_cpu_s']:>10,.0f} {c['numpy_steps_per_s']:>10,.0f} {target:>9s}{mark}")
    m, st, j, h = r["memory"], r["startup"], r["jit"], r["headless"]
    lines += ["",
              f"headless run: `gradplay run` of ({h['config']}) records and writes every step at "
              f"{h['steps_per_s']:,.0f} steps/s ({h['steps'][1]:,} minus {h['steps'][0]:,} steps, timed "
              f"from outside), {h['of_engine']:.0%} of the engine's rate measured just before each "
              f"(median of {len(h['runs'])}); target ≥{h['target']:.0%}"
              f"{'  ok' if h['meets_target'] else '  below'}",
              f"memory: RSS {m['rss_mb']:.0f} MB after {m['steps']:,} steps of (a) "
              f"({m['rss_mb_at_10pct']:.0f} MB at 10%, {m['rss_mb_before']:.0f} MB before); history "
              f"{m['history_rows']:,} rows of at most {m['history_capacity']:,}",
              f"start-up: import of the engine {st['import_engine_s'] * 1000:.0f} ms (fresh interpreter); "
              f"compiled kernels ready {st['jit_ready_s']:.2f} s after the start"
              f"{' (compiled in a child while the numpy path was measured)' if j.get('compiled_in_child') else ''} "
              f"({'disabled by GRADPLAY_JIT' if not j['enabled'] else j['status']}"
              f"{': ' + j['error'] if j.get('error') else ''})"]
    return "\n".join(lines)


def main(as_json: bool = False, quick: bool = False) -> int:
    result = run_bench(quick=quick)
    print(json.dumps(result, indent=2) if as_json else format_table(result))
    return 0
