"""The virtual camera: the recoloured picture published as a system camera, Qt-free.

Calls (Zoom, Meet, Teams), OBS and browsers can pick it like any webcam. It uses
`pyvirtualcam <https://github.com/letmaik/pyvirtualcam>`_: on Linux a v4l2loopback device, on
Windows and macOS the OBS Virtual Camera.

``VirtualCamera`` is a frame sink (``core.sinks``) that always takes the plain recoloured view
(``Need.RECOLOR``: the before/after split and the mask view stay in the window). ``submit``
only puts the frame into a newest-wins slot; the thread ``colorme-vcam`` takes the newest,
converts it to RGB and sends it, so a slow consumer never stalls the display (frames it cannot
take are skipped, never queued). The device is opened on that thread at the first frame, at the
frame's size (the source's; mirrored as the window shows it, since mirroring happens at
capture) and the source's frame rate, and reopened if the size changes.

Errors never reach the engine: opening (no backend, no device) or sending (the device
disappeared) ends the thread, keeps the message in ``error`` and passes it to ``on_error``
(on the vcam thread). A new ``VirtualCamera`` starts it again."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from colorme_live.core.errors import ColormeError
from colorme_live.core.live import LatestSlot, LiveFrame
from colorme_live.core.sinks import Need

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 1.0
_POLL_S = 0.1
LINUX_SETUP = "sudo modprobe v4l2loopback exclusive_caps=1 card_label=colorme-live"


class VirtualCameraError(ColormeError):
    """The virtual camera could not be opened (no backend, no device); the message is one line
    that says what to install."""


class CameraDevice(Protocol):
    """What ``VirtualCamera`` uses of ``pyvirtualcam.Camera``."""

    @property
    def device(self) -> str: ...

    def send(self, frame: np.ndarray) -> None: ...

    def close(self) -> None: ...


Opener = Callable[[int, int, float], CameraDevice]
"""``(width, height, fps) -> device``; raises ``VirtualCameraError``."""


def install_hint(platform: str | None = None) -> str:
    """What to install for a virtual camera on ``platform`` (``sys.platform`` by default)."""
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux"):
        return f"install v4l2loopback and load it: {LINUX_SETUP}"
    if platform == "darwin":
        return "install OBS Studio 30+ and start its Virtual Camera once to register it"
    return "install OBS Studio 30+ (it brings the OBS Virtual Camera)"


def unavailable_message(reason: str, platform: str | None = None) -> str:
    """The one line the window shows when there is no virtual camera; ``reason`` (the
    backend's own words) goes to the log."""
    log.warning("virtual camera unavailable: %s", " ".join(reason.split()))
    return f"No virtual camera: {install_hint(platform)}"


def open_pyvirtualcam(width: int, height: int, fps: float) -> CameraDevice:
    """A ``pyvirtualcam.Camera`` taking RGB frames of ``width`` x ``height``."""
    try:
        import pyvirtualcam
    except ImportError as e:
        raise VirtualCameraError(
            unavailable_message(f"pyvirtualcam is not installed: pip install pyvirtualcam ({e})")
        ) from e
    try:
        camera: CameraDevice = pyvirtualcam.Camera(
            width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB
        )
    except RuntimeError as e:  # what pyvirtualcam raises for a missing backend or device
        raise VirtualCameraError(unavailable_message(str(e))) from e
    return camera


def to_rgb(image: np.ndarray) -> np.ndarray:
    """The BGR frame as contiguous RGB, cropped to even width and height (what the devices'
    YUV 4:2:0 formats need)."""
    h, w = image.shape[:2]
    if h % 2 or w % 2:
        image = image[: h - h % 2, : w - w % 2]
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


class VirtualCamera:
    """Sends the plain recoloured frames to a virtual camera on its own thread."""

    need = Need.RECOLOR

    def __init__(
        self,
        fps: float,
        *,
        opener: Opener = open_pyvirtualcam,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        self.fps = float(fps)
        self._opener = opener
        self._on_error = on_error
        self._slot: LatestSlot[LiveFrame] = LatestSlot()
        self._stop = threading.Event()
        self.device: str | None = None
        """The system device frames go to, once open (e.g. ``/dev/video10``)."""
        self.size: tuple[int, int] | None = None
        self.sent = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="colorme-vcam", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def skipped(self) -> int:
        """Frames replaced in the slot before the thread took them (the device was slower)."""
        return self._slot.overwritten

    # -- the sink protocol (compositor thread) -----------------------------------------------

    def submit(self, live: LiveFrame) -> None:
        if live.image is not None and not self._stop.is_set():
            self._slot.put(live)

    def close(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the thread and release the device. Safe to call twice."""
        self._stop.set()
        self._slot.close()
        self._thread.join(timeout)
        self._on_error = None

    # -- the vcam thread ------------------------------------------------------------------------

    def _run(self) -> None:
        camera: CameraDevice | None = None
        try:
            while not self._stop.is_set():
                live = self._slot.take(_POLL_S)
                if live is None or live.image is None:
                    continue
                rgb = to_rgb(live.image)
                size = (rgb.shape[1], rgb.shape[0])
                if camera is None or size != self.size:
                    if camera is not None:
                        camera.close()
                        camera = None
                    camera = self._opener(size[0], size[1], self.fps)
                    self.size, self.device = size, camera.device
                    log.info(
                        "virtual camera on %s: %dx%d at %.3g fps", camera.device, *size, self.fps
                    )
                try:
                    camera.send(rgb)
                except Exception as e:  # the device went away (module unloaded, OBS closed)
                    raise VirtualCameraError(
                        f"The virtual camera {self.device} stopped: {e}. Press V to turn it on "
                        "again."
                    ) from e
                self.sent += 1
        except VirtualCameraError as e:
            self._fail(str(e))
        except Exception as e:  # reported, never raised into the engine
            log.exception("virtual camera failed")
            self._fail(f"The virtual camera failed: {e}")
        finally:
            if camera is not None:
                try:
                    camera.close()
                except (RuntimeError, OSError) as e:  # a device already gone may fail to close
                    log.debug("closing the virtual camera: %s", e)

    def _fail(self, message: str) -> None:
        message = " ".join(message.split())  # one line
        self.error = message
        self._stop.set()
        log.warning("%s", message)
        callback = self._on_error
        if callback is not None:
            callback(message)
