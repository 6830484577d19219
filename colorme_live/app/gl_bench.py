"""Milliseconds per frame of the GPU compositor, next to the CPU (Numba) path for the same frame.

    python -m colorme_live.app.gl_bench [--sizes 1280x720,1920x1080] [--frames 60]

Needs an OpenGL 3.3 context (a display; headless: run under Xvfb with QT_QPA_PLATFORM=xcb).
The frame is synthetic (smooth noise) with an elliptical hair probability covering about a
fifth of it, at the segmentation size the pipeline would use; timings do not depend on the
picture. Per frame it reports, median and 90th percentile over ``--frames`` after a warm-up:

* ``upload``: the frame (GL_RGB8 from BGR) and coefficient (GL_RGB32F) texture uploads;
* ``draw``: the compositing draw call plus glFinish (waits until the GPU has finished);
* ``upload+draw``: the two together, what a displayed frame costs before the buffer swap;
* ``readback``: glReadPixels of the result and the conversion to a BGR array (only needed by
  the parity tests and an offscreen renderer, not by the viewer);
* ``cpu``: ``pipeline.composite`` + ``render_view`` (Numba) on the same frame, for comparison.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import cv2
import numpy as np

from colorme_live.core.pipeline import Analysis, Prepared, composite, render_view
from colorme_live.core.recolor import make_look
from colorme_live.core.refine import coefficients, luma
from colorme_live.core.segmentation import segmentation_size
from colorme_live.core.settings import Settings

WARM_UP_FRAMES = 5


def synthetic(width: int, height: int, settings: Settings) -> tuple[np.ndarray, Analysis]:
    """A smooth-noise BGR frame and an `Analysis` with an elliptical hair probability."""
    rng = np.random.default_rng(0)
    small_noise = rng.integers(0, 256, (max(1, height // 8), max(1, width // 8), 3), np.uint8)
    frame = cv2.resize(small_noise, (width, height), interpolation=cv2.INTER_CUBIC)
    frame = np.ascontiguousarray(frame.reshape(height, width, 3))
    w, h = segmentation_size((width, height), settings.segment_size)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xx - 0.5 * w) / (0.3 * w), (yy - 0.4 * h) / (0.35 * h))
    prob = np.clip(1.5 - r, 0.0, 1.0).astype(np.float32)
    return frame, Analysis(0, prob, prob, 0.35)


def prepared_for(frame: np.ndarray, analysis: Analysis, settings: Settings) -> Prepared:
    h, w = analysis.prob.shape
    small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA).reshape(h, w, 3)
    coeffs = coefficients(analysis.prob, luma(small), settings.refine)
    return Prepared(coeffs, make_look(settings.color, analysis.hair_value, settings.shine), {})


def _stats(values: list[float]) -> str:
    a = np.asarray(values)
    return f"{np.median(a):7.2f} {np.percentile(a, 90):7.2f}"


def bench(sizes: Sequence[tuple[int, int]], frames: int) -> int:
    from PySide6.QtGui import QGuiApplication

    from colorme_live.app.gl_render import GLError, OffscreenRenderer

    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        app = QGuiApplication(sys.argv[:1])  # kept referenced until the end of the run
    settings = Settings()
    try:
        renderer = OffscreenRenderer()
    except GLError as e:
        print(f"gl_bench: no usable OpenGL: {e} (Qt platform {QGuiApplication.platformName()!r})")
        return 2
    with renderer:
        print(renderer.description)
        print(f"{frames} frames after {WARM_UP_FRAMES} warm-up; ms per frame, median and p90")
        print(
            f"{'size':>10} {'upload':>15} {'draw+finish':>15} {'upload+draw':>15}"
            f" {'readback':>15} {'cpu (numba)':>15}"
        )
        for width, height in sizes:
            frame, analysis = synthetic(width, height, settings)
            prepared = prepared_for(frame, analysis, settings)
            rows: dict[str, list[float]] = {"upload": [], "draw": [], "total": [], "read": []}
            cpu: list[float] = []
            for i in range(WARM_UP_FRAMES + frames):
                # A new Prepared each frame, as in the live engine (so the coefficients are
                # uploaded every frame too).
                fresh = Prepared(prepared.coeffs.copy(), prepared.look, {})
                t: dict[str, float] = {}
                renderer.draw(frame, fresh, settings, finish=True, timings_ms=t)
                renderer.read(t)
                t0 = time.perf_counter()
                render_view(frame, composite(frame, analysis, settings, fresh), settings)
                t_cpu = (time.perf_counter() - t0) * 1e3
                if i >= WARM_UP_FRAMES:
                    rows["upload"].append(t["upload"])
                    rows["draw"].append(t["draw"])
                    rows["total"].append(t["upload"] + t["draw"])
                    rows["read"].append(t["readback"])
                    cpu.append(t_cpu)
            print(
                f"{f'{width}x{height}':>10} {_stats(rows['upload'])} {_stats(rows['draw'])}"
                f" {_stats(rows['total'])} {_stats(rows['read'])} {_stats(cpu)}"
            )
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WxH, got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"size must be at least 1x1, got {text!r}")
    return w, h


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m colorme_live.app.gl_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="1280x720,1920x1080",
        help="comma-separated WxH list (default %(default)s)",
    )
    parser.add_argument("--frames", type=int, default=60, help="timed frames per size")
    args = parser.parse_args(argv)
    try:
        sizes = [_size(s) for s in args.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))
    if args.frames < 1:
        parser.error("--frames must be at least 1")
    return bench(sizes, args.frames)


if __name__ == "__main__":
    sys.exit(main())
