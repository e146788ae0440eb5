"""Hostile session files by construction: the shapes an attacker builds (issue 17), generated.

Nested and oversized compressed members, npy headers that declare huge shapes, huge and
non-finite numbers in session.json and in the saved state, control and markup text, special
files in a session folder. Each file must load into a session that runs, or be refused with a
SessionFileError, quickly and without reading more than the limits (io.MAX_*).

The CI budget is small; a nightly-size hunt:
    GRADPLAY_FUZZ_PROFILE=gradplay-explore GRADPLAY_FUZZ_SCALE=50 pytest tests/fuzz/test_fuzz_hostile.py
"""
from __future__ import annotations

import io as _io
import json
import os
import resource
import tempfile
import tracemalloc
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from .test_fuzz_session_files import MEMBERS, _check_loaded_or_error, _npz, _zip, budget

N_HOSTILE = 200  # examples in CI
PEAK_MB = 1024   # a session file under 10 MB never takes more than this (issue 17)


@cache  # deflating 300 MB of zeros takes a second: each size is built once
def _compressed_zeros(nbytes: int) -> bytes:
    """An arrays.npz whose one member is `nbytes` of zeros, deflated (a few KB on disk)."""
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("big.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                                     "shape": (nbytes // 8,)})
            chunk = bytes(2**20)
            for _ in range(nbytes // len(chunk)):
                f.write(chunk)
            f.write(bytes(nbytes % len(chunk)))
    return buf.getvalue()


def _lying_header(shape: tuple[int, ...], dtype: str, payload: int) -> bytes:
    header = _io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("state.theta.npy", header.getvalue() + bytes(payload))
    return buf.getvalue()


HUGE_NUMBERS = st.sampled_from([10**400, -(10**400), 1e308, -1e308, 2**63, -(2**63) - 1, 10**15, 0.5e-323])
TEXTS = st.text(max_size=40) | st.sampled_from([
    "<h1 style='color:red'>x</h1>", "<img src='/etc/passwd'>", "a\x00b", "\x1b[31mred", "x" * 5000, "\ud800"])


@st.composite
def hostile(draw) -> tuple[str, object]:
    """(kind, payload) for one hostile file."""
    kind = draw(st.sampled_from(["nested", "lying", "json_number", "state_value", "text", "special", "digits"]))
    base = draw(st.sampled_from(sorted(MEMBERS)))
    meta, arrays = MEMBERS[base]
    meta = json.loads(json.dumps(meta))
    if kind == "nested":
        size = draw(st.sampled_from([2**20, 70 * 2**20, 300 * 2**20]))  # under and over the allowance
        return kind, _zip(json.dumps(meta).encode(), _compressed_zeros(size))
    if kind == "lying":
        shape = draw(st.sampled_from([(10**9,), (2**31, 2**31), (3, 10**12), (0,), (5,)]))
        dtype = draw(st.sampled_from(["<f8", "<i8", "|u1", "<c16"]))
        return kind, _zip(json.dumps(meta).encode(), _lying_header(shape, dtype, draw(st.integers(0, 512))))
    if kind == "json_number":
        where = draw(st.sampled_from(["steps", "version", "seed", "lr", "step", "n_samples"]))
        value = draw(HUGE_NUMBERS)
        if where in ("steps", "version"):
            meta[where] = value
        elif where == "step":
            meta["state"]["step"] = value
        elif where == "seed":
            meta["config"]["seed"] = value
        elif where == "lr":
            meta["config"]["optimizer"]["lr"] = value
        else:
            meta["config"]["task"]["n_samples"] = value
        text = json.dumps(meta).replace("Infinity", "1e999")
        return kind, _zip(text.encode(), _npz(arrays))
    if kind == "state_value":
        arrays = dict(arrays)
        key = draw(st.sampled_from([k for k in arrays if k.startswith("state.") and arrays[k].dtype.kind == "f"]))
        a = arrays[key].copy()
        if a.size:
            a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308]))
        arrays[key] = a
        return kind, _zip(json.dumps(meta).encode(), _npz(arrays))
    if kind == "text":
        meta["config"].setdefault("meta", {})[draw(st.sampled_from(["title", "description", "try"]))] = draw(TEXTS)
        if draw(st.booleans()):
            meta["state"]["halted"] = draw(TEXTS)
        try:
            text = json.dumps(meta)
        except UnicodeEncodeError:
            text = json.dumps(meta, ensure_ascii=True)
        return kind, _zip(text.encode("utf-8", "surrogatepass"), _npz(arrays))
    if kind == "digits":
        meta["steps"] = 0
        text = json.dumps(meta).replace('"steps": 0', '"steps": ' + "7" * draw(st.integers(4300, 20000)))
        return kind, _zip(text.encode(), _npz(arrays))
    return kind, draw(st.sampled_from(["dev_zero_arrays", "fifo_json", "folder_json", "dev_null_json"]))


def _special_folder(tmp: Path, which: str, meta: bytes, arrays: bytes) -> Path:
    folder = tmp / "run"
    folder.mkdir()
    (folder / "session.json").write_bytes(meta)
    (folder / "arrays.npz").write_bytes(arrays)
    if which == "dev_zero_arrays":
        (folder / "arrays.npz").unlink()
        os.symlink("/dev/zero", folder / "arrays.npz")
    elif which == "fifo_json":
        (folder / "session.json").unlink()
        os.mkfifo(folder / "session.json")
    elif which == "folder_json":
        (folder / "session.json").unlink()
        (folder / "session.json").mkdir()
    else:
        (folder / "session.json").unlink()
        os.symlink("/dev/null", folder / "session.json")
    return folder


@budget(N_HOSTILE)
@given(hostile())
def test_hostile_files_load_or_are_refused_within_the_limits(case):
    kind, payload = case
    meta, arrays = MEMBERS["sine_sgd"]
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "special":
            path = _special_folder(Path(tmp), payload, json.dumps(meta).encode(), _npz(arrays))
        else:
            assert len(payload) < 10 * 2**20  # every generated file is a small file
            path = Path(tmp) / "hostile.gradplay"
            path.write_bytes(payload)
        # the file's own peak: tracemalloc sees Python's and numpy's allocations (numpy reports its
        # buffers to it), so one case is measured apart from the ~1 GB of pytest, Qt and torch
        tracemalloc.start()
        try:
            _check_loaded_or_error(path)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    report = os.environ.get("GRADPLAY_FUZZ_PEAKS")  # a file to append "kind peak_MB" lines to (closing notes)
    if report:
        with open(report, "a") as f:
            f.write(f"{kind} {payload if kind == 'special' else len(payload)} {peak:.1f}\n")
    assert peak < PEAK_MB, f"{kind}: peak {peak:.0f} MB"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux: KB), the whole process
    assert rss < PEAK_MB + 1024, f"peak RSS {rss:.0f} MB"  # (pytest with Qt and torch loaded is ~1 GB)
