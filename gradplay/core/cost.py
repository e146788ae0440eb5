"""What a config costs on this machine: memory per step, time per step, and a warning with the
estimate when a config is beyond the machine (the largest valid config, 8×256 with batch norm on
100,000 samples in one batch, took 41 s and 8.5 GB for 3 steps with no word of warning).

The step time is `config.step_seconds` (it also bounds second-order methods, so it lives there);
this module adds memory and the comparison with what the machine has.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import config, datasets, losses
from .problem import of_config as problem_of

if TYPE_CHECKING:
    from .session import Session

# Bytes per activation value of a training step: the forward pass keeps the pre-activation, the
# activation and (batch norm) the normalised value of each unit for each row, and the backward pass
# holds two more of that size. Measured with `/usr/bin/time -f %M gradplay run CFG --steps 2` on
# spiral with 8×256 + batch norm, one full batch: 1.55 GB at 16,000 rows, 3.52 GB at 40,000, that
# is 41 bytes per row and unit on top of a fixed ~0.25 GB (Python, numpy, Numba).
BYTES_PER_VALUE = 40
BASE_BYTES = 250 * 2**20
# A step slower than this leaves the window showing the same picture for longer than a person waits
# without wondering whether it hangs (the app says "Training step k…" meanwhile).
SLOW_STEP_SECONDS = 1.0
# Share of the available memory above which a config is flagged: the app also keeps the data, the
# history and the maps, and the rest of the machine needs room.
MEMORY_SHARE = 0.5


def step_bytes(cfg: dict) -> int:
    """Estimated peak bytes of a resolved dataset config's process while it trains (0 for landscapes)."""
    if not problem_of(cfg).has_data:
        return 0
    units = sum(cfg["network"]["hidden"]) + losses.output_units(
        cfg["loss"]["name"], datasets.task_info(cfg["task"]).n_classes)
    return BASE_BYTES + BYTES_PER_VALUE * units * config.batch_rows(cfg)


def available_memory() -> int | None:
    """Bytes of memory available now (Linux /proc/meminfo), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.2g} s"


def warning(cfg: dict, steps: int | None = None, free: int | None = None) -> str | None:
    """One sentence with the estimates when a resolved config is beyond this machine (None if not):
    a step slower than SLOW_STEP_SECONDS, or more memory than MEMORY_SHARE of what is available
    (`free`, read from the machine when None). `steps` adds the time for that many steps."""
    if not problem_of(cfg).has_data:
        return None
    seconds, need = config.step_seconds(cfg), step_bytes(cfg)
    free = available_memory() if free is None else free
    problems = []
    if seconds > SLOW_STEP_SECONDS:
        total = f", about {_duration(seconds * steps)} for {steps:,} steps" if steps else ""
        problems.append(f"an estimated {seconds:.2g} s per step{total}")
    if free is not None and need > MEMORY_SHARE * free:
        problems.append(f"about {need / 1e9:,.1f} GB of memory while it trains, of the {free / 1e9:,.1f} GB "
                        f"this machine has available")
    if not problems:
        return None
    return (f"This network ({config.n_params(cfg):,} parameters on batches of {config.batch_rows(cfg):,} "
            f"samples) needs {' and '.join(problems)}. A smaller batch ('training.batch_size'), fewer "
            f"samples or a smaller network brings it within reach.")


def arrays_problem(session: Session, steps: int) -> str | None:
    """Why a headless run's per-step arrays would not fit in memory (None if they do): `--steps
    60000000` reached 6.5 GB in 14 s before failing; now the estimate is checked first."""
    if session.problem.traces_path:
        per_step = 8 * 3  # trajectory (x, y) and loss
    else:
        sampled = [b for b in session.batch_sizes_ahead() if b < session.n_train]
        per_step = 8 * (1 + session.n_layers + (max(sampled) if sampled else 0))
    need = steps * per_step * 2  # the arrays, and their copy into arrays.npz
    free = available_memory()
    if free is None or need <= 0.8 * free:
        return None
    return (f"not enough memory: --steps {steps:,} needs about {need / 1e9:,.1f} GB for its per-step arrays "
            f"(loss, gradient norms{', trajectory' if session.problem.traces_path else ', batch indices'}); "
            f"this machine has {free / 1e9:,.1f} GB available: run fewer steps")


def beyond_memory(cfg: dict, free: int | None = None) -> bool:
    """The config's training step would not fit in the available memory at all (90 % of it)."""
    free = available_memory() if free is None else free
    return free is not None and step_bytes(cfg) > 0.9 * free
