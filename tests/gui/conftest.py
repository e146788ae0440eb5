"""Shared GUI fixtures: sessions built from raw configs and a stand-in for the window's controller."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from gradplay.core import config
from gradplay.core.session import Session


@pytest.fixture
def make_session():
    """Build a Session from a partial raw config (defaults filled in by config.resolve)."""

    def make(raw: dict) -> Session:
        return Session(config.resolve(raw))

    return make


@pytest.fixture
def holder():
    """What panels are given by the window: any object with a replaceable `session` attribute."""
    return SimpleNamespace(session=None)
