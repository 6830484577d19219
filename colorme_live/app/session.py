"""The Qt-free half of the window: opening the source the user asked for, and loading the
model on the segmentation worker (so a download never keeps the window from appearing)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorme_live.app.config import SourceSpec
from colorme_live.core.faces import Face, FaceDetector
from colorme_live.core.model import resolve_face_model, resolve_model
from colorme_live.core.segmentation import HairMask, HairSegmenter
from colorme_live.core.sources import (
    CameraSource,
    FrameSource,
    MirroredSource,
    PacedSource,
    VideoFileSource,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the window shows about the open source, and what a recording needs."""

    description: str
    fps: float
    size: tuple[int, int]
    asked_fps: float | None = None
    """For a camera, the rate asked for (to tell when it delivers far fewer frames)."""


class SourceOpener:
    """The ``open_source`` callable handed to ``LiveEngine`` (called on its capture thread).

    A camera is opened as a ``CameraSource``; a file as ``PacedSource(VideoFileSource(path,
    loop=True))``, so it plays at its own frame rate, looping, like a camera. ``info`` is
    replaced whole each time a source opens; the GUI thread reads it."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.info: SourceInfo | None = None

    def __call__(self) -> FrameSource:
        spec = self.spec
        source: FrameSource
        if spec.video is None:
            source = CameraSource(
                spec.camera,
                size=spec.size,
                mirror=spec.mirrored,
                fps=spec.fps,
                name=spec.camera_name,
            )
        else:
            source = PacedSource(VideoFileSource(spec.video, loop=True))
            if spec.mirrored:
                source = MirroredSource(source)
        asked = source.asked_fps if isinstance(source, CameraSource) else None
        self.info = SourceInfo(source.description, source.fps, source.size, asked)
        return source


class DeferredSegmenter(HairSegmenter):
    """A ``HairSegmenter`` that finds its model (``resolve_model``: ``--model``,
    ``$COLORME_MODEL``, the cache, or a download) on first use, i.e. on the segmentation
    worker. A ``ModelError`` then reaches the engine, which reports it and keeps showing
    frames un-recoloured."""

    def __init__(self, explicit: Path | None = None) -> None:
        super().__init__(Path())
        self._explicit = explicit
        self._inner: HairSegmenter | None = None

    def load(self) -> None:
        self._loaded()

    def segment(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> HairMask:
        return self._loaded().segment(image_bgr, timestamp_ms)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None
        super().close()

    def _loaded(self) -> HairSegmenter:
        if self._inner is None:
            inner = HairSegmenter(resolve_model(self._explicit))
            inner.load()  # raises ModelError for a corrupt file or one that is not a hair model
            self._inner = inner
        return self._inner


class DeferredFaceDetector(FaceDetector):
    """A ``FaceDetector`` that finds its model (``resolve_face_model``) on first use, on the
    segmentation worker. Without one (offline, nothing cached) it finds no faces, so whole
    frames are segmented (said once in the log); a corrupt or wrong file raises
    ``ModelError``, which the engine shows as a banner."""

    def __init__(self, explicit: Path | None = None) -> None:
        super().__init__(Path())
        self._explicit = explicit
        self._inner: FaceDetector | None = None
        self._resolved = False

    def load(self) -> None:
        self._loaded()

    def detect(self, image_bgr: np.ndarray) -> list[Face]:
        inner = self._loaded()
        return [] if inner is None else inner.detect(image_bgr)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None
        super().close()

    def _loaded(self) -> FaceDetector | None:
        if not self._resolved:
            path = resolve_face_model(self._explicit)
            self._resolved = True
            if path is not None:
                inner = FaceDetector(path)
                inner.load()
                self._inner = inner
        return self._inner
