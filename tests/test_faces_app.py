"""Faces in the window (pytest-qt, offscreen): the mask view outlines the regions, a wrong face
model is a banner while frames keep coming, and a clip with a face shows its region."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QColor

from colorme_live.app.config import SourceSpec
from colorme_live.app.view import REGION_OUTLINE, CpuFrameView
from colorme_live.core.faces import Face
from colorme_live.core.frames import Frame
from colorme_live.core.live import LiveFrame
from colorme_live.core.pipeline import Region
from colorme_live.core.regions import Square
from colorme_live.core.settings import Settings, View
from tests.conftest import clip

FRAME_TIMEOUT_MS = 30_000


def _outline_pixels(view: CpuFrameView) -> int:
    image = view.grab().toImage().convertToFormat(view.grab().toImage().Format.Format_RGB888)
    w, h = image.width(), image.height()
    ptr = image.constBits()
    rgb = np.frombuffer(ptr, np.uint8, count=image.bytesPerLine() * h).reshape(h, -1)[:, : w * 3]
    rgb = rgb.reshape(h, w, 3).astype(int)
    want = QColor(REGION_OUTLINE)
    target = np.array([want.red(), want.green(), want.blue()])
    return int(np.count_nonzero(np.abs(rgb - target).sum(axis=2) < 30))


def test_the_mask_view_outlines_the_regions(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = CpuFrameView()
    qtbot.addWidget(view)
    view.resize(640, 360)
    view.show()
    image = np.zeros((360, 640, 3), np.uint8)
    regions = (Region(0, Square(100.0, 50.0, 200.0), Face(150, 100, 60, 60, 0.9), True),)
    for v, expect in ((View.MASK, True), (View.RECOLOR, False)):
        settings = Settings(view=v)
        view.show_frame(
            LiveFrame(image, Frame(image, 0, 0.0, 0.0), None, settings, 0, 0.0, {}, regions)
        )
        qtbot.wait(50)
        n = _outline_pixels(view)
        assert (n > 400) is expect, (v, n)


def test_a_wrong_face_model_is_a_banner_and_frames_keep_coming(  # type: ignore[no-untyped-def]
    qtbot, make_window, media_dir: Path, model_path: Path
) -> None:
    video = clip(media_dir, "lp_d12_man_wavy_brown_hair_motion")
    window = make_window(source=SourceSpec(video=video), face_model=model_path)
    frames: list[LiveFrame] = []
    window.frame_displayed.connect(frames.append)
    qtbot.waitUntil(window.banner.isVisible, timeout=FRAME_TIMEOUT_MS)
    assert "not a face detection model" in window.banner.text()
    n = len(frames)
    qtbot.waitUntil(lambda: len(frames) > n + 5, timeout=FRAME_TIMEOUT_MS)


def _sitting_back(src: Path, dest: Path, frames: int = 60) -> Path:
    """``src`` at half the height of a grey 1280x720 frame: a person sitting back."""
    import cv2

    from colorme_live.core.sources import VideoFileSource
    from colorme_live.core.video_writer import H264Writer

    with VideoFileSource(src) as video, H264Writer(dest, 25, (1280, 720)) as out:
        while out.frames_written < frames and (f := video.read()) is not None:
            frame = np.full((720, 1280, 3), 60, np.uint8)
            frame[360:, 400:760] = cv2.resize(f.image, (360, 360), interpolation=cv2.INTER_AREA)
            out.write(frame)
    return dest


def test_a_face_in_the_clip_gets_a_region_and_the_status_says_so(  # type: ignore[no-untyped-def]
    qtbot, make_window, media_dir: Path, tmp_path: Path
) -> None:
    src = clip(media_dir, "lp_d12_man_wavy_brown_hair_motion")
    video = _sitting_back(src, tmp_path / "sitting_back.mp4")
    window = make_window(source=SourceSpec(video=video))
    frames: list[LiveFrame] = []
    window.frame_displayed.connect(frames.append)
    qtbot.waitUntil(lambda: any(f.regions for f in frames), timeout=FRAME_TIMEOUT_MS)
    window._refresh_status()
    assert "faces 1" in window.rate_label.text()
