"""Skin guard: no hair colour on the skin of a face the detector sees.

The hair model paints foreheads and faces under big hair (it says p > 0.5 there), and the
edge refinement cannot undo what the model calls hair. Each detected face carries BlazeFace's
keypoints (eyes, nose tip, mouth, ears), so its own skin colour can be sampled where no hair
grows (the nose bridge and both cheeks) and its own hair colour where the model is sure
(p > `HAIR_PROB` around the head). Inside the face (an ellipse from the forehead to the chin)
every pixel is classed by which of the two colour models (a Gaussian each, in Lab) explains
it better; where skin wins clearly the hair probability is scaled down, with a soft ramp in
both the colour evidence and the region's edge, never a hard cut.

`skin_keep` returns that scale as a map at the hair map's resolution. The pipeline multiplies
the model's probability by it before temporal smoothing (``pipeline.guard_skin``), so the
smoothing steadies it with the mask, and the refinement and recolour kernels (and their GLSL
twins) need nothing new. It is a face-level operation at the map's resolution, on the frame
already downscaled for the hair model.

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
HAIR_GRID = 6
"""The hair colour is sampled on a grid of about this many rows and columns per eye
distance (every pixel of a small face, every n-th of a large one)."""
COLOR_PRIOR = 16.0
"""Added to each colour model's variances (Lab levels squared): flat samples (an even
cheek) still give a finite, not over-sure model, and camera noise moves the evidence less
(with 4 and no blur, band flicker on the talking clip was 0.829 of the raw model's, against
0.817 without the guard)."""
SHARE_BLUR = 1
"""Radius (map pixels) of the box blur on the skin evidence: one pixel's noise does not move
the mask's edge (without it band flicker rose on both static clips: selfie 0.551 -> 0.555,
talking 0.817 -> 0.823, as a share of the raw model's)."""
LLR_RAMP = (0.0, 4.0)
"""The probability is scaled down from not at all to fully as the log-likelihood ratio
skin : hair rises between these (nats)."""


def skin_keep(
    image: np.ndarray,
    prob: np.ndarray,
    faces: Sequence[Face],
    frame_size: tuple[int, int],
) -> np.ndarray | None:
    """The share of the hair probability to keep, float32 (h, w) in 0..1, or None where no
    face was usable (then nothing changes).

    ``image`` is the frame at the map's resolution (uint8 (h, w, 3) BGR, area-averaged: what
    the pipeline hands the hair model or pastes its regions into), ``prob`` the hair
    probability on it (float32 (h, w), 0..1), ``faces`` in the pixels of the full frame of
    ``frame_size`` = (W, H); faces without keypoints are skipped."""
    if prob.ndim != 2 or prob.dtype != np.float32:
        raise TypeError(f"prob must be float32 (h, w), got {prob.dtype} {prob.shape}")
    if image.shape[:2] != prob.shape:
        raise ValueError(f"image {image.shape} and prob {prob.shape} must be the same (h, w)")
    h, w = prob.shape
    sx, sy = w / frame_size[0], h / frame_size[1]
    keep: np.ndarray | None = None
    for face in faces:
        if len(face.keypoints) <= MOUTH:
            continue
        geometry = _geometry(face, sx, sy)
        if geometry is None:
            continue
        found = _face_keep(image, prob, geometry)
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
    image: np.ndarray, prob: np.ndarray, g: _Geometry
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The keep map of one face over its face region's box (x0, y0, x1, y1) in map pixels, or
    None when the face cannot be used (off the map, skin samples on hair, too little sure
    hair)."""
    centre = g.point(0.0, FACE_CENTRE)
    head = _box(prob.shape, centre, max(HEAD_AXES) * g.d)
    if head is None:
        return None
    hx0, hy0, hx1, hy1 = head
    lab = cv2.cvtColor(image[hy0:hy1, hx0:hx1], cv2.COLOR_BGR2LAB).astype(np.float32)
    p = prob[hy0:hy1, hx0:hx1]
    skin = _skin_samples(lab, p, g, (hx0, hy0))
    if skin is None:
        return None
    # sure hair inside the head ellipse, about `HAIR_GRID` rows and columns per eye distance
    step = max(1, int(g.d / HAIR_GRID))
    u, v = _face_coords(g, centre, (hx0, hy0, hx1, hy1), step)
    sure = (_ellipse_weight(u, v, HEAD_AXES, 1e-3) > 0) & (p[::step, ::step] >= HAIR_PROB)
    hair = lab[::step, ::step][sure]
    if len(hair) < MIN_HAIR_SAMPLES:
        return None
    face = _box(prob.shape, centre, max(FACE_AXES) * (1.0 + FACE_SOFT) * g.d)
    if face is None:
        return None
    x0, y0, x1, y1 = face
    u, v = _face_coords(g, centre, face)
    region = _ellipse_weight(u, v, FACE_AXES, FACE_SOFT)
    llr = log_likelihood_ratio(lab[y0 - hy0 : y1 - hy0, x0 - hx0 : x1 - hx0], skin, hair)
    lo, hi = LLR_RAMP
    share: np.ndarray = np.clip((llr - lo) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
    if SHARE_BLUR > 0:
        share = cv2.blur(share, (2 * SHARE_BLUR + 1, 2 * SHARE_BLUR + 1))
    return face, (1.0 - region * share).astype(np.float32)


def _box(
    shape: tuple[int, ...], centre: np.ndarray, reach: float
) -> tuple[int, int, int, int] | None:
    """The square of half side ``reach`` around ``centre``, clipped to a map of ``shape``
    (h, w): (x0, y0, x1, y1), or None when less than 2x2 pixels of it are on the map."""
    h, w = shape
    x0, y0 = max(0, math.floor(centre[0] - reach)), max(0, math.floor(centre[1] - reach))
    x1, y1 = min(w, math.ceil(centre[0] + reach) + 1), min(h, math.ceil(centre[1] + reach) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def _face_coords(
    g: _Geometry, centre: np.ndarray, box: tuple[int, int, int, int], step: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(across, down) of the map pixels of ``box`` (every ``step``-th row and column), in eye
    distances from ``centre``: float32 each."""
    x0, y0, x1, y1 = box
    xs = (np.arange(x0, x1, step, dtype=np.float32) + 0.5 - centre[0]) / g.d
    ys = (np.arange(y0, y1, step, dtype=np.float32) + 0.5 - centre[1]) / g.d
    dx, dy = xs[None, :], ys[:, None]
    u = dx * np.float32(g.across[0]) + dy * np.float32(g.across[1])
    v = dx * np.float32(g.down[0]) + dy * np.float32(g.down[1])
    return u, v


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
    out = np.zeros(lab.shape[:2], np.float32)
    for samples, sign in ((hair, 0.5), (skin, -0.5)):
        mean, inv, logdet = _gaussian(samples)
        d = [lab[..., i] - np.float32(mean[i]) for i in range(3)]
        quad = np.full(lab.shape[:2], np.float32(logdet))
        for i in range(3):  # the quadratic form, its six distinct terms
            quad += np.float32(inv[i, i]) * d[i] * d[i]
            for j in range(i + 1, 3):
                quad += np.float32(2.0 * inv[i, j]) * d[i] * d[j]
        out += np.float32(sign) * quad
    return out


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
