"""The live window (pytest-qt, offscreen) on real clips with the real model."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from colorme_live.app.config import SourceSpec
from colorme_live.app.prefs import Prefs
from colorme_live.app.signals import SignalWatcher
from colorme_live.app.view import CpuFrameView, choose_view_factory
from colorme_live.app.window import BINDINGS, MainWindow
from colorme_live.core.errors import InputError
from colorme_live.core.live import LiveFrame
from colorme_live.core.palette import PALETTE
from colorme_live.core.settings import View
from colorme_live.core.sources import VideoFileSource
from colorme_live.core.video_writer import probe_video
from tests.conftest import clip

FRAME_TIMEOUT_MS = 30_000
"""Generous: the first composite of a process loads the Numba kernels (~1-2 s on 2 cores)."""
CLIP = "lp_d12_man_wavy_brown_hair_motion"  # 512x512, 25 fps
BLUE = PALETTE[8]  # electric blue: far from every natural hair colour


def _colorme_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("colorme-")]


@pytest.fixture
def video(media_dir: Path) -> Path:
    return clip(media_dir, CLIP)


def _collect(window: MainWindow) -> list[LiveFrame]:
    frames: list[LiveFrame] = []
    window.frame_displayed.connect(frames.append)
    return frames


def _wait_for(qtbot, frames: list[LiveFrame], pred: Callable[[LiveFrame], bool]) -> LiveFrame:  # type: ignore[no-untyped-def]
    start = len(frames)
    found: list[LiveFrame] = []

    def check() -> None:
        for live in frames[start:]:
            if pred(live):
                found.append(live)
                return
        raise AssertionError("no matching frame yet")

    qtbot.waitUntil(check, timeout=FRAME_TIMEOUT_MS)
    return found[0]


def _recoloured(live: LiveFrame) -> bool:
    return live.mask_index is not None and live.image is not None


def _changed(a: np.ndarray, b: np.ndarray, threshold: int = 12) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > threshold


def _blue_fraction(image_bgr: np.ndarray) -> float:
    """Pixels of a saturated blue hue (the electric-blue recolour; rare in the clips)."""
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return float(np.mean((h >= 100) & (h <= 128) & (s >= 90) & (v >= 40)))


def _decode(path: Path, limit: int = 1000) -> list[np.ndarray]:
    images = []
    with VideoFileSource(path) as src:
        while len(images) < limit and (f := src.read()) is not None:
            images.append(f.image)
    return images


# -- playing ------------------------------------------------------------------------------------


def test_window_plays_a_clip_recoloured(qtbot, make_window, video: Path) -> None:  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video))
    frames = _collect(window)
    live = _wait_for(qtbot, frames, _recoloured)
    assert live.image is not None and live.image.shape == (512, 512, 3)
    changed = _changed(live.image, live.frame.image)
    # the hair changed, most of the picture did not
    assert 0.02 < changed.mean() < 0.6, changed.mean()
    assert window.windowTitle() == "colorme-live"
    assert not window.windowIcon().isNull()
    # the view paints the picture, not the empty background
    qtbot.waitUntil(lambda: window.source_label.text().startswith("video"), timeout=2000)
    grab = window.view.widget().grab().toImage()
    centre = grab.pixelColor(grab.width() // 2, grab.height() // 2)
    assert (centre.red(), centre.green(), centre.blue()) != (18, 19, 24)
    qtbot.waitUntil(lambda: "fps" in window.rate_label.text(), timeout=2000)
    assert "segmentation" in window.rate_label.text()
    # every stage the status bar names is one the engine reports (was: "refine"/"recolor",
    # which the pipeline no longer reported, so the stage figures were always blank)
    qtbot.waitUntil(lambda: "fused" in window.stage_label.text(), timeout=2000)
    for stage in ("segment", "skin", "smooth", "prepare"):
        assert stage in window.stage_label.text()


def test_keys_change_colour_and_intensity_of_the_following_frames(qtbot, make_window, video):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video), intensity=60)
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # pause: changes re-render the held frame
    assert window.engine is not None and window.engine.paused

    def press(key: Qt.Key) -> LiveFrame:
        before = window.engine.settings if window.engine else None
        qtbot.keyClick(window, key)
        settings = window.engine.settings if window.engine else None
        assert settings is not None and settings != before, f"{key} changed nothing"
        assert settings == window.settings
        return _wait_for(qtbot, frames, lambda f: f.settings == settings and _recoloured(f))

    chestnut = press(Qt.Key.Key_3)
    assert chestnut.settings.color == PALETTE[2]
    burgundy = press(Qt.Key.Key_7)
    assert burgundy.settings.color == PALETTE[6]
    assert burgundy.frame.index == chestnut.frame.index  # the same held frame...
    assert _changed(burgundy.image, chestnut.image, 6).mean() > 0.01  # ...other pixels

    assert press(Qt.Key.Key_Right).settings.color == PALETTE[7]
    assert press(Qt.Key.Key_Left).settings.color == PALETTE[6]
    assert press(Qt.Key.Key_0).settings.color == PALETTE[9]
    assert press(Qt.Key.Key_Right).settings.color == PALETTE[0]  # wraps around

    up = press(Qt.Key.Key_Up)
    assert up.settings.intensity == 70
    assert press(Qt.Key.Key_Plus).settings.intensity == 80
    down = press(Qt.Key.Key_Minus)
    assert down.settings.intensity == 70
    assert press(Qt.Key.Key_Down).settings.intensity == 60
    assert window.slider.value() == 60
    window.slider.setValue(0)  # the on-screen control does the same
    zero = _wait_for(qtbot, frames, lambda f: f.settings.intensity == 0)
    assert zero.image is not None and np.array_equal(zero.image, zero.frame.image)
    assert window.swatches.checkedId() == 1

    qtbot.keyClick(window, Qt.Key.Key_Space)  # resume: new frames keep the new look
    assert not window.engine.paused
    moving = _wait_for(qtbot, frames, lambda f: f.frame.index > zero.frame.index + 3)
    assert moving.settings == window.settings


def test_split_view_and_divider_drag(qtbot, make_window, video):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video), color=BLUE, intensity=100)
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    qtbot.keyClick(window, Qt.Key.Key_B)
    assert window.settings.view is View.SPLIT and window.split_action.isChecked()
    _wait_for(qtbot, frames, lambda f: f.settings.view is View.SPLIT)
    view = window.view.widget()
    assert isinstance(view, CpuFrameView)
    # drag the divider to a quarter of the picture (which is centred, square)
    side = min(view.width(), view.height())
    left = (view.width() - side) // 2
    y = view.height() // 2
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(left + side // 2, y))
    qtbot.mouseMove(view, QPoint(left + side // 4, y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(left + side // 4, y))
    assert window.settings.split == pytest.approx(0.25, abs=0.02)
    live = _wait_for(
        qtbot, frames, lambda f: f.settings.split == window.settings.split and _recoloured(f)
    )
    x = round(live.settings.split * 512)
    # left of the divider: the original; right of it: recoloured
    assert np.array_equal(live.image[:, : x - 2], live.frame.image[:, : x - 2])
    assert _changed(live.image[:, x + 2 :], live.frame.image[:, x + 2 :]).mean() > 0.01
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.settings.view is View.MASK
    mask = _wait_for(qtbot, frames, lambda f: f.settings.view is View.MASK and _recoloured(f))
    assert np.array_equal(mask.image[..., 0], mask.image[..., 1])  # grey
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.settings.view is View.RECOLOR


def test_help_overlay_lists_every_key(qtbot, make_window, video):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video))
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.help_overlay.isVisible()
    text = window.help_overlay.label.text()
    for binding in BINDINGS:
        assert binding.label in text and binding.description in text
    assert "1 … 9, 0" in text
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.help_overlay.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Question)
    assert window.help_overlay.isVisible()


def test_snapshot_saves_what_is_shown(qtbot, make_window, video, tmp_path):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video), color=BLUE, intensity=100)
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    qtbot.keyClick(window, Qt.Key.Key_S)
    saved = list((tmp_path / "out").glob("colorme-live-*.png"))
    assert len(saved) == 1
    image = cv2.imread(str(saved[0]))
    assert image.shape == (512, 512, 3)
    assert _blue_fraction(image) > 0.01


def test_cycle_advances_the_palette(qtbot, make_window, video):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video), color=PALETTE[0], cycle_s=0.1)
    qtbot.waitUntil(lambda: window.settings.color == PALETTE[2], timeout=5000)


# -- recording ----------------------------------------------------------------------------------


def test_recording_matches_what_was_shown(qtbot, make_window, video, tmp_path):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video), color=BLUE, intensity=100)
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    qtbot.keyClick(window, Qt.Key.Key_R)
    recorder = window.recorder
    assert recorder is not None and window.record_action.isChecked()
    assert window.hud.isVisible()
    start = len(frames)
    qtbot.waitUntil(lambda: len(frames) >= start + 50, timeout=FRAME_TIMEOUT_MS)
    qtbot.keyClick(window, Qt.Key.Key_R)
    shown = len(frames) - start
    assert window.recorder is None and not recorder.running
    stats = recorder.stats()
    assert recorder.error is None

    saved = list((tmp_path / "out").glob("colorme-live-*.mp4"))
    assert saved == [recorder.path]
    info = probe_video(recorder.path)
    assert info.codec == "h264" and (info.width, info.height) == (512, 512)
    assert info.fps == 25.0
    assert info.frames == stats.written
    assert stats.written == stats.submitted - stats.dropped + stats.repeated
    # every frame the engine produced while recording was submitted; the GUI saw them too,
    # give or take the frames it coalesced and the ones in flight at either key press
    assert abs(stats.submitted - shown) <= 3 + window._bridge.coalesced
    assert stats.repeated <= max(3, stats.submitted // 5)
    recorded = _decode(recorder.path)
    source = _decode(video, limit=len(recorded))
    blue_recorded = np.mean([_blue_fraction(f) for f in recorded])
    blue_source = np.mean([_blue_fraction(f) for f in source])
    assert blue_recorded > 0.02 and blue_recorded > 10 * blue_source


def test_closing_mid_recording_leaves_a_playable_file_and_no_threads(  # type: ignore[no-untyped-def]
    qtbot, make_window, video, tmp_path
):
    target = tmp_path / "launch.mp4"
    window = make_window(source=SourceSpec(video=video), record=target)  # --record FILE
    frames = _collect(window)
    qtbot.waitUntil(lambda: window.recorder is not None, timeout=FRAME_TIMEOUT_MS)
    start = len(frames)
    qtbot.waitUntil(lambda: len(frames) >= start + 20, timeout=FRAME_TIMEOUT_MS)
    t0 = time.monotonic()
    window.close()
    while _colorme_threads() and time.monotonic() - t0 < 1.0:
        time.sleep(0.01)
    assert not _colorme_threads(), f"still running after 1 s: {_colorme_threads()}"
    info = probe_video(target)
    assert info.frames >= 15 and info.codec == "h264"


def test_unwritable_output_folder_is_a_message_and_the_view_keeps_running(  # type: ignore[no-untyped-def]
    qtbot, make_window, video, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    window = make_window(source=SourceSpec(video=video), output_dir=blocker / "videos")
    frames = _collect(window)
    _wait_for(qtbot, frames, lambda f: True)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.recorder is None and not window.record_action.isChecked()
    assert window.banner.isVisible() and "output folder" in window.banner.text()
    n = len(frames)
    qtbot.waitUntil(lambda: len(frames) > n + 5, timeout=FRAME_TIMEOUT_MS)


# -- errors -------------------------------------------------------------------------------------


def test_missing_camera_shows_a_message_and_the_way_out(qtbot, make_window, video, monkeypatch):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(camera=99))
    panel = window.message_panel
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert "No camera 99" in panel.title.text()
    assert "camera 99" in panel.detail.text()
    assert panel.open_button.isVisible() and panel.retry_button.isVisible()
    panel.retry_button.click()  # restarts the search: the message comes back
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(video), ""))
    frames = _collect(window)
    panel.open_button.click()
    _wait_for(qtbot, frames, lambda f: True)
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=5000)


def test_a_bad_model_is_shown_and_frames_keep_coming(qtbot, make_window, video, tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"this is not a model at all")
    window = make_window(source=SourceSpec(video=video), model=bad)
    frames = _collect(window)
    qtbot.waitUntil(window.banner.isVisible, timeout=FRAME_TIMEOUT_MS)
    assert "Hair colouring is off" in window.banner.text()
    assert "not a TFLite model" in window.banner.text()
    n = len(frames)
    live = _wait_for(qtbot, frames, lambda f: len(frames) > n + 5)
    assert live.mask_index is None and np.array_equal(live.image, live.frame.image)


# -- settings, signals, renderer ------------------------------------------------------------


def test_colour_and_intensity_are_remembered(qtbot, make_window, video, isolated_settings):  # type: ignore[no-untyped-def]
    first = make_window(source=SourceSpec(video=video))
    qtbot.keyClick(first, Qt.Key.Key_7)
    qtbot.keyClick(first, Qt.Key.Key_Down)
    expected = (first.settings.color, first.settings.intensity)
    first.close()
    assert isolated_settings.is_file()
    assert (Prefs().color(), Prefs().intensity()) == expected
    second = make_window(source=SourceSpec(video=video))
    assert (second.settings.color, second.settings.intensity) == expected
    third = make_window(source=SourceSpec(video=video), color=PALETTE[1], intensity=30)
    assert (third.settings.color, third.settings.intensity) == (PALETTE[1], 30)


def test_shine_keys_slider_and_memory(qtbot, make_window, video, isolated_settings):  # type: ignore[no-untyped-def]
    """] and [ step the shine by 10, the slider sets it, frames follow, and it is remembered."""
    first = make_window(source=SourceSpec(video=video), color=BLUE, intensity=100)
    frames = _collect(first)
    _wait_for(qtbot, frames, _recoloured)
    assert first.settings.shine == 50
    qtbot.keyClick(first, Qt.Key.Key_Space)  # pause: changes re-render the held frame
    qtbot.keyClick(first, Qt.Key.Key_BracketRight)
    assert first.settings.shine == 60 and first.shine_slider.value() == 60
    qtbot.keyClick(first, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(first, Qt.Key.Key_BracketLeft)
    assert first.settings.shine == 40
    first.shine_slider.setValue(0)
    matte = _wait_for(qtbot, frames, lambda f: f.settings.shine == 0 and _recoloured(f))
    first.shine_slider.setValue(100)
    glossy = _wait_for(qtbot, frames, lambda f: f.settings.shine == 100 and _recoloured(f))
    assert glossy.frame.index == matte.frame.index
    assert _changed(glossy.image, matte.image, 6).mean() > 0.002  # the highlights changed
    first.close()
    assert Prefs().shine() == 100
    second = make_window(source=SourceSpec(video=video))
    assert second.settings.shine == 100
    third = make_window(source=SourceSpec(video=video), shine=0)
    assert third.settings.shine == 0


def test_sigterm_reaches_the_event_loop(qtbot) -> None:  # type: ignore[no-untyped-def]
    received: list[int] = []
    watcher = SignalWatcher(received.append)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: received == [signal.SIGTERM], timeout=2000)
    finally:
        watcher.close()
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)


def test_auto_renderer_falls_back_to_cpu_without_opengl(
    qtbot, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """Offscreen Qt has no OpenGL context: auto draws on the CPU and says why in one line;
    --renderer gl is refused with a message pointing at --renderer cpu."""
    with caplog.at_level(logging.INFO, logger="colorme_live.app.view"):
        _factory, name = choose_view_factory("auto")
    assert name == "cpu"
    assert len([r for r in caplog.records if "renderer: CPU, because" in r.message]) == 1
    with pytest.raises(InputError, match="--renderer cpu"):
        choose_view_factory("gl")
    assert choose_view_factory("cpu")[1] == "cpu"


# -- the GUI-thread bridge, and the PySide6 version guard -----------------------------------------


def test_emit_keeps_the_reference_count_of_true(qtbot) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0 drops a reference to True per Signal.emit(); a few hundred emits abort
    the interpreter (that is why pyproject.toml excludes it). Fails on such a binding."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Source(QObject):
        ping = Signal(object)

    source = Source()
    got: list[int] = []
    source.ping.connect(got.append)
    before = sys.getrefcount(True)
    worker = threading.Thread(target=lambda: [source.ping.emit(i) for i in range(1500)])
    worker.start()
    for i in range(1500):
        source.ping.emit(i)
    worker.join()
    qtbot.waitUntil(lambda: len(got) == 3000, timeout=5000)
    assert abs(sys.getrefcount(True) - before) < 50


def test_bridge_delivers_the_latest_frame_only(qtbot, media_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt as QtNs

    from colorme_live.app.bridge import EngineBridge
    from colorme_live.core.frames import Frame
    from colorme_live.core.settings import Settings

    bridge = EngineBridge()
    taken: list[int] = []

    def take() -> None:
        item = bridge.take_frame()
        if item is not None:
            taken.append(item[1].frame.index)

    bridge.frame_ready.connect(take, QtNs.ConnectionType.QueuedConnection)
    image = np.zeros((8, 8, 3), np.uint8)

    def post() -> None:
        for i in range(2000):
            frame = Frame(image=image, index=i, timestamp=0.0, pts=0.0)
            bridge.post_frame(1, LiveFrame(image, frame, None, Settings(), None, 0.0))

    worker = threading.Thread(target=post)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(taken) and taken[-1] == 1999, timeout=5000)
    assert taken == sorted(taken)  # never an older frame after a newer one
    assert len(taken) + bridge.coalesced == 2000
    bridge.close()
    bridge.post_frame(1, LiveFrame(image, Frame(image, 0, 0.0, 0.0), None, Settings(), None, 0))
    assert bridge.take_frame() is None
