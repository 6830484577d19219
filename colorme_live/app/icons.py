"""Icons drawn with QPainter (no binary files in the repository)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QConicalGradient,
    QIcon,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

from colorme_live.core.palette import PALETTE, Color

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def _qcolor(color: Color) -> QColor:
    r, g, b = color.rgb
    return QColor(r, g, b)


def paint_app_icon(size: int) -> QPixmap:
    """A head in profile-less silhouette whose hair is a sweep through the palette."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(28, 30, 38))
    p.drawRoundedRect(QRectF(0, 0, s, s), s * 0.22, s * 0.22)
    # hair: a ring of palette colours behind the face
    gradient = QConicalGradient(QPointF(s / 2, s * 0.5), 90)
    for i, color in enumerate(PALETTE):
        gradient.setColorAt(i / len(PALETTE), _qcolor(color))
    gradient.setColorAt(1.0, _qcolor(PALETTE[0]))
    hair = QPainterPath()
    hair.addEllipse(QRectF(s * 0.17, s * 0.14, s * 0.66, s * 0.72))
    p.setBrush(QBrush(gradient))
    p.drawPath(hair)
    # face
    p.setBrush(QColor(240, 200, 170))
    p.drawEllipse(QRectF(s * 0.33, s * 0.32, s * 0.34, s * 0.42))
    # fringe
    p.setBrush(QBrush(gradient))
    fringe = QPainterPath()
    fringe.moveTo(s * 0.30, s * 0.45)
    fringe.cubicTo(s * 0.32, s * 0.22, s * 0.70, s * 0.20, s * 0.70, s * 0.42)
    fringe.cubicTo(s * 0.58, s * 0.34, s * 0.45, s * 0.33, s * 0.30, s * 0.45)
    p.drawPath(fringe)
    p.end()
    return pix


def app_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addPixmap(paint_app_icon(size))
    return icon


def swatch_icon(color: Color, size: int = 22) -> QIcon:
    """A filled circle of ``color`` with a thin outline (visible for black and white)."""
    icon = QIcon()
    for scale in (1, 2):
        pix = QPixmap(size * scale, size * scale)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(128, 128, 128), 1.0 * scale))
        p.setBrush(_qcolor(color))
        m = 1.5 * scale
        p.drawEllipse(QRectF(m, m, size * scale - 2 * m, size * scale - 2 * m))
        p.end()
        pix.setDevicePixelRatio(scale)
        icon.addPixmap(pix)
    return icon
