"""Frame sources: video files (PyAV), still images, cameras (OpenCV), and real-time pacing.

Every source is a context manager whose ``read()`` returns the next :class:`Frame`, or ``None``
at the end of the stream. Problems the user can fix (missing, empty, truncated or unreadable
files, absent cameras) raise :class:`InputError` with a one-line message naming the file.
A source is not thread-safe: read and close it from one thread.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from colorme_live.core import cameras
from colorme_live.core.errors import ColormeError, InputError
from colorme_live.core.frames import Frame

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
"""Frame rate assumed when a video does not state one, and the rate of image sequences."""

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

_MP4_BOX_TYPES = frozenset({b"ftyp", b"mdat", b"moov", b"wide"})
"""Box types an ISO-BMFF (MP4/MOV) file starts with; used only to word an error message."""

_TRUNCATION_SLACK_FRAMES = 2.0
"""A stream that ends this many frame intervals (or more) before its stated duration, having
delivered fewer frames than its index lists, was cut short."""

_CAMERA_RE = re.compile(r"\s*[0-9]+\s*")


class SourceLost(ColormeError):  # noqa: N818 - the app's name for it; not a failure of ours
    """A live source (camera) stopped delivering frames: unplugged, or taken by another app.
    Unlike the end of a file, the app may show it and try to reopen the source."""


class FrameSource(Protocol):
    """Anything that delivers frames. Implementations subclass it to inherit the context
    manager methods, which close the source on exit."""

    @property
    def fps(self) -> float:
        """Nominal frames per second of the media (or the camera's reported rate)."""
        ...

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames in pixels (of the first one for image folders)."""
        ...

    @property
    def description(self) -> str:
        """A short human-readable name for logs and the status bar."""
        ...

    @property
    def is_live(self) -> bool:
        """True if frames arrive in real time (camera, paced file) rather than on demand."""
        ...

    def read(self) -> Frame | None:
        """The next frame, or None at the end of the stream."""
        ...

    def close(self) -> None:
        """Release the underlying file or device. Safe to call more than once."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def is_image_path(path: str | Path) -> bool:
    """True if ``path`` has a still-image suffix we read (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def open_source(spec: str | Path, *, loop: bool = False, mirror: bool | None = None) -> FrameSource:
    """Open what the user named: a camera index ("0"), an image folder or file, or a video.

    A string made only of digits is a camera index; write ``./0`` for a file named ``0``.
    ``mirror`` applies to cameras only (None means mirrored, like a mirror); ``loop`` applies to
    files.
    """
    if isinstance(spec, str) and _CAMERA_RE.fullmatch(spec):
        return CameraSource(int(spec), mirror=True if mirror is None else mirror)
    path = Path(spec)
    if path.is_dir() or is_image_path(path):
        return ImageSource(path, loop=loop)
    return VideoFileSource(path, loop=loop)


def _check_file(path: Path, kind: str) -> None:
    """Raise InputError unless ``path`` is an existing, non-empty regular file."""
    if not path.exists():
        raise InputError(f"{kind} file not found: {path}")
    if not path.is_file():
        raise InputError(f"{kind} path is not a file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{kind} file is empty (0 bytes): {path}")


def _looks_like_mp4(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head[4:8] in _MP4_BOX_TYPES


class VideoDecoder:
    """Demuxes and decodes the first video stream of a file with PyAV, turning every way a
    file can be bad into an :class:`InputError`. Shared by :class:`VideoFileSource` and
    ``recording.probe_video``; PyAV types do not leave ``core``.

    PyAV does not report a file cut short if its index (the ``moov`` box) is at the start: the
    decoder just runs out of packets. So a pass that ends with fewer frames than the index lists,
    well before the stated duration, is reported as truncated.

    Rotation: phones store portrait video as landscape frames plus a display matrix saying how
    to turn them. ``rotation`` (0, 90, 180 or 270: degrees counter-clockwise, as FFmpeg
    reports it) is read from the first frame, and ``size`` is the size as displayed;
    ``upright()`` turns a decoded frame's image so.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_file(self.path, "video")
        try:
            container = av.open(str(self.path), mode="r")
        except PermissionError as e:
            raise InputError(f"cannot read video {self.path}: permission denied") from e
        except (av.FFmpegError, OSError) as e:
            reason = e.strerror or str(e)
            if _looks_like_mp4(self.path):
                raise InputError(
                    f"video {self.path} cannot be opened, probably truncated "
                    f"(an MP4/MOV without its index: interrupted download or recording?)"
                ) from e
            raise InputError(f"{self.path} is not a readable video ({reason})") from e
        if not container.streams.video:
            container.close()
            raise InputError(f"{self.path} has no video stream")
        self._container: InputContainer = container
        stream: VideoStream = container.streams.video[0]
        stream.thread_type = "AUTO"
        self._stream = stream
        rate = stream.average_rate
        self.fps = float(rate) if rate and rate > 0 else DEFAULT_FPS
        self.frame_count: int | None = stream.frames if stream.frames > 0 else None
        """Number of frames the container's index lists, if it has one."""
        self.duration: float | None = (
            float(stream.duration * stream.time_base)
            if stream.duration and stream.time_base
            else None
        )
        """Stated duration of the video stream in seconds, if known."""
        self.size = (stream.codec_context.width, stream.codec_context.height)
        self.codec = stream.codec_context.name
        self._start = (
            float(stream.start_time * stream.time_base)
            if stream.start_time is not None and stream.time_base
            else 0.0
        )
        self.time_base = stream.time_base
        """The stream's time unit (a Fraction of a second), if it states one."""
        self._frames: Iterator[VideoFrame] = container.decode(stream)
        self._decoded = 0
        self._last_time = 0.0
        self._peeked: VideoFrame | None = None
        self._peek_error: av.FFmpegError | None = None
        self.rotation = 0
        try:
            self._peeked = next(self._frames)
        except StopIteration:
            pass
        except av.FFmpegError as e:
            self._peek_error = e  # reported as truncated or corrupt by the first next_frame()
        if self._peeked is not None:
            self.rotation = _rotation_of(self._peeked)
            w, h = self._peeked.width, self._peeked.height
            self.size = (h, w) if self.rotation in (90, 270) else (w, h)

    @property
    def decoded(self) -> int:
        """Frames decoded so far in the current pass."""
        return self._decoded

    @property
    def pass_duration(self) -> float:
        """Media time covered by the current pass so far: last frame time + one interval."""
        return self._last_time + 1.0 / self.fps if self._decoded else 0.0

    def next_frame(self) -> tuple[VideoFrame, float] | None:
        """The next decoded frame and its time in seconds from the start of the stream, or
        None at the end of this pass. Raises InputError if the file is truncated or corrupt."""
        try:
            if self._peek_error is not None:
                error, self._peek_error = self._peek_error, None
                raise error
            if self._peeked is not None:
                frame, self._peeked = self._peeked, None
            else:
                frame = next(self._frames)
        except StopIteration:
            self._check_complete()
            return None
        except av.FFmpegError as e:
            raise InputError(self._truncated_message()) from e
        t = frame.time
        rel = t - self._start if t is not None else self._decoded / self.fps
        self._decoded += 1
        self._last_time = rel
        return frame, rel

    def rewind(self) -> None:
        """Seek back to the first frame and start a new pass."""
        try:
            self._container.seek(0)
        except av.FFmpegError as e:
            raise InputError(f"cannot seek to the start of video {self.path} to loop it") from e
        self._frames = self._container.decode(self._stream)
        self._peeked = None
        self._peek_error = None
        self._decoded = 0
        self._last_time = 0.0

    def upright(self, frame: VideoFrame) -> npt.NDArray[np.uint8]:
        """The frame as BGR uint8, turned as its display matrix says."""
        return _turn(_to_bgr(frame), _rotation_of(frame))

    def close(self) -> None:
        self._peeked = None
        self._container.close()

    def _truncated_message(self) -> str:
        expected = f" (of {self.frame_count})" if self.frame_count else ""
        return f"video {self.path} is truncated or corrupt after frame {self._decoded}{expected}"

    def _check_complete(self) -> None:
        if self._decoded == 0:
            raise InputError(f"video {self.path} has no decodable frames")
        if self.frame_count is None or self._decoded >= self.frame_count:
            return
        slack = _TRUNCATION_SLACK_FRAMES / self.fps
        if self.duration is None or self._last_time < self.duration - slack:
            raise InputError(self._truncated_message())


def _to_bgr(frame: VideoFrame) -> npt.NDArray[np.uint8]:
    image = frame.to_ndarray(format="bgr24")
    return np.ascontiguousarray(image, dtype=np.uint8)


def _rotation_of(frame: VideoFrame) -> int:
    """The frame's display rotation, counter-clockwise, as 0, 90, 180 or 270 degrees."""
    try:
        angle = float(frame.rotation)
    except (AttributeError, TypeError, ValueError):
        return 0
    if not math.isfinite(angle):
        return 0
    return round(angle / 90.0) % 4 * 90


_TURNS = {
    90: cv2.ROTATE_90_COUNTERCLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_CLOCKWISE,
}


def _turn(image: npt.NDArray[np.uint8], rotation: int) -> npt.NDArray[np.uint8]:
    code = _TURNS.get(rotation)
    if code is None:
        return image
    return np.ascontiguousarray(cv2.rotate(image, code), dtype=np.uint8)


class VideoFileSource(FrameSource):
    """Frames of a video file, decoded by PyAV as fast as they are read.

    With ``loop=True`` it seeks back to the start at the end and goes on; ``index`` and ``pts``
    keep increasing across loops. ``timestamp`` is the monotonic time of decoding; ``pts`` is
    the frame's own time in the file (so a variable frame rate is kept). Frames are turned
    upright as the file's rotation metadata says (``rotation``), and ``size`` is that of the
    turned frames.
    """

    def __init__(self, path: str | Path, loop: bool = False) -> None:
        self._decoder = VideoDecoder(path)
        self._loop = loop
        self._index = 0
        self._pts_offset = 0.0
        self._ended = False
        self._closed = False

    @property
    def path(self) -> Path:
        return self._decoder.path

    @property
    def fps(self) -> float:
        return self._decoder.fps

    @property
    def size(self) -> tuple[int, int]:
        return self._decoder.size

    @property
    def frame_count(self) -> int | None:
        """Frames in one pass through the file, as listed by its index (None if unknown)."""
        return self._decoder.frame_count

    @property
    def rotation(self) -> int:
        """Degrees (counter-clockwise) the frames are turned to be upright: 0, 90, 180, 270."""
        return self._decoder.rotation

    @property
    def time_base(self) -> Fraction | None:
        """The file's time unit, in seconds: frame times are whole multiples of it."""
        tb = self._decoder.time_base
        return Fraction(tb) if tb else None

    @property
    def description(self) -> str:
        return f"video {self.path.name}"

    @property
    def is_live(self) -> bool:
        return False

    def read(self) -> Frame | None:
        if self._closed:
            raise ValueError("read() on a closed VideoFileSource")
        if self._ended:
            return None
        item = self._decoder.next_frame()
        if item is None:
            if not self._loop:
                self._ended = True
                return None
            self._pts_offset += self._decoder.pass_duration
            self._decoder.rewind()
            item = self._decoder.next_frame()
            if item is None:  # pragma: no cover - next_frame raises on an empty pass
                raise InputError(f"video {self.path} has no frames after looping")
        av_frame, rel = item
        frame = Frame(
            image=self._decoder.upright(av_frame),
            index=self._index,
            timestamp=time.monotonic(),
            pts=self._pts_offset + rel,
        )
        self._index += 1
        return frame

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._decoder.close()


def _natural_key(path: Path) -> list[str | int]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"([0-9]+)", path.name)]


def _to_bgr8(image: npt.NDArray[np.generic], path: Path) -> npt.NDArray[np.uint8]:
    """Scale 16-bit and float images to uint8 (0..65535 and 0..1 map to 0..255)."""
    if image.dtype == np.uint8:
        out = image
    elif image.dtype == np.uint16:
        out = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        out = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    else:
        raise InputError(f"image {path} has an unsupported sample type ({image.dtype})")
    return np.ascontiguousarray(out, dtype=np.uint8)


def read_image(path: str | Path) -> npt.NDArray[np.uint8]:
    """Read one image file as BGR uint8 (grey expanded, alpha dropped, 16-bit scaled, EXIF
    orientation applied). Works with non-ASCII paths. Raises InputError naming the file."""
    path = Path(path)
    _check_file(path, "image")
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise InputError(f"cannot read image {path}: {e.strerror or e}") from e
    image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if image is None:
        raise InputError(f"cannot read image {path}: not a supported image, or corrupt")
    return _to_bgr8(np.asarray(image), path)


def list_images(folder: str | Path) -> list[Path]:
    """The image files in ``folder`` (by suffix, hidden files left out), in natural order.
    Raises InputError if it holds none. Whether each one reads is found out when it is read."""
    return _expand_image_paths(Path(folder))


def _expand_image_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(
                (
                    c
                    for c in p.iterdir()
                    if c.is_file() and is_image_path(c) and not c.name.startswith(".")
                ),
                key=_natural_key,
            )
            if not found:
                kinds = "/".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
                raise InputError(f"no images ({kinds}) in folder {p}")
            files.extend(found)
        else:
            _check_file(p, "image")
            files.append(p)
    if not files:
        raise InputError("no image files given")
    return files


class ImageSource(FrameSource):
    """Still images: one file, a folder of images (natural sort order, non-recursive), or a
    list of files. Each image is one frame; ``pts`` advances by ``1 / fps``. Images in a folder
    may differ in size; ``size`` is that of the first. An unreadable image raises InputError
    naming it when it is reached (the first one at construction)."""

    def __init__(
        self,
        paths: str | Path | Sequence[str | Path],
        *,
        fps: float = DEFAULT_FPS,
        loop: bool = False,
    ) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        self._paths = _expand_image_paths(paths)
        self._fps = fps
        self._loop = loop
        self._first: npt.NDArray[np.uint8] | None = read_image(self._paths[0])
        self._size = (int(self._first.shape[1]), int(self._first.shape[0]))
        self._index = 0
        self._closed = False
        if isinstance(paths, str | Path) and Path(paths).is_dir():
            self._description = f"{len(self._paths)} images in {Path(paths).name}"
        elif len(self._paths) == 1:
            self._description = f"image {self._paths[0].name}"
        else:
            self._description = f"{len(self._paths)} images"

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def frame_count(self) -> int:
        """Images in one pass."""
        return len(self._paths)

    @property
    def description(self) -> str:
        return self._description

    @property
    def is_live(self) -> bool:
        return False

    def read(self) -> Frame | None:
        if self._closed:
            raise ValueError("read() on a closed ImageSource")
        position = self._index % len(self._paths) if self._loop else self._index
        if position >= len(self._paths):
            return None
        if self._index == 0 and self._first is not None:
            image, self._first = self._first, None
        else:
            image = read_image(self._paths[position])
        frame = Frame(
            image=image,
            index=self._index,
            timestamp=time.monotonic(),
            pts=self._index / self._fps,
        )
        self._index += 1
        return frame

    def close(self) -> None:
        self._closed = True
        self._first = None


class CameraSource(FrameSource):
    """A webcam through OpenCV. ``read()`` blocks until the next frame and never returns
    None: a camera that stops delivering raises :class:`SourceLost`. With ``mirror`` the image
    is flipped left-right at capture, so the user sees themselves as in a mirror.

    It asks for ``size`` at ``fps`` (default 1280x720 at 30 fps; see ``cameras.request_plan``
    for MJPG and the request order), with the platform's backends in turn
    (``cameras.backend_preference``), and keeps the first request under which the camera
    delivers a frame. ``mode`` is what it really delivers. ``capture_factory`` is
    ``cv2.VideoCapture`` (tests give a stand-in for its property interface)."""

    def __init__(
        self,
        index: int,
        size: tuple[int, int] | None = None,
        mirror: bool = True,
        fps: float | None = None,
        *,
        name: str | None = None,
        platform: str = sys.platform,
        capture_factory: Callable[[int, int], Any] | None = None,
    ) -> None:
        self._index_device = cameras.check_index(index)
        self._name = name
        self._mirror = mirror
        self._asked_fps = fps if fps is not None else cameras.DEFAULT_CAMERA_FPS
        tried: list[str] = []
        opened: tuple[Any, cameras.Backend, cameras.CaptureRequest, np.ndarray] | None = None
        factory = capture_factory if capture_factory is not None else cv2.VideoCapture
        for backend in cameras.backend_preference(platform):
            opened = self._open(backend, size, fps, factory, tried)
            if opened is not None:
                break
        if opened is None:
            detail = f" ({'; '.join(tried)})" if tried else ""
            raise InputError(
                f"no camera {index} found (is it connected, and not in use by another app?){detail}"
            )
        cap, backend, request, first = opened
        self._cap = cap
        self.backend = backend
        self.request = request
        self.mode = cameras.delivered_mode(cap, (int(first.shape[1]), int(first.shape[0])))
        self._first: np.ndarray | None = first
        self._size = self.mode.size
        self._fps = self.mode.fps if self.mode.fps > 0 else self._asked_fps
        asked = cameras.CameraMode(*request.size, request.fps, request.fourcc or "")
        log.info(
            "camera %d%s opened with %s: asked %s, delivers %s",
            index,
            f" ({name})" if name else "",
            backend.name,
            asked,
            self.mode,
        )
        self._frame_index = 0
        self._t0 = time.monotonic()
        self._closed = False

    def _open(
        self,
        backend: cameras.Backend,
        size: tuple[int, int] | None,
        fps: float | None,
        factory: Callable[[int, int], Any],
        tried: list[str],
    ) -> tuple[Any, cameras.Backend, cameras.CaptureRequest, np.ndarray] | None:
        """Open with ``backend`` and find a request the camera delivers frames under; a
        failed request is retried on a fresh handle (a driver may not switch back)."""
        cameras.prepare_backend(backend)
        for request in cameras.request_plan(size, fps, backend):
            cap = factory(self._index_device, backend.api)
            if not cap.isOpened():
                cap.release()
                tried.append(f"{backend.name}: not found")
                return None
            cameras.apply_request(cap, request)
            ok, image = cap.read()
            if ok and image is not None and np.asarray(image).size > 0:
                return cap, backend, request, np.asarray(image)
            cap.release()
            fmt = f" {request.fourcc}" if request.fourcc else ""
            tried.append(f"{backend.name}{fmt}: opened but gave no frame")
            log.info("camera %d: no frame with %s%s", self._index_device, backend.name, fmt)
        return None

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def asked_fps(self) -> float:
        """The rate asked for (to compare with the rate delivered)."""
        return self._asked_fps

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def description(self) -> str:
        name = f" ({self._name})" if self._name else ""
        return f"camera {self._index_device}{name} {self.mode} via {self.backend.name}"

    @property
    def is_live(self) -> bool:
        return True

    def read(self) -> Frame:
        if self._closed:
            raise ValueError("read() on a closed CameraSource")
        if self._first is not None:
            ok, image = True, self._first
            self._first = None
        else:
            ok, image = self._cap.read()
        now = time.monotonic()
        if not ok or image is None:
            raise SourceLost(
                f"camera {self._index_device} stopped delivering frames "
                f"(unplugged, or taken by another app?)"
            )
        image = np.asarray(image)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        if self._mirror:
            image = cv2.flip(image, 1)
        bgr: npt.NDArray[np.uint8] = np.ascontiguousarray(image, dtype=np.uint8)
        self._size = (int(bgr.shape[1]), int(bgr.shape[0]))
        frame = Frame(image=bgr, index=self._frame_index, timestamp=now, pts=now - self._t0)
        self._frame_index += 1
        return frame

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._first = None
            self._cap.release()


class MirroredSource(FrameSource):
    """Another source's frames flipped left-right (``--mirror`` for a video file)."""

    def __init__(self, source: FrameSource) -> None:
        self._source = source

    @property
    def fps(self) -> float:
        return self._source.fps

    @property
    def size(self) -> tuple[int, int]:
        return self._source.size

    @property
    def description(self) -> str:
        return f"{self._source.description} (mirrored)"

    @property
    def is_live(self) -> bool:
        return self._source.is_live

    def read(self) -> Frame | None:
        frame = self._source.read()
        if frame is None:
            return None
        image: npt.NDArray[np.uint8] = np.ascontiguousarray(cv2.flip(frame.image, 1), np.uint8)
        return Frame(image=image, index=frame.index, timestamp=frame.timestamp, pts=frame.pts)

    def close(self) -> None:
        self._source.close()


class PacedSource(FrameSource):
    """Delivers another source's frames in real time, as a camera would: frame k is released
    ``k / (fps * speed)`` seconds after the first, and stamped with the delivery time.

    It never bursts to catch up: if reading falls behind by more than a frame interval, the
    schedule restarts from now. ``speed`` > 1 plays faster (for tests); ``speed=0`` is unpaced
    (frames are only restamped). ``fps`` defaults to the wrapped source's rate; the ``fps``
    property reports that media rate, not the sped-up delivery rate. Closing it closes the
    wrapped source.
    """

    def __init__(
        self,
        source: FrameSource,
        fps: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        speed: float = 1.0,
    ) -> None:
        rate = source.fps if fps is None else fps
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"fps must be a positive number, got {rate!r}")
        if not (math.isfinite(speed) and speed >= 0):
            raise ValueError(f"speed must be >= 0 (0 = unpaced), got {speed!r}")
        self._source = source
        self._fps = rate
        self._interval = 1.0 / (rate * speed) if speed > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._due: float | None = None

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        return self._source.size

    @property
    def description(self) -> str:
        return self._source.description

    @property
    def is_live(self) -> bool:
        return True

    def read(self) -> Frame | None:
        frame = self._source.read()
        if frame is None:
            return None
        now = self._clock()
        if self._interval > 0:
            if self._due is None:
                self._due = now
            else:
                self._due += self._interval
                if now > self._due + self._interval:
                    self._due = now
                elif now < self._due:
                    self._sleep(self._due - now)
                    now = self._clock()
        return dataclasses.replace(frame, timestamp=now)

    def close(self) -> None:
        self._source.close()
