"""``colorme-live install-launcher [--remove]``: an entry in the desktop's application menu.

* Linux (and other XDG desktops): ``$XDG_DATA_HOME/applications/colorme-live.desktop`` and
  the icon as PNGs in ``$XDG_DATA_HOME/icons/hicolor/NxN/apps/`` (``$XDG_DATA_HOME`` defaults
  to ``~/.local/share``). The entry runs the same ``colorme-live`` this command is run from
  (a ``uv tool``/``pipx`` install, or a checkout's virtual environment).
* Windows: a Start-menu shortcut (``.lnk``, made by PowerShell's ``WScript.Shell``) that runs
  ``pythonw -m colorme_live`` (no console window), with an ``.ico`` icon.
* macOS: not offered (an app bundle would be needed); run ``colorme-live`` from a terminal.

Every file written or removed is printed, one per line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from colorme_live.app import qtenv
from colorme_live.app.config import APP_NAME
from colorme_live.core.errors import InputError

ICON_SIZES = (48, 64, 128, 256)
COMMENT = "Try a hair colour live on your webcam"
_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def data_home(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` (an unset or relative value is ignored, as
    the XDG spec says)."""
    value = environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "share"


def linux_files(environ: Mapping[str, str]) -> tuple[Path, dict[int, Path]]:
    """The ``.desktop`` file and the icon PNG for each size."""
    base = data_home(environ)
    desktop = base / "applications" / f"{APP_NAME}.desktop"
    icons = {
        s: base / "icons" / "hicolor" / f"{s}x{s}" / "apps" / f"{APP_NAME}.png" for s in ICON_SIZES
    }
    return desktop, icons


def launch_command(executable: str = sys.executable) -> list[str]:
    """How the menu entry starts the app: the ``colorme-live`` script beside this Python (a
    ``uv tool``/``pipx``/venv install), else ``python -m colorme_live``."""
    folder = Path(executable).parent
    for name in ("colorme-live", "colorme-live.exe"):
        script = folder / name
        if script.is_file():
            return [str(script)]
    return [executable, "-m", "colorme_live"]


def _desktop_arg(arg: str) -> str:
    """One argument of an ``Exec`` key, quoted as the Desktop Entry spec asks."""
    if arg and not (_DESKTOP_RESERVED & set(arg)):
        return arg.replace("%", "%%")
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return '"' + escaped.replace("%", "%%") + '"'


def desktop_entry(command: Sequence[str]) -> str:
    """The text of the ``.desktop`` file that runs ``command``."""
    # the Exec value is also a desktop-file string, whose own escape for a backslash is \\
    exec_line = " ".join(_desktop_arg(a) for a in command).replace("\\", "\\\\")
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.5\n"
        f"Name={APP_NAME}\n"
        "GenericName=Hair colour preview\n"
        f"Comment={COMMENT}\n"
        f"Exec={exec_line}\n"
        f"Icon={APP_NAME}\n"
        "Terminal=false\n"
        "Categories=AudioVideo;Video;Graphics;\n"
        "Keywords=hair;colour;color;webcam;dye;\n"
        f"StartupWMClass={APP_NAME}\n"
        "StartupNotify=true\n"
    )


def windows_files(environ: Mapping[str, str]) -> tuple[Path, Path]:
    """The Start-menu shortcut and its icon."""
    appdata = environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    local = environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    programs = Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs"
    return programs / f"{APP_NAME}.lnk", Path(local) / APP_NAME / f"{APP_NAME}.ico"


def _ps_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def windows_shortcut_script(link: Path, target: str, arguments: str, icon: Path) -> str:
    """The PowerShell that writes the shortcut (``WScript.Shell`` ships with Windows)."""
    return (
        f"$s = (New-Object -ComObject WScript.Shell).CreateShortcut({_ps_quote(str(link))}); "
        f"$s.TargetPath = {_ps_quote(target)}; "
        f"$s.Arguments = {_ps_quote(arguments)}; "
        f"$s.IconLocation = {_ps_quote(str(icon) + ',0')}; "
        f"$s.Description = {_ps_quote(COMMENT)}; "
        "$s.Save()"
    )


def _icon_images() -> dict[int, object]:
    """The app icon painted at each size (needs a Qt GUI application: offscreen here)."""
    qtenv.restore_qt_environment()
    from PySide6.QtGui import QGuiApplication

    from colorme_live.app.icons import paint_app_icon

    if QGuiApplication.instance() is None:
        app = QGuiApplication([APP_NAME, "-platform", "offscreen"])
        app.setApplicationName(APP_NAME)
    return {size: paint_app_icon(size) for size in (*ICON_SIZES,)}


def _write_png(pixmap: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial.png")
    if not pixmap.save(str(partial), "PNG"):  # type: ignore[attr-defined]
        raise InputError(f"cannot write the icon {path}")
    partial.replace(path)


def install_linux(environ: Mapping[str, str]) -> list[Path]:
    desktop, icons = linux_files(environ)
    images = _icon_images()
    written: list[Path] = []
    try:
        for size, path in icons.items():
            _write_png(images[size], path)
            written.append(path)
        desktop.parent.mkdir(parents=True, exist_ok=True)
        partial = desktop.with_name(f".{desktop.name}.partial")
        partial.write_text(desktop_entry(launch_command()), encoding="utf-8")
        partial.replace(desktop)
        written.append(desktop)
    except OSError as e:
        raise InputError(f"cannot write the launcher: {e.strerror or e} ({e.filename})") from e
    return written


def install_windows(environ: Mapping[str, str]) -> list[Path]:  # pragma: no cover - Windows
    link, icon = windows_files(environ)
    images = _icon_images()
    icon.parent.mkdir(parents=True, exist_ok=True)
    if not images[256].save(str(icon), "ICO"):  # type: ignore[attr-defined]
        raise InputError(f"cannot write the icon {icon}")
    exe = Path(sys.executable)
    pythonw = exe.with_name("pythonw.exe")
    target = str(pythonw if pythonw.is_file() else exe)
    script = windows_shortcut_script(link, target, "-m colorme_live", icon)
    done = subprocess.run(
        ["powershell", "-NoProfile", "-NonInteractive", "-Command", script],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not link.is_file():
        raise InputError(f"cannot make the Start-menu shortcut: {done.stderr.strip()[-300:]}")
    return [icon, link]


def remove_files(paths: Sequence[Path]) -> list[Path]:
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise InputError(f"cannot remove {path}: {e.strerror or e}") from e
        removed.append(path)
    return removed


def main(*, remove: bool = False, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    if sys.platform == "darwin":
        raise InputError(
            "install-launcher does not make macOS app bundles; run colorme-live from a terminal"
        )
    if sys.platform.startswith("win"):  # pragma: no cover - Windows
        link, icon = windows_files(env)
        targets = [link, icon]
        install = install_windows
    else:
        desktop, icons = linux_files(env)
        targets = [desktop, *icons.values()]
        install = install_linux
    if remove:
        gone = remove_files(targets)
        for path in gone:
            print(f"removed {path}")
        if not gone:
            print("nothing to remove: no launcher was installed")
        return 0
    for path in install(env):
        print(f"wrote {path}")
    return 0
