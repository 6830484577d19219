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
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from colorme_live.core.frames import check_bgr
from colorme_live.core.fused import refine_recolor
from colorme_live.core.ombre import FaceBox, mix, root_to_tip, tip_weight
from colorme_live.core.recolor import Look, hair_value, make_look
from colorme_live.core.refine import COEFF_BAND, coefficients, luma, small_luma
from colorme_live.core.segmentation import HairSegmenter, segmentation_size
from colorme_live.core.settings import Settings, View
from colorme_live.core.temporal import TemporalState, smooth

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class PipelineState:
    """Everything carried from one frame to the next. ``None`` in its place is a cold start."""

    next_index: int
    temporal: TemporalState
    hair_value: float
    frame_size: tuple[int, int]


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


def downscale(frame: np.ndarray, settings: Settings) -> np.ndarray:
    """The frame at the segmentation resolution (area-averaged), uint8 BGR."""
    h, w = frame.shape[:2]
    size = segmentation_size((w, h), settings.segment_size)
    if size == (w, h):
        return frame
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return small.reshape(size[1], size[0], 3)


class Pipeline:
    """Owns a ``HairSegmenter``; ``close()`` (or ``with``) releases it."""

    def __init__(self, segmenter: HairSegmenter) -> None:
        self.segmenter = segmenter

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.segmenter.close()

    def analyse(
        self, frame: np.ndarray, settings: Settings, state: PipelineState | None
    ) -> tuple[Analysis, PipelineState]:
        """Segment and smooth ``frame`` (uint8 (H, W, 3) BGR). ``state=None`` is a cold start."""
        check_bgr(frame)
        timings: dict[str, float] = {}
        h, w = frame.shape[:2]
        if state is not None and state.frame_size != (w, h):
            state = None  # a new resolution is a new source
        t0 = time.perf_counter()
        small = downscale(frame, settings)
        guide = luma(small)
        timings["resize"] = _ms(t0)

        index = 0 if state is None else state.next_index
        t0 = time.perf_counter()
        raw = self.segmenter.segment(small).prob
        timings["segment"] = _ms(t0)

        t0 = time.perf_counter()
        prev_t = None if state is None else state.temporal
        prob, temporal = smooth(raw, prev_t, settings.temporal, luma=guide)
        value = hair_value(small, prob)
        if state is not None and not temporal.restarted:
            value = HAIR_VALUE_HISTORY * state.hair_value + (1 - HAIR_VALUE_HISTORY) * value
        timings["smooth"] = _ms(t0)

        analysis = Analysis(index, prob, raw, value, timings)
        return analysis, PipelineState(index + 1, temporal, value, (w, h))

    def step(
        self, frame: np.ndarray, settings: Settings, state: PipelineState | None
    ) -> tuple[FrameResult, PipelineState]:
        """The whole pipeline on one frame."""
        t0 = time.perf_counter()
        analysis, state = self.analyse(frame, settings, state)
        comp = composite(frame, analysis, settings)
        if comp.alpha is None:  # composite keeps the alpha by default
            raise RuntimeError("composite returned no alpha")
        timings = {**analysis.timings_ms, **comp.timings_ms, "total": _ms(t0)}
        log.debug(
            "frame %d: %s",
            analysis.index,
            " ".join(f"{k}={v:.1f}ms" for k, v in timings.items()),
        )
        result = FrameResult(comp.image, comp.alpha, analysis.index, analysis, timings)
        return result, state


def prepare(
    frame: np.ndarray, analysis: Analysis, settings: Settings, faces: Sequence[FaceBox] = ()
) -> Prepared:
    """Refinement coefficients of ``analysis`` against ``frame`` (which may be newer than the
    analysed frame: the edges then follow the frame being shown) and the recolour constants.
    With ``settings.ombre``, also the tip colour's and its share along the hair, measured from
    the heads of ``faces`` ((x, y, w, h) in ``frame``'s pixels; none: from the top of the hair;
    see ``core.ombre``)."""
    check_bgr(frame)
    t0 = time.perf_counter()
    ph, pw = analysis.prob.shape
    coeffs = coefficients(analysis.prob, small_luma(frame, (pw, ph)), settings.refine)
    ombre = settings.ombre
    root = settings.color if ombre is None else ombre.root
    look = make_look(root, analysis.hair_value, settings.shine)
    if ombre is None:
        return Prepared(coeffs, look, {"prepare": _ms(t0)})
    fh, fw = frame.shape[:2]
    t = root_to_tip(analysis.prob, faces, (fw, fh))
    tip = make_look(ombre.tip, analysis.hair_value, settings.shine)
    return Prepared(coeffs, look, {"prepare": _ms(t0)}, tip, tip_weight(t, ombre))


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
    to it). Timings: ``prepare`` (low-resolution half), ``fused`` (full-resolution half),
    ``composite`` (both)."""
    t0 = time.perf_counter()
    prepared = prepared or prepare(frame, analysis, settings)
    frame = np.ascontiguousarray(frame)
    t1 = time.perf_counter()
    image, alpha = refine_recolor(
        prepared.coeffs, frame, prepared.look, settings.strength, settings.refine,
        parallel=parallel, keep_alpha=keep_alpha,
    )  # fmt: skip
    if prepared.tip_look is not None and prepared.tip_weight is not None:  # ombré
        tip, _ = refine_recolor(
            prepared.coeffs, frame, prepared.tip_look, settings.strength, settings.refine,
            parallel=parallel, keep_alpha=False,
        )  # fmt: skip
        image = mix(image, tip, prepared.tip_weight, prepared.coeffs[..., COEFF_BAND])
    timings = {
        "prepare": prepared.timings_ms.get("prepare", (t1 - t0) * 1e3),
        "fused": _ms(t1),
        "composite": _ms(t0),
    }
    return Composite(image, alpha, timings)


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
