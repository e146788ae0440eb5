"""One decision of what a source argument names, used by the app, `run`, `export`, `shot` and File → Open.

Before, four places guessed: `gradplay RUN_DIR/session.json` failed with "not valid TOML" while File →
Open accepted the same file.
"""
import shutil
import subprocess
import sys

import pytest

from gradplay import source
from gradplay.core import config, io
from gradplay.core.io import SessionFileError
from gradplay.core.session import Session
from gradplay.presets import DEFAULT_PRESET, preset_names

XOR = '[task]\nname = "xor"\nn_samples = 40\n[network]\nhidden = [3]\n'


@pytest.fixture
def saved(tmp_path):
    """A config, a .gradplay file, a session folder (as `gradplay run` writes) and a renamed .gradplay."""
    cfg = tmp_path / "xor.toml"
    cfg.write_text(XOR)
    s = Session(config.load(cfg))
    s.run(7)
    zipped = io.save_session(s, tmp_path / "run.gradplay")
    folder = io.save_session(s, tmp_path / "folder_run")
    renamed = tmp_path / "backup.bak"
    shutil.copy(zipped, renamed)
    return {"toml": cfg, "zip": zipped, "folder": folder, "json": folder / "session.json", "renamed": renamed}


def test_each_kind_of_source(saved):
    cases = {
        None: ("preset", DEFAULT_PRESET, None),
        "xor_relu": ("preset", "xor_relu", None),
        str(saved["toml"]): ("config", "xor", saved["toml"]),
        saved["zip"]: ("session", "run", saved["zip"]),
        saved["folder"]: ("session", "folder_run", saved["folder"]),
        saved["json"]: ("session", "folder_run", saved["folder"]),  # session.json stands for its folder
        saved["renamed"]: ("session", "backup", saved["renamed"]),  # a zip is a session whatever its name
    }
    for arg, (kind, name, path) in cases.items():
        got = source.classify(arg)
        assert (got.kind, got.name, got.path) == (kind, name, path), arg


def test_each_kind_loads_what_it_names(saved):
    assert source.load(None)["meta"] == source.load(DEFAULT_PRESET)["meta"]
    assert source.load(saved["toml"])["task"]["name"] == "xor"
    for key in ("zip", "folder", "json", "renamed"):
        opened = source.load(saved[key])
        assert isinstance(opened, Session) and opened.step == 7, key


def test_what_names_nothing_is_a_clear_error(tmp_path):
    with pytest.raises(config.ConfigError, match="unknown preset 'no_such'.*choose one of: .*spiral_tanh"):
        source.classify("no_such")
    with pytest.raises(config.ConfigError, match="file not found"):
        source.classify(tmp_path / "missing.toml")
    with pytest.raises(config.ConfigError, match="file not found"):
        source.classify("some/where/run.gradplay")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SessionFileError, match="without session.json"):
        source.classify(tmp_path / "empty")
    with pytest.raises(config.ConfigError, match="empty"):
        source.classify("  ")


def test_every_preset_is_a_preset_source():
    for name in preset_names():
        assert source.classify(name).kind == "preset"


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gradplay", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_commands_agree_on_a_session_json(saved, tmp_path):
    p = _cli("export", saved["json"], "--out", tmp_path / "exp", "--formats", "csv", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "exp" / "history.csv").exists()
    p = _cli("run", saved["json"], "--steps", "3", "--out", tmp_path / "o", cwd=tmp_path)
    assert p.returncode == 2 and "is a saved session, not a config" in p.stderr, p.stderr
    assert "not valid TOML" not in p.stderr


def test_export_refuses_configs_and_presets_by_name(saved, tmp_path):
    for arg, kind in ((saved["toml"], "config"), ("xor_relu", "preset")):
        p = _cli("export", arg, "--out", tmp_path / "exp", cwd=tmp_path)
        assert p.returncode == 2 and f"is a {kind}, not a saved session" in p.stderr, p.stderr


def test_the_app_and_shot_open_a_session_json(saved):
    from gradplay.gui.app import load_source  # what `gradplay SOURCE` and `gradplay shot SOURCE` call

    opened = load_source(str(saved["json"]))
    assert isinstance(opened, Session) and opened.step == 7


def test_a_gradplay_link_is_a_source_everywhere(tmp_path):
    """`gradplay gradplay://…`, `gradplay run gradplay://…`: the shared setup, not a missing file."""
    import subprocess
    import sys

    from gradplay.core import share
    from gradplay.presets import load_preset
    from gradplay.source import classify

    cfg = load_preset("xor_relu")
    link = share.link(cfg)
    src = classify(link)
    assert src.kind == "link" and src.load_config() == cfg
    p = subprocess.run([sys.executable, "-m", "gradplay", "run", link, "--steps", "5", "--out", tmp_path / "r"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "r" / "session.json").exists()


def test_a_link_in_a_message_and_a_pasted_setup_are_sources():
    """`gradplay open "try this: gradplay://…"` and `gradplay open "$(cat setup.txt)"` (issue 16)."""
    from gradplay.core import share
    from gradplay.presets import load_preset

    cfg = load_preset("xor_relu")
    for text in (f"try this one: {share.link(cfg)} (steps 200)", share.text(cfg)):
        src = source.classify(text)
        assert src.kind == "link" and src.load_config() == cfg
    broken = source.classify("see gradplay://eJzLSM3JyVcozy_KSQEAGgQEXQ")  # cut short
    with pytest.raises(config.ConfigError, match="damaged|cut short|gradplay:// link"):
        broken.load_config()


def test_gradplay_open_opens_the_app_on_its_source(monkeypatch, capsys):
    from gradplay import cli
    from gradplay.core import share
    from gradplay.presets import load_preset

    opened = []
    monkeypatch.setattr(cli, "cmd_gui", lambda args: opened.append((args.source, args.play)) or 0)
    link = share.link(load_preset("xor_relu"))
    assert cli.main(["open", link, "--play"]) == 0
    assert cli.main(["open", "spiral_tanh"]) == 0
    assert opened == [(link, True), ("spiral_tanh", False)]
    with pytest.raises(SystemExit) as stop:  # `gradplay open` with nothing to open: argparse's usage error
        cli.main(["open"])
    assert stop.value.code == 2 and "gradplay open" in capsys.readouterr().err
