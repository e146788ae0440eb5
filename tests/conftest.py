"""Fixtures shared by every test directory."""
import os

import pytest


@pytest.fixture
def pil_image():
    """Pillow's Image module, for tests that write or read GIFs and PNGs. Pillow is a dependency
    (GIF export); an environment installed without it skips these tests and runs the rest."""
    return pytest.importorskip("PIL.Image", reason="Pillow is not installed: pip install -e '.[test]'")


# The app's run-time dependencies (pyproject.toml). A bare interpreter without them (a system Python,
# not the README's `pip install -e ".[test]"`) stopped on a collection ImportError in whichever
# module came first, or failed dozens of CLI tests one by one; it now gets one line saying what is
# missing and how to install it.
RUNTIME = ("numpy", "numba", "PySide6", "pyqtgraph", "tqdm", "threadpoolctl", "PIL", "hypothesis", "pytestqt")


def _missing_dependencies() -> list[str]:
    import importlib.util

    return [m for m in RUNTIME if importlib.util.find_spec(m) is None]


# CI sets GRADPLAY_REQUIRE_TORCH=1 and installs the torch extra: the PyTorch cross-checks must run
# there, so a test skipped for want of torch fails instead of passing quietly.
REQUIRE_TORCH = os.environ.get("GRADPLAY_REQUIRE_TORCH", "") == "1"


def pytest_sessionstart(session):
    missing = _missing_dependencies()
    if missing:
        raise pytest.UsageError(f"this Python lacks gradplay's dependencies ({', '.join(missing)}): run the "
                                f"tests in the README's environment, pip install -e '.[test]'")
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
