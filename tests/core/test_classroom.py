"""Classroom mode's `[classroom]` section: checked with clear messages, carried by every form of a
setup (TOML, the gradplay:// line, a saved session), and no training setting."""
import json

import numpy as np
import pytest

from gradplay.core import classroom, config, io, share
from gradplay.core.session import Session

SMALL = {"task": {"name": "spiral", "n_samples": 60}, "network": {"hidden": [4]}}


def test_the_default_hides_nothing_and_is_not_written():
    cfg = config.resolve({})
    assert cfg["classroom"] == {"hide": [], "locked": False}
    assert "classroom" not in config.dumps(cfg)
    assert not classroom.is_on(cfg)


def test_names_are_kept_in_the_dialogs_order():
    cfg = config.resolve({"classroom": {"hide": ["presets", "seed", "optimizer"], "locked": True}})
    assert cfg["classroom"] == {"hide": ["optimizer", "seed", "presets"], "locked": True}
    assert classroom.is_on(cfg)


@pytest.mark.parametrize("section,words", [
    ({"hide": ["learning_rate"]}, "'classroom.hide[0]' = 'learning_rate' is not known; choose one of: task, "
                                  "pictures, network, optimizer, hyperparameters"),
    ({"hide": "optimizer"}, "'classroom.hide' must be a list of names of controls to hide"),
    ({"hide": ["seed", "seed"]}, "'classroom.hide' lists 'seed' twice"),
    ({"hide": [3]}, "'classroom.hide[0]' = 3 is not known"),
    ({"locked": "yes"}, "'classroom.locked' must be true or false"),
    ({"hidden": []}, "unknown key 'classroom.hidden'; allowed keys: hide, locked"),
    (["optimizer"], "'classroom' must be a table"),
])
def test_a_bad_section_names_the_key_and_what_is_allowed(section, words):
    with pytest.raises(config.ConfigError) as e:
        config.resolve({"classroom": section})
    assert words in str(e.value)


def test_every_name_is_listed_in_the_message():
    with pytest.raises(config.ConfigError) as e:
        config.resolve({"classroom": {"hide": ["nope"]}})
    for name in ("task", "pictures", "network", "optimizer", "hyperparameters", "training", "schedule",
                 "seed", "stop", "gradients", "diagnostics", "curvature", "race", "weight_space",
                 "presets", "open", "edit_points"):
        assert name in str(e.value)


def test_it_is_not_a_timeline_key():
    with pytest.raises(config.ConfigError, match=r"'classroom.hide' is classroom mode, which holds for the "
                                                 r"whole run: set it in \[classroom\]"):
        config.resolve({"timeline": [{"step": 5, "classroom.hide": ["seed"]}]})


def test_it_survives_the_toml_the_text_and_the_link():
    cfg = config.resolve({**SMALL, "classroom": {"hide": ["optimizer", "gradients"], "locked": True}})
    text = share.text(cfg)
    assert '[classroom]\nhide = ["optimizer", "gradients"]\nlocked = true\n' in text
    assert config.loads(config.dumps(cfg)) == cfg
    assert share.parse(text) == cfg
    assert share.parse(share.link(cfg))["classroom"] == {"hide": ["optimizer", "gradients"], "locked": True}


def test_a_saved_session_keeps_it(tmp_path):
    s = Session(config.resolve(SMALL))
    s.run(3)
    s.set_config(classroom.with_classroom(s.config, ["network", "open"], locked=True))
    for path in (tmp_path / "run.gradplay", tmp_path / "folder"):
        opened = io.load_session(io.save_session(s, path))
        assert opened.config["classroom"] == {"hide": ["network", "open"], "locked": True}
        assert opened.step == 3
    assert json.loads(io.session_files(s)[0])["config"]["classroom"]["locked"] is True


def test_changing_it_keeps_the_run_and_the_optimizers_state():
    """The run with classroom mode switched on at step 5 trains exactly as the run without it."""
    plain, edited = Session(config.resolve(SMALL)), Session(config.resolve(SMALL))
    plain.run(10)
    edited.run(5)
    optimizer = edited.optimizer
    edited.set_config(classroom.with_classroom(edited.config, ["optimizer", "hyperparameters"]))
    assert edited.step == 5 and edited.optimizer is optimizer and edited.timeline == []
    assert edited.run_config["classroom"]["hide"] == ["optimizer", "hyperparameters"]
    edited.run(5)
    np.testing.assert_array_equal(edited.theta, plain.theta)
    edited.reset()  # back to step 0: the section stays (it is part of the run's config)
    assert edited.config["classroom"]["hide"] == ["optimizer", "hyperparameters"]


def test_an_edit_of_another_setting_keeps_it():
    s = Session(config.resolve({**SMALL, "classroom": {"hide": ["seed"]}}))
    s.run(2)
    s.set_config(config.with_changes(s.config, optimizer={"lr": 0.01}))  # a timeline edit
    s.set_config(config.with_changes(s.config, network={"hidden": [5]}))  # a restart
    s.run(3)
    assert s.config["classroom"]["hide"] == ["seed"] and s.run_config["classroom"]["hide"] == ["seed"]


def test_describe_lists_what_is_hidden():
    cfg = config.resolve({"classroom": {"hide": ["race", "open"], "locked": True}})
    assert classroom.describe(cfg).splitlines() == [
        "Classroom mode (locked) hides:", "• the Race panel",
        "• File → Open… and Edit → Paste setup (another setup)", "View → Classroom mode… changes it."]
