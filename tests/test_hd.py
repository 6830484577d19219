"""HD sources: the 1080p shortcut in the compositor's guide stays an area average (its oracle
is OpenCV's one-step INTER_AREA on real frames), and the bench's budget check for the
``live_1080p30`` / ``live_720p60`` blocks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from colorme_live.core.bench import LIVE_KEYS, live_budgets_hold
from colorme_live.core.refine import small_luma
from colorme_live.core.sources import VideoFileSource
from tests.conftest import clip


def _real_frames(media_dir: Path, size: tuple[int, int], n: int = 8) -> list[np.ndarray]:
    frames = []
    with VideoFileSource(clip(media_dir, "lp_d12_man_wavy_brown_hair_motion")) as video:
        while len(frames) < n and (f := video.read()) is not None:
            frames.append(
                np.ascontiguousarray(cv2.resize(f.image, size, interpolation=cv2.INTER_CUBIC))
            )
    return frames


def _oracle(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    area = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return area.astype(np.float32) * np.float32(1.0 / 255.0)


def test_guide_of_a_1080p_frame_is_the_area_average(media_dir: Path) -> None:
    for frame in _real_frames(media_dir, (1920, 1080)):
        got, want = small_luma(frame, (256, 144)), _oracle(frame, (256, 144))
        assert got.shape == (144, 256) and got.dtype == np.float32
        err = np.abs(got - want) * 255.0
        assert err.mean() < 0.3 and err.max() <= 4.0, (err.mean(), err.max())


def test_guide_at_whole_number_factors_is_exactly_the_one_step_average(media_dir: Path) -> None:
    for size in ((1280, 720), (640, 360)):
        frame = _real_frames(media_dir, size, 1)[0]
        np.testing.assert_array_equal(small_luma(frame, (256, 144)), _oracle(frame, (256, 144)))
    odd = _real_frames(media_dir, (1921, 1081), 1)[0]  # odd sizes: one step
    np.testing.assert_array_equal(small_luma(odd, (256, 144)), _oracle(odd, (256, 144)))


def test_one_pass_guide_is_opencvs_grey_and_area_average_exactly() -> None:
    """`small_luma`'s one Numba pass at whole factors: at factor 1 OpenCV's grey level for all
    2**24 colours, at factors 2, 3, 5 its INTER_AREA of that grey on random frames."""
    v = np.arange(1 << 24, dtype=np.uint32)
    every = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8)
    every = every.reshape(4096, 4096, 3)
    np.testing.assert_array_equal(small_luma(every, (4096, 4096)), _oracle(every, (4096, 4096)))
    rng = np.random.default_rng(5)
    for k in (2, 3, 5):
        frame = rng.integers(0, 256, (144 * k, 256 * k, 3), dtype=np.uint8)
        np.testing.assert_array_equal(small_luma(frame, (256, 144)), _oracle(frame, (256, 144)))


def _block(**changes: float) -> dict[str, float]:
    live = {
        "source_fps": 30.0,
        "display_fps": 30.0,
        "dropped_pct": 0.0,
        "latency_ms_p50": 10.0,
        "latency_ms_p95": 20.0,
        "segment_hz": 20.0,
        "frames": 300,
        "captured": 300,
    }
    live.update(changes)
    return live


def test_live_budget_check() -> None:
    assert set(LIVE_KEYS) <= set(_block())
    assert all(live_budgets_hold(_block()).values())
    assert not live_budgets_hold(_block(display_fps=28.0))["every_frame_shown"]
    assert not live_budgets_hold(_block(dropped_pct=1.5))["dropped"]
    assert not live_budgets_hold(_block(latency_ms_p95=51.0))["latency"]
    assert not live_budgets_hold(_block(segment_hz=14.9))["segmentation"]
    assert live_budgets_hold(_block(source_fps=60.0, display_fps=59.0))["every_frame_shown"]
