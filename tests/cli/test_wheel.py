"""A non-editable install works: the wheel, installed into a fresh venv outside the checkout, runs
the commands a new user types, from another folder.

Until presets moved into the package, `pip install .` gave an app that could not start: the presets
lived in the checkout's assets/ folder, which no wheel carries.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
COPY_IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", "venv",
                                     ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", "*.png",
                                     "*.gradplay", "out", "runs")


def _check(cmd, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert p.returncode == 0, f"{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return p


def _stop_children(venv: Path) -> None:
    """Stop what the installed gradplay left running (a child filling Numba's cache outlives a short
    run on purpose; here its venv is about to be deleted)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(venv) in cmdline and int(proc.name) != os.getpid():
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder, environment, working folder) of gradplay installed from its wheel."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=COPY_IGNORE)  # a pristine copy: the build writes build/ there
    _check([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(work / "dist")])
    wheels = list((work / "dist").glob("gradplay-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    _check([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    # pip of this environment installs into the new one (with the runtime dependencies, from pip's
    # cache or the configured index), so the venv needs no pip of its own
    _check([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
            str(wheels[0])])
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "GRADPLAY"))}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_CACHE_HOME=str(work / "cache"),
               XDG_CONFIG_HOME=str(work / "config"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    yield venv / "bin", env, elsewhere
    _stop_children(venv)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    bin_dir, env, cwd = installed
    p = _check([str(bin_dir / "python"), "-c", "import gradplay; print(gradplay.__file__)"], env=env, cwd=cwd)
    where = Path(p.stdout.strip())
    assert bin_dir.parent in where.parents and ROOT not in where.parents


def test_presets_lists_every_preset_of_the_source_tree(installed):
    bin_dir, env, cwd = installed
    p = _check([str(bin_dir / "gradplay"), "presets"], env=env, cwd=cwd)
    listed = [line.split()[0] for line in p.stdout.splitlines() if line.strip()]
    shipped = sorted(f.stem for f in (ROOT / "gradplay" / "presets").glob("*.toml"))
    assert listed == shipped and "spiral_tanh" in listed


def test_headless_run_of_the_default_preset(installed):
    bin_dir, env, cwd = installed
    _check([str(bin_dir / "gradplay"), "run", "spiral_tanh", "--steps", "50", "--out", "run1"], env=env, cwd=cwd)
    meta = json.loads((cwd / "run1" / "session.json").read_text())
    assert meta["steps"] == 50 and meta["config"]["task"]["name"] == "spiral"
    with np.load(cwd / "run1" / "arrays.npz") as z:
        assert z["loss"].shape == (50,) and np.isfinite(z["loss"]).all()
    # ... and `python -m gradplay` is the same command, opening what `run` wrote
    _check([str(bin_dir / "python"), "-m", "gradplay", "export", "run1/session.json", "--out", "exp",
            "--formats", "csv"], env=env, cwd=cwd)
    assert (cwd / "exp" / "history.csv").stat().st_size > 0


def test_shot_renders_the_window(installed, pil_image):
    bin_dir, env, cwd = installed
    _check([str(bin_dir / "gradplay"), "shot", "--steps", "20", "--out", "x.png"], env=env, cwd=cwd)
    with pil_image.open(cwd / "x.png") as im:
        assert im.size == (1600, 1000)
        colours = im.convert("RGB").resize((64, 40)).getcolors(64 * 40)
        assert colours is not None and len(colours) > 20, "a blank image"


def test_the_app_opens_on_its_default_preset_with_its_icon(installed):
    bin_dir, env, cwd = installed
    code = ("from gradplay.gui.app import build_window\n"
            "w = build_window(None, autosave=False)\n"
            "from PySide6 import QtWidgets\n"
            "app = QtWidgets.QApplication.instance()\n"
            "print(w.controller.session.config['meta']['title'])\n"
            "print(app.windowIcon().isNull())\n")
    p = _check([str(bin_dir / "python"), "-c", code], env=env, cwd=cwd)
    title, icon_null = p.stdout.strip().splitlines()[-2:]
    shipped = (ROOT / "gradplay" / "presets" / "spiral_tanh.toml").read_text()
    assert f'"{title}"' in shipped, (title, "is not the spiral_tanh preset's title")
    assert icon_null == "False"


def test_desktop_entry_installs_with_this_gradplay(installed, tmp_path):
    bin_dir, env, cwd = installed
    _check([str(bin_dir / "gradplay"), "install-desktop", "--data-dir", str(tmp_path)], env=env, cwd=cwd)
    entry = (tmp_path / "applications" / "gradplay.desktop").read_text()
    assert f"Exec={bin_dir / 'gradplay'} %f" in entry.splitlines()
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "gradplay.svg").read_bytes().startswith(b"<?xml")
