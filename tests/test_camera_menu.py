"""The window's Camera menu: the cameras by name, none on this machine, hot-plugging, picking
one and remembering it. The list of cameras is the real one here (none); hot-plug tests hand
the window a list that changes, as ``cv2_enumerate_cameras`` would when a camera is plugged
in (a camera the test cannot plug in is data, not a model)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from colorme_live.app.config import AppConfig, SourceSpec
from colorme_live.app.prefs import Prefs
from colorme_live.app.window import MainWindow
from colorme_live.core.cameras import CameraDevice
from colorme_live.core.live import SourceState
from tests.conftest import colorme_threads

USB = CameraDevice(3, "USB Cam", "/dev/video3")


@pytest.fixture
def open_window(
    qtbot, tmp_path: Path, isolated_settings: Path
) -> Iterator[Callable[..., MainWindow]]:  # type: ignore[no-untyped-def]
    windows: list[MainWindow] = []

    def make(
        lister: Callable[[], list[CameraDevice]] | None = None, **config: object
    ) -> MainWindow:
        config.setdefault("output_dir", tmp_path / "out")
        kwargs = {} if lister is None else {"camera_lister": lister}
        window = MainWindow(AppConfig(**config), retry_interval=0.2, **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        window.show()
        window.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
    qtbot.waitUntil(lambda: not colorme_threads(), timeout=3000)


def _entries(window: MainWindow) -> list[tuple[str, bool, bool]]:
    window._refresh_camera_menu()
    return [
        (a.text(), a.isEnabled(), a.isChecked())
        for a in window.camera_menu.actions()
        if not a.isSeparator()
    ]


def test_no_cameras_on_this_machine_the_menu_says_so(qtbot, open_window) -> None:  # type: ignore[no-untyped-def]
    window = open_window(source=SourceSpec(camera=0), camera_given=True)
    qtbot.waitUntil(lambda: window._state is SourceState.UNAVAILABLE, timeout=10000)
    assert _entries(window) == [("No cameras found", False, False), ("Open video…", True, False)]
    assert window.message_panel.title.text() == "No camera 0 found"


def test_a_plugged_in_camera_appears_and_can_be_picked_and_is_remembered(
    qtbot, open_window, isolated_settings: Path
) -> None:  # type: ignore[no-untyped-def]
    plugged: list[CameraDevice] = []
    window = open_window(lambda: list(plugged), source=SourceSpec(camera=0), camera_given=True)
    qtbot.waitUntil(lambda: _entries(window)[0][0] == "No cameras found", timeout=5000)
    plugged.append(USB)
    qtbot.waitUntil(lambda: _entries(window)[0] == ("3: USB Cam", True, False), timeout=5000)
    window.camera_menu.actions()[0].trigger()
    assert window._spec.camera == 3 and window._spec.camera_name == "USB Cam"
    assert _entries(window)[0] == ("3: USB Cam", True, True)
    assert Prefs(isolated_settings).camera() == ("USB Cam", 3)
    qtbot.waitUntil(lambda: window.message_panel.title.text() == "No camera 3 found", timeout=10000)
    plugged.clear()
    qtbot.waitUntil(lambda: _entries(window)[0][0] == "No cameras found", timeout=5000)


def test_the_remembered_camera_is_found_by_name_under_a_new_index(
    open_window, isolated_settings: Path
) -> None:  # type: ignore[no-untyped-def]
    Prefs(isolated_settings).save_camera("USB Cam", 3)
    moved = CameraDevice(5, "USB Cam", "/dev/video5")
    window = open_window(lambda: [CameraDevice(0, "Built-in"), moved], source=SourceSpec())
    assert (window._spec.camera, window._spec.camera_name) == (5, "USB Cam")


def test_the_remembered_camera_index_is_used_when_its_name_is_not_listed(
    open_window, isolated_settings: Path
) -> None:  # type: ignore[no-untyped-def]
    Prefs(isolated_settings).save_camera("USB Cam", 3)
    window = open_window(source=SourceSpec())  # the real list: no cameras
    assert window._spec.camera == 3


def test_camera_given_on_the_command_line_wins_over_the_remembered_one(
    open_window, isolated_settings: Path
) -> None:  # type: ignore[no-untyped-def]
    Prefs(isolated_settings).save_camera("USB Cam", 3)
    window = open_window(lambda: [USB], source=SourceSpec(camera=1), camera_given=True)
    assert window._spec.camera == 1


def test_a_lost_camera_plugged_back_under_another_index_is_reopened(qtbot, open_window) -> None:  # type: ignore[no-untyped-def]
    plugged: list[CameraDevice] = []
    window = open_window(
        lambda: list(plugged), source=SourceSpec(camera=3, camera_name="USB Cam"), camera_given=True
    )
    qtbot.waitUntil(lambda: window._state is SourceState.UNAVAILABLE, timeout=10000)
    plugged.append(CameraDevice(6, "USB Cam", "/dev/video6"))
    qtbot.waitUntil(lambda: window._spec.camera == 6, timeout=5000)
    assert window._spec.camera_name == "USB Cam"


def test_status_bar_names_the_camera(qtbot, open_window) -> None:  # type: ignore[no-untyped-def]
    window = open_window(lambda: [USB], source=SourceSpec(camera=3), camera_given=True)
    qtbot.waitUntil(lambda: "camera 3 (USB Cam)" in window.source_label.text(), timeout=5000)


def test_a_camera_far_below_its_rate_is_named_in_the_status_bar(qtbot, open_window) -> None:  # type: ignore[no-untyped-def]
    """Frames as a dim-room camera delivers them: 12 of the 30 fps asked for."""
    import numpy as np

    from colorme_live.app.session import SourceInfo
    from colorme_live.core.frames import Frame
    from colorme_live.core.live import LiveFrame
    from colorme_live.core.settings import Settings

    window = open_window(source=SourceSpec(camera=0), camera_given=True)
    assert window._opener is not None
    window._opener.info = SourceInfo("camera 0 1280x720@30 MJPG via V4L2", 30.0, (1280, 720), 30.0)
    image = np.zeros((720, 1280, 3), np.uint8)
    for k in range(12 * 4):
        frame = Frame(image=image, index=k, timestamp=1000.0 + k / 12.0, pts=k / 12.0)
        window._watch_rate(LiveFrame(None, frame, None, Settings(), None, frame.timestamp))
    window._refresh_status()
    text = window.source_label.text()
    assert text.startswith("camera 0 1280x720@30 MJPG via V4L2")
    assert "camera gives 12 of 30 fps: too dark?" in text
