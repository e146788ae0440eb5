"""Random and damaged session files: load_session raises SessionFileError or returns a session that runs.

Three sources of files: random bytes; real saves with bytes flipped, cut or inserted; and real saves
rebuilt with one member changed at the level it is written (a JSON value replaced by junk, an array
of the wrong shape or dtype, a pickled object array, a missing or extra array, NaNs). A session that
loads must train 5 steps without raising, keep its counters consistent, and save and load again.
"""
from __future__ import annotations

import copy
import io as _io
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from gradplay.core import config, io
from gradplay.core.io import SessionFileError
from gradplay.core.session import Session

N_BYTES, N_FLIPS, N_MEMBERS = 150, 250, 300  # examples per test in CI (see tests/fuzz/conftest.py)


def budget(n: int) -> settings:
    profile = settings.get_profile(os.environ.get("GRADPLAY_FUZZ_PROFILE", "gradplay-ci"))
    return settings(profile, max_examples=max(1, round(n * float(os.environ.get("GRADPLAY_FUZZ_SCALE", "1")))))


BASES = {  # small runs that cover each kind of saved state: batch norm + sampled batches, L-BFGS, a landscape
    "moons_bn": {"task": {"name": "moons", "n_samples": 60}, "network": {"hidden": [4, 3], "batch_norm": True},
                 "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 8},
                 "schedule": {"name": "cosine", "t_max": 20}},
    "beale_lbfgs": {"task": {"kind": "function", "name": "beale"},
                    "optimizer": {"name": "lbfgs", "line_search_fn": "strong_wolfe"}},
    "sine_sgd": {"task": {"name": "sine", "n_samples": 40}, "network": {"hidden": [5]},
                 "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9}, "training": {"batch_size": "full"},
                 "evaluate": True},
}


def _members(name: str) -> tuple[dict, dict[str, np.ndarray]]:
    raw = dict(BASES[name])
    evaluate = raw.pop("evaluate", False)
    s = Session(config.resolve(raw))
    for _ in range(3):
        s.run(4)
        if evaluate:
            s.evaluate()
    meta_b, arrays_b = io.session_files(s)
    with np.load(_io.BytesIO(arrays_b)) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(meta_b), arrays


MEMBERS = {name: _members(name) for name in BASES}


def _zip(meta: bytes | None, arrays: bytes | None) -> bytes:
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if meta is not None:
            z.writestr("session.json", meta)
        if arrays is not None:
            z.writestr("arrays.npz", arrays)
    return buf.getvalue()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = _io.BytesIO()
    np.savez(buf, **arrays)  # pickles object arrays: exactly what a hostile file would hold
    return buf.getvalue()


def _event(what: str) -> None:
    if currently_in_test_context():
        event(what)


GOOD = {name: _zip(json.dumps(meta).encode(), _npz(arrays)) for name, (meta, arrays) in MEMBERS.items()}


def _check_loaded_or_error(path: Path) -> None:
    try:
        s = io.load_session(path)
    except SessionFileError as e:
        _event("SessionFileError")
        msg = str(e)
        assert msg and len(msg) < 1500 and "Traceback" not in msg
        return
    _event("loaded")
    assert isinstance(s.step, int) and s.step >= 0
    assert s.halted is None or isinstance(s.halted, str)
    if s.step <= s.history.capacity:
        assert len(s.history) == s.step
    before = s.step
    done = s.run(5)
    assert s.step == before + done and (done == 5 or s.halted)
    assert np.isfinite(s.theta).all() or s.halted
    if s.kind == "dataset":
        s.evaluate()
    again = io.load_session(io.save_session(s, path.with_name("again.gradplay")))
    assert again.step == s.step and np.array_equal(again.theta, s.theta, equal_nan=True)


def _write(data: bytes, name: str = "f.gradplay") -> tuple[tempfile.TemporaryDirectory, Path]:
    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name) / name
    path.write_bytes(data)
    return tmp, path


# ------------------------------------------------------------------------------ random bytes
@budget(N_BYTES)
@given(st.one_of(st.binary(max_size=2000),
                 st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),  # looks like a zip at first
                 st.sampled_from(list(GOOD.values())).flatmap(lambda g: st.integers(0, len(g)).map(lambda i: g[:i]))))
def test_random_bytes(data):
    tmp, path = _write(data)
    with tmp:
        _check_loaded_or_error(path)


# ------------------------------------------------------------------------------ byte-level damage
@budget(N_FLIPS)
@given(st.sampled_from(sorted(GOOD)), st.data())
def test_flipped_cut_and_inserted_bytes(name, data):
    blob = bytearray(GOOD[name])
    for _ in range(data.draw(st.integers(1, 4))):
        how = data.draw(st.sampled_from(["flip", "flip", "cut", "insert", "zero"]))
        i = data.draw(st.integers(0, len(blob) - 1))
        if how == "flip":
            blob[i] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "cut":
            del blob[i: i + data.draw(st.integers(1, 64))]
        elif how == "insert":
            blob[i:i] = data.draw(st.binary(min_size=1, max_size=16))
        else:
            blob[i: i + 8] = bytes(min(8, len(blob) - i))
        if not blob:
            blob = bytearray(b"x")
    tmp, path = _write(bytes(blob))
    with tmp:
        _check_loaded_or_error(path)


# ------------------------------------------------------------------------------ member-level damage
JUNK = st.one_of(st.integers(-10**20, 10**20), st.sampled_from([10**400, -1, 0, True, None, "", "x", [], {}]),
                 st.floats(), st.text(max_size=10), st.lists(st.integers(-2, 5), max_size=4),
                 st.dictionaries(st.sampled_from(["__array__", "a"]), st.text(max_size=8), max_size=1))


def _json_paths(obj, prefix=()) -> list[tuple]:
    out = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for k, v in items:
        out.append(prefix + (k,))
        out.extend(_json_paths(v, prefix + (k,)))
    return out


def _bad_array(draw, a: np.ndarray) -> tuple[np.ndarray, bool]:
    """(a damaged version of `a`, whether it must be pickled)."""
    how = draw(st.sampled_from(["shape", "transpose", "empty", "dtype", "nan", "inf", "big", "scalar",
                                "object", "string", "bool", "complex"]))
    if how == "shape":
        return np.zeros(tuple(draw(st.lists(st.integers(0, 5), max_size=3)))), False
    if how == "transpose":
        return np.atleast_2d(a).T.copy(), False
    if how == "empty":
        return a[:0].copy(), False
    if how == "dtype":
        with np.errstate(all="ignore"):  # (casting NaN or 1e300 to int8 is the point)
            return a.astype(draw(st.sampled_from([np.float32, np.int8, np.uint64, np.float16]))), False
    if how in ("nan", "inf", "big"):
        b = a.astype(np.float64).copy()
        if b.size:
            b.flat[draw(st.integers(0, b.size - 1))] = {"nan": math.nan, "inf": -math.inf, "big": 1e300}[how]
        return b, False
    if how == "scalar":
        return np.array(draw(st.floats(allow_nan=True))), False
    if how == "object":
        return np.array([{"evil": 1}, None], dtype=object), True
    if how == "string":
        return np.array(["a", "b"]), False
    if how == "bool":
        return np.ones(a.shape, dtype=bool), False
    return a.astype(np.complex128), False


@budget(N_MEMBERS)
@given(st.sampled_from(sorted(MEMBERS)), st.data())
def test_damaged_members(name, data):
    meta, arrays = copy.deepcopy(MEMBERS[name][0]), dict(MEMBERS[name][1])
    part = data.draw(st.sampled_from(["json", "json", "array", "array", "drop", "extra", "members", "version",
                                      "config"]))
    meta_b: bytes | None = None
    arrays_b: bytes | None = None
    if part == "json":
        path = data.draw(st.sampled_from(_json_paths(meta)))
        parent = meta
        for p in path[:-1]:
            parent = parent[p]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JUNK)
    elif part == "array":
        key = data.draw(st.sampled_from(sorted(arrays)))
        arrays[key], pickled = _bad_array(data.draw, arrays[key])
        if pickled:
            _event("pickled object array")
    elif part == "drop":
        del arrays[data.draw(st.sampled_from(sorted(arrays)))]
    elif part == "extra":
        arrays[data.draw(st.sampled_from(["state.theta.x", "extra", "state.history.zzz"]))] = np.zeros(3)
    elif part == "members":
        which = data.draw(st.sampled_from(["no json", "no arrays", "swapped", "json is npz", "text"]))
        meta_b = {"no json": None, "swapped": _npz(arrays), "json is npz": _npz(arrays),
                  "text": b"hello"}.get(which, json.dumps(meta).encode())
        arrays_b = {"no arrays": None, "swapped": json.dumps(meta).encode(), "text": b"hello"}.get(which, _npz(arrays))
    elif part == "version":
        meta["version"] = data.draw(st.sampled_from([2, 99, 0, -1, "1", 1.0, None, True]))
    else:  # a config that resolves but does not match the saved state
        other = data.draw(st.sampled_from([{"network": {"hidden": [7]}}, {"seed": 5}, {"task": {"name": "xor"}},
                                           {"optimizer": {"name": "sgd", "lr": 0.3}},
                                           {"schedule": {"name": "step"}},
                                           {"task": {"kind": "function", "name": "booth"}}]))
        meta["config"] = config.resolve({**meta["config"], **other} if "task" not in other
                                        else {**other, "seed": meta["config"]["seed"]})
    if meta_b is None and part != "members":
        meta_b = json.dumps(meta).encode()
    if arrays_b is None and part != "members":
        arrays_b = _npz(arrays)
    folder = data.draw(st.booleans())
    tmp = tempfile.TemporaryDirectory()
    with tmp:
        if folder:
            path = Path(tmp.name) / "saved"
            path.mkdir()
            if meta_b is not None:
                (path / "session.json").write_bytes(meta_b)
            if arrays_b is not None:
                (path / "arrays.npz").write_bytes(arrays_b)
        else:
            path = Path(tmp.name) / "saved.gradplay"
            path.write_bytes(_zip(meta_b, arrays_b))
        _check_loaded_or_error(path)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_the_undamaged_bases_load(tmp_path, name):
    path = tmp_path / "good.gradplay"
    path.write_bytes(GOOD[name])
    s = io.load_session(path)
    assert s.step == 12
    _check_loaded_or_error(path)


def test_pickled_arrays_are_never_unpickled(tmp_path):
    meta, arrays = MEMBERS["sine_sgd"]

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    evil = dict(arrays, **{"state.theta": np.array([Boom()], dtype=object)})
    path = tmp_path / "evil.gradplay"
    path.write_bytes(_zip(json.dumps(meta).encode(), _npz(evil)))
    with pytest.raises(SessionFileError, match="arrays.npz"):
        io.load_session(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("fast", [None, False], ids=["default", "numpy"])
def test_a_session_halted_by_its_update_saves_and_opens_again(tmp_path, fast):
    """The halting update counted in the optimizer (state step = session step + 1): the file check
    rejected the app's own save of such a run until it allowed for that."""
    s = Session(config.resolve({k: v for k, v in BASES["sine_sgd"].items() if k != "evaluate"}), fast=fast)
    s.run(3)
    s.optimizer.state["momentum_buffer"][:] = np.nan  # the next update makes θ NaN: a halt after the step
    s.run(3)
    assert s.halted and "overflow" in s.halted and s.optimizer.state["step"] == s.step + 1
    back = io.load_session(io.save_session(s, tmp_path / "halted.gradplay"))
    assert back.step == s.step and back.halted == s.halted


def test_files_written_before_the_gradient_was_saved_still_open(tmp_path):
    """Format version 1 files from before "state.grad" existed: the state check must not demand it."""
    meta, arrays = copy.deepcopy(MEMBERS["moons_bn"][0]), dict(MEMBERS["moons_bn"][1])
    meta["state"].pop("grad", None)
    arrays.pop("state.grad", None)
    path = tmp_path / "old.gradplay"
    path.write_bytes(_zip(json.dumps(meta).encode(), _npz(arrays)))
    s = io.load_session(path)
    assert s.step == 12
    s.run(2)
