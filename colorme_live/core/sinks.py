"""Where composited frames go: one small protocol for every consumer, Qt-free.

The window's display (through its bridge), the recorder and the virtual camera are all
*sinks*. Each says which view it needs (``Need``); the live engine renders each distinct view
once per frame and hands every sink a ``LiveFrame`` whose ``image`` is the view it asked for.
``submit`` is called on the engine's compositor thread and must never block (a sink with slow
work hands the frame to its own thread behind a bounded or newest-wins holder); ``close``
releases what the sink holds.

A ``SinkSet`` is the engine's list of sinks, replaced whole under a lock, so sinks can come
and go (recording starts, the virtual camera is switched on) while the engine runs."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from colorme_live.core.live import LiveFrame


class Need(enum.Enum):
    """Which picture a sink wants in ``LiveFrame.image``."""

    SHOWN = "shown"
    """What the window shows: ``settings.view`` applied (before/after split, mask), composited
    on the CPU. Recording and snapshots take this."""
    RECOLOR = "recolor"
    """The plain recoloured frame whatever the view (the virtual camera: split and mask views
    stay in the window)."""
    PREPARED = "prepared"
    """No CPU image (``image`` is None once a mask exists): a GPU renderer draws from
    ``LiveFrame.prepared``. Costs nothing on the CPU."""


@runtime_checkable
class FrameSink(Protocol):
    """A consumer of composited frames."""

    @property
    def need(self) -> Need:
        """Read once per frame by the compositor; may change between frames."""
        ...

    def submit(self, live: LiveFrame) -> None:
        """Take one frame (on the compositor thread). Must not block; must not modify
        ``live.image`` (other sinks may hold the same array)."""
        ...

    def close(self) -> None: ...


class CallbackSink:
    """A plain function as a sink (tests, the bench): ``need`` is fixed, ``close`` does
    nothing."""

    def __init__(self, callback: Callable[[LiveFrame], None], need: Need = Need.SHOWN) -> None:
        self._callback = callback
        self._need = need

    @property
    def need(self) -> Need:
        return self._need

    def submit(self, live: LiveFrame) -> None:
        self._callback(live)

    def close(self) -> None:
        return None


class SinkSet:
    """The sinks an engine feeds: a tuple replaced whole under a lock (the compositor takes a
    snapshot per frame), so adding or removing one from another thread is safe."""

    def __init__(self, sinks: tuple[FrameSink, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._sinks = tuple(sinks)

    def add(self, sink: FrameSink) -> None:
        with self._lock:
            if not any(s is sink for s in self._sinks):
                self._sinks = (*self._sinks, sink)

    def remove(self, sink: FrameSink) -> bool:
        """Take ``sink`` out (it is not closed); False if it was not there."""
        with self._lock:
            kept = tuple(s for s in self._sinks if s is not sink)
            found = len(kept) != len(self._sinks)
            self._sinks = kept
            return found

    def snapshot(self) -> tuple[FrameSink, ...]:
        with self._lock:
            return self._sinks

    def needs(self) -> set[Need]:
        return {s.need for s in self.snapshot()}

    def __len__(self) -> int:
        return len(self.snapshot())

    def __contains__(self, sink: object) -> bool:
        return any(s is sink for s in self.snapshot())
