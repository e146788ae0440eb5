"""Text from configs and session files is shown as plain text: a preset or a session could draw HTML
in the Setup header (a large red fake message, an <img> of a local file) and in the status bar."""
import pytest
from PySide6 import QtCore

from gradplay.core import config

MARKUP = "<h1 style='color:red'>Your files are encrypted</h1><img src='/etc/passwd'>"


def test_titles_and_descriptions_are_plain_text(make_window):
    w = make_window(config.resolve({"meta": {"title": MARKUP, "description": MARKUP, "try": MARKUP},
                                    "task": {"name": "xor"}}))
    header = w.panels["setup"].header
    for label in (header.title, header.description, header.try_):
        assert label.textFormat() == QtCore.Qt.TextFormat.PlainText
        assert MARKUP in label.text()


def test_a_saved_halt_message_is_plain_text(make_window):
    w = make_window(config.resolve({"task": {"name": "xor"}}))
    w.show_halt(MARKUP)
    assert w.banner.text.textFormat() == QtCore.Qt.TextFormat.PlainText and MARKUP in w.banner.text.text()
    assert w.status.textFormat() == QtCore.Qt.TextFormat.PlainText


@pytest.mark.parametrize("text,words", [("a\x00b", r"control character U\+0000"), ("x" * 5000, "at most 4,000")])
def test_control_characters_and_huge_texts_are_refused(text, words):
    with pytest.raises(config.ConfigError, match=words):
        config.resolve({"meta": {"title": text}})
