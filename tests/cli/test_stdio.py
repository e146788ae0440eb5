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
    p = subprocess.Popen([*CMD, "run", "xor_relu", "--steps", "100000000", "--out", out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(5)  # imports, then training
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and "Traceback" not in err, err
    steps = json.loads((out / "session.json").read_text())["steps"]
    assert steps > 0 and f"saved the {steps:,} steps done" in err
