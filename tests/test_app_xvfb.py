"""The real ``colorme-live --video ...`` process in a real X server (Xvfb): the window appears,
shows recoloured frames (a screenshot the app takes of itself, ``COLORME_SCREENSHOT``), and
SIGTERM closes it with exit code 0, leaving a playable recording."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.core.video_writer import probe_video
from tests.conftest import REPO, clip

STARTUP_TIMEOUT_S = 90.0
"""Importing MediaPipe and loading the Numba kernels in a fresh process on 2 busy cores."""
EXIT_TIMEOUT_S = 5.0


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt install xvfb): no X server for the real window")
    read_fd, write_fd = os.pipe()
    # -displayfd: Xvfb picks a free display number itself and writes it to the pipe
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 15.0)
        number = os.read(read_fd, 64).decode().strip() if ready else ""
        if not number.isdigit():
            pytest.fail(f"Xvfb did not report a display within 15 s (got {number!r})")
        yield f":{number}"
    finally:
        os.close(read_fd)
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _command() -> list[str]:
    script = Path(sys.executable).with_name("colorme-live")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "colorme_live"]


def _blue_pixels(image_bgr: np.ndarray) -> int:
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return int(np.count_nonzero((h >= 100) & (h <= 128) & (s >= 90) & (v >= 40)))


@pytest.mark.parametrize("renderer", ["cpu", "gl"])
def test_real_window_under_xvfb_screenshot_and_sigterm(
    renderer: str, xvfb_display: str, media_dir: Path, tmp_path: Path
) -> None:
    """Both renderers: the CPU view, and the OpenGL view (Mesa llvmpipe here)."""
    video = clip(media_dir, "lp_d12_man_wavy_brown_hair_motion")
    shot = tmp_path / "window.png"
    recording = tmp_path / "run.mp4"
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
        "QT_QPA_PLATFORM": "xcb",
        "COLORME_SCREENSHOT": str(shot),
        "COLORME_SCREENSHOT_FRAMES": "20",
        "COLORME_SETTINGS": str(tmp_path / "settings.ini"),
    }
    proc = subprocess.Popen(
        [
            *_command(),
            "--video",
            str(video),
            "--color",
            "electric blue",
            "--intensity",
            "100",
            "--record",
            str(recording),
            "--output-dir",
            str(tmp_path / "out"),
            "--renderer",
            renderer,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not shot.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not shot.exists():
            proc.kill()
            out, _ = proc.communicate(timeout=10)
            pytest.fail(f"no screenshot (exit code {proc.returncode}); output:\n{out[-4000:]}")
        time.sleep(0.5)  # let it record a little longer
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        out, _ = proc.communicate(timeout=EXIT_TIMEOUT_S)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, out[-4000:]
    assert took < EXIT_TIMEOUT_S
    assert "Traceback" not in out, out[-4000:]

    image = cv2.imread(str(shot))
    assert image is not None, "the screenshot is not a readable PNG"
    h, w = image.shape[:2]
    assert w >= 640 and h >= 480, (w, h)
    assert float(image.std()) > 20, "the screenshot is blank"
    # the hair is electric blue: far more blue pixels than the swatch in the toolbar has
    assert _blue_pixels(image) > 3000, _blue_pixels(image)

    info = probe_video(recording)
    assert info.frames > 10 and info.fps == 25.0 and info.codec == "h264"
