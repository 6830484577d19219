"""H.264 recording with PyAV's libx264, and an accurate probe of video files.

Two modes:

* normal (for ``render``): frames go to a temporary file of this writer's own next to the
  target (``outputs.atomic_file`` naming: ``.NAME.PID-RANDOM.partial.SUFFIX``), which replaces
  the target only when ``close()`` succeeds; on any error it is deleted, so a corrupt or
  half-written video is never left under the requested name, and two writers never share a
  temporary file. The index is moved to the front (``+faststart``). Frames may carry their own
  timestamps (variable frame rate stays variable), and an input's audio stream can be copied.
* fragmented (for live recording): fragmented MP4 written straight to the target, with a
  keyframe (and so a fragment) at least every second; a process killed mid-recording still
  leaves a playable file holding every fragment completed before the kill. The file is locked
  (``flock``) while it is written, so a second recorder on the same path is refused. When a
  write fails (disk full), the fragment cut short is removed, so the file claims exactly the
  frames it holds.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from colorme_live.core import outputs
from colorme_live.core.errors import ColormeError
from colorme_live.core.sources import VideoDecoder

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

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


_AUDIO_CODECS_MP4 = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"})
"""Audio codecs copied into an MP4/M4V as they are; a MOV also takes PCM."""


def suffix_list() -> str:
    """``.m4v/.mov/.mp4``: the video names we write, for messages."""
    return "/".join(sorted(OUTPUT_SUFFIXES))


class AudioCopy:
    """The first audio stream of a video file, copied packet by packet (no re-encoding) into
    an ``H264Writer``, interleaved with its frames. Timestamps are shifted by the video
    stream's start, so sound and picture stay in sync when frame ``pts`` are relative to it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._container: InputContainer | None = av.open(str(self.path), mode="r")
        audio = self._container.streams.audio
        video = self._container.streams.video
        if not audio:
            self._container.close()
            raise ValueError(f"{self.path} has no audio stream")
        self.stream: AudioStream = audio[0]
        self.codec = self.stream.codec_context.name
        start = video[0].start_time if video else None
        tb = video[0].time_base if video else None
        self._offset = float(start * tb) if start is not None and tb else 0.0
        self._packets = self._container.demux(self.stream)
        self._ahead: av.Packet[Any] | None = None
        self._done = False
        self.copied = 0

    @staticmethod
    def find(path: str | Path) -> AudioCopy | None:
        """An ``AudioCopy`` of ``path``'s audio, or None if it has none (or cannot be read)."""
        try:
            return AudioCopy(path)
        except (ValueError, av.FFmpegError, OSError):
            return None

    def fits(self, suffix: str) -> bool:
        """Whether this codec can be copied into a file named ``*suffix``."""
        return self.codec in _AUDIO_CODECS_MP4 or (
            suffix.lower() == ".mov" and self.codec.startswith("pcm_")
        )

    def packets_until(self, seconds: float | None) -> Iterator[av.Packet[Any]]:
        """Packets whose time (relative to the video start) is before ``seconds``, in order;
        all the rest if None."""
        while not self._done:
            packet = self._ahead
            self._ahead = None
            if packet is None:
                try:
                    packet = next(self._packets)
                except (StopIteration, av.FFmpegError):
                    self._done = True
                    return
                if packet.dts is None or packet.size == 0:  # the demuxer's flush packet
                    continue
            tb = packet.time_base
            t = float(packet.pts * tb) - self._offset if packet.pts is not None and tb else 0.0
            if seconds is not None and t >= seconds:
                self._ahead = packet
                return
            if self._offset and tb:
                shift = round(self._offset / tb)
                packet.pts = None if packet.pts is None else packet.pts - shift
                packet.dts = None if packet.dts is None else packet.dts - shift
            self.copied += 1
            yield packet

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
            self._ahead = None


class H264Writer:
    """Encode BGR uint8 frames to an H.264 MP4/MOV.

    By default frame ``i`` gets presentation time ``i / fps`` (constant frame rate); give
    ``write(image, pts=seconds)`` to keep each frame's own time instead (variable frame rate
    stays variable; ``time_base`` then says how finely times are kept, default 1/90000 s).
    ``fps`` may be a float or a Fraction; 29.97 is stored as 30000/1001. Pixel format is
    yuv420p when width and height are even, otherwise yuv444p (H.264 High 4:4:4, which
    FFmpeg-based players, OpenCV and PyAV decode; some hardware players do not).

    Closing with no frames written deletes the output and raises RecordingError. Leaving the
    ``with`` block by an exception discards a normal recording, but finishes a fragmented one
    (keeping what was recorded). An existing file at ``path`` is replaced (a normal one only
    when the new file is complete). Closing releases the encoder (its threads and buffers).
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
        time_base: Fraction | None = None,
        audio: AudioCopy | None = None,
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
        if time_base is not None and not 0 < time_base <= 1:
            raise ValueError(f"time_base must be in (0, 1], got {time_base!r}")
        self._path = Path(path)
        if self._path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise RecordingError(
                f"cannot record to {self._path}: the name must end in {suffix_list()}"
            )
        folder = self._path.parent
        if not folder.exists():
            raise RecordingError(f"cannot record to {self._path}: folder {folder} does not exist")
        if not folder.is_dir():
            raise RecordingError(f"cannot record to {self._path}: {folder} is not a folder")
        if self._path.is_dir():
            raise RecordingError(f"cannot record to {self._path}: it is a folder")

        self._rate = Fraction(fps).limit_denominator(_MAX_FPS_DENOMINATOR)
        self._time_base = (
            1 / self._rate if time_base is None else Fraction(time_base).limit_denominator(10**9)
        )
        self._size = (width, height)
        self._fragmented = fragmented
        self._frames_written = 0
        self._last_pts = -1
        self._closed = False
        self._lock_fd: int | None = None
        self._container: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._audio = audio
        self._audio_out: AudioStream | None = None
        if fragmented:
            self._target = self._path
            self._lock_fd = _lock(self._path)
        else:
            try:
                self._target = outputs.new_temp_file(self._path)
            except outputs.OutputError as e:
                raise RecordingError(str(e).replace("cannot write", "cannot record to", 1)) from e
        options = {"movflags": _FASTSTART_FLAGS}
        if fragmented:
            # Without flush_packets a finished fragment may sit in the 32 KiB I/O buffer and
            # die with the process.
            options = {"movflags": _FRAGMENTED_FLAGS, "flush_packets": "1"}
        try:
            self._container = av.open(str(self._target), mode="w", container_options=options)
        except (av.FFmpegError, OSError) as e:
            self._discard(keep=fragmented)
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
            self._stream = stream
            if audio is not None:
                if audio.fits(self._path.suffix):
                    self._audio_out = self._container.add_stream_from_template(audio.stream)
                else:
                    log.warning(
                        "the audio of %s (%s) cannot be copied into %s; writing it without sound",
                        audio.path,
                        audio.codec,
                        self._path.name,
                    )
            # Open the file and write the header now, so a bad folder fails here, not at the
            # first packet (which x264 may hold back for several frames).
            self._container.start_encoding()
        except (av.FFmpegError, OSError, ValueError) as e:
            self._discard(keep=fragmented)  # never delete a file we may not have created
            raise RecordingError(f"cannot record to {self._path}: {_reason(e)}") from e

    @property
    def path(self) -> Path:
        return self._path

    @property
    def fps(self) -> Fraction:
        return self._rate

    @property
    def time_base(self) -> Fraction:
        return self._time_base

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def fragmented(self) -> bool:
        return self._fragmented

    @property
    def frames_written(self) -> int:
        """Frames in the file (after a failure of a fragmented file: the frames it kept)."""
        return self._frames_written

    @property
    def audio_copied(self) -> bool:
        return self._audio_out is not None

    def write(self, image_bgr: npt.NDArray[np.uint8], pts: float | None = None) -> None:
        """Encode one BGR uint8 frame of exactly ``size``, shown at ``pts`` seconds (None: the
        next slot at ``fps``). Times must increase; one that does not is moved one tick on."""
        if self._closed or self._stream is None or self._container is None:
            raise ValueError("write() on a closed H264Writer")
        if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8:
            got = image_bgr.dtype if isinstance(image_bgr, np.ndarray) else type(image_bgr)
            raise TypeError(f"image must be a uint8 ndarray, got {got}")
        width, height = self._size
        if image_bgr.shape != (height, width, 3):
            raise ValueError(
                f"image must have shape {(height, width, 3)} (BGR), got {image_bgr.shape}"
            )
        if pts is not None and not math.isfinite(pts):
            raise ValueError(f"pts must be a finite number of seconds, got {pts!r}")
        if pts is None:
            ticks = round(self._frames_written / (self._rate * self._time_base))
        else:
            ticks = round(pts / self._time_base)
        ticks = max(ticks, self._last_pts + 1)
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(image_bgr), format="bgr24")
        frame.pts = ticks
        frame.time_base = self._time_base
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            if self._audio is not None and self._audio_out is not None:
                self._mux_audio(float(ticks * self._time_base))
        except (av.FFmpegError, OSError) as e:
            self._fail()
            raise RecordingError(f"writing video {self._path} failed: {_reason(e)}") from e
        self._last_pts = ticks
        self._frames_written += 1

    def _mux_audio(self, until: float | None) -> None:
        if self._audio is None or self._audio_out is None or self._container is None:
            return
        for packet in self._audio.packets_until(until):
            packet.stream = self._audio_out
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file. Safe to call more than once."""
        if self._closed:
            return
        if self._frames_written == 0:
            self._discard(keep=False)
            raise RecordingError(f"no frames were recorded to {self._path}")
        self._closed = True
        try:
            if self._stream is not None and self._container is not None:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
                self._mux_audio(None)
                self._container.close()
            if not self._fragmented:
                os.replace(self._target, self._path)
        except (av.FFmpegError, OSError) as e:
            self._discard(keep=self._fragmented)
            raise RecordingError(f"finishing video {self._path} failed: {_reason(e)}") from e
        self._release()

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
            if self._stream is not None and self._container is not None:
                with contextlib.suppress(av.FFmpegError, OSError):
                    for packet in self._stream.encode(None):
                        self._container.mux(packet)
            self._discard(keep=True)
        else:
            self._discard(keep=False)

    def _discard(self, keep: bool = False) -> None:
        """Close the container ignoring errors; delete the output unless ``keep`` (a kept
        fragmented file is cut back to its last whole fragment). Never raises."""
        self._closed = True
        if self._container is not None:
            with contextlib.suppress(av.FFmpegError, OSError):
                self._container.close()
        if not keep:
            outputs.discard(self._target)
        elif self._fragmented:
            kept = trim_fragments(self._target)
            if kept is not None:
                self._frames_written = kept
            if kept == 0:  # not one whole fragment: no recording at all
                outputs.discard(self._target)
        self._release()

    def _release(self) -> None:
        """Drop the encoder, the container and the audio source: their threads and buffers go
        with the last reference, so a stopped writer holds nothing big."""
        self._stream = None
        self._audio_out = None
        self._container = None
        if self._audio is not None:
            self._audio.close()
            self._audio = None
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None


def check_recordable(path: Path) -> None:
    """Raise RecordingError if a recording is being written to ``path`` right now (by this
    process or another); a file that is there but not being written may be replaced."""
    if fcntl is None or not path.is_file():  # pragma: no cover - no locks on Windows
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # the writer's own open reports what is wrong
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        raise RecordingError(
            f"cannot record to {path}: another recording is being written to it"
        ) from e
    finally:
        os.close(fd)


def _lock(path: Path) -> int | None:
    """Open (creating if needed) and lock ``path`` for this writer; the descriptor, whose
    closing releases the lock. Raises RecordingError if another writer holds it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError as e:
        raise RecordingError(f"cannot record to {path}: {_reason(e)}") from e
    if fcntl is None:  # pragma: no cover
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        raise RecordingError(
            f"cannot record to {path}: another recording is being written to it"
        ) from e
    return fd


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, bytes]]:
    """(offset, size, type) of the ISO-BMFF boxes in ``data[start:end]``; a size past ``end``
    is returned as it is (the box is cut)."""
    off = start
    while off + 8 <= end:
        size, kind = struct.unpack(">I4s", data[off : off + 8])
        if size == 1 and off + 16 <= end:
            size = struct.unpack(">Q", data[off + 8 : off + 16])[0]
        elif size == 0:
            size = end - off
        if size < 8:
            return
        yield off, size, kind
        off += size


def _samples(data: bytes, moof: int, size: int) -> int:
    total = 0
    for off, s, kind in _boxes(data, moof + 8, moof + size):
        if kind == b"traf":
            for off2, _, kind2 in _boxes(data, off + 8, off + s):
                if kind2 == b"trun" and off2 + 16 <= len(data):
                    total += struct.unpack(">I", data[off2 + 12 : off2 + 16])[0]
    return total


def trim_fragments(path: Path) -> int | None:
    """Cut a fragmented MP4 back to its last whole fragment (``moof`` + complete ``mdat``), so
    the frames it claims are the frames it holds; the number of video samples kept (None if the
    file could not be read or changed). Fragments are at most a few MB, but a long recording is
    large, so only the box headers are read."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            keep = 0
            kept = 0
            off = 0
            pending: tuple[int, int] | None = None  # a moof waiting for its mdat
            while off + 8 <= size:
                f.seek(off)
                head = f.read(16)
                box_size, kind = struct.unpack(">I4s", head[:8])
                if box_size == 1 and len(head) == 16:
                    box_size = struct.unpack(">Q", head[8:16])[0]
                elif box_size == 0:
                    box_size = size - off
                if box_size < 8 or off + box_size > size:
                    break  # cut short
                if kind == b"moof":
                    f.seek(off)
                    moof = f.read(box_size)
                    pending = (off, _samples(moof, 0, box_size))
                elif kind == b"mdat":
                    if pending is not None:
                        kept += pending[1]
                        pending = None
                    keep = off + box_size
                else:
                    if pending is None:
                        keep = off + box_size
                off += box_size
        if keep < size:
            os.truncate(path, keep)
            log.info("cut %s back to its last whole fragment (%d bytes removed)", path, size - keep)
        return kept
    except OSError as e:
        log.warning("could not finish %s after the error: %s", path, e)
        return None
