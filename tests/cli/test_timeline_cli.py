"""`gradplay run` honours a config's [[timeline]] and `--set KEY=VALUE@STEP`; the exported PyTorch script
of such a run prints the losses of its arrays.npz."""
import json
import re
import subprocess
import sys

import numpy as np
import pytest

TOML = """
seed = 4
[task]
name = "moons"
n_samples = 120
[network]
hidden = [5, 4]
[optimizer]
name = "adam"
lr = 0.02
[training]
batch_size = 12
[[timeline]]
step = 40
"optimizer.lr" = 0.05
"""


def gradplay(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gradplay", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_run_with_a_timeline_and_sets_exports_a_script_with_its_losses(tmp_path):
    (tmp_path / "c.toml").write_text(TOML)
    p = gradplay("run", "c.toml", "--steps", 150, "--out", "run", "--set", "optimizer.name=sgd@80",
                 "--set", "optimizer.momentum=0.9@80", "--set", "training.batch_size=full@110", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    meta = json.loads((tmp_path / "run" / "session.json").read_text())
    assert [e["step"] for e in meta["config"]["timeline"]] == [40, 80, 110]
    with np.load(tmp_path / "run" / "arrays.npz") as z:
        loss, bidx = z["loss"], z["batch_index"]
    assert (bidx[110:] == -1).all() and (bidx[:110] >= 0).all()  # full batches after the edit
    p = gradplay("export", "run", "--out", "exp", "--formats", "py,csv", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = (tmp_path / "exp" / "timeline.csv").read_text().splitlines()
    assert rows[0] == "step,key,value,origin,restart" and len(rows) == 1 + 1 + 2 + 1
    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, str(tmp_path / "exp" / "train_torch.py")], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    theirs = np.array([float(m.group(1)) for m in re.finditer(r"^step \d+ loss (\S+)$", out.stdout, re.M)])
    assert len(theirs) == len(loss) == 150
    assert np.max(np.abs(theirs - loss) / np.abs(loss)) < 1e-8


@pytest.mark.parametrize("args,words", [
    (["--set", "optimizer.lr=0.3@500"], "timeline entry at step 500 is past the run's 150 steps"),
    (["--set", "optimizer.lrr=0.3@5"], "unknown key 'optimizer.lrr'"),
    (["--set", "optimizer.lr=-3@5"], "out of range"),
    (["--set", "optimizer.lr"], "--set takes section.key=VALUE@STEP"),
    (["--set", "network.hidden=[3]@5"], "would restart training"),
])
def test_bad_timeline_entries_are_refused_before_training(tmp_path, args, words):
    (tmp_path / "c.toml").write_text(TOML)
    p = gradplay("run", "c.toml", "--steps", 150, "--out", "run", *args, cwd=tmp_path)
    assert p.returncode == 2 and words in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert not (tmp_path / "run").exists()
