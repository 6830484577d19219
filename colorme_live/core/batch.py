"""The headless commands: ``mask`` (hair alpha PNGs) and ``render`` (a recoloured video,
image, or folder of images).

Every output is whole or absent (``outputs``): checked before the model loads, written to a
temporary file of its own, renamed into place when complete. On a folder, unreadable images
are skipped with one warning each and the summary names them; exit 0 if anything was written."""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from colorme_live.core import outputs
from colorme_live.core.errors import InputError
from colorme_live.core.faces import FaceDetector
from colorme_live.core.model import resolve_face_model, resolve_model
from colorme_live.core.outputs import check_not_input, same_file
from colorme_live.core.pipeline import FrameResult, Pipeline, PipelineState
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from colorme_live.core.sources import (
    IMAGE_SUFFIXES,
    VideoFileSource,
    is_image_path,
    list_images,
    read_image,
)
from colorme_live.core.video_writer import OUTPUT_SUFFIXES, AudioCopy, H264Writer, suffix_list

log = logging.getLogger(__name__)

DEFAULT_TIME_BASE = Fraction(1, 90000)
"""Frame times are kept to this unit when the input states none."""


@contextmanager
def open_pipeline(
    model: str | Path | None, face_model: str | Path | None = None, *, faces: bool = True
) -> Iterator[Pipeline]:
    """A pipeline with loaded, validated models (so a bad model fails before any output).
    The face model is resolved like the hair model; without one (offline, nothing cached,
    or ``faces=False``) whole frames are segmented."""
    # one-shot commands: MediaPipe's native lines never reach the user's terminal
    segmenter = HairSegmenter(resolve_model(model), quiet_runs=True)
    face_path = resolve_face_model(face_model) if faces else None
    detector = None if face_path is None else FaceDetector(face_path, quiet_runs=True)
    with Pipeline(segmenter, detector) as pipeline:
        segmenter.load()
        if detector is not None:
            detector.load()
        yield pipeline


def alpha_to_png(alpha: np.ndarray) -> np.ndarray:
    """Float alpha in 0..1 -> uint8 0..255, rounded."""
    return np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)


def write_image(path: Path, image: np.ndarray) -> None:
    """Write an image (format by extension) whole or not at all: it goes to a temporary file
    in the same folder, renamed over ``path`` when complete. Unicode paths work; the folder
    must exist. Failures are ColormeErrors (exit 2) and leave nothing new in the folder."""
    ext = path.suffix.lower() or ".png"
    try:
        ok, buf = cv2.imencode(ext, image)
    except cv2.error:
        ok = False
    if not ok:
        raise InputError(f"cannot encode an image as {ext!r} for {path}")
    outputs.write_bytes_atomic(path, buf.tobytes())


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


_MASK_SUFFIX = ".png"


def _kinds(suffixes: frozenset[str]) -> str:
    return "/".join(sorted(suffixes))


def mask_names(paths: list[Path]) -> list[str]:
    """Output names for the masks of ``paths``: ``STEM.png``, or ``NAME.png`` (the input's
    suffix kept) for inputs whose stems clash, e.g. ``photo.jpg`` and ``photo.png`` give
    ``photo.jpg.png`` and ``photo.png.png``. Never two equal names (case-insensitively)."""
    stems = Counter(p.stem.lower() for p in paths)
    names = [f"{p.name if stems[p.stem.lower()] > 1 else p.stem}{_MASK_SUFFIX}" for p in paths]
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate = f"{Path(name).stem}-{n}{_MASK_SUFFIX}"
            n += 1
        seen.add(candidate.lower())
        unique.append(candidate)
    return unique


@dataclass(slots=True)
class _Batch:
    """What a folder batch did: files written, and the ones skipped with why."""

    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append((path.name, reason))
        log.warning("skipped %s: %s", path.name, reason)

    def summary(self, verb: str, noun: str, output: Path) -> str:
        plural = "s" if self.written != 1 else ""
        text = f"{verb} {self.written} {noun}{plural} to {output}"
        if self.skipped:
            names = ", ".join(name for name, _ in self.skipped)
            text += f", skipped {len(self.skipped)}: {names}"
        return text


def _run_folder(
    folder: Path,
    output: Path,
    settings: Settings,
    model: str | Path | None,
    face_model: str | Path | None,
    *,
    names: Callable[[list[Path]], list[str]],
    produce: Callable[[FrameResult], np.ndarray],
    verb: str,
    noun: str,
) -> int:
    """Every readable image in ``folder`` through the pipeline into ``output/NAME``; each
    unreadable one skipped with a warning; a summary line. Exit 0 if anything was written."""
    paths = list_images(folder)
    if output.exists() and same_file(folder, output):
        raise InputError(
            f"the output folder {output} is the input folder: choose another "
            f"(the {noun}s would replace the photos)"
        )
    if is_image_path(output) or output.suffix.lower() in OUTPUT_SUFFIXES:
        raise InputError(f"the input is a folder, so OUTPUT must be a folder, got {output}")
    outputs.make_folder(output)
    batch = _Batch()
    with open_pipeline(model, face_model) as pipeline:
        for path, name in zip(paths, names(paths), strict=True):
            try:
                image = read_image(path)
            except InputError as e:
                batch.skip(path, str(e))
                continue
            result, _ = pipeline.step(image, settings, None)  # state reset per image
            write_image(output / name, produce(result))
            batch.written += 1
    summary = batch.summary(verb, noun, output)
    if batch.written == 0:
        raise InputError(f"no {noun} written: none of the images in {folder} could be read")
    print(summary)
    return 0


def _check_input(input_path: Path) -> None:
    if not input_path.exists():
        raise InputError(f"input not found: {input_path}")


def write_masks(
    input_path: Path,
    output: Path,
    settings: Settings,
    *,
    model: str | Path | None,
    face_model: str | Path | None = None,
) -> int:
    """``colorme-live mask``: PNG alpha masks for an image, a directory of images, or a video.

    Everything that can be checked (input readable, output not the input, output folder
    writable) is checked before the model loads."""
    _check_input(input_path)
    if input_path.is_dir():
        return _run_folder(
            input_path,
            output,
            settings,
            model,
            face_model,
            names=mask_names,
            produce=lambda r: alpha_to_png(r.alpha),
            verb="wrote",
            noun="mask",
        )
    if is_image_path(input_path):
        if output.suffix and output.suffix.lower() != _MASK_SUFFIX:
            raise InputError(
                f"a mask is an 8-bit PNG: give OUTPUT a .png name (or a folder), got {output}"
            )
        if output.suffix:
            dest = output
            outputs.check_target(dest)
        else:
            outputs.make_folder(output)
            dest = output / f"{input_path.stem}{_MASK_SUFFIX}"
        check_not_input(input_path, dest)
        image = read_image(input_path)
        with open_pipeline(model, face_model) as pipeline:
            result, _ = pipeline.step(image, settings, None)
        write_image(dest, alpha_to_png(result.alpha))
        print(f"wrote 1 mask to {dest}")
        return 0
    if output.suffix.lower() in IMAGE_SUFFIXES | OUTPUT_SUFFIXES:
        raise InputError(f"the masks of a video go into a folder: OUTPUT must be one, got {output}")
    with VideoFileSource(input_path) as video:
        outputs.make_folder(output)
        with open_pipeline(model, face_model) as pipeline:
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
    """``colorme-live render``: recolour every frame of a video, one image, or every image in
    a folder (one image per photo, same name and format, into the OUTPUT folder).

    A video keeps each frame's time (a variable frame rate stays variable), its rotation is
    applied (the output is upright), and its audio stream is copied unchanged."""
    _check_input(input_path)
    if input_path.is_dir():
        return _run_folder(
            input_path,
            output,
            settings,
            model,
            face_model,
            names=lambda paths: [p.name for p in paths],
            produce=lambda r: r.image,
            verb="rendered",
            noun="image",
        )
    if is_image_path(input_path):
        dest = output if output.suffix else output.with_suffix(".png")
        if not is_image_path(dest):
            raise InputError(
                f"rendering an image writes an image: give OUTPUT a "
                f"{_kinds(IMAGE_SUFFIXES)} name, got {output}"
            )
        outputs.check_target(dest)
        check_not_input(input_path, dest)
        image = read_image(input_path)
        with open_pipeline(model, face_model) as pipeline:
            result, _ = pipeline.step(image, settings, None)
        write_image(dest, result.image)
        print(f"rendered 1 image to {dest}")
        return 0
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(
            f"render writes an H.264 video: give OUTPUT a {suffix_list()} name, got {output}"
        )
    outputs.check_target(output)
    check_not_input(input_path, output)
    t_start = time.perf_counter()
    with VideoFileSource(input_path) as video, open_pipeline(model, face_model) as pipeline:
        _log_source(video)
        progress = Progress(video.frame_count, "render")
        state: PipelineState | None = None
        audio = AudioCopy.find(input_path)
        time_base = video.time_base or DEFAULT_TIME_BASE
        try:
            writer = H264Writer(output, video.fps, video.size, time_base=time_base, audio=audio)
        except BaseException:
            if audio is not None:
                audio.close()
            raise
        with writer:
            while (frame := video.read()) is not None:
                result, state = pipeline.step(frame.image, settings, state)
                writer.write(result.image, pts=frame.pts)
                progress.update(writer.frames_written)
            count = writer.frames_written
            sound = " with its sound" if writer.audio_copied else ""
        progress.close()
    elapsed = time.perf_counter() - t_start
    w, h = video.size
    print(
        f"rendered {count} frames ({w}x{h} @ {video.fps:.3g} fps){sound} to {output} "
        f"in {elapsed:.1f} s ({count / max(elapsed, 1e-9):.1f} fps)"
    )
    return 0
