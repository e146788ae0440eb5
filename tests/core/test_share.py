"""Setups as text: the TOML and the gradplay:// line both give back the config they were made from."""
import base64
import zlib

import pytest

from gradplay.core import config, share
from gradplay.presets import load_preset, preset_names


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_survives_the_link_and_the_text(name):
    cfg = load_preset(name)
    assert share.parse(share.link(cfg)) == cfg
    assert share.parse(share.text(cfg)) == cfg
    assert share.parse(f"look at this: {share.link(cfg)} !") == cfg  # a link inside a chat message


def test_a_link_fits_in_a_chat_message():
    link = share.link(load_preset("spiral_tanh"))
    assert link.startswith("gradplay://") and len(link) < 1000 and "\n" not in link


@pytest.mark.parametrize("pasted,words", [
    ("", "no text"),
    ("gradplay://not-base64!", "damaged"),
    ("gradplay://" + base64.urlsafe_b64encode(b"not zlib").decode(), "damaged"),
    ("gradplay://" + base64.urlsafe_b64encode(zlib.compress(b"x" * (3 * 2**20))).decode().rstrip("="),
     "inflates to more than"),
    ("gradplay://" + base64.urlsafe_b64encode(zlib.compress(b"[optimizer]\nname = 'adamm'\n")).decode(),
     "optimizer.name"),
    ("[task]\nname = 5", "task.name"),
    ("x" * (3 * 2**20), "characters"),
])
def test_bad_pastes_are_clear_errors(pasted, words):
    with pytest.raises(config.ConfigError, match=words):
        share.parse(pasted)
