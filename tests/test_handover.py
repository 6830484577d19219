"""The live engine's hand-overs hold one frame at most: run unpaced (the capture outruns the
compositor), every captured frame is either shown or dropped, none waits in a queue."""

from __future__ import annotations

import threading
from pathlib import Path

from colorme_live.core.live import LiveEngine, LiveFrame
from colorme_live.core.pipeline import Pipeline
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from colorme_live.core.sources import VideoFileSource
from tests.conftest import clip

SHOWN_INDEX = 300
"""Run until the compositor has shown a frame with at least this capture index..."""
WAIT_TIMEOUT_S = 120.0
"""...within this long (generous: model load and kernel compilation on a loaded machine)."""


def test_hand_overs_hold_one_frame_at_most(media_dir: Path, model_path: Path) -> None:
    path = clip(media_dir, "tk_man_black_hair_guitar_head_motion")  # 320x320, loops
    far_enough = threading.Event()
    masked = threading.Event()

    def on_frame(live: LiveFrame) -> None:
        if live.mask_index is not None:
            masked.set()
        if live.frame.index >= SHOWN_INDEX and masked.is_set():
            far_enough.set()

    engine = LiveEngine(
        lambda: VideoFileSource(path, loop=True),  # unpaced: as fast as it decodes
        Pipeline(HairSegmenter(model_path)),
        Settings(),
        on_frame,
    )
    engine.start()
    try:
        assert far_enough.wait(WAIT_TIMEOUT_S), f"too slow: {engine.stats()}"
    finally:
        stopped = engine.stop(timeout=5.0)
    assert stopped and engine.failure is None
    stats = engine.stats()  # all workers have ended: the counts are final
    # a queue would hold (captured - shown - dropped) frames; the one-slot hand-over at most 1
    assert 0 <= stats.captured - stats.shown - stats.dropped <= 1, stats
    assert stats.dropped > 0, f"the capture outran the compositor, yet nothing dropped: {stats}"
    assert stats.segmented < stats.captured, "the segmenter must skip frames, not queue them"
