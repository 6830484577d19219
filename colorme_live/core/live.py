"""The live engine: capture, segmentation and compositing on three worker threads, Qt-free.

Backpressure by design (MediaPipe's FlowLimiter idea): every hand-over is a one-slot holder in
which the newest item wins, so nothing ever queues up.

* **capture** reads the source and puts each frame into two slots: one for the segmenter and
  one for the compositor. It owns the source and reopens it after it is lost.
* **segmentation** always takes the newest frame, runs ``Pipeline.analyse`` (model + temporal
  smoothing) and publishes the newest ``Analysis``; frames that arrive meanwhile are skipped.
  It and MediaPipe's threads run at a lower CPU priority (`SEGMENT_NICENESS`), so that on a
  busy machine the display path gets the CPU first.
* **compositing** takes *every* captured frame it can keep up with, refines the newest mask
  against it, recolours it, and hands a ``LiveFrame`` to each of its sinks (``core.sinks``:
  the display, a recording, the virtual camera). It renders each distinct view the sinks ask
  for once per frame (the view the window shows, the plain recoloured frame, or none for a GPU
  renderer). So the display keeps the source's frame rate even when segmentation is slower.

The UI swaps ``settings`` whole (one reference assignment); workers read it once per frame.
Sinks' ``submit``, ``on_frame`` and ``on_event`` are called on worker threads: a UI forwards
them to its own thread (a queued Qt signal) and must not block in them."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

import numpy as np

from colorme_live.core.errors import ColormeError
from colorme_live.core.frames import Frame
from colorme_live.core.pipeline import (
    Analysis,
    Pipeline,
    Prepared,
    Region,
    composite,
    prepare,
    render_view,
)
from colorme_live.core.segmentation import lower_thread_priority
from colorme_live.core.settings import Settings, View
from colorme_live.core.sinks import CallbackSink, Need, SinkSet
from colorme_live.core.sources import FrameSource

log = logging.getLogger(__name__)

T = TypeVar("T")

RATE_WINDOW_S = 2.0
"""Rates (display fps, segmentation Hz) are measured over this sliding window."""

STALL_TIMEOUT_S = 1.0
"""A running, unpaused source that delivers no frame for this long is reported STALLED (or for
three frame intervals, if that is longer: a slow source is not a stalled one)."""
STALL_FRAME_INTERVALS = 3.0

SEGMENT_NICENESS = 8
"""Niceness of the segmentation worker and MediaPipe's graph threads (Linux). On a busy
2-core machine the display path (capture, compositing) must win the CPU whenever a frame is
due; the segmenter only has to keep its rate. Measured with ``colorme-live bench``'s live run
while other processes kept the machine at load ~4: niceness 0 gave 20-28 fps shown, 7-14% of
frames dropped and a p95 latency of 74-97 ms; niceness 8 gave 30 fps, 0% dropped, p95 27 ms,
and segmentation rose from 13-21 to 21-24 Hz (fewer preemptions of the compositor)."""


SEGMENT_BUDGET_MS = 100.0
"""Model time one live analysis may spend on the people's regions, counted in the fastest
recent crop (``pipeline.CROP_HISTORY``; 15-35 ms here): two people are both segmented every
analysis, three while a crop takes under 33 ms; beyond that the regions take turns
(round-robin), the others carried by motion compensation. More crops an analysis always give
each person more updates a second (the analysis's fixed part, face search, optical flow and
frame scaling, is paid once for all of them); what they cost is the mask's age, as an
analysis takes longer (README "Performance"). A whole frame's fine and coarse passes always
take turns live: see ``Pipeline``."""


class LatestSlot(Generic[T]):
    """A one-item holder: ``put`` replaces what is there (newest wins), ``take`` waits for an
    item that has not been taken yet. ``overwritten`` counts items replaced before a take."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.overwritten = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.overwritten += 1
            self._item = item
            self._cond.notify()

    def take(self, timeout: float) -> T | None:
        """The newest untaken item, or None after ``timeout`` seconds or once closed."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class SourceState(Enum):
    STARTING = "starting"
    RUNNING = "running"
    LOST = "lost"
    """The source failed (camera unplugged, file unreadable); retrying in the background."""
    UNAVAILABLE = "unavailable"
    """The source could not be opened (no camera); retrying in the background."""
    ENDED = "ended"
    """A file source reached its end (when not looping)."""
    FAILED = "failed"
    """A worker failed for good (e.g. the model could not be loaded); see the message."""
    STALLED = "stalled"
    """A running source delivered no frame for ``stall_timeout`` seconds without an error (a
    camera or driver that hangs); RUNNING follows as soon as a frame arrives again."""


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A change of the source's or the engine's state, with a message for the user."""

    state: SourceState
    message: str


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """One displayed frame."""

    image: np.ndarray | None
    """The view the receiving sink asked for (``core.sinks.Need``): what the window shows (the
    view applied) or the plain recoloured frame, uint8 (H, W, 3) BGR, composited on the CPU;
    None for a sink that leaves the full-resolution work to a GPU renderer (``prepared``)."""
    frame: Frame
    """The captured frame it was made from (index, capture timestamp)."""
    prepared: Prepared | None
    """Low-resolution refinement coefficients and recolour constants (None before the first
    mask: then the frame is shown as it is)."""
    settings: Settings
    """The settings snapshot it was made with."""
    mask_index: int | None
    """Index of the frame whose segmentation was used, None before the first mask."""
    shown_at: float
    """``time.monotonic()`` when compositing finished."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    regions: tuple[Region, ...] = ()
    """The people's regions of the mask used (empty: whole frame, or no mask yet): the mask
    view outlines them."""

    @property
    def latency_ms(self) -> float:
        """Capture to display, in milliseconds."""
        return (self.shown_at - self.frame.timestamp) * 1e3


@dataclass(frozen=True, slots=True)
class LiveStats:
    captured: int
    shown: int
    dropped: int
    """Captured frames the compositor never showed (it was still busy with an older one)."""
    segmented: int
    display_fps: float
    segment_hz: float
    state: SourceState
    stage_ms: dict[str, float]
    """The latest per-stage timings (segmentation and compositing stages)."""
    faces: int = 0
    """People tracked in the newest analysis (0: whole-frame segmentation)."""
    person_hz: float = 0.0
    """Segmentations per second of each tracked person (round-robin shares the model)."""
    person_segmented: int = 0
    """Regions segmented so far, all people together (``person_hz`` is a recent rate)."""


class _Rate:
    """Events per second over a sliding window."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            now = self._clock()
            self._times.append(now)
            while self._times and now - self._times[0] > RATE_WINDOW_S:
                self._times.popleft()

    def rate(self) -> float:
        with self._lock:
            now = self._clock()
            while self._times and now - self._times[0] > RATE_WINDOW_S:
                self._times.popleft()
            if len(self._times) < 2:
                return 0.0
            span = max(now - self._times[0], 1e-6)
            return (len(self._times) - 1) / span


class LiveEngine:
    """Runs a source through the pipeline on worker threads until ``stop()``.

    ``open_source`` is called on the capture thread, again after the source is lost; it may
    raise ``ColormeError`` (e.g. no camera), which is reported and retried every
    ``retry_interval`` seconds. A source whose ``read()`` blocks is noticed by the compositor
    (the capture thread is the one stuck): STALLED after ``stall_timeout`` seconds without a
    frame, RUNNING again with the next frame. The engine owns the pipeline and closes it on
    ``stop()``."""

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        pipeline: Pipeline,
        settings: Settings,
        on_frame: Callable[[LiveFrame], None] | None = None,
        on_event: Callable[[LiveEvent], None] | None = None,
        *,
        sinks: SinkSet | None = None,
        retry_interval: float = 1.0,
        stall_timeout: float = STALL_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        segment_niceness: int = SEGMENT_NICENESS,
    ) -> None:
        self._open_source = open_source
        self._pipeline = pipeline
        if pipeline.budget_ms is None:
            pipeline.budget_ms = SEGMENT_BUDGET_MS
        self._settings = settings
        self._settings_version = 0
        self.sinks = sinks if sinks is not None else SinkSet()
        """Where frames go; the caller may add and remove sinks while the engine runs. An
        ``on_frame`` callback is one more sink that needs the shown view."""
        if on_frame is not None:
            self.sinks.add(CallbackSink(on_frame, Need.SHOWN))
        self._on_event = on_event or (lambda event: None)
        self._retry_interval = retry_interval
        self._stall_timeout = stall_timeout
        self._stall_limit = stall_timeout
        self._clock = clock
        self._segment_niceness = segment_niceness
        self._last_read = clock()
        """When the capture thread last got a frame, or had no reason to expect one."""
        self._state_lock = threading.RLock()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._seg_slot: LatestSlot[Frame] = LatestSlot()
        self._comp_slot: LatestSlot[Frame] = LatestSlot()
        self._analysis: Analysis | None = None
        self._state = SourceState.STARTING
        self._description = "the source"
        self._threads: list[threading.Thread] = []
        self._display_rate = _Rate(clock)
        self._segment_rate = _Rate(clock)
        self._person_rate = _Rate(clock)
        """Ticks once per region segmented; divided by the people tracked: Hz per person."""
        self._people_seen = 0
        self._person_segmented = 0
        self._captured = 0
        self._shown = 0
        self._segmented = 0
        self._stage_ms: dict[str, float] = {}
        self.failure: BaseException | None = None
        """An unexpected exception that ended a worker (reported as FAILED); tests check it."""

    # -- control (any thread) -------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value  # one reference assignment: workers see old or new, whole
        self._settings_version += 1

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @paused.setter
    def paused(self, value: bool) -> None:
        if value:
            self._paused.set()
        else:
            self._paused.clear()

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("LiveEngine.start() called twice")
        for name, target in (
            ("colorme-capture", self._capture_loop),
            ("colorme-segment", self._segment_loop),
            ("colorme-composite", self._composite_loop),
        ):
            thread = threading.Thread(target=self._guard(target), name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop every worker and release the source and the model. True if all threads ended
        within ``timeout`` seconds."""
        self._stop.set()
        self._seg_slot.close()
        self._comp_slot.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.running

    def stats(self) -> LiveStats:
        return LiveStats(
            captured=self._captured,
            shown=self._shown,
            dropped=self._comp_slot.overwritten,
            segmented=self._segmented,
            display_fps=self._display_rate.rate(),
            segment_hz=self._segment_rate.rate(),
            state=self._state,
            stage_ms=dict(self._stage_ms),
            faces=len(self._analysis.regions) if self._analysis is not None else 0,
            person_hz=self._person_rate.rate() / max(1, self._people_seen),
            person_segmented=self._person_segmented,
        )

    # -- workers ----------------------------------------------------------------------------

    def _emit(self, state: SourceState, message: str) -> None:
        with self._state_lock:
            self._state = state
            log.info("source %s: %s", state.value, message)
            self._on_event(LiveEvent(state, message))

    def _transition(self, expected: SourceState, state: SourceState, message: str) -> None:
        """Emit ``state`` only if the state is still ``expected`` (the stall watchdog and the
        capture thread race to flip RUNNING <-> STALLED)."""
        with self._state_lock:
            if self._state is expected:
                self._emit(state, message)

    def _check_stall(self, description: str) -> None:
        """On the compositor thread, while no frame arrives: report a stalled source."""
        quiet = self._clock() - self._last_read
        if self._state is SourceState.RUNNING and quiet > self._stall_limit:
            self._transition(
                SourceState.RUNNING,
                SourceState.STALLED,
                f"no frames from {description} for {quiet:.0f} s; waiting for it",
            )

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except Exception as e:  # reported to the UI, kept for tests
                log.exception("%s failed", threading.current_thread().name)
                self.failure = e
                self._emit(SourceState.FAILED, f"internal error: {e}")
                self._stop.set()
                self._seg_slot.close()
                self._comp_slot.close()

        return run

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _capture_loop(self) -> None:
        source: FrameSource | None = None
        try:
            while not self._stop.is_set():
                if source is None:
                    try:
                        source = self._open_source()
                    except ColormeError as e:
                        if self._state is not SourceState.UNAVAILABLE:
                            self._emit(SourceState.UNAVAILABLE, str(e))
                        self._wait(self._retry_interval)
                        continue
                    self._description = source.description
                    self._stall_limit = max(
                        self._stall_timeout, STALL_FRAME_INTERVALS / max(source.fps, 1e-3)
                    )
                    self._last_read = self._clock()
                    self._emit(SourceState.RUNNING, source.description)
                if self._paused.is_set() and not source.is_live:
                    self._last_read = self._clock()  # not expecting frames
                    self._wait(0.02)  # a paused file does not advance
                    continue
                try:
                    frame = source.read()
                except ColormeError as e:
                    self._emit(SourceState.LOST, f"{e}; retrying")
                    source.close()
                    source = None
                    self._wait(self._retry_interval)
                    continue
                if frame is None:
                    self._emit(SourceState.ENDED, f"end of {source.description}")
                    return
                self._last_read = self._clock()
                if self._state is SourceState.STALLED:
                    self._transition(SourceState.STALLED, SourceState.RUNNING, source.description)
                if self._paused.is_set():
                    continue  # a paused camera keeps being read, so it stays fresh
                self._captured += 1
                self._seg_slot.put(frame)
                self._comp_slot.put(frame)
        finally:
            if source is not None:
                source.close()

    def _segment_loop(self) -> None:
        state = None
        lower_thread_priority(threading.get_native_id(), self._segment_niceness)
        try:
            while not self._stop.is_set():
                frame = self._seg_slot.take(timeout=0.1)
                if frame is None:
                    continue
                try:
                    analysis, state = self._pipeline.analyse(frame.image, self._settings, state)
                except ColormeError as e:  # the model failed to load: show frames unchanged
                    self._emit(SourceState.FAILED, str(e))
                    return
                if self._segmented == 0:  # MediaPipe has started all its threads by now
                    self._pipeline.segmenter.lower_priority(self._segment_niceness)
                self._analysis = analysis
                self._segmented += 1
                self._segment_rate.tick()
                self._people_seen = len(analysis.regions)
                for region in analysis.regions:
                    if region.segmented:
                        self._person_rate.tick()
                        self._person_segmented += 1
                self._stage_ms.update(analysis.timings_ms)
        finally:
            self._pipeline.close()

    def _composite_loop(self) -> None:
        last: Frame | None = None
        shown_version = -1
        while not self._stop.is_set():
            frame = self._comp_slot.take(timeout=0.05)
            if frame is None:
                if not self._paused.is_set():
                    self._check_stall(self._description)
                if last is None or not self._paused.is_set():
                    continue
                if shown_version == self._settings_version:
                    continue
                frame = last  # paused: show the held frame again with the new settings
            settings, version = self._settings, self._settings_version
            analysis = self._analysis
            sinks = [(sink, sink.need) for sink in self.sinks.snapshot()]  # need read once
            needs = {need for _, need in sinks}
            timings: dict[str, float] = {}
            prepared: Prepared | None = None
            views: dict[Need, np.ndarray | None] = dict.fromkeys(Need, frame.image)
            mask_index = None
            regions: tuple[Region, ...] = ()
            if analysis is not None and _same_frame(analysis, frame.image.shape):
                regions = analysis.regions
                prepared = prepare(frame.image, analysis, settings)
                mask_index = analysis.index
                timings = dict(prepared.timings_ms)
                views = dict.fromkeys(Need, None)
                if needs & {Need.SHOWN, Need.RECOLOR}:  # one composite for both
                    comp = composite(
                        frame.image,
                        analysis,
                        settings,
                        prepared,
                        # the mask view is the only one that shows the alpha
                        keep_alpha=Need.SHOWN in needs and settings.view is View.MASK,
                    )
                    views[Need.RECOLOR] = comp.image
                    if Need.SHOWN in needs:  # the same array when the view is RECOLOR
                        views[Need.SHOWN] = render_view(frame.image, comp, settings)
                    timings = comp.timings_ms
                self._stage_ms.update(timings)
            last, shown_version = frame, version
            live = LiveFrame(
                views[Need.SHOWN],
                frame,
                prepared,
                settings,
                mask_index,
                self._clock(),
                timings,
                regions,
            )
            self._shown += 1
            self._display_rate.tick()
            for sink, need in sinks:
                image = views[need]
                sink.submit(live if image is live.image else dataclasses.replace(live, image=image))


def _same_frame(analysis: Analysis, frame_shape: tuple[int, ...]) -> bool:
    """Whether ``analysis`` belongs to frames of ``frame_shape`` (it is stale after a source
    of another size was opened): its maps cover exactly the analysed frame."""
    fh, fw = frame_shape[:2]
    return analysis.frame_size == (fw, fh)
