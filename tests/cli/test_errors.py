"""The `gradplay` command on bad input: one clear line on stderr, a non-zero exit, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from gradplay.cli import main
from gradplay.core import config, io
from gradplay.core.session import Session

XOR = '[task]\nname = "xor"\nn_samples = 40\n[network]\nhidden = [3]\n'


def gradplay(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "gradplay.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def assert_clean_failure(p: subprocess.CompletedProcess, code: int, *words: str) -> str:
    assert p.returncode == code, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.startswith("gradplay")]
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.mark.parametrize("toml,words", [
    ("seed = = 1", ["not valid TOML"]),
    ("[optimizer]\nname = 'adam'\nlr = nan\n", ["optimizer.lr", "nan", "0 to 1000000"]),
    ("[optimizer]\nname = 'adam'\nlr = inf\n", ["optimizer.lr", "inf"]),
    ("seed = 123456789012345678901234567890\n", ["seed", "0 to 2147483647"]),
    ("[task]\nn_samples = {a = 1}\n", ["task.n_samples", "a table"]),
    ("[network]\nhidden = [8, [8]]\n", ["network.hidden[1]", "integer"]),
    ("[network]\nhidden = [8, 8, 8, 8, 8, 8, 8, 8, 8]\n", ["network.hidden", "0 to 8"]),
    ("[training]\nbatch_size = 1979-05-27\n", ["training.batch_size", "date"]),
    ("[task]\nname = 'sine'\n[loss]\nname = 'cross_entropy'\n", ["loss.name", "sine", "mse"]),
    ("[meta]\ntitle = '\u00e9t\u00e9 \u6f22'\n[optimizer]\nname = 'lion'\n", ["optimizer.name", "lion", "adam"]),
    ("[task]\nn_samples = 2000\n[optimizer]\nname = 'newton'\n[network]\nhidden = [40, 40]\n[training]\n"
     "batch_size = 'full'\n", ["newton", "s per step", "network.hidden"]),
    ("[bogus]\nx = 1\n", ["bogus", "allowed keys"]),
    ("a = " + "[" * 3000 + "]" * 3000 + "\n", ["nested"]),
])
def test_bad_configs(tmp_path, toml, words):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml, encoding="utf-8")
    p = gradplay("run", str(cfg), "--steps", "3", "--out", str(tmp_path / "out"))
    assert_clean_failure(p, 2, *words)
    assert not (tmp_path / "out").exists(), "nothing is written for a config that does not resolve"


def test_files_that_are_not_configs(tmp_path):
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00\x01")
    (tmp_path / "folder.toml").mkdir()
    for name, words in (("binary.toml", ["cannot read", "binary.toml"]), ("folder.toml", ["folder.toml"]),
                        ("missing.toml", ["not found", "missing.toml"])):
        p = gradplay("run", str(tmp_path / name), "--steps", "1", "--out", str(tmp_path / "o"))
        assert_clean_failure(p, 2, *words)


def test_a_session_given_to_run(tmp_path):
    io.save_session(Session(config.loads(XOR)), tmp_path / "s.gradplay")
    p = gradplay("run", str(tmp_path / "s.gradplay"), "--steps", "1", "--out", str(tmp_path / "o"))
    assert_clean_failure(p, 2, "saved session, not a config")


@pytest.mark.parametrize("make", ["garbage", "truncated", "newer", "foreign", "empty"])
def test_bad_session_files(tmp_path, make):
    good = tmp_path / "good.gradplay"
    io.save_session(Session(config.loads(XOR)), good)
    bad = tmp_path / "bad.gradplay"
    if make == "garbage":
        bad.write_bytes(os.urandom(300))
    elif make == "truncated":
        bad.write_bytes(good.read_bytes()[:-200])
    elif make == "empty":
        bad.write_bytes(b"")
    else:
        with zipfile.ZipFile(good) as z:
            meta, arrays = z.read("session.json").decode(), z.read("arrays.npz")
        meta = meta.replace('"version": 1', '"version": 7') if make == "newer" else '{"hello": "world"}'
        bad.write_bytes(io.pack_session(meta.encode(), arrays))
    words = {"newer": ["newer gradplay", "upgrade"], "foreign": ["not a gradplay session"]}.get(make, ["bad.gradplay"])
    for args in (["export", str(bad), "--out", str(tmp_path / "e"), "--formats", "csv"], [str(bad)]):
        p = gradplay(*args)  # `gradplay bad.gradplay` opens no window: the file fails first
        assert_clean_failure(p, 2, *words)


def test_bad_config_for_the_app_opens_no_window(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[optimizer]\nname = 'adamm'\n")
    assert_clean_failure(gradplay(str(cfg), "--play"), 2, "optimizer.name", "adamm")
    assert_clean_failure(gradplay("no_such_preset"), 2, "unknown preset", "spiral_tanh")


def test_impossible_requests(tmp_path):
    cfg = tmp_path / "ok.toml"
    cfg.write_text(XOR)
    (tmp_path / "a_file").write_text("")
    assert_clean_failure(gradplay("run", str(cfg), "--steps", "-1", "--out", str(tmp_path / "o")), 2, "--steps")
    # 10^14 steps need ~800 TB for the per-step arrays: an error, not a MemoryError traceback
    assert_clean_failure(gradplay("run", str(cfg), "--steps", str(10**14), "--out", str(tmp_path / "o")), 1,
                         "not enough memory", "--steps")
    assert_clean_failure(gradplay("run", str(cfg), "--steps", "2", "--out", str(tmp_path / "a_file")), 1,
                         "cannot write", "a_file")
    for size in ("0x0", "100000x100000", "big"):  # a giant offscreen window crashed Qt (SIGSEGV)
        assert_clean_failure(gradplay("shot", str(cfg), "--steps", "1", "--out", str(tmp_path / "s.png"),
                                      "--size", size), 2, "--size")


def test_interrupt_exits_130(tmp_path, monkeypatch, capsys):
    from gradplay.core import headless

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(headless, "record", interrupted)
    cfg = tmp_path / "ok.toml"
    cfg.write_text(XOR)
    assert main(["run", str(cfg), "--steps", "5", "--out", str(tmp_path / "o"), "-q"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_a_run_beyond_the_machine_is_warned_or_refused_before_training(tmp_path, monkeypatch, capsys):
    """8×256 on 8,000 samples in one batch: on a 0.9 GB machine a warning with the estimate, and the run
    goes on; on a 0.5 GB machine it would not fit at all: refused before the first step."""
    from gradplay.core import cost

    cfg = tmp_path / "big.toml"
    cfg.write_text('[task]\nname = "spiral"\nn_samples = 8000\n[network]\nhidden = [256, 256, 256, 256]\n'
                   '[training]\nbatch_size = "full"\n')
    monkeypatch.setattr(cost, "available_memory", lambda: 9 * 10**8)
    assert main(["run", str(cfg), "--steps", "1", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "warning: This network" in err and "GB of memory while it trains, of the 0.9 GB" in err
    monkeypatch.setattr(cost, "available_memory", lambda: 5 * 10**8)
    assert main(["run", str(cfg), "--steps", "1", "--out", str(tmp_path / "o2")]) == 1
    assert "not enough memory: This network" in capsys.readouterr().err
    assert not (tmp_path / "o2" / "session.json").exists()
