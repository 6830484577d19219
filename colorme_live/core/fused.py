"""The full-resolution half of compositing in one pass: edge-refined alpha (``refine``) and
recolour (``recolor``) together, computed only over each row's band span, copied elsewhere.

``refine_recolor(coeffs, frame, look, strength, settings)`` gives exactly what
``recolor(frame, upsample_alpha(coeffs, frame, settings), look, strength)`` gives (the same
alpha, bit for bit, and the same pixels): it runs the same span functions, but reads each
frame row once while it is in cache and never scans the alpha for its non-zero span (the band
span, known from the low-resolution coefficients, contains it; between the two ``w == 0``
and the recolour formula gives the input exactly). Those two building blocks stay the tested
reference; ``upsample_alpha_reference`` and ``recolor_numpy`` are the slow oracles.

Units: frames BGR uint8 (H, W, 3) C-contiguous; alpha float32 (H, W) in 0..1; ``strength``
a blend weight in 0..1. GLSL twins: shaders/composite.frag and shaders/recolor.frag."""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from colorme_live.core.frames import check_bgr
from colorme_live.core.jit import njit, run_parallel
from colorme_live.core.recolor import (
    P_STRENGTH,
    Look,
    _blend_span,
    _check_strength,
    _target_table,
    copy_bytes,
    level_offset,
    recolor_params,
)
from colorme_live.core.refine import (
    ROWS_PER_TASK,
    _check_coeffs,
    _horizontal_row,
    _row_segments,
    alpha_from_guide,
    pixel_luma,
    plan_planes,
    ramp_constants,
)
from colorme_live.core.settings import RefineSettings

PARALLEL_MIN_PIXELS = 1600 * 900
"""`refine_recolor` runs row-parallel for frames of at least this many pixels (1080p). At 720p
the serial kernel takes about 1.5 ms on the 2-core target and handing rows to a second thread
that the segmentation worker also wants gains nothing (measured with ``colorme-live bench``)."""


@njit(cache=True, nogil=True)
def _guide_levels(
    s_span: np.ndarray, guide: np.ndarray, level: np.ndarray, n: int
) -> None:  # pragma: no cover - compiled
    """Both per-pixel lumas of ``n`` BGR pixels from one read of their bytes: ``guide[x]``,
    the refine guide (``refine.pixel_luma``), and ``level[x]``, the recolour table offset
    (``recolor.level_offset``). One pass instead of two over the stride-3 bytes; the same
    inlined formulas as the separate passes, so the same numbers."""
    for x in range(n):
        b8 = s_span[3 * x]
        g8 = s_span[3 * x + 1]
        r8 = s_span[3 * x + 2]
        guide[x] = pixel_luma(b8, g8, r8)
        level[x] = level_offset(b8, g8, r8)


@njit(cache=True, nogil=True)
def _fused_rows(
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
    table: np.ndarray,
    strength: np.float32,
    out: np.ndarray,
    alpha: np.ndarray,
    keep_alpha: bool,
    y_start: int,
    y_stop: int,
) -> None:  # pragma: no cover - compiled
    """Output rows ``y_start:y_stop``: the recoloured frame into ``out`` and, if
    ``keep_alpha``, the alpha into ``alpha`` (else it lives in a row of scratch). Only each
    row's band segments are computed; elsewhere alpha is 0 and the frame copied."""
    w = frame.shape[1]
    src = frame.reshape(frame.shape[0], 3 * w)
    dst = out.reshape(out.shape[0], 3 * w)
    guide = np.empty(w, np.float32)
    level = np.empty(w, np.int32)
    target_3 = np.empty(3 * w, np.float32)
    weight_3 = np.empty(3 * w, np.float32)
    segs = np.empty((mask.shape[1], 2), np.int64)
    alpha_scratch = np.empty(0 if keep_alpha else w, np.float32)
    n_segs = 0
    pair = (-1, -1)
    for y in range(y_start, y_stop):
        if (y0s[y], y1s[y]) != pair:  # consecutive rows mostly share their two source rows
            pair = (y0s[y], y1s[y])
            n_segs = _row_segments(mask, y0s[y], y1s[y], first, stop, segs)
        a_row = alpha[y] if keep_alpha else alpha_scratch
        s_row = src[y]
        d_row = dst[y]
        done = 0
        for k in range(n_segs + 1):
            x0, x1 = (segs[k, 0], segs[k, 1]) if k < n_segs else (w, w)
            if keep_alpha:
                a_row[done:x0] = 0
            copy_bytes(s_row[3 * done : 3 * x0], d_row[3 * done : 3 * x0])
            n = x1 - x0
            if n == 0:
                continue
            s_span = s_row[3 * x0 : 3 * x1]
            a_span = a_row[x0:x1]
            _guide_levels(s_span, guide, level, n)
            alpha_from_guide(planes, y0s[y], y1s[y], fys[y], x0, lo, inv_ramp, guide, a_span)
            _blend_span(
                s_span, a_span, level, table, strength, d_row[3 * x0 : 3 * x1], target_3,
                weight_3,
            )  # fmt: skip
            done = x1


@njit(cache=True, nogil=True)
def _refine_recolor_serial(
    coeffs: np.ndarray,
    frame: np.ndarray,
    lo: np.float32,
    inv_ramp: np.float32,
    params: np.ndarray,
    out: np.ndarray,
    alpha: np.ndarray,
    keep_alpha: bool,
) -> None:  # pragma: no cover - compiled
    h, w = frame.shape[0], frame.shape[1]
    table = _target_table(params)
    strength = params[P_STRENGTH]
    x0s, x1s, fxs, y0s, y1s, fys, spans, mask, first, stop, planes = plan_planes(coeffs, h, w)
    for r in range(coeffs.shape[0]):
        _horizontal_row(coeffs, r, spans, x0s, x1s, fxs, planes)
    _fused_rows(
        planes, mask, first, stop, y0s, y1s, fys, frame, lo, inv_ramp, table, strength, out,
        alpha, keep_alpha, 0, h,
    )  # fmt: skip


@njit(cache=True, nogil=True, parallel=True)
def _refine_recolor_parallel(
    coeffs: np.ndarray,
    frame: np.ndarray,
    lo: np.float32,
    inv_ramp: np.float32,
    params: np.ndarray,
    out: np.ndarray,
    alpha: np.ndarray,
    keep_alpha: bool,
) -> None:  # pragma: no cover - compiled
    h, w = frame.shape[0], frame.shape[1]
    table = _target_table(params)
    strength = params[P_STRENGTH]
    x0s, x1s, fxs, y0s, y1s, fys, spans, mask, first, stop, planes = plan_planes(coeffs, h, w)
    for r in numba.prange(coeffs.shape[0]):
        _horizontal_row(coeffs, r, spans, x0s, x1s, fxs, planes)
    n_tasks = (h + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in numba.prange(n_tasks):
        y0 = task * ROWS_PER_TASK
        y1 = min(y0 + ROWS_PER_TASK, h)
        _fused_rows(
            planes, mask, first, stop, y0s, y1s, fys, frame, lo, inv_ramp, table, strength,
            out, alpha, keep_alpha, y0, y1,
        )  # fmt: skip


def refine_recolor(
    coeffs: np.ndarray,
    frame: npt.NDArray[np.uint8],
    look: Look,
    strength: float,
    settings: RefineSettings,
    *,
    parallel: bool | None = None,
    keep_alpha: bool = True,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32] | None]:
    """``(image, alpha)``: the recoloured frame (new uint8 (H, W, 3) BGR) and the refined hair
    alpha (new float32 (H, W) in 0..1) of ``frame`` (uint8 (H, W, 3) BGR, C-contiguous).
    With ``keep_alpha=False`` the alpha is not stored (``None``): a 720p alpha is 3.7 MB of
    writes, about a third of the memory traffic, that only the mask view needs.

    ``coeffs`` comes from ``refine.coefficients`` (float32 (h, w, 3), C-contiguous, any lower
    or equal resolution); ``look`` from ``recolor.make_look``; ``strength`` is in 0..1.
    ``parallel`` forces the row-parallel (True) or serial (False) kernel; by default frames of
    at least `PARALLEL_MIN_PIXELS` are parallel. Both give identical output. Releases the GIL.

    Raises TypeError (wrong type or dtype) or ValueError (wrong shape, not contiguous,
    strength outside 0..1), naming what it got."""
    _check_coeffs(coeffs)
    check_bgr(frame, contiguous=True)
    if not isinstance(look, Look):
        raise TypeError(f"look must be a Look (see make_look), got {type(look).__name__}")
    s = _check_strength(strength)
    h, w = frame.shape[:2]
    out = np.empty_like(frame)
    alpha = np.empty((h, w) if keep_alpha else (1, 1), np.float32)
    lo, inv_ramp = ramp_constants(settings)
    params = recolor_params(look, s)
    use_parallel = h * w >= PARALLEL_MIN_PIXELS if parallel is None else parallel
    run_parallel(
        _refine_recolor_parallel, _refine_recolor_serial, use_parallel,
        *(coeffs, frame, lo, inv_ramp, params, out, alpha, keep_alpha),
    )  # fmt: skip
    return out, alpha if keep_alpha else None
