"""Edge refinement: from the low-resolution hair probability to a full-resolution alpha that
follows real hair edges, is feathered, and is exactly 0 away from the hair.

It is a *fast guided filter* (He & Sun, 2015): the linear coefficients ``a, b`` of the guided
filter (guide = luma) are computed at the segmentation resolution, then bilinearly upsampled
and applied to the full-resolution luma, ``q = a * I + b``. The result is ramped between
``feather_lo`` and ``feather_hi`` and multiplied by the bilinearly upsampled *band*: the hard
mask (p > 0.5) dilated by ``band`` pixels. Outside the band alpha is exactly 0, so colour never
lands on skin, background or clothes far from hair.

The full-resolution half is the Numba kernel ``upsample_alpha``
(GLSL twin: shaders/composite.frag); ``upsample_alpha_reference`` is its plain OpenCV/NumPy
oracle. Bilinear sampling uses pixel centres and clamps at the borders, exactly like
``cv2.resize(..., INTER_LINEAR)`` and a GL_LINEAR / CLAMP_TO_EDGE texture."""

from __future__ import annotations

import cv2
import numba
import numpy as np

from colorme_live.core import jit  # noqa: F401  (sets the Numba threading layer)
from colorme_live.core.settings import RefineSettings

LUMA_WEIGHTS_BGR = (0.114, 0.587, 0.299)
"""Rec. 601 luma weights in B, G, R order: the guide image of the filter."""

COEFF_A, COEFF_B, COEFF_BAND = 0, 1, 2
"""Channels of the coefficient map."""


def luma(image_bgr: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a BGR uint8 image, float32 in 0..1."""
    wb, wg, wr = LUMA_WEIGHTS_BGR
    img = image_bgr.astype(np.float32)
    out = img[..., 0] * (wb / 255.0) + img[..., 1] * (wg / 255.0) + img[..., 2] * (wr / 255.0)
    return np.ascontiguousarray(out, dtype=np.float32)


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    k = 2 * radius + 1
    return cv2.boxFilter(x, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)


def coefficients(prob: np.ndarray, guide: np.ndarray, settings: RefineSettings) -> np.ndarray:
    """The low-resolution map (h, w, 3) float32: guided-filter ``a``, ``b`` and the band.

    ``prob`` and ``guide`` (luma) are float32 (h, w) in 0..1 at the segmentation resolution."""
    if prob.shape != guide.shape or prob.ndim != 2:
        raise ValueError(f"prob {prob.shape} and guide {guide.shape} must be the same (h, w)")
    if prob.dtype != np.float32 or guide.dtype != np.float32:
        raise TypeError(f"prob and guide must be float32, got {prob.dtype}, {guide.dtype}")
    r = settings.radius
    mean_i = _box(guide, r)
    mean_p = _box(prob, r)
    cov_ip = _box(guide * prob, r) - mean_i * mean_p
    var_i = _box(guide * guide, r) - mean_i * mean_i
    a = cov_ip / (var_i + settings.eps)
    b = mean_p - a * mean_i
    out = np.empty((*prob.shape, 3), np.float32)
    out[..., COEFF_A] = _box(a, r)
    out[..., COEFF_B] = _box(b, r)
    band: np.ndarray = (prob > 0.5).astype(np.uint8)
    if settings.band > 0:
        k = 2 * settings.band + 1
        band = cv2.dilate(band, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    out[..., COEFF_BAND] = band
    return out


def _check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise TypeError(f"frame must be a uint8 ndarray, got {getattr(frame, 'dtype', frame)!r}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must be (H, W, 3) BGR, got shape {frame.shape}")
    if not frame.flags.c_contiguous:
        raise ValueError("frame must be C-contiguous (use np.ascontiguousarray)")


def _check_coeffs(coeffs: np.ndarray) -> None:
    if not isinstance(coeffs, np.ndarray) or coeffs.dtype != np.float32:
        raise TypeError(f"coeffs must be float32, got {getattr(coeffs, 'dtype', coeffs)!r}")
    if coeffs.ndim != 3 or coeffs.shape[2] != 3 or not coeffs.flags.c_contiguous:
        raise ValueError(f"coeffs must be C-contiguous (h, w, 3), got {coeffs.shape}")


def upsample_alpha(
    coeffs: np.ndarray,
    frame: np.ndarray,
    settings: RefineSettings,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Full-resolution alpha, float32 (H, W) in 0..1, for ``frame`` (uint8 (H, W, 3) BGR).

    ``coeffs`` comes from ``coefficients`` at any lower (or equal) resolution."""
    _check_coeffs(coeffs)
    _check_frame(frame)
    h, w = frame.shape[:2]
    if out is None:
        out = np.empty((h, w), np.float32)
    elif out.shape != (h, w) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be C-contiguous float32 {(h, w)}, got {out.dtype} {out.shape}")
    lo, hi = settings.feather_lo, settings.feather_hi
    kernel = _upsample_alpha_parallel if h * w >= PARALLEL_MIN_PIXELS else _upsample_alpha_serial
    kernel(coeffs, frame, np.float32(lo), np.float32(1.0 / (hi - lo)), out)
    return out


PARALLEL_MIN_PIXELS = 1600 * 900
"""Frames with at least this many pixels are processed row-parallel (Numba workqueue)."""


@numba.njit(cache=True, nogil=True)
def _sample_positions(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left/right source index and fraction of each output pixel centre (cv2 INTER_LINEAR)."""
    i0s = np.empty(n_out, np.int64)
    i1s = np.empty(n_out, np.int64)
    fs = np.empty(n_out, np.float32)
    scale = np.float32(n_in / n_out)
    for i in range(n_out):
        s = (np.float32(i) + np.float32(0.5)) * scale - np.float32(0.5)
        if s < np.float32(0.0):
            s = np.float32(0.0)
        i0 = min(int(s), n_in - 1)
        i0s[i] = i0
        i1s[i] = min(i0 + 1, n_in - 1)
        fs[i] = s - np.float32(i0)
    return i0s, i1s, fs


@numba.njit(cache=True, nogil=True)
def _alpha_row(
    coeffs: np.ndarray,
    frame: np.ndarray,
    y: int,
    y0: int,
    y1: int,
    fy: np.float32,
    x0s: np.ndarray,
    x1s: np.ndarray,
    fxs: np.ndarray,
    x_start: int,
    x_stop: int,
    lo: np.float32,
    inv_ramp: np.float32,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """One output row; columns outside [x_start, x_stop) are outside the band (alpha 0)."""
    cw = coeffs.shape[1]
    one = np.float32(1.0)
    zero = np.float32(0.0)
    wb = np.float32(LUMA_WEIGHTS_BGR[0] / 255.0)
    wg = np.float32(LUMA_WEIGHTS_BGR[1] / 255.0)
    wr = np.float32(LUMA_WEIGHTS_BGR[2] / 255.0)
    # Vertical interpolation once per low-resolution column, then horizontal per pixel.
    row = np.empty((cw, 3), np.float32)
    for x in range(cw):
        for c in range(3):
            row[x, c] = coeffs[y0, x, c] * (one - fy) + coeffs[y1, x, c] * fy
    out[y, :x_start] = zero
    out[y, x_stop:] = zero
    for x in range(x_start, x_stop):
        x0 = x0s[x]
        x1 = x1s[x]
        fx = fxs[x]
        gx = one - fx
        # Branch-free so that the loop vectorises; band == 0 still gives exactly 0.
        band = row[x0, 2] * gx + row[x1, 2] * fx
        a = row[x0, 0] * gx + row[x1, 0] * fx
        b = row[x0, 1] * gx + row[x1, 1] * fx
        i = wb * np.float32(frame[y, x, 0]) + wg * np.float32(frame[y, x, 1])
        i += wr * np.float32(frame[y, x, 2])
        q = min(max((a * i + b - lo) * inv_ramp, zero), one)
        out[y, x] = q * max(band, zero)


@numba.njit(cache=True, nogil=True)
def _band_span(band_any: np.ndarray, i0s: np.ndarray, i1s: np.ndarray) -> tuple[int, int]:
    """[start, stop) of the output indices whose two source indices are not both band-free."""
    n = i0s.shape[0]
    start = n
    stop = 0
    for i in range(n):
        if band_any[i0s[i]] or band_any[i1s[i]]:
            start = min(start, i)
            stop = i + 1
    return start, max(start, stop)


@numba.njit(cache=True, nogil=True)
def _plan(
    coeffs: np.ndarray, h: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Sample positions for both axes and the span of columns that can touch the band."""
    x0s, x1s, fxs = _sample_positions(w, coeffs.shape[1])
    y0s, y1s, fys = _sample_positions(h, coeffs.shape[0])
    cols = np.zeros(coeffs.shape[1], np.bool_)
    for yy in range(coeffs.shape[0]):
        for xx in range(coeffs.shape[1]):
            if coeffs[yy, xx, 2] > 0:
                cols[xx] = True
    x_start, x_stop = _band_span(cols, x0s, x1s)
    return x0s, x1s, fxs, y0s, y1s, fys, x_start, x_stop


@numba.njit(cache=True, nogil=True)
def _row_has_band(coeffs: np.ndarray, y0: int, y1: int) -> bool:
    for xx in range(coeffs.shape[1]):  # noqa: SIM110 - an explicit loop compiles in Numba
        if coeffs[y0, xx, 2] > 0 or coeffs[y1, xx, 2] > 0:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _upsample_alpha_serial(
    coeffs: np.ndarray, frame: np.ndarray, lo: np.float32, inv_ramp: np.float32, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    x0s, x1s, fxs, y0s, y1s, fys, xa, xb = _plan(coeffs, frame.shape[0], frame.shape[1])
    for y in range(frame.shape[0]):
        if _row_has_band(coeffs, y0s[y], y1s[y]):
            _alpha_row(
                coeffs, frame, y, y0s[y], y1s[y], fys[y], x0s, x1s, fxs, xa, xb, lo, inv_ramp, out
            )
        else:
            out[y, :] = 0


@numba.njit(cache=True, nogil=True, parallel=True)
def _upsample_alpha_parallel(
    coeffs: np.ndarray, frame: np.ndarray, lo: np.float32, inv_ramp: np.float32, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    x0s, x1s, fxs, y0s, y1s, fys, xa, xb = _plan(coeffs, frame.shape[0], frame.shape[1])
    for y in numba.prange(frame.shape[0]):
        if _row_has_band(coeffs, y0s[y], y1s[y]):
            _alpha_row(
                coeffs, frame, y, y0s[y], y1s[y], fys[y], x0s, x1s, fxs, xa, xb, lo, inv_ramp, out
            )
        else:
            out[y, :] = 0


def upsample_alpha_reference(
    coeffs: np.ndarray, frame: np.ndarray, settings: RefineSettings
) -> np.ndarray:
    """The plain OpenCV/NumPy version of ``upsample_alpha``: the test oracle."""
    _check_coeffs(coeffs)
    _check_frame(frame)
    h, w = frame.shape[:2]
    up = cv2.resize(coeffs, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, 3)
    q = up[..., COEFF_A] * luma(frame) + up[..., COEFF_B]
    ramp = (q - settings.feather_lo) / (settings.feather_hi - settings.feather_lo)
    alpha = np.clip(ramp, 0.0, 1.0) * np.maximum(up[..., COEFF_BAND], 0.0)
    alpha[up[..., COEFF_BAND] <= 0.0] = 0.0
    return alpha.astype(np.float32)
