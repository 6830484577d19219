"""Before Qt starts: is there a display at all, and undo what importing OpenCV did to Qt's
environment. Qt-free, so it runs before any Qt library is loaded."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import MutableMapping
from pathlib import Path

import cv2  # noqa: F401 - imported now, so that it cannot set the variables again after us

from colorme_live import QT_ENV_AT_IMPORT
from colorme_live.core.errors import ColormeError

OPENCV_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")
HEADLESS_HINT = "'colorme-live render' and 'colorme-live mask' work without one"
_CONNECT_TIMEOUT_S = 1.0


class NoDisplayError(ColormeError):
    """The window cannot open: there is no display to open it on."""


def _inside(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def _opencv_dir() -> Path | None:
    module = sys.modules.get("cv2")
    origin = getattr(module, "__file__", None)
    return Path(origin).parent if origin else None


def restore_qt_environment(
    environ: MutableMapping[str, str] | None = None,
    before: dict[str, str | None] | None = None,
    opencv_dir: Path | None = None,
) -> dict[str, str | None]:
    """Put ``QT_QPA_PLATFORM_PLUGIN_PATH`` and ``QT_QPA_FONTDIR`` back to what the user had
    (``before``: as they were when colorme_live was first imported), dropping values that point
    into OpenCV's package (its bundled Qt 5 plugins and fonts). Returns the values Qt will see."""
    env = os.environ if environ is None else environ
    had = QT_ENV_AT_IMPORT if before is None else before
    cv_dir = _opencv_dir() if opencv_dir is None else opencv_dir
    result: dict[str, str | None] = {}
    for name in OPENCV_QT_VARIABLES:
        value = had.get(name)
        if value is not None and cv_dir is not None and _inside(value, cv_dir):
            value = None  # OpenCV had been imported before us: not the user's
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
        result[name] = value
    return result


def _x11_reachable(display: str) -> bool:
    """Whether an X server answers at ``display`` (``:0``, ``unix:0``, ``host:10.0``)."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host.startswith("/"):  # macOS launchd socket paths: trust them
        return True
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        candidates = [f"\0{path}", path] if sys.platform.startswith("linux") else [path]
        for address in candidates:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(_CONNECT_TIMEOUT_S)
                try:
                    s.connect(address)
                    return True
                except OSError:
                    continue
        if host == "unix":
            return False
        host = "localhost"
    try:
        with socket.create_connection((host, 6000 + int(number)), _CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def _wayland_reachable(name: str, environ: MutableMapping[str, str]) -> bool:
    path = Path(name)
    if not path.is_absolute():
        runtime = environ.get("XDG_RUNTIME_DIR")
        if not runtime:
            return False
        path = Path(runtime) / name
    return path.exists()


def display_problem(
    environ: MutableMapping[str, str] | None = None, platform: str = sys.platform
) -> str | None:
    """Why the window cannot open here, in one line, or None if it can (or we cannot tell:
    Windows, macOS, or a Qt platform the user chose that needs no display server)."""
    env = os.environ if environ is None else environ
    if platform.startswith("win") or platform == "darwin":
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if chosen and chosen not in ("xcb", "wayland", "wayland-egl"):
        return None  # offscreen, vnc, eglfs, linuxfb...: Qt draws without a display server
    display = env.get("DISPLAY", "")
    wayland = env.get("WAYLAND_DISPLAY", "")
    if chosen != "xcb" and wayland and _wayland_reachable(wayland, env):
        return None
    if chosen.startswith("wayland"):
        return (
            f"cannot open the window: no Wayland display at {wayland or '(WAYLAND_DISPLAY unset)'}"
            f"; {HEADLESS_HINT}"
        )
    if display and _x11_reachable(display):
        return None
    if display:
        return f"cannot open the window: no X display answers at DISPLAY={display}; {HEADLESS_HINT}"
    if wayland:
        return f"cannot open the window: no Wayland display at {wayland}; {HEADLESS_HINT}"
    return (
        "cannot open the window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set); "
        f"{HEADLESS_HINT}"
    )


def check_display(environ: MutableMapping[str, str] | None = None) -> None:
    """Raise :class:`NoDisplayError` (exit code 2, one line) if the window cannot open."""
    problem = display_problem(environ)
    if problem is not None:
        raise NoDisplayError(problem)
