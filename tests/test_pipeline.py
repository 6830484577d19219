"""The synchronous pipeline with the real model on the real labelled photos and clips."""

from __future__ import annotations

import time
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

MASK_MEAN_IOU_FLOOR = 0.8
"""Mean IoU of ``mask``'s output on the 91 labelled photos. Measured: ours 0.8047 (whole
frames at the model's 512x512 plus a coarse pass); 0.7965 with the 256-px input before, and
its raw model (probability upsampled bilinearly, as ``colorme-live eval`` reports it) 0.7896:
the floor sits above both, so a segmentation or refinement that makes the masks worse fails."""


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
    assert float(np.mean(scores)) >= MASK_MEAN_IOU_FLOOR, f"mean IoU {np.mean(scores):.4f}"


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
        t0 = time.perf_counter()
        result, state = pipeline.step(frame, Settings(), state)
        wall_ms = (time.perf_counter() - t0) * 1e3
        assert result.index == i
        assert result.image.shape == frame.shape and result.image.dtype == np.uint8
        assert result.alpha.shape == frame.shape[:2] and result.alpha.dtype == np.float32
        assert 0.0 <= result.alpha.min() and result.alpha.max() <= 1.0
        t = result.timings_ms
        stages = ("resize", "segment", "smooth", "prepare", "fused")
        # each stage did real work and is timed in milliseconds, within the step's wall time
        assert all(t[stage] > 0.0 for stage in stages), t
        assert t["segment"] > 1.0, t  # the model takes milliseconds, not microseconds
        assert t["prepare"] + t["fused"] <= t["composite"] * 1.001 + 0.01, t
        assert sum(t[stage] for stage in stages) <= t["total"] * 1.001 + 0.01, t
        assert 0.5 * wall_ms <= t["total"] <= wall_ms, (t["total"], wall_ms)
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


FACE_PHOTOS = (
    "figaro_straight_Frame00006",
    "celebamaskhq_maskgan_sample0",
    "celebamaskhq_maskgan_sample1",
    "celebamaskhq_maskgan_sample3",
)
"""Photos with a face beside the hair and a hand-made hair mask (``images/masks``)."""
NOT_HAIR_MARGIN_PX = 10
"""Pixels farther than this from the hand-made hair mask are certainly not hair (the masks'
own outline is only accurate to a few pixels)."""
CHANGED_LEVELS = 20
"""A pixel counts as coloured when a channel moved by more than this (electric blue at
intensity 100 moves hair by 60-200 levels)."""
NOT_HAIR_COLOURED_MAX = 0.08
NOT_HAIR_COLOURED_MEAN_MAX = 0.05
"""Share of the certainly-not-hair pixels coloured, per photo and over the photos. Measured
(05:57 UTC, the model's own false positives on the skin beside the hair and on dark
backgrounds): 0.066, 0.051, 0.036, 0.000, mean 0.038. With colour planted over the centre
of each photo (the face), celebamaskhq_maskgan_sample0 alone reads 0.46."""
FACE_PHOTOS_IOU_FLOOR = 0.849
"""Mean IoU of the final alpha on ``FACE_PHOTOS``. Measured: ours 0.762 / 0.927 / 0.819 / 0.905
(mean 0.8532), the raw model (its probability upsampled bilinearly) 0.755 / 0.919 / 0.811 /
0.900 (mean 0.8463): the floor sits above the raw model, so refinement must help."""


def test_colour_lands_on_the_hair_not_on_the_face(media_dir: Path, pipeline: Pipeline) -> None:
    blue = replace(Settings(), color=PALETTE[8], intensity=100)
    disc = cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * NOT_HAIR_MARGIN_PX + 1, 2 * NOT_HAIR_MARGIN_PX + 1)
    )
    coloured_share, ious = [], []
    for name in FACE_PHOTOS:
        image = cv2.imread(str(media_dir / "images" / f"{name}.jpg"))
        truth = cv2.imread(str(media_dir / "images" / "masks" / f"{name}.png"), 0) > 127
        result, _ = pipeline.step(image, blue, None)
        changed = np.abs(result.image.astype(int) - image.astype(int)).max(axis=2)
        not_hair = cv2.dilate(truth.astype(np.uint8), disc) == 0
        coloured_share.append(float(np.mean(changed[not_hair] > CHANGED_LEVELS)))
        assert coloured_share[-1] <= NOT_HAIR_COLOURED_MAX, (name, coloured_share[-1])
        assert np.mean(changed[result.alpha > 0.5] > CHANGED_LEVELS) > 0.9, name  # coloured
        assert np.all(changed[result.alpha == 0] == 0), name  # exactly untouched at alpha 0
        h, w = truth.shape
        raw = cv2.resize(result.analysis.raw_prob, (w, h), interpolation=cv2.INTER_LINEAR)
        ours = iou(result.alpha, truth.astype(np.float32))
        assert ours >= iou(raw, truth.astype(np.float32)), f"refinement made {name} worse"
        ious.append(ours)
    assert float(np.mean(coloured_share)) <= NOT_HAIR_COLOURED_MEAN_MAX, coloured_share
    assert float(np.mean(ious)) >= FACE_PHOTOS_IOU_FLOOR, ious


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
