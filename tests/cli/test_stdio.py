"""The command line on pipes, full disks, closed streams and Ctrl+C: one line, the right exit code, and
no lost steps. Each case once ended in a traceback, or lost a run."""
import json
import os
import signal
import subprocess
import sys
import time

CMD = [sys.executable, "-m", "gradplay"]


def test_a_reader_that_leaves_ends_the_command_quietly():
    p = subprocess.Popen([*CMD, "presets"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()  # `gradplay presets | head -1`
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0 and first.strip() and "Traceback" not in err, err


def test_a_full_disk_on_stdout_is_one_line_and_status_1(tmp_path):
    with open("/dev/full", "w") as full:
        p = subprocess.run([*CMD, "run", "xor_relu", "--steps", "20", "--out", tmp_path / "run"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=300)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == ["gradplay: error: cannot write the output: No space left on device"]
    assert json.loads((tmp_path / "run" / "session.json").read_text())["steps"] == 20  # the run is saved


def test_a_closed_stderr_is_no_reason_to_fail(tmp_path):
    p = subprocess.run([*CMD, "run", "xor_relu", "--steps", "20", "--out", tmp_path / "run", "-q"],
                       stdout=subprocess.PIPE, timeout=300, preexec_fn=lambda: os.close(2))
    assert p.returncode == 0
    assert (tmp_path / "run" / "arrays.npz").exists()


def test_out_is_checked_before_training(tmp_path):
    (tmp_path / "a_file").write_text("")
    t0 = time.monotonic()
    p = subprocess.run([*CMD, "run", "spiral_tanh", "--steps", "100000000", "--out", tmp_path / "a_file" / "run"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "cannot write to" in p.stderr and "Not a directory" in p.stderr, p.stderr
    assert time.monotonic() - t0 < 60, "it refused at once instead of training 10^8 steps first"


def test_ctrl_c_saves_the_steps_done(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen([*CMD, "run", "xor_relu", "--steps", "10000000", "--out", out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(5)  # imports, then training
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and "Traceback" not in err, err
    steps = json.loads((out / "session.json").read_text())["steps"]
    assert steps > 0 and f"saved the {steps:,} steps done" in err


def test_shot_writes_png_only_and_atomically(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    p = subprocess.run([*CMD, "shot", "--steps", "2", "--out", tmp_path / "s.jpg"], capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 2 and "must name a .png file" in p.stderr and not (tmp_path / "s.jpg").exists()
    p = subprocess.run([*CMD, "shot", "--steps", "2", "--out", tmp_path / "s.png"], capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [f.name for f in tmp_path.iterdir()] == ["s.png"]  # no temp file left


def test_an_empty_out_is_refused(tmp_path):
    p = subprocess.run([*CMD, "run", "xor_relu", "--steps", "3", "--out", ""], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert p.returncode == 2 and "--out is empty" in p.stderr and list(tmp_path.iterdir()) == []


def test_a_session_claiming_a_billion_steps_exports_small_and_fast(tmp_path):
    """A 16 KB session with "step": 10^9 grew `export --formats py` to 11.2 GB in 60 s (a batch per
    step) and `--formats gif` replayed every step. Now the script covers the first steps and says so,
    and no GIF is made."""
    from gradplay.core import config, io
    from gradplay.core.session import Session

    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 100}, "network": {"hidden": [3]},
                                "training": {"batch_size": 10}}))
    s.run(20)
    s.step = 10**9
    path = io.save_session(s, tmp_path / "claims.gradplay")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.monotonic()
    p = subprocess.run([*CMD, "export", path, "--out", tmp_path / "exp", "--formats", "py,gif"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr
    assert "covers the first 300,000 of the run's 1,000,000,000 steps" in p.stderr
    assert "no GIF: it would replay all 1,000,000,000 steps" in p.stderr
    assert (tmp_path / "exp" / "train_torch.py").stat().st_size < 40 * 2**20
    assert not (tmp_path / "exp" / "landscape.gif").exists()
    assert time.monotonic() - t0 < 300


def test_export_size_is_bounded(tmp_path):
    p = subprocess.run([*CMD, "export", tmp_path / "none.gradplay", "--out", tmp_path / "e", "--size", "100000x100000"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "--size must be at most 8192x8192" in p.stderr


def test_a_run_too_long_for_memory_is_refused_before_training(tmp_path):
    t0 = time.monotonic()
    p = subprocess.run([*CMD, "run", "spiral_tanh", "--steps", "3000000000", "--out", tmp_path / "o"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "needs about 1,728.0 GB for its per-step arrays" in p.stderr, p.stderr
    assert time.monotonic() - t0 < 60  # (`--steps 60000000` reached 6.5 GB in 14 s before)
