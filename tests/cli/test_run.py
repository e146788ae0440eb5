"""`gradplay run`: the headless contract, reproducibility and clean errors."""
import json
import subprocess
import sys

import numpy as np

from gradplay.cli import main

DATASET_TOML = """
seed = 3
[task]
kind = "dataset"
name = "xor"
n_samples = 100
[network]
hidden = [4, 3]
[optimizer]
name = "sgd"
lr = 0.1
momentum = 0.9
[training]
batch_size = 8
"""


def _run(tmp_path, toml, steps, out="out"):
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    code = main(["run", str(cfg), "--steps", str(steps), "--out", str(tmp_path / out), "-q"])
    assert code == 0
    meta = json.loads((tmp_path / out / "session.json").read_text())
    with np.load(tmp_path / out / "arrays.npz") as z:
        return meta, {k: z[k] for k in z.files}


def test_dataset_run_writes_the_contract(tmp_path):
    meta, arr = _run(tmp_path, DATASET_TOML, 40)
    assert meta["format"] == "gradplay-session" and meta["steps"] == 40
    assert meta["config"]["optimizer"]["nesterov"] is False, "the resolved config has defaults filled in"
    assert {"gradplay", "numpy"} <= set(meta["versions"])
    n_train = 80
    assert arr["x_train"].shape == (n_train, 2) and arr["y_train"].shape == (n_train,)
    assert arr["x_test"].shape == (20, 2)
    for i, (a, b) in enumerate([(2, 4), (4, 3), (3, 1)], start=1):
        assert arr[f"init.W{i}"].shape == (a, b) and arr[f"final.b{i}"].shape == (b,)
    assert arr["loss"].shape == (40,) and arr["grad_norm"].shape == (40, 3)
    assert arr["batch_index"].shape == (40, 8)
    assert not np.array_equal(arr["init.W1"], arr["final.W1"])


def test_function_run_and_bit_identical_repeat(tmp_path):
    toml = '[task]\nkind = "function"\nname = "himmelblau"\n[optimizer]\nname = "rmsprop"\n'
    _, a = _run(tmp_path, toml, 50, "a")
    _, b = _run(tmp_path, toml, 50, "b")
    assert a["trajectory"].shape == (51, 2) and a["loss"].shape == (51,)
    for k in a:
        assert np.array_equal(a[k], b[k])


def test_bad_config_exits_nonzero_without_traceback(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[optimizer]\nname = "adam"\nlr = "fast"\n')
    p = subprocess.run([sys.executable, "-m", "gradplay.cli", "run", str(cfg), "--steps", "5", "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2
    assert "optimizer.lr" in p.stderr and "Traceback" not in p.stderr
    assert p.stdout == ""


def test_help_explains_the_run_contract():
    p = subprocess.run([sys.executable, "-m", "gradplay.cli", "run", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "arrays.npz" in p.stdout and "--steps" in p.stdout
    p = subprocess.run([sys.executable, "-m", "gradplay.cli", "--help"], capture_output=True, text=True)
    assert "gradplay run" in p.stdout and "shot" in p.stdout


def test_piped_run_prints_no_progress_bar(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(DATASET_TOML)
    p = subprocess.run([sys.executable, "-m", "gradplay.cli", "run", str(cfg), "--steps", "600", "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == ""
    assert "600 steps" in p.stdout


def test_run_stops_where_a_stop_condition_says_and_says_which(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(DATASET_TOML + "[stop]\nmax_epochs = 2\n")
    assert main(["run", str(cfg), "--steps", "500", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Stopped at step 20: the run reached 2 epochs" in out  # 80 training rows, batches of 8
    meta = json.loads((tmp_path / "out" / "session.json").read_text())
    assert meta["steps"] == 20 and meta["config"]["stop"]["max_epochs"] == 2
    with np.load(tmp_path / "out" / "arrays.npz") as z:
        assert len(z["loss"]) == len(z["batch_index"]) == 20


def test_dropout_run_repeats_bit_for_bit(tmp_path):
    toml = DATASET_TOML.replace("hidden = [4, 3]", "hidden = [4, 3]\ndropout = [0.25, 0.5]")
    meta, a = _run(tmp_path, toml, 60, "a")
    _, b = _run(tmp_path, toml, 60, "b")
    _, plain = _run(tmp_path, DATASET_TOML, 60, "plain")
    assert meta["config"]["network"]["dropout"] == [0.25, 0.5]
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert np.array_equal(a["batch_index"], plain["batch_index"]), "dropout leaves the batch order alone"
    assert not np.array_equal(a["final.W1"], plain["final.W1"])
