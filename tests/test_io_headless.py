"""The frame sources and the recorder are core modules: they must never pull in Qt."""

from __future__ import annotations

import subprocess
import sys


def test_sources_and_recording_do_not_import_qt() -> None:
    code = (
        "import sys, colorme_live.core.sources, colorme_live.core.recording\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'PyQt', 'shiboken'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
