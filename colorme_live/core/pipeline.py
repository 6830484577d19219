"""The synchronous pipeline: frame -> segmentation -> temporal smoothing -> edge refinement ->
recolour. Deterministic, no threads; the live app runs the same two halves on its workers:

* ``Pipeline.analyse`` (segmentation + smoothing, at the segmentation resolution) runs on the
  segmentation worker for the newest frame;
* ``composite`` (refinement + recolour, at the frame's resolution) runs for *every* displayed
  frame with the newest analysed mask, so the display keeps the source frame rate.

``Pipeline.step`` is both halves on one frame: what ``mask``/``render`` and most tests use."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from colorme_live.core.faces import Face, FaceDetector, merge_faces, tiles
from colorme_live.core.frames import check_bgr
from colorme_live.core.fused import refine_recolor
from colorme_live.core.memory import keep_frame_buffers
from colorme_live.core.ombre import FaceBox, mix, root_to_tip, tip_weight
from colorme_live.core.recolor import DEFAULT_HAIR_VALUE, Look, hair_value, make_look
from colorme_live.core.refine import COEFF_BAND, coefficients, luma, small_luma
from colorme_live.core.regions import (
    CONFIRM_SEEN,
    GROW_MARGIN,
    HAIR_THRESHOLD,
    MAX_GROWTH,
    MODEL_INPUT,
    NEW_FACE_SCORE,
    TENTATIVE_HOLD,
    Blob,
    Person,
    Square,
    crop_square,
    follow_hair,
    grow_to,
    hair_blobs,
    hair_box,
    head_square,
    map_rect,
    match_faces,
    needs_look,
    paste,
    region_for,
    steady,
)
from colorme_live.core.segmentation import HairSegmenter, segmentation_size
from colorme_live.core.settings import Settings, View
from colorme_live.core.skin import skin_keep
from colorme_live.core.temporal import (
    TemporalState,
    blend,
    flow_maps,
    is_scene_cut,
    mismatch_map,
    smooth,
    warp,
)

log = logging.getLogger(__name__)


class Stage(StrEnum):
    """The names of the per-frame stage timings (milliseconds) in ``timings_ms``: what the
    pipeline and the live engine report, and what the window and ``bench`` read."""

    RESIZE = "resize"
    FACES = "faces"
    REGIONS = "regions"
    SEGMENT = "segment"
    SKIN = "skin"
    """The skin guard (``core.skin``) on the model's probability."""
    SMOOTH = "smooth"
    PREPARE = "prepare"
    """The low-resolution half of compositing (guided-filter coefficients, recolour look)."""
    FUSED = "fused"
    """Refinement and recolour at full resolution, in one pass."""
    COMPOSITE = "composite"
    """``PREPARE`` and ``FUSED`` together."""
    TOTAL = "total"


SELFIE_COVER = 0.4
"""When one person's head region (clipped to the frame) covers at least this share of it, the
frame is framed like a selfie (a webcam at arm's length, a portrait photo) and is segmented
whole, as before faces were used: on the labelled photos that beats crops of them (tight
photos cut hair at their edges; the back of a head next to a face has no face of its own).
A head at 60% of a 720p frame's height covers about a third of it, at 40% about a seventh.
It is measured per person, not summed over people: two people sitting back side by side
(bench's ``live_two_faces``) cover about a fifth each, 0.40-0.42 together, and a sum sent
most of their frames to the whole-frame path, each time dropping both people's masks.
Stills and cold starts use it as it is; video switches with hysteresis (`SELFIE_ENTER`,
`SELFIE_LEAVE`)."""

SELFIE_ENTER = 0.44
"""In video, a frame not framed like a selfie before becomes one when a head region covers at
least this share (`SELFIE_COVER` plus a tenth of it)..."""

SELFIE_LEAVE = 0.36
"""...and a selfie framing ends only below this share (`SELFIE_COVER` less a tenth). Each
switch changes where the mask comes from (the whole frame at the map's resolution, or crops
of the head), so a head leaning in and out at about 40% at a webcam made the mask pop frame
after frame. Coverage is an area: a tenth of it either way is about 5% of the head's size
(its square root), a lean of about 5% of the distance to the camera: small against a
deliberate move in or out, and 2-3 times the face detector's jitter (the three portraits
test_faces uses, their heads at about 40% of a 640x480 frame shifted by up to 3 px with sensor
noise: standard deviation 0.014-0.024 of coverage over 12 frames, peak to peak up to 0.09, a
little over the band's 0.08, so a still head can switch, rarely)."""


SURE_FACE_SCORE = 0.7
"""A face this confident is sure (being seen again does not make a face sure: a false face
on a busy background was re-detected for frames on end). A still (or a source's
first frame) with no sure face is segmented whole: on the labelled photos the only faces left
outside selfie framing were weak ones (0.52-0.69) on hair close-ups, where a region lost up to
0.7 IoU. Only sure faces make a frame count as a selfie (a false face on a busy background
scored 0.55-0.60). Measured cost: small faces that only tiles find score as low, so a still
at 40% of a 720p frame's height is often segmented whole; video confirms them in 3 frames."""


def _framed_as_selfie(cover: float, before: bool | None) -> bool:
    """Whether a frame whose biggest sure head region covers ``cover`` of it is framed like a
    selfie, given the judgement on the frame before (None: none, a still or a cold start)."""
    if before is None:
        return cover >= SELFIE_COVER
    return cover >= (SELFIE_LEAVE if before else SELFIE_ENTER)


def _waiting(person: Person) -> bool:
    """Whether a tracked person's region waits to be segmented: their face is weak (under
    `SURE_FACE_SCORE`, not raised by `FaceDetector.confirm`) and was seen in fewer than
    `CONFIRM_SEEN` analysed frames. BlazeFace finds weak false faces on busy backgrounds now
    and then, for a frame, as the newcomer search passes their tile; segmented at once, the
    hair model painted the background in their region (on the dark roof a twentieth of the
    region, 1.3% of the frame: the shrunk selfie clip's IoU fell from 0.92 to 0.38 in those
    frames). A real weak face,
    looked for in its region on every frame meanwhile, is confirmed two frames later. A still
    has no later frame: there a weak face beside a sure one is segmented at once."""
    return person.seen < CONFIRM_SEEN and person.anchor.score < SURE_FACE_SCORE


def _coverage(square: Square, w: int, h: int) -> float:
    """Share of a (w, h) frame covered by ``square`` (clipped to the frame)."""
    cw = max(0.0, min(w, square.x + square.side) - max(0.0, square.x))
    ch = max(0.0, min(h, square.y + square.side) - max(0.0, square.y))
    return cw * ch / (w * h)


ZOOM_CONFIRM = 0.75
"""The hair zoom (`Pipeline._zoom`) keeps a blob when the model, looking at its square at
native resolution, gives the blob's pixels at least this mean probability: a closer look
agrees most of it is hair. On the dark roof, where the whole 16:9 frame shows steel as hair,
the closer look gave the roof's blobs 0.42-0.72 and hair close-ups placed at 40% of the frame
0.83-0.96 (one 0.48, kept whole as before); a weak face's head region on a curly close-up at
40% of the plain frame 0.79. The two overlap at the edges and small changes move them: with
the map image made from the frame instead of the fine input, a roof blob rose 0.68 -> 0.75,
and 0.8 instead lost that curly close-up (IoU 0.85 -> 0.15). A bar, not a proof: measured
on one busy background."""


GROW_PASSES = 1
"""How many times a new person's region may grow to its own hair and be segmented again within
the first frame (a still has no previous frame to grow to). Pushing the region out further
where the hair reaches its edge (`regions.grow_to`'s ``current``) was tried: on a busy dark
background it grew regions over the background and raised false hair on two shrunk clips to
0.3-0.8% of the frame, so a new region grows only to the hair it sees, plus a margin."""

CROP_HISTORY = 30
"""The live budget (``Pipeline``'s ``budget_ms``) divides by the fastest crop of the last this
many analyses: the model's own cost. A crop slowed down by other work on a busy machine sent
two people back to taking turns, each then getting fewer model runs a second, not more."""

HAIR_VALUE_HISTORY = 0.8
"""Exponential smoothing of the hair's mean brightness across frames (weight of the past), so
the recoloured brightness does not pump when the mask's edge flickers."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """The newest smoothed hair probability and what the compositor needs with it."""

    index: int
    """Index of the frame it was computed from."""
    prob: np.ndarray
    """Smoothed hair probability, float32 (h, w) at the segmentation resolution."""
    raw_prob: np.ndarray
    """The model's probability for that frame, before smoothing."""
    hair_value: float
    """Mean shading level (0..1, ``recolor.hair_value``) of the hair, smoothed over time."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    regions: tuple[Region, ...] = ()
    """The people's regions (empty: the whole frame was segmented, no face anchored it)."""
    frame_size: tuple[int, int] | None = None
    """(w, h) of the analysed frame (None: unknown): the maps cover exactly this frame."""
    faces: tuple[Face, ...] = ()
    """The people's faces seen in the analysed frame (in its pixels, with keypoints), also
    when the whole frame was segmented (their skin was guarded, see `guard_skin`)."""
    owner: np.ndarray | None = None
    """With two or more regions: uint8 (h, w) like ``prob``, the index in ``regions`` of the
    person whose hair each pixel is (the highest smoothed probability), so each is recoloured
    with their own hair brightness; None otherwise."""


@dataclass(frozen=True, slots=True)
class Region:
    """One person's region in an `Analysis`: what the window outlines and bench counts."""

    id: int
    square: Square
    """The square handed to the hair model, in frame pixels (may leave the frame)."""
    face: Face | None
    """The face seen in this frame; None while it is lost (the region is held)."""
    segmented: bool
    """The hair model saw this region in this frame (False: carried by motion compensation)."""
    hair_value: float | None = None
    """This person's own hair brightness (``Analysis.hair_value`` over their hair only);
    None: the analysis's."""


@dataclass(frozen=True, slots=True)
class PipelineState:
    """Everything carried from one frame to the next. ``None`` in its place is a cold start."""

    next_index: int
    temporal: TemporalState | None
    """The whole-frame (no face) path's smoothing state; None while people are tracked."""
    hair_value: float
    frame_size: tuple[int, int]
    people: tuple[Person, ...] = ()
    """The tracked people, each with its own region, mask and temporal state."""
    luma: np.ndarray | None = None
    """Luma of the previous frame at the map's resolution (for the people's motion
    compensation); None on the whole-frame path."""
    next_id: int = 0
    search: int = 0
    """Position in the cycle of face searches (whole frame, then each tile)."""
    passes: tuple[np.ndarray, ...] = ()
    """The whole-frame path's probability of each pass (fine, coarse) at the map's resolution,
    for the next frame to carry when the passes take turns; empty while people are tracked."""
    selfie: bool | None = None
    """Whether the last frame with a sure face was framed like a selfie (`SELFIE_ENTER`,
    `SELFIE_LEAVE`); None while nobody sure has been seen since the cold start."""


@dataclass(frozen=True, slots=True)
class Composite:
    image: np.ndarray
    """The recoloured frame, uint8 (H, W, 3) BGR."""
    alpha: np.ndarray | None
    """The final hair alpha, float32 (H, W) in 0..1; None if ``composite`` was asked not to
    keep it (``keep_alpha=False``: only the mask view needs it)."""
    timings_ms: dict[str, float]


@dataclass(frozen=True, slots=True)
class Prepared:
    """The low-resolution half of compositing: everything a renderer (the Numba kernels or
    the GLSL shaders) needs besides the full-resolution frame."""

    coeffs: np.ndarray
    """Guided-filter coefficients and band, float32 (h, w, 3) (see ``refine.coefficients``)."""
    look: Look
    """Per-frame recolour constants (the root colour's in ombré)."""
    timings_ms: dict[str, float]
    tip_look: Look | None = None
    """Ombré only: the tip colour's constants."""
    tip_weight: np.ndarray | None = None
    """Ombré only: the tip colour's share, float32 (h, w) at the coefficients' resolution."""
    people: tuple[PersonLook, ...] = ()
    """Two or more people: each one's recolour constants from their own hair brightness, in
    the order of ``Analysis.regions``. The CPU composite and the GL shaders recolour each
    person's hair with their own (``look``, from everyone's hair together, is then unused)."""
    owner: np.ndarray | None = None
    """With ``people``: uint8 (h, w) at the coefficients' resolution, the index in ``people``
    of whose hair each pixel is (``Analysis.owner``)."""


@dataclass(frozen=True, slots=True)
class PersonLook:
    """One person's recolour constants in `Prepared.people` (where they apply:
    `Prepared.owner`)."""

    look: Look
    tip_look: Look | None
    """Ombré only: the tip colour's constants for this person's hair."""


@dataclass(frozen=True, slots=True)
class FrameResult:
    """One frame through the whole pipeline."""

    image: np.ndarray
    alpha: np.ndarray
    index: int
    analysis: Analysis
    timings_ms: dict[str, float]
    """Milliseconds per stage: resize, segment, smooth, prepare, fused, composite, total."""


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1e3


def _resize_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (uint8 BGR) area-averaged to ``size`` = (w, h), each side at most its own."""
    h, w = image.shape[:2]
    if size == (w, h):
        return image
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small.reshape(size[1], size[0], 3)


COARSE_WIDEST = 16 / 10
"""Width over height above which a whole frame framed like a selfie (a sure face close up)
has no coarse pass. The coarse pass is a low-pass view for box braids and locks filling a
near-square or portrait picture (the photos it was found on); MediaPipe stretches every
image to its square input, so in a selfie frame much wider than tall the fine pass already
sees the head shrunk across (2.5x at 1280x720) and the coarse view (256x144 for 16:9,
stretched 3.6x up and down) lowered the raw model's IoU (issue 9). A smaller head in a wide
frame keeps it: there the coarse pass is what finds braids and locks at all (the hair zoom
then looks closer)."""


def whole_frame_passes(
    frame_size: tuple[int, int], settings: Settings, *, selfie: bool = False
) -> int:
    """How many passes the whole frame of ``frame_size`` = (w, h) is segmented in: the fine
    one, and the coarse one with ``coarse_size`` unless the frame is no longer than that (it
    would be the fine one again) or is a ``selfie`` (a frame framed like one) wider than
    `COARSE_WIDEST` (see there)."""
    w, h = frame_size
    coarse = settings.coarse_size
    if coarse is None or max(w, h) <= coarse or (selfie and w > COARSE_WIDEST * h):
        return 1
    return 2


def whole_frame_images(
    frame: np.ndarray, settings: Settings, *, selfie: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The whole-frame path's map image (``segment_size`` on the long side, aspect kept) and
    what the model sees in each pass (`whole_frame_passes`), all area-averaged, never
    upscaled: the fine pass, each side of the frame scaled to at most the model's own input
    side (`MODEL_INPUT`: MediaPipe stretches any image to its 512x512, so the frame goes
    straight to that shape and nothing reaches it upscaled from a downscaled image), then the
    coarse pass: the frame at ``coarse_size`` on the long side, aspect kept, which MediaPipe
    stretches up (a low-pass view). The map and the coarse image are made from the fine one
    where it is large enough, and are the same image when they have the same size. Making
    them from the frame instead (so that, live, the fine input is made only on its own turns:
    about 2 ms of an analysis every other frame) was tried and not kept: the photos' IoU fell
    0.8098 -> 0.8091, braids 0.8269 -> 0.8219 (the coarse pass, for braids, sees a sharper
    image)."""
    h, w = frame.shape[:2]
    fine = _resize_to(frame, (min(w, MODEL_INPUT), min(h, MODEL_INPUT)))
    map_size = segmentation_size((w, h), settings.segment_size)
    fits = map_size[0] <= fine.shape[1] and map_size[1] <= fine.shape[0]
    small = _resize_to(fine if fits else frame, map_size)
    inputs = [fine]
    coarse = settings.coarse_size
    if coarse is not None and whole_frame_passes((w, h), settings, selfie=selfie) == 2:
        size = segmentation_size((w, h), coarse)
        inputs.append(small if small.shape[1::-1] == size else _resize_to(fine, size))
    return small, inputs


def _to_map(prob: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A pass's probability resampled to the map's ``size`` = (w, h): area-averaged where it
    is at least as large on both sides, else bilinear."""
    h, w = prob.shape
    if (w, h) == size:
        return prob
    down = w >= size[0] and h >= size[1]
    interp = cv2.INTER_AREA if down else cv2.INTER_LINEAR
    return cv2.resize(prob, size, interpolation=interp)


def _owners(people: list[Person], scale: float, map_size: tuple[int, int]) -> np.ndarray:
    """uint8 map: the index in ``people`` of the one with the highest probability at each
    pixel (0 where nobody has any). Each person's probability is zero outside their region,
    so only regions are compared."""
    first = people[0].prob
    if first is None:
        raise ValueError("every person needs a probability map here")
    owner = np.zeros(first.shape, np.uint8)
    best = first.copy()
    for i, p in enumerate(people[1:], start=1):
        x0, y0, x1, y1 = map_rect(p.square, scale, map_size)
        if p.prob is None or x1 <= x0 or y1 <= y0:
            continue
        mine, top = p.prob[y0:y1, x0:x1], best[y0:y1, x0:x1]
        owner[y0:y1, x0:x1][mine > top] = i
        np.maximum(top, mine, out=top)
    return owner


def _to_whole(state: PipelineState, size: tuple[int, int]) -> TemporalState | None:
    """The people path's last maps as the whole-frame path's smoothing history, at its map's
    ``size`` = (w, h), so a switch to the whole frame (a lean in to a selfie) blends with the
    mask shown last instead of starting again; None when there is nothing to carry."""
    probs = [p.prob for p in state.people if p.prob is not None]
    if state.temporal is not None or state.luma is None or not probs:
        return None
    prob = _to_map(np.maximum.reduce(probs) if len(probs) > 1 else probs[0], size)
    return TemporalState(prob=prob, luma=_to_map(state.luma, size))


def _to_people(
    state: PipelineState, scale: float, size: tuple[int, int]
) -> tuple[list[Person], np.ndarray | None]:
    """The whole-frame path's last map as the carried people's history on the people path's
    map of ``size`` = (w, h) (each one's inside their own region only, as a region's would
    be), and its luma there; the people as they were and None when there is nothing to
    carry (a switch back from a selfie framing blends with the mask shown last)."""
    people = list(state.people)
    t = state.temporal
    if t is None or t.luma is None or not people or any(p.prob is not None for p in people):
        return people, None
    whole = _to_map(t.prob, size)
    seeded = []
    for p in people:
        x0, y0, x1, y1 = map_rect(p.square, scale, size)
        mine = np.zeros_like(whole)
        mine[y0:y1, x0:x1] = whole[y0:y1, x0:x1]
        seeded.append(p.with_(prob=mine))
    return seeded, _to_map(t.luma, size)


class Pipeline:
    """Owns a ``HairSegmenter`` and, optionally, a ``FaceDetector`` that anchors it to the
    people in the frame (without one every frame is segmented whole, stretched to the
    model's input); ``close()`` (or ``with``) releases both.

    A whole frame (no face, or a selfie) is segmented in two passes (`whole_frame_images`)
    fused by the per-pixel maximum, as DeepLab fuses scales: at its native resolution the
    model misses box braids and locks (their sharp, regular strands are not hair to it) that
    it finds in the coarse pass, where they are a smooth mass; the fine pass gives the edges
    and everything else.

    ``budget_ms`` (live use): when segmenting every region would take longer than this
    (estimated from the fastest recent crop, `CROP_HISTORY`), the regions take turns, the
    others carried by motion compensation; a whole frame's two passes always take turns live
    (one model call an analysis, as with one pass). None (batch, eval) segments all of them
    every frame."""

    def __init__(
        self,
        segmenter: HairSegmenter,
        faces: FaceDetector | None = None,
        *,
        budget_ms: float | None = None,
    ) -> None:
        self.segmenter = segmenter
        self.faces = faces
        self.budget_ms = budget_ms
        self._crop_ms: deque[float] = deque(maxlen=CROP_HISTORY)
        """Milliseconds per crop (model and skin guard) of the last analyses with people."""
        keep_frame_buffers()  # every composite allocates frame-sized arrays (core.memory)

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.segmenter.close()
        if self.faces is not None:
            self.faces.close()

    def analyse(
        self, frame: np.ndarray, settings: Settings, state: PipelineState | None
    ) -> tuple[Analysis, PipelineState]:
        """Segment and smooth ``frame`` (uint8 (H, W, 3) BGR). ``state=None`` is a cold start."""
        check_bgr(frame)
        timings: dict[str, float] = {}
        h, w = frame.shape[:2]
        if state is not None and state.frame_size != (w, h):
            state = None  # a new resolution is a new source
        search = 0 if state is None else state.search
        carried: tuple[Person, ...] = ()
        next_id = 0 if state is None else state.next_id
        selfie: bool | None = None
        if self.faces is not None:
            people, search, carried, next_id, selfie = self._analyse_people(
                frame, settings, state, timings
            )
            if people is not None:
                return people
        index = 0 if state is None else state.next_index
        small, guide, raw, passes, maps = self._segment_whole(
            frame, settings, state, index, timings, selfie=selfie is True
        )
        # The hair zoom on stills only (and a video's first frame): it decides afresh on every
        # frame, so in a video its choice flipped on sensor noise alone (a faceless close-up
        # at 40% of a still frame, 12 noisy copies: a tenth of the frame painted on and off),
        # and live it costs a model call per blob. Video is segmented whole, as live.
        if self.faces is not None and self.budget_ms is None and state is None and not selfie:
            t0 = time.perf_counter()
            weak = [p.anchor for p in carried]
            raw = self._zoom(frame, raw, settings.regions.max_people, weak)
            timings[Stage.SEGMENT] = timings.get(Stage.SEGMENT, 0.0) + _ms(t0)
        t0 = time.perf_counter()
        seen = tuple(p.face for p in carried if p.face is not None)
        guarded = guard_skin(small, raw, seen, (w, h), settings)
        timings[Stage.SKIN] = _ms(t0)

        t0 = time.perf_counter()
        prev_t = None if state is None else state.temporal
        if prev_t is None and state is not None:
            prev_t = _to_whole(state, guide.shape[::-1])  # from the people path
        if prev_t is None:
            state = None  # nothing to carry: its hair brightness restarts too
        prob, temporal = smooth(guarded, prev_t, settings.temporal, luma=guide, maps=maps)
        value = hair_value(small, prob)
        if state is not None and not temporal.restarted:
            value = HAIR_VALUE_HISTORY * state.hair_value + (1 - HAIR_VALUE_HISTORY) * value
        timings[Stage.SMOOTH] = _ms(t0)

        analysis = Analysis(index, prob, raw, value, timings, frame_size=(w, h), faces=seen)
        return analysis, PipelineState(
            index + 1, temporal, value, (w, h), carried, None, next_id, search, passes, selfie
        )

    def _segment_whole(
        self,
        frame: np.ndarray,
        settings: Settings,
        state: PipelineState | None,
        index: int,
        timings: dict[str, float],
        *,
        selfie: bool = False,
    ) -> tuple[
        np.ndarray,
        np.ndarray,
        np.ndarray,
        tuple[np.ndarray, ...],
        tuple[np.ndarray, np.ndarray] | None,
    ]:
        """The whole frame at the map's resolution, its luma, the fused hair probability,
        each pass's probability (what the next frame carries when the passes take turns) and
        the optical flow to the previous frame when it was needed to carry a pass (None
        otherwise), which the smoothing then reuses."""
        t0 = time.perf_counter()
        small, inputs = whole_frame_images(frame, settings, selfie=selfie)
        guide = luma(small)
        timings[Stage.RESIZE] = _ms(t0)
        count = len(inputs)
        mh, mw = guide.shape
        prev_luma = None if state is None or state.temporal is None else state.temporal.luma
        carry: tuple[np.ndarray, ...] = ()
        if (
            state is not None
            and prev_luma is not None
            and prev_luma.shape == guide.shape
            and len(state.passes) == count
            and not is_scene_cut(guide, prev_luma, settings.temporal)
        ):
            carry = state.passes
        # Live, the passes take turns (one model call an analysis, as with one pass: the
        # segmentation rate is kept), the other carried by motion compensation.
        turns = bool(carry) and self.budget_ms is not None
        chosen = {index % count} if turns else set(range(count))
        t0 = time.perf_counter()
        maps = None
        if len(chosen) < count and prev_luma is not None:
            maps = flow_maps(guide, prev_luma)
        probs: list[np.ndarray] = []
        for i in range(count):
            if i in chosen:
                probs.append(_to_map(self.segmenter.segment(inputs[i]).prob, (mw, mh)))
            else:
                probs.append(warp(carry[i], maps))
        raw = probs[0] if len(probs) == 1 else np.maximum.reduce(probs)
        timings[Stage.SEGMENT] = _ms(t0)
        return small, guide, raw, tuple(probs), maps

    def _zoom(
        self, frame: np.ndarray, raw: np.ndarray, most: int, faces: Sequence[Face] = ()
    ) -> np.ndarray:
        """The hair zoom, for a frame segmented whole that is not framed like a selfie (no
        face anchors it: the back of a head, a hair close-up, a person too small for the face
        detector). The whole frame's hair blobs (`regions.hair_blobs`), up to ``most`` of
        them, heaviest first, then the head region of each weak face in ``faces`` (one no
        confirmed square holds; the whole frame's hair in it as its blob) are each looked at
        again in their own square at native resolution, as a face's region would be, and
        kept where the closer look confirms them (`ZOOM_CONFIRM`): the result is the zoom's
        probability in their squares and exactly 0 elsewhere. A blob the closer look does
        not confirm (dark furniture the model took for hair in the wide view) is dropped. A
        confirmed blob whose square covers a selfie's share of the frame (`SELFIE_COVER`:
        hair filling the picture, a close-up) means the whole frame is best, as for a face,
        and ``raw`` is returned as it was; so it is when no blob is confirmed."""
        h, w = frame.shape[:2]
        mh, mw = raw.shape
        scale = mw / w
        out = np.zeros_like(raw)
        kept: list[Square] = []
        candidates: list[Blob | Face] = [*hair_blobs(raw, scale)[:most], *faces]
        for item in candidates:
            if isinstance(item, Face):  # a weak face's head region, the whole frame's hair in it
                if any(k.contains(item.cx, item.cy) for k in kept):
                    continue
                head = head_square(item)
                fx0, fy0, fx1, fy1 = map_rect(head, scale, (mw, mh))
                mask = np.zeros(raw.shape, bool)
                mask[fy0:fy1, fx0:fx1] = raw[fy0:fy1, fx0:fx1] > HAIR_THRESHOLD
                blob = Blob(head, mask, float(raw[mask].sum()))
            else:
                blob = item
            (x0, y0, x1, y1), vals = self._segment_square(frame, blob.square, scale, (mw, mh))
            mine = blob.mask[y0:y1, x0:x1]
            if not mine.any() or float(vals[mine].mean()) < ZOOM_CONFIRM:
                continue
            square = blob.square
            # As a new person's region: where the closer look's hair reaches the square's
            # edge, the square grows to it (`regions.grow_to`) and is looked at once more.
            grown = grow_to(
                square, hair_box(vals, (x0, y0, x1, y1), scale), MAX_GROWTH * square.side, square
            )
            again = self._look_again(frame, square, grown, scale, (mw, mh))
            if again is not None:
                square = grown
                (x0, y0, x1, y1), vals = again
            if _coverage(square, w, h) >= SELFIE_COVER:
                return raw
            np.maximum(out[y0:y1, x0:x1], vals, out=out[y0:y1, x0:x1])
            kept.append(square)
        return out if kept else raw

    # -- people ------------------------------------------------------------------------------

    def _segment_square(
        self, frame: np.ndarray, square: Square, scale: float, map_size: tuple[int, int]
    ) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """The hair model on one square crop, resampled into the map (see `regions.paste`)."""
        prob = self.segmenter.segment(crop_square(frame, square)).prob
        return paste(prob, square, scale, map_size)

    def _look_again(
        self,
        frame: np.ndarray,
        square: Square,
        grown: Square,
        scale: float,
        map_size: tuple[int, int],
    ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
        """`_segment_square` on ``grown``, the square a first look at ``square`` grew to where
        its hair reached the edge, when it is more than `GROW_MARGIN` larger (else None: not
        worth another model call)."""
        if grown.side <= square.side * (1 + GROW_MARGIN):
            return None
        return self._segment_square(frame, grown, scale, map_size)

    def _find_faces(
        self,
        det: FaceDetector,
        frame: np.ndarray,
        people: list[Person],
        cold: bool,
        search: int,
        room: bool,
    ) -> tuple[list[Face], int]:
        """Faces in the regions of ``people`` (those looked at this frame, `needs_look`),
        plus a search for newcomers: on a cold start the whole frame and, if it shows nobody,
        every tile; while tracking with room for more, one step of the cycle (whole frame,
        tile 1, tile 2, ...) per frame."""
        h, w = frame.shape[:2]
        found: list[Face] = []
        for p in people:
            x, y, side = p.square.pixels()
            found += det.detect_in(frame, (x, y, side, side))
        grid = tiles((w, h))
        if cold:
            whole = det.detect(frame)
            found += whole
            if not whole:
                for box in grid:
                    found += det.detect_in(frame, box)
        elif room:
            cycle = len(grid) + 1
            step = search % cycle
            found += det.detect(frame) if step == 0 else det.detect_in(frame, grid[step - 1])
            search += 1
        return merge_faces(found), search

    def _analyse_people(
        self,
        frame: np.ndarray,
        settings: Settings,
        state: PipelineState | None,
        timings: dict[str, float],
    ) -> tuple[tuple[Analysis, PipelineState] | None, int, tuple[Person, ...], int, bool | None]:
        """The face-anchored path; None in its place when the caller should segment the
        whole frame (nobody found or held, nobody found for sure yet, or a selfie framing),
        with where the face search's cycle stands, the people to carry meanwhile (so they
        are confirmed and tracked on), the next person id and whether the frame is framed
        like a selfie (None: nobody sure to judge by)."""
        search = 0 if state is None else state.search
        next_id = 0 if state is None else state.next_id
        if self.faces is None:
            return None, search, (), next_id, None
        rs = settings.regions
        ts = settings.temporal
        h, w = frame.shape[:2]
        t0 = time.perf_counter()
        scale = min(1.0, rs.map_size / max(w, h))
        mw, mh = max(1, round(w * scale)), max(1, round(h * scale))
        small: np.ndarray = (
            frame
            if (mw, mh) == (w, h)
            else cv2.resize(frame, (mw, mh), interpolation=cv2.INTER_AREA)
        )
        guide = luma(small)
        cold = state is None
        people = [] if state is None else list(state.people)
        prev_luma = None if state is None else state.luma
        if state is not None and prev_luma is None:  # from the whole-frame path
            people, prev_luma = _to_people(state, scale, (mw, mh))
        cut = prev_luma is None or prev_luma.shape != guide.shape
        if not cut and prev_luma is not None and is_scene_cut(guide, prev_luma, ts):
            cut = True
        if cut:
            people = [p.with_(prob=None, hair=None) for p in people]
        # While the frames are judged selfies (segmented whole), the people are carried only
        # to be looked for and judged: their hair, seeded from the whole frame's last mask, is
        # not motion-compensated, which would cost a dense optical flow at this map's
        # resolution on every selfie frame (5 ms of a 50 ms analysis at 720p, profiled). A
        # switch back to regions then blends with a mask one frame old.
        judged_selfie = state is not None and state.selfie is True and state.luma is None
        maps = (
            None
            if cut or judged_selfie or not ts.enabled or prev_luma is None
            else flow_maps(guide, prev_luma)
        )
        mismatch = None
        if maps is not None and prev_luma is not None:
            mismatch = mismatch_map(guide, warp(prev_luma, maps), ts)
        # each person's hair carried onto this frame by motion compensation
        carried_probs = [None if p.prob is None else warp(p.prob, maps) for p in people]
        hairs = [None if c is None else hair_box(c, (0, 0, mw, mh), scale) for c in carried_probs]
        timings[Stage.RESIZE] = _ms(t0)

        t0 = time.perf_counter()
        looked = [needs_look(p, hair) for p, hair in zip(people, hairs, strict=True)]
        faces, search = self._find_faces(
            self.faces,
            frame,
            [p for p, looking in zip(people, looked, strict=True) if looking],
            cold,
            search,
            room=len(people) < rs.max_people,
        )
        matched, new = match_faces(people, faces)
        timings[Stage.FACES] = _ms(t0)

        t0 = time.perf_counter()
        tracked: list[tuple[Person, np.ndarray | None]] = []
        for p, carried, hair, looking in zip(people, carried_probs, hairs, looked, strict=True):
            face = matched.get(p.id)
            seen, lost, unlooked = p.seen, 0, 0
            if face is not None:
                anchor, seen = face, seen + 1
            elif not looking:  # a steady face, not looked for this frame: it moved with its hair
                anchor = face = follow_hair(p.anchor, p.hair, hair)
                unlooked = p.unlooked + 1
            else:
                lost = p.lost + 1
                hold = (
                    rs.hold_frames if seen >= CONFIRM_SEEN else min(rs.hold_frames, TENTATIVE_HOLD)
                )
                if lost > hold:
                    continue  # gone
                anchor = follow_hair(p.anchor, p.hair, hair)
            square = steady(p.square, region_for(anchor, hair, frame_size=(w, h)))
            person = p.with_(
                square=square, face=face, anchor=anchor, lost=lost, seen=seen, unlooked=unlooked
            )
            tracked.append((person, carried))
        for face in sorted(new, key=lambda f: -f.size):
            if face.score < NEW_FACE_SCORE:
                continue
            if len(tracked) >= rs.max_people:
                break
            if face.score < SURE_FACE_SCORE:
                face = self.faces.confirm(frame, face)
            region = region_for(face, None, frame_size=(w, h))
            person = Person(next_id, region, face, face, 0, None, None, -1)
            next_id += 1
            tracked.append((person, None))
        if not tracked:
            return None, search, (), next_id, None
        sure = [head_square(p.anchor) for p, _ in tracked if p.anchor.score >= SURE_FACE_SCORE]
        biggest = max((_coverage(sq, w, h) for sq in sure), default=0.0)
        # Without a sure face this frame, the last judgement stands (no evidence to switch).
        selfie = None if state is None else state.selfie
        if sure:
            selfie = _framed_as_selfie(biggest, selfie)
        if (cold and not sure) or selfie:
            # A still (or a first frame) with weak faces only, as on hair close-ups, or a
            # frame framed like a selfie already: the whole frame is best.
            carry = tuple(p.with_(prob=None, hair=None) for p, _ in tracked)
            return None, search, carry, next_id, selfie
        # In video, a weak face not seen often enough yet is tracked and looked for, but not
        # segmented (see `_waiting`); with nobody else, the whole frame is segmented meanwhile.
        waiting = [] if cold else [p.with_(prob=None, hair=None) for p, _ in tracked if _waiting(p)]
        if waiting:
            tracked = [(p, c) for p, c in tracked if not _waiting(p)]
            if not tracked:
                return None, search, tuple(waiting), next_id, selfie
        timings[Stage.REGIONS] = _ms(t0)

        # Which regions the model sees this frame: all while the budget holds, else the
        # ones waiting longest (never segmented first).
        order = sorted(range(len(tracked)), key=lambda i: tracked[i][0].segmented_at)
        count = len(order)
        fastest = min(self._crop_ms, default=0.0)  # the model's own cost (`CROP_HISTORY`)
        if self.budget_ms is not None and fastest > 0:
            count = max(1, min(count, int(self.budget_ms // fastest)))
        chosen = {i for i in order[:count]}
        chosen |= {i for i, (p, c) in enumerate(tracked) if c is None}  # nothing to carry

        index = 0 if state is None else state.next_index
        prob = np.zeros((mh, mw), np.float32)
        raw = np.zeros((mh, mw), np.float32)
        out_people: list[Person] = []
        regions: list[Region] = []
        seg_ms = 0.0
        skin_ms = 0.0
        smooth_ms = 0.0
        for i, (p, carried) in enumerate(tracked):
            rect = map_rect(p.square, scale, (mw, mh))
            x0, y0, x1, y1 = rect
            mine = np.zeros((mh, mw), np.float32)
            if x1 > x0 and y1 > y0:
                if i in chosen:
                    t1 = time.perf_counter()
                    rect, vals = self._segment_square(frame, p.square, scale, (mw, mh))
                    for _ in range(GROW_PASSES if p.prob is None else 0):
                        # A new person has no hair from a previous frame to grow to: grow to
                        # this frame's, so a still gets the region a video would.
                        hair = hair_box(vals, rect, scale)
                        grown = region_for(p.anchor, hair, frame_size=(w, h))
                        again = self._look_again(frame, p.square, grown, scale, (mw, mh))
                        if again is None:
                            break
                        p = p.with_(square=grown)
                        rect, vals = again
                    x0, y0, x1, y1 = rect
                    np.maximum(raw[y0:y1, x0:x1], vals, out=raw[y0:y1, x0:x1])
                    seg_ms += _ms(t1)
                    t1 = time.perf_counter()
                    if p.face is not None and x1 > x0 and y1 > y0:
                        vals = _guard_rect(small, vals, rect, p.face, (w, h), settings)
                    skin_ms += _ms(t1)
                    t1 = time.perf_counter()
                    if carried is not None and ts.enabled:
                        mm = None if mismatch is None else mismatch[y0:y1, x0:x1]
                        vals = blend(vals, carried[y0:y1, x0:x1], mm, ts)
                    mine[y0:y1, x0:x1] = vals
                    p = p.with_(segmented_at=index)
                    smooth_ms += _ms(t1)
                elif carried is not None:
                    mine[y0:y1, x0:x1] = carried[y0:y1, x0:x1]
            np.maximum(prob, mine, out=prob)
            hair = None
            own = p.hair_value if p.hair_value is not None else DEFAULT_HAIR_VALUE
            if y1 > y0 and x1 > x0:
                hair = hair_box(mine[y0:y1, x0:x1], rect, scale)
                own = hair_value(small[y0:y1, x0:x1], mine[y0:y1, x0:x1])
                if carried is not None and p.hair_value is not None:
                    own = HAIR_VALUE_HISTORY * p.hair_value + (1 - HAIR_VALUE_HISTORY) * own
            out_people.append(p.with_(prob=mine, hair=hair, hair_value=own))
            regions.append(Region(p.id, p.square, p.face, i in chosen, own))
        if chosen:
            self._crop_ms.append((seg_ms + skin_ms) / len(chosen))
        timings[Stage.SEGMENT] = seg_ms
        timings[Stage.SKIN] = skin_ms
        t0 = time.perf_counter()
        value = hair_value(small, prob)
        if state is not None and state.people and not cut:
            value = HAIR_VALUE_HISTORY * state.hair_value + (1 - HAIR_VALUE_HISTORY) * value
        owner = None
        if len(out_people) > 1:  # whose hair each pixel is
            owner = _owners(out_people, scale, (mw, mh))
        timings[Stage.SMOOTH] = smooth_ms + _ms(t0)
        seen_faces = tuple(r.face for r in regions if r.face is not None)
        analysis = Analysis(
            index,
            prob,
            raw,
            value,
            timings,
            tuple(regions),
            (w, h),
            faces=seen_faces,
            owner=owner,
        )
        new_state = PipelineState(
            index + 1,
            None,
            value,
            (w, h),
            (*out_people, *waiting),
            guide,
            next_id,
            search,
            (),
            selfie,
        )
        return (analysis, new_state), search, (), next_id, selfie

    def step(
        self, frame: np.ndarray, settings: Settings, state: PipelineState | None
    ) -> tuple[FrameResult, PipelineState]:
        """The whole pipeline on one frame."""
        t0 = time.perf_counter()
        analysis, state = self.analyse(frame, settings, state)
        comp = composite(frame, analysis, settings)
        if comp.alpha is None:  # composite keeps the alpha by default
            raise RuntimeError("composite returned no alpha")
        timings = {**analysis.timings_ms, **comp.timings_ms, Stage.TOTAL: _ms(t0)}
        log.debug(
            "frame %d: %s",
            analysis.index,
            " ".join(f"{k}={v:.1f}ms" for k, v in timings.items()),
        )
        result = FrameResult(comp.image, comp.alpha, analysis.index, analysis, timings)
        return result, state


def guard_skin(
    small: np.ndarray,
    prob: np.ndarray,
    faces: Sequence[Face],
    frame_size: tuple[int, int],
    settings: Settings,
) -> np.ndarray:
    """The skin guard, between segmentation and temporal smoothing: ``prob`` (the model's
    hair probability on ``small``, the frame of ``frame_size`` (w, h) downscaled) scaled down
    on the skin of ``faces`` (frame pixels; ``core.skin``), so the smoothing steadies the
    guard with the mask. ``prob`` itself when ``settings.skin_guard`` is off or no face is
    usable."""
    if not settings.skin_guard or not faces:
        return prob
    keep = skin_keep(small, prob, faces, frame_size)
    return prob if keep is None else prob * keep


def _guard_rect(
    small: np.ndarray,
    vals: np.ndarray,
    rect: tuple[int, int, int, int],
    face: Face,
    frame_size: tuple[int, int],
    settings: Settings,
) -> np.ndarray:
    """`guard_skin` for one person's pasted probability ``vals`` at ``rect`` of the map
    (``small``: the frame at the map's resolution)."""
    if not settings.skin_guard:
        return vals
    x0, y0, x1, y1 = rect
    whole = np.zeros(small.shape[:2], np.float32)
    whole[y0:y1, x0:x1] = vals
    keep = skin_keep(small, whole, [face], frame_size)
    return vals if keep is None else vals * keep[y0:y1, x0:x1]


def prepare(
    frame: np.ndarray, analysis: Analysis, settings: Settings, faces: Sequence[FaceBox] = ()
) -> Prepared:
    """Refinement coefficients of ``analysis`` against ``frame`` (which may be newer than the
    analysed frame: the edges then follow the frame being shown) and the recolour constants.
    With ``settings.ombre``, also the tip colour's and its share along the hair, measured from
    the heads of ``faces`` ((x, y, w, h) in ``frame``'s pixels; by default the faces of
    ``analysis.regions``; none: from the top of the hair; see ``core.ombre``)."""
    check_bgr(frame)
    t0 = time.perf_counter()
    ph, pw = analysis.prob.shape
    guide = small_luma(frame, (pw, ph))
    rect = _regions_rect(analysis, frame.shape[1], settings)
    if rect is None:
        coeffs = coefficients(analysis.prob, guide, settings.refine)
    else:  # alpha is 0 outside the people's regions: filter only around them
        x0, y0, x1, y1 = rect
        coeffs = np.zeros((ph, pw, 3), np.float32)
        coeffs[y0:y1, x0:x1] = coefficients(
            np.ascontiguousarray(analysis.prob[y0:y1, x0:x1]),
            np.ascontiguousarray(guide[y0:y1, x0:x1]),
            settings.refine,
        )
    ombre = settings.ombre
    root = settings.color if ombre is None else ombre.root
    look = make_look(root, analysis.hair_value, settings.shine)
    people = _person_looks(analysis, settings)
    owner = analysis.owner if people else None
    if ombre is None:
        return Prepared(coeffs, look, {Stage.PREPARE: _ms(t0)}, people=people, owner=owner)
    fh, fw = frame.shape[:2]
    if not faces:  # the faces the analysis anchored its regions on
        faces = [(r.face.x, r.face.y, r.face.w, r.face.h) for r in analysis.regions if r.face]
    t = root_to_tip(analysis.prob, faces, (fw, fh))
    tip = make_look(ombre.tip, analysis.hair_value, settings.shine)
    return Prepared(
        coeffs,
        look,
        {Stage.PREPARE: _ms(t0)},
        tip,
        tip_weight(t, ombre),
        people=people,
        owner=owner,
    )


def _person_looks(analysis: Analysis, settings: Settings) -> tuple[PersonLook, ...]:
    """Each person's recolour constants from their own hair brightness, where the analysis
    has two or more people (else none: ``Prepared.look`` serves the frame)."""
    if analysis.owner is None or len(analysis.regions) < 2:
        return ()
    ombre = settings.ombre
    root = settings.color if ombre is None else ombre.root
    out = []
    for region in analysis.regions:
        value = analysis.hair_value if region.hair_value is None else region.hair_value
        tip = None if ombre is None else make_look(ombre.tip, value, settings.shine)
        out.append(PersonLook(make_look(root, value, settings.shine), tip))
    return tuple(out)


def _regions_rect(
    analysis: Analysis, frame_w: int, settings: Settings
) -> tuple[int, int, int, int] | None:
    """The part of the map (x0, y0, x1, y1) holding every region plus a margin wider than the
    guided filter's reach (so the coefficients inside equal the whole map's), or None for the
    whole map (no regions, or too small to matter)."""
    if not analysis.regions:
        return None
    ph, pw = analysis.prob.shape
    scale = pw / frame_w
    margin = 2 * settings.refine.radius + settings.refine.band + 2
    rects = [map_rect(r.square, scale, (pw, ph)) for r in analysis.regions]
    x0 = max(0, min(r[0] for r in rects) - margin)
    y0 = max(0, min(r[1] for r in rects) - margin)
    x1 = min(pw, max(r[2] for r in rects) + margin)
    y1 = min(ph, max(r[3] for r in rects) + margin)
    if x1 - x0 < 8 or y1 - y0 < 8 or (x1 - x0) * (y1 - y0) > 0.8 * pw * ph:
        return None
    return x0, y0, x1, y1


def composite(
    frame: np.ndarray,
    analysis: Analysis,
    settings: Settings,
    prepared: Prepared | None = None,
    *,
    parallel: bool | None = None,
    keep_alpha: bool = True,
) -> Composite:
    """The full-resolution half on the CPU: the refined alpha and the recoloured frame, in one
    fused Numba pass (``fused.refine_recolor``; ``parallel`` and ``keep_alpha`` are passed on
    to it); with ``prepared.people``, one pass per person, each mixed in where the hair is
    theirs (`Prepared.owner`). Timings: ``prepare`` (low-resolution half), ``fused``
    (full-resolution half), ``composite`` (both)."""
    t0 = time.perf_counter()
    prepared = prepared or prepare(frame, analysis, settings)
    frame = np.ascontiguousarray(frame)
    t1 = time.perf_counter()
    if prepared.people:  # each person with their own look, mixed in where their hair is
        if prepared.owner is None:
            raise ValueError("Prepared.people needs Prepared.owner")
        first, *others = prepared.people
        image, alpha = _recolour(
            frame, prepared, first.look, first.tip_look, settings, parallel, keep_alpha
        )
        for k, person in enumerate(others, start=1):
            other, _ = _recolour(
                frame, prepared, person.look, person.tip_look, settings, parallel, False
            )
            weight = (prepared.owner == k).astype(np.float32)
            image = mix(image, other, weight, prepared.coeffs[..., COEFF_BAND])
    else:
        image, alpha = _recolour(
            frame, prepared, prepared.look, prepared.tip_look, settings, parallel, keep_alpha
        )
    timings: dict[str, float] = {
        Stage.PREPARE: prepared.timings_ms.get(Stage.PREPARE, (t1 - t0) * 1e3),
        Stage.FUSED: _ms(t1),
        Stage.COMPOSITE: _ms(t0),
    }
    return Composite(image, alpha, timings)


def _recolour(
    frame: np.ndarray,
    prepared: Prepared,
    look: Look,
    tip_look: Look | None,
    settings: Settings,
    parallel: bool | None,
    keep_alpha: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``frame`` refined and recoloured with ``look`` (in ombré mixed with ``tip_look`` by
    ``prepared.tip_weight``): the image and, if ``keep_alpha``, the alpha."""
    image, alpha = refine_recolor(
        prepared.coeffs, frame, look, settings.strength, settings.refine,
        parallel=parallel, keep_alpha=keep_alpha,
    )  # fmt: skip
    if tip_look is not None and prepared.tip_weight is not None:  # ombré
        tip, _ = refine_recolor(
            prepared.coeffs, frame, tip_look, settings.strength, settings.refine,
            parallel=parallel, keep_alpha=False,
        )  # fmt: skip
        image = mix(image, tip, prepared.tip_weight, prepared.coeffs[..., COEFF_BAND])
    return image, alpha


SPLIT_LINE_BGR = (255, 255, 255)
SPLIT_LINE_WIDTH = 2


def render_view(frame: np.ndarray, comp: Composite, settings: Settings) -> np.ndarray:
    """What the viewer shows for ``settings.view``: the recoloured frame, the before/after split
    (original on the left of the divider), or the alpha as a grey image. Never modifies its
    inputs; returns ``comp.image`` itself for the plain recoloured view."""
    if settings.view is View.RECOLOR:
        return comp.image
    if settings.view is View.MASK:
        if comp.alpha is None:
            raise ValueError("the mask view needs the alpha: composite(..., keep_alpha=True)")
        grey = np.clip(comp.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    w = frame.shape[1]
    x = min(max(round(settings.split * w), 0), w)
    out = comp.image.copy()
    out[:, :x] = frame[:, :x]
    lo, hi = max(0, x - SPLIT_LINE_WIDTH // 2), min(w, x + (SPLIT_LINE_WIDTH + 1) // 2)
    out[:, lo:hi] = SPLIT_LINE_BGR
    return out
