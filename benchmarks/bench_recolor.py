"""Time the recolour kernels against the plain NumPy/OpenCV reference.

Run: ``.venv/bin/python benchmarks/bench_recolor.py [--repeat N]``. Prints the median and
minimum milliseconds per frame (after a warm-up call that compiles or loads the kernels) for the
serial Numba kernel, the row-parallel Numba kernel, the default choice of `recolor` and
`recolor_numpy`, at 640x480, 1280x720 and 1920x1080, on a random frame with two alphas:

* ``hair``: a feathered ellipse over about a quarter of the frame and exactly 0 elsewhere,
  like the refined hair alpha of a webcam frame (the kernels skip the zero spans of a row);
* ``full``: random values in 0.01..1 on every pixel, the worst case for the kernels.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from functools import partial

import cv2
import numba
import numpy as np
import numpy.typing as npt

from colorme_live.core.palette import PALETTE
from colorme_live.core.recolor import make_look, recolor, warm_up
from colorme_live.core.recolor_reference import recolor_numpy

SIZES = ((640, 480), (1280, 720), (1920, 1080))


def timing(fn: Callable[[], object], repeat: int) -> str:
    """``median/min`` milliseconds of ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return f"{statistics.median(times):5.2f}/{min(times):5.2f}"


def make_alpha(kind: str, h: int, w: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    if kind == "full":
        return rng.uniform(0.01, 1.0, (h, w)).astype(np.float32)
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (w // 2, h // 3), (w // 4, h // 4), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), h / 90)
    alpha[alpha < 0.02] = 0.0
    return alpha


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    warm_up()
    look = make_look(PALETTE[3], 0.3)
    rng = np.random.default_rng(0)
    print(f"threads: {numba.get_num_threads()}, threading layer: {numba.config.THREADING_LAYER}")
    columns = ("serial", "parallel", "default", "numpy")
    header = f"{'size':>10} {'alpha':>5} " + " ".join(f"{c:>11}" for c in columns)
    print(header + "  (ms per frame, median/min)")
    for (w, h), kind in itertools.product(SIZES, ("hair", "full")):
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        alpha = make_alpha(kind, h, w, rng)
        out = np.empty_like(frame)
        row = [
            timing(partial(recolor, frame, alpha, look, 0.8, out, parallel=False), args.repeat),
            timing(partial(recolor, frame, alpha, look, 0.8, out, parallel=True), args.repeat),
            timing(partial(recolor, frame, alpha, look, 0.8, out), args.repeat),
            timing(partial(recolor_numpy, frame, alpha, look, 0.8), args.repeat),
        ]
        print(f"{w:>5}x{h:<4} {kind:>5} " + " ".join(f"{v:>11}" for v in row))


if __name__ == "__main__":
    main()
