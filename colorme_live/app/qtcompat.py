"""Work-arounds for bugs in the Qt bindings, each detected at run time so that it switches
itself off on a binding without the bug.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without taking a reference to it, so
every emit from Python drops one reference to ``True``; after a few hundred emits (a few
seconds of video at one emit per frame) CPython aborts with "Fatal Python error: bool_dealloc".
6.11.3 does not have it. ``emit()`` below gives the reference back when the bug is present.
Every signal this app emits from Python goes through it."""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

log = logging.getLogger(__name__)

_PROBE_EMITS = 64


def _incref(obj: object, times: int = 1) -> None:
    for _ in range(times):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


class _Probe(QObject):
    ping = Signal()


def _emit_drops_a_reference() -> bool:
    """Whether ``emit()`` loses a reference to the bool it returns (measured, and repaired)."""
    probe = _Probe()
    result: object = probe.ping.emit()  # type: ignore[func-returns-value]  # it returns a bool
    if not isinstance(result, bool):
        return False
    before = sys.getrefcount(result)
    for _ in range(_PROBE_EMITS):
        probe.ping.emit()
    lost = before - sys.getrefcount(result)
    if lost >= _PROBE_EMITS * 3 // 4:  # other threads may hold a few references meanwhile
        _incref(result, _PROBE_EMITS + 1)  # the probe's own emits, the first one included
        return True
    return False


EMIT_DROPS_REFERENCE = _emit_drops_a_reference()
if EMIT_DROPS_REFERENCE:
    log.debug("this PySide6 drops a reference per Signal.emit(); compensating")


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)``, safe on every PySide6 version (see the module docstring)."""
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]
    if EMIT_DROPS_REFERENCE and isinstance(result, bool):
        _incref(result)
