"""Session files: `session.json` + `arrays.npz`, in a folder or zipped as one `.gradplay` file.

`session.json` holds the format name and version, the resolved config, the step count, versions and
every non-array piece of state; `arrays.npz` holds the headless contract arrays (SPEC.md) and, under
`state.*`, the arrays needed to continue exactly (parameters, optimizer moments, history, ...).
Every write goes to a temporary file that is renamed over the target, so a failed write never
destroys an earlier save.
"""
from __future__ import annotations

import io as _io
import json
import os
import platform
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import config as config_mod

FORMAT = "gradplay-session"
VERSION = 1


class SessionFileError(ValueError):
    """A session file that cannot be read; the message is meant for the user as it is."""


def versions() -> dict[str, str]:
    from .. import __version__
    return {"gradplay": __version__, "numpy": np.__version__, "python": platform.python_version()}


# ----------------------------------------------------------------------------- atomic writes
def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder and an atomic rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


# ----------------------------------------------------------------------------- state <-> json+arrays
def split_state(obj: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """Replace every ndarray inside nested dicts/lists by a reference, collecting the arrays."""
    if isinstance(obj, np.ndarray):
        arrays[prefix] = obj
        return {"__array__": prefix}
    if isinstance(obj, dict):
        return {str(k): split_state(v, arrays, f"{prefix}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [split_state(v, arrays, f"{prefix}.{i}") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def join_state(obj: Any, arrays) -> Any:
    """Inverse of `split_state`."""
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return np.array(arrays[obj["__array__"]])
        return {k: join_state(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_state(v, arrays) for v in obj]
    return obj


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"cannot save {type(o).__name__}")


def session_files(session, contract: dict[str, np.ndarray] | None = None) -> tuple[bytes, bytes]:
    """The two members of a session file: session.json and arrays.npz."""
    arrays: dict[str, np.ndarray] = {}
    state = split_state(session.snapshot(), arrays, "state")
    if contract is None:
        contract = contract_arrays(session)
    arrays.update(contract)
    meta = {"format": FORMAT, "version": VERSION, "config": session.config, "steps": session.step,
            "versions": versions(), "state": state}
    return json.dumps(meta, indent=1, default=_json_default).encode(), npz_bytes(arrays)


def contract_arrays(session) -> dict[str, np.ndarray]:
    """The spec's arrays reconstructed from a session's (possibly thinned) history."""
    s = session
    h = s.history
    if s.kind == "function":
        traj = np.column_stack([h.get("x"), h.get("y")])
        traj = np.vstack([traj, s.theta[None, :]]) if len(traj) else s.theta[None, :].copy()
        return {"trajectory": traj, "loss": np.r_[h.get("loss"), s.landscape.value(s.theta)]}
    out = {"x_train": s.data.x_train, "y_train": s.data.y_train, "x_test": s.data.x_test, "y_test": s.data.y_test}
    out.update({f"final.{k}": v.copy() for k, v in s.model.params().items()})
    out["loss"] = h.get("loss")
    out["grad_norm"] = h.get("grad_norm").reshape(len(h), s.n_layers)
    return out


def write_run(out_dir: str | Path, session, contract: dict[str, np.ndarray]) -> None:
    """Write a headless run's folder (session.json + arrays.npz)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta, arrays = session_files(session, contract)
    atomic_write_bytes(out / "arrays.npz", arrays)
    atomic_write_bytes(out / "session.json", meta)


def save_session(session, path: str | Path) -> Path:
    """Save to a folder, or to one zip file when the path ends in `.gradplay`."""
    path = Path(path)
    meta, arrays = session_files(session)
    if path.suffix == ".gradplay":
        buf = _io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("session.json", meta)
            z.writestr("arrays.npz", arrays)
        atomic_write_bytes(path, buf.getvalue())
    else:
        path.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path / "arrays.npz", arrays)
        atomic_write_bytes(path / "session.json", meta)
    return path


def _read_members(path: Path) -> tuple[bytes, bytes]:
    try:
        if path.is_dir():
            return (path / "session.json").read_bytes(), (path / "arrays.npz").read_bytes()
        with zipfile.ZipFile(path) as z:
            return z.read("session.json"), z.read("arrays.npz")
    except FileNotFoundError as e:
        raise SessionFileError(f"{path} is not a gradplay session: {Path(e.filename or '').name or 'file'} "
                               f"is missing") from None
    except KeyError as e:
        raise SessionFileError(f"{path} is not a gradplay session: the member {e} is missing") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise SessionFileError(f"{path} is not a readable gradplay session ({e})") from None


def load_session(path: str | Path):
    """Open a saved session (folder or .gradplay) and return a Session ready to continue."""
    from .session import Session

    path = Path(path)
    meta_b, arrays_b = _read_members(path)
    try:
        meta = json.loads(meta_b.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SessionFileError(f"{path}: session.json is corrupt ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SessionFileError(f"{path} is not a gradplay session file (no '{FORMAT}' format marker)")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise SessionFileError(f"{path} was written by a newer gradplay (format version {version}); "
                               f"this gradplay reads versions up to {VERSION}: please upgrade")
    try:
        cfg = config_mod.resolve(meta["config"])
    except (KeyError, config_mod.ConfigError) as e:
        raise SessionFileError(f"{path}: the saved config is invalid: {e}") from None
    try:
        with np.load(_io.BytesIO(arrays_b), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as e:  # numpy raises many kinds on a damaged zip/npy
        raise SessionFileError(f"{path}: arrays.npz is corrupt ({type(e).__name__}: {e})") from None
    session = Session(cfg)
    if "state" in meta:
        try:
            session.restore(join_state(meta["state"], arrays))
        except Exception as e:
            raise SessionFileError(f"{path}: the saved training state does not fit its config "
                                   f"({type(e).__name__}: {e})") from None
    return session
