"""Skin guard: no hair colour on the skin of a face the detector sees.

The hair model paints foreheads and faces under big hair (it says p > 0.5 there), and the
edge refinement cannot undo what the model calls hair. Each detected face carries BlazeFace's
keypoints (eyes, nose tip, mouth, ears), so its own skin colour can be sampled where no hair
grows (the nose bridge and both cheeks) and its own hair colour where the model is sure
(p > `HAIR_PROB` around the head). Inside the face (an ellipse from the forehead to the chin)
every pixel is classed by which of the two colour models (a Gaussian each, in Lab) explains
it better; where skin wins clearly the alpha is scaled down, with a soft ramp in both the
colour evidence and the region's edge, never a hard cut.

`skin_keep` returns that scale as a map at the refinement's coefficient resolution (what
``pipeline.prepare`` multiplies into the band channel, so the Numba kernels and the GLSL
shader need nothing new, and alpha stays exactly 0 wherever it was). It is a face-level
operation at low resolution: a crop around each face, downscaled once.

Not done here, on purpose: beards (hair-coloured: a geometric cut of the lower face lost
IoU on Figaro, whose long hair falls beside the chin), clothes and background (no face
anchors them).

Units: Lab is OpenCV's 8-bit Lab (L, a, b each 0..255, a and b offset by 128) as float32;
the face's scale is its eye distance ``D`` in map pixels; log-likelihoods in nats."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from colorme_live.core.faces import LEFT_EYE, MOUTH, RIGHT_EYE, Face

SKIN_SAMPLES = ((0.0, 0.35), (-0.5, 0.55), (0.5, 0.55))
"""Where the skin colour is sampled, in the face's own frame: (across, down) in eye
distances from the midpoint of the eyes (across towards the image's right when upright):
the nose bridge, and each cheek below an eye."""
SAMPLE_RADIUS = 0.15
"""Half side of each square skin sample, in eye distances."""
FACE_CENTRE = 0.2
"""Centre of the face region: this many eye distances below the eyes' midpoint, on the line
to the mouth (about the nose, the middle of forehead and chin)."""
FACE_AXES = (1.3, 1.8)
"""Semi-axes of the face region, across and along the face, in eye distances: forehead to
chin, cheek to cheek."""
FACE_SOFT = 0.3
"""The region's weight falls from 1 to 0 between relative radius 1 and 1 + this."""
HEAD_AXES = (3.0, 3.5)
"""Semi-axes of the head ellipse (same centre) whose sure hair gives the hair colour."""
HAIR_PROB = 0.9
"""Pixels where the hair model is at least this sure give the hair colour."""
CHEEK_MAX_PROB = 0.5
"""A face whose skin samples the hair model calls hair (median p above this) is not a face
but a false detection on hair (BlazeFace finds faces in buns): it is left alone."""
MIN_EYE_DISTANCE = 3.0
"""Faces whose eyes are closer than this (map pixels) are too small to sample."""
MIN_HAIR_SAMPLES = 10
COLOR_PRIOR = 4.0
"""Added to each colour model's variances (Lab levels squared): flat samples (an even
cheek) still give a finite, not over-sure model."""
LLR_RAMP = (0.0, 4.0)
"""The alpha is scaled down from not at all to fully as the log-likelihood ratio skin : hair
rises between these (nats)."""


def skin_keep(
    frame: np.ndarray,
    prob: np.ndarray,
    faces: Sequence[Face],
) -> np.ndarray | None:
    """The share of the hair alpha to keep, float32 (h, w) in 0..1 at ``prob``'s resolution,
    or None where no face was usable (then nothing changes).

    ``frame`` is the uint8 (H, W, 3) BGR frame, ``prob`` the hair probability (float32
    (h, w), 0..1) on a grid covering it, ``faces`` in ``frame``'s pixels; faces without
    keypoints are skipped."""
    if prob.ndim != 2 or prob.dtype != np.float32:
        raise TypeError(f"prob must be float32 (h, w), got {prob.dtype} {prob.shape}")
    fh, fw = frame.shape[:2]
    h, w = prob.shape
    sx, sy = w / fw, h / fh
    keep: np.ndarray | None = None
    for face in faces:
        if len(face.keypoints) <= MOUTH:
            continue
        geometry = _geometry(face, sx, sy)
        if geometry is None:
            continue
        found = _face_keep(frame, prob, geometry, (sx, sy))
        if found is None:
            continue
        (x0, y0, x1, y1), part = found
        if keep is None:
            keep = np.ones((h, w), np.float32)
        np.minimum(keep[y0:y1, x0:x1], part, out=keep[y0:y1, x0:x1])
    return keep


class _Geometry:
    """A face in map pixels: the eyes' midpoint, unit vectors down (towards the mouth) and
    across, and the eye distance."""

    __slots__ = ("across", "d", "down", "mid")

    def __init__(self, mid: np.ndarray, down: np.ndarray, d: float) -> None:
        self.mid = mid
        self.down = down
        self.across = np.array([down[1], -down[0]])
        self.d = d

    def point(self, across: float, down: float) -> np.ndarray:
        """Map position of (across, down) eye distances from the eyes' midpoint."""
        return self.mid + self.d * (across * self.across + down * self.down)


def _geometry(face: Face, sx: float, sy: float) -> _Geometry | None:
    kp = np.array(face.keypoints, np.float64) * (sx, sy)
    mid = (kp[RIGHT_EYE] + kp[LEFT_EYE]) / 2
    d = float(np.hypot(*(kp[LEFT_EYE] - kp[RIGHT_EYE])))
    to_mouth = kp[MOUTH] - mid
    n = float(np.hypot(*to_mouth))
    if d < MIN_EYE_DISTANCE or n <= 0:
        return None
    return _Geometry(mid, to_mouth / n, d)


def _ellipse_weight(
    u: np.ndarray, v: np.ndarray, axes: tuple[float, float], soft: float
) -> np.ndarray:
    """1 inside the ellipse of semi-axes ``axes`` (in the units of ``u``, ``v``), falling
    linearly to 0 at relative radius 1 + ``soft``."""
    r = np.sqrt((u / axes[0]) ** 2 + (v / axes[1]) ** 2)
    return np.clip((1.0 + soft - r) / soft, 0.0, 1.0).astype(np.float32)


def _face_keep(
    frame: np.ndarray, prob: np.ndarray, g: _Geometry, scale: tuple[float, float]
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The keep map of one face over its head's box (x0, y0, x1, y1) in map pixels, or None
    when the face cannot be used (off the map, skin samples on hair, too little sure hair)."""
    h, w = prob.shape
    centre = g.point(0.0, FACE_CENTRE)
    reach = max(HEAD_AXES) * g.d
    x0, y0 = max(0, math.floor(centre[0] - reach)), max(0, math.floor(centre[1] - reach))
    x1, y1 = min(w, math.ceil(centre[0] + reach) + 1), min(h, math.ceil(centre[1] + reach) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    lab = _lab_crop(frame, (x0, y0, x1, y1), scale)
    p = prob[y0:y1, x0:x1]
    # each pixel in the face's frame (eye distances from the face centre)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = (xx + 0.5 - centre[0]) / g.d, (yy + 0.5 - centre[1]) / g.d
    u = dx * g.across[0] + dy * g.across[1]
    v = dx * g.down[0] + dy * g.down[1]

    skin = _skin_samples(lab, p, g, (x0, y0))
    if skin is None:
        return None
    head = _ellipse_weight(u, v, HEAD_AXES, 1e-3) > 0
    hair = lab[head & (p >= HAIR_PROB)]
    if len(hair) < MIN_HAIR_SAMPLES:
        return None
    llr = log_likelihood_ratio(lab, skin, hair)
    lo, hi = LLR_RAMP
    share = np.clip((llr - lo) / (hi - lo), 0.0, 1.0)
    region = _ellipse_weight(u, v, FACE_AXES, FACE_SOFT)
    return (x0, y0, x1, y1), (1.0 - region * share).astype(np.float32)


def _lab_crop(
    frame: np.ndarray, box: tuple[int, int, int, int], scale: tuple[float, float]
) -> np.ndarray:
    """OpenCV 8-bit Lab (float32) of the map box (x0, y0, x1, y1): the frame's pixels under it,
    area-averaged to the map's resolution."""
    x0, y0, x1, y1 = box
    sx, sy = scale
    fh, fw = frame.shape[:2]
    fx0, fy0 = min(fw - 1, int(x0 / sx)), min(fh - 1, int(y0 / sy))
    fx1, fy1 = max(fx0 + 1, min(fw, round(x1 / sx))), max(fy0 + 1, min(fh, round(y1 / sy)))
    crop = frame[fy0:fy1, fx0:fx1]
    small = cv2.resize(crop, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small.reshape(y1 - y0, x1 - x0, 3), cv2.COLOR_BGR2LAB)
    return lab.astype(np.float32)


def _skin_samples(
    lab: np.ndarray, p: np.ndarray, g: _Geometry, origin: tuple[int, int]
) -> np.ndarray | None:
    """The Lab pixels of the skin samples (n, 3), or None (off the crop, or on hair)."""
    h, w = p.shape
    r = max(1, round(SAMPLE_RADIUS * g.d))
    pixels = []
    probs = []
    for across, down in SKIN_SAMPLES:
        cx, cy = g.point(across, down) - origin
        x, y = int(cx), int(cy)
        if not (0 <= x < w and 0 <= y < h):
            return None
        window = (slice(max(0, y - r), y + r + 1), slice(max(0, x - r), x + r + 1))
        pixels.append(lab[window].reshape(-1, 3))
        probs.append(p[window].ravel())
    if float(np.median(np.concatenate(probs))) > CHEEK_MAX_PROB:
        return None
    return np.concatenate(pixels)


def _gaussian(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean, inverse covariance and log-determinant of the covariance of (n, 3) samples,
    with `COLOR_PRIOR` added to the variances."""
    x = samples.astype(np.float64)
    mean = x.mean(axis=0)
    cov = np.cov(x, rowvar=False, bias=True) + COLOR_PRIOR * np.eye(3)
    _, logdet = np.linalg.slogdet(cov)
    return mean, np.linalg.inv(cov), float(logdet)


def log_likelihood_ratio(lab: np.ndarray, skin: np.ndarray, hair: np.ndarray) -> np.ndarray:
    """``log N(x; skin) - log N(x; hair)`` for each pixel of ``lab`` (float32 (h, w, 3)),
    each class a Gaussian fitted to its (n, 3) samples (see `_gaussian`): float32 (h, w),
    positive where skin explains the colour better. `log_likelihood_ratio_reference` is its
    per-pixel oracle."""
    out = np.zeros(lab.shape[:2], np.float64)
    for samples, sign in ((hair, 1.0), (skin, -1.0)):
        mean, inv, logdet = _gaussian(samples)
        d = lab.astype(np.float64) - mean
        out += sign * 0.5 * (np.einsum("hwi,ij,hwj->hw", d, inv, d) + logdet)
    return out.astype(np.float32)


def log_likelihood_ratio_reference(
    lab: np.ndarray, skin: np.ndarray, hair: np.ndarray
) -> np.ndarray:
    """`log_likelihood_ratio` pixel by pixel, with the textbook Gaussian density written out
    (mean, covariance with the prior, its determinant and inverse per class)."""

    def fit(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = samples.astype(np.float64)
        mean = x.sum(axis=0) / len(x)
        cov = np.zeros((3, 3))
        for row in x:
            cov += np.outer(row - mean, row - mean)
        return mean, cov / len(x) + COLOR_PRIOR * np.eye(3)

    def log_density(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
        d = x - mean
        quad = float(d @ np.linalg.solve(cov, d))
        return -0.5 * (quad + math.log(np.linalg.det(cov)) + 3 * math.log(2 * math.pi))

    skin_fit, hair_fit = fit(skin), fit(hair)
    h, w = lab.shape[:2]
    out = np.zeros((h, w), np.float32)
    for y in range(h):
        for x in range(w):
            px = lab[y, x].astype(np.float64)
            out[y, x] = log_density(px, *skin_fit) - log_density(px, *hair_fit)
    return out
