"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The shared real-photo media folder: ``$COLORME_MEDIA`` if set, else ``../shared/media``
    next to the repository. Skips the test if it is not there (the media are not in git)."""
    env = os.environ.get("COLORME_MEDIA")
    path = Path(env) if env else Path(__file__).parents[1] / ".." / "shared" / "media"
    path = path.resolve()
    if not path.is_dir():
        pytest.skip(f"shared media folder not found: {path} (set COLORME_MEDIA to its location)")
    return path
