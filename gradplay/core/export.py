"""Histories as CSV: one row per recorded step, one column per number, readable by any spreadsheet.

`history_csv` writes the session's bounded history (`Session.history`): the rows are the steps it
kept, so after a long run the past is thinned (see `history.History`) and the `step` column says
which steps they are. Per-layer columns are expanded to one column per layer (`grad_norm_layer1`,
`grad_norm_layer2`, ...); a landscape has no layers, so its columns keep their plain names and add
the point `x`, `y` at which the step started. `evals_csv` writes the full-set evaluations
(train/test loss and accuracy) taken on the session so far. `timeline_csv` writes the run's edits
(core/timeline.py): one row per changed key, with the step from which it holds.

Numbers are written with `repr`, the shortest text that reads back as the same float64, so
`float(cell)` recovers every value exactly; non-finite values are written `nan`, `inf`, `-inf`.
"""
from __future__ import annotations

import csv
import io as _io
from pathlib import Path

import numpy as np

from .history import History
from .io import atomic_write_bytes

HISTORY_FILE = "history.csv"
EVALS_FILE = "evals.csv"
TIMELINE_FILE = "timeline.csv"


# Columns that hold one value per layer (see Session._build).
_PER_LAYER = ("grad_norm", "weight_norm", "update_ratio")


def _column_names(history: History, name: str, n_layers: int, layered: bool) -> list[str]:
    """CSV header names for one history column: per-layer columns get a `_layer<i>` suffix."""
    if layered and name in _PER_LAYER:
        return [f"{name}_layer{i + 1}" for i in range(n_layers)]
    width = history.columns[name]
    return [name] if width == 1 else [f"{name}_{i + 1}" for i in range(width)]


def history_columns(session) -> list[str]:
    """The header of `history_csv(session)`: "step", then every column with per-layer ones expanded."""
    layered = session.problem.has_layers
    names = ["step"]
    for name in session.history.columns:
        names += _column_names(session.history, name, session.n_layers, layered)
    return names


def _table_csv(header: list[str], steps: np.ndarray, blocks: list[np.ndarray]) -> str:
    """CSV text: the header, then one row per step; `blocks` are (n, k) float arrays side by side."""
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    table = np.column_stack(blocks) if blocks else np.empty((len(steps), 0))
    for step, row in zip(steps.tolist(), table.tolist()):  # tolist(): Python floats, whose repr round-trips
        w.writerow([step] + [repr(v) for v in row])
    return buf.getvalue()


def _history_table(history: History, header: list[str]) -> str:
    n = len(history)
    blocks = [history.get(name).reshape(n, width) for name, width in history.columns.items()]
    return _table_csv(header, history.get_steps(), blocks)


def history_csv(session) -> str:
    """The session's recorded per-step history as CSV text, one row per kept step, oldest first.

    Columns: step, loss, lr, grad_norm_layer1..L, weight_norm_layer1..L, update_ratio_layer1..L for
    dataset sessions (L = number of dense layers); landscapes have grad_norm, weight_norm,
    update_ratio (of the point (x, y)) and x, y, the point before the step.
    """
    return _history_table(session.history, history_columns(session))


def evals_csv(session) -> str:
    """Full-set evaluations as CSV text: step, train_loss, test_loss, train_acc, test_acc.

    Accuracy is `nan` where it is not defined (regression); a landscape records no evaluations, so
    its file has the header only.
    """
    ev = session.evals
    return _history_table(ev, ["step", *ev.columns])


def timeline_csv(session) -> str:
    """The run's edit timeline as CSV text: step, key, value, origin (config or app), restart.

    One row per changed "section.key"; values are written as JSON (strings quoted, lists in
    brackets), so `json.loads(cell)` gives each back as the config holds it."""
    import json

    from .timeline import changes

    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "key", "value", "origin", "restart"])
    for entry in session.timeline:
        for key, value in changes(entry).items():
            w.writerow([entry["step"], key, json.dumps(value), entry.get("origin", "config"),
                        "true" if entry.get("restart") else "false"])
    return buf.getvalue()


def write_history_csv(session, path: str | Path) -> Path:
    """Write `history_csv(session)` to `path` atomically (a failed write leaves any old file intact)."""
    path = Path(path)
    atomic_write_bytes(path, history_csv(session).encode("utf-8"))
    return path


def write_evals_csv(session, path: str | Path) -> Path:
    """Write `evals_csv(session)` to `path` atomically."""
    path = Path(path)
    atomic_write_bytes(path, evals_csv(session).encode("utf-8"))
    return path


def write_contract_csvs(session, out_dir: str | Path) -> dict[str, Path]:
    """Write `history.csv`, `evals.csv` and `timeline.csv` into `out_dir` (created if needed);
    returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / TIMELINE_FILE
    atomic_write_bytes(path, timeline_csv(session).encode("utf-8"))
    return {"history": write_history_csv(session, out / HISTORY_FILE),
            "evals": write_evals_csv(session, out / EVALS_FILE), "timeline": path}
