"""People as data: each tracked person's square head region, hair mask and temporal state.

A face (from `core.faces`) anchors a *region*: a square of the frame big enough for the hair
above and beside the head and long hair down to the shoulders (`head_square`), grown to cover
that person's hair from the previous frame, and steadied with hysteresis (`steady`): a target
within a dead zone of the current square keeps it (no jitter), one outside replaces it at once
(no lag), and moved inside the frame where it fits (`inside`). The hair model sees each region
as one square crop (`crop_square`), padded where it still leaves the frame (never shifted),
at most 512x512 (downscaled by area, never upscaled from a downscaled image); `paste` puts the
result back into the frame-wide map.

Everything here is a pure function of its inputs; a `Person` is frozen and replaced whole."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from colorme_live.core.faces import Face

MODEL_INPUT = 512
"""The hair model's input side: crops larger than this are area-downscaled to it."""

HEAD_SIDE = 3.0
"""Side of a head region in face sizes (BlazeFace's box: brows to chin): about the framing of
a selfie, which the hair model was trained on. Hair beyond it (on the labelled photos 95% lies
within 1.6 face sizes beside, 1.8 above and 1.8 below the face centre) is covered by growing
the region to the person's hair mask. Measured on 12 photos x 2 backgrounds x 3 scales and the
shrunk clips: 4.0 face sizes lost 0.59 IoU on a long dark-haired clip (the model missed the
hair in the wider view); 3.0 without growth lost 0.08 at 100% (hair cut off at the sides)."""
HEAD_DROP = 0.2
"""The region's centre lies this many face sizes below the face's centre (hair falls down)."""
GROW_MARGIN = 0.1
"""Margin (a share of the region's side) kept between the previous hair mask and the edge."""
MAX_GROWTH = 1.75
"""A region grown to the hair is at most this many times the face's own square."""
CONFIRM_SEEN = 3
"""Frames a face must be seen before its region is held the full hold time through a loss
(see `Person.seen`); until then it is held `TENTATIVE_HOLD` frames."""
TENTATIVE_HOLD = 3
"""Frames an unconfirmed person is held when its face is lost (BlazeFace misses a small face
now and then; a person dropped at once fell back to whole frames)."""
NEW_FACE_SCORE = 0.5
"""Confidence a detection needs to start a new person. 0.7 was tried (false faces on a busy
dark background scored 0.55-0.60, a near face 0.87-0.97) but small real faces found in tiles
score as low, and framing IoU at 40% fell from 0.75 to 0.45-0.52."""
GROW_STEP = 0.35
"""Where the hair reaches a region's edge, the region is pushed out by this share of its side."""
EDGE_TOUCH = 0.02
"""Hair within this share of the side from an edge reaches it."""
DEAD_ZONE_MOVE = 0.08
"""A target square whose centre moved less than this share of the side keeps the current one."""
DEAD_ZONE_SIZE = 0.12
"""... and whose side changed by less than this share."""
REDETECT_FRAMES = 3
"""A confirmed face whose hair moves little is looked for again in its region at least every
this many analysed frames (in between, its box follows the hair); see `needs_look`."""
REDETECT_MOVE = 0.05
"""... and at once when its hair box's centre moved more than this many face sizes since the
previous analysed frame."""


@dataclass(frozen=True, slots=True)
class Square:
    """A square of the frame: top-left corner and side, in frame pixels (may leave the frame)."""

    x: float
    y: float
    side: float

    @property
    def cx(self) -> float:
        return self.x + self.side / 2

    @property
    def cy(self) -> float:
        return self.y + self.side / 2

    @staticmethod
    def around(cx: float, cy: float, side: float) -> Square:
        return Square(cx - side / 2, cy - side / 2, side)

    def pixels(self) -> tuple[int, int, int]:
        """(x, y, side) rounded to whole pixels (side >= 1)."""
        return round(self.x), round(self.y), max(1, round(self.side))

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.side and self.y <= py < self.y + self.side


def head_square(face: Face) -> Square:
    """The head region of one face (see `HEAD_SIDE`, `HEAD_DROP`)."""
    s = face.size
    return Square.around(face.cx, face.cy + HEAD_DROP * s, HEAD_SIDE * s)


def grow_to(
    square: Square,
    hair: tuple[float, float, float, float] | None,
    cap: float,
    current: Square | None = None,
) -> Square:
    """The smallest square containing ``square`` and the box ``hair`` = (x0, y0, x1, y1)
    plus `GROW_MARGIN`, with side at most ``cap`` (then centred between the two). Where the
    hair reaches an edge of ``current`` (the square it was segmented in), it may go on beyond
    it: that side is pushed out by `GROW_STEP` of the side."""
    if hair is None:
        return square
    x0, y0, x1, y1 = hair
    m = GROW_MARGIN * square.side
    lo_x, lo_y = min(square.x, x0 - m), min(square.y, y0 - m)
    hi_x = max(square.x + square.side, x1 + m)
    hi_y = max(square.y + square.side, y1 + m)
    if current is not None:
        touch = EDGE_TOUCH * current.side
        step = GROW_STEP * current.side
        if x0 <= current.x + touch:
            lo_x = min(lo_x, current.x - step)
        if y0 <= current.y + touch:
            lo_y = min(lo_y, current.y - step)
        if x1 >= current.x + current.side - touch:
            hi_x = max(hi_x, current.x + current.side + step)
        if y1 >= current.y + current.side - touch:
            hi_y = max(hi_y, current.y + current.side + step)
    side = min(max(hi_x - lo_x, hi_y - lo_y), cap)
    if side <= square.side:
        return square
    return Square.around((lo_x + hi_x) / 2, (lo_y + hi_y) / 2, side)


def steady(current: Square | None, target: Square) -> Square:
    """Hysteresis: ``current`` while ``target`` is within the dead zone, else ``target``."""
    if current is None:
        return target
    moved = np.hypot(target.cx - current.cx, target.cy - current.cy) / current.side
    resized = abs(target.side - current.side) / current.side
    if moved < DEAD_ZONE_MOVE and resized < DEAD_ZONE_SIZE:
        return current
    return target


def inside(square: Square, frame_size: tuple[int, int]) -> Square:
    """``square`` moved, along each axis where it fits in the frame of ``frame_size`` (w, h),
    just far enough to lie inside it; along an axis where it does not fit, unchanged.

    A head near the frame's edge (a small person at the bottom of a wide frame) left part of
    its region off the frame, which the hair model saw as a black band beside the hair and
    lost the hair there (long hair at the bottom of the picture: the shrunk long-hair clip's
    IoU against the raw model 0.846 -> 0.894). Moved inside, the region shows more of the
    frame around the head instead. Padding with the frame's repeated edge pixels instead
    was tried: a shirt's bottom row, repeated, became vertical streaks the model called
    hair (framing stills at 40% lost 0.010-0.013 IoU); mirrored padding lost too."""
    fw, fh = frame_size
    x, y, side = square.x, square.y, square.side
    if side <= fw:
        x = min(max(x, 0.0), fw - side)
    if side <= fh:
        y = min(max(y, 0.0), fh - side)
    return Square(x, y, side)


def crop_square(frame: np.ndarray, square: Square) -> np.ndarray:
    """The square of ``frame`` (uint8 BGR), zero-padded where it leaves the frame, at its own
    resolution or area-downscaled to `MODEL_INPUT` if larger: uint8 (n, n, 3) C-contiguous."""
    fh, fw = frame.shape[:2]
    x, y, side = square.pixels()
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + side), min(fh, y + side)
    out: np.ndarray = np.zeros((side, side, 3), np.uint8)
    if x1 > x0 and y1 > y0:
        out[y0 - y : y1 - y, x0 - x : x1 - x] = frame[y0:y1, x0:x1]
    if side > MODEL_INPUT:
        out = cv2.resize(out, (MODEL_INPUT, MODEL_INPUT), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out)


def map_rect(square: Square, scale: float, map_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The part of the frame-wide map (w, h) = ``map_size`` under ``square`` (frame pixels,
    one map pixel = 1/scale frame pixels... i.e. map = frame * scale): (x0, y0, x1, y1),
    clipped; empty when x1 <= x0 or y1 <= y0."""
    mw, mh = map_size
    x0 = int(np.floor(square.x * scale))
    y0 = int(np.floor(square.y * scale))
    x1 = int(np.ceil((square.x + square.side) * scale))
    y1 = int(np.ceil((square.y + square.side) * scale))
    return max(0, x0), max(0, y0), min(mw, x1), min(mh, y1)


def paste(
    prob: np.ndarray, square: Square, scale: float, map_size: tuple[int, int]
) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The crop's probability ``prob`` (n, n) resampled into the map under ``square``: the
    clipped rectangle (x0, y0, x1, y1) of `map_rect` and float32 values for it. Each map pixel
    samples the crop at its centre (bilinear), so no shift between crop and map."""
    x0, y0, x1, y1 = map_rect(square, scale, map_size)
    if x1 <= x0 or y1 <= y0:
        return (x0, y0, x0, y0), np.zeros((0, 0), np.float32)
    n = prob.shape[0]
    k = n / (square.side * scale)  # crop pixels per map pixel
    xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5) - square.x * scale) * k - 0.5
    ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5) - square.y * scale) * k - 0.5
    map_x = np.broadcast_to(xs[None, :], (y1 - y0, x1 - x0)).astype(np.float32)
    map_y = np.broadcast_to(ys[:, None], (y1 - y0, x1 - x0)).astype(np.float32)
    src = prob if k <= 1.0 else _area_down(prob, k)
    if src is not prob:
        f = src.shape[0] / n
        map_x = (map_x + 0.5) * f - 0.5
        map_y = (map_y + 0.5) * f - 0.5
    vals = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return (x0, y0, x1, y1), vals.astype(np.float32, copy=False)


def _area_down(prob: np.ndarray, k: float) -> np.ndarray:
    """``prob`` area-averaged by ``k`` (> 1) before sampling, so a big crop on a small map
    is not aliased."""
    n = max(1, round(prob.shape[0] / k))
    return cv2.resize(prob, (n, n), interpolation=cv2.INTER_AREA)


def hair_box(
    prob: np.ndarray, rect: tuple[int, int, int, int], scale: float, threshold: float = 0.5
) -> tuple[float, float, float, float] | None:
    """Bounding box (x0, y0, x1, y1), in frame pixels, of ``prob > threshold`` where ``prob``
    holds the map values of ``rect``; None when there is no hair. The first and last rows
    and columns with any hair (`np.nonzero` listed every hair pixel: 0.8 ms on a 640x360 map,
    against 0.04 ms)."""
    hair = prob > threshold
    cols: np.ndarray = np.any(hair, axis=0)
    if not cols.any():
        return None
    rows: np.ndarray = np.any(hair, axis=1)
    h, w = hair.shape
    x0, y0 = rect[0], rect[1]
    return (
        (x0 + int(cols.argmax())) / scale,
        (y0 + int(rows.argmax())) / scale,
        (x0 + w - int(cols[::-1].argmax())) / scale,
        (y0 + h - int(rows[::-1].argmax())) / scale,
    )


HAIR_THRESHOLD = 0.5
"""Probability above which a map pixel counts as hair (`hair_box`, `hair_blobs`)."""
BLOB_MIN_SHARE = 0.005
"""`hair_blobs` ignores blobs smaller than this share of the map: less than a head of hair a
tenth of the frame's height (worth no model call of its own)."""


@dataclass(frozen=True, slots=True)
class Blob:
    """One connected patch of hair on a frame-wide map (`hair_blobs`)."""

    square: Square
    """A square around it in frame pixels: its bounding box's longer side plus `GROW_MARGIN`
    on each side, centred on the box."""
    mask: np.ndarray
    """bool (h, w) like the map: the patch's pixels."""
    mass: float
    """Sum of the probability over the patch (map pixels)."""


def hair_blobs(prob: np.ndarray, scale: float) -> list[Blob]:
    """The patches of hair (``prob > HAIR_THRESHOLD``, gaps of one map pixel closed) of a
    frame-wide map (one map pixel = 1/``scale`` frame pixels), heaviest first, each at least
    `BLOB_MIN_SHARE` of the map."""
    hair = (prob > HAIR_THRESHOLD).astype(np.uint8)
    closed = cv2.morphologyEx(hair, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    blobs = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < BLOB_MIN_SHARE * prob.size:
            continue
        mask = labels == i
        side = max(w, h) * (1 + 2 * GROW_MARGIN) / scale
        square = Square.around((x + w / 2) / scale, (y + h / 2) / scale, side)
        blobs.append(Blob(square, mask, float(prob[mask].sum())))
    return sorted(blobs, key=lambda b: -b.mass)


@dataclass(frozen=True, slots=True)
class Person:
    """One tracked person, carried from frame to frame (replaced whole, never mutated).

    ``prob`` is this person's smoothed hair probability over the whole map (zero outside its
    region), float32 (h, w) at the map's resolution: the person's own temporal state."""

    id: int
    square: Square
    face: Face | None
    """The face seen in the newest analysed frame; None while it is lost."""
    anchor: Face
    """The last face seen (its size caps how far the region may grow)."""
    lost: int
    """Analysed frames since the face was last seen."""
    prob: np.ndarray | None
    hair: tuple[float, float, float, float] | None
    """Bounding box of ``prob > 0.5`` in frame pixels (None: no hair)."""
    segmented_at: int
    """Index of the frame this person's region was last segmented (-1: never)."""
    seen: int = 1
    """Analysed frames in which the face was found. A person seen fewer than `CONFIRM_SEEN`
    times is held only `TENTATIVE_HOLD` frames when the face is lost."""
    unlooked: int = 0
    """Analysed frames since the region was last searched for the face (see `needs_look`)."""
    hair_value: float | None = None
    """This person's hair brightness (``recolor.hair_value`` over their own hair, smoothed
    over time like the frame's); None until first measured."""

    def with_(self, **changes: object) -> Person:
        return replace(self, **changes)  # type: ignore[arg-type]


def region_for(
    anchor: Face,
    hair: tuple[float, float, float, float] | None,
    current: Square | None = None,
    frame_size: tuple[int, int] | None = None,
) -> Square:
    """The head square of ``anchor``, grown to ``hair`` (capped at `MAX_GROWTH`); see
    `grow_to` for ``current``. With ``frame_size`` (w, h), moved `inside` the frame."""
    base = head_square(anchor)
    square = grow_to(base, hair, MAX_GROWTH * base.side, current)
    if frame_size is not None:
        square = inside(square, frame_size)
    return square


def hair_shift(
    old: tuple[float, float, float, float], new: tuple[float, float, float, float]
) -> tuple[float, float]:
    """How far the centre of hair box ``old`` moved to ``new`` (dx, dy), in frame pixels."""
    return (new[0] + new[2] - old[0] - old[2]) / 2, (new[1] + new[3] - old[1] - old[3]) / 2


def follow_hair(
    anchor: Face,
    old: tuple[float, float, float, float] | None,
    new: tuple[float, float, float, float] | None,
) -> Face:
    """``anchor`` moved as the person's hair box moved from ``old`` to ``new`` (unchanged
    when either is None): where a face not seen in this frame is taken to be."""
    if old is None or new is None:
        return anchor
    return anchor.shifted(*hair_shift(old, new))


def needs_look(person: Person, hair: tuple[float, float, float, float] | None) -> bool:
    """Whether ``person``'s region is searched for the face in this frame, where ``hair`` is
    the box of the person's hair carried onto it by motion compensation. Yes while the face is
    lost or not yet confirmed (`CONFIRM_SEEN`), without hair to follow, every
    `REDETECT_FRAMES` frames, and when the hair moved more than `REDETECT_MOVE` face sizes;
    otherwise the face is taken to have moved with its hair (`follow_hair`)."""
    if person.lost or person.seen < CONFIRM_SEEN or person.unlooked + 1 >= REDETECT_FRAMES:
        return True
    if hair is None or person.hair is None:
        return True
    dx, dy = hair_shift(person.hair, hair)
    return float(np.hypot(dx, dy)) > REDETECT_MOVE * person.anchor.size


def match_faces(people: list[Person], faces: list[Face]) -> tuple[dict[int, Face], list[Face]]:
    """Which face belongs to which person (by person id), greedily by distance: a face
    matches a person when its centre lies within one anchor face size of the person's last
    face and its size is within 0.5-2x. Returns the matches and the faces left over."""
    pairs = []
    for p in people:
        a = p.anchor
        for j, f in enumerate(faces):
            d = float(np.hypot(f.cx - a.cx, f.cy - a.cy))
            if d < a.size and 0.5 < f.size / a.size < 2.0:
                pairs.append((d, p.id, j))
    matched: dict[int, Face] = {}
    used: set[int] = set()
    for _, pid, j in sorted(pairs):
        if pid not in matched and j not in used:
            matched[pid] = faces[j]
            used.add(j)
    return matched, [f for j, f in enumerate(faces) if j not in used]
