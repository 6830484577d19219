"""The virtual camera in the window (pytest-qt, offscreen, real clip and model) and in the real
process: it sends the plain recoloured view mirrored as shown while the window shows the
before/after split; with no backend (this machine has no v4l2loopback device) the window says
in one line what to install and keeps running; a device that disappears is reported, and V
turns it on again. Where a device is needed, a stand-in for ``pyvirtualcam.Camera`` keeps the
frames it is sent; the model, the clip and the engine are real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from colorme_live.app.config import SourceSpec
from colorme_live.core import vcam as vcam_module
from colorme_live.core.live import LiveFrame
from colorme_live.core.settings import View
from tests.conftest import REPO, clip
from tests.test_vcam import FakeDevice

CLIP = "lp_d12_man_wavy_brown_hair_motion"  # 512x512, 25 fps
TIMEOUT_MS = 30_000
STARTUP_TIMEOUT_S = 120.0


@pytest.fixture
def devices(monkeypatch: pytest.MonkeyPatch) -> list[FakeDevice]:
    opened: list[FakeDevice] = []

    def opener(w: int, h: int, fps: float) -> FakeDevice:
        opened.append(FakeDevice(w, h, fps))
        return opened[-1]

    monkeypatch.setattr(vcam_module, "open_pyvirtualcam", opener)
    return opened


def test_sends_the_plain_view_mirrored_while_the_window_shows_the_split(
    qtbot, make_window, media_dir: Path, devices: list[FakeDevice]
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(
        source=SourceSpec(video=clip(media_dir, CLIP), mirror=True), virtual_camera=True
    )
    assert window.vcam_action.isChecked()
    shown: list[LiveFrame] = []
    window.frame_displayed.connect(shown.append)
    window.toggle_split()
    assert window.settings.view is View.SPLIT
    qtbot.waitUntil(
        lambda: (
            bool(devices)
            and len(devices[0].frames) >= 20
            and sum(f.mask_index is not None and f.settings.view is View.SPLIT for f in shown) >= 10
        ),
        timeout=TIMEOUT_MS,
    )
    device = devices[0]
    assert device.args == (512, 512, pytest.approx(25.0, abs=0.01))  # the clip's size and rate
    sent = [f[:, :, ::-1] for f in list(device.frames)]  # back to BGR
    matched = 0
    for live in shown:
        if live.mask_index is None or live.settings.view is not View.SPLIT:
            continue
        assert live.image is not None
        x = live.image.shape[1] // 2
        right = live.image[:, x + 2 :]
        for image in sent:
            if np.array_equal(image[:, x + 2 :], right):  # the same recoloured pixels, mirrored
                # ...but no split: left of the divider it is recoloured, not the original
                assert not np.array_equal(image[:, : x - 2], live.image[:, : x - 2])
                assert not np.array_equal(image, live.frame.image)
                matched += 1
                break
    assert matched >= 3, f"only {matched} shown frames found among {len(sent)} sent"
    qtbot.waitUntil(  # the status bar names the device
        lambda: "virtual camera /dev/video-test" in window.source_label.text(), timeout=2000
    )
    # V turns it off: the device is released and the thread ends
    qtbot.keyClick(window, Qt.Key.Key_V)
    assert window.virtual_camera is None and not window.vcam_action.isChecked()
    assert device.closed


def test_no_backend_says_what_to_install_and_the_app_keeps_running(
    qtbot, make_window, media_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """The real pyvirtualcam: this machine has no v4l2loopback device."""
    window = make_window(source=SourceSpec(video=clip(media_dir, CLIP)), virtual_camera=True)
    qtbot.waitUntil(lambda: "No virtual camera" in window.banner.text(), timeout=TIMEOUT_MS)
    text = window.banner.text()
    assert "\n" not in text and vcam_module.install_hint() in text
    assert not window.vcam_action.isChecked() and window.virtual_camera is None
    shown: list[LiveFrame] = []
    window.frame_displayed.connect(shown.append)
    qtbot.waitUntil(lambda: len(shown) >= 5, timeout=TIMEOUT_MS)  # still running


def test_a_device_that_disappears_is_reported_and_v_turns_it_on_again(
    qtbot, make_window, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    opened: list[FakeDevice] = []

    def vanishing(w: int, h: int, fps: float) -> FakeDevice:
        opened.append(FakeDevice(w, h, fps, fail_after=5))
        return opened[-1]

    monkeypatch.setattr(vcam_module, "open_pyvirtualcam", vanishing)
    window = make_window(source=SourceSpec(video=clip(media_dir, CLIP)))
    assert not window.vcam_action.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_V)
    assert window.vcam_action.isChecked()
    qtbot.waitUntil(lambda: "stopped" in window.banner.text(), timeout=TIMEOUT_MS)
    assert "Press V" in window.banner.text() and not window.vcam_action.isChecked()
    assert window.virtual_camera is None and opened[0].closed
    assert len(opened[0].frames) == 5

    opened.clear()
    monkeypatch.setattr(
        vcam_module,
        "open_pyvirtualcam",
        lambda w, h, fps: opened.append(FakeDevice(w, h, fps)) or opened[-1],
    )
    qtbot.keyClick(window, Qt.Key.Key_V)
    assert window.vcam_action.isChecked()
    qtbot.waitUntil(lambda: bool(opened) and len(opened[0].frames) >= 5, timeout=TIMEOUT_MS)


def test_virtual_camera_flag_without_a_backend_in_the_real_process(
    tmp_path: Path, media_dir: Path, model_path: Path
) -> None:
    """``colorme-live --virtual-camera`` where there is no backend: the window opens, says what
    to install (one line, also in the log), and the process keeps running until asked to quit."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "COLORME_SETTINGS": str(tmp_path / "settings.ini"),
    }
    err_path = tmp_path / "stderr.txt"
    argv = [
        sys.executable, "-m", "colorme_live", "--video", str(clip(media_dir, CLIP)),
        "--virtual-camera", "--renderer", "cpu", "--model", str(model_path),
        "--output-dir", str(tmp_path / "out"),
    ]  # fmt: skip
    with err_path.open("w") as err:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while "No virtual camera" not in err_path.read_text() and proc.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"no message in {STARTUP_TIMEOUT_S} s:\n{err_path.read_text()[-3000:]}")
            time.sleep(0.1)
        time.sleep(1.0)
        assert proc.poll() is None, f"exited ({proc.returncode}):\n{err_path.read_text()}"
        proc.send_signal(signal.SIGTERM)  # the desktop logging out; on Windows: terminate
        code = proc.wait(timeout=30) if os.name == "posix" else 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = err_path.read_text()
    assert code == 0, log
    lines = [line for line in log.splitlines() if "No virtual camera" in line]
    assert lines
    assert ("v4l2loopback" if sys.platform.startswith("linux") else "OBS") in lines[0]
    assert "Traceback" not in log
