"""A real full disk (a small tmpfs, where this machine lets a test mount one): the previous save and
the previous picture survive, and the error is one line. Elsewhere these cases are covered by injected
write failures (tests/core/test_hostile_files.py, tests/gui/test_exports.py)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradplay.core import io

CMD = [sys.executable, "-m", "gradplay"]
PAGE = 4096


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs mounted in tmp_path (skipped where mounting is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({p.stderr.decode().strip() or p.returncode}); the injected "
                    f"write failures cover these cases")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill the disk until `leave` bytes (a whole number of pages) are free."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(disk / "filler", "wb") as f:
        f.write(bytes(max(0, free - leave)))


def run(*args, **kw):
    return subprocess.run([*CMD, *map(str, args)], capture_output=True, text=True, timeout=300, **kw)


@pytest.mark.parametrize("room", ["none", "arrays only"])
def test_a_save_that_fills_the_disk_leaves_the_previous_save(small_disk, tmp_path, room):
    """'none': the new arrays.npz does not fit; 'arrays only': it fits and session.json (the commit)
    does not. Either way the folder opens as the 5-step save it was, and the error is one line."""
    folder = small_disk / "K"
    assert run("run", "xor_relu", "--steps", "5", "--out", folder).returncode == 0
    elsewhere = tmp_path / "big"
    assert run("run", "xor_relu", "--steps", "4000", "--out", elsewhere).returncode == 0
    new_arrays = (elsewhere / "arrays.npz").stat().st_size
    fill(small_disk, 0 if room == "none" else -(-new_arrays // PAGE) * PAGE)
    p = run("run", "xor_relu", "--steps", "4000", "--out", folder)
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith(f"gradplay: error: cannot write to {folder}")
    assert "No space left on device" in p.stderr
    assert io.load_session(folder).step == 5
    assert not [f for f in os.listdir(folder) if f.endswith(".tmp")], "a failed write leaves no temp file"


def test_a_shot_that_fills_the_disk_leaves_the_previous_picture(small_disk):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = small_disk / "s.png"
    assert run("shot", "--steps", "2", "--size", "1280x720", "--out", out, env=env).returncode == 0
    before = out.read_bytes()
    fill(small_disk, 0)
    p = run("shot", "--steps", "30", "--size", "1600x1000", "--out", out, env=env)
    assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr
    assert out.read_bytes() == before
    line = p.stderr.strip().splitlines()[-1]
    assert line.startswith("gradplay: error: cannot write") and line.count("cannot write") == 1, line
