"""Recording that never slows the display: an encoder thread behind a bounded queue, Qt-free.

``submit`` is called on the thread that produces frames (the live engine's compositor) and
never blocks: when the queue is full the frame is dropped and counted. The encoder thread
writes an H.264 fragmented MP4 (``H264Writer(fragmented=True)``), so a process killed
mid-recording still leaves a playable file.

Timing: the file has a constant frame rate (the source's). Each frame is placed by its
timestamp: when frames are missing (the compositor or this queue dropped some, the view was
paused, the camera stalled) the previous frame is repeated to fill the gap, up to
``max_fill_s``; so the recording plays at the speed it was seen. Frames that arrive early are
written at the next slot (never dropped), and the schedule is re-anchored when it drifts by
more than a frame, so jitter never adds repeats.

Errors while encoding are logged, kept in ``error`` and passed to ``on_error`` (on the encoder
thread); they are never raised into the producer."""

from __future__ import annotations

import ctypes
import logging
import math
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from colorme_live.core.sinks import Need
from colorme_live.core.video_writer import H264Writer, RecordingError

if TYPE_CHECKING:
    from colorme_live.core.live import LiveFrame

log = logging.getLogger(__name__)

DEFAULT_QUEUE_FRAMES = 16
"""Frames waiting for the encoder before ``submit`` starts dropping (about half a second at
30 fps; 16 frames of 1080p BGR are ~100 MB)."""
DEFAULT_MAX_FILL_S = 2.0
"""The longest gap (seconds) filled by repeating the previous frame; a longer one (a long pause,
a camera that was gone) is cut to this, so the file does not fill up with a frozen frame."""
BEHIND_HOLD_S = 1.0
"""``behind`` stays true this long after the last dropped frame."""
_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class RecorderStats:
    submitted: int
    """Frames handed to ``submit`` while recording (accepted or dropped)."""
    dropped: int
    """Frames dropped because the encoder's queue was full."""
    written: int
    """Frames in the file, repeats included."""
    repeated: int
    """Frames written twice or more to fill gaps in time."""
    resized: int
    """Frames resized to the recording's size (the source changed resolution)."""


class AsyncRecorder:
    """Records BGR uint8 frames to ``path`` at ``fps`` on its own thread ``colorme-recorder``.

    The constructor opens the file (raising ``RecordingError`` for a bad name or folder, or
    for a file another recorder is writing) and starts the thread; ``stop()`` drains the
    queue, closes the file, joins the thread and releases the encoder and the frames."""

    def __init__(
        self,
        path: str | Path,
        fps: float,
        size: tuple[int, int],
        *,
        max_queue: int = DEFAULT_QUEUE_FRAMES,
        max_fill_s: float = DEFAULT_MAX_FILL_S,
        on_error: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue!r}")
        if not (math.isfinite(max_fill_s) and max_fill_s >= 0):
            raise ValueError(f"max_fill_s must be a number >= 0, got {max_fill_s!r}")
        self._writer = H264Writer(path, fps, size, fragmented=True)
        self._fps = float(self._writer.fps)
        self._max_fill = int(max_fill_s * self._fps)
        self._on_error = on_error
        self._clock = clock
        self._queue: queue.Queue[tuple[npt.NDArray[np.uint8], float]] = queue.Queue(max_queue)
        self._lock = threading.Lock()
        self._accepting = True
        self._stop = threading.Event()
        self._submitted = 0
        self._dropped = 0
        self._repeated = 0
        self._resized = 0
        self._last_drop = -math.inf
        self._t0: float | None = None
        self._last: npt.NDArray[np.uint8] | None = None
        self._error: str | None = None
        self.started_at = clock()
        self._thread = threading.Thread(target=self._run, name="colorme-recorder", daemon=True)
        self._thread.start()

    # -- any thread ---------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._writer.path

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        return self._writer.size

    @property
    def error(self) -> str | None:
        """The message of the error that ended the recording, if one did."""
        return self._error

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def behind(self) -> bool:
        """The encoder is not keeping up: its queue is over half full or it dropped a frame
        within the last ``BEHIND_HOLD_S`` seconds."""
        maxsize = self._queue.maxsize
        return self._queue.qsize() * 2 > maxsize or self._clock() - self._last_drop < BEHIND_HOLD_S

    def stats(self) -> RecorderStats:
        return RecorderStats(
            submitted=self._submitted,
            dropped=self._dropped,
            written=self._writer.frames_written,
            repeated=self._repeated,
            resized=self._resized,
        )

    def submit(self, image: npt.NDArray[np.uint8], timestamp: float) -> bool:
        """Queue one frame (BGR uint8 (H, W, 3), not modified afterwards by the caller) taken at
        ``timestamp`` (seconds, ``time.monotonic()``). Never blocks; False if the frame was
        dropped (queue full) or the recorder has stopped."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
            raise TypeError(f"image must be a uint8 ndarray, got {got}")
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be (H, W, 3) BGR, got shape {image.shape}")
        with self._lock:
            if not self._accepting:
                return False
            self._submitted += 1
            try:
                self._queue.put_nowait((image, timestamp))
            except queue.Full:
                self._dropped += 1
                self._last_drop = self._clock()
                return False
        return True

    def stop(self, timeout: float | None = None) -> RecorderStats:
        """Stop accepting frames, encode the ones queued, finish the file and join the thread
        (waiting at most ``timeout`` seconds; None waits until done). Safe to call twice."""
        with self._lock:
            self._accepting = False
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("recorder for %s still finishing after %ss", self.path, timeout)
        else:
            self._release()
        return self.stats()

    def _release(self) -> None:
        """After the thread ended: drop the frames and the callback (the writer already let
        its encoder go), so a stopped recorder holds nothing big and nothing that holds it."""
        self._last = None
        self._on_error = None
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        return_freed_memory()

    # -- encoder thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                try:
                    image, timestamp = self._queue.get(timeout=_POLL_S)
                except queue.Empty:
                    if self._stop.is_set():
                        break
                    continue
                self._encode(image, timestamp)
            self._writer.close()
            log.info(
                "recorded %d frames (%d repeated, %d dropped) to %s",
                self._writer.frames_written,
                self._repeated,
                self._dropped,
                self.path,
            )
        except RecordingError as e:
            self._fail(str(e))
        except Exception as e:  # reported to the UI, never raised into it
            log.exception("recorder for %s failed", self.path)
            self._fail(f"recording failed: {e}")

    def _encode(self, image: npt.NDArray[np.uint8], timestamp: float) -> None:
        width, height = self._writer.size
        if image.shape[:2] != (height, width):
            image = np.asarray(
                cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8
            )
            self._resized += 1
        slot = self._writer.frames_written
        if self._t0 is None:
            self._t0 = timestamp
        else:
            lag = (timestamp - self._t0) * self._fps - slot
            repeats = min(int(lag), self._max_fill) if lag >= 1.0 else 0
            if self._last is not None:
                for _ in range(repeats):
                    self._writer.write(self._last)
                self._repeated += repeats
                slot += repeats
            if abs(lag - repeats) >= 1.0:  # a gap longer than max_fill_s, or frames too early
                self._t0 = timestamp - slot / self._fps
        self._writer.write(image)
        self._last = image

    def _fail(self, message: str) -> None:
        with self._lock:
            self._accepting = False
        self._error = message
        log.error("%s", message)
        while True:  # free the queued frames
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._writer.close()  # keeps what a fragmented file holds; a no-op once closed
        except RecordingError as e:
            log.debug("closing after the error: %s", e)
        if self._on_error is not None:
            self._on_error(message)


class RecorderSink:
    """An ``AsyncRecorder`` as a frame sink (``core.sinks``): it records what the window shows
    (``Need.SHOWN``: the before/after split included, that is the demo). A frame shown again
    while paused (the look changed) is placed at the time it was shown, not captured. ``close``
    stops the recorder (the file is finished)."""

    need = Need.SHOWN

    def __init__(self, recorder: AsyncRecorder, stop_timeout: float | None = None) -> None:
        self.recorder = recorder
        self._stop_timeout = stop_timeout
        self._last: tuple[int, float] | None = None  # compositor thread only

    def submit(self, live: LiveFrame) -> None:
        if live.image is None:
            return
        key = (live.frame.index, live.frame.timestamp)
        timestamp = live.frame.timestamp if key != self._last else live.shown_at
        self._last = key
        self.recorder.submit(live.image, timestamp)

    def close(self) -> None:
        self.recorder.stop(self._stop_timeout)


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


_TRIM = _malloc_trim()


def return_freed_memory() -> None:
    """Hand the memory a finished recording freed back to the system. glibc keeps freed
    blocks (the encoder's buffers, in the arenas of x264's threads, and the queued frames) for
    reuse, so without this the process stays tens of MB above where it was. A no-op where
    there is no ``malloc_trim`` (not Linux/glibc)."""
    if _TRIM is not None:
        _TRIM(0)
