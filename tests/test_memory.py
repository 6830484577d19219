"""Frame-sized buffers stay mapped (core.memory): with the settings, the per-frame refine +
recolour of a real 720p photo reuses its pages instead of faulting fresh ones in every frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from colorme_live.core.memory import keep_frame_buffers

_FRAMES = """
import resource, sys
import cv2
import numpy as np
if sys.argv[1] == "keep":
    from colorme_live.core.memory import keep_frame_buffers
    assert keep_frame_buffers()
from colorme_live.core.fused import refine_recolor
from colorme_live.core.palette import PALETTE
from colorme_live.core.recolor import make_look
from colorme_live.core.refine import coefficients, small_luma
from colorme_live.core.settings import RefineSettings
frame = np.ascontiguousarray(cv2.resize(cv2.imread(sys.argv[2]), (1280, 720)))
yy, xx = np.mgrid[0:144, 0:256]  # a soft disc of hair around the head
prob = np.clip(1.5 - np.hypot((xx - 128) / 60, (yy - 60) / 50), 0, 1).astype(np.float32)
settings = RefineSettings()
look = make_look(PALETTE[3], 0.3)
def frame_once():  # the compositor's per-frame work: prepare's coefficients, the fused pass
    coeffs = coefficients(prob, small_luma(frame, (256, 144)), settings)
    return refine_recolor(coeffs, frame, look, 0.8, settings, parallel=False)
for _ in range(5):
    frame_once()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    frame_once()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str, photo: Path) -> int:
    result = subprocess.run(
        [sys.executable, "-c", _FRAMES, mode, str(photo)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_per_frame_buffers_reuse_their_pages(media_dir: Path) -> None:
    assert keep_frame_buffers() is True
    assert keep_frame_buffers() is True  # once per process; the same answer
    photo = media_dir / "portraits" / "lp_d9_woman_long_blonde_brown_hair.jpg"
    default, kept = _faults("default", photo), _faults("keep", photo)
    pages = (720 * 1280 * 3 + 720 * 1280 * 4) // 4096  # image + alpha: 1,575 pages a frame
    assert default > 10 * pages, default  # glibc's defaults: fresh pages, frame after frame
    assert kept < pages, kept  # kept: not even one frame's worth in 20 frames
