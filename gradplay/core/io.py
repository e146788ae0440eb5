"""Session files: `session.json` + `arrays.npz`, in a folder or zipped as one `.gradplay` file.

`session.json` holds the format name and version, the resolved config, the step count, versions and
every non-array piece of state; `arrays.npz` holds the headless contract arrays (docs/FORMATS.md) and, under
`state.*`, the arrays needed to continue exactly (parameters, optimizer moments, history, ...).
Every write goes to a temporary file that is renamed over the target, so a failed write never
destroys an earlier save.
"""
from __future__ import annotations

import hashlib
import io as _io
import json
import math
import os
import platform
import stat
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from . import config as config_mod
from .problem import DatasetProblem, LandscapeProblem
from .session import MAX_STEP
from .state import TrainingState, check_array, check_int

FORMAT = "gradplay-session"
VERSION = 1
SESSION_SUFFIX = ".gradplay"  # a saved session in one file: a zip of session.json + arrays.npz

# Limits checked before anything is read or inflated, so a small hostile file cannot take the
# machine's memory or time (a 22 KB file with a nested compressed member peaked at 5.96 GB).
MAX_JSON_BYTES = 32 * 2**20      # session.json: config and state without arrays (~1 MB is large)
MAX_ARRAYS_BYTES = 4 * 2**30     # arrays.npz unpacked: a 1M-step run with batch 32 is ~0.3 GB
MIN_RATIO_ALLOWANCE = 64 * 2**20  # a compressed member may unpack to this much whatever its ratio...
MAX_RATIO = 20                    # ...and beyond it to this many times its compressed size (gradplay's
#                                   own members compress less than 3:1; zeros compress 1000:1)


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
        # mkstemp makes the file private (0600); give it the mode a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = _io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub: a key could be allow_pickle (ours never are)
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
    data = npz_bytes(arrays)
    # The run's config: its step-0 settings and the timeline of edits, which replay it from the start;
    # the hash ties this session.json to its arrays.npz (a folder's two files are written one by one)
    meta = {"format": FORMAT, "version": VERSION, "config": session.run_config, "steps": session.step,
            "versions": versions(), "state": state, "arrays_sha256": hashlib.sha256(data).hexdigest()}
    return json.dumps(meta, indent=1, default=_json_default).encode(), data


def contract_arrays(session) -> dict[str, np.ndarray]:
    """The spec's arrays reconstructed from a session's (possibly thinned) history."""
    s = session
    h, p = s.history, s.problem
    if isinstance(p, LandscapeProblem):
        traj = np.column_stack([h.get("x"), h.get("y")])
        traj = np.vstack([traj, s.theta[None, :]]) if len(traj) else s.theta[None, :].copy()
        return {"trajectory": traj, "loss": np.r_[h.get("loss"), p.landscape.value(s.theta)]}
    assert isinstance(p, DatasetProblem)
    d = p.data
    out = {"x_train": d.x_train, "y_train": d.y_train, "x_test": d.x_test, "y_test": d.y_test}
    out.update({f"final.{k}": v.copy() for k, v in p.model.params().items()})
    out["loss"] = h.get("loss")
    out["grad_norm"] = h.get("grad_norm").reshape(len(h), s.n_layers)
    return out


def write_run(out_dir: str | Path, session, contract: dict[str, np.ndarray]) -> None:
    """Write a headless run's folder (session.json + arrays.npz)."""
    write_folder(Path(out_dir), *session_files(session, contract))


PREVIOUS = ".arrays.npz.prev"  # a folder's last complete arrays.npz while a save replaces it
STALE_SECONDS = 600  # temp files of a killed write older than this are removed by the next save


def write_folder(folder: Path, meta: bytes, arrays: bytes) -> None:
    """Write a session folder so that it always opens as the old save or the new one, whatever
    moment the process is killed or the disk fills.

    The two files are replaced one after the other, each atomically, arrays first; the old
    arrays.npz is kept as PREVIOUS (a hard link, so no copy) until the new session.json (the commit)
    is in place. session.json names its arrays by hash, so a reader that finds new arrays beside the
    old session.json takes PREVIOUS instead (`_read_members`). Before this, a kill between the two
    replacements (4 of 4 tries) left a folder that no longer opened.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(folder)
    current, previous = folder / "arrays.npz", folder / PREVIOUS
    if current.is_file():
        previous.unlink(missing_ok=True)
        try:
            os.link(current, previous)
        except OSError:  # a file system without hard links: a copy
            atomic_write_bytes(previous, current.read_bytes())
    atomic_write_bytes(current, arrays)
    atomic_write_bytes(folder / "session.json", meta)
    previous.unlink(missing_ok=True)


def _remove_stale_temps(folder: Path) -> None:
    """Temp files that a killed write left (up to the full size), older than STALE_SECONDS."""
    now = time.time()
    for tmp in folder.glob(".*.tmp"):
        if tmp.name.startswith((".arrays.npz.", ".session.json.")):
            try:
                if now - tmp.stat().st_mtime > STALE_SECONDS:
                    tmp.unlink()
            except OSError:
                pass


def save_session(session, path: str | Path) -> Path:
    """Save to a folder, or to one zip file when the path ends in `.gradplay`."""
    path = Path(path)
    meta, arrays = session_files(session)
    if path.suffix == ".gradplay":
        atomic_write_bytes(path, pack_session(meta, arrays))
    else:
        write_folder(path, meta, arrays)
    return path


def pack_session(meta: bytes, arrays: bytes) -> bytes:
    """The bytes of a `.gradplay` file from its two members (a zip; no session needed, so a
    background thread can compress while the GUI goes on)."""
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("session.json", meta)
        z.writestr("arrays.npz", arrays)
    return buf.getvalue()


def _size(n: float) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n / 2**10:,.0f} KB"


def _limit(path: Path, member: str, size: int, compressed: int | None = None) -> None:
    """SessionFileError when a member would unpack to more than gradplay reads (see MAX_*)."""
    cap = MAX_JSON_BYTES if member == "session.json" else MAX_ARRAYS_BYTES
    if compressed is not None:
        cap = min(cap, max(MIN_RATIO_ALLOWANCE, MAX_RATIO * compressed))
    if size > cap:
        raise SessionFileError(f"{path}: {member} would take {_size(size)} when read, more than the "
                               f"{_size(cap)} gradplay reads for it (a damaged or hostile file?)")


def regular_file(path: Path) -> os.stat_result:
    """stat() of `path`, which must be a regular file (not a FIFO, a device such as /dev/zero, a
    socket or a folder); OSError otherwise. Symlinks to regular files are fine."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise IsADirectoryError(21, "is a folder") if stat.S_ISDIR(st.st_mode) else OSError(
            f"{path} is not a regular file (a pipe, device or socket), so it is not read")
    return st


def _read_regular(path: Path, member: str) -> bytes:
    _limit(path.parent, member, regular_file(path).st_size)
    with open(path, "rb") as f:
        return f.read()


def _read_zip_member(z: zipfile.ZipFile, path: Path, member: str) -> bytes:
    infos = [i for i in z.infolist() if i.filename == member]
    if len(infos) > 1:  # zipfile reads the last one, unzip shows the first
        raise SessionFileError(f"{path} holds {len(infos)} members named {member}: not a file gradplay wrote")
    if not infos:
        raise KeyError(member)
    info = infos[0]
    _limit(path, member, info.file_size, info.compress_size)
    return z.read(info)  # zipfile stops at the declared size, so the check above bounds it


def _matching_arrays(path: Path, arrays: bytes, want: Any) -> bytes:
    """The arrays.npz that a session folder's session.json names by hash (see `write_folder`):
    `arrays` itself, or PREVIOUS when a save was interrupted between the two files. (A .gradplay
    file is written whole, at once; files written before the hash have none.)"""
    if not path.is_dir() or not isinstance(want, str) or hashlib.sha256(arrays).hexdigest() == want:
        return arrays
    previous = path / PREVIOUS
    if previous.exists():
        kept = _read_regular(previous, "arrays.npz")
        if hashlib.sha256(kept).hexdigest() == want:  # the previous save, whole
            return kept
    raise SessionFileError(f"{path}: arrays.npz does not belong to session.json (a save was interrupted, "
                           f"or the file was changed)")


def _read_members(path: Path) -> tuple[bytes, bytes]:
    try:
        if path.is_dir():
            return _read_regular(path / "session.json", "session.json"), _read_regular(path / "arrays.npz",
                                                                                        "arrays.npz")
        regular_file(path)
        with zipfile.ZipFile(path) as z:
            return _read_zip_member(z, path, "session.json"), _read_zip_member(z, path, "arrays.npz")
    except SessionFileError:  # (a ValueError too: it carries its own message)
        raise
    except FileNotFoundError as e:
        raise SessionFileError(f"{path} is not a gradplay session: {Path(e.filename or '').name or 'file'} "
                               f"is missing") from None
    except KeyError as e:
        raise SessionFileError(f"{path} is not a gradplay session: the member {e} is missing") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as e:
        # zlib.error: damaged compressed data; RuntimeError: an encrypted member;
        # NotImplementedError: a compression method Python does not have
        raise SessionFileError(f"{path} is not a readable gradplay session ({_brief(e)})") from None


def load_session(path: str | Path):
    """Open a saved session (folder or .gradplay) and return a Session ready to continue."""
    from .session import Session

    path = Path(path)
    meta_b, arrays_b = _read_members(path)
    try:
        meta = json.loads(meta_b.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        # RecursionError: thousands of nested brackets, which no gradplay file has; ValueError
        # (besides JSONDecodeError): an integer of more than 4,300 digits
        raise SessionFileError(f"{path}: session.json is corrupt ({_brief(e)})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SessionFileError(f"{path} is not a gradplay session file (no '{FORMAT}' format marker)")
    arrays_b = _matching_arrays(path, arrays_b, meta.get("arrays_sha256"))
    version = meta.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise SessionFileError(f"{path} was written by a newer gradplay (format version {version}); "
                               f"this gradplay reads versions up to {VERSION}: please upgrade")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SessionFileError(f"{path}: session.json has no valid format version (got "
                               f"{config_mod._show(version)}; expected a whole number from 1 to {VERSION})")
    try:
        cfg = config_mod.resolve(meta["config"])
    except (KeyError, config_mod.ConfigError) as e:
        raise SessionFileError(f"{path}: the saved config is invalid: {_brief(e, name=False)}") from None
    _check_npz(path, arrays_b)
    try:
        with np.load(_io.BytesIO(arrays_b), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as e:  # numpy raises many kinds on a damaged zip/npy
        raise SessionFileError(f"{path}: arrays.npz is corrupt ({_brief(e)})") from None
    session = Session(cfg)
    if "state" in meta:
        try:
            state = join_state(meta["state"], arrays)
            check_state(session, state)
            session.restore(state)
        except Exception as e:  # restore() validates too, with numpy's and the optimizers' errors
            raise SessionFileError(f"{path}: the saved training state does not fit its config "
                                   f"({_brief(e)})") from None
        try:
            check_contract(session, meta.get("steps"), arrays)
        except ValueError as e:
            raise SessionFileError(f"{path}: arrays.npz does not describe this run "
                                   f"({_brief(e, name=False)})") from None
    return session


def _check_npz(path: Path, data: bytes) -> None:
    """Before numpy inflates or allocates anything: every .npy member of arrays.npz is within the
    limits, and its header declares no more bytes than the member holds (numpy allocates the
    declared shape before it reads)."""
    where = f"{path}: arrays.npz"
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as z:
            total = 0
            for info in z.infolist():
                _limit(path, f"arrays.npz member {info.filename}", info.file_size,
                       info.compress_size if info.compress_type != zipfile.ZIP_STORED else None)
                total += info.file_size
                _limit(path, "arrays.npz", total)
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                if dtype.hasobject:
                    raise SessionFileError(f"{where} member {info.filename} holds Python objects, which gradplay "
                                           f"never writes and does not read")
                declared = math.prod(shape) * dtype.itemsize
                if declared > info.file_size:
                    raise SessionFileError(f"{where} member {info.filename} declares {_size(declared)} of data "
                                           f"but holds {_size(info.file_size)}: the file is damaged")
    except SessionFileError:
        raise
    except Exception as e:  # a damaged zip or npy header: numpy and zipfile raise many kinds
        raise SessionFileError(f"{where} is corrupt ({_brief(e)})") from None


def _brief(e: BaseException, name: bool = True, limit: int = 300) -> str:
    """An exception as one short line (zipfile quotes whole damaged headers in its messages)."""
    text = " ".join(str(e).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(e).__name__}: {text}" if name else text


# ----------------------------------------------------------------------------- validating a state
def _real_arrays(obj: Any, where: str) -> None:
    """Every array of a state holds real numbers (numpy would cast complex or text silently or late)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "iuf":
            raise ValueError(f"{where} holds {obj.dtype} values; a session file stores real numbers")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _real_arrays(v, f"{where}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _real_arrays(v, f"{where}.{i}")


def check_state(session, state: Any) -> None:
    """Raise ValueError unless `state` (a snapshot read from a file) can belong to `session`'s config.

    `Session.restore` trusts its snapshot; a file may hold anything, so the pieces that restore would
    accept but that would fail later are checked here, each by its field of core/state.py.
    """
    needed = TrainingState.required_keys(session)
    if not isinstance(state, dict) or not needed <= set(state):
        raise ValueError(f"the state needs the keys {sorted(needed)}")
    _real_arrays(state, "state")
    step = check_int(state["step"], "step", 0, MAX_STEP)
    session.seek_settings(step)  # the optimizer the timeline had in force at that step
    TrainingState.check(state, session, step)


def _per_step(arrays: dict[str, np.ndarray], key: str, lengths: set[int], width: int | None) -> int | None:
    """The length of a per-step contract array (None if absent): one of `lengths`, `width` columns."""
    if key not in arrays:
        return None
    a = check_array(arrays[key], key)
    want = (1,) if width is None else (2,)
    if a.ndim != want[0] or len(a) not in lengths or (width is not None and a.shape[1] != width):
        rows = " or ".join(f"{n:,}" for n in sorted(lengths))
        raise ValueError(f"{key} must have {rows} rows{'' if width is None else f' of {width}'}, got shape "
                         f"{a.shape}")
    return len(a)


def check_contract(session, steps: Any, arrays: dict[str, np.ndarray]) -> None:
    """Raise ValueError unless the file's contract arrays (docs/FORMATS.md) belong to the restored
    `session`: the step count, the final parameters, the per-step arrays' lengths and the data's shapes.

    Nothing in gradplay trains from these arrays, but scripts read them, and a file whose `loss`
    or `final.W1` disagrees with the state it carries describes a run that never happened.
    """
    s = session
    if steps is not None and check_int(steps, "steps", 0, MAX_STEP) != s.step:
        raise ValueError(f"session.json says {steps} steps but its state is at step {s.step}")
    # per-step arrays: the app's (thinned) history, or every step of a headless run
    rows, extra = len(s.history), int(s.problem.traces_path)  # a trajectory includes its start
    lengths = {rows + extra, s.step + extra}
    counts = {_per_step(arrays, "loss", lengths, None),
              _per_step(arrays, "trajectory" if extra else "grad_norm", lengths, 2 if extra else s.n_layers)}
    if len(counts - {None}) > 1:
        raise ValueError("loss and " + ("trajectory" if extra else "grad_norm") + " differ in length")
    if extra:
        if "trajectory" in arrays and not np.array_equal(arrays["trajectory"][-1], s.theta):
            raise ValueError("the trajectory does not end at the saved parameters")
        return
    p = s.problem
    assert isinstance(p, DatasetProblem)
    for split in ("x_train", "y_train", "x_test", "y_test"):
        if split in arrays and arrays[split].shape != getattr(p.data, split).shape:
            raise ValueError(f"{split} must have the shape {getattr(p.data, split).shape} of the config's "
                             f"data, got {arrays[split].shape}")
    for k, v in p.model.params().items():
        for stage in ("init", "final"):
            a = arrays.get(f"{stage}.{k}")
            if a is not None and a.shape != v.shape:
                raise ValueError(f"{stage}.{k} must have the shape {v.shape}, got {a.shape}")
        if f"final.{k}" in arrays and not np.array_equal(arrays[f"final.{k}"], v):
            raise ValueError(f"final.{k} differs from the saved parameters")
    if "batch_index" in arrays:
        b = check_array(arrays["batch_index"], "batch_index", integer=True)
        if b.ndim != 2 or len(b) != s.step:
            raise ValueError(f"batch_index must have one row per step ({s.step:,}), got shape {b.shape}")
        if b.size and (b.min() < -1 or b.max() >= s.n_train):
            raise ValueError(f"batch_index must hold sample indices below {s.n_train} (or -1)")
