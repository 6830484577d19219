"""The real ``colorme-live`` process (offscreen Qt), quit from every state the way a user quits:
Q, SIGTERM (the desktop logging out) and Ctrl+C. The window closes and every worker thread
ends within a second, the process soon after, with exit code 0 (130 for Ctrl+C, as shells
expect); a recording is left that OpenCV and PyAV both read to the last frame the recorder
wrote. Driven by ``tests/app_driver.py``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import pytest

from tests.conftest import REPO, clip

STARTUP_TIMEOUT_S = 120.0
"""Importing MediaPipe and loading the Numba kernels in a fresh process on 2 busy cores."""
CLOSE_WITHIN_S = 1.0
"""Q or a signal to the window gone, the recording finished and every worker thread ended."""
EXIT_WITHIN_S = 1.0
"""...to the process gone: after the window closes the entry point ends the process at once
(``cli.exit_now``) instead of waiting 0.2-1.8 s for Python to unload MediaPipe, Numba and Qt."""
CLIP = "lp_d12_man_wavy_brown_hair_motion"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")


def _count_frames(path: Path) -> tuple[int, int]:
    cap = cv2.VideoCapture(str(path))
    by_cv2 = 0
    while cap.read()[0]:
        by_cv2 += 1
    cap.release()
    with av.open(str(path)) as container:
        by_av = sum(1 for _ in container.decode(video=0))
    return by_cv2, by_av


def _assert_quick(took: float, tagged: dict[str, str]) -> None:
    closed = float(tagged["CLOSE_S"])
    assert closed < CLOSE_WITHIN_S, f"window and threads took {closed:.2f} s to end"
    assert took < EXIT_WITHIN_S, f"the process took {took:.2f} s to exit"


def _run(
    tmp_path: Path, keys: str, args: list[str], quit_how: str
) -> tuple[int, float, dict[str, str], str]:
    """Start the app, wait for READY, quit; (exit code, seconds to exit, tagged lines, log)."""
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "COLORME_SETTINGS": str(tmp_path / "settings.ini"),
    }
    argv = [*args, "--output-dir", str(tmp_path / "out"), "--renderer", "cpu"]
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.app_driver", keys, "--", *argv],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            text=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while "READY" not in out_path.read_text() and proc.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"not ready in {STARTUP_TIMEOUT_S} s:\n{err_path.read_text()[-3000:]}")
            time.sleep(0.05)
        if proc.poll() is not None:
            pytest.fail(f"exited early ({proc.returncode}):\n{err_path.read_text()[-3000:]}")
        time.sleep(0.5)  # the state settles (fullscreen, a few recorded frames)
        assert proc.stdin is not None
        t0 = time.monotonic()
        tagged_t0 = t0
        if quit_how == "q":
            proc.stdin.write("q\n")
            proc.stdin.flush()
        else:
            proc.send_signal(signal.SIGTERM if quit_how == "sigterm" else signal.SIGINT)
        proc.wait(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    tagged = {}
    for line in out_path.read_text().splitlines():
        tag, _, rest = line.partition(" ")
        tagged[tag] = rest
    if "RETURNED" in tagged:  # the window closed and the threads ended; the rest is exit
        tagged["CLOSE_S"] = f"{float(tagged['RETURNED']) - tagged_t0:.3f}"
    return proc.returncode, took, tagged, err_path.read_text()


@pytest.mark.parametrize(
    ("state", "keys", "quit_how"),
    [
        ("playing", "", "q"),
        ("paused", "p", "q"),
        ("paused", "p", "sigterm"),
        ("fullscreen", "f", "q"),
        ("help overlay", "h", "sigterm"),
        ("fullscreen, paused, help", "fph", "q"),
    ],
)
def test_quit_from_any_state_within_a_second(  # type: ignore[no-untyped-def]
    state: str, keys: str, quit_how: str, media_dir: Path, tmp_path: Path
):
    video = clip(media_dir, CLIP)
    rc, took, tagged, log = _run(tmp_path, keys, ["--video", str(video)], quit_how)
    print(f"{state}, {quit_how}: rc {rc}, closed {tagged.get('CLOSE_S')} s, exit {took:.3f} s")
    assert rc == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert tagged.get("THREADS") == "", f"threads left: {tagged.get('THREADS')}"
    _assert_quick(took, tagged)


@pytest.mark.parametrize("quit_how", ["q", "sigterm"])
def test_quit_while_the_camera_is_missing_within_a_second(  # type: ignore[no-untyped-def]
    quit_how: str, tmp_path: Path
):
    rc, took, tagged, log = _run(tmp_path, "", ["--camera", "99"], quit_how)
    print(f"no camera, {quit_how}: rc {rc}, closed {tagged.get('CLOSE_S')} s, exit {took:.3f} s")
    assert rc == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert tagged.get("THREADS") == ""
    _assert_quick(took, tagged)


@pytest.mark.parametrize(("quit_how", "code"), [("sigint", 130), ("sigterm", 0), ("q", 0)])
def test_quit_while_recording_leaves_a_complete_mp4(  # type: ignore[no-untyped-def]
    quit_how: str, code: int, media_dir: Path, tmp_path: Path
):
    video = clip(media_dir, CLIP)
    target = tmp_path / "rec.mp4"
    rc, took, tagged, log = _run(
        tmp_path, "", ["--video", str(video), "--record", str(target)], quit_how
    )
    print(f"recording, {quit_how}: rc {rc}, closed {tagged.get('CLOSE_S')} s, exit {took:.3f} s")
    assert rc == code, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert tagged.get("THREADS") == ""
    _assert_quick(took, tagged)
    written = int(tagged["WRITTEN"])
    by_cv2, by_av = _count_frames(target)
    print(f"written {written}, OpenCV reads {by_cv2}, PyAV reads {by_av}")
    assert by_cv2 == by_av == written > 0
