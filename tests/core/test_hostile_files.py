"""Hostile and damaged session files: a clear SessionFileError before anything large is read,
inflated or allocated, and never a hang.

Each case reproduces an attack that once cost gigabytes or hung: a nested compressed member, a
session.json that inflates to gigabytes, an npy header that declares a huge shape, /dev/zero or a
FIFO in a session folder, a 5,000-digit JSON integer, two members of the same name.
"""
import io as _io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from gradplay.core import config, io
from gradplay.core.io import SessionFileError
from gradplay.core.session import Session


@pytest.fixture
def good(tmp_path):
    """The two members of a genuine small session."""
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    s.run(5)
    return io.session_files(s)


def zipped(path, members: dict[str, bytes], compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_nested_compressed_member_is_refused_by_its_declared_size(tmp_path, good):
    meta, _ = good
    inner = _io.BytesIO()
    np.savez_compressed(inner, big=np.zeros(200 * 2**20 // 8))  # 200 MB of zeros in ~200 KB
    path = zipped(tmp_path / "nested.gradplay", {"session.json": meta, "arrays.npz": inner.getvalue()})
    assert path.stat().st_size < 2 * 2**20
    with pytest.raises(SessionFileError, match=r"member big.npy would take 200 MB when read, more than the 64 MB"):
        io.load_session(path)


def test_a_session_json_that_inflates_is_refused(tmp_path, good):
    _, arrays = good
    huge = b"{" + b" " * (40 * 2**20) + b"}"
    path = zipped(tmp_path / "inflating.gradplay", {"session.json": huge, "arrays.npz": arrays})
    with pytest.raises(SessionFileError, match=r"inflating.gradplay: session.json would take 40 MB when read, more"):
        io.load_session(path)


def test_an_npy_header_declaring_more_than_it_holds_is_refused(tmp_path, good):
    meta, _ = good
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    inner = _io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("loss.npy", buf.getvalue() + b"\0" * 64)
    path = zipped(tmp_path / "liar.gradplay", {"session.json": meta, "arrays.npz": inner.getvalue()})
    with pytest.raises(SessionFileError, match="declares 7,629 MB of data but holds"):
        io.load_session(path)


def test_special_files_in_a_session_folder_are_not_read(tmp_path, good):
    meta, arrays = good
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "session.json").write_bytes(meta)
    os.symlink("/dev/zero", folder / "arrays.npz")
    with pytest.raises(SessionFileError, match="not a regular file"):
        io.load_session(folder)
    # a FIFO as session.json hung for ever; run it in a child with a timeout to prove it returns
    fifo = tmp_path / "fifo_run"
    fifo.mkdir()
    os.mkfifo(fifo / "session.json")
    (fifo / "arrays.npz").write_bytes(arrays)
    code = ("import sys\nfrom gradplay.core import io\n"
            "try:\n    io.load_session(sys.argv[1])\nexcept io.SessionFileError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=60)
    assert "not a regular file" in out.stdout, out.stderr


def test_a_huge_json_integer_is_a_clear_error(tmp_path, good):
    meta, arrays = good
    doc = json.loads(meta)
    text = json.dumps(doc).replace(f'"steps": {doc["steps"]}', '"steps": ' + "9" * 5000)
    path = zipped(tmp_path / "digits.gradplay", {"session.json": text.encode(), "arrays.npz": arrays})
    with pytest.raises(SessionFileError, match="session.json is corrupt"):
        io.load_session(path)


def test_two_members_of_one_name_are_refused(tmp_path, good):
    meta, arrays = good
    path = tmp_path / "twice.gradplay"
    with zipfile.ZipFile(path, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("session.json", meta)
        z.writestr("session.json", meta.replace(b'"steps": 5', b'"steps": 6'))
        z.writestr("arrays.npz", arrays)
    with pytest.raises(SessionFileError, match="holds 2 members named session.json"):
        io.load_session(path)


def test_the_genuine_file_still_opens(tmp_path, good):
    meta, arrays = good
    back = io.load_session(zipped(tmp_path / "fine.gradplay", {"session.json": meta, "arrays.npz": arrays}))
    assert back.step == 5


def test_huge_saved_values_export_without_a_crash(tmp_path):
    """A saved gradient of 1e308 killed `export --formats summary` with SIGSEGV in pyqtgraph painting
    (the histogram's last edge became inf); 1e308 weights overflowed its colour levels."""
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    s.run(5)
    s.grad[:] = 1e308
    s.theta[:3] = 1e308
    path = io.save_session(s, tmp_path / "huge.gradplay")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    p = subprocess.run([sys.executable, "-m", "gradplay", "export", str(path), "--out", str(tmp_path / "exp"),
                        "--formats", "summary,png", "-q"], capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert "overflow" not in p.stderr and (tmp_path / "exp" / "summary.png").stat().st_size > 10_000


def test_non_finite_parameters_are_refused(tmp_path):
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    s.run(5)
    s.theta[0] = np.inf
    path = io.save_session(s, tmp_path / "inf.gradplay")
    with pytest.raises(SessionFileError, match="theta holds non-finite values"):
        io.load_session(path)


# ----------------------------------------------------------------------------- saves that stop half-way
def test_a_folder_save_cut_between_its_two_files_opens_as_the_previous_save(tmp_path, monkeypatch):
    """Repro of the issue: a good folder from 5 steps, then a save of a longer run killed (or out of
    disk) just after arrays.npz was replaced: the folder no longer opened ("history.step must rise
    ... below the step count 5"). Now it opens as the 5-step save, and the next save completes it."""
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    s.run(5)
    folder = io.save_session(s, tmp_path / "K")
    s.run(60)
    real = io.atomic_write_bytes

    def full_disk_on_the_json(path, data):
        if path.name == "session.json":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(io, "atomic_write_bytes", full_disk_on_the_json)
    with pytest.raises(OSError):
        io.save_session(s, folder)
    assert io.load_session(folder).step == 5  # the previous save, whole
    monkeypatch.setattr(io, "atomic_write_bytes", real)
    io.save_session(s, folder)
    assert io.load_session(folder).step == 65
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.npz", "session.json"]


def test_a_folder_whose_arrays_belong_to_another_save_is_refused(tmp_path):
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    a = io.save_session(s, tmp_path / "a")
    s.run(3)
    b = io.save_session(s, tmp_path / "b")
    (a / "arrays.npz").write_bytes((b / "arrays.npz").read_bytes())
    with pytest.raises(SessionFileError, match="arrays.npz does not belong to session.json"):
        io.load_session(a)


def test_stale_temp_files_of_a_killed_save_are_removed_by_the_next(tmp_path):
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    folder = io.save_session(s, tmp_path / "K")
    stale = folder / ".arrays.npz.abc123.tmp"
    stale.write_bytes(b"\0" * 1000)
    fresh = folder / ".session.json.def456.tmp"  # maybe another process writing right now: kept
    fresh.write_bytes(b"{")
    old = os.stat(stale).st_mtime - 2 * io.STALE_SECONDS
    os.utime(stale, (old, old))
    io.save_session(s, folder)
    assert not stale.exists() and fresh.exists()


def test_a_run_at_the_step_limit_halts_and_its_file_still_opens(tmp_path):
    """Found by the hostile fuzzer: a file claiming 10^15 steps loaded, trained 5 more, and its save
    could not be reopened ("step must be a whole number from 0 to 10^15")."""
    from gradplay.core.session import MAX_STEP

    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    s.run(3)
    s.step = MAX_STEP - 2
    assert s.run(5) == 2 and s.step == MAX_STEP
    assert s.run(1) == 0 and "step limit" in s.halted
    assert io.load_session(io.save_session(s, tmp_path / "limit.gradplay")).step == MAX_STEP


def _retampered(meta: bytes, arrays: bytes, change) -> tuple[bytes, bytes]:
    """A session's two members after `change(meta_dict, arrays_dict)`, re-hashed as a forger would."""
    with np.load(_io.BytesIO(arrays)) as npz:
        a = {k: npz[k] for k in npz.files}
    m = json.loads(meta)
    change(m, a)
    data = io.npz_bytes(a)
    m["arrays_sha256"] = __import__("hashlib").sha256(data).hexdigest()
    return json.dumps(m).encode(), data


def _headless_run(tmp_path, task: dict, steps: int = 30):
    from gradplay.core import headless

    s = Session(config.resolve({"task": task, "network": {"hidden": [3]}, "training": {"batch_size": 8}}))
    folder = tmp_path / "run"
    io.write_run(folder, s, headless.record(s, steps))
    return (folder / "session.json").read_bytes(), (folder / "arrays.npz").read_bytes()


def _set(key, value):
    return lambda m, a: a.__setitem__(key, value(a[key]))


XOR = {"name": "xor", "n_samples": 40}
CONTRACT_FORGERIES = [
    (XOR, lambda m, a: m.__setitem__("steps", 29), "says 29 steps but its state is at step 30"),
    (XOR, _set("final.W1", lambda w: w + 1e-9), "final.W1 differs from the saved parameters"),
    (XOR, _set("final.b2", lambda b: b[:0]), r"final.b2 must have the shape \(1,\), got \(0,\)"),
    (XOR, _set("loss", lambda x: x[:-1]), "loss must have 30 rows, got shape"),
    (XOR, _set("grad_norm", lambda g: g[:, :1]), "grad_norm must have 30 rows of 2, got shape"),
    (XOR, _set("batch_index", lambda b: b + 1000), "batch_index must hold sample indices below 32"),
    (XOR, _set("x_train", lambda x: x[:3]), r"x_train must have the shape \(32, 2\) of the config's data"),
    ({"kind": "function", "name": "rosenbrock"}, _set("trajectory", lambda t: t[::-1]),
     "the trajectory does not end at the saved parameters"),
    ({"kind": "function", "name": "rosenbrock"}, _set("loss", lambda x: x[:5]), "loss must have 31 rows"),
]


@pytest.mark.parametrize("task, change, message", CONTRACT_FORGERIES)
def test_contract_arrays_that_contradict_the_state_are_refused(tmp_path, task, change, message):
    meta, arrays = _headless_run(tmp_path, task)
    folder = tmp_path / "genuine"
    io.write_folder(folder, meta, arrays)
    assert io.load_session(folder).step == 30  # the untouched headless run opens
    forged = tmp_path / "forged"
    io.write_folder(forged, *_retampered(meta, arrays, change))
    with pytest.raises(SessionFileError, match="arrays.npz does not describe this run .*" + message):
        io.load_session(forged)


def test_an_app_save_with_thinned_history_passes_the_contract_check(tmp_path):
    """The app saves its history, which is thinned past its capacity: loss then has fewer rows than
    steps, and the check accepts that length as well as the headless one."""
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [3]}}))
    s.run(s.history.capacity + 500)
    path = io.save_session(s, tmp_path / "thinned.gradplay")
    back = io.load_session(path)
    assert back.step == s.step and len(back.history) < back.step
