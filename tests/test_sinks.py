"""The engine's sinks (core.sinks) on a real clip with the real model: each sink gets the view
it asked for, each distinct view is composited once per frame, and sinks come and go while
the engine runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from colorme_live.core import live as live_module
from colorme_live.core.live import LiveEngine, LiveFrame
from colorme_live.core.pipeline import Pipeline
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings, View
from colorme_live.core.sinks import CallbackSink, FrameSink, Need, SinkSet
from colorme_live.core.sources import PacedSource, VideoFileSource
from tests.conftest import clip

CLIP = "lp_d3_woman_brown_hair_expressions"
DEADLINE_S = 30.0


class Keep:
    """A sink that keeps the masked frames it gets (bounded)."""

    def __init__(self, need: Need) -> None:
        self.need = need
        self.frames: list[LiveFrame] = []
        self.lock = threading.Lock()
        self.closed = False

    def submit(self, live: LiveFrame) -> None:
        with self.lock:
            if live.mask_index is not None and len(self.frames) < 60:
                self.frames.append(live)

    def close(self) -> None:
        self.closed = True


def _run_until(engine: LiveEngine, done: callable) -> None:  # type: ignore[valid-type]
    engine.start()
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert engine.stop(timeout=2.0)
    assert engine.failure is None


def test_each_sink_gets_its_view_composited_once(
    media_dir: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = live_module.composite

    def counting(frame, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(id(frame))
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(live_module, "composite", counting)
    shown, plain, gpu = Keep(Need.SHOWN), Keep(Need.RECOLOR), Keep(Need.PREPARED)
    sinks = SinkSet((shown, plain, gpu))
    assert all(isinstance(s, FrameSink) for s in sinks.snapshot())
    path = clip(media_dir, CLIP)
    pipeline = Pipeline(HairSegmenter(model_path))
    engine = LiveEngine(
        lambda: PacedSource(VideoFileSource(path, loop=True), fps=30.0),
        pipeline,
        Settings(view=View.SPLIT, split=0.5, intensity=100),
        sinks=sinks,
    )
    _run_until(engine, lambda: len(shown.frames) >= 10 and len(gpu.frames) >= 10)

    assert shown.frames and plain.frames and gpu.frames
    # one composite per masked frame, not one per sink
    assert len(calls) <= engine.stats().shown
    by_index = {f.frame.index: f for f in plain.frames}
    compared = 0
    for live in shown.frames:
        other = by_index.get(live.frame.index)
        if other is None:
            continue
        compared += 1
        assert live.image is not None and other.image is not None
        w = live.image.shape[1]
        x = round(0.5 * w)
        # the split shows the original left of the divider, the plain view does not
        assert np.array_equal(live.image[:, : x - 2], live.frame.image[:, : x - 2])
        assert np.array_equal(live.image[:, x + 2 :], other.image[:, x + 2 :])
        assert not np.array_equal(other.image, live.frame.image), "not recoloured"
    assert compared >= 5
    assert all(f.image is None and f.prepared is not None for f in gpu.frames)
    assert not (shown.closed or plain.closed or gpu.closed), "the engine does not own sinks"


def test_sinks_added_and_removed_while_running(media_dir: Path, model_path: Path) -> None:
    """Only the GPU sink at first: no CPU composite at all; a recording-like sink that joins
    gets shown frames, and none after it left."""
    calls: list[int] = []
    gpu = Keep(Need.PREPARED)
    sinks = SinkSet((gpu,))
    path = clip(media_dir, CLIP)
    pipeline = Pipeline(HairSegmenter(model_path))
    engine = LiveEngine(
        lambda: PacedSource(VideoFileSource(path, loop=True), fps=30.0),
        pipeline,
        Settings(),
        sinks=sinks,
    )
    late: list[LiveFrame] = []
    late_sink = CallbackSink(late.append, Need.SHOWN)
    real = live_module.composite

    def counting(frame, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(frame, *args, **kwargs)

    live_module.composite = counting  # type: ignore[assignment]
    try:
        engine.start()
        deadline = time.monotonic() + DEADLINE_S
        while len(gpu.frames) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gpu.frames and not calls, "composited on the CPU with no sink needing it"
        sinks.add(late_sink)
        while sum(f.mask_index is not None for f in late) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sinks.remove(late_sink) and not sinks.remove(late_sink)
        time.sleep(0.2)  # a frame in flight may still arrive
        n = len(late)
        time.sleep(0.5)
        assert len(late) == n, "a removed sink still got frames"
    finally:
        live_module.composite = real  # type: ignore[assignment]
        assert engine.stop(timeout=2.0)
    masked = [f for f in late if f.mask_index is not None]
    assert masked and all(f.image is not None for f in masked)
    assert calls, "the shown view was never composited"
