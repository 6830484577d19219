"""SIGINT and SIGTERM close the window through the Qt event loop.

Python runs signal handlers only between bytecodes, and Qt's event loop is C++: a handler
alone would wait for the next Python callback. ``signal.set_wakeup_fd`` makes the C handler
write the signal number into a socket; a ``QSocketNotifier`` on the other end wakes the loop
and calls back into Python on the GUI thread, where the window can close normally (stopping
its threads and finishing a recording)."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

HANDLED = (signal.SIGINT, signal.SIGTERM)


class SignalWatcher(QObject):
    """Calls ``on_signal(signum)`` on the GUI thread for each SIGINT/SIGTERM until ``close()``.
    Must be created on the main thread."""

    def __init__(self, on_signal: Callable[[int], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_signal = on_signal
        self._rsock, self._wsock = socket.socketpair()
        self._rsock.setblocking(False)
        self._wsock.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._wsock.fileno(), warn_on_full_buffer=False)
        self._old_handlers = {sig: signal.signal(sig, self._handler) for sig in HANDLED}
        self._notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._closed = False

    @staticmethod
    def _handler(signum: int, frame: FrameType | None) -> None:
        """The Python-level handler: nothing to do, the wakeup byte carries the signal."""

    def _drain(self) -> None:
        try:
            data = self._rsock.recv(64)
        except BlockingIOError:
            return
        except OSError as e:
            log.debug("signal socket: %s", e)
            return
        for signum in data:
            if signum in HANDLED:
                log.info("received %s: closing", signal.Signals(signum).name)
                self._on_signal(signum)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._old_fd)
        for sig, old in self._old_handlers.items():
            with contextlib.suppress(TypeError, ValueError):
                signal.signal(sig, old if old is not None else signal.SIG_DFL)
        self._rsock.close()
        self._wsock.close()
