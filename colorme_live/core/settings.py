"""Immutable settings snapshots. The UI builds a new one with ``dataclasses.replace`` and hands
it to the workers by a single reference assignment; workers read it once per frame."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from colorme_live.core.ombre import Ombre
from colorme_live.core.palette import PALETTE, Color

DEFAULT_COLOR_INDEX = 4
"""Copper: a colour that is visible on every hair tone, so a first launch shows the effect."""
MAX_PEOPLE = 8
"""The most people `RegionSettings.max_people` allows (the GL shaders hold as many looks)."""


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value!r}")


@dataclass(frozen=True, slots=True)
class TemporalSettings:
    """How the hair probability is smoothed over time (see ``core.temporal``)."""

    enabled: bool = True
    history: float = 0.9
    """Largest weight of the (motion-compensated) previous mask, reached by uncertain pixels."""
    motion_scale: float = 0.03
    """Luma mismatch (0..1) after motion compensation at which a pixel counts as new content."""
    min_mismatch: float = 0.5
    """Floor of that mismatch: even where the warped previous frame explains the new one, a
    confident new value keeps at least this share of its pull, so that motion the optical flow
    misses (smooth hair on a plain background) cannot make the mask trail."""
    scene_cut: float = 0.18
    """Mean absolute luma change over the whole frame above which the state is reset."""

    def __post_init__(self) -> None:
        _check_range("history", self.history, 0.0, 0.99)
        _check_range("motion_scale", self.motion_scale, 1e-3, 1.0)
        _check_range("min_mismatch", self.min_mismatch, 0.0, 1.0)
        _check_range("scene_cut", self.scene_cut, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class RefineSettings:
    """Edge-aware upsampling of the low-resolution probability (see ``core.refine``).
    Radii are in pixels of the segmentation-resolution image."""

    radius: int = 3
    """Guided-filter window radius."""
    eps: float = 1e-2
    """Guided-filter regularisation (luma variance, luma in 0..1): edges with a contrast well
    above sqrt(eps) are followed; finer image noise is not (it would make the alpha flicker)."""
    band: int = 3
    """Alpha is exactly 0 farther than this from the hard (p > 0.5) hair mask."""
    feather_lo: float = 0.05
    feather_hi: float = 0.95
    """The filtered probability is ramped linearly from 0 at ``feather_lo`` to 1 at
    ``feather_hi``: a faint haze becomes exactly 0, the core of the hair exactly 1."""

    def __post_init__(self) -> None:
        _check_range("radius", self.radius, 1, 32)
        _check_range("eps", self.eps, 1e-6, 1.0)
        _check_range("band", self.band, 0, 32)
        _check_range("feather_lo", self.feather_lo, 0.0, 0.99)
        _check_range("feather_hi", self.feather_hi, self.feather_lo + 0.01, 1.0)


@dataclass(frozen=True, slots=True)
class RegionSettings:
    """Face-anchored segmentation (see ``core.regions``): how many people, and at what
    resolution their hair is kept in the frame-wide map."""

    max_people: int = 3
    """Faces tracked at once (each has its own region, mask and temporal state)."""
    map_size: int = 640
    """Long side, in pixels, of the frame-wide hair map the regions are pasted into (never
    larger than the frame): the resolution of the edge refinement's coefficients."""
    hold_frames: int = 20
    """Analysed frames a region is kept, carried by its hair mask, after its face is lost."""

    def __post_init__(self) -> None:
        _check_range("max_people", self.max_people, 1, MAX_PEOPLE)
        _check_range("map_size", self.map_size, 64, 4096)
        _check_range("hold_frames", self.hold_frames, 0, 600)


class View(enum.Enum):
    """What the viewer shows (and a recording records)."""

    RECOLOR = "recolor"
    SPLIT = "split"
    """Before/after: the original left of the divider, the recoloured frame right of it."""
    MASK = "mask"
    """The final hair alpha as a grey image."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that shapes one output frame."""

    color: Color = PALETTE[DEFAULT_COLOR_INDEX - 1]
    intensity: int = 80
    """0..100; 0 leaves the frame untouched (bit-exact)."""
    shine: int = 50
    """0..100: 0 matte, 50 the hair's natural shine, 100 glossy (scales the hair's own
    highlights; see ``core.recolor``)."""
    segment_size: int = 256
    """The whole-frame path (no face, or a selfie): the long side, in pixels, of its hair map,
    where the smoothing and the refinement's coefficients work. What the model sees does not
    depend on it: the frame at the model's own 512x512 input (see ``core.pipeline``)."""
    coarse_size: int | None = 256
    """The whole-frame path's second, coarse pass: the frame at this long side (aspect kept;
    MediaPipe stretches it to its input), fused with the fine pass by the per-pixel maximum.
    Below the model's input side (`regions.MODEL_INPUT`); None: the fine pass only. A wide
    frame framed like a selfie has none (`pipeline.COARSE_WIDEST`)."""
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    refine: RefineSettings = field(default_factory=RefineSettings)
    regions: RegionSettings = field(default_factory=RegionSettings)
    view: View = View.RECOLOR
    split: float = 0.5
    """Position of the before/after divider as a fraction of the width."""
    ombre: Ombre | None = None
    """Two-tone / ombré (``core.ombre``): a root and a tip colour instead of ``color``."""
    skin_guard: bool = True
    """Scale the hair probability down on the skin of each detected face, before temporal
    smoothing (``core.skin``, ``pipeline.guard_skin``)."""

    def __post_init__(self) -> None:
        if isinstance(self.intensity, bool) or not isinstance(self.intensity, int):
            raise TypeError(f"intensity must be an int, got {type(self.intensity).__name__}")
        _check_range("intensity", self.intensity, 0, 100)
        if isinstance(self.shine, bool) or not isinstance(self.shine, int):
            raise TypeError(f"shine must be an int, got {type(self.shine).__name__}")
        _check_range("shine", self.shine, 0, 100)
        _check_range("segment_size", self.segment_size, 64, 2048)
        if self.coarse_size is not None:
            _check_range("coarse_size", self.coarse_size, 32, 511)
        _check_range("split", self.split, 0.0, 1.0)

    @property
    def strength(self) -> float:
        """The intensity as a blend weight in 0..1."""
        return self.intensity / 100.0
