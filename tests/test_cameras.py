"""Cameras without a camera: how they are asked for their mode (the property order V4L2
needs), the fallbacks, the backend per platform, finding one by name, the list when there are
none, and the low-frame-rate note. ``FakeCapture`` stands in for ``cv2.VideoCapture``'s
property interface only (``set``/``get``/``read``), the way a V4L2 driver answers it; this
machine has no webcam, so the real ``cv2.VideoCapture`` is used where the absence is the point.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import ClassVar

import cv2
import numpy as np
import pytest

from colorme_live.core import cameras
from colorme_live.core.cameras import (
    CameraDevice,
    CameraMode,
    CaptureRequest,
    RateMonitor,
    apply_request,
    backend_preference,
    find_camera,
    list_cameras,
    needs_mjpg,
    print_cameras,
    request_plan,
)
from colorme_live.core.errors import InputError
from colorme_live.core.sources import CameraSource, SourceLost
from tests.conftest import REPO

MJPG = cv2.VideoWriter.fourcc(*"MJPG")
YUYV = cv2.VideoWriter.fourcc(*"YUYV")

PROPS = {
    cv2.CAP_PROP_FOURCC: "FOURCC",
    cv2.CAP_PROP_FRAME_WIDTH: "WIDTH",
    cv2.CAP_PROP_FRAME_HEIGHT: "HEIGHT",
    cv2.CAP_PROP_FPS: "FPS",
}


class FakeCapture:
    """A USB 2 webcam as V4L2 presents it: YUYV up to 640x480@30 and 1280x720@10, MJPG up to
    1920x1080@30. Like the driver, it takes a size only from the list of the format chosen
    at the time (the nearest it has otherwise), and a rate only from that size's list."""

    YUYV_MODES: ClassVar[dict[tuple[int, int], float]] = {(640, 480): 30.0, (1280, 720): 10.0}
    MJPG_MODES: ClassVar[dict[tuple[int, int], float]] = {
        (640, 480): 30.0,
        (1280, 720): 30.0,
        (1920, 1080): 30.0,
    }

    def __init__(self, *, opened: bool = True, mjpg_works: bool = True, mjpg: bool = True) -> None:
        self.opened = opened
        self.mjpg_works = mjpg_works
        self.calls: list[str] = []
        self.fourcc = YUYV
        self.size = (640, 480)
        self.fps = 30.0
        self.released = False
        self.has_mjpg = mjpg

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def _modes(self) -> dict[tuple[int, int], float]:
        return self.MJPG_MODES if self.fourcc == MJPG else self.YUYV_MODES

    def set(self, prop: int, value: float) -> bool:
        self.calls.append(PROPS.get(prop, str(prop)))
        if prop == cv2.CAP_PROP_FOURCC:
            if int(value) == MJPG and not self.has_mjpg:
                return False
            self.fourcc = int(value)
        elif prop == cv2.CAP_PROP_FRAME_WIDTH:
            self._want_w = int(value)
        elif prop == cv2.CAP_PROP_FRAME_HEIGHT:
            want = (getattr(self, "_want_w", self.size[0]), int(value))
            modes = self._modes()
            self.size = min(modes, key=lambda s: abs(s[0] - want[0]) + abs(s[1] - want[1]))
            self.fps = min(self.fps, modes[self.size])
        elif prop == cv2.CAP_PROP_FPS:
            self.fps = min(float(value), self._modes()[self.size])
        return True

    def get(self, prop: int) -> float:
        return {
            cv2.CAP_PROP_FOURCC: float(self.fourcc),
            cv2.CAP_PROP_FRAME_WIDTH: float(self.size[0]),
            cv2.CAP_PROP_FRAME_HEIGHT: float(self.size[1]),
            cv2.CAP_PROP_FPS: self.fps,
        }.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.opened or (self.fourcc == MJPG and not self.mjpg_works):
            return False, None
        w, h = self.size
        image = np.zeros((h, w, 3), np.uint8)
        image[:, : w // 2] = 255  # left half white: shows the mirror
        return True, image

    def release(self) -> None:
        self.released = True


def factory(
    log: list[tuple[int, int, FakeCapture]], make: Callable[[int], FakeCapture]
) -> Callable[[int, int], FakeCapture]:
    def open_(index: int, api: int) -> FakeCapture:
        cap = make(api)
        log.append((index, api, cap))
        return cap

    return open_


# -- request order and the mode delivered ---------------------------------------------------


def test_format_is_asked_before_size_before_rate() -> None:
    cap = FakeCapture()
    apply_request(cap, CaptureRequest((1280, 720), 30.0, "MJPG"))
    assert cap.calls == ["FOURCC", "WIDTH", "HEIGHT", "FPS"]
    assert (cap.size, cap.fps, cap.fourcc) == ((1280, 720), 30.0, MJPG)


def test_the_wrong_order_is_what_drops_a_usb2_camera_to_10_fps() -> None:
    """The fake is faithful to the point the order matters for: size first, then MJPG,
    leaves the YUYV rate (10 fps) in force."""
    cap = FakeCapture()
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, 1280)
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, 720)
    cap.set(cv2.CAP_PROP_FOURCC, MJPG)
    assert cap.fps == 10.0


def test_camera_opens_hd_at_30_fps_in_mjpg_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="colorme_live")
    opened: list[tuple[int, int, FakeCapture]] = []
    cam = CameraSource(
        2, platform="linux", capture_factory=factory(opened, lambda api: FakeCapture())
    )
    with cam:
        assert [(i, api) for i, api, _ in opened] == [(2, cv2.CAP_V4L2)]
        assert opened[0][2].calls == ["FOURCC", "WIDTH", "HEIGHT", "FPS"]
        assert cam.mode == CameraMode(1280, 720, 30.0, "MJPG")
        assert cam.size == (1280, 720) and cam.fps == 30.0
        assert "1280x720@30 MJPG via V4L2" in cam.description
        assert "camera 2 opened with V4L2: asked 1280x720@30 MJPG, delivers 1280x720@30 MJPG" in (
            caplog.text
        )
        first = cam.read()
        assert first.image.shape == (720, 1280, 3) and first.index == 0
        assert first.image[0, -1, 0] == 255 and first.image[0, 0, 0] == 0  # mirrored
        assert cam.read().index == 1
    assert opened[0][2].released


def test_size_and_fps_options_are_asked_for_and_what_is_delivered_is_reported() -> None:
    opened: list[tuple[int, int, FakeCapture]] = []
    make = factory(opened, lambda api: FakeCapture())
    with CameraSource(0, size=(1920, 1080), fps=60.0, platform="linux", capture_factory=make) as c:
        assert c.request == CaptureRequest((1920, 1080), 60.0, "MJPG")
        assert c.mode == CameraMode(1920, 1080, 30.0, "MJPG")  # the camera tops out at 30
        assert c.asked_fps == 60.0 and c.fps == 30.0
    with CameraSource(0, size=(640, 480), platform="linux", capture_factory=make) as c:
        assert c.request.fourcc is None  # fits USB 2 uncompressed: not re-encoded to MJPG
        assert c.mode == CameraMode(640, 480, 30.0, "YUYV")


def test_a_camera_that_gives_no_frames_in_mjpg_falls_back_to_its_own_format() -> None:
    opened: list[tuple[int, int, FakeCapture]] = []
    make = factory(opened, lambda api: FakeCapture(mjpg_works=False))
    with CameraSource(0, platform="linux", capture_factory=make) as cam:
        assert len(opened) == 2 and opened[0][2].released  # a fresh handle for the retry
        assert opened[1][2].calls == ["WIDTH", "HEIGHT", "FPS"]
        assert cam.mode == CameraMode(1280, 720, 10.0, "YUYV")


def test_the_next_backend_is_tried_when_the_first_cannot_open_the_camera() -> None:
    opened: list[tuple[int, int, FakeCapture]] = []
    make = factory(opened, lambda api: FakeCapture(opened=api != cv2.CAP_V4L2))
    with CameraSource(1, platform="linux", capture_factory=make) as cam:
        assert [api for _, api, _ in opened] == [cv2.CAP_V4L2, cv2.CAP_ANY]
        assert cam.backend is cameras.ANY
        assert opened[0][2].released


def test_no_camera_anywhere_is_one_clear_error_naming_what_was_tried() -> None:
    opened: list[tuple[int, int, FakeCapture]] = []
    make = factory(opened, lambda api: FakeCapture(opened=False))
    with pytest.raises(InputError, match=r"no camera 3 found .*V4L2: not found"):
        CameraSource(3, platform="linux", capture_factory=make)
    assert all(cap.released for _, _, cap in opened)


def test_the_real_opencv_on_this_machine_without_a_webcam() -> None:
    with pytest.raises(InputError, match="no camera 0 found"):
        CameraSource(0)


@pytest.mark.parametrize("index", [-1, -2, 100, 10**12])
def test_indices_opencv_must_never_see_are_refused(index: int) -> None:
    def never(i: int, api: int) -> FakeCapture:
        raise AssertionError("VideoCapture was called")

    with pytest.raises(InputError, match="camera index must be 0-99"):
        CameraSource(index, capture_factory=never)


def test_a_camera_that_stops_is_lost_not_a_crash() -> None:
    cap = FakeCapture()
    with CameraSource(0, platform="linux", capture_factory=lambda i, a: cap) as cam:
        cam.read()
        cap.opened = False
        with pytest.raises(SourceLost, match="camera 0 stopped"):
            cam.read()


# -- backends --------------------------------------------------------------------------------


def test_backend_per_platform() -> None:
    assert backend_preference("linux") == (cameras.V4L2, cameras.ANY)
    assert backend_preference("darwin") == (cameras.AVFOUNDATION,)
    # Windows: DirectShow first (MSMF's hardware transforms take 5-30 s to open a camera)
    assert [b.api for b in backend_preference("win32")] == [cv2.CAP_DSHOW, cv2.CAP_MSMF]
    assert backend_preference("freebsd14") == (cameras.ANY,)
    assert cameras.listing_backend("win32") is cameras.DSHOW


def test_msmf_opens_without_hardware_transforms_unless_the_user_chose() -> None:
    env: dict[str, str] = {}
    cameras.prepare_backend(cameras.MSMF, env)
    assert env == {cameras.MSMF_HW_ENV: "0"}
    mine = {cameras.MSMF_HW_ENV: "1"}
    cameras.prepare_backend(cameras.MSMF, mine)
    assert mine[cameras.MSMF_HW_ENV] == "1"
    other: dict[str, str] = {}
    cameras.prepare_backend(cameras.DSHOW, other)
    assert other == {}


def test_windows_opens_with_directshow_in_mjpg_and_falls_back_to_msmf() -> None:
    opened: list[tuple[int, int, FakeCapture]] = []
    make = factory(opened, lambda api: FakeCapture(opened=api == cv2.CAP_DSHOW))
    with CameraSource(0, platform="win32", capture_factory=make) as cam:
        assert cam.backend is cameras.DSHOW
        assert opened[0][2].calls[0] == "FOURCC"
    opened.clear()
    make = factory(opened, lambda api: FakeCapture(opened=api == cv2.CAP_MSMF))
    with CameraSource(0, platform="win32", capture_factory=make) as cam:
        assert cam.backend is cameras.MSMF
        assert opened[-1][2].calls == ["WIDTH", "HEIGHT", "FPS"]  # MSMF takes no FOURCC


def test_mjpg_only_where_usb2_cannot_carry_the_mode() -> None:
    assert not needs_mjpg((640, 480), 30)
    assert needs_mjpg((1280, 720), 30) and needs_mjpg((1920, 1080), 30)
    assert needs_mjpg((640, 480), 60)
    assert request_plan(None, None, cameras.V4L2) == (
        CaptureRequest((1280, 720), 30.0, "MJPG"),
        CaptureRequest((1280, 720), 30.0, None),
    )
    assert request_plan(None, None, cameras.AVFOUNDATION) == (
        CaptureRequest((1280, 720), 30.0, None),
    )


def test_fourcc_text() -> None:
    assert cameras.fourcc_text(float(MJPG)) == "MJPG"
    assert cameras.fourcc_text(0.0) == ""
    assert cameras.fourcc_text(float("nan")) == ""
    assert cameras.fourcc_text(-1.0) == ""


def test_v4l2_request_numbers_are_the_kernels() -> None:
    """videodev2.h: VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES, VIDIOC_ENUM_FRAMEINTERVALS."""
    assert cameras.VIDIOC_ENUM_FMT == 0xC0405602
    assert cameras.VIDIOC_ENUM_FRAMESIZES == 0xC02C564A
    assert cameras.VIDIOC_ENUM_FRAMEINTERVALS == 0xC034564B
    assert cameras.v4l2_modes("/dev/video-does-not-exist") == ()


# -- the list, names ---------------------------------------------------------------------------

LISTED = [
    CameraDevice(0, "Integrated Camera: Integrated C", "/dev/video0"),
    CameraDevice(2, "HD Pro Webcam C920", "/dev/video2", (CameraMode(1920, 1080, 30, "MJPG"),)),
    CameraDevice(4, "HD Webcam eMeet", "/dev/video4"),
]


def test_a_camera_is_found_by_index_exact_name_or_a_unique_part() -> None:
    assert find_camera("2", LISTED).name == "HD Pro Webcam C920"
    assert find_camera("hd pro webcam c920", LISTED).index == 2
    assert find_camera("C920", LISTED).index == 2
    assert find_camera("integrated", LISTED).index == 0
    assert find_camera("7", LISTED) == CameraDevice(7, "camera 7")  # unlisted: tried as is


def test_names_that_match_none_or_several_say_which_there_are() -> None:
    with pytest.raises(InputError, match=r"no camera named 'Logitech' \(0: Integrated"):
        find_camera("Logitech", LISTED)
    with pytest.raises(InputError, match=r"more than one camera.*2: HD Pro Webcam C920"):
        find_camera("HD", LISTED)
    with pytest.raises(InputError, match=r"no camera named 'C920' \(no cameras found\)"):
        find_camera("C920", [])
    with pytest.raises(InputError, match="0-99"):
        find_camera("100", LISTED)


def test_the_list_maps_enumerated_devices_to_our_indices() -> None:
    found = [
        SimpleNamespace(index=4, name="B cam", path="/dev/video4"),
        SimpleNamespace(index=0, name="A cam", path="/dev/video0"),
        SimpleNamespace(index=250, name="out of range", path=None),
    ]
    asked: list[int] = []

    def enumerate_(api: int) -> list[object]:
        asked.append(api)
        return found

    listed = list_cameras("linux", enumerate_, modes=lambda p: (CameraMode(640, 480, 30),))
    assert asked == [cv2.CAP_V4L2]
    assert [(c.index, c.name) for c in listed] == [(0, "A cam"), (4, "B cam")]
    assert listed[0].modes == (CameraMode(640, 480, 30),)
    assert list_cameras("win32", lambda api: asked.append(api) or []) == []
    assert asked[-1] == cv2.CAP_DSHOW


def test_listing_the_real_cameras_here_finds_none() -> None:
    assert list_cameras() == []


def test_cameras_command_lists_names_and_modes(capsys: pytest.CaptureFixture[str]) -> None:
    assert print_cameras(LISTED) == 0
    out = capsys.readouterr().out
    assert " 2  HD Pro Webcam C920  [/dev/video2]" in out
    assert "modes: 1920x1080@30 MJPG" in out
    assert "modes: not listed" in out


def test_cameras_command_with_no_cameras_through_the_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "colorme_live", "cameras"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip().startswith("no cameras found"), done.stdout
    assert done.stderr.strip() == ""


def test_describe_modes_keeps_the_best_rate_per_size() -> None:
    modes = [
        CameraMode(1280, 720, 10, "YUYV"),
        CameraMode(1280, 720, 30, "MJPG"),
        CameraMode(640, 480, 30, "YUYV"),
        CameraMode(1920, 1080, 30, "MJPG"),
    ]
    assert cameras.describe_modes(modes) == "1920x1080@30 MJPG, 1280x720@30 MJPG, 640x480@30 YUYV"
    assert cameras.describe_modes(modes, limit=1).endswith("(+2 smaller)")


# -- the rate delivered --------------------------------------------------------------------------


def feed(monitor: RateMonitor, fps: float, seconds: float, start_index: int = 0) -> None:
    n = int(fps * seconds)
    for k in range(n + 1):
        monitor.add(start_index + k, 100.0 + k / fps)


def test_a_camera_at_its_rate_gives_no_warning() -> None:
    monitor = RateMonitor(30.0)
    feed(monitor, 29.0, 5.0)
    assert monitor.rate == pytest.approx(29.0, rel=0.02)
    assert monitor.warning is None


def test_a_dark_room_rate_is_reported_with_its_likely_cause() -> None:
    monitor = RateMonitor(30.0)
    feed(monitor, 12.0, 2.0)
    assert monitor.rate is None and monitor.warning is None  # not seen for long enough yet
    feed(monitor, 12.0, 5.0)
    assert monitor.warning is not None
    assert "12 of 30 fps" in monitor.warning and "dark" in monitor.warning


def test_skipped_frames_still_count_as_delivered() -> None:
    """The display may skip frames; the rate is counted from the capture index."""
    monitor = RateMonitor(30.0)
    for k in range(0, 151, 3):  # every third frame seen, captured at 30 fps
        monitor.add(k, k / 30.0)
    assert monitor.rate == pytest.approx(30.0)
    assert monitor.warning is None


def test_a_new_source_restarts_the_count() -> None:
    monitor = RateMonitor(30.0)
    feed(monitor, 10.0, 5.0)
    assert monitor.warning is not None
    feed(monitor, 30.0, 1.0, start_index=0)
    assert monitor.rate is None
    with pytest.raises(ValueError):
        RateMonitor(0.0)
