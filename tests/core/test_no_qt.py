"""gradplay.core must run without a display: importing it loads no Qt module."""
import subprocess
import sys


def test_core_imports_no_qt():
    code = ("import sys, gradplay.core.session, gradplay.core.io, gradplay.core.headless, gradplay.presets;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')];"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
