"""The OpenGL viewer (``app.gl_view.GLView``) and ``gl_available``.

The widget runs in the GL worker on a private Xvfb (see ``tests/glx.py`` for why not in this
process); tests that need it skip, with the reason, when Xvfb or OpenGL 3.3 is missing."""

from __future__ import annotations

import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from colorme_live.app.gl_render import letterbox
from colorme_live.core.frames import Frame
from colorme_live.core.live import LiveFrame
from colorme_live.core.palette import PALETTE
from colorme_live.core.pipeline import Prepared
from colorme_live.core.recolor import make_look
from colorme_live.core.refine import coefficients, luma
from colorme_live.core.settings import RefineSettings, Settings, View
from tests.glx import REPO, GLWorker, gl_worker_fixture  # noqa: F401 (the gl_worker fixture)


def _live(w: int, h: int, settings: Settings, *, mask: bool = True, seed: int = 0) -> LiveFrame:
    """A smooth synthetic frame with an elliptical 'hair' region."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (max(2, h // 16), max(2, w // 16), 3), dtype=np.uint8)
    image = np.ascontiguousarray(
        cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.uint8
    )
    prepared = None
    if mask:
        ch, cw = max(1, h // 5), max(1, w // 5)
        yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
        prob = np.clip(1.5 - np.hypot((xx - cw / 2) / (cw / 3), (yy - ch / 2) / (ch / 3)), 0, 1)
        small = cv2.resize(image, (cw, ch), interpolation=cv2.INTER_AREA).reshape(ch, cw, 3)
        coeffs = coefficients(prob.astype(np.float32), luma(small), RefineSettings())
        prepared = Prepared(coeffs, make_look(settings.color, 0.4), {})
    frame = Frame(image, index=0, timestamp=time.monotonic(), pts=0.0)
    return LiveFrame(None, frame, prepared, settings, 0 if mask else None, time.monotonic())


@pytest.mark.parametrize(
    ("frame", "target", "expected"),
    [
        ((1280, 720), (1280, 720), (0, 0, 1280, 720)),
        ((1280, 720), (800, 800), (0, 175, 800, 450)),  # bars top and bottom
        ((720, 1280), (800, 600), (231, 0, 338, 600)),  # bars left and right
        ((3, 1), (1, 1), (0, 0, 1, 1)),  # never smaller than a pixel
    ],
)
def test_letterbox(
    frame: tuple[int, int], target: tuple[int, int], expected: tuple[int, int, int, int]
) -> None:
    vp = letterbox(*frame, *target)
    assert (vp.x, vp.y, vp.width, vp.height) == expected


def test_gl_available_says_why_not_on_the_offscreen_platform() -> None:
    """Qt's offscreen platform without an X display has no OpenGL: the probe must say so in
    a line, not crash, so the window can fall back to the CPU view."""
    code = (
        "import sys\n"
        "from PySide6.QtGui import QGuiApplication\n"
        "from colorme_live.app.gl_view import gl_available\n"
        "print('before app:', gl_available())\n"
        "app = QGuiApplication(sys.argv[:1])\n"
        "print('offscreen:', gl_available())\n"
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("before app: (False, 'no QGuiApplication"), lines
    assert lines[1].startswith("offscreen: (False, ") and "offscreen" in lines[1], lines


@pytest.mark.gl
def test_gl_available_under_xvfb(gl_worker: GLWorker) -> None:
    ok, reason = gl_worker.call("probe")
    assert ok and reason.startswith("OpenGL ")


@pytest.mark.gl
def test_view_at_the_frame_size_shows_exactly_the_offscreen_render(gl_worker: GLWorker) -> None:
    """Same shader, same uploads: a widget exactly the frame's size is the parity-tested
    offscreen render, bit for bit, in every view."""
    for view in View:
        live = _live(320, 240, Settings(color=PALETTE[8], intensity=90, view=view))
        (grab,), error = gl_worker.call("widget", (320, 240), [live])
        assert error is None
        expected = gl_worker.call("render", live.frame.image, live.prepared, live.settings)
        np.testing.assert_array_equal(grab, expected)


@pytest.mark.gl
def test_view_letterboxes_and_scales(gl_worker: GLWorker) -> None:
    """A 16:9 frame in a 400x400 widget: black bars above and below, the picture in between
    close to the full-size render scaled down (it is composited at the display size)."""
    settings = Settings(color=PALETTE[3], intensity=100)
    live = _live(640, 360, settings)
    (grab,), error = gl_worker.call("widget", (400, 400), [live])
    assert error is None and grab.shape == (400, 400, 3)
    vp = letterbox(640, 360, 400, 400)
    top = 400 - vp.y - vp.height  # grab rows count from the top, GL rows from the bottom
    assert not grab[:top].any() and not grab[top + vp.height :].any()
    picture = grab[top : top + vp.height].astype(np.float32)
    full = gl_worker.call("render", live.frame.image, live.prepared, settings)
    scaled = cv2.resize(full, (vp.width, vp.height), interpolation=cv2.INTER_AREA)
    assert float(np.mean(np.abs(picture - scaled))) < 1.0  # measured 0.35
    assert np.all(picture.mean(axis=(0, 1)) > 20), "the picture area is not drawn"


@pytest.mark.gl
def test_view_handles_no_mask_and_a_change_of_frame_size(gl_worker: GLWorker) -> None:
    """Before the first mask the plain frame is shown; then a mask arrives; then the source
    changes to another size (textures are reallocated)."""
    settings = Settings(intensity=100, view=View.SPLIT, split=0.25)
    first = _live(200, 100, settings, mask=False)
    second = _live(200, 100, settings, seed=1)
    third = _live(100, 50, settings, seed=2)
    grabs, error = gl_worker.call("widget", (200, 100), [first, second, third])
    assert error is None
    np.testing.assert_array_equal(grabs[0], first.frame.image)
    expected = gl_worker.call("render", second.frame.image, second.prepared, settings)
    np.testing.assert_array_equal(grabs[1], expected)
    small = gl_worker.call("render", third.frame.image, third.prepared, settings)
    upscaled = cv2.resize(small, (200, 100), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    assert float(np.mean(np.abs(grabs[2].astype(np.float32) - upscaled))) < 2.0  # measured 1.02


def test_pyside_keeps_none_alive() -> None:
    """The GL view makes about 50 Qt calls that return nothing per frame. If each one loses a
    reference to None (PySide6 6.12.0 on Python 3.11, which pyproject.toml excludes), the
    interpreter aborts with 'deallocating None' after a few thousand, seconds into a session."""
    code = (
        "import sys\n"
        "from PySide6.QtCore import QObject\n"
        "o = QObject()\n"
        "before = sys.getrefcount(None)\n"
        "for _ in range(1000): o.setObjectName('x')\n"
        "print(before - sys.getrefcount(None))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 10, f"{out.stdout.strip()} references to None lost in 1000 calls"
