"""`gradplay export` and `gradplay run --export`: every format written without a screen.

Each command runs in a subprocess on Qt's offscreen platform, as on a server without a display.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from gradplay.core.session import Session

DATASET_TOML = """
seed = 1
[meta]
title = "Tiny spiral"
[task]
kind = "dataset"
name = "spiral"
n_samples = 100
[network]
hidden = [6, 6]
[optimizer]
name = "adam"
lr = 0.02
[training]
batch_size = 20
"""
LANDSCAPE_TOML = """
[task]
kind = "function"
name = "himmelblau"
start = [-4.0, 4.0]
[optimizer]
name = "sgd"
lr = 0.005
momentum = 0.5
"""


def gradplay(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "gradplay.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def spiral_run(tmp_path_factory):
    """A headless spiral run of 30 steps saved as a session folder."""
    tmp = tmp_path_factory.mktemp("spiral")
    (tmp / "c.toml").write_text(DATASET_TOML)
    gradplay("run", str(tmp / "c.toml"), "--steps", "30", "--out", str(tmp / "run"), "-q")
    return tmp / "run"


def test_export_writes_every_format(spiral_run, tmp_path, pil_image):
    out = tmp_path / "exports"
    done = gradplay("export", str(spiral_run), "--out", str(out), "--formats", "png,svg,csv,gif,py,summary",
                    "--size", "800x600", "--every", "10")
    panels = ("landscape", "loss", "gradients", "weights")
    expected = {f"{p}.{ext}" for p in panels for ext in ("png", "svg")}
    expected |= {"history.csv", "evals.csv", "timeline.csv", "landscape.gif", "train_torch.py", "summary.png"}
    assert {p.name for p in out.iterdir()} == expected
    assert done.stdout.count("wrote ") == len(expected) and "propagateSizeHints" not in done.stderr
    for p in panels:
        with pil_image.open(out / f"{p}.png") as im:
            assert im.size == (800, 600), p
        texts = ["".join(e.itertext()) for e in ET.parse(out / f"{p}.svg").getroot().iter()
                 if e.tag.endswith("text")]
        assert any("Tiny spiral" in t for t in texts), p  # the header names the run
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 31 and len(rows[0]) == 3 + 3 * 3  # step, loss, lr; 3 per-layer columns × 3 layers
    with pil_image.open(out / "landscape.gif") as im:
        assert im.n_frames == 4  # steps 0, 10, 20, 30
    compile((out / "train_torch.py").read_text(), "train_torch.py", "exec")


def test_export_a_gradplay_file_with_some_formats(tmp_path, pil_image):
    from gradplay.core import config, io

    s = Session(config.loads(LANDSCAPE_TOML))
    s.run(12)
    io.save_session(s, tmp_path / "h.gradplay")
    gradplay("export", str(tmp_path / "h.gradplay"), "--out", str(tmp_path / "o"), "--formats", "png,gif",
             "--scale", "1", "-q")
    # a landscape has no weights panel
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "gradients.png", "landscape.gif", "landscape.png", "loss.png"]
    with pil_image.open(tmp_path / "o" / "landscape.png") as im:
        assert im.size == (720, 640)  # the panel's export size at scale 1
    with pil_image.open(tmp_path / "o" / "landscape.gif") as im:
        assert im.n_frames == 13  # one frame per step: 0 … 12


def test_run_and_export_in_one_go(tmp_path):
    (tmp_path / "c.toml").write_text(LANDSCAPE_TOML)
    gradplay("run", str(tmp_path / "c.toml"), "--steps", "20", "--out", str(tmp_path / "run"),
             "--export", str(tmp_path / "ex"), "--export-formats", "csv,summary", "-q")
    meta = json.loads((tmp_path / "run" / "session.json").read_text())
    assert meta["steps"] == 20
    assert sorted(p.name for p in (tmp_path / "ex").iterdir()) == ["evals.csv", "history.csv", "summary.png",
                                                                   "timeline.csv"]
    with open(tmp_path / "ex" / "history.csv", newline="") as f:
        assert len(list(csv.reader(f))) == 21


def test_export_errors_are_clear(tmp_path, spiral_run):
    (tmp_path / "c.toml").write_text(LANDSCAPE_TOML)
    done = gradplay("export", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o"), check=False)
    assert done.returncode == 2 and "not a saved session" in done.stderr and "--export" in done.stderr
    done = gradplay("export", str(spiral_run), "--out", str(tmp_path / "o"), "--formats", "png,jpeg", check=False)
    assert done.returncode == 2 and "jpeg" in done.stderr and "png" in done.stderr
    done = gradplay("export", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), check=False)
    assert done.returncode == 2 and "missing" in done.stderr
    assert not (tmp_path / "o").exists()
