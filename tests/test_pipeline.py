"""The synchronous pipeline with the real model on the real labelled photos and clips."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.cli import main
from colorme_live.core.metrics import iou
from colorme_live.core.palette import PALETTE
from colorme_live.core.pipeline import Pipeline
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from tests.conftest import clip

RAW_MODEL_MEAN_IOU = 0.78
"""The raw model's mean IoU on the 91 labelled photos (shared/media/SOURCES.md)."""


@pytest.mark.slow
def test_mask_command_mean_iou_on_the_labelled_photos(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = media_dir / "images"
    assert main(["mask", str(images), str(tmp_path)]) == 0
    capsys.readouterr()
    scores = []
    for path in sorted(images.glob("*.jpg")):
        truth = cv2.imread(str(images / "masks" / f"{path.stem}.png"), cv2.IMREAD_GRAYSCALE)
        pred = cv2.imread(str(tmp_path / f"{path.stem}.png"), cv2.IMREAD_GRAYSCALE)
        assert pred.shape == truth.shape
        scores.append(iou(pred / 255.0, truth / 255.0))
    assert len(scores) == 91
    assert float(np.mean(scores)) >= RAW_MODEL_MEAN_IOU, f"mean IoU {np.mean(scores):.4f}"


@pytest.fixture
def pipeline(model_path: Path) -> Pipeline:
    with Pipeline(HairSegmenter(model_path)) as p:
        yield p


def _frames(path: Path, n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < n:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    cap.release()
    return out


def test_step_result_contract_and_stage_timings(media_dir: Path, pipeline: Pipeline) -> None:
    frames = _frames(clip(media_dir, "pexels_red_hair_woman_makeup"), 3)
    state = None
    for i, frame in enumerate(frames):
        result, state = pipeline.step(frame, Settings(), state)
        assert result.index == i
        assert result.image.shape == frame.shape and result.image.dtype == np.uint8
        assert result.alpha.shape == frame.shape[:2] and result.alpha.dtype == np.float32
        assert 0.0 <= result.alpha.min() and result.alpha.max() <= 1.0
        for stage in ("resize", "segment", "smooth", "prepare", "fused", "composite", "total"):
            assert result.timings_ms[stage] >= 0.0
    assert state is not None and state.next_index == 3


def test_step_is_deterministic(media_dir: Path, model_path: Path) -> None:
    frames = _frames(clip(media_dir, "lp_d3_woman_brown_hair_expressions"), 4)
    runs = []
    for _ in range(2):
        with Pipeline(HairSegmenter(model_path)) as p:
            state = None
            images = []
            for f in frames:
                r, state = p.step(f, Settings(), state)
                images.append(r.image)
        runs.append(images)
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_intensity_zero_is_the_untouched_frame(media_dir: Path, pipeline: Pipeline) -> None:
    frame = _frames(clip(media_dir, "lp_d10_woman_long_dark_hair_talking"), 1)[0]
    result, _ = pipeline.step(frame, replace(Settings(), intensity=0), None)
    np.testing.assert_array_equal(result.image, frame)
    assert result.alpha.max() > 0.5  # the hair was found; it just was not coloured


def test_colour_lands_on_the_hair_not_on_the_face(media_dir: Path, pipeline: Pipeline) -> None:
    image = cv2.imread(str(media_dir / "images" / "figaro_straight_Frame00006.jpg"))
    blue = replace(Settings(), color=PALETTE[8], intensity=100)
    result, _ = pipeline.step(image, blue, None)
    changed = np.abs(result.image.astype(int) - image.astype(int)).sum(axis=2)
    hair = result.alpha > 0.5
    assert changed[hair].mean() > 40
    assert np.all(changed[result.alpha == 0] == 0)  # exactly untouched where alpha is 0


def test_a_new_resolution_restarts_the_temporal_state(media_dir: Path, pipeline: Pipeline) -> None:
    frame = _frames(clip(media_dir, "lp_d10_woman_long_dark_hair_talking"), 1)[0]
    _, state = pipeline.step(frame, Settings(), None)
    small = np.ascontiguousarray(cv2.resize(frame, (200, 120)))
    result, state = pipeline.step(small, Settings(), state)
    assert result.alpha.shape == (120, 200) and state.frame_size == (200, 120)


@pytest.mark.parametrize("shape", [(1, 1, 3), (16, 16, 3), (7, 13, 3), (13, 7, 3)])
def test_tiny_and_odd_frames(pipeline: Pipeline, shape: tuple[int, int, int]) -> None:
    frame = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    result, _ = pipeline.step(frame, Settings(), None)
    assert result.image.shape == shape and result.alpha.shape == shape[:2]
