"""Session files: round trip with exact continuation, atomic writes, and files that are not sessions."""
import json
import os
import zipfile

import numpy as np
import pytest

from gradplay.core import config, io
from gradplay.core.io import SessionFileError
from gradplay.core.session import Session

CFG = {"task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [6, 6], "batch_norm": True},
       "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 16},
       "schedule": {"name": "cosine", "t_max": 50}}


@pytest.mark.parametrize("suffix", ["", ".gradplay"])
@pytest.mark.parametrize("dropout", [0.0, [0.3, 0.5]])
def test_save_load_continues_bit_identically(tmp_path, suffix, dropout):
    cfg = config.resolve({**CFG, "network": {**CFG["network"], "dropout": dropout}})
    one_go = Session(cfg)
    one_go.run(70)
    s = Session(cfg)
    s.run(30)
    path = io.save_session(s, tmp_path / f"saved{suffix}")
    back = io.load_session(path)
    assert back.step == 30 and back.config == cfg
    assert np.array_equal(back.history.get("loss"), s.history.get("loss"))
    back.run(40)
    assert np.array_equal(back.theta, one_go.theta)
    assert np.array_equal(back.history.get("loss"), one_go.history.get("loss"))
    for a, b in zip(back.model.running_var, one_go.model.running_var):
        assert np.array_equal(a, b)


def test_landscape_session_round_trip(tmp_path):
    cfg = config.resolve({"task": {"kind": "function", "name": "beale"},
                          "optimizer": {"name": "lbfgs", "line_search_fn": "strong_wolfe"}})
    s = Session(cfg)
    s.run(3)
    back = io.load_session(io.save_session(s, tmp_path / "b.gradplay"))
    s.run(2)
    back.run(2)
    assert np.array_equal(s.theta, back.theta)


def test_session_json_has_the_contract_fields(tmp_path):
    s = Session(config.resolve(CFG))
    s.run(5)
    io.save_session(s, tmp_path / "d")
    meta = json.loads((tmp_path / "d" / "session.json").read_text())
    assert meta["format"] == "gradplay-session" and meta["version"] == 1
    assert meta["steps"] == 5 and meta["config"] == s.config
    assert {"gradplay", "numpy"} <= set(meta["versions"])


def test_a_failed_write_keeps_the_previous_save(tmp_path, monkeypatch):
    s = Session(config.resolve(CFG))
    path = tmp_path / "keep.gradplay"
    io.save_session(s, path)
    before = path.read_bytes()
    s.run(10)

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        io.save_session(s, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.gradplay"], "no temp file left behind"


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_files_that_are_not_sessions(tmp_path):
    good = tmp_path / "good.gradplay"
    io.save_session(Session(config.resolve(CFG)), good)
    data = good.read_bytes()
    cases = {
        "random": os.urandom(500),
        "truncated": data[: len(data) // 2],
        "empty": b"",
    }
    for name, blob in cases.items():
        p = tmp_path / f"{name}.gradplay"
        p.write_bytes(blob)
        with pytest.raises(SessionFileError):
            io.load_session(p)
    with zipfile.ZipFile(good) as z:
        meta = json.loads(z.read("session.json"))
        arrays = z.read("arrays.npz")
    foreign = _zip(tmp_path / "foreign.gradplay", {"session.json": json.dumps({"hello": 1}), "arrays.npz": arrays})
    with pytest.raises(SessionFileError, match="not a gradplay session"):
        io.load_session(foreign)
    newer = _zip(tmp_path / "newer.gradplay", {"session.json": json.dumps({**meta, "version": 99}),
                                               "arrays.npz": arrays})
    with pytest.raises(SessionFileError, match="newer gradplay"):
        io.load_session(newer)
    bad_cfg = _zip(tmp_path / "badcfg.gradplay",
                   {"session.json": json.dumps({**meta, "config": {**meta["config"], "seed": -4}}),
                    "arrays.npz": arrays})
    with pytest.raises(SessionFileError, match="seed"):
        io.load_session(bad_cfg)
    no_arrays = _zip(tmp_path / "noarr.gradplay", {"session.json": json.dumps(meta)})
    with pytest.raises(SessionFileError, match="arrays.npz"):
        io.load_session(no_arrays)
    broken_arrays = _zip(tmp_path / "brokenarr.gradplay", {"session.json": json.dumps(meta),
                                                            "arrays.npz": arrays[:100]})
    with pytest.raises(SessionFileError, match="corrupt"):
        io.load_session(broken_arrays)
    with pytest.raises(SessionFileError):
        io.load_session(tmp_path / "missing-folder")
