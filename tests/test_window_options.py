"""Launch options and window keys through the real window (pytest-qt, offscreen, real clips,
real model): ``--mirror/--no-mirror`` and the mirror default (cameras mirrored, files not),
``--size``, the O key, fullscreen (F / Esc), and ``--renderer auto`` choosing the CPU on
software OpenGL (in a process of its own under Xvfb, as in ``tests/glx.py``).

The camera is the real ``CameraSource`` on top of a stand-in for ``cv2.VideoCapture`` that
serves a real clip's frames at the size asked for, as a webcam driver does."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from colorme_live.app.config import AppConfig
from colorme_live.cli import build_parser
from colorme_live.core.cameras import DEFAULT_CAMERA_SIZE
from colorme_live.core.live import LiveFrame
from colorme_live.core.sources import VideoFileSource
from tests.conftest import REPO, clip
from tests.glx import Xvfb
from tests.test_app import _collect, _wait_for

CLIP = "lp_d12_man_wavy_brown_hair_motion"  # 512x512, 25 fps
OTHER_CLIP = "tk_man_black_hair_guitar_head_motion"  # 320x320
FIRST_FRAMES = 30


@pytest.fixture
def video(media_dir: Path) -> Path:
    return clip(media_dir, CLIP)


@pytest.fixture(scope="module")
def decoded(media_dir: Path) -> list[np.ndarray]:
    """The clip's first frames, as the file holds them."""
    with VideoFileSource(clip(media_dir, CLIP)) as source:
        return [source.read().image for _ in range(FIRST_FRAMES)]  # type: ignore[union-attr]


class FakeCapture:
    """A webcam driver: opens, takes the requested size, and delivers the clip's frames (scaled
    to that size) at 25 fps. ``served`` keeps what it delivered, by read number."""

    last: FakeCapture | None = None

    def __init__(self, video: Path) -> None:
        self._source = VideoFileSource(video, loop=True)
        self._size = self._source.size
        self.requested: dict[int, float] = {}
        self.served: list[np.ndarray] = []
        self._lock = threading.Lock()
        FakeCapture.last = self

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def set(self, prop: int, value: float) -> bool:
        self.requested[prop] = value
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            self._size = (int(value), self._size[1])
        elif prop == cv2.CAP_PROP_FRAME_HEIGHT:
            self._size = (self._size[0], int(value))
        return True

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(self._size[0])
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(self._size[1])
        if prop == cv2.CAP_PROP_FPS:
            return 25.0
        return 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(0.04)
        with self._lock:
            if self._source is None:
                return False, None
            frame = self._source.read()
        assert frame is not None
        image = cv2.resize(frame.image, self._size, interpolation=cv2.INTER_AREA)
        if len(self.served) < FIRST_FRAMES:
            self.served.append(image)
        return True, image

    def release(self) -> None:
        with self._lock:
            if self._source is not None:
                self._source.close()
                self._source = None


@pytest.fixture
def camera(video: Path, monkeypatch: pytest.MonkeyPatch) -> type[FakeCapture]:
    FakeCapture.last = None
    monkeypatch.setattr(
        "colorme_live.core.sources.cv2.VideoCapture", lambda index, api: FakeCapture(video)
    )
    return FakeCapture


def _config(argv: list[str]) -> AppConfig:
    """The window's config for a command line, as ``colorme-live ARGS`` makes it."""
    return AppConfig.from_args(build_parser().parse_args(argv))


def _early(qtbot, frames: list[LiveFrame]) -> LiveFrame:  # type: ignore[no-untyped-def]
    return _wait_for(qtbot, frames, lambda f: 0 < f.frame.index < FIRST_FRAMES)


@pytest.mark.parametrize(
    ("argv", "mirrored"), [([], False), (["--mirror"], True), (["--no-mirror"], False)]
)
def test_a_file_is_not_mirrored_unless_asked(  # type: ignore[no-untyped-def]
    qtbot, make_window, video, decoded, argv, mirrored
):
    config = _config(["--video", str(video), *argv])
    window = make_window(source=config.source)
    live = _early(qtbot, _collect(window))
    original = decoded[live.frame.index]
    expected = cv2.flip(original, 1) if mirrored else original
    np.testing.assert_array_equal(live.frame.image, expected)
    assert not np.array_equal(original, cv2.flip(original, 1))  # the test can tell


@pytest.mark.parametrize(("argv", "mirrored"), [([], True), (["--no-mirror"], False)])
def test_a_camera_is_mirrored_unless_asked_not_to(  # type: ignore[no-untyped-def]
    qtbot, make_window, camera, argv, mirrored
):
    window = make_window(source=_config(argv).source)
    live = _early(qtbot, _collect(window))
    served = camera.last.served[live.frame.index]
    expected = cv2.flip(served, 1) if mirrored else served
    np.testing.assert_array_equal(live.frame.image, expected)


def test_size_is_asked_of_the_camera_and_shown(qtbot, make_window, camera):  # type: ignore[no-untyped-def]
    window = make_window(source=_config(["--size", "320x240"]).source)
    frames = _collect(window)
    live = _wait_for(qtbot, frames, lambda f: f.mask_index is not None and f.image is not None)
    requested = camera.last.requested
    assert (requested[cv2.CAP_PROP_FRAME_WIDTH], requested[cv2.CAP_PROP_FRAME_HEIGHT]) == (320, 240)
    assert live.frame.image.shape == (240, 320, 3) and live.image.shape == (240, 320, 3)
    qtbot.waitUntil(lambda: "320x240" in window.source_label.text(), timeout=5000)


def test_o_opens_a_video_file_unmirrored_from_a_camera(  # type: ignore[no-untyped-def]
    qtbot, make_window, camera, media_dir, monkeypatch
):
    other = clip(media_dir, OTHER_CLIP)
    camera_shape = (DEFAULT_CAMERA_SIZE[1], DEFAULT_CAMERA_SIZE[0], 3)  # what the camera is asked
    asked: list[tuple[object, ...]] = []

    def choose(*args: object, **kwargs: object) -> tuple[str, str]:
        asked.append(args)
        return chosen

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    window = make_window(source=_config([]).source)
    frames = _collect(window)
    _wait_for(qtbot, frames, lambda f: f.frame.image.shape == camera_shape)
    chosen = ("", "")  # the user cancels the dialog: the camera goes on
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert len(asked) == 1
    n = len(frames)
    qtbot.waitUntil(lambda: len(frames) > n + 5, timeout=10_000)
    assert all(f.frame.image.shape == camera_shape for f in frames[n:])
    chosen = (str(other), "")
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert len(asked) == 2
    live = _wait_for(qtbot, frames, lambda f: f.frame.image.shape == (320, 320, 3))
    qtbot.waitUntil(lambda: OTHER_CLIP in window.source_label.text(), timeout=5000)
    with VideoFileSource(other) as source:
        first = [source.read().image for _ in range(live.frame.index + 1)]  # type: ignore[union-attr]
    np.testing.assert_array_equal(live.frame.image, first[live.frame.index])  # not mirrored


def test_f_and_esc_enter_and_leave_fullscreen(qtbot, make_window, video):  # type: ignore[no-untyped-def]
    window = make_window(source=_config(["--video", str(video)]).source)
    toolbars = window._toolbars
    assert not window.isFullScreen()
    qtbot.keyClick(window, Qt.Key.Key_F)
    qtbot.waitUntil(window.isFullScreen, timeout=5000)
    assert not any(bar.isVisible() for bar in toolbars) and not window.statusBar().isVisible()
    qtbot.keyClick(window, Qt.Key.Key_H)  # Esc first closes the help...
    assert window.help_overlay.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.help_overlay.isVisible() and window.isFullScreen()
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # ...then leaves fullscreen
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5000)
    assert all(bar.isVisible() for bar in toolbars) and window.statusBar().isVisible()
    qtbot.keyClick(window, Qt.Key.Key_F)  # F toggles
    qtbot.waitUntil(window.isFullScreen, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5000)
    assert all(bar.isVisible() for bar in toolbars)


_AUTO_RENDERER = """
import logging, sys
from PySide6.QtWidgets import QApplication
from colorme_live.app.config import AppConfig
from colorme_live.app.view import CpuFrameView, choose_view_factory
from colorme_live.app.window import MainWindow
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
app = QApplication([])
factory, name = choose_view_factory("auto")
window = MainWindow(AppConfig(), view_factory=factory)
print("AUTO", name, type(window.view).__name__, isinstance(window.view, CpuFrameView))
print("FORCED", choose_view_factory("gl")[1])
window.close()
"""


def test_auto_renderer_draws_on_the_cpu_on_software_opengl(tmp_path: Path) -> None:
    """Under Xvfb, OpenGL 3.3 works but is Mesa's llvmpipe (software): ``auto`` builds the
    window on the CPU view and says why; ``gl`` still gets the OpenGL view if forced."""
    xvfb = Xvfb()
    try:
        env = dict(
            os.environ,
            DISPLAY=xvfb.display,
            QT_QPA_PLATFORM="xcb",
            COLORME_SETTINGS=str(tmp_path / "settings.ini"),
        )
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.run(
            [sys.executable, "-c", _AUTO_RENDERER],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        xvfb.close()
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "AUTO cpu CpuFrameView True" in out, out
    assert "FORCED gl" in out, out
    why = [line for line in out.splitlines() if line.startswith("renderer: CPU, because")]
    assert len(why) == 1 and "software OpenGL only" in why[0] and "llvmpipe" in why[0], out
