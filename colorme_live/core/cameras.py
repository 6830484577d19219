"""Cameras: which ones there are (by their system names), how OpenCV should open them, and
the mode they actually deliver. Qt-free; ``sources.CameraSource`` uses it to open a camera.

* **Names** come from ``cv2_enumerate_cameras``, which lists each camera with the index
  OpenCV's backend gives it (V4L2 ``/dev/videoN`` on Linux, DirectShow on Windows,
  AVFoundation on macOS), so a name always maps to the index we open.
* **Modes** (sizes, rates, formats) are read from the V4L2 driver on Linux; elsewhere the
  camera is asked for the mode and reports what it took.
* **Backend** (:func:`backend_preference`): V4L2 on Linux, AVFoundation on macOS, and on
  Windows DirectShow before Media Foundation: MSMF's hardware transforms take 5-30 s to open
  a camera (OpenCV issues 17687, 26495, 27917), DirectShow opens in about a second and gives
  720p/1080p at 30 fps with MJPG. If MSMF is used (DirectShow failed), its hardware
  transforms are turned off (``OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS=0``, unless the user
  set it), which removes the delay.
* **Request order** (:func:`apply_request`): FOURCC, then width, then height, then fps. V4L2
  picks the frame sizes and rates the *current* pixel format offers, so MJPG must be chosen
  before asking for 1280x720 at 30 fps: uncompressed YUYV at 720p30 needs 55 MB/s, more than
  USB 2 carries, and the driver falls back to about 10 fps.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2

from colorme_live.core.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_CAMERA_SIZE = (1280, 720)
"""The HD mode almost every webcam offers; asked for unless ``--size`` says otherwise."""
DEFAULT_CAMERA_FPS = 30.0
MAX_CAMERA_INDEX = 99
"""OpenCV reads ``index // 100`` as a backend number when no backend is given; indices above
this are refused instead of reaching a backend we did not choose."""
USB2_BYTES_PER_S = 24e6
"""What a USB 2 camera can send uncompressed in practice (isochronous, one device). Modes
that need more are asked for in MJPG."""
MSMF_HW_ENV = "OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS"
LOW_FPS_FRACTION = 0.6
"""A camera delivering less than this fraction of the asked rate, for ``LOW_FPS_WINDOW_S``,
is reported as slow."""
LOW_FPS_WINDOW_S = 3.0


@dataclass(frozen=True, slots=True)
class Backend:
    api: int
    """OpenCV's ``cv2.CAP_*`` number."""
    name: str
    fourcc: bool
    """Whether asking for a FOURCC (MJPG) has any effect with this backend."""


V4L2 = Backend(cv2.CAP_V4L2, "V4L2", True)
DSHOW = Backend(cv2.CAP_DSHOW, "DirectShow", True)
MSMF = Backend(cv2.CAP_MSMF, "Media Foundation", False)
AVFOUNDATION = Backend(cv2.CAP_AVFOUNDATION, "AVFoundation", False)
ANY = Backend(cv2.CAP_ANY, "OpenCV default", False)


def backend_preference(platform: str = sys.platform) -> tuple[Backend, ...]:
    """The OpenCV backends to try, in order, on ``platform`` (``sys.platform``'s value)."""
    if platform.startswith("win"):
        return (DSHOW, MSMF)
    if platform == "darwin":
        return (AVFOUNDATION,)
    if platform.startswith("linux"):
        return (V4L2, ANY)
    return (ANY,)


def listing_backend(platform: str = sys.platform) -> Backend:
    """The backend whose indices the camera list uses: the first one we open with."""
    return backend_preference(platform)[0]


def prepare_backend(backend: Backend, environ: dict[str, str] | None = None) -> None:
    """Settings a backend needs before its first open (MSMF: no hardware transforms, unless
    the user chose). OpenCV reads this variable once, at MSMF's first use."""
    env = os.environ if environ is None else environ
    if backend.api == MSMF.api:
        env.setdefault(MSMF_HW_ENV, "0")


def check_index(index: int) -> int:
    """``index`` if it is a camera index OpenCV may be given; InputError otherwise. (A
    negative one made OpenCV 4.x crash the process inside ``VideoCapture``.)"""
    if isinstance(index, bool) or not isinstance(index, int):
        raise InputError(f"camera index must be a whole number, got {index!r}")
    if not 0 <= index <= MAX_CAMERA_INDEX:
        raise InputError(
            f"camera index must be 0-{MAX_CAMERA_INDEX}, got {index} "
            f"(or a camera's name: see 'colorme-live cameras')"
        )
    return index


# -- modes ---------------------------------------------------------------------------------


def fourcc_text(code: float | int) -> str:
    """OpenCV's FOURCC property (a float holding four bytes) as text: ``"MJPG"``; ``""`` for
    none or an unprintable one."""
    if not math.isfinite(float(code)):
        return ""
    value = int(code) & 0xFFFFFFFF
    chars = bytes((value >> (8 * i)) & 0xFF for i in range(4))
    if value == 0 or not all(32 <= c < 127 for c in chars):
        return ""
    return chars.decode("ascii").strip()


@dataclass(frozen=True, slots=True)
class CameraMode:
    width: int
    height: int
    fps: float
    """Frames per second (0 when the camera does not say)."""
    fourcc: str = ""
    """Pixel format, e.g. ``"MJPG"``, ``"YUYV"``; ``""`` when unknown."""

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def __str__(self) -> str:
        rate = f"@{self.fps:g}" if self.fps > 0 else ""
        fmt = f" {self.fourcc}" if self.fourcc else ""
        return f"{self.width}x{self.height}{rate}{fmt}"


def needs_mjpg(size: tuple[int, int], fps: float) -> bool:
    """Whether ``size`` at ``fps`` needs compression over USB 2 (uncompressed YUYV is 2 bytes
    per pixel): 640x480@30 does not, 1280x720@30 and 1920x1080@30 do."""
    return size[0] * size[1] * 2 * fps > USB2_BYTES_PER_S


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    size: tuple[int, int]
    fps: float
    fourcc: str | None
    """``"MJPG"`` to ask for it; None to leave the driver's format."""


def request_plan(
    size: tuple[int, int] | None, fps: float | None, backend: Backend
) -> tuple[CaptureRequest, ...]:
    """The modes to try, in order: the one asked for (default 1280x720 at 30 fps) in MJPG
    where the backend takes a FOURCC and the mode needs it, then the same without MJPG (a
    camera that cannot stream MJPG gets its own format at that size)."""
    want_size = size if size is not None else DEFAULT_CAMERA_SIZE
    want_fps = fps if fps is not None else DEFAULT_CAMERA_FPS
    plain = CaptureRequest(want_size, want_fps, None)
    if backend.fourcc and needs_mjpg(want_size, want_fps):
        return (CaptureRequest(want_size, want_fps, "MJPG"), plain)
    return (plain,)


class CaptureProperties(Protocol):
    """The part of ``cv2.VideoCapture`` that requests and reports a mode."""

    def set(self, prop: int, value: float) -> bool: ...

    def get(self, prop: int) -> float: ...


def apply_request(cap: CaptureProperties, request: CaptureRequest) -> None:
    """Ask ``cap`` for ``request``: FOURCC first, then width, height and fps (V4L2 offers the
    sizes and rates of the format chosen at the time). A refused property is not an error:
    the camera keeps the nearest mode it has, and :func:`delivered_mode` says which."""
    if request.fourcc is not None:
        cap.set(cv2.CAP_PROP_FOURCC, float(cv2.VideoWriter.fourcc(*request.fourcc)))
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, float(request.size[0]))
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, float(request.size[1]))
    cap.set(cv2.CAP_PROP_FPS, float(request.fps))


def delivered_mode(cap: CaptureProperties, frame_size: tuple[int, int] | None) -> CameraMode:
    """The mode ``cap`` delivers: the size of a frame it gave (else what it reports), its
    reported rate (0 if none) and format."""
    if frame_size is None:
        frame_size = (
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    return CameraMode(
        frame_size[0],
        frame_size[1],
        fps if math.isfinite(fps) and fps > 0 else 0.0,
        fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)),
    )


# -- the delivered frame rate ------------------------------------------------------------------


class RateMonitor:
    """Measures the rate a camera really delivers, from the capture index and time of the
    frames seen (frames skipped in between still count), and says when it stays far below the
    rate asked for: the usual cause is a dark room, where auto-exposure lengthens each frame's
    exposure past the frame interval."""

    def __init__(
        self,
        asked_fps: float,
        *,
        window_s: float = LOW_FPS_WINDOW_S,
        fraction: float = LOW_FPS_FRACTION,
    ) -> None:
        if not (math.isfinite(asked_fps) and asked_fps > 0):
            raise ValueError(f"asked_fps must be a positive number, got {asked_fps!r}")
        self.asked_fps = asked_fps
        self._window_s = window_s
        self._fraction = fraction
        self._seen: deque[tuple[int, float]] = deque()

    def add(self, index: int, timestamp: float) -> None:
        """A frame captured as number ``index`` at ``timestamp`` (seconds, monotonic)."""
        if self._seen and index <= self._seen[-1][0]:
            self._seen.clear()  # a new source started counting again
        self._seen.append((index, timestamp))
        while len(self._seen) > 2 and timestamp - self._seen[1][1] >= self._window_s:
            self._seen.popleft()

    @property
    def rate(self) -> float | None:
        """Frames per second over the last ``window_s`` seconds; None until it has seen that
        long."""
        if len(self._seen) < 2:
            return None
        (i0, t0), (i1, t1) = self._seen[0], self._seen[-1]
        if t1 - t0 < self._window_s * 0.999:
            return None
        return (i1 - i0) / (t1 - t0)

    @property
    def warning(self) -> str | None:
        """A line for the status bar while the rate is far below the asked one, else None."""
        rate = self.rate
        if rate is None or rate >= self._fraction * self.asked_fps:
            return None
        return (
            f"camera gives {rate:.0f} of {self.asked_fps:g} fps: too dark? (in low light the "
            f"camera lengthens its exposure; add light, or lower the size)"
        )


# -- the camera list -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CameraDevice:
    index: int
    """What OpenCV (and ``--camera``) opens it by, with :func:`listing_backend`."""
    name: str
    path: str | None = None
    """``/dev/videoN`` on Linux, the device path or unique id elsewhere."""
    modes: tuple[CameraMode, ...] = ()
    """What the driver offers, best first; empty where the platform does not list them."""


Enumerator = Callable[[int], Sequence[object]]


def _enumerate(api: int) -> Sequence[object]:
    from cv2_enumerate_cameras import enumerate_cameras

    return list(enumerate_cameras(api))


def list_cameras(
    platform: str = sys.platform,
    enumerate_devices: Enumerator = _enumerate,
    modes: Callable[[str], tuple[CameraMode, ...]] | None = None,
) -> list[CameraDevice]:
    """The cameras connected now, by index, with their system names (and modes on Linux).
    An empty list if there are none or the platform cannot list them."""
    backend = listing_backend(platform)
    list_modes = modes if modes is not None else (v4l2_modes if backend is V4L2 else None)
    try:
        found = enumerate_devices(backend.api)
    except (OSError, NotImplementedError, ImportError) as e:
        log.warning("cannot list the cameras: %s", e)
        return []
    cameras: list[CameraDevice] = []
    for info in found:
        index = int(getattr(info, "index", -1))
        if not 0 <= index <= MAX_CAMERA_INDEX:
            continue
        name = str(getattr(info, "name", "") or f"camera {index}")
        path = getattr(info, "path", None)
        path = str(path) if path else None
        offered = list_modes(path) if list_modes is not None and path else ()
        cameras.append(CameraDevice(index, name, path, offered))
    cameras.sort(key=lambda c: c.index)
    return cameras


def find_camera(spec: str, cameras: Sequence[CameraDevice]) -> CameraDevice:
    """The camera ``spec`` names: its index, its exact name (any case), or a part of its name
    that only one camera has. InputError, listing the cameras, otherwise."""
    text = spec.strip()
    if text.isdigit():
        index = check_index(int(text))
        for camera in cameras:
            if camera.index == index:
                return camera
        return CameraDevice(index, f"camera {index}")
    folded = text.casefold()
    exact = [c for c in cameras if c.name.casefold() == folded]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [c for c in cameras if folded and folded in c.name.casefold()]
    if len(partial) == 1:
        return partial[0]
    listing = "; ".join(f"{c.index}: {c.name}" for c in cameras) or "no cameras found"
    if not partial:
        raise InputError(f"no camera named {text!r} ({listing})")
    raise InputError(f"{text!r} matches more than one camera; give its index ({listing})")


def describe_modes(modes: Sequence[CameraMode], limit: int = 6) -> str:
    """``1920x1080@30 MJPG, 1280x720@60 MJPG, ...``: the largest sizes, each at its best rate
    and format (compressed first at equal rate)."""
    best: dict[tuple[int, int], CameraMode] = {}
    for m in modes:
        have = best.get(m.size)
        if have is None or (m.fps, m.fourcc == "MJPG") > (have.fps, have.fourcc == "MJPG"):
            best[m.size] = m
    ordered = sorted(best.values(), key=lambda m: (m.width * m.height, m.fps), reverse=True)
    text = ", ".join(str(m) for m in ordered[:limit])
    more = len(ordered) - limit
    return text + (f" (+{more} smaller)" if more > 0 else "")


# -- V4L2 modes (Linux) ------------------------------------------------------------------------


class _FmtDesc(ctypes.Structure):
    _fields_ = (
        ("index", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("description", ctypes.c_char * 32),
        ("pixelformat", ctypes.c_uint32),
        ("mbus_code", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    )


class _FrmSizeDiscrete(ctypes.Structure):
    _fields_ = (("width", ctypes.c_uint32), ("height", ctypes.c_uint32))


class _FrmSizeStepwise(ctypes.Structure):
    _fields_ = tuple(
        (name, ctypes.c_uint32)
        for name in (
            "min_width",
            "max_width",
            "step_width",
            "min_height",
            "max_height",
            "step_height",
        )
    )


class _FrmSizeUnion(ctypes.Union):
    _fields_ = (("discrete", _FrmSizeDiscrete), ("stepwise", _FrmSizeStepwise))


class _FrmSizeEnum(ctypes.Structure):
    _fields_ = (
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("u", _FrmSizeUnion),
        ("reserved", ctypes.c_uint32 * 2),
    )


class _Fract(ctypes.Structure):
    _fields_ = (("numerator", ctypes.c_uint32), ("denominator", ctypes.c_uint32))


class _FrmIvalStepwise(ctypes.Structure):
    _fields_ = (("min", _Fract), ("max", _Fract), ("step", _Fract))


class _FrmIvalUnion(ctypes.Union):
    _fields_ = (("discrete", _Fract), ("stepwise", _FrmIvalStepwise))


class _FrmIvalEnum(ctypes.Structure):
    _fields_ = (
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("u", _FrmIvalUnion),
        ("reserved", ctypes.c_uint32 * 2),
    )


def _iowr(nr: int, struct: type[ctypes.Structure]) -> int:
    """Linux's ``_IOWR('V', nr, struct)``."""
    return (3 << 30) | (ctypes.sizeof(struct) << 16) | (ord("V") << 8) | nr


VIDIOC_ENUM_FMT = _iowr(2, _FmtDesc)
VIDIOC_ENUM_FRAMESIZES = _iowr(74, _FrmSizeEnum)
VIDIOC_ENUM_FRAMEINTERVALS = _iowr(75, _FrmIvalEnum)
_BUF_TYPE_VIDEO_CAPTURE = 1
_DISCRETE = 1
_MAX_ENTRIES = 256


def v4l2_modes(path: str) -> tuple[CameraMode, ...]:
    """Every (format, size, rate) the V4L2 device at ``path`` offers, best first; ``()`` if
    it cannot be asked (permissions, not a V4L2 device). Stepwise sizes give their largest."""
    import fcntl

    modes: list[CameraMode] = []
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return ()
    try:
        for i in range(_MAX_ENTRIES):
            fmt = _FmtDesc(index=i, type=_BUF_TYPE_VIDEO_CAPTURE)
            try:
                fcntl.ioctl(fd, VIDIOC_ENUM_FMT, fmt)
            except OSError:
                break
            fourcc = fourcc_text(fmt.pixelformat)
            for j in range(_MAX_ENTRIES):
                size = _FrmSizeEnum(index=j, pixel_format=fmt.pixelformat)
                try:
                    fcntl.ioctl(fd, VIDIOC_ENUM_FRAMESIZES, size)
                except OSError:
                    break
                if size.type == _DISCRETE:
                    w, h = size.u.discrete.width, size.u.discrete.height
                else:
                    w, h = size.u.stepwise.max_width, size.u.stepwise.max_height
                fps = _best_rate(fcntl, fd, fmt.pixelformat, w, h)
                modes.append(CameraMode(int(w), int(h), fps, fourcc))
                if size.type != _DISCRETE:
                    break
    finally:
        os.close(fd)
    return tuple(sorted(modes, key=lambda m: (m.width * m.height, m.fps), reverse=True))


def _best_rate(fcntl: object, fd: int, pixelformat: int, w: int, h: int) -> float:
    best = 0.0
    ioctl = fcntl.ioctl  # type: ignore[attr-defined]
    for k in range(_MAX_ENTRIES):
        ival = _FrmIvalEnum(index=k, pixel_format=pixelformat, width=w, height=h)
        try:
            ioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, ival)
        except OSError:
            break
        frac = ival.u.discrete if ival.type == _DISCRETE else ival.u.stepwise.min
        if frac.numerator:
            best = max(best, round(frac.denominator / frac.numerator, 2))
        if ival.type != _DISCRETE:
            break
    return best


def print_cameras(cameras: Sequence[CameraDevice] | None = None) -> int:
    """``colorme-live cameras``: one line per camera (index, name, device) and its modes.
    Returns the exit code: 0 if any camera was found, 1 if none (said on stdout)."""
    found = list_cameras() if cameras is None else list(cameras)
    if not found:
        print("no cameras found (none connected, or no permission to open them)")
        return 1
    for camera in found:
        where = f"  [{camera.path}]" if camera.path else ""
        print(f"{camera.index:>2}  {camera.name}{where}")
        if camera.modes:
            print(f"    modes: {describe_modes(camera.modes)}")
        else:
            print("    modes: not listed on this platform (asked for 1280x720 at 30 fps)")
    return 0
