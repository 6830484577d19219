"""The fused refine + recolour kernel against its building blocks (``upsample_alpha`` then
``recolor``: bit-identical) and against the slow oracles (``upsample_alpha_reference``,
``recolor_numpy``: within their stated tolerances), on the edges that matter."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from colorme_live.core.fused import refine_recolor
from colorme_live.core.palette import PALETTE
from colorme_live.core.recolor import make_look, recolor
from colorme_live.core.recolor_reference import recolor_numpy
from colorme_live.core.refine import coefficients, luma, upsample_alpha, upsample_alpha_reference
from colorme_live.core.settings import RefineSettings

SETTINGS = RefineSettings()
ALPHA_TOLERANCE = 1e-4
"""Against ``upsample_alpha_reference`` (float32 rounding of the separable interpolation)."""
GREY_TOLERANCE = 1
"""Against ``recolor_numpy`` on the same alpha (its stated tolerance)."""
LOOK = make_look(PALETTE[4], 0.3)


def _coeffs(frame: np.ndarray, prob: np.ndarray) -> np.ndarray:
    lh, lw = prob.shape
    small = cv2.resize(frame, (lw, lh), interpolation=cv2.INTER_AREA).reshape(lh, lw, 3)
    return coefficients(prob.astype(np.float32), luma(small), SETTINGS)


def _random_case(w: int, h: int, lw: int, lh: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    prob = cv2.GaussianBlur(rng.random((lh, lw), dtype=np.float32), (0, 0), 1.5)
    prob = cv2.normalize(prob, None, 0, 1, cv2.NORM_MINMAX).reshape(lh, lw)
    return _coeffs(frame, prob), frame


def _check(coeffs: np.ndarray, frame: np.ndarray, strength: float = 0.8) -> None:
    image, alpha = refine_recolor(coeffs, frame, LOOK, strength, SETTINGS)
    assert alpha is not None
    assert image.shape == frame.shape and image.dtype == np.uint8
    assert alpha.shape == frame.shape[:2] and alpha.dtype == np.float32
    # Bit-identical to the composition of the two tested building blocks.
    want_alpha = upsample_alpha(coeffs, frame, SETTINGS)
    np.testing.assert_array_equal(alpha, want_alpha)
    np.testing.assert_array_equal(image, recolor(frame, want_alpha, LOOK, strength))
    # And close to the slow oracles.
    np.testing.assert_allclose(
        alpha, upsample_alpha_reference(coeffs, frame, SETTINGS), atol=ALPHA_TOLERANCE
    )
    slow = recolor_numpy(frame, alpha, LOOK, strength)
    assert np.abs(image.astype(int) - slow).max() <= GREY_TOLERANCE
    # Where alpha is 0 the frame is untouched, exactly.
    np.testing.assert_array_equal(image[alpha == 0], frame[alpha == 0])
    # Serial and parallel agree exactly, with or without keeping the alpha.
    for parallel in (False, True):
        im2, al2 = refine_recolor(coeffs, frame, LOOK, strength, SETTINGS, parallel=parallel)
        np.testing.assert_array_equal(al2, alpha)
        np.testing.assert_array_equal(im2, image)
        im3, al3 = refine_recolor(
            coeffs, frame, LOOK, strength, SETTINGS, parallel=parallel, keep_alpha=False
        )
        assert al3 is None
        np.testing.assert_array_equal(im3, image)


@pytest.mark.parametrize(
    ("w", "h", "lw", "lh"),
    [(1, 1, 1, 1), (7, 13, 3, 5), (13, 7, 13, 7), (321, 239, 64, 48), (1280, 720, 256, 144)],
)
def test_fused_equals_upsample_then_recolor(w: int, h: int, lw: int, lh: int) -> None:
    _check(*_random_case(w, h, lw, lh, seed=w))


def test_alpha_zero_everywhere_copies_the_frame() -> None:
    frame = np.random.default_rng(1).integers(0, 256, (37, 51, 3), dtype=np.uint8)
    coeffs = _coeffs(frame, np.zeros((9, 13), np.float32))
    image, alpha = refine_recolor(coeffs, frame, LOOK, 1.0, SETTINGS)
    assert alpha is not None and not alpha.any()
    np.testing.assert_array_equal(image, frame)
    _check(coeffs, frame)


@pytest.mark.parametrize("where", ["top-left", "bottom-right", "left-and-right", "full"])
def test_band_at_the_borders_and_in_separate_segments(where: str) -> None:
    frame = np.random.default_rng(2).integers(0, 256, (181, 333, 3), dtype=np.uint8)
    prob = np.zeros((36, 64), np.float32)
    if where == "top-left":
        prob[:6, :9] = 0.9
    elif where == "bottom-right":
        prob[-6:, -9:] = 0.9
    elif where == "left-and-right":  # two segments per row with a wide gap between them
        prob[5:30, :8] = 0.9
        prob[5:30, -8:] = 0.9
    else:
        prob[:] = 0.9
    _check(_coeffs(frame, prob), frame)


@pytest.mark.parametrize("strength", [0.0, 0.37, 1.0])
def test_strengths(strength: float) -> None:
    coeffs, frame = _random_case(96, 64, 24, 16, seed=5)
    _check(coeffs, frame, strength)
    if strength == 0.0:
        image, _ = refine_recolor(coeffs, frame, LOOK, strength, SETTINGS)
        np.testing.assert_array_equal(image, frame)


def test_contract_errors_name_what_they_got() -> None:
    coeffs, frame = _random_case(16, 16, 4, 4, seed=0)
    with pytest.raises(TypeError, match="uint8"):
        refine_recolor(coeffs, frame.astype(np.float32), LOOK, 1.0, SETTINGS)
    with pytest.raises(ValueError, match="contiguous"):
        refine_recolor(coeffs, frame[:, ::2], LOOK, 1.0, SETTINGS)
    with pytest.raises(TypeError, match="float32"):
        refine_recolor(coeffs.astype(np.float64), frame, LOOK, 1.0, SETTINGS)
    with pytest.raises(TypeError, match="Look"):
        refine_recolor(coeffs, frame, "copper", 1.0, SETTINGS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strength"):
        refine_recolor(coeffs, frame, LOOK, 1.5, SETTINGS)


_CONCURRENT_CODE = """
import threading
import numpy as np
from colorme_live.core.fused import refine_recolor
from colorme_live.core.palette import PALETTE
from colorme_live.core.recolor import make_look
from colorme_live.core.refine import coefficients
from colorme_live.core.settings import RefineSettings
rng = np.random.default_rng(0)
frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
prob = rng.random((48, 64), dtype=np.float32)
coeffs = coefficients(prob, rng.random((48, 64), dtype=np.float32), RefineSettings())
look = make_look(PALETTE[3], 0.3)
want, _ = refine_recolor(coeffs, frame, look, 0.8, RefineSettings(), parallel=False)
bad = []
def work():
    for _ in range(200):
        got, _ = refine_recolor(coeffs, frame, look, 0.8, RefineSettings(), parallel=True)
        if not np.array_equal(got, want):
            bad.append(1)
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not bad, len(bad)
"""


def test_parallel_kernel_called_from_several_threads_at_once() -> None:
    """Concurrent parallel launches abort the process under the workqueue layer; the fused
    kernel goes through ``jit.run_parallel`` and falls back to its serial twin (in a
    subprocess, so that an abort cannot take the test session down)."""
    result = subprocess.run(
        [sys.executable, "-c", _CONCURRENT_CODE],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
