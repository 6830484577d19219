"""Quality metrics shared by ``colorme-live eval`` and the tests. All masks are float in 0..1."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

BOUNDARY_RADIUS = 5
"""Pixels within this distance of the raw model's 0.5 contour count as 'near the boundary'."""


def iou(pred: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> float:
    """Intersection over union of ``pred > threshold`` and ``truth > threshold``; 1.0 when both
    are empty."""
    if pred.shape != truth.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {truth.shape}")
    p = pred > threshold
    t = truth > threshold
    union = int(np.count_nonzero(p | t))
    return 1.0 if union == 0 else int(np.count_nonzero(p & t)) / union


def boundary_band(mask: np.ndarray, radius: int = BOUNDARY_RADIUS) -> np.ndarray:
    """Boolean map of the pixels within ``radius`` of the edge of ``mask > 0.5``."""
    hard = (mask > 0.5).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return np.asarray(cv2.dilate(hard, k) != cv2.erode(hard, k))


def boundary_flicker(
    masks: Sequence[np.ndarray], reference: Sequence[np.ndarray] | None = None
) -> float:
    """Mean |m_t - m_(t-1)| over the pixels near the boundary of ``reference`` (default: the
    masks themselves) at t or t-1, averaged over all consecutive pairs. Passing the raw model's
    masks as ``reference`` measures two sequences over exactly the same pixels."""
    ref = masks if reference is None else reference
    if len(ref) != len(masks):
        raise ValueError("masks and reference must have the same length")
    total = 0.0
    count = 0
    for t in range(1, len(masks)):
        band = boundary_band(ref[t]) | boundary_band(ref[t - 1])
        n = int(np.count_nonzero(band))
        if n:
            diff = np.abs(masks[t].astype(np.float32) - masks[t - 1].astype(np.float32))
            total += float(diff[band].sum())
            count += n
    return total / count if count else 0.0


def centroids(masks: Sequence[np.ndarray]) -> np.ndarray:
    """(n, 2) probability-weighted centroid (x, y) of each mask, in pixels (NaN if empty)."""
    out = np.full((len(masks), 2), np.nan)
    for i, m in enumerate(masks):
        total = float(m.sum())
        if total > 1e-6:
            ys, xs = np.indices(m.shape)
            out[i] = float((xs * m).sum()) / total, float((ys * m).sum()) / total
    return out


LAG_WINDOW = 5


def _lowpass(track: np.ndarray) -> np.ndarray:
    """Centred moving average of each column over ``LAG_WINDOW`` frames (edges: nearest)."""
    pad = LAG_WINDOW // 2
    padded = np.pad(track, ((pad, pad), (0, 0)), mode="edge")
    kernel = np.ones(LAG_WINDOW) / LAG_WINDOW
    return np.stack([np.convolve(padded[:, k], kernel, "valid") for k in range(2)], axis=1)


MIN_MOTION = 1e-3
"""Below this mean centroid speed (a fraction of the frame diagonal per frame) a clip is too
still for its lag to be measured."""


def lag_frames(
    smoothed: Sequence[np.ndarray],
    raw: Sequence[np.ndarray],
    max_lag: float = 3.0,
    step: float = 0.1,
) -> float | None:
    """How many frames ``smoothed`` trails ``raw``, from the motion of the masks' centroids:
    the shift L in [0, max_lag] (raw linearly interpolated between frames) minimising the
    mean difference between the smoothed centroid's frame-to-frame motion at t and the raw
    one's at t - L. Comparing motion rather than positions keeps a steady offset between the
    two masks (say, a false positive one of them drops) from reading as lag.

    Both trajectories are first low-passed over ``LAG_WINDOW`` frames, so that the model's
    frame-to-frame jitter (which smoothing is meant to remove) does not read as lag.
    0 means no lag; a 2-frame running average reads about 0.5, a 3-frame one about 1. None when
    the raw mask hardly moves (see ``MIN_MOTION``): then any shift fits the noise equally well."""
    if len(smoothed) != len(raw):
        raise ValueError("sequences must have the same length")
    cs, cr = _lowpass(centroids(smoothed)), _lowpass(centroids(raw))
    h, w = raw[0].shape[:2]
    speed = np.linalg.norm(np.diff(cr, axis=0), axis=1)
    if not np.isfinite(speed).any() or np.nanmean(speed) < MIN_MOTION * float(np.hypot(h, w)):
        return None
    t = np.arange(len(raw), dtype=np.float64)
    start = int(np.ceil(max_lag))
    motion_s = np.diff(cs, axis=0)[start:]
    best, best_err = 0.0, np.inf
    for lag in np.arange(0.0, max_lag + 1e-9, step):
        shifted = np.stack([np.interp(t - lag, t, cr[:, k]) for k in range(2)], axis=1)
        err = np.linalg.norm(motion_s - np.diff(shifted, axis=0)[start:], axis=1)
        mean = float(np.nanmean(err)) if np.isfinite(err).any() else np.inf
        if mean < best_err - 1e-12:
            best, best_err = float(lag), mean
    return best


def lightness_correlation(before: np.ndarray, after: np.ndarray, weight: np.ndarray) -> float:
    """Pearson correlation of the Lab lightness of two BGR images over ``weight > 0.5``: how
    much of the hair's own shading and strand texture survives recolouring (1 = all)."""
    sel = weight > 0.5
    if np.count_nonzero(sel) < 16:
        return float("nan")
    lb = cv2.cvtColor(before, cv2.COLOR_BGR2LAB)[..., 0][sel].astype(np.float64)
    la = cv2.cvtColor(after, cv2.COLOR_BGR2LAB)[..., 0][sel].astype(np.float64)
    if lb.std() < 1e-9 or la.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(lb, la)[0, 1])


def hue_error_degrees(image: np.ndarray, weight: np.ndarray, target_hue: float) -> float:
    """Circular mean hue of ``image`` over ``weight > 0.5`` (saturation-weighted), minus the
    target hue (0..1), as an absolute angle in degrees (0..180)."""
    sel = weight > 0.5
    if np.count_nonzero(sel) < 16:
        return float("nan")
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV_FULL).astype(np.float64)
    hue = hsv[..., 0][sel] / 256.0 * 2 * np.pi
    sat = hsv[..., 1][sel] / 255.0
    if sat.sum() < 1e-9:
        return float("nan")
    mean = np.arctan2((sat * np.sin(hue)).sum(), (sat * np.cos(hue)).sum())
    diff = (mean - target_hue * 2 * np.pi + np.pi) % (2 * np.pi) - np.pi
    return float(abs(np.degrees(diff)))
