"""Shared fixtures: the real model and real media from ``../shared`` (never the network).

``COLORME_SHARED`` overrides where ``shared/`` is; tests that need it skip with a clear reason
where it is absent (a user's clone), and CI always has it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COLORME_SHARED", REPO.parent / "shared")).resolve()
MEDIA = Path(os.environ.get("COLORME_MEDIA", SHARED / "media"))
SHARED_MODEL = SHARED / "models" / "hair_segmenter_derived.tflite"
LEGACY_MODEL = SHARED / "models" / "hair_segmentation.tflite"

# Everything the tests start (the CLI in-process or as a subprocess) uses the shared model, so
# nothing ever tries to download one.
if SHARED_MODEL.is_file():
    os.environ.setdefault("COLORME_MODEL", str(SHARED_MODEL))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path} (it lives in ../shared; set COLORME_SHARED)")
    return path


@pytest.fixture(scope="session")
def media_dir() -> Path:
    return _need(MEDIA, "the shared media")


@pytest.fixture(scope="session")
def model_path() -> Path:
    return _need(SHARED_MODEL, "the shared hair model")


@pytest.fixture(scope="session")
def legacy_model_path() -> Path:
    return _need(LEGACY_MODEL, "the raw legacy hair model")


def clip(media_dir: Path, stem: str) -> Path:
    return _need(media_dir / "videos" / f"{stem}.mp4", f"clip {stem}")


@pytest.fixture
def segmenter(model_path: Path) -> Iterator[object]:
    from colorme_live.core.segmentation import HairSegmenter

    with HairSegmenter(model_path) as seg:
        yield seg
