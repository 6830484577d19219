"""The main window: a thin view over ``LiveEngine``.

The engine's workers do all the work; their callbacks reach this thread through
``EngineBridge`` (queued signals, latest frame wins). This thread only paints and handles
input; every change of the look is a new ``Settings`` snapshot handed to the engine whole.
Every consumer of frames is a sink of the engine (``core.sinks``): the bridge to this
thread, a recording, the virtual camera. They are fed on the engine's compositor thread, never
from here, so they cannot slow the display."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QColorDialog,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QSlider,
    QToolBar,
    QToolButton,
    QWidget,
)

from colorme_live.app.bridge import EngineBridge
from colorme_live.app.camera_menu import CameraWatcher, fill_camera_menu, list_names
from colorme_live.app.config import APP_NAME, AppConfig, SourceSpec
from colorme_live.app.icons import app_icon, swatch_icon
from colorme_live.app.overlays import Banner, HelpOverlay, Hud, MessagePanel
from colorme_live.app.prefs import MAX_CUSTOM_COLORS, Prefs
from colorme_live.app.session import DeferredFaceDetector, DeferredSegmenter, SourceOpener
from colorme_live.app.view import FrameView, ViewFactory, cpu_view
from colorme_live.core import vcam as vcam_module
from colorme_live.core.cameras import CameraDevice, RateMonitor
from colorme_live.core.live import (
    STALL_TIMEOUT_S,
    LiveEngine,
    LiveEvent,
    LiveFrame,
    SourceState,
)
from colorme_live.core.live_recorder import AsyncRecorder, RecorderSink
from colorme_live.core.model import MODEL_ENV, cache_path
from colorme_live.core.ombre import DEFAULT_BLEND, DEFAULT_SOFTNESS, Ombre
from colorme_live.core.outputs import (
    OutputError,
    atomic_file,
    claim_new_file,
    discard_if_empty,
    reason,
    timestamped,
    write_bytes_atomic,
)
from colorme_live.core.palette import KEYS, PALETTE, Color, index_of, parse_color
from colorme_live.core.pipeline import Pipeline, Stage
from colorme_live.core.settings import Settings, View
from colorme_live.core.sinks import SinkSet
from colorme_live.core.vcam import VirtualCamera
from colorme_live.core.video_writer import RecordingError

log = logging.getLogger(__name__)

INTENSITY_STEP = 10
SHINE_STEP = 10
STOP_TIMEOUT_S = 1.0
"""Engine threads must end within this long after the window closes."""
RECORDER_STOP_TIMEOUT_S = 5.0
"""Waiting this long for the encoder to finish the file (normally a few milliseconds)."""
STATUS_INTERVAL_MS = 250
RATE_WINDOW_S = 2.0
LATENCY_SMOOTHING = 0.9
DEFAULT_SIZE = QSize(1200, 800)
DEFAULT_VCAM_FPS = 30.0
"""The virtual camera's rate when the source does not say its own."""
VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.mkv *.avi *.webm);;All files (*)"

_DIGIT_KEYS = tuple(getattr(Qt.Key, f"Key_{k}") for k in KEYS)


@dataclass(frozen=True, slots=True)
class Binding:
    keys: tuple[Qt.Key, ...]
    label: str
    """How the keys are written in the help overlay."""
    description: str
    action: str
    """Name of the MainWindow method it calls (with no arguments)."""


BINDINGS: tuple[Binding, ...] = (
    Binding((Qt.Key.Key_Left,), "←", "previous colour", "previous_color"),
    Binding((Qt.Key.Key_Right,), "→", "next colour", "next_color"),
    Binding(
        (Qt.Key.Key_Up, Qt.Key.Key_Plus, Qt.Key.Key_Equal), "↑  +", "intensity +10", "intensity_up"
    ),
    Binding(
        (Qt.Key.Key_Down, Qt.Key.Key_Minus, Qt.Key.Key_Underscore),
        "↓  -",
        "intensity -10",
        "intensity_down",
    ),
    Binding(
        (Qt.Key.Key_C,), "C", "pick any colour (the last five stay in the toolbar)", "pick_color"
    ),
    Binding((Qt.Key.Key_BracketRight,), "]", "shine +10 (glossier)", "shine_up"),
    Binding((Qt.Key.Key_BracketLeft,), "[", "shine -10 (more matte)", "shine_down"),
    Binding((Qt.Key.Key_Space,), "Space", "pause / resume", "toggle_pause"),
    Binding((Qt.Key.Key_B,), "B", "before / after (drag the divider)", "toggle_split"),
    Binding(
        (Qt.Key.Key_T,),
        "T",
        "two-tone / ombré: the colour at the roots, Tip… at the ends",
        "toggle_ombre",
    ),
    Binding((Qt.Key.Key_M,), "M", "show the hair mask", "toggle_mask"),
    Binding((Qt.Key.Key_R,), "R", "start / stop recording", "toggle_recording"),
    Binding((Qt.Key.Key_S,), "S", "save a snapshot (PNG)", "snapshot"),
    Binding(
        (Qt.Key.Key_V,), "V", "virtual camera on / off (for calls and OBS)", "toggle_virtual_camera"
    ),
    Binding((Qt.Key.Key_O,), "O", "open a video file", "open_video"),
    Binding((Qt.Key.Key_F,), "F", "fullscreen", "toggle_fullscreen"),
    Binding((Qt.Key.Key_Escape,), "Esc", "leave fullscreen / close this help", "escape"),
    Binding((Qt.Key.Key_H, Qt.Key.Key_Question), "H  ?", "this help", "toggle_help"),
    Binding((Qt.Key.Key_Q,), "Q", "quit", "close"),
)


def help_rows() -> list[tuple[str, str]]:
    names = [f"{k} {c.name}" for k, c in zip(KEYS, PALETTE, strict=True)]
    half = len(names) // 2
    colours = " · ".join(names[:half]) + "<br>" + " · ".join(names[half:])
    rows = [("1 … 9, 0", f"palette colour:<br>{colours}")]
    rows += [(b.label, b.description) for b in BINDINGS]
    return rows


class _Rate:
    """Events per second over a sliding window (GUI thread only)."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def tick(self, now: float) -> None:
        self._times.append(now)
        self._trim(now)

    def rate(self, now: float) -> float:
        self._trim(now)
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(now - self._times[0], 1e-6)

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > RATE_WINDOW_S:
            self._times.popleft()


class MainWindow(QMainWindow):
    frame_displayed = Signal(object)
    """The ``LiveFrame`` just handed to the view (GUI thread)."""

    def __init__(
        self,
        config: AppConfig,
        *,
        view_factory: ViewFactory = cpu_view,
        prefs: Prefs | None = None,
        retry_interval: float = 1.0,
        camera_lister: Callable[[], list[CameraDevice]] = list_names,
        stall_timeout: float = STALL_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self._camera_lister = camera_lister
        self._config = config
        self._prefs = prefs if prefs is not None else Prefs()
        self._retry_interval = retry_interval
        self._stall_timeout = stall_timeout
        self._settings = self._initial_settings()
        self._custom_colors: list[Color] = self._prefs.custom_colors()
        self._ombre_tip: Color = PALETTE[5]  # platinum: the classic dark-to-light ombré
        """The colour picker's last colours, newest first (toolbar swatches 11..15)."""
        self._spec: SourceSpec = self._initial_source()
        self._rate_monitor: RateMonitor | None = None
        self._low_fps_logged = False
        self._camera_watcher = CameraWatcher(self, lister=camera_lister)
        self._camera_watcher.changed.connect(self._on_cameras_changed)
        self._engine: LiveEngine | None = None
        self._opener: SourceOpener | None = None
        self._generation = 0
        self._state: SourceState | None = None
        self._paused = False
        self._recorder: AsyncRecorder | None = None
        self._recorder_sink: RecorderSink | None = None
        self._vcam: VirtualCamera | None = None
        self._vcam_wanted = config.virtual_camera
        """On (V, the toolbar, ``--virtual-camera``): it starts with the source's first frame
        (its frame rate is known then), and goes off after an error."""
        self._vcam_id = 0
        self._recording_id = 0
        self._pending_record: Path | None = config.record
        self._last_frame: LiveFrame | None = None
        self._model_ready = False
        self._frames_shown = 0
        self._recoloured_shown = 0
        self._display_rate = _Rate()
        self._latency_ms: float | None = None
        self._screenshot_due = config.screenshot
        self._closed = False
        self.exit_code = 0

        self._bridge = EngineBridge(self)
        self._bridge.frame_ready.connect(self._take_frame, Qt.ConnectionType.QueuedConnection)
        self._bridge.event_posted.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._bridge.recorder_failed.connect(
            self._on_recorder_failed, Qt.ConnectionType.QueuedConnection
        )
        self._bridge.vcam_failed.connect(self._on_vcam_failed, Qt.ConnectionType.QueuedConnection)
        self._sinks = SinkSet((self._bridge,))
        """The engine's sinks; they outlive an engine (a recording goes on across sources)."""

        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self._view: FrameView = view_factory(None)
        self._build_stage()
        self._build_toolbars()
        self._build_status_bar()
        self._dispatch = self._key_table()
        self._sync_controls()
        self.resize(self._default_size())

        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_INTERVAL_MS)
        self._status_timer.timeout.connect(self._refresh_status)
        self._cycle_timer = QTimer(self)
        if config.cycle_s is not None:
            self._cycle_timer.setInterval(max(1, round(config.cycle_s * 1000)))
            self._cycle_timer.timeout.connect(self.next_color)

    # -- construction -----------------------------------------------------------------------

    def _initial_settings(self) -> Settings:
        base = Settings()
        color = self._config.color or self._prefs.color() or base.color
        intensity = self._config.intensity
        if intensity is None:
            intensity = self._prefs.intensity()
        shine = self._config.shine
        if shine is None:
            shine = self._prefs.shine()
        return dataclasses.replace(
            base,
            color=color,
            intensity=base.intensity if intensity is None else intensity,
            shine=base.shine if shine is None else shine,
        )

    def _initial_source(self) -> SourceSpec:
        """``--camera`` as given; else the camera used last (by name, where it is still
        connected; else by index); a file as given."""
        spec = self._config.source
        if spec.video is not None:
            return spec
        cameras = self._camera_lister()
        if not self._config.camera_given:
            name, index = self._prefs.camera()
            named = [c for c in cameras if name is not None and c.name == name]
            if named:
                return dataclasses.replace(spec, camera=named[0].index, camera_name=name)
            if index is not None:
                spec = dataclasses.replace(spec, camera=index)
        if spec.camera_name is None:
            for camera in cameras:
                if camera.index == spec.camera:
                    return dataclasses.replace(spec, camera_name=camera.name)
        return spec

    def _default_size(self) -> QSize:
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return DEFAULT_SIZE
        avail = screen.availableGeometry().size()
        return DEFAULT_SIZE.boundedTo(QSize(avail.width() * 9 // 10, avail.height() * 9 // 10))

    def _build_stage(self) -> None:
        stage = QWidget(self)
        stage.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        grid = QGridLayout(stage)
        grid.setContentsMargins(0, 0, 0, 0)
        self._stage, self._stage_grid = stage, grid
        view = self._view.widget()
        view.setParent(stage)
        view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        grid.addWidget(view, 0, 0)
        self.banner = Banner(stage)
        grid.addWidget(self.banner, 0, 0, Qt.AlignmentFlag.AlignTop)
        self.hud = Hud(stage)
        grid.addWidget(self.hud, 0, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message_panel = MessagePanel(stage)
        grid.addWidget(self.message_panel, 0, 0, Qt.AlignmentFlag.AlignCenter)
        self.help_overlay = HelpOverlay(help_rows(), stage)
        grid.addWidget(self.help_overlay, 0, 0)
        self.message_panel.open_video.connect(self.open_video)
        self.message_panel.retry.connect(self.retry)
        self._view.split_dragged.connect(self._on_split_dragged)
        failed = getattr(self._view, "failed", None)  # the OpenGL view, if its context fails
        if failed is not None:
            failed.connect(self._fall_back_to_cpu)
        self.setCentralWidget(stage)
        stage.setFocus()

    def _fall_back_to_cpu(self, reason: str) -> None:
        """Swap the OpenGL view for the CPU view in place (its context failed at run time)."""
        self._swap_to_cpu_view()
        log.warning("OpenGL view failed (%s); drawing on the CPU", reason)
        self.banner.show_message(f"OpenGL failed ({reason}); drawing on the CPU", timeout_ms=10000)

    def _swap_to_cpu_view(self) -> None:
        old = self._view.widget()
        self._view = cpu_view(None)
        new = self._view.widget()
        new.setParent(self._stage)
        new.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._stage_grid.replaceWidget(old, new)
        new.lower()  # under the overlays
        new.show()
        self._view.split_dragged.connect(self._on_split_dragged)
        old.deleteLater()
        self._bridge.needs_cpu = True

    def _build_toolbars(self) -> None:
        look = QToolBar("Look", self)
        look.setObjectName("look")
        look.setMovable(False)
        look.setIconSize(QSize(22, 22))
        self.swatches = QButtonGroup(self)
        self.swatches.setExclusive(True)
        for i, (key, color) in enumerate(zip(KEYS, PALETTE, strict=True), start=1):
            button = QToolButton(look)
            button.setIcon(swatch_icon(color))
            button.setCheckable(True)
            button.setToolTip(f"{color.name} ({key})")
            button.setAutoRaise(True)
            button.setStyleSheet(
                "QToolButton:checked { border: 2px solid palette(highlight);"
                " border-radius: 5px; background: palette(midlight); }"
            )
            self.swatches.addButton(button, i)
            look.addWidget(button)
        self._custom_swatch_actions: list[QAction] = []
        for i in range(len(PALETTE) + 1, len(PALETTE) + 1 + MAX_CUSTOM_COLORS):
            button = QToolButton(look)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setStyleSheet(
                "QToolButton:checked { border: 2px solid palette(highlight);"
                " border-radius: 5px; background: palette(midlight); }"
            )
            self.swatches.addButton(button, i)
            self._custom_swatch_actions.append(look.addWidget(button))
        self.swatches.idClicked.connect(self._on_swatch)
        self.pick_button = QToolButton(look)
        self.pick_button.setText("Colour…")
        self.pick_button.setToolTip("pick any colour (C)")
        self.pick_button.clicked.connect(lambda _checked=False: self.pick_color())
        look.addWidget(self.pick_button)
        self._refresh_custom_swatches()
        look.addSeparator()
        look.addWidget(QLabel(" Intensity ", look))
        self.slider = QSlider(Qt.Orientation.Horizontal, look)
        self.slider.setRange(0, 100)
        self.slider.setPageStep(INTENSITY_STEP)
        self.slider.setFixedWidth(160)
        self.slider.setToolTip("how strongly the colour is applied (↑/↓, +/-)")
        self.slider.valueChanged.connect(self._on_slider)
        look.addWidget(self.slider)
        self.intensity_label = QLabel(look)
        self.intensity_label.setMinimumWidth(36)
        look.addWidget(self.intensity_label)
        look.addWidget(QLabel(" Shine ", look))
        self.shine_slider = QSlider(Qt.Orientation.Horizontal, look)
        self.shine_slider.setRange(0, 100)
        self.shine_slider.setPageStep(SHINE_STEP)
        self.shine_slider.setFixedWidth(110)
        self.shine_slider.setToolTip(
            "gloss of the hair's own highlights: 0 matte, 50 natural ([/])"
        )
        self.shine_slider.valueChanged.connect(self._on_shine_slider)
        look.addWidget(self.shine_slider)
        self.shine_label = QLabel(look)
        self.shine_label.setMinimumWidth(28)
        look.addWidget(self.shine_label)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, look)
        self._build_ombre_bar()

        actions = QToolBar("Actions", self)
        actions.setObjectName("actions")
        actions.setMovable(False)
        actions.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        def add(
            text: str, key: str, slot: Callable[[], object], checkable: bool = False
        ) -> QAction:
            action = QAction(text, self)
            action.setToolTip(f"{text} ({key})")
            action.setCheckable(checkable)
            action.triggered.connect(lambda _checked=False: slot())
            actions.addAction(action)
            return action

        self.pause_action = add("Pause", "Space", self.toggle_pause, True)
        self.split_action = add("Before/after", "B", self.toggle_split, True)
        self.mask_action = add("Mask", "M", self.toggle_mask, True)
        self.record_action = add("Record", "R", self.toggle_recording, True)
        add("Snapshot", "S", self.snapshot)
        self.vcam_action = add("Virtual camera", "V", self.toggle_virtual_camera, True)
        add("Open video…", "O", self.open_video)
        self.camera_menu = QMenu("Camera", self)
        self.camera_menu.aboutToShow.connect(self._refresh_camera_menu)
        camera_button = QToolButton(actions)
        camera_button.setText("Camera")
        camera_button.setToolTip("choose a camera (plugged-in cameras appear here)")
        camera_button.setMenu(self.camera_menu)
        camera_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        actions.addWidget(camera_button)
        self._refresh_camera_menu()
        add("Fullscreen", "F", self.toggle_fullscreen)
        add("Help", "H", self.toggle_help)
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, actions)
        for bar in (look, actions):
            bar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            for child in bar.findChildren(QWidget):
                child.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._toolbars = (look, actions)

    def _build_ombre_bar(self) -> None:
        """Two-tone / ombré controls, shown while it is on (T): the tip colour and the blend;
        the root is the colour chosen as usual (swatches, keys, C)."""
        bar = QToolBar("Ombré", self)
        bar.setObjectName("ombre")
        bar.setMovable(False)
        bar.addWidget(QLabel(" Ombré: the colour at the roots, at the ends ", bar))
        self.tip_button = QToolButton(bar)
        self.tip_button.setText("Tip…")
        self.tip_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.tip_button.setToolTip("the colour at the ends of the hair")
        self.tip_button.setIcon(swatch_icon(self._ombre_tip))
        self.tip_button.clicked.connect(lambda _checked=False: self.pick_tip_color())
        bar.addWidget(self.tip_button)
        bar.addWidget(QLabel(" Blend ", bar))
        self.blend_slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.blend_slider.setRange(0, 100)
        self.blend_slider.setFixedWidth(120)
        self.blend_slider.setToolTip("where the colours meet: 0 at the roots, 100 at the ends")
        self.blend_slider.setValue(DEFAULT_BLEND)
        self.blend_slider.valueChanged.connect(lambda v: self._set_ombre(blend=int(v)))
        bar.addWidget(self.blend_slider)
        bar.addWidget(QLabel(" Softness ", bar))
        self.softness_slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.softness_slider.setRange(0, 100)
        self.softness_slider.setFixedWidth(100)
        self.softness_slider.setToolTip("how long the transition is: 0 is a sharp two-tone line")
        self.softness_slider.setValue(DEFAULT_SOFTNESS)
        self.softness_slider.valueChanged.connect(lambda v: self._set_ombre(softness=int(v)))
        bar.addWidget(self.softness_slider)
        bar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for child in bar.findChildren(QWidget):
            child.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        bar.hide()
        self.ombre_bar = bar

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.source_label = QLabel(bar)
        self.rate_label = QLabel(bar)
        self.stage_label = QLabel(bar)
        for label in (self.source_label, self.rate_label, self.stage_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self.prefs_label = QLabel(bar)  # settings that cannot be saved: said once, kept shown
        self.prefs_label.setContentsMargins(8, 0, 8, 0)
        problem = self._prefs.problem()
        self.prefs_label.setText(f"Settings not saved: {problem}" if problem else "")
        self.prefs_label.setVisible(problem is not None)
        bar.addPermanentWidget(self.prefs_label)

    def _key_table(self) -> dict[Qt.Key, Callable[[], object]]:
        table: dict[Qt.Key, Callable[[], object]] = {}
        for i, key in enumerate(_DIGIT_KEYS, start=1):
            table[key] = functools.partial(self.select_color, i)
        for binding in BINDINGS:
            method = getattr(self, binding.action)
            for key in binding.keys:
                table[key] = method
        return table

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the configured source (after ``show()``)."""
        self._status_timer.start()
        self._camera_watcher.start()
        if self._config.cycle_s is not None:
            self._cycle_timer.start()
        self._start_engine(self._spec)

    @property
    def engine(self) -> LiveEngine | None:
        return self._engine

    @property
    def recorder(self) -> AsyncRecorder | None:
        return self._recorder

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def view(self) -> FrameView:
        return self._view

    def _start_engine(self, spec: SourceSpec) -> None:
        self._stop_engine()
        self._generation += 1
        generation = self._generation
        opener = SourceOpener(spec)
        pipeline = Pipeline(
            DeferredSegmenter(self._config.model), DeferredFaceDetector(self._config.face_model)
        )

        def on_event(event: LiveEvent) -> None:
            self._bridge.post_event(generation, event)

        engine = LiveEngine(
            opener,
            pipeline,
            self._settings,
            None,
            on_event,
            sinks=self._sinks,
            retry_interval=self._retry_interval,
            stall_timeout=self._stall_timeout,
        )
        self._bridge.generation = generation
        self._bridge.needs_cpu = self._view.needs_cpu_image
        self._paused = False
        self._spec, self._opener, self._engine = spec, opener, engine
        self._state = SourceState.STARTING
        self._model_ready = False
        self._rate_monitor = None
        self._low_fps_logged = False
        if spec.video is None:
            self._prefs.save_camera(spec.camera_name, spec.camera)
        self.message_panel.hide()
        what = "camera" if spec.video is None else "video"
        self._view.set_placeholder(f"Starting the {what}…")
        self._sync_controls()
        engine.start()
        log.info("started %s", spec.label)

    def _model_download_needed(self) -> bool:
        """Whether ``resolve_model`` will download (nothing named, nothing cached)."""
        return (
            self._config.model is None
            and not os.environ.get(MODEL_ENV)
            and not cache_path().is_file()
        )

    def _stop_engine(self) -> None:
        self._stop_vcam()  # restarted at the new source's first frame, at its size and rate
        engine, self._engine = self._engine, None
        if engine is None:
            return
        if not engine.stop(timeout=STOP_TIMEOUT_S):
            log.warning("engine threads still running %.1f s after stop", STOP_TIMEOUT_S)

    def request_quit(self, exit_code: int = 0) -> None:
        """Close the window (from a signal handler, via the event loop) with ``exit_code``."""
        self.exit_code = exit_code
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop timers, the engine (threads end, the camera is released) and a recording
        (the file is finished), and remember the look. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._status_timer.stop()
        self._cycle_timer.stop()
        self._camera_watcher.stop()
        self._stop_engine()
        self._stop_recording(report=False)
        self._stop_vcam()
        self._bridge.close()
        self._prefs.save_look(self._settings.color, self._settings.intensity)
        self._prefs.save_shine(self._settings.shine)

    # -- GUI thread: engine output ------------------------------------------------------------

    def _take_frame(self) -> None:
        item = self._bridge.take_frame()
        if item is None or self._closed:
            return
        generation, live = item
        if generation != self._generation:
            return
        now = time.monotonic()
        self._watch_rate(live)
        self._view.show_frame(live)
        self._last_frame = live
        self._frames_shown += 1
        self._display_rate.tick(now)
        latency = (now - live.frame.timestamp) * 1e3
        self._latency_ms = (
            latency
            if self._latency_ms is None
            else LATENCY_SMOOTHING * self._latency_ms + (1 - LATENCY_SMOOTHING) * latency
        )
        if live.mask_index is not None:
            self._recoloured_shown += 1
            if not self._model_ready:
                self._model_ready = True
                self.statusBar().clearMessage()
        if self._pending_record is not None:
            path, self._pending_record = self._pending_record, None
            self._start_recording(path)
        if self._vcam_wanted and self._vcam is None:
            self._start_vcam()
        self.frame_displayed.emit(live)
        if (
            self._screenshot_due is not None
            and self._recoloured_shown >= self._config.screenshot_frames
        ):
            path, self._screenshot_due = self._screenshot_due, None
            QTimer.singleShot(0, lambda: self._save_screenshot(path))

    def _on_event(self, payload: tuple[int, LiveEvent]) -> None:
        generation, event = payload
        if generation != self._generation or self._closed:
            return
        self._state = event.state
        spec = self._spec
        keep_trying = "colorme-live keeps trying every second; you can also open a video file."
        if event.state is SourceState.RUNNING:
            self.message_panel.hide()
            if not self._model_ready:
                self.statusBar().showMessage(
                    "Downloading the hair model (first run)…"
                    if self._model_download_needed()
                    else "Loading the hair model…"
                )
        elif event.state is SourceState.UNAVAILABLE:
            title = f"No camera {spec.camera} found" if spec.video is None else "Cannot open video"
            self.message_panel.show_message(title, f"{event.message}\n\n{keep_trying}")
            self._view.set_placeholder("")
        elif event.state is SourceState.LOST:
            title = "Camera lost" if spec.video is None else "Video stopped"
            self.message_panel.show_message(title, f"{event.message}\n\n{keep_trying}")
        elif event.state is SourceState.STALLED:
            title = "Camera not responding" if spec.video is None else "Video stalled"
            self.message_panel.show_message(
                title, f"{event.message}\n\nThe picture comes back by itself when it does."
            )
        elif event.state is SourceState.ENDED:
            self.message_panel.show_message("The video ended", event.message)
        elif event.state is SourceState.FAILED:
            engine = self._engine
            if engine is not None and engine.failure is not None:
                self.message_panel.show_message(
                    "Something went wrong",
                    f"{event.message}\n\nRetry restarts the {spec.label}.",
                )
            else:
                self.statusBar().clearMessage()
                self.banner.show_message(
                    f"Hair colouring is off: {event.message}\nThe picture is shown unchanged.",
                )

    def _on_recorder_failed(self, payload: tuple[object, str]) -> None:
        recording_id, message = payload
        if self._closed:
            return
        if recording_id == self._recording_id and self._recorder is not None:
            self._stop_recording(report=False)
        self.banner.show_message(f"Recording stopped: {message}", timeout_ms=15000)

    # -- GUI thread: the look -----------------------------------------------------------------

    def _apply(self, **changes: object) -> None:
        ombre = self._settings.ombre
        color = changes.get("color")
        if ombre is not None and isinstance(color, Color) and "ombre" not in changes:
            changes["ombre"] = dataclasses.replace(ombre, root=color)  # the colour is the root
        new = dataclasses.replace(self._settings, **changes)  # type: ignore[arg-type]
        if new == self._settings:
            return
        self._settings = new
        if self._engine is not None:
            self._engine.settings = new  # one reference assignment; workers read it per frame
        self._sync_controls()

    def _sync_controls(self) -> None:
        s = self._settings
        index = index_of(s.color)
        if index is None and s.color in self._custom_colors:
            index = len(PALETTE) + 1 + self._custom_colors.index(s.color)
        if index is None:
            checked = self.swatches.checkedButton()
            if checked is not None:
                self.swatches.setExclusive(False)
                checked.setChecked(False)
                self.swatches.setExclusive(True)
        else:
            button = self.swatches.button(index)
            if button is not None:
                button.setChecked(True)
        self.slider.blockSignals(True)
        self.slider.setValue(s.intensity)
        self.slider.blockSignals(False)
        self.intensity_label.setText(f"{s.intensity:3d}%")
        self.shine_slider.blockSignals(True)
        self.shine_slider.setValue(s.shine)
        self.shine_slider.blockSignals(False)
        self.shine_label.setText(f"{s.shine:3d}")
        self.split_action.setChecked(s.view is View.SPLIT)
        self.mask_action.setChecked(s.view is View.MASK)
        self.pause_action.setChecked(self._paused)
        self.record_action.setChecked(self._recorder is not None)
        self.vcam_action.setChecked(self._vcam_wanted)
        if not self.isFullScreen():
            self.ombre_bar.setVisible(s.ombre is not None)

    def _on_swatch(self, index: int) -> None:
        if index <= len(PALETTE):
            self.select_color(index)
        elif index - len(PALETTE) <= len(self._custom_colors):
            self._apply(color=self._custom_colors[index - len(PALETTE) - 1])

    @property
    def custom_colors(self) -> list[Color]:
        return list(self._custom_colors)

    def pick_color(self) -> None:
        """The colour picker (C): any colour; it is applied and remembered (last five)."""
        r, g, b = self._settings.color.rgb
        chosen = QColorDialog.getColor(QColor(r, g, b), self, "Choose a hair colour")
        if not chosen.isValid():  # cancelled
            return
        color = parse_color(chosen.name())
        palette = next((i for i, c in enumerate(PALETTE, start=1) if c.rgb == color.rgb), None)
        if palette is not None:  # a palette colour: its own swatch, not a custom one
            self.select_color(palette)
            return
        self._custom_colors = [color, *(c for c in self._custom_colors if c != color)][
            :MAX_CUSTOM_COLORS
        ]
        self._prefs.save_custom_colors(self._custom_colors)
        problem = self._prefs.problem()  # said in the status bar, as at start
        if problem is not None:
            self.prefs_label.setText(f"Settings not saved: {problem}")
            self.prefs_label.setVisible(True)
        self._refresh_custom_swatches()
        self._apply(color=color)
        self._sync_controls()

    def _refresh_custom_swatches(self) -> None:
        for i, action in enumerate(self._custom_swatch_actions):
            button = self.swatches.button(len(PALETTE) + 1 + i)
            if i < len(self._custom_colors):
                color = self._custom_colors[i]
                button.setIcon(swatch_icon(color))
                button.setToolTip(f"{color.hex} (your colour)")
                action.setVisible(True)
            else:
                action.setVisible(False)

    def select_color(self, index: int) -> None:
        """Palette colour ``index`` (1..10)."""
        self._apply(color=PALETTE[index - 1])

    def next_color(self) -> None:
        index = index_of(self._settings.color)
        self.select_color(1 if index is None else index % len(PALETTE) + 1)

    def previous_color(self) -> None:
        index = index_of(self._settings.color)
        self.select_color(len(PALETTE) if index is None else (index - 2) % len(PALETTE) + 1)

    def intensity_up(self) -> None:
        self._apply(intensity=min(100, self._settings.intensity + INTENSITY_STEP))

    def intensity_down(self) -> None:
        self._apply(intensity=max(0, self._settings.intensity - INTENSITY_STEP))

    def _on_slider(self, value: int) -> None:
        self._apply(intensity=int(value))

    def shine_up(self) -> None:
        self._apply(shine=min(100, self._settings.shine + SHINE_STEP))

    def shine_down(self) -> None:
        self._apply(shine=max(0, self._settings.shine - SHINE_STEP))

    def _on_shine_slider(self, value: int) -> None:
        self._apply(shine=int(value))

    def toggle_ombre(self) -> None:
        """Two-tone / ombré on or off: the current colour at the roots, Tip… at the ends."""
        if self._settings.ombre is not None:
            self._apply(ombre=None)
            return
        if not self._view.needs_cpu_image:  # the GL shaders draw one colour
            self._swap_to_cpu_view()
            log.info("ombré is drawn on the CPU")
        self._apply(
            ombre=Ombre(
                self._settings.color,
                self._ombre_tip,
                self.blend_slider.value(),
                self.softness_slider.value(),
            )
        )

    def _set_ombre(self, **changes: object) -> None:
        ombre = self._settings.ombre
        if ombre is not None:
            self._apply(ombre=dataclasses.replace(ombre, **changes))  # type: ignore[arg-type]

    def pick_tip_color(self) -> None:
        r, g, b = self._ombre_tip.rgb
        chosen = QColorDialog.getColor(QColor(r, g, b), self, "Choose the tip colour")
        if not chosen.isValid():
            return
        color = parse_color(chosen.name())
        palette = next((c for c in PALETTE if c.rgb == color.rgb), None)
        self._ombre_tip = palette or color
        self._set_ombre(tip=self._ombre_tip)
        self.tip_button.setIcon(swatch_icon(self._ombre_tip))

    def toggle_split(self) -> None:
        self._apply(view=View.RECOLOR if self._settings.view is View.SPLIT else View.SPLIT)

    def toggle_mask(self) -> None:
        self._apply(view=View.RECOLOR if self._settings.view is View.MASK else View.MASK)

    def _on_split_dragged(self, fraction: float) -> None:
        self._apply(split=min(1.0, max(0.0, float(fraction))))

    def toggle_pause(self) -> None:
        self._paused = not self._paused
        if self._engine is not None:
            self._engine.paused = self._paused
        self._sync_controls()
        self._refresh_hud()

    # -- GUI thread: recording and snapshots --------------------------------------------------

    def toggle_recording(self) -> None:
        if self._recorder is not None or self._pending_record is not None:
            self._pending_record = None
            self._stop_recording(report=True)
        else:
            self._start_recording(None)
        self._sync_controls()

    def _output_dir(self) -> Path | None:
        folder = self._config.out_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self.banner.show_message(
                f"Cannot create the output folder {folder}: {e.strerror or e}",
                timeout_ms=15000,
            )
            return None
        return folder

    def _start_recording(self, path: Path | None) -> None:
        live = self._last_frame
        info = self._opener.info if self._opener is not None else None
        if live is None or info is None:
            self.banner.show_message("Nothing to record yet: no picture.", "info", 5000)
            self._sync_controls()
            return
        claimed = path is None
        if path is None:
            folder = self._output_dir()
            path = None if folder is None else self._claim_name(folder, ".mp4", "Cannot record")
            if path is None:
                self._sync_controls()
                return
        image = live.image if live.image is not None else live.frame.image
        size = (int(image.shape[1]), int(image.shape[0]))
        # The encoder thread reports errors by this number, not by the recorder object: a
        # callback holding its own recorder would keep every old recorder (encoder, threads,
        # frames) alive in a reference cycle.
        self._recording_id += 1
        recording_id, bridge = self._recording_id, self._bridge

        def on_error(message: str) -> None:  # encoder thread
            bridge.post_recorder_error(recording_id, message)

        try:
            recorder = AsyncRecorder(path, info.fps, size, on_error=on_error)
        except RecordingError as e:
            if claimed:
                discard_if_empty(path)
            self.banner.show_message(f"Cannot record: {e}", timeout_ms=15000)
            self._sync_controls()
            return
        self._recorder = recorder
        self._recorder_sink = RecorderSink(recorder)
        self._sinks.add(self._recorder_sink)
        self.statusBar().showMessage(f"Recording to {path}", 5000)
        log.info("recording to %s at %.3f fps, %dx%d", path, info.fps, *size)
        self._sync_controls()
        self._refresh_hud()

    def _stop_recording(self, report: bool) -> None:
        recorder, self._recorder = self._recorder, None
        if self._recorder_sink is not None:
            self._sinks.remove(self._recorder_sink)
            self._recorder_sink = None
        if recorder is None:
            return
        stats = recorder.stop(timeout=RECORDER_STOP_TIMEOUT_S)
        if report and recorder.error is not None:
            self.banner.show_message(f"Recording failed: {recorder.error}", timeout_ms=15000)
        elif report:
            seconds = stats.written / recorder.fps
            self.statusBar().showMessage(
                f"Saved {recorder.path} ({stats.written} frames, {seconds:.1f} s)", 10000
            )
        if not self._closed:
            self._sync_controls()
            self._refresh_hud()

    # -- GUI thread: the virtual camera -------------------------------------------------------

    @property
    def virtual_camera(self) -> VirtualCamera | None:
        return self._vcam

    def toggle_virtual_camera(self) -> None:
        self._vcam_wanted = not self._vcam_wanted
        if self._vcam_wanted:
            self._start_vcam()
        else:
            self._stop_vcam()
            self.statusBar().showMessage("Virtual camera off", 5000)
        self._sync_controls()

    def _start_vcam(self) -> None:
        """Start sending, if it is wanted and the source is open (else at its first frame)."""
        info = self._opener.info if self._opener is not None else None
        if not self._vcam_wanted or self._vcam is not None or self._closed or info is None:
            return
        self._vcam_id += 1
        vcam_id, bridge = self._vcam_id, self._bridge

        def on_error(message: str) -> None:  # the vcam thread
            bridge.post_vcam_error(vcam_id, message)

        fps = info.fps if math.isfinite(info.fps) and info.fps > 0 else DEFAULT_VCAM_FPS
        self._vcam = VirtualCamera(fps, opener=vcam_module.open_pyvirtualcam, on_error=on_error)
        self._sinks.add(self._vcam)
        log.info("virtual camera starting at %.3g fps", fps)

    def _stop_vcam(self) -> None:
        vcam, self._vcam = self._vcam, None
        if vcam is not None:
            self._sinks.remove(vcam)
            vcam.close()

    def _on_vcam_failed(self, payload: tuple[int, str]) -> None:
        """No backend, or the device went away: say so in one line; V turns it on again."""
        vcam_id, message = payload
        if self._closed or vcam_id != self._vcam_id:
            return
        self._vcam_wanted = False
        self._stop_vcam()
        self.banner.show_message(message, timeout_ms=20000)
        self._sync_controls()

    def _claim_name(self, folder: Path, suffix: str, failure: str) -> Path | None:
        """A new file named by date and time in ``folder``, created exclusively (two windows
        pressing R in the same second get two files), or None after a message."""
        try:
            return claim_new_file(folder, timestamped(APP_NAME, suffix))
        except OutputError as e:
            self.banner.show_message(f"{failure}: {e}", timeout_ms=15000)
            return None

    def snapshot(self) -> Path | None:
        """Save what the view shows as a PNG in the output folder; the path, or None."""
        live = self._last_frame
        if live is None:
            self.banner.show_message("Nothing to save yet: no picture.", "info", 5000)
            return None
        folder = self._output_dir()
        if folder is None:
            return None
        path = self._claim_name(folder, ".png", "Cannot save the snapshot")
        if path is None:
            return None
        try:
            if live.image is not None:
                ok, data = cv2.imencode(".png", live.image)
                if not ok:
                    raise OSError("PNG encoding failed")
                write_bytes_atomic(path, data.tobytes())
            else:
                with atomic_file(path) as temp:
                    if not self._view.widget().grab().save(str(temp), "PNG"):
                        raise OSError("could not write the PNG")
        except (OSError, OutputError) as e:
            discard_if_empty(path)
            self.banner.show_message(
                f"Cannot save the snapshot {path}: {reason(e)}", timeout_ms=15000
            )
            return None
        self.statusBar().showMessage(f"Saved {path}", 8000)
        return path

    def _save_screenshot(self, path: Path) -> None:
        if self._closed:
            return
        partial = path.with_name(f".{path.name}.partial.png")
        try:
            if not self.grab().save(str(partial), "PNG"):
                raise OSError("QPixmap.save failed")
            partial.replace(path)  # whole or not at all, for whoever waits for the file
        except OSError as e:
            log.error("could not save the screenshot to %s: %s", path, e)
            return
        log.info("screenshot saved to %s", path)

    # -- GUI thread: sources ------------------------------------------------------------------

    def open_video(self) -> None:
        start = str(self._spec.video.parent) if self._spec.video is not None else ""
        name, _ = QFileDialog.getOpenFileName(self, "Open a video", start, VIDEO_FILTER)
        if name:
            self.play_video(Path(name))

    def play_video(self, path: Path) -> None:
        self._start_engine(SourceSpec(video=path, mirror=self._config.source.mirror))

    def select_camera(self, camera: CameraDevice) -> None:
        """Switch to ``camera`` (from the Camera menu); it is remembered for the next run."""
        base = self._config.source
        self._start_engine(
            SourceSpec(
                camera=camera.index,
                size=base.size,
                mirror=base.mirror,
                fps=base.fps,
                camera_name=camera.name,
            )
        )

    def _refresh_camera_menu(self) -> None:
        current = self._spec.camera if self._spec.video is None else None
        fill_camera_menu(
            self.camera_menu,
            self._camera_watcher.cameras,
            current,
            self.select_camera,
            self.open_video,
            self,
        )

    def _on_cameras_changed(self, cameras: list[CameraDevice]) -> None:
        """Hot-plug: rebuild the menu; if the camera we wait for is back (perhaps under
        another index), open it."""
        if self._closed:
            return
        self._refresh_camera_menu()
        spec = self._spec
        waiting = self._state in (SourceState.UNAVAILABLE, SourceState.LOST)
        if spec.video is not None or not waiting or spec.camera_name is None:
            return
        for camera in cameras:
            if camera.name == spec.camera_name:
                log.info("camera %r is back as %d", camera.name, camera.index)
                self.select_camera(camera)
                return

    def _watch_rate(self, live: LiveFrame) -> None:
        info = self._opener.info if self._opener is not None else None
        if info is None or info.asked_fps is None:
            return
        if self._rate_monitor is None:
            self._rate_monitor = RateMonitor(info.asked_fps)
        self._rate_monitor.add(live.frame.index, live.frame.timestamp)

    def low_fps_warning(self) -> str | None:
        """The status bar's note when the camera delivers far fewer frames than asked."""
        return self._rate_monitor.warning if self._rate_monitor is not None else None

    def retry(self) -> None:
        """Restart the current source now (the engine also retries by itself)."""
        self._start_engine(self._spec)

    # -- GUI thread: window -------------------------------------------------------------------

    def toggle_help(self) -> None:
        self.help_overlay.setVisible(not self.help_overlay.isVisible())
        if self.help_overlay.isVisible():
            self.help_overlay.raise_()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self._leave_fullscreen()
        else:
            for bar in (*self._toolbars, self.ombre_bar):
                bar.hide()
            self.statusBar().hide()
            self.showFullScreen()

    def _leave_fullscreen(self) -> None:
        self.showNormal()
        for bar in self._toolbars:
            bar.show()
        self.statusBar().show()
        self.ombre_bar.setVisible(self._settings.ombre is not None)

    def escape(self) -> None:
        if self.help_overlay.isVisible():
            self.help_overlay.hide()
        elif self.isFullScreen():
            self._leave_fullscreen()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        blocked = (
            Qt.KeyboardModifier.ControlModifier
            | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.MetaModifier
        )
        handler = self._dispatch.get(Qt.Key(event.key()))
        if handler is None or event.modifiers() & blocked:
            super().keyPressEvent(event)
            return
        event.accept()
        handler()

    # -- status -------------------------------------------------------------------------------

    def _refresh_hud(self) -> None:
        recorder = self._recorder
        self.hud.set_state(
            recording_s=None if recorder is None else time.monotonic() - recorder.started_at,
            behind=recorder is not None and recorder.behind,
            paused=self._paused,
        )
        if self.hud.isVisible():
            self.hud.raise_()

    def _refresh_status(self) -> None:
        self._refresh_hud()
        engine, opener, live = self._engine, self._opener, self._last_frame
        info = opener.info if opener is not None else None
        source = info.description if info is not None else self._spec.label
        camera = info is not None and info.asked_fps is not None  # says its own mode
        if live is not None and not camera:
            h, w = live.frame.image.shape[:2]
            source += f" · {w}x{h}"
        if info is not None and not camera:
            source += f" · {info.fps:g} fps"
        slow = self.low_fps_warning()
        if slow is not None:
            source += f" · {slow}"
            if not self._low_fps_logged:
                self._low_fps_logged = True
                log.warning("%s", slow)
        vcam = self._vcam
        if vcam is not None and vcam.device is not None:
            source += f" · virtual camera {vcam.device}"
        self.source_label.setText(source)
        if engine is None:
            return
        stats = engine.stats()
        now = time.monotonic()
        latency = "" if self._latency_ms is None else f" · latency {self._latency_ms:.0f} ms"
        self.rate_label.setText(
            f"display {self._display_rate.rate(now):.1f} fps · "
            f"segmentation {stats.segment_hz:.1f} Hz{latency}"
            + (f" · faces {stats.faces}" if stats.faces else " · no face: whole frame")
        )
        stages = (Stage.SEGMENT, Stage.SKIN, Stage.SMOOTH, Stage.PREPARE, Stage.FUSED)
        parts = [f"{k} {stats.stage_ms[k]:.0f}" for k in stages if k in stats.stage_ms]
        self.stage_label.setText((" · ".join(parts) + " ms") if parts else "")
