"""Runs the real ``colorme-live`` command (``cli.main``) in this process and drives its window
the way a user would, for ``test_app_process.py``.

    python -m tests.app_driver KEYS -- COLORME-LIVE-ARGS...

Once the window shows recoloured frames (or a source message, for a missing camera) and is
recording if ``--record`` was given, it presses KEYS (a string of: ``p`` Space, ``f`` F,
``h`` H) on the window and prints ``READY``. A ``q`` line on stdin then presses Q. After
``main`` returns it prints the Python threads still alive, the frames the recorder wrote, and
exits with ``main``'s exit code."""

from __future__ import annotations

import sys
import threading
import time

from PySide6.QtCore import QSocketNotifier, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from colorme_live.app.window import MainWindow
from colorme_live.cli import exit_now, main

KEYS = {"p": Qt.Key.Key_Space, "f": Qt.Key.Key_F, "h": Qt.Key.Key_H}


def run(keys: str, argv: list[str]) -> int:
    app = QApplication([sys.argv[0]])  # run_app uses this one
    recording = "--record" in argv
    state: dict[str, object] = {"window": None, "recoloured": 0, "ready": False, "rec": None}

    def find() -> MainWindow | None:
        for widget in app.topLevelWidgets():
            if isinstance(widget, MainWindow):
                return widget
        return None

    def on_frame(live: object) -> None:
        if getattr(live, "mask_index", None) is not None:
            state["recoloured"] = int(state["recoloured"]) + 1  # type: ignore[call-overload]

    def poll() -> None:
        window = state["window"]
        if window is None:
            window = find()
            if window is None:
                return
            state["window"] = window
            window.frame_displayed.connect(on_frame)
        assert isinstance(window, MainWindow)
        if state["ready"]:
            return
        if window.recorder is not None:
            state["rec"] = window.recorder
        shown = int(state["recoloured"]) >= 5  # type: ignore[call-overload]
        if not (shown or window.message_panel.isVisible()):
            return
        if recording and window.recorder is None:
            return
        for key in keys:
            QTest.keyClick(window, KEYS[key])
        state["ready"] = True
        print("READY", flush=True)

    def on_stdin() -> None:
        line = sys.stdin.readline()
        window = state["window"]
        if line.strip() == "q" and isinstance(window, MainWindow):
            print(f"QUIT {time.monotonic():.6f}", flush=True)
            QTest.keyClick(window, Qt.Key.Key_Q)

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(on_stdin)
    rc = main(argv)
    timer.stop()
    notifier.setEnabled(False)
    print(f"RETURNED {time.monotonic():.6f}", flush=True)
    alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print(f"THREADS {','.join(alive)}", flush=True)
    rec = state["rec"]
    if rec is not None:
        print(f"WRITTEN {rec.stats().written}", flush=True)  # type: ignore[attr-defined]
    return rc


if __name__ == "__main__":
    args = sys.argv[1:]
    split = args.index("--")
    code = run(args[0] if split > 0 else "", args[split + 1 :])
    exit_now(code)  # as the console script does after the window closes
