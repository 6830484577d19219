"""The headless commands: ``mask`` (hair alpha PNGs) and ``render`` (a recoloured video)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from colorme_live.core.errors import InputError
from colorme_live.core.faces import FaceDetector
from colorme_live.core.model import resolve_face_model, resolve_model
from colorme_live.core.pipeline import Pipeline, PipelineState
from colorme_live.core.recording import H264Writer
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from colorme_live.core.sources import ImageSource, VideoFileSource, is_image_path

log = logging.getLogger(__name__)


@contextmanager
def open_pipeline(
    model: str | Path | None, face_model: str | Path | None = None, *, faces: bool = True
) -> Iterator[Pipeline]:
    """A pipeline with loaded, validated models (so a bad model fails before any output).
    The face model is resolved like the hair model; without one (offline, nothing cached,
    or ``faces=False``) whole frames are segmented."""
    segmenter = HairSegmenter(resolve_model(model))
    face_path = resolve_face_model(face_model) if faces else None
    detector = None if face_path is None else FaceDetector(face_path)
    with Pipeline(segmenter, detector) as pipeline:
        segmenter.load()
        if detector is not None:
            detector.load()
        yield pipeline


def alpha_to_png(alpha: np.ndarray) -> np.ndarray:
    """Float alpha in 0..1 -> uint8 0..255, rounded."""
    return np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)


def write_image(path: Path, image: np.ndarray) -> None:
    """Write an image (format by extension); unicode paths work; failures are InputErrors."""
    ext = path.suffix.lower() or ".png"
    try:
        ok, buf = cv2.imencode(ext, image)
    except cv2.error:
        ok = False
    if not ok:
        raise InputError(f"cannot encode an image as {ext!r} for {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf.tofile(str(path))
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}") from e


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, or when forced)."""

    def __init__(self, total: int | None, label: str, enabled: bool | None = None) -> None:
        self.total = total
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done != self.total):
            return
        self._last = now
        if self.total:
            filled = 30 * done // self.total
            bar = "#" * filled + "-" * (30 - filled)
            sys.stderr.write(f"\r{self.label} [{bar}] {done}/{self.total}")
        else:
            sys.stderr.write(f"\r{self.label} {done}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _log_source(video: VideoFileSource) -> None:
    w, h = video.size
    log.info(
        "source: %s, %dx%d at %.3f fps, %s frames",
        video.description,
        w,
        h,
        video.fps,
        video.frame_count or "unknown",
    )


def write_masks(
    input_path: Path,
    output: Path,
    settings: Settings,
    *,
    model: str | Path | None,
    face_model: str | Path | None = None,
) -> int:
    """``colorme-live mask``: PNG alpha masks for an image, a directory of images, or a video."""
    if not input_path.exists():
        raise InputError(f"input not found: {input_path}")
    single_image = input_path.is_file() and is_image_path(input_path)
    if input_path.is_dir() or single_image:
        images = ImageSource(input_path)
        log.info("source: %s", images.description)
        to_file = single_image and output.suffix.lower() == ".png"
        with images, open_pipeline(model, face_model) as pipeline:
            count = 0
            while (frame := images.read()) is not None:
                result, _ = pipeline.step(frame.image, settings, None)  # state reset per image
                dest = output if to_file else output / f"{images.paths[frame.index].stem}.png"
                write_image(dest, alpha_to_png(result.alpha))
                count += 1
        print(f"wrote {count} mask{'s' if count != 1 else ''} to {output}")
        return 0
    with VideoFileSource(input_path) as video, open_pipeline(model, face_model) as pipeline:
        _log_source(video)
        progress = Progress(video.frame_count, "mask")
        state: PipelineState | None = None
        count = 0
        while (frame := video.read()) is not None:
            result, state = pipeline.step(frame.image, settings, state)
            count += 1
            write_image(output / f"frame_{count:06d}.png", alpha_to_png(result.alpha))
            progress.update(count)
        progress.close()
    print(f"wrote {count} mask{'s' if count != 1 else ''} to {output}")
    return 0


def render(
    input_path: Path,
    output: Path,
    settings: Settings,
    *,
    model: str | Path | None,
    face_model: str | Path | None = None,
) -> int:
    """``colorme-live render``: recolour every frame of a video (or one image)."""
    if not input_path.exists():
        raise InputError(f"input not found: {input_path}")
    if input_path.is_file() and is_image_path(input_path):
        with ImageSource(input_path) as images, open_pipeline(model, face_model) as pipeline:
            frame = images.read()
            if frame is None:
                raise InputError(f"cannot read image {input_path}")
            result, _ = pipeline.step(frame.image, settings, None)
        dest = output if output.suffix else output.with_suffix(".png")
        write_image(dest, result.image)
        print(f"rendered 1 image to {dest}")
        return 0
    if output.suffix.lower() not in (".mp4", ".m4v", ".mov", ".mkv"):
        raise InputError(f"render writes an H.264 video: give OUTPUT a .mp4 name, got {output}")
    t_start = time.perf_counter()
    with VideoFileSource(input_path) as video, open_pipeline(model, face_model) as pipeline:
        _log_source(video)
        progress = Progress(video.frame_count, "render")
        state: PipelineState | None = None
        with H264Writer(output, video.fps, video.size) as writer:
            while (frame := video.read()) is not None:
                result, state = pipeline.step(frame.image, settings, state)
                writer.write(result.image)
                progress.update(writer.frames_written)
            count = writer.frames_written
        progress.close()
    elapsed = time.perf_counter() - t_start
    w, h = video.size
    print(
        f"rendered {count} frames ({w}x{h} @ {video.fps:.3g} fps) to {output} "
        f"in {elapsed:.1f} s ({count / max(elapsed, 1e-9):.1f} fps)"
    )
    return 0
