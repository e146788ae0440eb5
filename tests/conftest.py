"""Fixtures shared by every test directory."""
import os

import pytest


@pytest.fixture
def pil_image():
    """Pillow's Image module, for tests that write or read GIFs and PNGs. Pillow is a dependency
    (GIF export); an environment installed without it skips these tests and runs the rest."""
    return pytest.importorskip("PIL.Image", reason="Pillow is not installed: pip install -e '.[test]'")


# CI sets GRADPLAY_REQUIRE_TORCH=1 and installs the torch extra: the PyTorch cross-checks must run
# there, so a test skipped for want of torch fails instead of passing quietly.
REQUIRE_TORCH = os.environ.get("GRADPLAY_REQUIRE_TORCH", "") == "1"


def pytest_sessionstart(session):
    if REQUIRE_TORCH:
        try:
            import torch  # noqa: F401
        except ImportError as e:
            raise pytest.UsageError(f"GRADPLAY_REQUIRE_TORCH=1 but torch cannot be imported ({e}); "
                                    f"pip install -e '.[test,torch]'") from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_TORCH and report.skipped and "torch" in str(report.longrepr).lower():
        report.outcome = "failed"
        report.longrepr = f"skipped for want of torch although GRADPLAY_REQUIRE_TORCH=1: {report.longrepr}"
