"""The edit timeline: a run edited while it trains is written down, replayed and exported as it happened.

The reference for "as it happened" is an independent run: the same steps driven by hand, one
`set_config` at each edit, which is what the app does. A replay from `run_config` (save and reopen,
the GIF, the PyTorch script) must give the same bits.
"""
import re
import subprocess
import sys

import numpy as np
import pytest

from gradplay.core import config, io, timeline, torch_script
from gradplay.core.export import timeline_csv
from gradplay.core.session import Session

SPIRAL = {"task": {"name": "spiral", "n_samples": 160}, "network": {"hidden": [6, 4]},
          "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 16}}
# an lr change, an optimizer switch, a batch-size change (to full and back), a penalty and clipping
EDITS = [(30, {"optimizer": {"lr": 0.05}}),
         (60, {"optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9}}),
         (90, {"training": {"batch_size": "full", "l2": 0.001}}),
         (110, {"training": {"batch_size": 7, "clip_norm": 0.5}})]
STEPS = 140


def edited_by_hand(fast: bool = False) -> Session:
    """The run as the app makes it: train, and change the settings with set_config between steps."""
    s = Session(config.resolve(SPIRAL), fast=fast)
    for step, change in EDITS:
        s.run(step - s.step)
        s.set_config(config.with_changes(s.config, **change))
    s.run(STEPS - s.step)
    return s


def same_run(a: Session, b: Session) -> None:
    assert a.step == b.step and np.array_equal(a.theta, b.theta)
    assert np.array_equal(a.history.get("loss"), b.history.get("loss"))
    assert np.array_equal(a.history.get("lr"), b.history.get("lr"))
    assert a.config == b.config


def test_app_edits_are_recorded_at_their_steps():
    s = edited_by_hand()
    steps = [e["step"] for e in s.timeline]
    assert steps == [30, 60, 90, 110] and all(e["origin"] == "app" for e in s.timeline)
    assert s.timeline[0]["optimizer.lr"] == 0.05
    assert s.timeline[1]["optimizer.name"] == "sgd" and s.timeline[1]["optimizer.momentum"] == 0.9
    assert s.timeline[2]["training.batch_size"] == "full" and s.timeline[2]["training.l2"] == 0.001
    lr = s.history.get("lr")
    assert lr[29] == 0.01 and lr[30] == 0.05  # step k trains with the edit made after k steps


def test_replaying_the_run_config_gives_the_same_bits():
    s = edited_by_hand()
    replay = Session(s.run_config)
    replay.run(STEPS)
    same_run(s, replay)


def test_the_compiled_path_replays_the_same_bits():
    ref = edited_by_hand(fast=False)
    got = Session(ref.run_config)
    for k in (13, 47, 50, 30):  # slices that cut across the edits
        got.run(k)
    same_run(ref, got)


def test_a_scripted_timeline_is_the_run_edited_by_hand():
    raw = dict(SPIRAL, timeline=[{"step": 30, "optimizer.lr": 0.05},
                                 {"step": 60, "optimizer.name": "sgd", "optimizer.lr": 0.05, "optimizer.momentum": 0.9},
                                 {"step": 90, "training.batch_size": "full", "training.l2": 0.001},
                                 {"step": 110, "training.batch_size": 7, "training.clip_norm": 0.5}])
    scripted = Session(config.resolve(raw), fast=False)
    scripted.run(STEPS)
    same_run(edited_by_hand(), scripted)


def test_the_timeline_survives_save_and_reopen_and_continues_bit_for_bit(tmp_path):
    raw = dict(SPIRAL, timeline=[{"step": 100, "optimizer.lr": 0.002}])  # a scripted edit after the save
    s = Session(config.resolve(raw))
    s.run(40)
    s.set_config(config.with_changes(s.config, optimizer={"name": "rmsprop", "lr": 0.01}))
    s.run(20)
    back = io.load_session(io.save_session(s, tmp_path / "edited.gradplay"))
    assert back.timeline == s.timeline and back.config == s.config and back.optimizer.name == "rmsprop"
    title, tip = timeline.title(back.run_config)
    assert title == "edited run" and tip.startswith("Changed in the app:\nstep 40: optimizer.name = rmsprop")
    s.run(80)
    back.run(80)
    same_run(s, back)
    assert s.history.get("lr")[100] == 0.002


def test_a_twin_trained_in_a_thread_brings_the_edits_back():
    s = Session(config.resolve(dict(SPIRAL, timeline=[{"step": 25, "optimizer.name": "sgd"}])))
    twin = s.clone()
    twin.run(40)
    assert s.sync_from(twin) is True and s.config["optimizer"]["name"] == "sgd"
    ref = Session(s.run_config)
    ref.run(40)
    s.run(10)
    ref.run(10)
    same_run(ref, s)


def test_reset_replays_the_script_but_keeps_the_users_settings():
    scripted = Session(config.resolve(dict(SPIRAL, timeline=[{"step": 5, "optimizer.lr": 0.5}])))
    scripted.run(10)
    scripted.reset()
    assert scripted.config["optimizer"]["lr"] == 0.01 and len(scripted.timeline) == 1
    edited = edited_by_hand()
    edited.reset()
    assert edited.step == 0 and edited.config["optimizer"]["name"] == "sgd" and edited.timeline == []


def test_an_architecture_change_restarts_and_says_so():
    s = Session(config.resolve(SPIRAL))
    s.run(10)
    s.set_config(config.with_changes(s.config, network={"hidden": [5]}))
    assert s.step == 0
    assert s.timeline == [{"step": 0, "network.hidden": [5], "origin": "app", "restart": True}]
    assert "network.hidden" in timeline.title(s.run_config)[1]
    again = config.resolve(s.run_config)  # a restart entry is valid config: it reloads
    assert again["timeline"] == s.timeline


def test_timeline_csv_lists_every_change():
    text = timeline_csv(edited_by_hand())
    rows = [line.split(",") for line in text.strip().splitlines()]
    assert rows[0] == ["step", "key", "value", "origin", "restart"]
    assert ["30", "optimizer.lr", "0.05", "app", "false"] in rows
    assert any(r[:2] == ["90", "training.batch_size"] and "full" in r[2] for r in rows)


@pytest.mark.parametrize("entry,words", [
    ({"step": 5, "optimizer.lrr": 1}, "unknown key 'optimizer.lrr'"),
    ({"step": 5, "optimizer.lr": -1}, "timeline entry at step 5: 'optimizer.lr' = -1"),
    ({"step": 5, "network.hidden": [3]}, "would restart training"),
    ({"step": 5, "nonsense": 1}, "unknown key 'nonsense'"),
    ({"optimizer.lr": 0.1}, "has no step"),
    ({"step": -1, "optimizer.lr": 0.1}, "step"),
    ({"step": 5}, "changes nothing"),
    ({"step": 5, "optimizer.momentum": 0.9}, "momentum"),  # adam takes no momentum
])
def test_bad_entries_get_clear_messages(entry, words):
    with pytest.raises(config.ConfigError, match=re.escape(words)):
        config.resolve(dict(SPIRAL, timeline=[entry]))


def test_steps_must_rise():
    with pytest.raises(config.ConfigError, match="steps must rise"):
        config.resolve(dict(SPIRAL, timeline=[{"step": 9, "optimizer.lr": 0.1}, {"step": 9, "optimizer.lr": 0.2}]))


def test_the_timeline_round_trips_through_toml():
    cfg = config.resolve(dict(SPIRAL, timeline=[{"step": 9, "optimizer.name": "sgd", "training.batch_size": "full"}]))
    text = config.dumps(cfg)
    assert '[[timeline]]\nstep = 9\n"optimizer.name" = "sgd"' in text
    assert config.loads(text) == cfg


def test_set_arguments_parse():
    assert timeline.parse_set("optimizer.lr=0.3@1000") == ("optimizer.lr", 0.3, 1000)
    assert timeline.parse_set("optimizer.name=sgd@5") == ("optimizer.name", "sgd", 5)
    assert timeline.parse_set('training.batch_size="full"@7') == ("training.batch_size", "full", 7)
    with pytest.raises(config.ConfigError, match="section.key=VALUE@STEP"):
        timeline.parse_set("optimizer.lr=0.3")


# ----------------------------------------------------------------------------- the PyTorch script
def _script_losses(script: str, tmp_path) -> np.ndarray:
    path = tmp_path / "train_torch.py"
    path.write_text(script)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return np.array([float(m.group(1)) for m in re.finditer(r"^step \d+ loss (\S+)$", out.stdout, re.M)])


def test_the_script_of_an_edited_run_prints_its_losses(tmp_path):
    pytest.importorskip("torch")
    s = edited_by_hand()
    theirs = _script_losses(torch_script.torch_script(s), tmp_path)
    ours = s.history.get("loss")
    assert len(theirs) == STEPS == len(ours)
    assert np.max(np.abs(theirs - ours) / np.abs(ours)) < 1e-8
    # the script of the final settings alone (what the export wrote before the timeline) is another run
    final_only = dict(s.config, timeline=[])
    wrong = _script_losses(torch_script.torch_script(final_only, steps=STEPS), tmp_path)
    assert np.max(np.abs(wrong - ours) / np.abs(ours)) > 1e-3


def test_the_script_of_an_edited_landscape_run(tmp_path):
    pytest.importorskip("torch")
    raw = {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.01},
           "timeline": [{"step": 20, "optimizer.name": "sgd", "optimizer.lr": 0.0005, "optimizer.momentum": 0.9},
                        {"step": 40, "schedule.name": "step", "schedule.step_size": 5, "training.clip_norm": 1.0}]}
    s = Session(config.resolve(raw))
    s.run(60)
    theirs = _script_losses(torch_script.torch_script(s), tmp_path)
    ours = s.history.get("loss")
    assert np.max(np.abs(theirs - ours) / np.abs(ours)) < 1e-8
