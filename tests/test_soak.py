"""Long sessions: the threaded live engine over 20,000 frames (accelerated, headless) keeps
memory flat, leaks no thread or file handle, and none of its hand-overs grows."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from colorme_live.core.live import LiveEngine, LiveFrame
from colorme_live.core.pipeline import Pipeline
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from colorme_live.core.sources import VideoFileSource
from tests.conftest import clip

SOAK_FRAMES = 20_000
WARMUP_FRAMES = 2_000
MAX_GROWTH = 0.05


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_twenty_thousand_frames_keep_memory_flat(media_dir: Path, model_path: Path) -> None:
    path = clip(media_dir, "tk_man_black_hair_guitar_head_motion")  # 320x320, loops
    threads_before = threading.active_count()
    fds_before = open_fds()
    marks: dict[str, float] = {}
    done = threading.Event()

    def on_frame(live: LiveFrame) -> None:
        n = live.frame.index + 1  # shown frames skip indices (the compositor drops some)
        if n >= WARMUP_FRAMES and "warm" not in marks:
            marks["warm"] = rss_mb()
        if n >= SOAK_FRAMES and not done.is_set():
            marks["end"] = rss_mb()
            done.set()

    engine = LiveEngine(
        lambda: VideoFileSource(path, loop=True),  # unpaced: as fast as the machine goes
        Pipeline(HairSegmenter(model_path)),
        Settings(),
        on_frame,
    )
    engine.start()
    try:
        assert done.wait(timeout=900), f"only {engine.stats().captured} frames in 15 minutes"
        stats = engine.stats()
    finally:
        stopped = engine.stop(timeout=2.0)
    assert stopped and engine.failure is None
    time.sleep(0.1)
    growth = (marks["end"] - marks["warm"]) / marks["warm"]
    print(
        f"\nsoak: {stats.captured} frames captured, {stats.shown} shown, {stats.segmented} "
        f"segmented; RSS {marks['warm']:.0f} MB after {WARMUP_FRAMES} frames, "
        f"{marks['end']:.0f} MB after {SOAK_FRAMES} ({growth:+.1%})"
    )
    assert growth < MAX_GROWTH
    # nothing queued beyond one slot: every captured frame was shown or dropped (replaced in
    # the compositor's slot), but for at most the one left in the slot at stop
    final = engine.stats()
    assert 0 <= final.captured - final.shown - final.dropped <= 1, final
    assert final.dropped > 0, "unpaced, the capture outruns the compositor: frames must drop"
    assert threading.active_count() == threads_before
    assert open_fds() <= fds_before
