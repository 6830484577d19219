"""Launching the real ``colorme-live`` process the way users do: bad ``--camera`` values, no
display, OpenCV's Qt variables, and the desktop launcher in a temporary home."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.app import launcher, qtenv
from tests.conftest import REPO

QT_DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def _env(**extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in QT_DISPLAY_VARS}
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "colorme_live", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("colorme-live: error: ")
    return lines[0]


# -- --camera: refused before anything opens ----------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "-7", "100", "99999999999999999999", " ", "1e3x"])
def test_camera_values_opencv_crashed_on_are_refused_with_one_line(
    value: str, tmp_path: Path
) -> None:
    """``--camera -1`` crashed the process (exit 139) inside cv2.VideoCapture. Any value is
    now either a camera (index 0-99 or a name) or one line and exit 2, before the window."""
    env = _env(QT_QPA_PLATFORM="offscreen", COLORME_SETTINGS=str(tmp_path / "s.ini"))
    line = _one_error_line(_run(["--camera", value], env))
    assert "camera" in line


def test_an_unknown_camera_name_says_there_are_none(tmp_path: Path) -> None:
    env = _env(QT_QPA_PLATFORM="offscreen", COLORME_SETTINGS=str(tmp_path / "s.ini"))
    line = _one_error_line(_run(["--camera", "HD Pro Webcam C920"], env))
    assert "no camera named 'HD Pro Webcam C920' (no cameras found)" in line


# -- no display -------------------------------------------------------------------------------


def test_no_display_is_one_line_and_exit_2() -> None:
    done = _run(["--camera", "0"], _env(), timeout=60)
    line = _one_error_line(done)
    assert "no display" in line and "render" in line and "mask" in line
    assert "core dumped" not in done.stderr and "plugin" not in done.stderr


def test_a_display_that_does_not_answer_is_one_line_and_exit_2() -> None:
    line = _one_error_line(_run([], _env(DISPLAY=":87"), timeout=60))
    assert "DISPLAY=:87" in line


def test_headless_commands_work_without_a_display() -> None:
    done = _run(["palette"], _env(), timeout=60)
    assert done.returncode == 0 and "copper" in done.stdout.lower()


def test_display_problem_cases(tmp_path: Path) -> None:
    assert qtenv.display_problem({}, "win32") is None
    assert qtenv.display_problem({}, "darwin") is None
    assert qtenv.display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert "no display" in (qtenv.display_problem({}, "linux") or "")
    assert "DISPLAY=:87" in (
        qtenv.display_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":87"}, "linux") or ""
    )
    (tmp_path / "wayland-0").touch()
    here = {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert qtenv.display_problem(here, "linux") is None
    gone = {"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert "Wayland" in (qtenv.display_problem(gone, "linux") or "")


# -- OpenCV's Qt variables ----------------------------------------------------------------------


def test_restore_drops_opencvs_values_and_keeps_the_users(tmp_path: Path) -> None:
    cv_dir = Path(cv2.__file__).parent
    env = {
        "QT_QPA_PLATFORM_PLUGIN_PATH": str(cv_dir / "qt" / "plugins"),
        "QT_QPA_FONTDIR": str(cv_dir / "qt" / "fonts"),
    }
    seen = qtenv.restore_qt_environment(
        env, {"QT_QPA_PLATFORM_PLUGIN_PATH": None, "QT_QPA_FONTDIR": "/usr/share/fonts/mine"}
    )
    assert env == {"QT_QPA_FONTDIR": "/usr/share/fonts/mine"}
    assert seen == {"QT_QPA_PLATFORM_PLUGIN_PATH": None, "QT_QPA_FONTDIR": "/usr/share/fonts/mine"}
    # cv2 imported before colorme_live: what was there at our import was OpenCV's, not the user's
    env = {}
    qtenv.restore_qt_environment(env, {"QT_QPA_FONTDIR": str(cv_dir / "qt" / "fonts")})
    assert env == {}


def _qt_search_log(tmp_path: Path, **extra: str) -> tuple[str, int]:
    """Start the real window (offscreen, on a camera that is not there) with Qt's plugin
    debugging on, wait until Qt has loaded its platform plugin, SIGTERM it; (stderr, rc)."""
    err_path = tmp_path / "stderr.txt"
    env = _env(
        QT_QPA_PLATFORM="offscreen",
        QT_DEBUG_PLUGINS="1",
        COLORME_SETTINGS=str(tmp_path / "s.ini"),
        **extra,
    )
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "colorme_live",
                "-v",
                "--camera",
                "7",
                "--output-dir",
                str(tmp_path),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 120
        while "platformthemes" not in err_path.read_text(errors="replace"):
            assert proc.poll() is None, err_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "Qt did not start"
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return err_path.read_text(errors="replace"), rc


def test_qt_does_not_search_opencvs_plugins_in_the_real_window(tmp_path: Path) -> None:
    log, rc = _qt_search_log(tmp_path)
    assert rc == 0, log[-3000:]
    assert "checking directory path" in log  # Qt's own report of where it looks
    assert "cv2/qt/plugins" not in log, "Qt searched OpenCV's Qt 5 plugins"
    assert "Qt environment: QT_QPA_PLATFORM_PLUGIN_PATH=None, QT_QPA_FONTDIR=None" in log


def test_the_users_own_qt_variables_are_kept_in_the_real_window(tmp_path: Path) -> None:
    mine = tmp_path / "my-plugins"
    mine.mkdir()
    log, rc = _qt_search_log(
        tmp_path, QT_QPA_PLATFORM_PLUGIN_PATH=str(mine), QT_QPA_FONTDIR="/usr/share/fonts"
    )
    assert rc == 0, log[-3000:]
    assert f'checking directory path "{mine}"' in log
    assert "cv2/qt/plugins" not in log
    assert f"QT_QPA_PLATFORM_PLUGIN_PATH={mine}, QT_QPA_FONTDIR=/usr/share/fonts" in log


# -- install-launcher ---------------------------------------------------------------------------


def test_install_launcher_writes_a_menu_entry_and_icons_and_removes_them(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    env = _env(HOME=str(home), XDG_DATA_HOME=str(data))
    done = _run(["install-launcher"], env)
    assert done.returncode == 0, done.stderr
    desktop = data / "applications" / "colorme-live.desktop"
    icons = [
        data / "icons" / "hicolor" / f"{s}x{s}" / "apps" / "colorme-live.png"
        for s in (48, 64, 128, 256)
    ]
    assert done.stdout.splitlines() == [f"wrote {p}" for p in [*icons, desktop]]
    entry = dict(line.split("=", 1) for line in desktop.read_text().splitlines() if "=" in line)
    assert entry["Type"] == "Application" and entry["Icon"] == "colorme-live"
    assert entry["Name"] == "colorme-live" and entry["Terminal"] == "false"
    command = entry["Exec"].split()
    assert Path(command[0]).is_file() and os.access(command[0], os.X_OK), command
    for path, size in zip(icons, (48, 64, 128, 256), strict=True):
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.shape == (size, size, 4)
        assert 0.3 < float(np.mean(image[..., 3] > 0)) < 1.0  # drawn, rounded corners clear
    assert not list(home.rglob("*")), "wrote outside XDG_DATA_HOME"

    done = _run(["install-launcher", "--remove"], env)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == sorted(f"removed {p}" for p in [desktop, *icons])
    assert not desktop.exists() and not any(p.exists() for p in icons)
    again = _run(["install-launcher", "--remove"], env)
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_install_launcher_defaults_to_the_home_folder(tmp_path: Path) -> None:
    env = _env(HOME=str(tmp_path), XDG_DATA_HOME=None)
    done = _run(["install-launcher"], env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".local/share/applications/colorme-live.desktop").is_file()


def test_install_launcher_into_a_read_only_home_is_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = tmp_path / "file-not-folder"
        target.write_text("x")  # root ignores permissions; a file where a folder must go
        env = _env(HOME=str(tmp_path), XDG_DATA_HOME=str(target))
    else:
        tmp_path.chmod(0o500)
        env = _env(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    try:
        line = _one_error_line(_run(["install-launcher"], env))
    finally:
        tmp_path.chmod(0o700)
    assert "cannot write" in line


def test_desktop_exec_quoting() -> None:
    assert (
        launcher.desktop_entry(["/opt/app/bin/colorme-live"]).count(
            "Exec=/opt/app/bin/colorme-live\n"
        )
        == 1
    )
    spaced = launcher.desktop_entry(["/home/a b/.venv/bin/python", "-m", "colorme_live"])
    assert 'Exec="/home/a b/.venv/bin/python" -m colorme_live\n' in spaced
    odd = launcher.desktop_entry(['/x/$HOME"q\\100%/python'])
    assert 'Exec="/x/\\\\$HOME\\\\"q\\\\\\\\100%%/python"\n' in odd


def test_windows_shortcut_script() -> None:
    script = launcher.windows_shortcut_script(
        Path("C:/Users/o'neil/Start Menu/colorme-live.lnk"),
        "C:/Python/pythonw.exe",
        "-m colorme_live",
        Path("C:/Users/o'neil/colorme-live.ico"),
    )
    assert "CreateShortcut('C:/Users/o''neil/Start Menu/colorme-live.lnk')" in script
    assert "$s.TargetPath = 'C:/Python/pythonw.exe'" in script
    assert "$s.IconLocation = 'C:/Users/o''neil/colorme-live.ico,0'" in script
    assert script.endswith("$s.Save()")
    link, icon = launcher.windows_files({"APPDATA": "C:/R", "LOCALAPPDATA": "C:/L"})
    assert link == Path("C:/R/Microsoft/Windows/Start Menu/Programs/colorme-live.lnk")
    assert icon == Path("C:/L/colorme-live/colorme-live.ico")
