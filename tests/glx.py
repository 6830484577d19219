"""Support for the GL tests: a private Xvfb server and a GL worker process talking to it.

Why a worker process: the test process already has (or will get, from pytest-qt) a single
QApplication on the ``offscreen`` platform, which has no OpenGL. Qt picks its platform once
per process, so the GL rendering runs in ``tests/gl_worker.py`` with ``QT_QPA_PLATFORM=xcb``
and ``DISPLAY`` pointing at an Xvfb that the fixture starts (Xvfb's GLX is Mesa llvmpipe).
The test process sends it pickled requests (frames, ``Prepared``, ``Settings``) over a pipe
and gets NumPy images back, so the comparisons and assertions stay in the tests.

Import the fixture into a test module with ``from tests.glx import gl_worker_fixture`` (it is
registered as ``gl_worker``). Tests that use it skip, with the reason, when Xvfb is not
installed, does not start, or its OpenGL cannot run the shaders."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
HEADER = struct.Struct("<Q")
"""Each message is an 8-byte little-endian length, then that many bytes of pickle."""
XVFB_START_TIMEOUT_S = 20.0
REPLY_TIMEOUT_S = 180.0


def send(stream: Any, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n > 0:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no reply from the GL worker in time")
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the GL worker closed its pipe (it crashed? see its stderr)")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, timeout: float | None = None) -> Any:
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, size, deadline))


class Xvfb:
    """An Xvfb server on a display number it picks itself (``-displayfd``), so parallel
    test runs do not collide. ``close()`` stops it."""

    def __init__(self) -> None:
        exe = shutil.which("Xvfb")
        if exe is None:
            raise FileNotFoundError("Xvfb is not installed (apt-get install xvfb)")
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [exe, "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        try:
            deadline = time.monotonic() + XVFB_START_TIMEOUT_S
            text = b""
            while not text.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    raise RuntimeError("Xvfb did not report a display in time")
                chunk = os.read(read_fd, 64)
                if not chunk:
                    raise RuntimeError(f"Xvfb exited with code {self.process.wait()}")
                text += chunk
        except BaseException:
            self.close()
            raise
        finally:
            os.close(read_fd)
        self.display = f":{int(text.strip())}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class GLWorker:
    """``tests/gl_worker.py`` running on ``display``; ``call(command, *args)`` returns its
    result or raises RuntimeError with the worker's traceback."""

    def __init__(self, display: str) -> None:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.gl_worker"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def call(self, command: str, *args: object, timeout: float = REPLY_TIMEOUT_S) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        send(self.process.stdin, (command, args))
        status, value = receive(self.process.stdout.fileno(), timeout)
        if status != "ok":
            raise RuntimeError(f"GL worker failed on {command!r}:\n{value}")
        return value

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError, EOFError, TimeoutError, RuntimeError):
                self.call("quit", timeout=10)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module", name="gl_worker")
def gl_worker_fixture() -> Iterator[GLWorker]:
    """A GL worker on a private Xvfb, or a skip saying why there is none."""
    try:
        xvfb = Xvfb()
    except (OSError, RuntimeError) as e:
        pytest.skip(f"no X server for the GL tests: {e}")
    worker = GLWorker(xvfb.display)
    try:
        ok, reason = worker.call("probe")
        if not ok:
            pytest.skip(f"no usable OpenGL 3.3 under Xvfb {xvfb.display}: {reason}")
        yield worker
    finally:
        worker.close()
        xvfb.close()
