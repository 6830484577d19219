"""H.264 recording with PyAV's libx264, and an accurate probe of video files.

Two modes:

* normal (for ``render``): frames go to ``.NAME.partial.SUFFIX`` next to the target, which
  replaces the target only when ``close()`` succeeds; on any error the partial file is deleted,
  so a corrupt or half-written video is never left under the requested name. The index is
  moved to the front (``+faststart``) so players can start before the file is fully read.
* fragmented (for live recording): fragmented MP4 written straight to the target, with a
  keyframe (and so a fragment) at least every second; a process killed mid-recording still
  leaves a playable file holding every fragment completed before the kill.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self

import av
import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame

from colorme_live.core.errors import ColormeError
from colorme_live.core.sources import VideoDecoder

OUTPUT_SUFFIXES = frozenset({".mp4", ".mov", ".m4v"})
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
_MAX_FPS_DENOMINATOR = 1001
"""29.97 becomes exactly 30000/1001, 23.976 becomes 24000/1001."""
_AVCOL_SPC_SMPTE170M = 6
_AVCOL_RANGE_MPEG = 1
"""PyAV converts BGR to YUV with swscale's default BT.601 matrix in limited range; the stream
is tagged so, or players that guess BT.709 for HD sizes would shift the colours."""
_FASTSTART_FLAGS = "+faststart"
_FRAGMENTED_FLAGS = "frag_keyframe+empty_moov+default_base_moof"


class RecordingError(ColormeError):
    """A video could not be written: bad folder, no permission, disk full, unsupported name."""


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What ``probe_video`` found; ``frames`` is counted by decoding every frame."""

    frames: int
    fps: float
    width: int
    height: int
    codec: str


def probe_video(path: str | Path) -> VideoInfo:
    """Open ``path`` and decode every frame to count them. Raises InputError for missing,
    unreadable, truncated or corrupt files."""
    decoder = VideoDecoder(path)
    try:
        frames = 0
        while decoder.next_frame() is not None:
            frames += 1
    finally:
        decoder.close()
    width, height = decoder.size
    return VideoInfo(
        frames=frames, fps=decoder.fps, width=width, height=height, codec=decoder.codec
    )


def _reason(e: BaseException) -> str:
    if isinstance(e, OSError | av.FFmpegError) and e.strerror:
        return e.strerror
    return str(e)


class H264Writer:
    """Encode BGR uint8 frames to an H.264 MP4/MOV at a constant frame rate.

    Frame ``i`` gets presentation time ``i / fps``; the file holds exactly the frames written.
    ``fps`` may be a float or a Fraction; 29.97 is stored as 30000/1001. Pixel format is
    yuv420p when width and height are even, otherwise yuv444p (H.264 High 4:4:4, which
    FFmpeg-based players, OpenCV and PyAV decode; some hardware players do not).

    Closing with no frames written deletes the output and raises RecordingError. Leaving the
    ``with`` block by an exception discards a normal recording, but finishes a fragmented one
    (keeping what was recorded). An existing file at ``path`` is replaced.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float | Fraction,
        size: tuple[int, int],
        *,
        fragmented: bool = False,
        crf: int = 20,
        preset: str = "ultrafast",
    ) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        width, height = size
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            raise ValueError(f"size must be two positive ints (width, height), got {size!r}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {crf!r}")
        if preset not in X264_PRESETS:
            raise ValueError(f"preset must be one of {', '.join(X264_PRESETS)}, got {preset!r}")
        self._path = Path(path)
        if self._path.suffix.lower() not in OUTPUT_SUFFIXES:
            kinds = "/".join(sorted(OUTPUT_SUFFIXES))
            raise RecordingError(f"cannot record to {self._path}: the name must end in {kinds}")
        folder = self._path.parent
        if not folder.exists():
            raise RecordingError(f"cannot record to {self._path}: folder {folder} does not exist")
        if not folder.is_dir():
            raise RecordingError(f"cannot record to {self._path}: {folder} is not a folder")
        if self._path.is_dir():
            raise RecordingError(f"cannot record to {self._path}: it is a folder")

        self._rate = Fraction(fps).limit_denominator(_MAX_FPS_DENOMINATOR)
        self._time_base = 1 / self._rate
        self._size = (width, height)
        self._fragmented = fragmented
        self._target = (
            self._path if fragmented else folder / f".{self._path.stem}.partial{self._path.suffix}"
        )
        options = {"movflags": _FASTSTART_FLAGS}
        if fragmented:
            # Without flush_packets a finished fragment may sit in the 32 KiB I/O buffer and
            # die with the process.
            options = {"movflags": _FRAGMENTED_FLAGS, "flush_packets": "1"}
        try:
            self._container = av.open(str(self._target), mode="w", container_options=options)
        except (av.FFmpegError, OSError) as e:
            raise RecordingError(f"cannot record to {self._path}: {_reason(e)}") from e
        try:
            stream = self._container.add_stream("libx264", rate=self._rate)
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
            stream.time_base = self._time_base  # a hint: the MP4 muxer picks its own timescale
            stream.codec_context.time_base = self._time_base
            stream.codec_context.colorspace = _AVCOL_SPC_SMPTE170M
            stream.codec_context.color_range = _AVCOL_RANGE_MPEG
            if fragmented:
                stream.codec_context.gop_size = max(1, round(float(self._rate)))
            stream.codec_context.options = {"crf": str(crf), "preset": preset}
            # Open the file and write the header now, so a bad folder fails here, not at the
            # first packet (which x264 may hold back for several frames).
            self._container.start_encoding()
        except (av.FFmpegError, OSError, ValueError) as e:
            self._discard(keep=fragmented)  # never delete a file we may not have created
            raise RecordingError(f"cannot record to {self._path}: {_reason(e)}") from e
        self._stream = stream
        self._frames_written = 0
        self._closed = False

    @property
    def path(self) -> Path:
        return self._path

    @property
    def fps(self) -> Fraction:
        return self._rate

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def fragmented(self) -> bool:
        return self._fragmented

    @property
    def frames_written(self) -> int:
        return self._frames_written

    def write(self, image_bgr: npt.NDArray[np.uint8]) -> None:
        """Encode one BGR uint8 frame of exactly ``size``."""
        if self._closed:
            raise ValueError("write() on a closed H264Writer")
        if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8:
            got = image_bgr.dtype if isinstance(image_bgr, np.ndarray) else type(image_bgr)
            raise TypeError(f"image must be a uint8 ndarray, got {got}")
        width, height = self._size
        if image_bgr.shape != (height, width, 3):
            raise ValueError(
                f"image must have shape {(height, width, 3)} (BGR), got {image_bgr.shape}"
            )
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(image_bgr), format="bgr24")
        frame.pts = self._frames_written
        frame.time_base = self._time_base
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as e:
            self._fail()
            raise RecordingError(f"writing video {self._path} failed: {_reason(e)}") from e
        self._frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        if self._frames_written == 0:
            self._discard(keep=False)
            raise RecordingError(f"no frames were recorded to {self._path}")
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
            if not self._fragmented:
                os.replace(self._target, self._path)
        except (av.FFmpegError, OSError) as e:
            self._discard(keep=self._fragmented)
            raise RecordingError(f"finishing video {self._path} failed: {_reason(e)}") from e

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        elif not self._closed:
            self._fail()

    def _fail(self) -> None:
        """After an error: finish a fragmented file as far as possible, discard a normal one.
        Secondary errors are suppressed here: the first error is being raised."""
        if self._closed:
            return
        self._closed = True
        if self._fragmented and self._frames_written > 0:
            with contextlib.suppress(av.FFmpegError, OSError):
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
            self._discard(keep=True)
        else:
            self._discard(keep=False)

    def _discard(self, keep: bool = False) -> None:
        """Close the container ignoring errors; delete the output unless ``keep``."""
        self._closed = True
        with contextlib.suppress(av.FFmpegError, OSError):
            self._container.close()
        if not keep:
            self._target.unlink(missing_ok=True)
