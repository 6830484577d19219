"""The OpenGL viewer: shows each `LiveFrame` composited on the GPU.

`GLView.show_frame(live)` is the same interface as the CPU view: it takes the captured frame
(``live.frame.image``) and the low-resolution coefficients and recolour constants
(``live.prepared``), uploads them and draws them with the shaders (`GLCompositor`), so the
engine can leave the full-resolution work to the GPU (``LiveEngine.cpu_composite = False``).
The picture keeps its aspect ratio (letterboxed on `BACKGROUND`); any frame size works; before
the first mask (``live.prepared is None``) the frame is shown as it is.

Pick it only when `gl_available()` says so (an OpenGL 3.3 core context can be made and the
shaders compile); if the widget's own context fails anyway, it emits ``failed`` with the
reason and draws nothing, so the window can swap in the CPU view."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QWidget

from colorme_live.app.gl_render import (
    GLCompositor,
    GLError,
    gl_available,
    letterbox,
    surface_format,
)
from colorme_live.app.view import SplitDividerMixin, fit_rect
from colorme_live.core.live import LiveFrame
from colorme_live.core.settings import View

__all__ = ["BACKGROUND", "GLView", "GlFrameView", "gl_available"]

log = logging.getLogger(__name__)

BACKGROUND = QColor(0, 0, 0)
"""Colour of the letterbox bars."""

_GL_COLOR_BUFFER_BIT = 0x4000


class GLView(QOpenGLWidget):
    """A QOpenGLWidget that draws `LiveFrame`s with the GLSL compositor. GUI thread only."""

    failed = Signal(str)
    """The widget's GL context could not compile the shaders (the message says why)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFormat(surface_format())
        self.setMinimumSize(160, 90)
        self._compositor: GLCompositor | None = None
        self._live: LiveFrame | None = None
        self._uploaded = True
        self.error: str | None = None
        """Why the view cannot draw (set with ``failed``), None while it works."""

    def show_frame(self, live: LiveFrame) -> None:
        """Show ``live`` at the next repaint (uploads happen in ``paintGL``)."""
        self._live = live
        self._uploaded = False
        self.update()

    def initializeGL(self) -> None:  # noqa: N802 (Qt override)
        context = self.context()
        context.aboutToBeDestroyed.connect(self._release)
        try:
            self._compositor = GLCompositor(context)
        except GLError as e:
            self.error = str(e)
            log.error("OpenGL view unavailable: %s", e)
            self.failed.emit(self.error)

    def paintGL(self) -> None:  # noqa: N802 (Qt override)
        gl = self.context().functions()
        gl.glClearColor(BACKGROUND.redF(), BACKGROUND.greenF(), BACKGROUND.blueF(), 1.0)
        gl.glClear(_GL_COLOR_BUFFER_BIT)
        live, comp = self._live, self._compositor
        if live is None or comp is None:
            return
        if not self._uploaded:
            comp.upload(live.frame.image, live.prepared)
            self._uploaded = True
        if comp.frame_size is None:
            return
        ratio = self.devicePixelRatioF()
        target_w, target_h = round(self.width() * ratio), round(self.height() * ratio)
        comp.draw(letterbox(*comp.frame_size, target_w, target_h), live.settings)

    def _release(self) -> None:
        """Free the GL objects while the context still exists (it is about to go)."""
        if self._compositor is None:
            return
        self.makeCurrent()
        self._compositor.destroy()
        self._compositor = None
        self._uploaded = False
        self.doneCurrent()


class GlFrameView(SplitDividerMixin, GLView):
    """The OpenGL renderer behind the window's ``FrameView`` interface (see ``app/view.py``):
    the GPU composites, so the engine can skip the CPU composite (``needs_cpu_image``); the
    divider grip and the placeholder are painted over the GL picture with QPainter."""

    split_dragged = Signal(float)
    needs_cpu_image = False

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self._placeholder = ""
        self._dragging = False

    def widget(self) -> QWidget:
        return self

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        if self._live is None:
            self.update()

    def paintGL(self) -> None:  # noqa: N802 (Qt override)
        super().paintGL()
        live = self._live
        if live is None and not self._placeholder:
            return
        painter = QPainter(self)
        if live is None:
            self._paint_placeholder(painter)
        elif live.settings.view is View.SPLIT and live.prepared is not None:
            h, w = live.frame.image.shape[:2]
            self._paint_handle(painter, fit_rect(w, h, self.rect()), live.settings.split)
        elif live.settings.view is View.MASK:
            h, w = live.frame.image.shape[:2]
            self._paint_regions(painter, fit_rect(w, h, self.rect()))
        painter.end()
