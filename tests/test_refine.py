"""Edge refinement: the Numba kernel against its OpenCV/NumPy oracle, and the anti-bleed band."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.core import refine
from colorme_live.core.refine import (
    coefficients,
    luma,
    upsample_alpha,
    upsample_alpha_reference,
)
from colorme_live.core.settings import RefineSettings

SETTINGS = RefineSettings()
TOLERANCE = 1e-4
"""Kernel vs oracle, absolute alpha difference: float32 rounding of a different (separable)
but equivalent order of the bilinear interpolation."""


def _case(w: int, h: int, lw: int, lh: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    prob = cv2.GaussianBlur(rng.random((lh, lw), dtype=np.float32), (0, 0), 1.5)
    prob = cv2.normalize(prob, None, 0, 1, cv2.NORM_MINMAX).reshape(lh, lw)
    small = cv2.resize(frame, (lw, lh), interpolation=cv2.INTER_AREA).reshape(lh, lw, 3)
    return coefficients(prob.astype(np.float32), luma(small), SETTINGS), frame


@pytest.mark.parametrize(
    ("w", "h", "lw", "lh"),
    [
        (1, 1, 1, 1),
        (7, 13, 3, 5),
        (13, 7, 13, 7),
        (64, 48, 16, 12),
        (321, 239, 64, 48),
        (1280, 720, 256, 144),
    ],
)
def test_kernel_matches_the_oracle(w: int, h: int, lw: int, lh: int) -> None:
    coeffs, frame = _case(w, h, lw, lh)
    fast = upsample_alpha(coeffs, frame, SETTINGS)
    slow = upsample_alpha_reference(coeffs, frame, SETTINGS)
    assert fast.shape == (h, w) and fast.dtype == np.float32
    np.testing.assert_allclose(fast, slow, atol=TOLERANCE)
    np.testing.assert_array_equal(fast == 0, slow == 0)
    assert fast.min() >= 0.0 and fast.max() <= 1.0


def test_serial_and_parallel_kernels_agree_exactly() -> None:
    coeffs, frame = _case(640, 360, 128, 72, seed=3)
    a = np.empty((360, 640), np.float32)
    b = np.empty((360, 640), np.float32)
    lo, inv = (
        np.float32(SETTINGS.feather_lo),
        np.float32(1 / (SETTINGS.feather_hi - SETTINGS.feather_lo)),
    )
    refine._upsample_alpha_serial(coeffs, frame, lo, inv, a)
    refine._upsample_alpha_parallel(coeffs, frame, lo, inv, b)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_constant_masks(value: float) -> None:
    frame = np.random.default_rng(2).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    prob = np.full((10, 14), value, np.float32)
    small = cv2.resize(frame, (14, 10), interpolation=cv2.INTER_AREA)
    alpha = upsample_alpha(coefficients(prob, luma(small), SETTINGS), frame, SETTINGS)
    np.testing.assert_allclose(alpha, value, atol=1e-3)
    if value == 0.0:
        assert not alpha.any()  # exactly zero, not just small


def test_alpha_is_exactly_zero_outside_the_band_around_the_hard_mask() -> None:
    frame = np.random.default_rng(4).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    prob = np.zeros((72, 128), np.float32)
    prob[20:40, 30:60] = 0.9
    prob[18:20, 30:60] = 0.45  # soft, sub-threshold fringe: may be feathered, but no further
    small = cv2.resize(frame, (128, 72), interpolation=cv2.INTER_AREA)
    alpha = upsample_alpha(coefficients(prob, luma(small), SETTINGS), frame, SETTINGS)
    hard = (prob > 0.5).astype(np.uint8)
    reach = SETTINGS.band + 1  # the band, plus one low-res pixel of bilinear support
    k = 2 * reach + 1
    allowed = cv2.dilate(hard, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    allowed_full = cv2.resize(allowed, (640, 360), interpolation=cv2.INTER_NEAREST) > 0
    assert alpha[~allowed_full].max() == 0.0
    assert alpha[allowed_full].max() > 0.9


def test_alpha_follows_image_edges_better_than_bilinear_upsampling(media_dir: Path) -> None:
    """On the labelled photos, the guided upsampling beats plain bilinear upsampling of the
    same low-resolution probability (it recovers edges from the full-resolution image)."""
    from colorme_live.core.metrics import iou
    from colorme_live.core.segmentation import HairSegmenter, segmentation_size
    from tests.conftest import SHARED_MODEL

    names = sorted((media_dir / "images").glob("figaro_*.jpg"))[::4]
    guided, bilinear = [], []
    with HairSegmenter(SHARED_MODEL) as seg:
        for path in names:
            frame = cv2.imread(str(path))
            truth = cv2.imread(str(media_dir / "images" / "masks" / f"{path.stem}.png"), 0)
            h, w = frame.shape[:2]
            small = cv2.resize(frame, segmentation_size((w, h), 256), interpolation=cv2.INTER_AREA)
            prob = seg.segment(small).prob
            alpha = upsample_alpha(coefficients(prob, luma(small), SETTINGS), frame, SETTINGS)
            guided.append(iou(alpha, truth / 255.0))
            bilinear.append(iou(cv2.resize(prob, (w, h)), truth / 255.0))
    assert np.mean(guided) >= np.mean(bilinear) - 0.005, (np.mean(guided), np.mean(bilinear))


def test_contract_errors_name_what_they_got() -> None:
    coeffs, frame = _case(16, 16, 4, 4)
    with pytest.raises(TypeError, match="uint8"):
        upsample_alpha(coeffs, frame.astype(np.float32), SETTINGS)
    with pytest.raises(ValueError, match="shape"):
        upsample_alpha(coeffs, frame[..., :2].copy(), SETTINGS)
    with pytest.raises(ValueError, match="contiguous"):
        upsample_alpha(coeffs, frame[:, ::2], SETTINGS)
    with pytest.raises(TypeError, match="float32"):
        upsample_alpha(coeffs.astype(np.float64), frame, SETTINGS)
    with pytest.raises(ValueError, match="same"):
        coefficients(np.zeros((4, 4), np.float32), np.zeros((4, 5), np.float32), SETTINGS)
