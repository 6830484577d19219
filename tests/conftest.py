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
SHARED_FACE_MODEL = SHARED / "models" / "blaze_face_short_range.tflite"

# Everything the tests start (the CLI in-process or as a subprocess) uses the shared model, so
# nothing ever tries to download one.
if SHARED_MODEL.is_file():
    os.environ.setdefault("COLORME_MODEL", str(SHARED_MODEL))
if SHARED_FACE_MODEL.is_file():
    os.environ.setdefault("COLORME_FACE_MODEL", str(SHARED_FACE_MODEL))
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


def colorme_threads() -> list[str]:
    """Names of the app's worker threads still alive."""
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("colorme-")]


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the user's QSettings."""
    from colorme_live.app.prefs import SETTINGS_ENV

    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


@pytest.fixture
def make_window(qtbot, tmp_path: Path, isolated_settings: Path):  # type: ignore[no-untyped-def]
    """Opens started ``MainWindow``s (offscreen) on an ``AppConfig``; on teardown shuts them
    down and checks that no worker thread is left. Qt is imported only by the tests using it."""
    import time

    from colorme_live.app.config import AppConfig
    from colorme_live.app.window import MainWindow

    windows: list[MainWindow] = []

    def make(**config: object) -> MainWindow:
        config.setdefault("output_dir", tmp_path / "out")
        window = MainWindow(AppConfig(**config), retry_interval=0.2)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        window.show()
        window.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
    deadline = time.monotonic() + 2.0
    while colorme_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not colorme_threads(), "threads left running after the test"
