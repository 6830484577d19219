"""Reference implementations of the recolour formula in `colorme_live.core.recolor`.

* `recolor_oracle`: slow and obviously correct. A per-pixel Python loop in float64 that
  derives every constant from the `Color` itself, with its **own copy** of the formula's
  constants (written out below from the formula in ``recolor``'s docstring, not imported from
  it), and converts HSV with `colorsys`. A changed constant in ``recolor.py`` therefore makes
  the kernels disagree with it; the golden table in ``tests/test_recolor.py`` pins both. For
  tests only.
* `recolor_numpy`: the same formula the plain vectorised NumPy/OpenCV way, in float32, on
  whole arrays, reading the kernels' parameters array (`recolor.recolor_params`). It is what
  the benchmark compares the Numba kernel against.

Units as in `colorme_live.core.recolor`: BGR ``uint8 (H, W, 3)`` frames, ``float32 (H, W)``
alpha in 0..1, hue/saturation/value in 0..1, strength in 0..1, shine in 0..100.
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
    P_CENTRE,
    P_DESATURATE,
    P_GAIN_HIGH,
    P_GAIN_LOW,
    P_HIGHLIGHT_LOG,
    P_HUE,
    P_HUE_SHIFT,
    P_HUE_SHIFT_SHADOW,
    P_KNEE,
    P_LOG_HAIR,
    P_SATURATION,
    P_SHADOW_SATURATE,
    Look,
    _check_alpha,
    _check_strength,
    recolor_params,
)

__all__ = ["ORACLE_CONSTANTS", "oracle_target_rgb", "recolor_numpy", "recolor_oracle"]

ORACLE_CONSTANTS = {
    "hair_floor": 0.02,
    "centre_max": 0.76,
    "gamma_offset": 0.05,
    "gamma_power": 0.75,
    "gamma_min": 0.7,
    "gamma_max": 2.5,
    "gamma_min_shadow": 0.4,
    "shadow_deepen": 1.15,
    "knee": 0.9,
    "highlight_log": math.log(2.0),
    "desaturate": 0.35,
    "shadow_saturate": 0.5,
    "gold_hue": 45.0 / 360.0,
    "warm_shift": 0.4,
    "warm_shadow": 0.5,
    "warm_edge": 70.0 / 360.0,
    "warm_fade": 25.0 / 360.0,
    "shine_base": 1.6,
}
"""The oracle's own copy of the formula's constants (see the module docstring)."""


def _luma_level(r: int, g: int, b: int) -> int:
    return (77 * r + 150 * g + 29 * b + 128) // 256


def oracle_target_rgb(
    level: int, color: Color, hair_value: float, shine: float = 50.0
) -> tuple[float, float, float]:
    """``rgb = hsv_to_rgb(h_t, s', v')`` (each 0..1, float64) for a pixel of shading level
    ``level`` (0..255), straight from the formula in ``recolor``'s docstring."""
    k = ORACLE_CONSTANTS
    h_t, s_t, v_t = colorsys.rgb_to_hsv(*(c / 255.0 for c in color.rgb))
    hair = max(hair_value, k["hair_floor"])
    centre = min(v_t, k["centre_max"])
    power = ((hair + k["gamma_offset"]) / (v_t + k["gamma_offset"])) ** k["gamma_power"]
    gamma = min(max(power, k["gamma_min"]), k["gamma_max"])
    gamma_low = min(max(power, k["gamma_min_shadow"]), k["gamma_max"])
    gloss = k["shine_base"] ** ((shine - 50.0) / 50.0)
    # how far a full highlight turns towards gold: only targets below gold (red .. orange)
    delta = (k["gold_hue"] - h_t + 0.5) % 1.0 - 0.5
    fade = min(max((k["warm_edge"] - delta) / k["warm_fade"], 0.0), 1.0)
    hue_shift = k["warm_shift"] * delta * fade if delta > 0 else 0.0
    d = math.log(max(level, 0.5) / 255.0 / hair)
    e = d * (gamma * gloss if d > 0 else gamma_low * k["shadow_deepen"])
    x = centre * math.exp(e)
    knee = k["knee"]
    if x > knee:
        x = 1.0 - (1.0 - knee) * math.exp(-(x - knee) / (1.0 - knee))
    u = min(max(e / k["highlight_log"], 0.0), 1.0)
    q = min(max(-e / k["highlight_log"], 0.0), 1.0)
    hl = u * u * (3.0 - 2.0 * u)
    sh = q * q * (3.0 - 2.0 * q)
    desaturate = min(k["desaturate"] * gloss, 1.0)
    s = min(s_t * (1.0 - desaturate * hl + k["shadow_saturate"] * sh), 1.0)
    h = (h_t + hue_shift * hl - k["warm_shadow"] * hue_shift * sh) % 1.0
    return colorsys.hsv_to_rgb(h, s, x)


def recolor_oracle(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    color: Color,
    hair_value: float,
    strength: float,
    shine: float = 50.0,
) -> npt.NDArray[np.uint8]:
    """Recolour ``frame`` (BGR uint8) to ``color`` for hair of mean shading level
    ``hair_value`` (0..1), blended by ``alpha * strength``; one pixel at a time, float64."""
    check_bgr(frame, "frame", contiguous=False)
    _check_alpha("alpha", alpha, frame.shape[:2], contiguous=False)
    strength = _check_strength(strength)
    cache: dict[int, tuple[float, float, float]] = {}
    out = np.empty_like(frame)
    height, width = frame.shape[:2]
    for y in range(height):
        for x in range(width):
            b, g, r = (int(c) for c in frame[y, x])
            m = _luma_level(r, g, b)
            if m not in cache:
                cache[m] = oracle_target_rgb(m, color, float(hair_value), shine)
            tr, tg, tb = cache[m]
            w = float(alpha[y, x]) * strength
            for ch, (src, target) in enumerate(((b, tb), (g, tg), (r, tr))):
                value = math.floor(src + (255.0 * target - src) * w + 0.5)
                out[y, x, ch] = min(max(value, 0), 255)
    return out


def _target_planes_numpy(look: Look) -> tuple[npt.NDArray[np.float32], ...]:
    """``255 * rgb_n`` for the 256 levels, one float32 table per channel B, G, R."""
    p = recolor_params(look, 1.0)
    f32 = np.float32
    one, two, three = f32(1.0), f32(2.0), f32(3.0)
    level = np.maximum(np.arange(256, dtype=np.float32), f32(0.5))
    d = np.log(level / f32(255.0)).astype(np.float32) - p[P_LOG_HAIR]
    e = d * np.where(d > 0, p[P_GAIN_HIGH], p[P_GAIN_LOW]).astype(np.float32)
    x = p[P_CENTRE] * np.exp(e).astype(np.float32)
    knee = p[P_KNEE]
    span = one - knee
    x = np.where(x > knee, one - span * np.exp(-(x - knee) / span), x).astype(np.float32)
    u = np.clip(e / p[P_HIGHLIGHT_LOG], 0, 1).astype(np.float32)
    q = np.clip(-e / p[P_HIGHLIGHT_LOG], 0, 1).astype(np.float32)
    hl = u * u * (three - two * u)
    sh = q * q * (three - two * q)
    s = np.minimum(p[P_SATURATION] * (one - p[P_DESATURATE] * hl + p[P_SHADOW_SATURATE] * sh), one)
    h = p[P_HUE] + p[P_HUE_SHIFT] * hl + p[P_HUE_SHIFT_SHADOW] * sh
    t = f32(255.0) * x
    planes = []
    for n in (1, 3, 5):  # B, G, R: f_n(h) = clamp(min(k, 4 - k), 0, 1), k = (n + 6 h) mod 6
        k = np.mod(f32(n) + f32(6.0) * h, f32(6.0))
        f = np.clip(np.minimum(k, f32(4.0) - k), 0, 1)
        planes.append((t * (one - s * f)).astype(np.float32))
    return tuple(planes)


def recolor_numpy(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    look: Look,
    strength: float,
) -> npt.NDArray[np.uint8]:
    """`colorme_live.core.recolor.recolor` written with whole-array NumPy/OpenCV operations in
    float32 (same arguments, same result within one grey level).

    Like the kernel it evaluates the formula once per shading level (256 entries per channel)
    and maps the frame through those tables with ``cv2.LUT``; the blend is whole-array float32
    arithmetic on each channel plane, in place where possible."""
    check_bgr(frame, "frame", contiguous=False)
    _check_alpha("alpha", alpha, frame.shape[:2], contiguous=False)
    s = _check_strength(strength)
    if s == 0.0:
        return frame.copy()
    b, g, r = cv2.split(frame)  # channel planes: NumPy is slow on a trailing axis of 3
    level = (
        (77 * r.astype(np.int32) + 150 * g.astype(np.int32) + 29 * b.astype(np.int32) + 128) >> 8
    ).astype(np.uint8)
    w = alpha * np.float32(s)
    planes = []
    for plane, table in zip((b, g, r), _target_planes_numpy(look), strict=True):
        src = plane.astype(np.float32)
        blended: npt.NDArray[np.float32] = np.asarray(cv2.LUT(level, table), np.float32)
        blended -= src
        blended *= w
        blended += src
        blended += np.float32(0.5)  # in + (255 * rgb_n - in) * w + 0.5
        np.clip(blended, 0.0, 255.0, out=blended)
        planes.append(blended.astype(np.uint8))  # truncation == floor: the values are >= 0
    return np.asarray(cv2.merge(planes), dtype=np.uint8)  # no copy; typed for mypy
