"""The Camera menu: the connected cameras by name, kept up to date as cameras are plugged in
and out (a background thread lists them every ``POLL_S`` seconds; listing can take a moment
on Windows, so never on the GUI thread)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from colorme_live.core.cameras import CameraDevice, list_cameras

log = logging.getLogger(__name__)

POLL_S = 2.0


def list_names() -> list[CameraDevice]:
    """The cameras without their modes: what the menu shows, cheap enough to poll."""
    return list_cameras(modes=lambda _path: ())


class CameraWatcher(QObject):
    """Emits ``changed(list[CameraDevice])`` on the GUI thread whenever the list changes (and
    once at start)."""

    changed = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        lister: Callable[[], list[CameraDevice]] = list_names,
        interval_s: float = POLL_S,
    ) -> None:
        super().__init__(parent)
        self._lister = lister
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cameras: list[CameraDevice] = []

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="colorme-camera-watch", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2.0)

    def _run(self) -> None:
        last: list[tuple[int, str]] | None = None
        while not self._stop.is_set():
            try:
                found = self._lister()
            except Exception as e:  # noqa: BLE001 - a listing failure must not end the watch
                log.warning("cannot list the cameras: %s", e)
                found = []
            key = [(c.index, c.name) for c in found]
            if key != last and not self._stop.is_set():
                last = key
                self.cameras = found
                self.changed.emit(found)
            self._stop.wait(self._interval)


def fill_camera_menu(
    menu: QMenu,
    cameras: Sequence[CameraDevice],
    current: int | None,
    on_pick: Callable[[CameraDevice], None],
    on_open_video: Callable[[], None],
    parent: QWidget,
) -> None:
    """(Re)build ``menu``: one checkable entry per camera (``current`` checked), or a note
    that none was found, then "Open video…"."""
    menu.clear()
    group = QActionGroup(menu)
    group.setExclusive(True)
    if not cameras:
        none = QAction("No cameras found", menu)
        none.setEnabled(False)
        menu.addAction(none)
    for camera in cameras:
        action = QAction(f"{camera.index}: {camera.name}", menu)
        action.setCheckable(True)
        action.setChecked(camera.index == current)
        if camera.modes:
            action.setToolTip(", ".join(str(m) for m in camera.modes[:4]))
        action.triggered.connect(lambda _checked=False, c=camera: on_pick(c))
        group.addAction(action)
        menu.addAction(action)
    menu.addSeparator()
    video = QAction("Open video…", menu)
    video.triggered.connect(lambda _checked=False: on_open_video())
    menu.addAction(video)
