"""Temporal smoothing of the hair probability, as a pure step function.

MediaPipe's hair graph blends each new mask with the previous one by the *uncertainty* of each
pixel: confident pixels take the new value, uncertain ones (p near 0.5, the boundary) lean on
history. A plain blend either flickers or ghosts behind motion, so we improve it in three ways:

1. **Motion compensation.** The previous smoothed mask is first warped onto the new frame with
   dense optical flow (OpenCV DIS, ultrafast preset, ~0.3 ms at 256x144), so history follows a
   moving head instead of trailing it.
2. **Trust where the warp explains the image.** Where the warped previous luma matches the new
   luma, the content is the same and history is kept even for confident pixels (partly: see
   ``min_mismatch``); this is what removes flicker on a still head. Where it does not
   (occlusion, a hand, new content), only uncertain pixels lean on history, as in MediaPipe.
3. **Resets.** A scene cut (large mean luma change), a resolution change or ``state=None``
   start from the new mask alone.

The weight of history per pixel is ``history * (1 - mismatch * confidence)``, with
``mismatch = clip(|luma - warped previous luma| / motion_scale, min_mismatch, 1)`` and
``confidence`` the sharpened 1 - entropy of the new probability (see ``confidence``).

All arrays are at the segmentation resolution; ``prob`` and ``luma`` are float32 in 0..1."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from colorme_live.core.settings import TemporalSettings

_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class TemporalState:
    """What the next step needs: the previous smoothed probability and the previous luma."""

    prob: np.ndarray
    luma: np.ndarray | None
    restarted: bool = False
    """This step began a new history (a cold start, a new resolution, a scene cut), so what
    the caller smooths alongside the mask should restart too."""


def confidence(prob: np.ndarray) -> np.ndarray:
    """1 - binary entropy (in bits) of each probability, sharpened as MediaPipe does
    (``c * (2 - c)``): 1 for p = 0 or 1, 0 for p = 0.5."""
    p = np.clip(prob, _EPS, 1.0 - _EPS)
    c = 1.0 + (p * np.log2(p) + (1.0 - p) * np.log2(1.0 - p))
    np.clip(c, 0.0, 1.0, out=c)
    return (c * (2.0 - c)).astype(np.float32, copy=False)


def _to_u8(luma: np.ndarray) -> np.ndarray:
    return np.clip(luma * 255.0 + 0.5, 0, 255).astype(np.uint8)


def flow_maps(luma: np.ndarray, prev_luma: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Where each pixel of the current frame was in the previous one (``map_x, map_y`` for
    ``cv2.remap``), by dense optical flow between the two lumas (float32 (h, w) in 0..1); None
    when the image is too small for DIS's patches (no motion compensation then)."""
    h, w = luma.shape
    if h < 8 or w < 8:
        return None
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)  # type: ignore[attr-defined]
    flow = dis.calc(_to_u8(luma), _to_u8(prev_luma), None)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return gx + flow[..., 0], gy + flow[..., 1]


def warp(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """``image`` (float32 (h, w), previous frame) warped onto the current frame by `flow_maps`
    (or returned as it is when ``maps`` is None)."""
    if maps is None:
        return image
    return cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def blend(
    prob: np.ndarray,
    previous: np.ndarray,
    mismatch: np.ndarray | None,
    settings: TemporalSettings,
) -> np.ndarray:
    """One blend of the new ``prob`` with the (warped) ``previous`` probability, by the new
    value's confidence and the luma ``mismatch`` (already divided by ``motion_scale`` and
    clipped to ``min_mismatch..1``; None: no luma, MediaPipe's uncertainty blend only)."""
    conf = confidence(prob)
    if mismatch is not None:
        weight = settings.history * (1.0 - mismatch * conf)
    else:
        weight = settings.history * (1.0 - conf)
    out = (prob + (previous - prob) * weight).astype(np.float32, copy=False)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def mismatch_map(
    luma: np.ndarray, warped_luma: np.ndarray, settings: TemporalSettings
) -> np.ndarray:
    """``clip(|luma - warped previous luma| / motion_scale, min_mismatch, 1)``."""
    mismatch = np.abs(luma - warped_luma) * (1.0 / settings.motion_scale)
    np.clip(mismatch, settings.min_mismatch, 1.0, out=mismatch)
    return mismatch.astype(np.float32, copy=False)


def warp_previous(
    luma: np.ndarray,
    prev_luma: np.ndarray,
    prev_prob: np.ndarray,
    maps: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The previous probability and luma warped onto the current frame by dense optical flow
    (``maps``: `flow_maps(luma, prev_luma)` when the caller has it already)."""
    if maps is None:
        maps = flow_maps(luma, prev_luma)
    if maps is None:  # too small for DIS's patches: no motion compensation
        return prev_prob, prev_luma
    return warp(prev_prob, maps), warp(prev_luma, maps)


def smooth(
    prob: np.ndarray,
    state: TemporalState | None,
    settings: TemporalSettings,
    *,
    luma: np.ndarray | None = None,
    maps: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, TemporalState]:
    """One smoothing step. ``state=None`` is a cold start (the new probability is returned).

    ``luma`` (same shape as ``prob``) enables motion compensation and scene-cut resets;
    without it only MediaPipe's uncertainty blend applies. ``maps``: `flow_maps` from
    ``luma`` to ``state.luma`` when the caller has computed them already (one optical flow a
    frame, not two); None computes them here. Returns the smoothed probability
    (a new array) and the state for the next frame. The inputs are never modified."""
    if not isinstance(prob, np.ndarray) or prob.dtype != np.float32 or prob.ndim != 2:
        raise ValueError(
            f"prob must be a float32 (h, w) array, got {getattr(prob, 'dtype', type(prob))} "
            f"{getattr(prob, 'shape', '')}"
        )
    if luma is not None and (luma.shape != prob.shape or luma.dtype != np.float32):
        raise ValueError(f"luma must be float32 {prob.shape}, got {luma.dtype} {luma.shape}")
    restarted = (
        state is None
        or state.prob.shape != prob.shape
        or (luma is None) != (state.luma is None)
        or (
            luma is not None and state.luma is not None and is_scene_cut(luma, state.luma, settings)
        )
    )
    if restarted or state is None or not settings.enabled:
        out = prob.copy()
        return out, TemporalState(prob=out, luma=luma, restarted=restarted)

    if luma is not None and state.luma is not None:
        previous, warped_luma = warp_previous(luma, state.luma, state.prob, maps)
        out = blend(prob, previous, mismatch_map(luma, warped_luma, settings), settings)
    else:
        out = blend(prob, state.prob, None, settings)
    return out, TemporalState(prob=out, luma=luma)


def is_scene_cut(luma: np.ndarray, previous: np.ndarray, settings: TemporalSettings) -> bool:
    """True when the mean absolute luma change between two frames exceeds the threshold."""
    return float(np.mean(np.abs(luma - previous))) > settings.scene_cut
