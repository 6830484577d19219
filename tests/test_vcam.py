"""The virtual camera sink (core.vcam), Qt-free: the frame hand-over and format (RGB, the
frame's size, the source's rate), newest wins behind a blocked device, and the errors with the
real pyvirtualcam of this machine (no v4l2loopback device) and a device that disappears."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.core.frames import Frame
from colorme_live.core.live import LiveFrame
from colorme_live.core.pipeline import Pipeline
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from colorme_live.core.sinks import FrameSink, Need
from colorme_live.core.vcam import (
    VirtualCamera,
    VirtualCameraError,
    install_hint,
    open_pyvirtualcam,
    to_rgb,
)

WAIT_S = 10.0


class FakeDevice:
    """Stands in for ``pyvirtualcam.Camera`` where there is no device: keeps what it is sent.
    ``gate`` (if given) blocks ``send`` until set; ``fail_after`` raises as a vanished device
    does."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: float,
        gate: threading.Event | None = None,
        fail_after: int | None = None,
    ) -> None:
        self.args = (width, height, fps)
        self.device = "/dev/video-test"
        self.frames: list[np.ndarray] = []
        self.gate = gate
        self.fail_after = fail_after
        self.closed = False

    def send(self, frame: np.ndarray) -> None:
        if self.gate is not None:
            self.gate.wait()
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            raise RuntimeError("error writing frame: No such device")
        self.frames.append(frame.copy())

    def close(self) -> None:
        self.closed = True


def _live(image: np.ndarray, index: int = 0) -> LiveFrame:
    frame = Frame(image, index, time.monotonic(), 0.0)
    return LiveFrame(image, frame, None, Settings(), 0, time.monotonic())


def _wait(pred, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not pred():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def recoloured(media_dir: Path, model_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A real photo and its recoloured version (the real model)."""
    photo = media_dir / "portraits" / "lp_d9_woman_long_blonde_brown_hair.jpg"
    image = cv2.imread(str(photo))
    assert image is not None
    with Pipeline(HairSegmenter(model_path)) as pipeline:
        out = pipeline.step(image, Settings(intensity=100), None)[0].image
    return image, out


def test_hand_over_is_rgb_at_the_frame_size_and_source_rate(
    recoloured: tuple[np.ndarray, np.ndarray],
) -> None:
    _, image = recoloured
    opened: list[FakeDevice] = []

    def opener(w: int, h: int, fps: float) -> FakeDevice:
        opened.append(FakeDevice(w, h, fps))
        return opened[-1]

    vcam = VirtualCamera(25.0, opener=opener)
    assert isinstance(vcam, FrameSink) and vcam.need is Need.RECOLOR
    try:
        vcam.submit(_live(image))
        _wait(lambda: opened and opened[0].frames, "the first frame")
        h, w = image.shape[:2]
        w2, h2 = w - w % 2, h - h % 2
        assert opened[0].args == (w2, h2, 25.0)
        sent = opened[0].frames[0]
        assert sent.dtype == np.uint8 and sent.shape == (h2, w2, 3) and sent.flags.c_contiguous
        # RGB, not BGR: the sent frame is the recoloured frame with red and blue swapped
        assert np.array_equal(sent, image[:h2, :w2, ::-1])
        assert not np.array_equal(sent, image[:h2, :w2])
        assert vcam.device == "/dev/video-test" and vcam.size == (w2, h2)
        # a new size (another source) reopens the device at that size
        small = np.ascontiguousarray(image[: h2 // 2, : w2 // 2])
        vcam.submit(_live(small, 1))
        _wait(lambda: len(opened) == 2 and opened[1].frames, "the reopened device")
        assert opened[0].closed and opened[1].args[:2] == (small.shape[1], small.shape[0])
    finally:
        vcam.close()
    assert not vcam.running and opened[1].closed and vcam.error is None


def test_odd_sizes_are_cropped_to_even() -> None:
    image = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    rgb = to_rgb(image)
    assert rgb.shape == (4, 6, 3)
    assert np.array_equal(rgb, image[:4, :6, ::-1])


def test_a_blocked_device_never_blocks_submit_and_gets_the_newest(
    recoloured: tuple[np.ndarray, np.ndarray],
) -> None:
    """Newest wins: while the device is stuck in send, 50 frames are submitted (submit
    returns each time), and the device then gets the newest, not a queue."""
    _, image = recoloured
    gate = threading.Event()
    device: list[FakeDevice] = []

    def opener(w: int, h: int, fps: float) -> FakeDevice:
        device.append(FakeDevice(w, h, fps, gate=gate))
        return device[0]

    vcam = VirtualCamera(30.0, opener=opener)
    try:
        vcam.submit(_live(image, 0))
        _wait(lambda: bool(device), "the device to open")  # the thread is now blocked in send
        frames = [np.full_like(image, i) for i in range(1, 51)]
        for i, f in enumerate(frames, start=1):
            vcam.submit(_live(f, i))  # returns although the device is stuck
        assert vcam.skipped >= 48
        gate.set()
        _wait(lambda: len(device[0].frames) >= 2, "the newest frame")
        time.sleep(0.1)
        assert len(device[0].frames) == 2
        assert int(device[0].frames[1][0, 0, 0]) == 50
    finally:
        gate.set()
        vcam.close()


def test_no_backend_here_says_what_to_install() -> None:
    """The real pyvirtualcam on this machine (no v4l2loopback device; on Windows/macOS no OBS):
    one line naming what to install, no exception into the caller."""
    with pytest.raises(VirtualCameraError) as info:
        open_pyvirtualcam(640, 480, 30.0).close()
    message = str(info.value)
    assert "\n" not in message and message.startswith("No virtual camera:")
    if sys.platform.startswith("linux"):
        assert "v4l2loopback" in message and "modprobe" in message
    else:
        assert "OBS" in message

    errors: list[str] = []
    vcam = VirtualCamera(30.0, on_error=errors.append)  # the real opener
    try:
        vcam.submit(_live(np.zeros((48, 64, 3), np.uint8)))
        _wait(lambda: bool(errors), "the error")
        _wait(lambda: not vcam.running, "the thread to end")
    finally:
        vcam.close()
    assert errors == [vcam.error] and errors[0].startswith("No virtual camera:")
    assert install_hint() in errors[0]
    vcam.submit(_live(np.zeros((48, 64, 3), np.uint8)))  # a failed sink takes frames quietly


def test_hints_per_platform() -> None:
    assert "v4l2loopback" in install_hint("linux")
    assert "OBS" in install_hint("win32") and "OBS" in install_hint("darwin")


def test_a_device_that_disappears_is_reported_and_released() -> None:
    errors: list[str] = []
    devices: list[FakeDevice] = []

    def opener(w: int, h: int, fps: float) -> FakeDevice:
        devices.append(FakeDevice(w, h, fps, fail_after=3))
        return devices[-1]

    vcam = VirtualCamera(30.0, opener=opener, on_error=errors.append)
    try:
        for i in range(200):
            vcam.submit(_live(np.full((48, 64, 3), i % 256, np.uint8), i))
            if errors:
                break
            time.sleep(0.005)
        _wait(lambda: bool(errors), "the device-gone error")
        _wait(lambda: not vcam.running, "the thread to end")
    finally:
        vcam.close()
    assert len(errors) == 1 and "\n" not in errors[0]
    assert "/dev/video-test stopped" in errors[0] and "Press V" in errors[0]
    assert vcam.sent == 3 and devices[0].closed
