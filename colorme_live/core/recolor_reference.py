"""Reference implementations of the recolour formula in `colorme_live.core.recolor`.

* `recolor_oracle`: slow and obviously correct. A per-pixel Python loop in float64 that
  derives every constant from the `Color` itself and converts HSV with `colorsys`, so it
  also checks `make_look` and the kernel's closed-form ``hsv_to_rgb``. For tests only.
* `recolor_numpy`: the same formula the plain vectorised NumPy/OpenCV way, in float32, on
  whole arrays. It is what the benchmark compares the Numba kernel against.

Units as in `colorme_live.core.recolor`: BGR ``uint8 (H, W, 3)`` frames, ``float32 (H, W)``
alpha in 0..1, hue/saturation/value in 0..1, strength in 0..1.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np
import numpy.typing as npt

from colorme_live.core.frames import check_bgr
from colorme_live.core.palette import Color
from colorme_live.core.recolor import (
    CONTRAST_MAX,
    CONTRAST_MIN,
    SOFT_HIGH,
    SOFT_LOW,
    VALUE_OFFSET,
    Look,
    _check_alpha,
    _check_strength,
)

__all__ = ["recolor_numpy", "recolor_oracle", "soft_clip"]


def soft_clip(x: float) -> float:
    """The C1 soft clip of the formula, in float64: identity on ``[SOFT_LOW, SOFT_HIGH]``,
    a tanh shoulder towards 1 above it and an exponential toe towards 0 below it."""
    if x > SOFT_HIGH:
        span = 1.0 - SOFT_HIGH
        return SOFT_HIGH + span * math.tanh((x - SOFT_HIGH) / span)
    if x < SOFT_LOW:
        return SOFT_LOW * math.exp((x - SOFT_LOW) / SOFT_LOW)
    return x


def recolor_oracle(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    color: Color,
    hair_value: float,
    strength: float,
) -> npt.NDArray[np.uint8]:
    """Recolour ``frame`` (BGR uint8) to ``color`` for hair of mean value ``hair_value``
    (0..1), blended by ``alpha * strength``; one pixel at a time, float64, `colorsys`."""
    check_bgr(frame, "frame", contiguous=False)
    _check_alpha("alpha", alpha, frame.shape[:2], contiguous=False)
    strength = _check_strength(strength)
    h_t, s_t, v_t = colorsys.rgb_to_hsv(*(c / 255.0 for c in color.rgb))
    v_h = float(hair_value)
    contrast = min(
        max(math.sqrt((v_t + VALUE_OFFSET) / (v_h + VALUE_OFFSET)), CONTRAST_MIN), CONTRAST_MAX
    )
    out = np.empty_like(frame)
    height, width = frame.shape[:2]
    for y in range(height):
        for x in range(width):
            b, g, r = (int(c) for c in frame[y, x])
            v = max(r, g, b) / 255.0
            v_new = soft_clip(v_t + (v - v_h) * contrast)
            tr, tg, tb = colorsys.hsv_to_rgb(h_t, s_t, v_new)
            w = float(alpha[y, x]) * strength
            for ch, (src, target) in enumerate(((b, tb), (g, tg), (r, tr))):
                value = math.floor(src + (255.0 * target - src) * w + 0.5)
                out[y, x, ch] = min(max(value, 0), 255)
    return out


def _value_table_numpy(look: Look) -> npt.NDArray[np.float32]:
    """``255 * soft(v_t + (m / 255 - v_h) * c)`` for the 256 levels ``m``, float32."""
    v = np.arange(256, dtype=np.float32) / np.float32(255.0)
    x = np.float32(look.value) + (v - np.float32(look.hair_value)) * np.float32(look.contrast)
    lo = np.float32(SOFT_LOW)
    hi = np.float32(SOFT_HIGH)
    span = np.float32(1.0 - SOFT_HIGH)
    x = np.where(x > hi, hi + span * np.tanh((x - hi) / span), x)
    x = np.where(x < lo, lo * np.exp((x - lo) / lo), x)
    return (np.float32(255.0) * x).astype(np.float32)


def recolor_numpy(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    look: Look,
    strength: float,
) -> npt.NDArray[np.uint8]:
    """`colorme_live.core.recolor.recolor` written with whole-array NumPy/OpenCV operations in
    float32 (same arguments, same result within one grey level).

    Like the kernel it evaluates the soft clip once per value level (256 entries) and maps the
    frame through that table with ``cv2.LUT``; the blend is whole-array float32 arithmetic on
    each channel plane, in place where possible."""
    check_bgr(frame, "frame", contiguous=False)
    _check_alpha("alpha", alpha, frame.shape[:2], contiguous=False)
    s = _check_strength(strength)
    if s == 0.0:
        return frame.copy()
    b, g, r = cv2.split(frame)  # channel planes: NumPy is slow on a trailing axis of 3
    level = cv2.max(cv2.max(b, g), r)  # max(B, G, R), uint8
    target = cv2.LUT(level, _value_table_numpy(look))  # 255 * v', float32 (H, W)
    w = alpha * np.float32(s)
    planes = []
    for plane, factor in ((b, look.factor_b), (g, look.factor_g), (r, look.factor_r)):
        src = plane.astype(np.float32)
        blended = target * np.float32(1.0 - look.saturation * factor)  # 255 * rgb_n
        blended -= src
        blended *= w
        blended += src
        blended += np.float32(0.5)  # in + (255 * rgb_n - in) * w + 0.5
        np.clip(blended, 0.0, 255.0, out=blended)
        planes.append(blended.astype(np.uint8))  # truncation == floor: the values are >= 0
    return np.asarray(cv2.merge(planes), dtype=np.uint8)  # no copy; typed for mypy
