"""A bounded record of per-step values.

Training in the GUI may run for millions of steps, so the history cannot grow with the step count.
It keeps one preallocated table of `capacity` rows; when the table fills, a quarter of the rows go,
those where the record is densest for their age (the gap to their neighbours over their age). The
spacing of the rows therefore tends to grow in proportion to age: the newest steps stay at full
resolution and every stretch of the past keeps a share of rows in proportion to its log-length
(after 1,000,000 steps, about 400 of 8192 rows cover the first half of the run), so a curve over the
whole run keeps its shape. Memory stays at `capacity` rows per column whatever the run length.
Thinning halving the older half at each fill, as before, left the first half of a long run to a
handful of rows.
"""
from __future__ import annotations

import numpy as np


class History:
    """Rows of (step, columns...) with bounded memory.

    columns: name -> width (1 for a scalar column, L for a per-layer column).
    """

    def __init__(self, columns: dict[str, int], capacity: int = 8192):
        if capacity < 16 or capacity % 2:
            raise ValueError("capacity must be an even number >= 16")
        self.columns = dict(columns)
        self.capacity = capacity
        self.n = 0
        self.steps = np.zeros(capacity, dtype=np.int64)
        self.data = {k: np.zeros((capacity, w) if w > 1 else capacity) for k, w in self.columns.items()}

    def __len__(self) -> int:
        return self.n

    def append(self, step: int, **values) -> None:
        """Add one row; every column must be given (scalars, or arrays of the column's width)."""
        if self.n == self.capacity:
            self._thin()
        i = self.n
        self.steps[i] = step
        for k, v in values.items():
            self.data[k][i] = v
        self.n = i + 1

    def replace_last(self, **values) -> None:
        """Overwrite the newest row's values (its step stays): the same step after a hand edit."""
        if self.n == 0:
            raise IndexError("replace_last on an empty History")
        for k, v in values.items():
            self.data[k][self.n - 1] = v

    def _thin(self) -> None:
        """Drop a quarter of the rows, those densest for their age (see the module docstring).

        Only odd rows are candidates, so no two neighbours go and the first and newest rows stay;
        the choice depends on the recorded steps alone, so every training path thins alike.
        """
        n = self.n
        steps = self.steps[:n]
        cand = np.arange(1, n - 1, 2)
        gap = (steps[cand + 1] - steps[cand - 1]).astype(np.float64)
        age = (steps[n - 1] - steps[cand] + 1).astype(np.float64)
        drop = cand[np.argpartition(gap / age, n // 4)[: n // 4]]
        keep = np.ones(n, dtype=bool)
        keep[drop] = False
        m = n - len(drop)
        self.steps[:m] = steps[keep]
        for arr in self.data.values():
            arr[:m] = arr[:n][keep]
        self.n = m

    def make_room(self) -> int:
        """Thin now if the table is full (as the next append would); returns the rows free, so that
        a caller can train that many steps and read each of their rows unthinned."""
        if self.n == self.capacity:
            self._thin()
        return self.capacity - self.n

    def get(self, name: str) -> np.ndarray:
        """A copy of one column's recorded rows, oldest first."""
        return self.data[name][: self.n].copy()

    def get_steps(self) -> np.ndarray:
        return self.steps[: self.n].copy()

    def last(self, name: str):
        return self.data[name][self.n - 1] if self.n else None

    def clear(self) -> None:
        self.n = 0

    def copy_from(self, other: History) -> None:
        """Become a copy of `other` (same columns and capacity) in place, without reallocating:
        a window mirrors the history of a session trained in another thread once per frame."""
        n = other.n
        self.steps[:n] = other.steps[:n]
        for k, arr in self.data.items():
            arr[:n] = other.data[k][:n]
        self.n = n

    def as_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """All recorded rows as plain arrays (for saving and CSV export)."""
        out = {prefix + "step": self.get_steps()}
        out.update({prefix + k: self.get(k) for k in self.columns})
        return out

    def load_arrays(self, arrays: dict[str, np.ndarray], prefix: str = "") -> None:
        """Inverse of `as_arrays` (rows beyond capacity are thinned as they would have been)."""
        steps = np.asarray(arrays[prefix + "step"])
        self.clear()
        for i in range(len(steps)):
            self.append(int(steps[i]), **{k: arrays[prefix + k][i] for k in self.columns})


class BatchLog:
    """The mini-batch indices of each step, in a table preallocated for a run of known length:
    the headless contract's `batch_index` (docs/FORMATS.md). A row holds one step's indices into the
    training set; -1 pads a batch shorter than the table (the short last batch of an epoch, a
    smaller batch size after an edit) and fills the row of a step that saw the whole set.

    The training paths write it as they go: the numpy reference one step at a time (`add`), the
    compiled loop a run of consecutive batches of one permutation at once (`add_run`).
    """

    def __init__(self, steps: int, width: int):
        self.rows = np.full((steps, width), -1, dtype=np.int64)
        self.n = 0

    def add(self, idx: np.ndarray | None) -> None:
        """One step's batch (None: the step saw the whole set)."""
        if idx is not None:
            self.rows[self.n, : len(idx)] = idx
        self.n += 1

    def add_run(self, perm: np.ndarray | None, start: int, steps: int, size: int) -> None:
        """`steps` consecutive batches of `size` drawn from perm[start:], the last one possibly cut
        short by the permutation's end; perm None: `steps` steps that saw the whole set."""
        if perm is not None and steps > 0:
            rows = self.rows[self.n: self.n + steps]
            whole = min(steps, (len(perm) - start) // size)  # batches the permutation holds in full
            rows[:whole, :size] = perm[start: start + whole * size].reshape(whole, size)
            if whole < steps:  # the epoch's last batch (the loop starts a new permutation after it)
                tail = perm[start + whole * size: start + steps * size]
                rows[whole, : len(tail)] = tail
        self.n += steps

    def table(self) -> np.ndarray:
        """The rows written so far."""
        return self.rows[: self.n]
