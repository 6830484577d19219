"""The threaded live engine on a real clip, paced like a camera: frames are shown, masks are
applied, the segmentation threads run at a lower priority, and stop() joins every worker."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from colorme_live.core.live import LiveEngine, LiveFrame
from colorme_live.core.pipeline import Pipeline
from colorme_live.core.segmentation import (
    MEDIAPIPE_THREAD_NAME,
    HairSegmenter,
    lower_thread_priority,
)
from colorme_live.core.settings import Settings
from colorme_live.core.sources import PacedSource, VideoFileSource
from tests.conftest import clip

MASKED_FRAMES = 10
"""Masked frames to wait for (an event, not a fixed sleep: a loaded 2-core machine may take
several seconds to load the model and compile the kernels)..."""
WAIT_TIMEOUT_S = 60.0
"""...within this long."""
STOP_TIMEOUT_S = 1.0
SOURCE_FPS = 30.0
NICENESS = 5


def _mediapipe_niceness() -> list[int]:
    out = []
    for task in Path("/proc/self/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == MEDIAPIPE_THREAD_NAME:
                out.append(os.getpriority(os.PRIO_PROCESS, int(task.name)))
        except OSError:
            continue
    return out


def test_live_engine_shows_recoloured_frames_and_stops(media_dir: Path, model_path: Path) -> None:
    path = clip(media_dir, "lp_d3_woman_brown_hair_expressions")
    shown: list[LiveFrame] = []
    lock = threading.Lock()
    enough = threading.Event()

    def on_frame(frame: LiveFrame) -> None:
        with lock:
            if len(shown) < 200:  # keep memory bounded; the count is in stats()
                shown.append(frame)
            masked = sum(f.mask_index is not None for f in shown)
        if masked >= MASKED_FRAMES and engine.stats().segmented >= 2:
            enough.set()

    segment_niceness: list[int] = []

    class Spy(Pipeline):
        def analyse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            segment_niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().analyse(*args, **kwargs)

    pipeline = Spy(HairSegmenter(model_path))
    pipeline.segmenter.load()  # as the app does (open_pipeline): a bad model fails first
    engine = LiveEngine(
        lambda: PacedSource(VideoFileSource(path, loop=True), fps=SOURCE_FPS),
        pipeline,
        Settings(),
        on_frame,
        segment_niceness=NICENESS,
    )
    engine.start()
    assert enough.wait(WAIT_TIMEOUT_S), f"not enough masked frames: {engine.stats()}"
    stats = engine.stats()
    mp_niceness = _mediapipe_niceness() if sys.platform.startswith("linux") else []
    t0 = time.monotonic()
    assert engine.stop(timeout=STOP_TIMEOUT_S)
    assert time.monotonic() - t0 <= STOP_TIMEOUT_S + 0.1
    assert not engine.running
    assert engine.failure is None

    assert stats.shown >= 10, stats
    assert stats.segmented >= 2, stats
    with lock:
        masked = [f for f in shown if f.mask_index is not None]
    assert masked, "no frame was composited with a mask"
    last = masked[-1]
    assert last.image is not None and last.prepared is not None
    assert last.image.shape == last.frame.image.shape and last.image.dtype == np.uint8
    assert not np.array_equal(last.image, last.frame.image), "the mask was not applied"
    # capture to display: at least the compositing it includes, at most a few frame times
    # (generous, for a loaded 2-core machine); a unit or clock mix-up fails one of the two
    for f in masked:
        work_ms = f.timings_ms["composite"]
        assert work_ms > 0 and work_ms <= f.latency_ms < 2000.0, (f.latency_ms, f.timings_ms)
        assert f.frame.timestamp < f.shown_at <= time.monotonic()
    if sys.platform.startswith("linux"):
        assert segment_niceness and min(segment_niceness) >= NICENESS
        assert mp_niceness and min(mp_niceness) >= NICENESS


def test_niceness_zero_leaves_priorities_alone() -> None:
    assert lower_thread_priority(threading.get_native_id(), 0) is False
