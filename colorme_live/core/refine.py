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
oracle. ``core.fused`` runs the same row functions together with the recolour in one pass
(what the pipeline uses); ``upsample_alpha`` stays the tested building block.
Bilinear sampling uses pixel centres and clamps at the borders, exactly like
``cv2.resize(..., INTER_LINEAR)`` and a GL_LINEAR / CLAMP_TO_EDGE texture."""

from __future__ import annotations

import cv2
import numba
import numpy as np

from colorme_live.core.frames import check_bgr
from colorme_live.core.jit import njit, run_parallel
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


GREY_WEIGHTS_BGR = (3735, 19235, 9798)
GREY_SHIFT = 15
"""OpenCV's fixed-point BGR2GRAY (``(3735 B + 19235 G + 9798 R + 2**14) >> 15``): the same
grey level as ``cv2.cvtColor`` for all 2**24 colours (checked by a test)."""


def small_luma(frame_bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Rec. 601 luma of a uint8 BGR frame, area-averaged down to ``size`` = (w, h): float32
    (h, w) in 0..1, the guide of `coefficients`.

    OpenCV's grey conversion (the same weights, rounded to a grey level) at full resolution
    and then INTER_AREA on one channel: within about 1 grey level of ``luma`` of the
    area-downscaled colour image and about 2x cheaper (0.7 vs 1.5 ms at 720p).

    At a whole-number factor k (1280x720 -> 256x144 is 5x) both steps run in one Numba pass
    (`_grey_area`) that reads the frame once and gives exactly what OpenCV gives (its
    INTER_AREA at a whole factor is the rounded block mean): 0.2 instead of 0.4 ms of CPU at
    720p on the 2-core target (OpenCV's INTER_AREA alone took 0.37-0.4 ms of it).

    OpenCV's INTER_AREA is fast only for whole-number factors; 1920x1080 -> 256x144 (7.5x)
    took 3.1-3.4 ms. An exact 2x average first (fast), then the rest, takes 1.2 ms and
    differs from the one-step result by 0.11 grey levels on average, 3 at most (30 frames of
    a 1080p clip)."""
    w, h = size
    gh, gw = frame_bgr.shape[:2]
    k = gw // w
    if k >= 1 and gw == k * w and gh == k * h and frame_bgr.flags.c_contiguous:
        out = np.empty((h, w), np.float32)
        _grey_area(frame_bgr, k, out)
        return out
    grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    if (gw, gh) != (w, h):
        if gw % 2 == 0 and gh % 2 == 0 and gw >= 4 * w and gh >= 4 * h:
            grey = cv2.resize(grey, (gw // 2, gh // 2), interpolation=cv2.INTER_AREA)
        grey = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)
    out = np.empty((h, w), np.float32)
    np.multiply(grey.reshape(h, w), np.float32(1.0 / 255.0), out=out, dtype=np.float32)
    return out


@njit(cache=True, nogil=True)
def _grey_area(frame: np.ndarray, k: int, out: np.ndarray) -> None:  # pragma: no cover
    """``out[y, x]`` = the rounded mean of the k x k block of OpenCV grey levels (see
    `GREY_WEIGHTS_BGR`) at ``(k y, k x)``, times float32(1 / 255): OpenCV's BGR2GRAY then
    INTER_AREA at the whole factor k, in one pass. ``frame`` C-contiguous uint8 (k h, k w, 3),
    ``out`` float32 (h, w)."""
    h, w = out.shape
    width = frame.shape[1]
    src = frame.reshape(frame.shape[0], 3 * width)
    cb, cg, cr = GREY_WEIGHTS_BGR
    half = np.int32(1 << (GREY_SHIFT - 1))
    column = np.empty(width, np.int32)
    n = k * k
    scale = np.float32(1.0 / 255.0)
    for y in range(h):
        column[:] = 0
        for dy in range(k):  # vertical sums of grey levels (stride-3 loads; vectorises)
            row = src[k * y + dy]
            for x in range(width):
                b = np.int32(row[3 * x])
                g = np.int32(row[3 * x + 1])
                r = np.int32(row[3 * x + 2])
                column[x] += (cb * b + cg * g + cr * r + half) >> GREY_SHIFT
        for x in range(w):
            total = np.int32(0)
            for dx in range(k):
                total += column[k * x + dx]
            out[y, x] = np.float32((total + n // 2) // n) * scale


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
    *,
    parallel: bool | None = None,
) -> np.ndarray:
    """Full-resolution alpha, float32 (H, W) in 0..1, for ``frame`` (uint8 (H, W, 3) BGR,
    C-contiguous).

    ``coeffs`` comes from ``coefficients`` at any lower (or equal) resolution. ``out`` is an
    optional C-contiguous float32 (H, W) array to write into. ``parallel`` forces the
    row-parallel (True) or serial (False) kernel; by default frames of at least
    `PARALLEL_MIN_PIXELS` pixels are parallel. Both give identical output."""
    _check_coeffs(coeffs)
    check_bgr(frame, contiguous=True)
    h, w = frame.shape[:2]
    if out is None:
        out = np.empty((h, w), np.float32)
    else:
        check_alpha_out(out, (h, w))
    use_parallel = h * w >= PARALLEL_MIN_PIXELS if parallel is None else parallel
    lo, inv_ramp = ramp_constants(settings)
    run_parallel(
        _upsample_alpha_parallel, _upsample_alpha_serial, use_parallel,
        *(coeffs, frame, lo, inv_ramp, out),
    )  # fmt: skip
    return out


PARALLEL_MIN_PIXELS = 1600 * 900
"""`upsample_alpha` runs row-parallel (Numba workqueue) for frames of at least this many
pixels; smaller ones run on the calling thread."""

ROWS_PER_TASK = 16
"""Output rows per task of the parallel kernels (each task allocates its row scratch once)."""


def check_alpha_out(out: object, hw: tuple[int, int]) -> None:
    """Raise unless ``out`` is a writeable C-contiguous float32 array of shape ``hw``."""
    if not isinstance(out, np.ndarray) or out.dtype != np.float32:
        raise TypeError(f"out must be a float32 ndarray, got {getattr(out, 'dtype', out)!r}")
    if out.shape != hw or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be writeable C-contiguous float32 {hw}, got {out.shape}")


def ramp_constants(settings: RefineSettings) -> tuple[np.float32, np.float32]:
    """``(feather_lo, 1 / (feather_hi - feather_lo))`` as the kernels take them."""
    lo, hi = settings.feather_lo, settings.feather_hi
    return np.float32(lo), np.float32(1.0 / (hi - lo))


# ---------------------------------------------------------------------------------------------
# Kernels. GLSL twin: shaders/composite.frag
#
# Bilinear upsampling is separable. The horizontal half runs once per low-resolution row (into
# three planes a, b, band at the full width), the vertical half per output row as a blend of
# two contiguous plane rows: so the per-pixel loops are contiguous and vectorise (a per-pixel
# gather from the low-resolution row does not). Only the columns whose bilinear support
# touches the band are computed; alpha is exactly 0 elsewhere.


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _band_spans(coeffs: np.ndarray, x0s: np.ndarray, x1s: np.ndarray) -> np.ndarray:
    """``spans[r] = [start, stop)``: the output columns whose bilinear support touches a band
    pixel of low-resolution row ``r`` (``start == stop`` when the row has none)."""
    ch, cw = coeffs.shape[0], coeffs.shape[1]
    spans = np.zeros((ch, 2), np.int64)
    for r in range(ch):
        c0 = -1
        c1 = -1
        for c in range(cw):
            if coeffs[r, c, COEFF_BAND] > 0:
                if c0 < 0:
                    c0 = c
                c1 = c
        if c0 >= 0:  # x0s and x1s are non-decreasing: the touching columns are one interval
            spans[r, 0] = np.searchsorted(x1s, c0, side="left")
            spans[r, 1] = np.searchsorted(x0s, c1, side="right")
    return spans


@njit(cache=True, nogil=True)
def _hull(a0: int, a1: int, b0: int, b1: int) -> tuple[int, int]:
    """The smallest interval covering [a0, a1) and [b0, b1) (an empty one adds nothing)."""
    if a0 == a1:
        return b0, b1
    if b0 == b1:
        return a0, a1
    return min(a0, b0), max(a1, b1)


@njit(cache=True, nogil=True)
def _union(spans: np.ndarray, r0: int, r1: int) -> tuple[int, int]:
    """The smallest [start, stop) covering the spans of rows ``r0`` and ``r1``."""
    return _hull(spans[r0, 0], spans[r0, 1], spans[r1, 0], spans[r1, 1])


@njit(cache=True, nogil=True)
def _column_reach(x0s: np.ndarray, x1s: np.ndarray, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """For each low-resolution column ``c``: ``[first[c], stop[c])``, the output columns whose
    bilinear support includes ``c`` (``x0s``, ``x1s`` are non-decreasing)."""
    cols = np.arange(n_in)
    return np.searchsorted(x1s, cols, side="left"), np.searchsorted(x0s, cols, side="right")


@njit(cache=True, nogil=True)
def _band_mask(coeffs: np.ndarray) -> np.ndarray:
    """uint8 (h, w): 1 where the low-resolution band is non-zero."""
    ch, cw = coeffs.shape[0], coeffs.shape[1]
    mask = np.zeros((ch, cw), np.uint8)
    for r in range(ch):
        for c in range(cw):
            if coeffs[r, c, COEFF_BAND] > 0:
                mask[r, c] = 1
    return mask


@njit(cache=True, nogil=True)
def _row_segments(
    mask: np.ndarray, r0: int, r1: int, first: np.ndarray, stop: np.ndarray, segs: np.ndarray
) -> int:
    """The disjoint, increasing output column intervals ``segs[:n]`` (``[start, stop)`` each)
    of an output row interpolated from low-resolution rows ``r0`` and ``r1``, outside which
    its alpha is exactly 0 (no band pixel of either row in the bilinear support). Returns n.
    ``segs`` needs room for ``mask.shape[1]`` intervals."""
    cw = mask.shape[1]
    n = 0
    c = 0
    while c < cw:
        if mask[r0, c] == 0 and mask[r1, c] == 0:
            c += 1
            continue
        c_start = c
        while c < cw and (mask[r0, c] != 0 or mask[r1, c] != 0):
            c += 1
        x_start, x_stop = first[c_start], stop[c - 1]
        if n > 0 and x_start <= segs[n - 1, 1]:  # supports overlap across a narrow gap
            segs[n - 1, 1] = x_stop
        else:
            segs[n, 0] = x_start
            segs[n, 1] = x_stop
            n += 1
    return n


@njit(cache=True, nogil=True)
def _horizontal_row(
    coeffs: np.ndarray,
    r: int,
    spans: np.ndarray,
    x0s: np.ndarray,
    x1s: np.ndarray,
    fxs: np.ndarray,
    planes: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``planes[:, r, x]``: low-resolution row ``r`` of a, b and band interpolated to output
    column ``x``, over the columns any output row that uses row ``r`` computes."""
    ch = coeffs.shape[0]
    x_start, x_stop = _union(spans, max(r - 1, 0), min(r + 1, ch - 1))
    x_start, x_stop = _hull(x_start, x_stop, spans[r, 0], spans[r, 1])
    one = np.float32(1.0)
    row = coeffs[r]
    for x in range(x_start, x_stop):
        i0 = np.uint64(x0s[x])  # unsigned: no negative-index wrap-around test per gather
        i1 = np.uint64(x1s[x])
        f = fxs[x]
        g = one - f
        for c in range(3):
            planes[c, r, x] = row[i0, c] * g + row[i1, c] * f


@njit(inline="always")
def pixel_luma(b8: np.uint8, g8: np.uint8, r8: np.uint8) -> np.float32:  # pragma: no cover
    """The guide of one BGR pixel: its Rec. 601 luma (`LUMA_WEIGHTS_BGR`) in 0..1, float32.
    The one home of the per-pixel formula for every kernel that needs it (`_alpha_span`,
    ``fused``), inlined into their loops, which stay vectorised; `luma` is its NumPy twin
    (the same float32 products and sums in the same order, so the same numbers)."""
    wb = np.float32(LUMA_WEIGHTS_BGR[0] / 255.0)
    wg = np.float32(LUMA_WEIGHTS_BGR[1] / 255.0)
    wr = np.float32(LUMA_WEIGHTS_BGR[2] / 255.0)
    return wb * np.float32(b8) + wg * np.float32(g8) + wr * np.float32(r8)


@njit(cache=True, nogil=True)
def _alpha_span(
    planes: np.ndarray,
    y0: int,
    y1: int,
    fy: np.float32,
    s_span: np.ndarray,
    x0: int,
    lo: np.float32,
    inv_ramp: np.float32,
    guide: np.ndarray,
    a_span: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Alpha of ``n = len(a_span)`` output pixels from column ``x0`` of an output row whose
    low-resolution rows are ``y0``, ``y1`` (weights ``1 - fy``, ``fy``). ``s_span`` holds
    their 3n BGR bytes; ``guide`` is scratch of at least n floats."""
    n = a_span.shape[0]
    for x in range(n):  # luma in 0..1 (stride-3 loads, in a pass of their own)
        guide[x] = pixel_luma(s_span[3 * x], s_span[3 * x + 1], s_span[3 * x + 2])
    alpha_from_guide(planes, y0, y1, fy, x0, lo, inv_ramp, guide, a_span)


@njit(cache=True, nogil=True)
def alpha_from_guide(
    planes: np.ndarray,
    y0: int,
    y1: int,
    fy: np.float32,
    x0: int,
    lo: np.float32,
    inv_ramp: np.float32,
    guide: np.ndarray,
    a_span: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """The second half of `_alpha_span`: alpha from the pixels' luma ``guide[:n]`` (0..1,
    computed as there), for callers that compute the luma together with something else."""
    n = a_span.shape[0]
    one = np.float32(1.0)
    zero = np.float32(0.0)
    gy = one - fy
    a0 = planes[COEFF_A, y0, x0 : x0 + n]
    a1 = planes[COEFF_A, y1, x0 : x0 + n]
    b0 = planes[COEFF_B, y0, x0 : x0 + n]
    b1 = planes[COEFF_B, y1, x0 : x0 + n]
    m0 = planes[COEFF_BAND, y0, x0 : x0 + n]
    m1 = planes[COEFF_BAND, y1, x0 : x0 + n]
    for x in range(n):  # contiguous: vectorises. band == 0 gives exactly 0.
        band = m0[x] * gy + m1[x] * fy
        a = a0[x] * gy + a1[x] * fy
        b = b0[x] * gy + b1[x] * fy
        q = min(max((a * guide[x] + b - lo) * inv_ramp, zero), one)
        a_span[x] = q * max(band, zero)


@njit(cache=True, nogil=True)
def plan_rows(
    coeffs: np.ndarray, h: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample positions of both axes (``x0s, x1s, fxs, y0s, y1s, fys``), the band spans of
    the low-resolution rows (see `_band_spans`), for an output of ``h`` x ``w`` pixels."""
    x0s, x1s, fxs = _sample_positions(w, coeffs.shape[1])
    y0s, y1s, fys = _sample_positions(h, coeffs.shape[0])
    spans = _band_spans(coeffs, x0s, x1s)
    return x0s, x1s, fxs, y0s, y1s, fys, spans


@njit(cache=True, nogil=True)
def _alpha_rows(
    planes: np.ndarray,
    mask: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    y0s: np.ndarray,
    y1s: np.ndarray,
    fys: np.ndarray,
    frame: np.ndarray,
    lo: np.float32,
    inv_ramp: np.float32,
    out: np.ndarray,
    y_start: int,
    y_stop: int,
) -> None:  # pragma: no cover - compiled
    """Output rows ``y_start:y_stop`` of `upsample_alpha`, computed over their band segments
    (`_row_segments`) and exactly 0 elsewhere."""
    w = frame.shape[1]
    src = frame.reshape(frame.shape[0], 3 * w)
    guide = np.empty(w, np.float32)
    segs = np.empty((mask.shape[1], 2), np.int64)
    n_segs = 0
    pair = (-1, -1)
    for y in range(y_start, y_stop):
        if (y0s[y], y1s[y]) != pair:  # consecutive rows mostly share their two source rows
            pair = (y0s[y], y1s[y])
            n_segs = _row_segments(mask, y0s[y], y1s[y], first, stop, segs)
        row = out[y]
        done = 0
        for k in range(n_segs):
            x0, x1 = segs[k, 0], segs[k, 1]
            row[done:x0] = 0
            _alpha_span(
                planes, y0s[y], y1s[y], fys[y], src[y, 3 * x0 : 3 * x1], x0, lo, inv_ramp,
                guide, row[x0:x1],
            )  # fmt: skip
            done = x1
        row[done:] = 0


@njit(cache=True, nogil=True)
def plan_planes(
    coeffs: np.ndarray, h: int, w: int
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
    np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # fmt: skip
    """Everything the row kernels need for an ``h`` x ``w`` output, serially: the sample
    positions (``x0s, x1s, fxs, y0s, y1s, fys``), the band spans of the low-resolution rows,
    the band mask, each low-resolution column's reach (``first, stop``) and the ``planes``
    array (its rows are filled by `_horizontal_row`)."""
    x0s, x1s, fxs, y0s, y1s, fys, spans = plan_rows(coeffs, h, w)
    first, stop = _column_reach(x0s, x1s, coeffs.shape[1])
    planes = np.empty((3, coeffs.shape[0], w), np.float32)
    return x0s, x1s, fxs, y0s, y1s, fys, spans, _band_mask(coeffs), first, stop, planes


@njit(cache=True, nogil=True)
def _upsample_alpha_serial(
    coeffs: np.ndarray, frame: np.ndarray, lo: np.float32, inv_ramp: np.float32, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    h, w = frame.shape[0], frame.shape[1]
    x0s, x1s, fxs, y0s, y1s, fys, spans, mask, first, stop, planes = plan_planes(coeffs, h, w)
    for r in range(coeffs.shape[0]):
        _horizontal_row(coeffs, r, spans, x0s, x1s, fxs, planes)
    _alpha_rows(planes, mask, first, stop, y0s, y1s, fys, frame, lo, inv_ramp, out, 0, h)


@njit(cache=True, nogil=True, parallel=True)
def _upsample_alpha_parallel(
    coeffs: np.ndarray, frame: np.ndarray, lo: np.float32, inv_ramp: np.float32, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    h, w = frame.shape[0], frame.shape[1]
    x0s, x1s, fxs, y0s, y1s, fys, spans, mask, first, stop, planes = plan_planes(coeffs, h, w)
    for r in numba.prange(coeffs.shape[0]):
        _horizontal_row(coeffs, r, spans, x0s, x1s, fxs, planes)
    n_tasks = (h + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in numba.prange(n_tasks):
        y0 = task * ROWS_PER_TASK
        y1 = min(y0 + ROWS_PER_TASK, h)
        _alpha_rows(planes, mask, first, stop, y0s, y1s, fys, frame, lo, inv_ramp, out, y0, y1)


def upsample_alpha_reference(
    coeffs: np.ndarray, frame: np.ndarray, settings: RefineSettings
) -> np.ndarray:
    """The plain OpenCV/NumPy version of ``upsample_alpha``: the test oracle."""
    _check_coeffs(coeffs)
    check_bgr(frame, contiguous=True)
    h, w = frame.shape[:2]
    up = cv2.resize(coeffs, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, 3)
    q = up[..., COEFF_A] * luma(frame) + up[..., COEFF_B]
    ramp = (q - settings.feather_lo) / (settings.feather_hi - settings.feather_lo)
    alpha = np.clip(ramp, 0.0, 1.0) * np.maximum(up[..., COEFF_BAND], 0.0)
    alpha[up[..., COEFF_BAND] <= 0.0] = 0.0
    return alpha.astype(np.float32)
