"""Fixtures shared by every test directory."""
import pytest


@pytest.fixture
def pil_image():
    """Pillow's Image module, for tests that write or read GIFs and PNGs. Pillow is a dependency
    (GIF export); an environment installed without it skips these tests and runs the rest."""
    return pytest.importorskip("PIL.Image", reason="Pillow is not installed: pip install -e '.[test]'")
