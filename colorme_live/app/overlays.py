"""Widgets drawn over the frame view, independent of the renderer: the message card (no
camera, source lost), the help overlay, the recording/paused indicator and the error banner."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

CARD_STYLE = (
    "QFrame#card { background: rgba(28, 30, 38, 235); border: 1px solid #555a66;"
    " border-radius: 10px; }"
    "QLabel { color: #e8e9ee; }"
)


class MessagePanel(QFrame):
    """A centred card: what is wrong, what the app is doing about it, and what the user can do
    (open a video file instead, or retry now)."""

    open_video = Signal()
    retry = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setStyleSheet(CARD_STYLE)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        self.setMaximumWidth(560)
        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.detail = QLabel(self)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open video file…", self)
        self.retry_button = QPushButton("Retry", self)
        for button in (self.open_button, self.retry_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.open_button.clicked.connect(self.open_video)
        self.retry_button.clicked.connect(self.retry)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self.hide()

    def show_message(self, title: str, detail: str) -> None:
        self.title.setText(title)
        self.detail.setText(detail)
        self.show()
        self.raise_()


class HelpOverlay(QWidget):
    """Every key, over a dimmed view. Click anywhere (or H, ?, Esc) to close."""

    def __init__(self, bindings: Sequence[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        rows = "".join(
            f"<tr><td align='right' style='padding:3px 14px 3px 0'><b>{keys}</b></td>"
            f"<td style='padding:3px 0'>{what}</td></tr>"
            for keys, what in bindings
        )
        self.label = QLabel(
            f"<h2 style='margin-bottom:8px'>Keys</h2><table>{rows}</table>"
            "<p style='color:#a0a4b0'>Click anywhere or press H to close.</p>",
            self,
        )
        self.label.setStyleSheet("color: #f0f1f5;")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label, 0, Qt.AlignmentFlag.AlignCenter)
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 190))
        p.end()

    def mousePressEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.hide()


class Hud(QWidget):
    """Top-left indicators: a red dot and the elapsed time while recording (and a warning
    when the encoder falls behind), and PAUSED."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFixedSize(320, 64)
        self.recording_s: float | None = None
        self.behind = False
        self.paused = False
        self.hide()

    def set_state(self, *, recording_s: float | None, behind: bool, paused: bool) -> None:
        state = (recording_s is not None and int(recording_s), behind, paused)
        old = (self.recording_s is not None and int(self.recording_s), self.behind, self.paused)
        self.recording_s, self.behind, self.paused = recording_s, behind, paused
        self.setVisible(recording_s is not None or paused)
        if state != old:
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = p.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        p.setFont(font)
        x, y = 12.0, 10.0
        if self.recording_s is not None:
            s = int(self.recording_s)
            text = f"REC {s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"
            if self.behind:
                text += "  (encoder behind)"
            width = p.fontMetrics().horizontalAdvance(text) + 40
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 150))
            p.drawRoundedRect(QRectF(x, y, width, 26), 6, 6)
            p.setBrush(QColor(230, 40, 40))
            p.drawEllipse(QRectF(x + 9, y + 7, 12, 12))
            p.setPen(QPen(QColor(255, 255, 255)))
            p.drawText(QRectF(x + 28, y, width - 28, 26), Qt.AlignmentFlag.AlignVCenter, text)
            y += 32
        if self.paused:
            text = "PAUSED"
            width = p.fontMetrics().horizontalAdvance(text) + 20
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 150))
            p.drawRoundedRect(QRectF(x, y, width, 24), 6, 6)
            p.setPen(QPen(QColor(255, 255, 255)))
            p.drawText(QRectF(x, y, width, 24), Qt.AlignmentFlag.AlignCenter, text)
        p.end()


class Banner(QLabel):
    """A one-line (wrapping) message across the top of the view: errors that do not stop the
    live view (the model failed, a recording could not be written). ``timeout_ms`` None keeps
    it until replaced or cleared."""

    LEVEL_STYLES = {  # noqa: RUF012 - a constant table
        "error": "background: rgba(150, 30, 30, 225); color: white;",
        "info": "background: rgba(30, 60, 110, 225); color: white;",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setMargin(8)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_message)
        self.hide()

    def show_message(self, text: str, level: str = "error", timeout_ms: int | None = None) -> None:
        self.setStyleSheet(self.LEVEL_STYLES.get(level, self.LEVEL_STYLES["error"]))
        self.setText(text)
        self.show()
        self.raise_()
        if timeout_ms is None:
            self._timer.stop()
        else:
            self._timer.start(timeout_ms)

    def clear_message(self) -> None:
        self._timer.stop()
        self.clear()
        self.hide()
