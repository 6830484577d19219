"""Two-tone and ombré: a root colour and a tip colour, blended along the hair, Qt-free.

**Geometry.** Root-to-tip runs from the scalp outwards, not down the picture: each hair pixel's
position ``t`` (0 = root, 1 = tip) is its distance from the person's head, divided by how far
the hair reaches (a high percentile of those distances over the hair). The head is an ellipse
around the scalp built from a face box (``(x, y, w, h)`` in frame pixels, e.g. a face
detector's): centred ``SCALP_UP`` face heights above the box centre, with semi-axes
``SCALP_AXES`` times the box's width and height. Hair on the crown is inside it (root), hair on
the shoulders far from it (tip); a tilted head tilts the distances with it. With several faces
the nearest head counts. With no face (the back of a head), ``t`` runs from the top of the hair
to its bottom.

**Colour.** The frame is recoloured once to each colour by the one recolour formula
(``core.recolor``, the same kernels, oracle and shaders as a single colour), and the two are
mixed per pixel by the tip weight ``smoothstep(blend - softness/2, blend + softness/2, t)``.
So strand texture is kept exactly as for one colour, and the formula keeps one home.

**Steadiness.** ``t`` is computed at the segmentation resolution on the temporally smoothed
probability, so it moves only as the smoothed mask moves; the hair's reach is a percentile
(not the farthest pixel), so a flickering strand at the edge does not stretch the gradient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from colorme_live.core.errors import InputError
from colorme_live.core.jit import njit
from colorme_live.core.palette import Color, parse_color

FaceBox = tuple[float, float, float, float]
"""``(x, y, w, h)`` of a face in frame pixels."""

SCALP_UP = 0.3
"""Centre of the scalp ellipse above the face box's centre, in face heights (a face box runs
from the brows to the chin; the skull's centre is about a third of that above its middle)."""
SCALP_AXES = (0.6, 0.8)
"""Semi-axes of the scalp ellipse, in face widths and heights."""
REACH_PERCENTILE = 97.0
"""The hair's reach: this percentile of the hair pixels' distances (robust to stray strands)."""
DEFAULT_BLEND = 50
DEFAULT_SOFTNESS = 40
HAIR_THRESHOLD = 0.5
MIN_SOFTNESS = 0.02


def _check_percent(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value <= 100:
        raise ValueError(f"{name} must be in 0..100, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Ombre:
    """A root colour and a tip colour. ``blend`` (0..100) is where along the hair the middle of
    the transition lies (0 at the root, 100 at the tip); ``softness`` (0..100) how long the
    transition is, as a share of the hair's length (0 is a sharp two-tone line)."""

    root: Color
    tip: Color
    blend: int = DEFAULT_BLEND
    softness: int = DEFAULT_SOFTNESS

    def __post_init__(self) -> None:
        if not isinstance(self.root, Color) or not isinstance(self.tip, Color):
            raise TypeError("root and tip must be Colors")
        _check_percent("blend", self.blend)
        _check_percent("softness", self.softness)


def parse_ombre(text: str, blend: int = DEFAULT_BLEND, softness: int = DEFAULT_SOFTNESS) -> Ombre:
    """``ROOT:TIP``, each in the ``--color`` syntax (a name, 1-10 or #RRGGBB)."""
    parts = text.split(":")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise InputError(f"--ombre must be ROOT:TIP (e.g. 'dark brown:honey blonde'), got {text!r}")
    return Ombre(parse_color(parts[0]), parse_color(parts[1]), blend, softness)


def _scalp_mask(
    shape: tuple[int, int], faces: Sequence[FaceBox], scale: tuple[float, float]
) -> np.ndarray:
    """uint8 (h, w): 255 outside every scalp ellipse, 0 inside (the distance transform's
    input), at the probability's resolution (``scale`` = its size / the frame's)."""
    h, w = shape
    out = np.full((h, w), 255, np.uint8)
    sx, sy = scale
    for x, y, bw, bh in faces:
        cx, cy = (x + bw / 2) * sx, (y + bh / 2 - SCALP_UP * bh) * sy
        ax, ay = SCALP_AXES[0] * bw * sx, SCALP_AXES[1] * bh * sy
        cv2.ellipse(
            out,
            (round(cx), round(cy)),
            (max(1, round(ax)), max(1, round(ay))),
            0.0, 0.0, 360.0, 0, thickness=-1,
        )  # fmt: skip
    return out


def root_to_tip(
    prob: npt.NDArray[np.float32],
    faces: Sequence[FaceBox] = (),
    frame_size: tuple[int, int] | None = None,
) -> npt.NDArray[np.float32]:
    """``t`` in 0..1 per pixel of ``prob`` (float32 (h, w), the hair probability at any
    resolution): 0 at the roots, 1 at the tips (see the module docstring). ``faces`` are in
    the pixels of a frame of ``frame_size`` (w, h) (default: ``prob``'s own size)."""
    if not isinstance(prob, np.ndarray) or prob.dtype != np.float32 or prob.ndim != 2:
        raise TypeError(
            f"prob must be a float32 (h, w) array, got {getattr(prob, 'dtype', prob)!r}"
        )
    h, w = prob.shape
    fw, fh = frame_size if frame_size is not None else (w, h)
    hair = prob > HAIR_THRESHOLD
    t = np.zeros((h, w), np.float32)
    if not hair.any():
        return t
    boxes = [b for b in faces if b[2] > 0 and b[3] > 0]
    if boxes:
        dist = cv2.distanceTransform(_scalp_mask((h, w), boxes, (w / fw, h / fh)), cv2.DIST_L2, 5)
        reach = float(np.percentile(dist[hair], REACH_PERCENTILE))
        if reach > 1.0:
            return np.clip(dist / reach, 0.0, 1.0).astype(np.float32)
        return t  # all the hair is on the scalp: all root
    rows = np.nonzero(hair.any(axis=1))[0]
    weights = hair.sum(axis=1)[rows].astype(np.float64)
    cum = np.cumsum(weights) / weights.sum()
    top = float(rows[int(np.searchsorted(cum, 1.0 - REACH_PERCENTILE / 100.0))])
    last = min(int(np.searchsorted(cum, REACH_PERCENTILE / 100.0)), len(rows) - 1)
    bottom = float(rows[last])
    span = max(bottom - top, 1.0)
    ys = (np.arange(h, dtype=np.float32) - top) / span
    t[:] = np.clip(ys, 0.0, 1.0)[:, None]
    return t


def tip_weight(t: npt.NDArray[np.float32], ombre: Ombre) -> npt.NDArray[np.float32]:
    """The share of the tip colour at each ``t``: a smoothstep centred on ``blend`` over
    ``softness`` of the hair's length."""
    centre = ombre.blend / 100.0
    half = max(ombre.softness / 100.0, MIN_SOFTNESS) / 2.0
    x = np.clip((t - (centre - half)) / (2.0 * half), 0.0, 1.0)
    return (x * x * (3.0 - 2.0 * x)).astype(np.float32)


@njit(cache=True, nogil=True)
def _mix_kernel(
    out: npt.NDArray[np.uint8],
    tip: npt.NDArray[np.uint8],
    w8: npt.NDArray[np.uint16],
    y0: int,
    x0: int,
) -> None:
    """In place: ``out = (out * (256 - w8) + tip * w8 + 128) >> 8`` over the box of ``w8``
    at (y0, x0); ``out`` holds the root image. Twin of `mix_reference`."""
    rows, cols = w8.shape
    for i in range(rows):
        y = y0 + i
        for j in range(cols):
            a = np.uint32(w8[i, j])
            if a == 0:
                continue
            x = x0 + j
            for c in range(3):
                r = np.uint32(out[y, x, c])
                out[y, x, c] = np.uint8((r * (256 - a) + np.uint32(tip[y, x, c]) * a + 128) >> 8)


def _weights_256(
    weight: npt.NDArray[np.float32], size: tuple[int, int], band: npt.NDArray[np.float32] | None
) -> tuple[npt.NDArray[np.uint16], int, int] | None:
    """The tip weight resized (bilinear) to ``size`` (w, h), in 1/256 steps, over the bounding
    box of ``band`` (one low-resolution pixel of margin: the bilinear support); with its
    top-left corner. None if the band is empty."""
    w, h = size
    lh, lw = weight.shape
    y0, y1, x0, x1 = 0, h, 0, w
    if band is not None:
        rows, cols = np.nonzero(band.any(axis=1))[0], np.nonzero(band.any(axis=0))[0]
        if len(rows) == 0:
            return None
        sy, sx = h / lh, w / lw
        y0, y1 = max(0, int((rows[0] - 1) * sy)), min(h, int(np.ceil((rows[-1] + 2) * sy)))
        x0, x1 = max(0, int((cols[0] - 1) * sx)), min(w, int(np.ceil((cols[-1] + 2) * sx)))
    w16 = (np.clip(weight, 0.0, 1.0) * 256.0 + 0.5).astype(np.uint16)  # quantised first:
    if (lh, lw) != (h, w):  # OpenCV's fixed-point bilinear on uint16 is 3x its float path
        w16 = np.asarray(cv2.resize(w16, (w, h), interpolation=cv2.INTER_LINEAR), np.uint16)
    return np.ascontiguousarray(w16[y0:y1, x0:x1]), y0, x0


def _check_pair(root: np.ndarray, tip: np.ndarray) -> None:
    for name, image in (("root_image", root), ("tip_image", tip)):
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3:
            raise TypeError(f"{name} must be a uint8 (H, W, 3) array")
    if root.shape != tip.shape or root.shape[2] != 3:
        raise ValueError(f"root and tip images differ in shape: {root.shape} vs {tip.shape}")


def mix(
    root_image: npt.NDArray[np.uint8],
    tip_image: npt.NDArray[np.uint8],
    weight: npt.NDArray[np.float32],
    band: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.uint8]:
    """``root + weight * (tip - root)`` per pixel, weights in 1/256 steps, rounded (a new
    uint8 image). ``weight`` (float32 0..1) at any resolution is resized (bilinear) to the
    images'; ``band`` (the refinement's band at ``weight``'s resolution, nonzero where the
    hair alpha may be) limits the work to its bounding box: elsewhere both images are the
    untouched frame. Numba; `mix_reference` is its oracle."""
    _check_pair(root_image, tip_image)
    out = np.ascontiguousarray(root_image).copy()
    found = _weights_256(weight, (root_image.shape[1], root_image.shape[0]), band)
    if found is not None:
        w8, y0, x0 = found
        _mix_kernel(out, np.ascontiguousarray(tip_image), w8, y0, x0)
    return out


def mix_reference(
    root_image: npt.NDArray[np.uint8],
    tip_image: npt.NDArray[np.uint8],
    weight: npt.NDArray[np.float32],
) -> npt.NDArray[np.uint8]:
    """The plain NumPy oracle of `mix` over the whole frame."""
    _check_pair(root_image, tip_image)
    h, w = root_image.shape[:2]
    found = _weights_256(weight, (w, h), None)
    assert found is not None
    a = found[0].astype(np.uint32)[:, :, None]
    r, t = root_image.astype(np.uint32), tip_image.astype(np.uint32)
    return ((r * (256 - a) + t * a + 128) >> 8).astype(np.uint8)
