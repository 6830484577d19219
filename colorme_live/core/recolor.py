"""Hair recolouring: the per-frame constants (`Look`), the one parameters array every twin of
the formula reads (`recolor_params`), the hair brightness estimate and the Numba kernels that
blend the target colour into the frame.

Units used throughout this module:

* frames are BGR ``uint8`` (OpenCV channel order), shape ``(H, W, 3)``, C-contiguous;
* alpha / probabilities are ``float32`` ``(H, W)`` in 0..1;
* hue, saturation and value are all in 0..1 (hue 1.0 == 360 degrees, *not* OpenCV's 0..180);
* ``strength`` is a blend weight in 0..1 (the UI's intensity / 100); ``shine`` is 0..100.

The formula (also implemented by ``shaders/recolor.frag``). Per frame, from the target colour
``(h_t, s_t, v_t)`` (HSV), the hair's mean shading level ``v_h`` (see `hair_value`) and the
shine setting::

    hair   = max(v_h, HAIR_FLOOR)
    centre = min(v_t, CENTRE_MAX)                               where the hair's mean lands
    ratio  = (hair + GAMMA_OFFSET) / (v_t + GAMMA_OFFSET)
    gamma  = clamp(ratio ** GAMMA_POWER, GAMMA_MIN, GAMMA_MAX)
    gamma_low = clamp(ratio ** GAMMA_POWER, GAMMA_MIN_SHADOW, GAMMA_MAX)
    gloss  = SHINE_BASE ** ((shine - 50) / 50)                  1 at the natural shine 50
    gain_high = gamma * gloss        gain_low = gamma_low * SHADOW_DEEPEN
    desaturate = min(DESATURATE * gloss, 1)
    delta  = ((GOLD_HUE - h_t + 0.5) mod 1) - 0.5               signed turns from h_t to gold
    hue_shift = WARM_SHIFT * delta * clamp((WARM_EDGE - delta) / WARM_FADE, 0, 1)  if delta > 0
                0                                                                   otherwise

Per pixel, with the pixel's shading level ``m`` (its luma, an integer 0..255)::

    m   = (77 R + 150 G + 29 B + 128) >> 8
    d   = ln(max(m, 0.5) / 255) - ln(hair)          the pixel's shading relative to the hair
    e   = d * (gain_high if d > 0 else gain_low)    highlights scaled by the shine, shadows deepened
    x   = centre * exp(e)
    v'  = x                                            if x <= KNEE
          1 - (1 - KNEE) * exp(-(x - KNEE) / (1 - KNEE))  if x > KNEE   (C1 shoulder towards 1)
    u   = clamp(e / HIGHLIGHT_LOG, 0, 1);  hl = u * u * (3 - 2 * u)    how much of a highlight
    q   = clamp(-e / HIGHLIGHT_LOG, 0, 1); sh = q * q * (3 - 2 * q)    how much of a shadow
    s'  = min(s_t * (1 - desaturate * hl + SHADOW_SATURATE * sh), 1)
                                    highlights a little paler, shadows a little richer
    h'  = h_t + hue_shift * hl - WARM_SHADOW * hue_shift * sh
                                    warm highlights turn golden, their shadows deeper red
    rgb = hsv_to_rgb(h', s', v') = v' * (1 - s' * f_n(h'))   per channel n = 5, 3, 1 (R, G, B)
          f_n(h) = clamp(min(k, 4 - k), 0, 1),  k = (n + 6 h) mod 6
    w   = alpha * strength
    out = floor(in + (255 * rgb - in) * w + 0.5)  clamped to 0..255

Hue and saturation come from the target; value and saturation are shaped by the hair's own
shading, multiplicatively (so texture survives on dark and light hair alike, and shadows stay
shadows). ``centre`` keeps headroom below white for the highlights of very light targets.
A red, copper or brown target's highlights turn a little towards gold (paling a red-orange
in HSV alone reads salmon-pink) and its shadows a little the other way, so the hair's mean hue
stays on the target; targets at or past gold, and cool ones, do not turn.

``m`` only takes 256 values, so the kernels evaluate ``255 * rgb`` once per level into a small
table (`_target_table`, float32, the same arithmetic done 256 times instead of once per pixel)
and then do one level, three table look-ups and three blends per pixel. Pixels with
``alpha == 0`` at the two ends of each row are copied, not computed (the formula gives the
input there). Every per-frame number the formula reads lives in one float32 array made by
`recolor_params`, indexed by the ``P_*`` constants; the shader gets the same numbers as the
uniforms ``u_<name>`` for the names in `PARAM_NAMES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from numba import prange

from colorme_live.core.frames import check_bgr
from colorme_live.core.jit import PARALLEL_LOCK, run_parallel
from colorme_live.core.jit import njit as _njit
from colorme_live.core.palette import Color

__all__ = [
    "DEFAULT_HAIR_VALUE",
    "DEFAULT_SHINE",
    "HAIR_PROB_THRESHOLD",
    "PARALLEL_LOCK",
    "PARALLEL_MIN_PIXELS",
    "PARAM_NAMES",
    "Look",
    "channel_factor",
    "hair_value",
    "make_look",
    "recolor",
    "recolor_params",
    "shading_level",
    "warm_shift",
    "warm_up",
]

# The named constants of the formula (see the module docstring). Each is defined here once;
# the kernels and the shader read them through `recolor_params`.
HAIR_FLOOR: Final = 0.02
"""Smallest hair level used in the ratio, so that black hair does not divide by zero."""
CENTRE_MAX: Final = 0.76
"""Highest value the hair's mean is moved to: light targets keep headroom for highlights."""
GAMMA_OFFSET: Final = 0.05
GAMMA_POWER: Final = 0.75
GAMMA_MIN: Final = 0.7
GAMMA_MAX: Final = 2.5
GAMMA_MIN_SHADOW: Final = 0.4
"""``gamma`` (how strongly the hair's own relative shading is kept) and its range: below 1
when lightening dark hair (its deep shadows would turn into black specks), above 1 when
darkening light hair (so a dark colour keeps its shine). The shadows' ``gamma`` may go lower
(`GAMMA_MIN_SHADOW`) than the highlights': dark hair dyed a very light colour (platinum,
pastel pink) is lifted as a whole, its strands and highlights kept, instead of staying a mid
grey between its bright highlights and its deep shadows."""
SHADOW_DEEPEN: Final = 1.15
"""Extra gain on the shadows (``d < 0``): shadows deepen, as on dyed hair."""
KNEE: Final = 0.9
"""Above this the value approaches 1 along an exponential shoulder instead of clipping."""
HIGHLIGHT_LOG: Final = 0.6931471805599453
"""``ln 2``: a pixel twice as bright (after the gain) as the hair's mean is a full highlight."""
DESATURATE: Final = 0.35
"""Share of the saturation a full highlight loses at the natural shine."""
SHADOW_SATURATE: Final = 0.5
"""Share of saturation a full shadow gains: shadows richer, as light passes through more hair
(keeps a light target's shadows a tinted blonde/pastel rather than grey)."""
GOLD_HUE: Final = 45.0 / 360.0
"""Hue (in turns) towards which the highlights of warm targets turn: dyed red, copper and
brown hair shines golden, where paling a red-orange in HSV alone reads salmon-pink."""
WARM_SHIFT: Final = 0.4
"""Share of the way from the target's hue to `GOLD_HUE` a full highlight turns."""
WARM_SHADOW: Final = 0.5
"""A full shadow of a warm target turns this share of the highlights' turn the other way (away
from gold, deeper red): warm shadows look richer, and the hair's mean hue stays on target."""
WARM_EDGE: Final = 70.0 / 360.0
WARM_FADE: Final = 25.0 / 360.0
"""Targets whose hue lies up to `WARM_EDGE` (turns) below `GOLD_HUE` count as warm; the turn
fades out over the last `WARM_FADE` (burgundy half, pastel pink almost not at all), so the
shift is continuous in the target's hue and zero for every hue at or past gold."""
SHINE_BASE: Final = 1.6
"""The highlight gain is multiplied by this at shine 100 and divided by it at shine 0."""
DEFAULT_SHINE: Final = 50
"""The natural shine: the hair's own highlights, neither glossier nor more matte."""
LEVEL_ZERO: Final = 0.5
"""Level used in place of 0 in the logarithm."""
LUMA_R: Final = 77
LUMA_G: Final = 150
LUMA_B: Final = 29
"""Integer luma weights (sum 256): the shading level ``m = (77 R + 150 G + 29 B + 128) >> 8``."""

PARAM_NAMES: Final = (
    "centre",
    "log_hair",
    "gain_high",
    "gain_low",
    "knee",
    "highlight_log",
    "hue",
    "hue_shift",
    "hue_shift_shadow",
    "saturation",
    "desaturate",
    "shadow_saturate",
    "strength",
)
"""The names of `recolor_params`' entries, in order; the shader's uniforms are ``u_<name>``."""
P_CENTRE: Final = 0
P_LOG_HAIR: Final = 1
P_GAIN_HIGH: Final = 2
P_GAIN_LOW: Final = 3
P_KNEE: Final = 4
P_HIGHLIGHT_LOG: Final = 5
P_HUE: Final = 6
P_HUE_SHIFT: Final = 7
P_HUE_SHIFT_SHADOW: Final = 8
P_SATURATION: Final = 9
P_DESATURATE: Final = 10
P_SHADOW_SATURATE: Final = 11
P_STRENGTH: Final = 12

DEFAULT_HAIR_VALUE: Final = 0.35
"""Hair level used by `hair_value` when no pixel is confidently hair (typical brown hair)."""
HAIR_PROB_THRESHOLD: Final = 0.5
"""Pixels with a probability above this count as hair in `hair_value`."""
PARALLEL_MIN_PIXELS: Final = 600_000
"""`recolor` uses the row-parallel kernel for frames of at least this many pixels (so 720p and
1080p are parallel, 960x540 and 640x480 serial). Measured with ``benchmarks/bench_recolor.py``
on the 2-core target: below about 0.5 Mpixel handing rows to the second thread costs about
as much as it saves; at 720p and above it is up to about 1.5x faster when the machine is idle.
"""


@dataclass(frozen=True, slots=True)
class Look:
    """Per-frame constants of the recolour formula; build it with `make_look`.

    ``hue``, ``saturation``, ``value`` are the target's HSV (0..1), ``hair_value`` the hair's
    mean shading level (0..1), ``shine`` 0..100; the rest are derived (see the module
    docstring): ``centre`` (0..1), ``gain_high``/``gain_low`` (> 0), ``desaturate`` (0..1) and
    ``hue_shift`` (turns, -0.5..0.5), how far a full highlight's hue turns (towards gold)."""

    hue: float
    saturation: float
    value: float
    hair_value: float
    shine: float
    centre: float
    gain_high: float
    gain_low: float
    desaturate: float
    hue_shift: float

    def __post_init__(self) -> None:
        for name in (
            "hue",
            "saturation",
            "value",
            "hair_value",
            "centre",
            "desaturate",
        ):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"Look.{name} must be in 0..1, got {v!r}")
        if not -0.5 <= self.hue_shift <= 0.5:
            raise ValueError(f"Look.hue_shift must be in -0.5..0.5, got {self.hue_shift!r}")
        if not 0.0 <= self.shine <= 100.0:
            raise ValueError(f"Look.shine must be in 0..100, got {self.shine!r}")
        for name in ("gain_high", "gain_low"):
            v = getattr(self, name)
            if not 0.0 < v <= 10.0:
                raise ValueError(f"Look.{name} must be in (0, 10], got {v!r}")


def channel_factor(n: int, hue: float) -> float:
    """``f_n = clamp(min(k, 4 - k), 0, 1)`` with ``k = (n + 6 * hue) mod 6``: the closed form
    ``hsv_to_rgb(h, s, v) = v * (1 - s * f_n)`` with n = 5, 3, 1 for R, G, B (hue in turns)."""
    k = (n + 6.0 * hue) % 6.0
    return min(max(min(k, 4.0 - k), 0.0), 1.0)


def warm_shift(hue: float) -> float:
    """How far (turns) a full highlight of a target of hue ``hue`` (turns) turns towards
    `GOLD_HUE`: ``WARM_SHIFT * delta * clamp((WARM_EDGE - delta) / WARM_FADE, 0, 1)`` for the
    signed distance ``delta = ((GOLD_HUE - hue + 0.5) mod 1) - 0.5`` when it is positive
    (the target lies below gold: red, orange, brown), else 0."""
    delta = (GOLD_HUE - hue + 0.5) % 1.0 - 0.5
    if delta <= 0.0:
        return 0.0
    return WARM_SHIFT * delta * min(max((WARM_EDGE - delta) / WARM_FADE, 0.0), 1.0)


def _check_shine(shine: object) -> float:
    if isinstance(shine, bool) or not isinstance(shine, (int, float, np.floating)):
        raise TypeError(f"shine must be a number, got {type(shine).__name__}")
    s = float(shine)
    if not 0.0 <= s <= 100.0:  # also rejects NaN
        raise ValueError(f"shine must be in 0..100, got {shine!r}")
    return s


def make_look(color: Color, hair_value: float, shine: float = DEFAULT_SHINE) -> Look:
    """The per-frame constants for recolouring hair whose mean shading level (0..1) is
    ``hair_value`` (see `hair_value`) to ``color``, with ``shine`` 0 (matte) .. 50 (natural)
    .. 100 (glossy)."""
    if not isinstance(color, Color):
        raise TypeError(f"color must be a Color, got {type(color).__name__}")
    if isinstance(hair_value, bool) or not isinstance(hair_value, (int, float, np.floating)):
        raise TypeError(f"hair_value must be a float, got {type(hair_value).__name__}")
    v_h = float(hair_value)
    if not 0.0 <= v_h <= 1.0:  # also rejects NaN
        raise ValueError(f"hair_value must be in 0..1, got {hair_value!r}")
    sh = _check_shine(shine)
    h, s, v = color.hsv
    hair = max(v_h, HAIR_FLOOR)
    ratio = (hair + GAMMA_OFFSET) / (v + GAMMA_OFFSET)
    gamma = min(max(ratio**GAMMA_POWER, GAMMA_MIN), GAMMA_MAX)
    gamma_low = min(max(ratio**GAMMA_POWER, GAMMA_MIN_SHADOW), GAMMA_MAX)
    gloss = SHINE_BASE ** ((sh - 50.0) / 50.0)
    return Look(
        hue=h,
        saturation=s,
        value=v,
        hair_value=v_h,
        shine=sh,
        centre=min(v, CENTRE_MAX),
        gain_high=gamma * gloss,
        gain_low=gamma_low * SHADOW_DEEPEN,
        desaturate=min(DESATURATE * gloss, 1.0),
        hue_shift=warm_shift(h),
    )


def recolor_params(look: Look, strength: float) -> npt.NDArray[np.float32]:
    """The one home of the formula's numbers: a float32 array of ``len(PARAM_NAMES)``
    entries (index with the ``P_*`` constants), which the Numba kernels take as one argument
    and the GL renderer sets as the uniforms ``u_<name>``."""
    if not isinstance(look, Look):
        raise TypeError(f"look must be a Look (see make_look), got {type(look).__name__}")
    s = _check_strength(strength)
    values = {
        "centre": look.centre,
        "log_hair": math.log(max(look.hair_value, HAIR_FLOOR)),
        "gain_high": look.gain_high,
        "gain_low": look.gain_low,
        "knee": KNEE,
        "highlight_log": HIGHLIGHT_LOG,
        "hue": look.hue,
        "hue_shift": look.hue_shift,
        "hue_shift_shadow": -WARM_SHADOW * look.hue_shift,
        "saturation": look.saturation,
        "desaturate": look.desaturate,
        "shadow_saturate": SHADOW_SATURATE,
        "strength": s,
    }
    return np.array([values[name] for name in PARAM_NAMES], dtype=np.float32)


def shading_level(frame_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The shading level ``m = (77 R + 150 G + 29 B + 128) >> 8`` (0..255) of every pixel."""
    f = frame_bgr.astype(np.int32)
    m = (LUMA_R * f[..., 2] + LUMA_G * f[..., 1] + LUMA_B * f[..., 0] + 128) >> 8
    return m.astype(np.uint8)


def hair_value(frame_bgr: npt.NDArray[np.uint8], prob: npt.NDArray[np.float32]) -> float:
    """The mean shading level (`shading_level` / 255, 0..1) of the hair, weighted by ``prob``
    over the pixels with ``prob > 0.5``; `DEFAULT_HAIR_VALUE` if there are none.

    ``frame_bgr`` is ``uint8 (H, W, 3)``, ``prob`` ``float32 (H, W)`` in 0..1, both at the
    (small) segmentation resolution; any memory layout is accepted."""
    check_bgr(frame_bgr, "frame_bgr", contiguous=False)
    _check_alpha("prob", prob, frame_bgr.shape[:2], contiguous=False)
    hair = prob > HAIR_PROB_THRESHOLD
    weights = prob[hair].astype(np.float64)
    total = float(weights.sum())
    if total <= 0.0:
        return DEFAULT_HAIR_VALUE
    values = shading_level(frame_bgr[hair]).astype(np.float64) / 255.0
    # Not np.dot: that is a BLAS call, and OpenBLAS runs dot products of this length (~10k
    # hair pixels) on its worker thread, which then spins and took ~10% of a core in the live
    # engine (measured per thread, /proc/self/task). An elementwise product and a sum are not.
    return float(np.multiply(values, weights).sum() / total)


# ---------------------------------------------------------------------------------------------
# Kernels. GLSL twin: shaders/recolor.frag
#
# No fastmath. Measured on the 2-core target at 720p, fastmath=True gave no gain beyond the
# noise and changed a few output values by 1 (FMA contraction). The ``w == 0 -> output ==
# input`` property survives either way (in + d * 0 + 0.5 is exact however it is associated),
# but strict IEEE arithmetic keeps every build of the kernel, and the serial and parallel
# variants, bit-identical by construction rather than by luck of the optimiser.


@_njit(cache=True)
def _factor(n: int, hue: np.float32) -> np.float32:
    """`channel_factor` in float32: ``clamp(min(k, 4 - k), 0, 1)``, ``k = (n + 6 hue) mod 6``."""
    k = (np.float32(n) + np.float32(6.0) * hue) % np.float32(6.0)
    return min(max(min(k, np.float32(4.0) - k), np.float32(0.0)), np.float32(1.0))


@_njit(cache=True)
def _target_table(params: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``255 * rgb`` for every shading level ``m`` in 0..255, float32, flat ``[3 * m + n]`` for
    n = B, G, R (the formula of the module docstring, in float32).

    GLSL twin: shaders/recolor.frag (``target_rgb``, which evaluates it per pixel)."""
    table = np.empty(3 * 256, dtype=np.float32)
    centre = params[P_CENTRE]
    log_hair = params[P_LOG_HAIR]
    gain_high = params[P_GAIN_HIGH]
    gain_low = params[P_GAIN_LOW]
    knee = params[P_KNEE]
    span = np.float32(1.0) - knee
    hl_log = params[P_HIGHLIGHT_LOG]
    hue = params[P_HUE]
    hue_shift = params[P_HUE_SHIFT]
    sat = params[P_SATURATION]
    desat = params[P_DESATURATE]
    hue_shadow = params[P_HUE_SHIFT_SHADOW]
    richer = params[P_SHADOW_SATURATE]
    one = np.float32(1.0)
    zero = np.float32(0.0)
    three = np.float32(3.0)
    two = np.float32(2.0)
    for m in range(256):
        level = max(np.float32(m), np.float32(LEVEL_ZERO))
        d = np.float32(math.log(level / np.float32(255.0))) - log_hair
        e = d * (gain_high if d > zero else gain_low)
        x = centre * np.float32(math.exp(e))
        if x > knee:
            x = one - span * np.float32(math.exp(-(x - knee) / span))
        u = min(max(e / hl_log, zero), one)
        hl = u * u * (three - two * u)
        q = min(max(-e / hl_log, zero), one)
        sh = q * q * (three - two * q)
        s = min(sat * (one - desat * hl + richer * sh), one)
        h = hue + hue_shift * hl + hue_shadow * sh
        t = np.float32(255.0) * x
        table[3 * m] = t * (one - s * _factor(1, h))
        table[3 * m + 1] = t * (one - s * _factor(3, h))
        table[3 * m + 2] = t * (one - s * _factor(5, h))
    return table


ROWS_PER_TASK: Final = 16
"""Rows per task of the parallel kernel (each task allocates its row scratch once)."""

_SCAN_BLOCK: Final = 64
"""Alpha values tested per step when looking for the non-zero span of a row."""


@_njit(cache=True)
def _nonzero_span(a_row: npt.NDArray[np.float32]) -> tuple[int, int]:
    """``(x0, x1)``: the span from the first to one past the last non-zero value of a
    C-contiguous float32 row; ``x0 == x1`` if it is all zero (``+0.0`` or ``-0.0``; NaN counts
    as non-zero). Works on the bit patterns in blocks of `_SCAN_BLOCK`, which vectorises
    (an early-exit float loop does not)."""
    bits = a_row.view(np.uint32)
    magnitude = np.uint32(0x7FFFFFFF)
    width = bits.shape[0]
    x0 = 0
    while x0 + _SCAN_BLOCK <= width:
        acc = np.uint32(0)
        for j in range(_SCAN_BLOCK):
            acc |= bits[x0 + j]
        if acc & magnitude:
            break
        x0 += _SCAN_BLOCK
    while x0 < width and (bits[x0] & magnitude) == 0:
        x0 += 1
    x1 = width
    while x1 - _SCAN_BLOCK >= x0:
        acc = np.uint32(0)
        for j in range(_SCAN_BLOCK):
            acc |= bits[x1 - _SCAN_BLOCK + j]
        if acc & magnitude:
            break
        x1 -= _SCAN_BLOCK
    while x1 > x0 and (bits[x1 - 1] & magnitude) == 0:
        x1 -= 1
    return x0, x1


@_njit(cache=True)
def copy_bytes(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
    """``dst[:] = src`` for two 1-D byte arrays of one length that do not overlap.

    A function of its own on purpose: as a plain loop inside a row loop over 2-D arrays, LLVM
    copies byte by byte (measured 2 ms for a 720p frame); here it vectorises (0.08 ms). Slice
    assignment would check for overlap and may allocate."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@_njit(inline="always")
def level_offset(b8: np.uint8, g8: np.uint8, r8: np.uint8) -> np.int32:  # pragma: no cover
    """``3 * m``, the offset in the `_target_table` of one BGR pixel's shading level
    ``m = (77 R + 150 G + 29 B + 128) >> 8``. The one home of the per-pixel formula for every
    kernel that needs it (`_levels`, ``fused``), inlined into their loops; `shading_level`
    is its NumPy twin."""
    b, g, r = np.int32(b8), np.int32(g8), np.int32(r8)
    return np.int32(3 * ((LUMA_R * r + LUMA_G * g + LUMA_B * b + 128) >> 8))


@_njit(cache=True)
def _levels(s_span: npt.NDArray[np.uint8], level: npt.NDArray[np.int32], n: int) -> None:
    """``level[x] = 3 * m`` with ``m = (77 R + 150 G + 29 B + 128) >> 8`` (the shading level)
    of ``n`` BGR pixels: the offset of the pixel's entries in the `_target_table`."""
    for x in range(n):
        level[x] = level_offset(s_span[3 * x], s_span[3 * x + 1], s_span[3 * x + 2])


@_njit(cache=True)
def _blend_span(
    s_span: npt.NDArray[np.uint8],
    a_span: npt.NDArray[np.float32],
    level: npt.NDArray[np.int32],
    table: npt.NDArray[np.float32],
    strength: np.float32,
    d_span: npt.NDArray[np.uint8],
    target_3: npt.NDArray[np.float32],
    weight_3: npt.NDArray[np.float32],
) -> None:
    """Recolour one span of ``n = len(a_span)`` pixels: ``s_span`` (3n BGR bytes, with their
    levels from `_levels`) into ``d_span`` (3n bytes, not overlapping ``s_span``), blended by
    ``a_span * strength``; ``table`` from `_target_table`. ``target_3``/``weight_3`` are
    scratch of at least 3n floats. Shared by `_recolor_rows` and the fused kernel in
    ``core.fused``, so the two give identical pixels for identical alpha.
    GLSL twin: shaders/recolor.frag"""
    n = a_span.shape[0]
    half = np.float32(0.5)
    top = np.float32(255.0)
    zero = np.float32(0.0)
    # Simple passes, each of which LLVM vectorises (one fused per-pixel loop does not:
    # stride-3 channels plus a table gather).
    one, two = np.uint64(1), np.uint64(2)
    for x in range(n):  # 255 * rgb (gathers) and w, per channel (B, G, R)
        j = np.uint64(level[x])  # unsigned: no negative-index wrap-around test per gather
        w = a_span[x] * strength
        target_3[3 * x] = table[j]
        target_3[3 * x + 1] = table[j + one]
        target_3[3 * x + 2] = table[j + two]
        weight_3[3 * x] = w
        weight_3[3 * x + 1] = w
        weight_3[3 * x + 2] = w
    for i in range(3 * n):  # floor(in + (255 * rgb - in) * w + 0.5), clamped to 0..255
        v_in = np.float32(s_span[i])
        blended = v_in + (target_3[i] - v_in) * weight_3[i] + half
        d_span[i] = np.int32(min(max(blended, zero), top))


@_njit(cache=True)
def _recolor_rows(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    table: npt.NDArray[np.float32],
    strength: np.float32,
    out: npt.NDArray[np.uint8],
    in_place: bool,
    y0: int,
    y1: int,
) -> None:
    """Recolour rows ``y0:y1`` of ``frame`` into ``out``. GLSL twin: shaders/recolor.frag

    Assumes (checked by `recolor`): ``frame``/``out`` C-contiguous ``uint8 (H, W, 3)`` BGR,
    either the same array (``in_place``) or not overlapping; ``alpha`` C-contiguous
    ``float32 (H, W)``; ``table`` from `_target_table` (``255 * rgb`` per level and channel).

    Only the span of each row between its first and last non-zero alpha is computed; the rest
    has ``w == 0``, where the formula gives the input exactly, so it is copied (or left as it
    is when ``in_place``). In place, each span is first copied to scratch, so that the blend
    reads and writes different memory (and stays vectorised)."""
    height = frame.shape[0]
    width = frame.shape[1]
    src = frame.reshape(height, 3 * width)
    dst = out.reshape(height, 3 * width)
    level = np.empty(width, dtype=np.int32)
    target_3 = np.empty(3 * width, dtype=np.float32)
    weight_3 = np.empty(3 * width, dtype=np.float32)
    src_copy = np.empty(3 * width if in_place else 0, dtype=np.uint8)
    for y in range(y0, y1):
        a_row = alpha[y]
        x0, x1 = _nonzero_span(a_row)
        s_row = src[y]
        d_row = dst[y]
        if not in_place:
            copy_bytes(s_row[: 3 * x0], d_row[: 3 * x0])
            copy_bytes(s_row[3 * x1 :], d_row[3 * x1 :])
        n = x1 - x0
        if n == 0:
            continue
        s_span = s_row[3 * x0 : 3 * x1]
        if in_place:
            copy_bytes(s_span, src_copy[: 3 * n])
            s_span = src_copy[: 3 * n]
        _levels(s_span, level, n)
        _blend_span(
            s_span, a_row[x0:x1], level, table, strength, d_row[3 * x0 : 3 * x1],
            target_3, weight_3,
        )  # fmt: skip


@_njit(cache=True, nogil=True)
def _recolor_serial(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    params: npt.NDArray[np.float32],
    out: npt.NDArray[np.uint8],
    in_place: bool,
) -> None:
    """All rows, one after another, on the calling thread; ``params`` from `recolor_params`.
    GLSL twin: shaders/recolor.frag"""
    table = _target_table(params)
    strength = params[P_STRENGTH]
    _recolor_rows(frame, alpha, table, strength, out, in_place, 0, frame.shape[0])


@_njit(cache=True, nogil=True, parallel=True)
def _recolor_parallel(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    params: npt.NDArray[np.float32],
    out: npt.NDArray[np.uint8],
    in_place: bool,
) -> None:
    """Blocks of `ROWS_PER_TASK` rows spread over Numba's threads (``prange``). Every pixel
    goes through the same `_recolor_rows` arithmetic as in `_recolor_serial`, so the two are
    bit-identical. GLSL twin: shaders/recolor.frag"""
    table = _target_table(params)
    strength = params[P_STRENGTH]
    height = frame.shape[0]
    n_tasks = (height + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        y0 = task * ROWS_PER_TASK
        y1 = min(y0 + ROWS_PER_TASK, height)
        _recolor_rows(frame, alpha, table, strength, out, in_place, y0, y1)


# ---------------------------------------------------------------------------------------------
# Public API


def _check_alpha(name: str, alpha: object, hw: tuple[int, ...], *, contiguous: bool) -> None:
    if not isinstance(alpha, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(alpha).__name__}")
    if alpha.dtype != np.float32:
        raise TypeError(f"{name} must be float32, got dtype {alpha.dtype}")
    if alpha.shape != hw:
        raise ValueError(f"{name} must have the frame's shape {hw}, got {alpha.shape}")
    if contiguous and not alpha.flags.c_contiguous:
        raise ValueError(
            f"{name} must be C-contiguous, got strides {alpha.strides} for shape {alpha.shape}"
            " (use np.ascontiguousarray)"
        )


def _check_strength(strength: object) -> float:
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.floating)):
        raise TypeError(f"strength must be a float, got {type(strength).__name__}")
    s = float(strength)
    if not 0.0 <= s <= 1.0:  # also rejects NaN
        raise ValueError(f"strength must be in 0..1, got {strength!r}")
    return s


def recolor(
    frame: npt.NDArray[np.uint8],
    alpha: npt.NDArray[np.float32],
    look: Look,
    strength: float,
    out: npt.NDArray[np.uint8] | None = None,
    *,
    parallel: bool | None = None,
) -> npt.NDArray[np.uint8]:
    """Recolour the hair in ``frame`` to ``look``, blended by ``alpha * strength``.

    Args:
        frame: BGR ``uint8 (H, W, 3)``, C-contiguous.
        alpha: hair alpha ``float32 (H, W)`` in 0..1, C-contiguous. Not range-checked (that
            would cost a pass over the frame); values outside 0..1 give a clamped but
            meaningless blend, NaN gives undefined pixels.
        look: per-frame constants from `make_look`.
        strength: blend weight in 0..1 (intensity / 100). 0 returns an exact copy of
            ``frame``; wherever ``alpha * strength == 0`` the output equals the input exactly.
        out: optional C-contiguous ``uint8 (H, W, 3)`` array to write into (no allocation).
            It may be ``frame`` itself (in-place recolouring is safe: each pixel is read
            before it is written) but must not otherwise overlap ``frame`` or ``alpha``.
        parallel: force the row-parallel (True) or serial (False) kernel; by default the
            parallel one is used for frames of at least `PARALLEL_MIN_PIXELS` pixels. The
            serial one also runs when another thread holds `PARALLEL_LOCK` (same output).

    Thread-safe; the kernels release the GIL while they run.

    Returns:
        ``out`` if given, else a new array.

    Raises:
        TypeError: wrong type or dtype. ValueError: wrong shape, non-contiguous, strength
        outside 0..1, or ``out`` overlapping its inputs.
    """
    check_bgr(frame, "frame", contiguous=True)
    _check_alpha("alpha", alpha, frame.shape[:2], contiguous=True)
    if not isinstance(look, Look):
        raise TypeError(f"look must be a Look (see make_look), got {type(look).__name__}")
    s = _check_strength(strength)
    if out is None:
        out = np.empty_like(frame)
    else:
        check_bgr(out, "out", contiguous=True)
        if out.shape != frame.shape:
            raise ValueError(f"out must have the frame's shape {frame.shape}, got {out.shape}")
        if not out.flags.writeable:
            raise ValueError("out must be writeable, got a read-only array")
        if np.may_share_memory(out, alpha):
            raise ValueError("out must not overlap alpha")
        same_start = out.ctypes.data == frame.ctypes.data  # same shape, both C-contiguous
        if not same_start and np.may_share_memory(out, frame):
            raise ValueError("out must be frame itself or not overlap it, got a partial overlap")
    in_place = out.ctypes.data == frame.ctypes.data
    if s == 0.0:
        if not in_place:
            np.copyto(out, frame)
        return out
    params = recolor_params(look, s)
    use_parallel = frame.shape[0] * frame.shape[1] >= PARALLEL_MIN_PIXELS
    if parallel is not None:
        use_parallel = parallel
    run_parallel(
        _recolor_parallel,
        _recolor_serial,
        use_parallel,
        *(frame, alpha, params, out, in_place),
    )
    return out


def warm_up() -> None:
    """Compile (or load from the cache) both kernels on a tiny frame, so that the first real
    frame does not pay for it."""
    frame = np.zeros((2, 2, 3), dtype=np.uint8)
    alpha = np.ones((2, 2), dtype=np.float32)
    look = make_look(Color("warm-up", (128, 64, 32)), DEFAULT_HAIR_VALUE)
    recolor(frame, alpha, look, 1.0, parallel=False)
    recolor(frame, alpha, look, 1.0, parallel=True)
