"""Your own data: points typed into a config, read from a CSV file, or added and removed by clicking.

Own data is a dataset task whose points are in the config (`task.name = "own"`, see
docs/FORMATS.md), so a saved session, a shared setup, `gradplay run` and the PyTorch export all
carry it. Changing the points is a new dataset, so it restarts training, as a new dataset does.

- `read_csv(text)`: two input columns and a label (classes) or target (regression) column, header
  optional; anything else is refused with the row and column named.
- `own_points(session)`: a dataset's points (train and test) as own points, the start of editing a
  generated set by hand.
- `with_point` / `without_point`: the config with a point added, or with the point nearest a click
  removed.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np

from . import config as config_mod
from .datasets import MAX_OWN_CLASSES, MAX_OWN_POINTS, OWN
from .problem import DatasetProblem

MAX_CSV_BYTES = 2 * 2**20
LABEL_HEADERS = ("label", "class", "classes", "y_class")
TARGET_HEADERS = ("target", "value", "y", "t")


class DataError(ValueError):
    """A file or point that cannot be own data; the message is meant for the user as it is."""


def read_csv(text: str, targets: str | None = None) -> tuple[list[list[float]], str]:
    """Points [x1, x2, label or target] and the kind of their third column ("classes" or "values").

    The kind is `targets` if given, else the header's name for the third column (label/class:
    classes; target/value/y: values), else classes when every value of it is a whole number from 0
    to 5, values otherwise. Commas, semicolons or tabs separate the columns.
    """
    if len(text) > MAX_CSV_BYTES:
        raise DataError(f"the file has {len(text):,} characters; own data is at most {MAX_CSV_BYTES:,}")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [(i + 1, r) for i, r in enumerate(csv.reader(io.StringIO(text), dialect)) if any(c.strip() for c in r)]
    if not rows:
        raise DataError("the file holds no rows")
    header = None
    first = rows[0][1]
    if not _numeric(first):
        header, rows = [c.strip().lower() for c in first], rows[1:]
    points: list[list[float]] = []
    for line, row in rows:
        if len(row) != 3:
            raise DataError(f"row {line} has {len(row)} columns; own data needs 3: x1, x2 and a label or target")
        values = []
        for col, cell in enumerate(row):
            try:
                v = float(cell)
            except ValueError:
                raise DataError(f"row {line}, column {col + 1}: {cell.strip()[:40]!r} is not a number") from None
            if not math.isfinite(v):
                raise DataError(f"row {line}, column {col + 1}: {cell.strip()} is not a finite number")
            values.append(v)
        points.append(values)
        if len(points) > MAX_OWN_POINTS:
            raise DataError(f"the file has more than {MAX_OWN_POINTS:,} points (row {line}); own data is at most "
                            f"{MAX_OWN_POINTS:,}")
    if len(points) < 10:
        raise DataError(f"the file has {len(points)} points; own data needs at least 10")
    if targets is None:
        third = header[2] if header and len(header) == 3 else ""
        if third in LABEL_HEADERS:
            targets = "classes"
        elif third in TARGET_HEADERS:
            targets = "values"
        else:
            whole = all(p[2].is_integer() and 0 <= p[2] < MAX_OWN_CLASSES for p in points)
            targets = "classes" if whole else "values"
    if targets == "classes":
        for i, p in enumerate(points):
            if not (p[2].is_integer() and 0 <= p[2] < MAX_OWN_CLASSES):
                line = rows[i][0]
                raise DataError(f"row {line}, column 3: {p[2]:g} is not a class label (a whole number from 0 "
                                f"to {MAX_OWN_CLASSES - 1})")
            p[2] = int(p[2])
    return points, targets


def _numeric(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def own_config(cfg: dict, points: list, targets: str) -> dict:
    """`cfg` with these own points as its task (the loss follows the data if it no longer fits)."""
    task = {"kind": "dataset", "name": OWN, "points": points, "targets": targets,
            "test_fraction": cfg["task"].get("test_fraction", config_mod.DEFAULTS["task"]["test_fraction"])}
    raw = dict(cfg, task=task, timeline=[])
    try:
        return config_mod.resolve(raw)
    except config_mod.ConfigError as e:
        if "loss.name" not in str(e):
            raise DataError(str(e)) from None
        return config_mod.resolve(dict(raw, loss={}))  # the data's natural loss


def own_points(session) -> tuple[list[list[float]], str]:
    """The session's dataset (train and test points) as own points and their kind."""
    p = session.problem
    if not isinstance(p, DatasetProblem):
        raise DataError("own data needs a dataset task")
    d = p.data
    x = np.concatenate([d.x_train, d.x_test])
    y = np.concatenate([d.y_train, d.y_test])
    if d.info.kind == "regression":
        return [[float(a), float(b), float(t)] for (a, b), t in zip(x, y)], "values"
    # the class index from the labels as the loss stored them (0/1, ±1 or the index itself)
    cls = (y > 0.5) if d.labels == "binary" else (y > 0) if d.labels == "pm1" else y
    return [[float(a), float(b), int(c)] for (a, b), c in zip(x, cls)], "classes"


def with_point(session, x1: float, x2: float, label: float) -> dict:
    """The session's config with one more point (the dataset becomes own data if it was not)."""
    points, targets = own_points(session)
    if len(points) >= MAX_OWN_POINTS:
        raise DataError(f"own data holds at most {MAX_OWN_POINTS:,} points")
    if targets == "classes" and not (float(label).is_integer() and 0 <= label < MAX_OWN_CLASSES):
        raise DataError(f"a class label is a whole number from 0 to {MAX_OWN_CLASSES - 1}, not {label:g}")
    points.append([float(x1), float(x2), int(label) if targets == "classes" else float(label)])
    return own_config(session.config, points, targets)


def without_point(session, x1: float, x2: float, radius: float) -> dict | None:
    """The session's config without the point nearest (x1, x2), if one lies within `radius`."""
    points, targets = own_points(session)
    xy = np.array([p[:2] for p in points])
    d = np.hypot(xy[:, 0] - x1, xy[:, 1] - x2)
    i = int(np.argmin(d))
    if d[i] > radius:
        return None
    if len(points) <= 10:
        raise DataError("own data needs at least 10 points")
    del points[i]
    return own_config(session.config, points, targets)
