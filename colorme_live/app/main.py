"""``colorme-live`` with no command: the live window. ``run_app`` returns the exit code."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from colorme_live.app import qtenv
from colorme_live.app.config import APP_NAME, AppConfig

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130


def run_app(args: argparse.Namespace) -> int:
    """Open the window on the source the command line names and run until it closes (Q, the
    close button, SIGTERM: exit code 0; Ctrl+C / SIGINT: 130). Bad options raise
    ``ColormeError`` before any window opens (the CLI prints them and exits with 2): also
    when there is no display to open it on."""
    if not _qt_running():
        qtenv.check_display()
        seen = qtenv.restore_qt_environment()
        log.info("Qt environment: %s", ", ".join(f"{k}={v}" for k, v in seen.items()))
    config = AppConfig.from_args(args)

    import shiboken6
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from colorme_live.app.icons import app_icon
    from colorme_live.app.signals import SignalWatcher
    from colorme_live.app.view import choose_view_factory
    from colorme_live.app.window import MainWindow

    if not getattr(args, "verbose", 0):
        _quiet_opencv()  # it logs every failed camera probe; the window says it once
    if QApplication.instance() is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
    existing = QApplication.instance()
    app = (
        existing
        if isinstance(existing, QApplication)
        else QApplication([sys.argv[0] if sys.argv else APP_NAME])
    )
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_NAME)  # Wayland's app id: matches install-launcher's .desktop
    app.setWindowIcon(app_icon())
    view_factory, _ = choose_view_factory(config.renderer)  # probes OpenGL: needs the app
    window = MainWindow(config, view_factory=view_factory)

    def on_signal(signum: int) -> None:
        window.request_quit(EXIT_INTERRUPTED if signum == signal.SIGINT else 0)

    watcher = SignalWatcher(on_signal)
    try:
        window.show()
        window.start()
        rc = app.exec()
    finally:
        window.shutdown()
        watcher.close()
    exit_code = window.exit_code or rc
    # delete the window's C++ side now, while the application exists, instead of leaving it
    # to the interpreter's exit in whatever order it picks
    shiboken6.delete(window)
    return exit_code


def _qt_running() -> bool:
    """Whether this process already has a Qt application (tests, an embedding host)."""
    core = sys.modules.get("PySide6.QtCore")
    return core is not None and core.QCoreApplication.instance() is not None


def _quiet_opencv() -> None:
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
