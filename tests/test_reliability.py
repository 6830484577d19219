"""The live window's worst minutes, met the way a user meets them (pytest-qt, offscreen, real
clips, real model): a camera that hangs or is unplugged and comes back, a video that turns
unreadable half-way, recording through a lost source, an output folder that is read-only or
fills up."""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import pytest
from PySide6.QtCore import Qt

from colorme_live.app import window as window_module
from colorme_live.app.config import SourceSpec
from colorme_live.app.session import SourceInfo, SourceOpener
from colorme_live.core.errors import InputError
from colorme_live.core.frames import Frame
from colorme_live.core.palette import PALETTE
from colorme_live.core.sources import FrameSource, PacedSource, SourceLost, VideoFileSource
from colorme_live.core.video_writer import H264Writer
from tests.conftest import clip
from tests.test_app import FRAME_TIMEOUT_MS, _collect, _recoloured, _wait_for
from tests.test_sources import _remux

CLIP = "lp_d12_man_wavy_brown_hair_motion"  # 512x512, 25 fps, 183 frames
NOTICE_S = 1.0
"""The window must show a lost or stalled source within this long..."""
NOTICE_SLACK_S = 0.5
"""...plus this much for a loaded 2-core machine (event delivery, the GUI thread's turn)."""
STALL_S = 0.5
"""The stall detector's threshold, passed in by the hung-camera test (the app's is 1 s)..."""
HANG_S = 5.0
"""...and how long that test's camera hangs: the message has HANG_S - STALL_S to appear, a
generous margin on a loaded 2-core machine; it is never raced against the detector's own
wait."""


# -- a camera the test can hang, unplug and plug back in ----------------------------------------


class Plug:
    """The state of the test camera, set from the test thread."""

    def __init__(self) -> None:
        self.connected = True
        self._resume = threading.Event()
        self._resume.set()
        self._hang_until = 0.0

    def hang(self, seconds: float) -> None:
        """The next ``read()`` blocks for ``seconds`` (no error: a driver that hangs)."""
        self._hang_until = time.monotonic() + seconds
        self._resume.clear()

    def wait_if_hung(self) -> None:
        while not self._resume.is_set():
            left = self._hang_until - time.monotonic()
            if left <= 0:
                self._resume.set()
                break
            self._resume.wait(left)

    def release(self) -> None:
        """End a hang now (teardown: leave no thread blocked)."""
        self._resume.set()


class FakeCamera(FrameSource):
    """Real clip frames, delivered in real time like a camera, through a plug."""

    def __init__(self, video: Path, plug: Plug) -> None:
        self._source = PacedSource(VideoFileSource(video, loop=True))
        self._plug = plug

    @property
    def fps(self) -> float:
        return self._source.fps

    @property
    def size(self) -> tuple[int, int]:
        return self._source.size

    @property
    def description(self) -> str:
        return "camera 0"

    @property
    def is_live(self) -> bool:
        return True

    def read(self) -> Frame | None:
        self._plug.wait_if_hung()
        if not self._plug.connected:
            raise SourceLost("camera 0 stopped delivering frames (unplugged?)")
        return self._source.read()

    def close(self) -> None:
        self._source.close()


@pytest.fixture
def plug(video: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Plug]:
    """``SourceSpec(camera=0)`` opens a ``FakeCamera`` on the clip instead of a webcam."""
    the_plug = Plug()

    class FakeOpener(SourceOpener):
        def __call__(self) -> FrameSource:
            if not the_plug.connected:
                raise InputError("no camera 0 found (is it connected?)")
            source = FakeCamera(video, the_plug)
            self.info = SourceInfo(source.description, source.fps, source.size)
            return source

    monkeypatch.setattr(window_module, "SourceOpener", FakeOpener)
    yield the_plug
    the_plug.release()


@pytest.fixture
def video(media_dir: Path) -> Path:
    return clip(media_dir, CLIP)


def _wait_visible_since(qtbot, widget, since: float) -> float:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(widget.isVisible, timeout=int((NOTICE_S + NOTICE_SLACK_S) * 1000) + 2000)
    return time.monotonic() - since


def _still_responding(qtbot, window, frames) -> None:  # type: ignore[no-untyped-def]
    """A key press is handled at once, while the source is gone."""
    before = window.settings.color
    qtbot.keyClick(window, Qt.Key.Key_7 if before != PALETTE[6] else Qt.Key.Key_3)
    assert window.settings.color != before
    assert window.engine is not None and window.engine.settings == window.settings


def _count_frames(path: Path) -> tuple[int, int]:
    """Frames decoded by OpenCV and by PyAV, to the end of the file."""
    cap = cv2.VideoCapture(str(path))
    by_cv2 = 0
    while cap.read()[0]:
        by_cv2 += 1
    cap.release()
    with av.open(str(path)) as container:
        by_av = sum(1 for _ in container.decode(video=0))
    return by_cv2, by_av


# -- a camera that hangs, and one that is unplugged ---------------------------------------------


def test_a_hung_camera_is_shown_and_recovers(qtbot, make_window, plug):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(camera=0), stall_timeout=STALL_S)
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    panel = window.message_panel
    assert not panel.isVisible()
    plug.hang(HANG_S)
    hung_at = time.monotonic()
    qtbot.waitUntil(panel.isVisible, timeout=int((HANG_S - STALL_S) * 1000))
    last_frame_at = max(f.frame.timestamp for f in frames)  # none arrives during the hang
    assert time.monotonic() - last_frame_at >= STALL_S, "reported before the threshold"
    assert panel.title.text() == "Camera not responding"
    assert re.search(r"no frames from camera 0 for \d+ s", panel.detail.text())
    _still_responding(qtbot, window, frames)
    # the frames come back by themselves, recoloured with the colour chosen meanwhile
    live = _wait_for(
        qtbot, frames, lambda f: _recoloured(f) and f.settings.color == window.settings.color
    )
    assert time.monotonic() - hung_at >= HANG_S - 0.1, "a frame was shown while the camera hung"
    assert not panel.isVisible()
    assert live.frame.index > 0


def test_a_paused_video_is_not_a_stalled_one(qtbot, make_window, video):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=video))
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.wait(1800)
    assert not window.message_panel.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    n = len(frames)
    qtbot.waitUntil(lambda: len(frames) > n + 10, timeout=FRAME_TIMEOUT_MS)
    assert not window.message_panel.isVisible()


def test_an_unplugged_camera_is_shown_retried_and_resumes(qtbot, make_window, plug):  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(camera=0))
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    panel = window.message_panel
    plug.connected = False
    took = _wait_visible_since(qtbot, panel, time.monotonic())
    assert took < NOTICE_S + NOTICE_SLACK_S, f"shown {took:.2f} s after the camera was unplugged"
    assert panel.title.text() == "Camera lost"
    assert "unplugged" in panel.detail.text() and "keeps trying" in panel.detail.text()
    # still gone at the next retry: the window says there is no camera, and keeps trying
    qtbot.waitUntil(lambda: panel.title.text() == "No camera 0 found", timeout=5000)
    _still_responding(qtbot, window, frames)
    plug.connected = True
    _wait_for(qtbot, frames, lambda f: _recoloured(f) and f.settings.color == window.settings.color)
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=2000)


def test_recording_through_a_lost_camera_leaves_a_complete_file(  # type: ignore[no-untyped-def]
    qtbot, make_window, plug, tmp_path
):
    target = tmp_path / "through-loss.mp4"
    window = make_window(source=SourceSpec(camera=0), record=target)
    frames = _collect(window)
    qtbot.waitUntil(lambda: window.recorder is not None, timeout=FRAME_TIMEOUT_MS)
    n = len(frames)
    qtbot.waitUntil(lambda: len(frames) > n + 10, timeout=FRAME_TIMEOUT_MS)
    plug.connected = False
    qtbot.waitUntil(window.message_panel.isVisible, timeout=3000)
    qtbot.wait(500)
    plug.connected = True
    n = len(frames)
    qtbot.waitUntil(lambda: len(frames) > n + 10, timeout=FRAME_TIMEOUT_MS)
    recorder = window.recorder
    assert recorder is not None and recorder.error is None
    window.close()  # the user closes the window while recording
    written = recorder.stats().written
    by_cv2, by_av = _count_frames(target)
    assert by_cv2 == by_av == written > 20


# -- a video that turns unreadable half-way -----------------------------------------------------


@pytest.fixture(scope="module")
def truncated_video(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip with its index first, cut after about a third: FFmpeg opens it, decodes ~60
    frames (2.4 s at 25 fps), then runs out of data."""
    folder = tmp_path_factory.mktemp("truncated")
    faststart = folder / "faststart.mp4"
    _remux(clip(media_dir, CLIP), faststart, kind="video", faststart=True)
    data = faststart.read_bytes()
    path = folder / "cut.mp4"
    path.write_bytes(data[: len(data) // 3])
    return path


def test_a_video_that_turns_unreadable_is_shown_and_replayed(  # type: ignore[no-untyped-def]
    qtbot, make_window, truncated_video, tmp_path
):
    target = tmp_path / "through-truncation.mp4"
    window = make_window(source=SourceSpec(video=truncated_video), record=target)
    frames = _collect(window)
    _wait_for(qtbot, frames, _recoloured)
    panel = window.message_panel
    last_frame_at: list[float] = [time.monotonic()]
    window.frame_displayed.connect(lambda _f: last_frame_at.__setitem__(0, time.monotonic()))
    qtbot.waitUntil(panel.isVisible, timeout=10_000)
    took = time.monotonic() - last_frame_at[0]
    assert took < NOTICE_S + NOTICE_SLACK_S, f"shown {took:.2f} s after the last frame"
    assert panel.title.text() == "Video stopped"
    assert "truncated or corrupt after frame" in panel.detail.text()
    assert str(truncated_video) in panel.detail.text()
    _still_responding(qtbot, window, frames)
    # retried: the readable part plays again from the start
    restart = _wait_for(qtbot, frames, lambda f: f.frame.index < 5)
    assert restart.settings.color == window.settings.color
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=2000)
    recorder = window.recorder
    assert recorder is not None and recorder.error is None
    window.close()  # the recording spans the failure; it is complete
    written = recorder.stats().written
    by_cv2, by_av = _count_frames(target)
    assert by_cv2 == by_av == written > 30


def test_a_complete_video_loops_without_a_message(qtbot, make_window, video, tmp_path):  # type: ignore[no-untyped-def]
    short = tmp_path / "short.mp4"
    with VideoFileSource(video) as source, H264Writer(short, 25, (512, 512)) as writer:
        for _ in range(20):
            frame = source.read()
            assert frame is not None
            writer.write(frame.image)
    events: list[object] = []
    window = make_window(source=SourceSpec(video=short))
    window._bridge.event_posted.connect(lambda payload: events.append(payload[1].state))
    frames = _collect(window)
    _wait_for(qtbot, frames, lambda f: f.frame.index >= 45)  # past the end, twice
    assert not window.message_panel.isVisible()
    assert [e for e in events if e.name != "RUNNING"] == []


# -- an output folder that is read-only, or fills up --------------------------------------------


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def test_a_read_only_output_folder_is_a_message_and_the_view_keeps_running(  # type: ignore[no-untyped-def]
    qtbot, make_window, video, tmp_path
):
    with _tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        window = make_window(source=SourceSpec(video=video), output_dir=folder)
        frames = _collect(window)
        _wait_for(qtbot, frames, lambda f: True)
        qtbot.keyClick(window, Qt.Key.Key_R)
        assert window.recorder is None and not window.record_action.isChecked()
        assert window.banner.isVisible()
        assert "Cannot record" in window.banner.text()
        assert "Read-only file system" in window.banner.text()
        qtbot.keyClick(window, Qt.Key.Key_S)
        assert "Cannot save the snapshot" in window.banner.text()
        n = len(frames)
        qtbot.waitUntil(lambda: len(frames) > n + 10, timeout=FRAME_TIMEOUT_MS)
        window.close()


def test_a_full_disk_stops_the_recording_with_a_message_and_the_view_keeps_running(  # type: ignore[no-untyped-def]
    qtbot, make_window, video, tmp_path
):
    with _tmpfs(tmp_path / "full", "size=96k") as folder:
        window = make_window(source=SourceSpec(video=video), output_dir=folder)
        frames = _collect(window)
        _wait_for(qtbot, frames, _recoloured)
        qtbot.keyClick(window, Qt.Key.Key_R)
        recorder = window.recorder
        assert recorder is not None
        qtbot.waitUntil(lambda: window.recorder is None, timeout=20_000)
        assert not window.record_action.isChecked()
        assert recorder.error is not None and "No space left on device" in recorder.error
        assert window.banner.isVisible()
        assert window.banner.text().startswith("Recording stopped: writing video")
        assert "\n" not in recorder.error
        n = len(frames)
        qtbot.waitUntil(lambda: len(frames) > n + 10, timeout=FRAME_TIMEOUT_MS)
        window.close()
