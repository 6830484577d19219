"""Shared fixtures. Media are never copied into the repo: tests read them where they live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The shared media folder: ``$COLORME_MEDIA``, else ``<repo>/../shared/media``."""
    env = os.environ.get("COLORME_MEDIA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "media"
    if not root.is_dir():
        pytest.skip(f"shared media not found at {root} (set COLORME_MEDIA to its folder)")
    return root
