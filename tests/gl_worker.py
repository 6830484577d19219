"""The GL worker process of the GL tests (see ``tests/glx.py``): run with DISPLAY set and
QT_QPA_PLATFORM=xcb, it answers pickled requests on stdin with pickled replies on stdout.

Requests are ``(command, args)``; replies ``("ok", value)`` or ``("error", traceback)``:

* ``probe``: ``gl_available()``;
* ``render``: ``(frame, prepared, settings)`` -> the `OffscreenRenderer` image (BGR uint8);
* ``widget``: ``(size, lives)`` -> for each `LiveFrame`, what a `GLView` of ``size``
  (width, height) shows after ``show_frame(live)``: its framebuffer grab as BGR uint8, and
  the view's ``error``;
* ``quit``.

Anything else written to stdout (Qt, Mesa) is redirected to stderr first, so the protocol
stream stays clean."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np


def _bgr(image: Any) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    data = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    rgb = data.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3)
    return np.ascontiguousarray(rgb[..., ::-1])


def main() -> int:
    from tests.glx import receive, send

    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from PySide6.QtWidgets import QApplication

    from colorme_live.app.gl_render import OffscreenRenderer, gl_available
    from colorme_live.app.gl_view import GLView

    app = QApplication(sys.argv[:1])
    renderer: OffscreenRenderer | None = None

    def render(frame: np.ndarray, prepared: Any, settings: Any) -> np.ndarray:
        nonlocal renderer
        if renderer is None:
            renderer = OffscreenRenderer()
        return renderer.render(frame, prepared, settings)

    def widget(size: tuple[int, int], lives: list[Any]) -> tuple[list[np.ndarray], str | None]:
        view = GLView()
        view.resize(*size)
        view.show()
        for _ in range(5):
            app.processEvents()
        grabs = []
        for live in lives:
            view.show_frame(live)
            app.processEvents()
            grabs.append(_bgr(view.grabFramebuffer()))
        error = view.error
        view.close()
        view.deleteLater()
        app.processEvents()
        return grabs, error

    handlers: dict[str, Callable[..., Any]] = {
        "probe": gl_available,
        "render": render,
        "widget": widget,
    }
    stdin = sys.stdin.buffer.fileno()
    try:
        while True:
            try:
                command, args = receive(stdin)
            except EOFError:
                break
            if command == "quit":
                send(protocol_out, ("ok", None))
                break
            try:
                reply = ("ok", handlers[command](*args))
            except Exception:  # noqa: BLE001 - sent back to the test, which fails with it
                reply = ("error", traceback.format_exc())
            send(protocol_out, reply)
    finally:
        if renderer is not None:
            renderer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
