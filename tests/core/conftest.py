import pytest

from gradplay.core import config
from gradplay.core.session import Session


@pytest.fixture
def make_session():
    def make(**raw) -> Session:
        return Session(config.resolve(raw))
    return make
