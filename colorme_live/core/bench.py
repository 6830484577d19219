"""``colorme-live bench``: speed and memory, printed as a table (and one JSON line).

Everything runs the real code on real frames: a shared clip cropped to 16:9 and scaled to
1280x720 (or ``--video``), the real model, the real threaded live engine. Figures are medians
over many repetitions after a warm-up, because the machine is shared and noisy; the table says
how many runs or frames each figure comes from."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from colorme_live.core.batch import open_pipeline
from colorme_live.core.errors import InputError
from colorme_live.core.live import LiveEngine, LiveFrame
from colorme_live.core.pipeline import Analysis, Pipeline, composite, prepare
from colorme_live.core.recolor_reference import recolor_numpy
from colorme_live.core.recording import H264Writer
from colorme_live.core.refine import upsample_alpha, upsample_alpha_reference
from colorme_live.core.settings import Settings
from colorme_live.core.sources import PacedSource, VideoFileSource

DEFAULT_CLIP = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "media"
    / "videos"
    / "lp_d10_woman_long_dark_hair_talking.mp4"
)
SIZES = {"640x480": (640, 480), "1280x720": (1280, 720), "1920x1080": (1920, 1080)}
KERNEL_RUNS = 60
PIPELINE_FRAMES = 120
LIVE_SECONDS = 12.0
LIVE_WARMUP_S = 2.0
SOURCE_FPS = 30.0
BUDGETS = {
    "recolor_ms_720p": 4.0,
    "speedup_720p": 5.0,
    "display_fps": 29.0,
    "dropped_pct": 1.0,
    "latency_ms_p95": 50.0,
    "segment_hz": 15.0,
    "first_frame_s": 2.0,
    "peak_rss_mb": 600.0,
}


def _median_ms(fn: Callable[[], object], runs: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return round(statistics.median(times), 3)


def make_720p_clip(src: Path, dest: Path, seconds: float = 15.0) -> Path:
    """``src`` centre-cropped to 16:9 and scaled to 1280x720, as an H.264 file at 30 fps."""
    with VideoFileSource(src) as video, H264Writer(dest, SOURCE_FPS, (1280, 720)) as out:
        while out.frames_written < seconds * SOURCE_FPS and (f := video.read()) is not None:
            h, w = f.image.shape[:2]
            ch = min(h, round(w * 9 / 16))
            cw = min(w, round(ch * 16 / 9))
            y, x = (h - ch) // 2, (w - cw) // 2
            crop = f.image[y : y + ch, x : x + cw]
            scaled: np.ndarray = cv2.resize(crop, (1280, 720), interpolation=cv2.INTER_LINEAR)
            out.write(scaled)
    return dest


def _frames(path: Path, n: int) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    with VideoFileSource(path) as video:
        while len(out) < n and (f := video.read()) is not None:
            out.append(f.image)
    return out


def bench_kernels(pipeline: Pipeline, frame: np.ndarray, settings: Settings) -> dict[str, Any]:
    analysis, _ = pipeline.analyse(frame, settings, None)
    fast: dict[str, float] = {}
    slow: dict[str, float] = {}
    for name, size in SIZES.items():
        image = np.ascontiguousarray(cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR))
        fast[name] = _median_ms(partial(composite, image, analysis, settings), KERNEL_RUNS)
        slow[name] = _median_ms(partial(_reference, image, analysis, settings), KERNEL_RUNS // 3)
    image = np.ascontiguousarray(frame)
    refine = _median_ms(
        lambda: upsample_alpha(prepare(image, analysis, settings).coeffs, image, settings.refine),
        KERNEL_RUNS,
    )
    return {"recolor_ms": fast, "recolor_reference_ms": slow, "refine_ms_720p": refine}


def _reference(frame: np.ndarray, analysis: Analysis, settings: Settings) -> np.ndarray:
    """The same work as ``composite`` done the plain OpenCV/NumPy way."""
    prepared = prepare(frame, analysis, settings)
    alpha = upsample_alpha_reference(prepared.coeffs, frame, settings.refine)
    return recolor_numpy(frame, alpha, prepared.look, settings.strength)


def bench_pipeline(
    pipeline: Pipeline, frames: list[np.ndarray], settings: Settings
) -> dict[str, Any]:
    state = None
    for f in frames[:10]:
        _, state = pipeline.step(f, settings, state)
    segment = []
    t0 = time.perf_counter()
    for f in frames[10:]:
        result, state = pipeline.step(f, settings, state)
        segment.append(result.timings_ms["segment"])
    elapsed = time.perf_counter() - t0
    n = len(frames) - 10
    return {
        "segment_ms_720p": round(statistics.median(segment), 2),
        "pipeline_fps_720p": round(n / elapsed, 2),
        "pipeline_frames": n,
    }


def bench_live(pipeline: Pipeline, clip: Path, settings: Settings) -> dict[str, Any]:
    """The real threaded engine on a 30 fps paced 720p source, headless (no painting)."""
    shown: list[LiveFrame] = []
    engine = LiveEngine(
        lambda: PacedSource(VideoFileSource(clip, loop=True), fps=SOURCE_FPS),
        pipeline,
        settings,
        shown.append,
    )
    engine.start()
    time.sleep(LIVE_WARMUP_S)
    start = engine.stats()
    n0 = len(shown)
    t0 = time.monotonic()
    time.sleep(LIVE_SECONDS - LIVE_WARMUP_S)
    end = engine.stats()
    window = shown[n0 : len(shown)]
    elapsed = time.monotonic() - t0
    if not engine.stop(timeout=2.0) or engine.failure is not None:
        raise RuntimeError(f"live engine did not stop cleanly: {engine.failure!r}")
    captured = end.captured - start.captured
    displayed = len(window)
    latency = [f.latency_ms for f in window]
    return {
        "source_fps": SOURCE_FPS,
        "display_fps": round(displayed / elapsed, 2),
        "dropped_pct": round(100.0 * max(0, captured - displayed) / max(captured, 1), 2),
        "latency_ms_p50": round(float(np.percentile(latency, 50)), 1) if latency else None,
        "latency_ms_p95": round(float(np.percentile(latency, 95)), 1) if latency else None,
        "segment_hz": round((end.segmented - start.segmented) / elapsed, 2),
        "seconds": round(elapsed, 1),
        "frames": displayed,
    }


_CHILD = """
import sys, time
from pathlib import Path
from colorme_live.core.batch import open_pipeline
from colorme_live.core.settings import Settings
from colorme_live.core.sources import VideoFileSource
with open_pipeline(None) as p, VideoFileSource(Path(sys.argv[1])) as v:
    f = v.read()
    p.step(f.image, Settings(), None)
    print("FIRST-FRAME", flush=True)
"""


def bench_first_frame(clip: Path, model: str | Path | None) -> dict[str, Any]:
    """Process start to the first recoloured frame, measured from outside the process. The
    first run warms Numba's cache; the second is the figure."""
    env = dict(os.environ)
    if model is not None:
        env["COLORME_MODEL"] = str(model)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(clip)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        if "FIRST-FRAME" not in proc.stdout:
            raise RuntimeError(f"first-frame child failed: {proc.stderr.strip()[-500:]}")
        times.append(time.perf_counter() - t0)
    return {"first_frame_s": round(min(times[1:]), 2), "first_frame_cold_s": round(times[0], 2)}


def main(*, video: Path | None, as_json: bool, model: str | Path | None) -> int:
    src = video if video is not None else DEFAULT_CLIP
    if not src.is_file():
        raise InputError(f"bench clip not found: {src} (give one with --video)")
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="colorme-bench-") as tmp:
        clip = make_720p_clip(src, Path(tmp) / "clip720.mp4")
        frames = _frames(clip, PIPELINE_FRAMES + 10)
        report: dict[str, Any] = {}
        with open_pipeline(model) as pipeline:
            report.update(bench_kernels(pipeline, frames[0], settings))
            report.update(bench_pipeline(pipeline, frames, settings))
        del frames
        with open_pipeline(model) as pipeline:
            report["live"] = bench_live(pipeline, clip, settings)
        report.update(bench_first_frame(clip, model))
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["machine"] = f"{os.cpu_count()} CPUs, {sys.platform}"
    _print_table(report)
    if as_json:
        print(json.dumps(report))
    return 0


def _check(ok: bool) -> str:
    return "ok  " if ok else "OVER"


def _print_table(r: dict[str, Any]) -> None:
    fast, slow, live = r["recolor_ms"], r["recolor_reference_ms"], r["live"]
    print(
        f"Refine + recolour per frame (median of {KERNEL_RUNS} runs; reference "
        f"{KERNEL_RUNS // 3} runs):"
    )
    for name in SIZES:
        print(
            f"  {name:>9}  numba {fast[name]:7.2f} ms   opencv/numpy {slow[name]:7.2f} ms"
            f"   x{slow[name] / fast[name]:.1f}"
        )
    speedup = slow["1280x720"] / fast["1280x720"]
    print(
        f"  720p budget <= {BUDGETS['recolor_ms_720p']} ms: {_check(fast['1280x720'] <= 4.0)}"
        f"  speed-up >= 5x: {_check(speedup >= 5)}"
    )
    print(f"  refine alone at 720p: {r['refine_ms_720p']:.2f} ms")
    print(
        f"Synchronous pipeline at 720p, every frame segmented ({r['pipeline_frames']} frames): "
        f"{r['pipeline_fps_720p']:.1f} fps, segmentation {r['segment_ms_720p']:.1f} ms (median)"
    )
    print(
        f"Live engine, 1280x720 source paced at {live['source_fps']:.0f} fps, "
        f"{live['seconds']} s after {LIVE_WARMUP_S:.0f} s warm-up ({live['frames']} frames):"
    )
    print(
        f"  display {live['display_fps']:.1f} fps {_check(live['display_fps'] >= 29)}   "
        f"dropped {live['dropped_pct']:.2f}% {_check(live['dropped_pct'] <= 1)}   "
        f"segmentation {live['segment_hz']:.1f} Hz {_check(live['segment_hz'] >= 15)}"
    )
    print(
        f"  capture-to-display latency p50 {live['latency_ms_p50']} ms, p95 "
        f"{live['latency_ms_p95']} ms {_check((live['latency_ms_p95'] or 1e9) <= 50)}"
    )
    print(
        f"First recoloured frame after process start (warm cache, best of 2): "
        f"{r['first_frame_s']:.2f} s {_check(r['first_frame_s'] <= 2)} "
        f"(cold: {r['first_frame_cold_s']:.2f} s)"
    )
    print(f"Peak RSS of this process: {r['peak_rss_mb']:.0f} MB {_check(r['peak_rss_mb'] <= 600)}")
