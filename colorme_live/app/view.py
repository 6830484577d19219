"""Frame views: the widget that draws ``LiveFrame``s, behind a small interface so a second
renderer (the OpenGL one in ``app/gl_view.py``) can be swapped in.

A view only draws and reports input on the picture (split-divider drags); it never changes
settings itself (the window does, and the engine renders the next frame with them)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from colorme_live.core.errors import InputError
from colorme_live.core.live import LiveFrame
from colorme_live.core.settings import View

log = logging.getLogger(__name__)

BACKGROUND = QColor(18, 19, 24)
PLACEHOLDER_TEXT = QColor(170, 174, 186)
REGION_OUTLINE = QColor(80, 200, 255)
"""Outline of a person's region in the mask view (dashed while the face is lost)."""
DIVIDER_GRAB_PX = 12
"""How close (logical pixels) to the divider a press starts a drag in the split view."""
GL_VIEW_MODULE = "colorme_live.app.gl_view"
GL_VIEW_CLASS = "GlFrameView"


@runtime_checkable
class FrameView(Protocol):
    """What the window needs from a renderer.

    * ``widget()``: the QWidget to put in the window (the view itself, or one it owns).
    * ``show_frame(live)``: draw this frame (GUI thread; schedule a repaint, do not block).
      ``live.image`` is the composited BGR frame, or None when the engine leaves the
      full-resolution work to a GPU renderer (then draw ``live.frame.image`` with
      ``live.prepared``); ``live.settings.view`` and ``.split`` say what to draw.
    * ``set_placeholder(text)``: the text to draw while there is no frame (starting, no camera).
    * ``split_dragged``: a signal with the divider position (0..1 of the picture's width) as
      the user drags it in the split view.
    * ``needs_cpu_image``: True if the view draws ``live.image`` (the engine must composite on
      the CPU); a GPU view says False, and the window turns CPU compositing on only to record.
    """

    split_dragged: SignalInstance
    needs_cpu_image: bool

    def widget(self) -> QWidget: ...

    def show_frame(self, live: LiveFrame) -> None: ...

    def set_placeholder(self, text: str) -> None: ...


ViewFactory = Callable[[QWidget | None], FrameView]


def fit_rect(image_w: int, image_h: int, area: QRect) -> QRectF:
    """The largest rectangle of the image's aspect ratio centred in ``area``."""
    if image_w <= 0 or image_h <= 0 or area.width() <= 0 or area.height() <= 0:
        return QRectF()
    scale = min(area.width() / image_w, area.height() / image_h)
    w, h = image_w * scale, image_h * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


if TYPE_CHECKING:
    _WidgetBase = QWidget
else:
    _WidgetBase = object  # a plain mixin at run time; a QWidget for the type checker


class SplitDividerMixin(_WidgetBase):
    """What every view shares: the placeholder text, and dragging the before/after divider
    (anywhere on the picture in the split view), reported through ``split_dragged``. The class
    using it is a QWidget with ``split_dragged``, ``_live``, ``_placeholder`` and ``_dragging``.
    """

    split_dragged: SignalInstance
    _live: LiveFrame | None
    _placeholder: str
    _dragging: bool

    def _paint_placeholder(self, p: QPainter) -> None:
        if not self._placeholder:
            return
        p.setPen(PLACEHOLDER_TEXT)
        font = p.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        p.setFont(font)
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)

    def _paint_handle(self, p: QPainter, target: QRectF, split: float) -> None:
        """A round grip on the divider (the line itself is in the image), so it looks
        draggable."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = target.left() + split * target.width()
        centre = QPointF(x, target.center().y())
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.setBrush(QColor(0, 0, 0, 140))
        p.drawEllipse(centre, 14, 14)
        p.drawLine(QPointF(x - 5, centre.y()), QPointF(x - 9, centre.y()))
        p.drawLine(QPointF(x + 5, centre.y()), QPointF(x + 9, centre.y()))

    def _paint_regions(self, p: QPainter, target: QRectF) -> None:
        """In the mask view, outline each person's region (dashed while its face is lost)."""
        live = self._live
        if live is None or live.settings.view is not View.MASK or not live.regions:
            return
        w = live.frame.image.shape[1]
        k = target.width() / max(1, w)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for region in live.regions:
            sq = region.square
            pen = QPen(REGION_OUTLINE, 2)
            if region.face is None:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawRect(
                QRectF(target.left() + sq.x * k, target.top() + sq.y * k, sq.side * k, sq.side * k)
            )

    # -- split-divider drags --------------------------------------------------------------

    def _split_geometry(self) -> tuple[QRectF, float] | None:
        """The picture's rectangle and the divider's position, in the split view only."""
        live = self._live
        if live is None or live.settings.view is not View.SPLIT:
            return None
        h, w = live.frame.image.shape[:2]
        return fit_rect(w, h, self.rect()), live.settings.split

    def _fraction(self, x: float, rect: QRectF) -> float:
        return float(min(1.0, max(0.0, (x - rect.left()) / max(rect.width(), 1e-6))))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        geometry = self._split_geometry()
        if geometry is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        rect = geometry[0]
        if rect.contains(event.position()):
            # anywhere on the picture: the divider jumps there and follows the drag
            self._dragging = True
            self.split_dragged.emit(self._fraction(event.position().x(), rect))
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        geometry = self._split_geometry()
        if geometry is None:
            self.unsetCursor()
            super().mouseMoveEvent(event)
            return
        rect, split = geometry
        if self._dragging:
            self.split_dragged.emit(self._fraction(event.position().x(), rect))
            event.accept()
            return
        divider = rect.left() + split * rect.width()
        near = abs(event.position().x() - divider) <= DIVIDER_GRAB_PX
        if near:
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.unsetCursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self._dragging = False
        super().mouseReleaseEvent(event)


class CpuFrameView(SplitDividerMixin, QWidget):
    """Paints ``LiveFrame.image`` (BGR uint8) with QPainter. The frame is scaled once per new
    frame or size with OpenCV to the device-pixel size of the target rectangle (sharp on
    high-DPI screens, cheaper than QPainter's smooth scaling), and wrapped in a QImage
    (``Format_BGR888``, no copy) while it is drawn."""

    split_dragged = Signal(float)
    needs_cpu_image = True

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMouseTracking(True)
        self._live: LiveFrame | None = None
        self._placeholder = ""
        self._scaled: np.ndarray | None = None
        self._scaled_key: tuple[int, int, int] | None = None
        self._dragging = False

    # -- FrameView ------------------------------------------------------------------------

    def widget(self) -> QWidget:
        return self

    def show_frame(self, live: LiveFrame) -> None:
        self._live = live
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        if self._live is None:
            self.update()

    def clear(self) -> None:
        """Forget the frame shown (a new source)."""
        self._live = None
        self._scaled = None
        self._scaled_key = None
        self.update()

    # -- Qt -------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(960, 540)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        live = self._live
        if live is None:
            self._paint_placeholder(p)
            p.end()
            return
        # without a CPU composite (the engine was told a GPU view draws) show the source
        image = live.image if live.image is not None else live.frame.image
        h, w = image.shape[:2]
        target = fit_rect(w, h, self.rect())
        dpr = self.devicePixelRatioF()
        dw, dh = max(1, round(target.width() * dpr)), max(1, round(target.height() * dpr))
        key = (id(image), dw, dh)
        if self._scaled_key != key or self._scaled is None:
            if (dw, dh) == (w, h):
                scaled = image
            else:
                interp = cv2.INTER_AREA if dw < w else cv2.INTER_LINEAR
                scaled = np.ascontiguousarray(cv2.resize(image, (dw, dh), interpolation=interp))
            self._scaled, self._scaled_key = scaled, key
        scaled = self._scaled
        qimage = QImage(scaled.data, dw, dh, scaled.strides[0], QImage.Format.Format_BGR888)
        qimage.setDevicePixelRatio(dpr)
        p.drawImage(target.topLeft(), qimage)  # `scaled` stays referenced until painting ends
        if live is not None and live.settings.view is View.SPLIT and live.image is not None:
            self._paint_handle(p, target, live.settings.split)
        self._paint_regions(p, target)
        p.end()


def cpu_view(parent: QWidget | None = None) -> FrameView:
    return CpuFrameView(parent)


SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "software")
"""Renderer names of OpenGL emulated on the CPU: slower there than the Numba path, and the
point of the GL path is to leave the CPU to segmentation."""


def choose_view_factory(renderer: str) -> tuple[ViewFactory, str]:
    """The factory for ``--renderer`` and the name of the renderer it makes.

    ``gl`` insists on the OpenGL view (``colorme_live.app.gl_view.GlFrameView``) and fails
    with a clear message when no OpenGL 3.3 context can be made. ``auto`` uses it when a
    hardware OpenGL 3.3 context can be made and compiles the shaders, else the CPU view, with
    one log line saying why. Call it after the QApplication exists."""
    if renderer == "cpu":
        return cpu_view, "cpu"
    if renderer not in ("gl", "auto"):
        raise InputError(f"unknown renderer {renderer!r}: use cpu, gl or auto")
    try:
        module = importlib.import_module(GL_VIEW_MODULE)
        ok, reason = module.gl_available()
    except ImportError as e:
        ok, reason = False, f"the OpenGL module does not import ({e})"
    if renderer == "gl":
        if not ok:
            raise InputError(f"the OpenGL renderer is not available: {reason}; use --renderer cpu")
        log.info("renderer: OpenGL (%s)", reason)
        return getattr(module, GL_VIEW_CLASS), "gl"
    if ok and not any(name in reason.lower() for name in SOFTWARE_GL):
        log.info("renderer: OpenGL (%s)", reason)
        return getattr(module, GL_VIEW_CLASS), "gl"
    why = reason if not ok else f"software OpenGL only ({reason})"
    log.info("renderer: CPU, because %s", why)
    return cpu_view, "cpu"
