"""Shared fixtures: the real model and real media from ``../shared`` (never the network).

``COLORME_SHARED`` overrides where ``shared/`` is; tests that need it skip with a clear reason
where it is absent (a user's clone), and CI always has it.

``COLORME_REQUIRE_ALL=1`` (set by ``.ci/run``) turns every skip into a failure that says what
was skipped and why, so CI cannot go green while quietly skipping part of the suite;
``COLORME_MIN_TESTS=N`` with it fails a run that passed fewer than N tests."""

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


REQUIRE_ALL_ENV = "COLORME_REQUIRE_ALL"
MIN_TESTS_ENV = "COLORME_MIN_TESTS"


def require_all() -> bool:
    return os.environ.get(REQUIRE_ALL_ENV, "") not in ("", "0")


def _skip_reason(longrepr: object) -> str:
    """The reason of a skip report (``(path, line, "Skipped: why")``)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under ``COLORME_REQUIRE_ALL``, a skipped test (a ``skip``/``skipif``, a fixture that
    skips) is reported as failed, with the skip's reason."""
    report = yield
    if require_all() and report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under {REQUIRE_ALL_ENV}=1 (CI runs every test): {reason}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    """The same for a whole module skipped at import (``pytest.skip(allow_module_level=True)``)."""
    report = yield
    if require_all() and report.skipped:
        reason = _skip_reason(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"module skipped under {REQUIRE_ALL_ENV}=1: {reason}"
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under ``COLORME_REQUIRE_ALL``, fewer passed tests than ``COLORME_MIN_TESTS`` is a
    failure (a CI run that collected or ran only part of the suite)."""
    minimum = os.environ.get(MIN_TESTS_ENV, "")
    if not require_all() or not minimum.isdigit():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    passed = len(reporter.stats.get("passed", [])) if reporter is not None else 0
    if passed < int(minimum):
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(
                f"{MIN_TESTS_ENV}: only {passed} tests passed, CI expects at least {minimum}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
        options = {k: config.pop(k) for k in ("stall_timeout",) if k in config}  # MainWindow's
        window = MainWindow(AppConfig(**config), retry_interval=0.2, **options)  # type: ignore[arg-type]
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
