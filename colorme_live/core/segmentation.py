"""The one place that talks to MediaPipe: a typed adapter over the Tasks ``ImageSegmenter``.

VIDEO running mode, confidence masks only (the category mask costs ~40 ms at 720p), strictly
increasing timestamps. MediaPipe types never leave this module."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import cv2
import numpy as np

from colorme_live.core.errors import ModelError

log = logging.getLogger(__name__)


@contextmanager
def native_stderr_to_log() -> Iterator[None]:
    """Capture what MediaPipe's C++ side writes to file descriptor 2 while a graph is built
    (TFLite/absl banners, and for a bad model an extra ERROR line) and log it at DEBUG, so the
    user sees our one clear message instead. Used around model loading, the first run and
    closing."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (e.g. a GUI launcher): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().decode(errors="replace").splitlines():
                log.debug("mediapipe: %s", line)


class MediaPipeTask:
    """What every MediaPipe Tasks wrapper here shares: the model is loaded lazily (so a wrapper
    can be made on one thread and used on a worker) and exactly once, ``close()`` (or
    ``with``) releases it, and what MediaPipe writes to stderr while loading, on the first
    run (LiteRT's input-alignment warning) and when closing goes to our debug log.
    Subclasses make the task in ``_create`` and run it through ``_run``."""

    def __init__(self, model_path: Path, *, quiet_runs: bool = False) -> None:
        self._model_path = model_path
        self._quiet_runs = quiet_runs
        self._task: Any = None
        self._ran = False
        self._lock = threading.Lock()
        self._closed = False

    @property
    def model_path(self) -> Path:
        return self._model_path

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def load(self) -> None:
        """Load and validate the model now (otherwise the first run does)."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{type(self).__name__} is closed")
            if self._task is None:
                self._task = self._create()

    def _create(self) -> Any:
        raise NotImplementedError

    def _run(self, call: Callable[[Any], Any]) -> Any:
        """``call(task)`` on the loaded task. The first run's stderr lines go to the log, and
        with ``quiet_runs`` every run's: LiteRT warns on the first input buffer that is not
        aligned, which is any run, wherever the allocator put it. One-shot commands ask for
        that (their promise is one stderr line); the live app does not, because fd 2 is the
        whole process's and other threads' warnings must reach the user."""
        self.load()
        if self._ran and not self._quiet_runs:
            return call(self._task)
        with native_stderr_to_log():  # LiteRT may warn once about the input's alignment
            result = call(self._task)
        self._ran = True
        return result

    def close(self) -> None:
        """Release the MediaPipe graph. Safe to call twice."""
        with self._lock:
            self._closed = True
            if self._task is not None:
                with native_stderr_to_log():  # TFLite's "DestroyAccelerator" INFO line
                    self._task.close()
                self._task = None


EXPECTED_LABELS = ("background", "hair")
"""The labels a hair model must carry (MediaPipe's hair segmenter): anything else is refused."""
HAIR_LABEL_INDEX = 1

MEDIAPIPE_THREAD_NAME = "drishti"
"""The name MediaPipe gives the threads that run its graph (the model included); what
`HairSegmenter.lower_priority` looks for."""


def lower_thread_priority(native_id: int, niceness: int) -> bool:
    """Raise the niceness of one thread (``threading.get_native_id()``) to at least
    ``niceness``. Linux only, where niceness is per thread; elsewhere (where the same call
    would change the whole process) it does nothing and returns False."""
    if not sys.platform.startswith("linux") or niceness <= 0:
        return False
    try:
        current = os.getpriority(os.PRIO_PROCESS, native_id)
        if current < niceness:
            os.setpriority(os.PRIO_PROCESS, native_id, niceness)
    except OSError:  # the thread ended meanwhile, or a sandbox forbids it
        return False
    return True


@dataclass(frozen=True, slots=True)
class HairMask:
    """The model's hair probability for one frame.

    ``prob`` is float32 (h, w) in 0..1 at the size of the image that was segmented (the
    segmentation resolution, not the frame's); ``timestamp_ms`` is the one handed to MediaPipe."""

    prob: np.ndarray
    timestamp_ms: int


def segmentation_size(frame_size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(w, h) of the image handed to the model: the frame scaled so that its long side is
    ``long_side`` (never upscaled), aspect ratio kept, each side at least 1 pixel."""
    w, h = frame_size
    scale = min(1.0, long_side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


class HairSegmenter(MediaPipeTask):
    """MediaPipe hair segmentation in VIDEO mode.

    Loads the model lazily on first use (so it can be created on one thread and used on a
    worker) and exactly once. Use as a context manager or call ``close()``. Not thread-safe:
    one segmenter per worker."""

    def __init__(self, model_path: Path, *, quiet_runs: bool = False) -> None:
        super().__init__(model_path, quiet_runs=quiet_runs)
        self._last_ts = -1

    def _create(self) -> Any:
        from mediapipe.tasks.python import BaseOptions, vision

        t0 = time.perf_counter()
        options = vision.ImageSegmenterOptions(
            base_options=BaseOptions(model_asset_path=str(self._model_path)),
            running_mode=vision.RunningMode.VIDEO,
            output_confidence_masks=True,
            output_category_mask=False,
        )
        try:
            with native_stderr_to_log():
                segmenter = vision.ImageSegmenter.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as e:
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"cannot load hair model {self._model_path}: {first_line}") from e
        labels = tuple(label.lower() for label in segmenter.labels)
        if labels[: len(EXPECTED_LABELS)] != EXPECTED_LABELS:
            segmenter.close()
            raise ModelError(
                f"{self._model_path} is not a hair segmentation model "
                f"(labels {list(labels)}, expected {list(EXPECTED_LABELS)})"
            )
        log.info(
            "hair model %s loaded in %.0f ms", self._model_path, (time.perf_counter() - t0) * 1e3
        )
        return segmenter

    def segment(self, image_bgr: np.ndarray, timestamp_ms: int | None = None) -> HairMask:
        """The hair probability of ``image_bgr`` (uint8 HxWx3, BGR), at that image's size.

        Timestamps must strictly increase; when ``None`` (or not larger than the last one)
        the next integer after the last is used, so a caller never trips MediaPipe's check."""
        if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(
                f"expected a uint8 HxWx3 BGR image, got {image_bgr.dtype} {image_bgr.shape}"
            )
        self.load()
        import mediapipe as mp

        ts = self._last_ts + 1 if timestamp_ms is None else max(timestamp_ms, self._last_ts + 1)
        self._last_ts = ts
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        result = self._run(lambda task: task.segment_for_video(image, ts))
        masks = result.confidence_masks
        if masks is None or len(masks) <= HAIR_LABEL_INDEX:
            raise ModelError("the hair model returned no hair confidence mask")
        prob = np.array(masks[HAIR_LABEL_INDEX].numpy_view(), dtype=np.float32, copy=True)
        prob = prob.reshape(image_bgr.shape[:2])
        np.clip(prob, 0.0, 1.0, out=prob)
        return HairMask(prob=prob, timestamp_ms=ts)

    def lower_priority(self, niceness: int) -> int:
        """Give MediaPipe's graph threads (in this process, named `MEDIAPIPE_THREAD_NAME`) a
        niceness of at least ``niceness``, so that a display path at normal priority wins
        the CPU when the machine is busy. Call it after the first ``segment`` (MediaPipe
        starts one of its threads then). Returns how many threads were changed; 0 where
        threads have no niceness of their own (see `lower_thread_priority`)."""
        changed = 0
        if not sys.platform.startswith("linux"):
            return changed
        tasks = Path("/proc/self/task")
        for task in tasks.iterdir():
            try:
                name = (task / "comm").read_text().strip()
            except OSError:  # ended meanwhile
                continue
            if name == MEDIAPIPE_THREAD_NAME and lower_thread_priority(int(task.name), niceness):
                changed += 1
        return changed
