"""Hands the engine's worker-thread callbacks to the GUI thread.

Frames are coalesced, latest wins: the worker overwrites a one-item holder and emits
``frame_ready`` only when the GUI has taken the previous one, so a slow GUI never builds a
queue of frames (STYLE: one frame in flight). Events and errors are rare and all delivered.
Signals are emitted on worker threads and connected queued, so slots run on the GUI thread.
After ``close()`` posting is a no-op, so a worker that outlives the window cannot touch it.

The bridge is the display's frame sink (``core.sinks.FrameSink``): it needs the shown view on
the CPU, or none at all when the view draws on the GPU (``needs_cpu``), and tags each frame
with the ``generation`` of the engine that is current (set by the window when it starts one)."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from colorme_live.core.live import LiveEvent, LiveFrame
from colorme_live.core.sinks import Need


class EngineBridge(QObject):
    frame_ready = Signal()
    """A new frame waits in ``take_frame()``."""
    event_posted = Signal(object)
    """``(generation, LiveEvent)``."""
    recorder_failed = Signal(object)
    """``(recorder, message)``."""
    vcam_failed = Signal(object)
    """``(virtual camera number, message)``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: tuple[int, LiveFrame] | None = None
        self._closed = False
        self.coalesced = 0
        """Frames replaced before the GUI took them (the GUI was busy)."""
        self.generation = 0
        """The current engine's number; ``submit`` tags frames with it."""
        self.needs_cpu = True
        """Whether the view draws ``LiveFrame.image`` (False: a GPU view draws ``prepared``)."""

    # -- the sink protocol (compositor thread) ---------------------------------------------

    @property
    def need(self) -> Need:
        return Need.SHOWN if self.needs_cpu else Need.PREPARED

    def submit(self, live: LiveFrame) -> None:
        self.post_frame(self.generation, live)

    # -- worker threads -------------------------------------------------------------------

    def post_frame(self, generation: int, live: LiveFrame) -> None:
        with self._lock:
            if self._closed:
                return
            notify = self._pending is None
            if not notify:
                self.coalesced += 1
            self._pending = (generation, live)
        if notify:
            self.frame_ready.emit()

    def post_event(self, generation: int, event: LiveEvent) -> None:
        with self._lock:
            if self._closed:
                return
        self.event_posted.emit((generation, event))

    def post_recorder_error(self, recorder: object, message: str) -> None:
        with self._lock:
            if self._closed:
                return
        self.recorder_failed.emit((recorder, message))

    def post_vcam_error(self, vcam_id: int, message: str) -> None:
        with self._lock:
            if self._closed:
                return
        self.vcam_failed.emit((vcam_id, message))

    # -- GUI thread ---------------------------------------------------------------------

    def take_frame(self) -> tuple[int, LiveFrame] | None:
        with self._lock:
            item, self._pending = self._pending, None
            return item

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._pending = None
