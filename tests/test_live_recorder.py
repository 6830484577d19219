"""AsyncRecorder: the encoder thread behind a bounded queue (core, no Qt)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from colorme_live.core.live_recorder import AsyncRecorder
from colorme_live.core.sources import VideoFileSource
from colorme_live.core.video_writer import RecordingError, probe_video

FPS = 25.0
SIZE = (64, 48)


def _frame(value: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    w, h = size
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :, 1] = value
    image[: h // 2, : w // 2, 2] = 255 - value
    return image


def _recorder_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "colorme-recorder"]


def test_frames_at_the_source_rate_are_written_once_each(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    rec = AsyncRecorder(path, FPS, SIZE)
    t0 = 100.0
    for i in range(30):
        assert rec.submit(_frame(i * 8), t0 + i / FPS)
        time.sleep(0.002)
    stats = rec.stop()
    assert rec.error is None
    assert (stats.submitted, stats.dropped, stats.repeated, stats.written) == (30, 0, 0, 30)
    info = probe_video(path)
    assert (info.frames, info.fps, info.width, info.height, info.codec) == (30, FPS, *SIZE, "h264")
    assert not _recorder_threads()


def test_gaps_in_time_are_filled_and_jitter_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "gap.mp4"
    rec = AsyncRecorder(path, FPS, SIZE)
    dt = 1 / FPS
    jitter = [0.0, 0.4, -0.3, 0.45, -0.45, 0.2]  # of a frame interval
    times = [i * dt + j * dt for i, j in enumerate(jitter)]
    times.append(times[-1] + 4 * dt)  # three frames missing
    times.append(times[-1] + dt)
    for i, t in enumerate(times):
        rec.submit(_frame(i * 20), t)
    stats = rec.stop()
    assert stats.repeated == 3
    assert stats.written == len(times) + 3 == probe_video(path).frames
    # the recording lasts as long as the frames took to arrive
    assert stats.written / FPS == pytest.approx(times[-1] - times[0] + dt, abs=dt)


def test_long_gaps_are_cut_to_max_fill(tmp_path: Path) -> None:
    rec = AsyncRecorder(tmp_path / "pause.mp4", FPS, SIZE, max_fill_s=0.2)
    rec.submit(_frame(0), 0.0)
    rec.submit(_frame(50), 10.0)  # a 10 s pause
    rec.submit(_frame(90), 10.0 + 1 / FPS)
    stats = rec.stop()
    assert stats.repeated == int(0.2 * FPS)
    assert stats.written == 3 + int(0.2 * FPS)


def test_submit_never_blocks_and_counts_drops(tmp_path: Path) -> None:
    path = tmp_path / "busy.mp4"
    size = (1280, 720)
    rec = AsyncRecorder(path, 30.0, size, max_queue=2)
    frames = [_frame(v, size) for v in range(0, 250, 10)]
    slowest = 0.0
    for i in range(90):
        t = time.perf_counter()
        rec.submit(frames[i % len(frames)], i / 30.0)
        slowest = max(slowest, time.perf_counter() - t)
    behind_seen = rec.behind
    stats = rec.stop()
    assert slowest < 0.02, f"submit blocked for {slowest * 1e3:.1f} ms"
    assert stats.dropped > 0 and behind_seen
    assert stats.written == stats.submitted - stats.dropped + stats.repeated
    assert probe_video(path).frames == stats.written


def test_frames_of_another_size_are_resized(tmp_path: Path) -> None:
    path = tmp_path / "resize.mp4"
    rec = AsyncRecorder(path, FPS, SIZE)
    rec.submit(_frame(10), 0.0)
    rec.submit(_frame(10, (128, 128)), 1 / FPS)
    stats = rec.stop()
    assert stats.resized == 1
    info = probe_video(path)
    assert (info.width, info.height, info.frames) == (*SIZE, 2)


def test_recording_is_recoloured_content_in_order(tmp_path: Path) -> None:
    """What is submitted is what is in the file (within H.264 loss)."""
    path = tmp_path / "content.mp4"
    rec = AsyncRecorder(path, FPS, SIZE)
    values = [0, 60, 120, 180, 240]
    for i, v in enumerate(values):
        rec.submit(_frame(v), i / FPS)
    rec.stop()
    with VideoFileSource(path) as src:
        greens = []
        while (f := src.read()) is not None:
            greens.append(float(f.image[-8:, -8:, 1].mean()))
    assert greens == pytest.approx(values, abs=6)


def test_bad_folder_raises_at_start(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="does not exist"):
        AsyncRecorder(tmp_path / "missing" / "x.mp4", FPS, SIZE)
    with pytest.raises(RecordingError, match="must end in"):
        AsyncRecorder(tmp_path / "x.avi", FPS, SIZE)
    assert not _recorder_threads()


def test_encoder_errors_are_reported_not_raised(tmp_path: Path) -> None:
    errors: list[str] = []
    rec = AsyncRecorder(tmp_path / "empty.mp4", FPS, SIZE, on_error=errors.append)
    stats = rec.stop()  # closing with no frames is an error of the encoder thread
    assert stats.written == 0
    assert rec.error is not None and "no frames" in rec.error
    assert errors == [rec.error]
    assert not rec.submit(_frame(0), 0.0)  # stopped: ignored, not raised
    rec.stop()  # twice is fine


def test_submit_checks_its_input(tmp_path: Path) -> None:
    rec = AsyncRecorder(tmp_path / "c.mp4", FPS, SIZE)
    try:
        with pytest.raises(TypeError, match="uint8"):
            rec.submit(np.zeros((48, 64, 3), np.float32), 0.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="BGR"):
            rec.submit(np.zeros((48, 64), np.uint8), 0.0)
        rec.submit(_frame(1), 0.0)
    finally:
        rec.stop()
