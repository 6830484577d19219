"""What the window is asked to do, from the command line: a frozen snapshot, Qt-free."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from colorme_live.core.cameras import check_index, find_camera, list_cameras
from colorme_live.core.errors import InputError
from colorme_live.core.outputs import check_folder, check_not_input, make_folder
from colorme_live.core.palette import Color
from colorme_live.core.video_writer import OUTPUT_SUFFIXES, check_recordable

APP_NAME = "colorme-live"
SCREENSHOT_ENV = "COLORME_SCREENSHOT"
"""If set, the window saves a grab of itself to this PNG path once it has shown
``COLORME_SCREENSHOT_FRAMES`` recoloured frames (default 30); used by the end-to-end test and
for README screenshots."""
SCREENSHOT_FRAMES_ENV = "COLORME_SCREENSHOT_FRAMES"
DEFAULT_SCREENSHOT_FRAMES = 30


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A camera (``video is None``) or a video file played as if it were one."""

    camera: int = 0
    video: Path | None = None
    size: tuple[int, int] | None = None
    """Camera resolution to ask for (None: ``cameras.DEFAULT_CAMERA_SIZE``)."""
    mirror: bool | None = None
    """None: mirrored for cameras, not for files."""
    fps: float | None = None
    """Camera frame rate to ask for (None: ``cameras.DEFAULT_CAMERA_FPS``)."""
    camera_name: str | None = None
    """The camera's system name, when known (shown, and remembered)."""

    @property
    def mirrored(self) -> bool:
        if self.mirror is not None:
            return self.mirror
        return self.video is None

    @property
    def label(self) -> str:
        if self.video is not None:
            return f"video {self.video.name}"
        return f"camera {self.camera}" + (f" ({self.camera_name})" if self.camera_name else "")


@dataclass(frozen=True, slots=True)
class AppConfig:
    source: SourceSpec = SourceSpec()
    color: Color | None = None
    """From ``--color``; None: the remembered colour, or the default."""
    intensity: int | None = None
    shine: int | None = None
    """From ``--shine``; None: the remembered shine, or the default."""
    record: Path | None = None
    """Record from launch to this file."""
    output_dir: Path | None = None
    """Where recordings and snapshots go; None: ``default_output_dir()``."""
    cycle_s: float | None = None
    renderer: str = "auto"
    model: Path | None = None
    """``--model``; None: ``$COLORME_MODEL``, the cache, or a download."""
    face_model: Path | None = None
    """``--face-model``; None: ``$COLORME_FACE_MODEL``, the cache, or a download."""
    screenshot: Path | None = None
    screenshot_frames: int = DEFAULT_SCREENSHOT_FRAMES
    camera_given: bool = False
    virtual_camera: bool = False
    """``--virtual-camera``: publish the recoloured picture as a system camera from launch."""
    """``--camera`` was given; otherwise the window opens the camera used last, if present."""

    @property
    def out_dir(self) -> Path:
        return self.output_dir if self.output_dir is not None else default_output_dir()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AppConfig:
        """The config for the parsed command line. Raises ``InputError`` for a video that does
        not exist or a recording name the encoder cannot write, before any window opens."""
        video: Path | None = getattr(args, "video", None)
        if video is not None and not video.is_file():
            raise InputError(f"video file not found: {video}")
        record: Path | None = getattr(args, "record", None)
        if record is not None and record.suffix.lower() not in OUTPUT_SUFFIXES:
            kinds = "/".join(sorted(OUTPUT_SUFFIXES))
            raise InputError(f"cannot record to {record}: the name must end in {kinds}")
        check_outputs(record, video, getattr(args, "output_dir", None))
        camera = getattr(args, "camera", None)
        camera_name: str | None = None
        if isinstance(camera, str):  # a name: which index is it now?
            device = find_camera(camera, list_cameras())
            camera, camera_name = device.index, device.name
        shot = os.environ.get(SCREENSHOT_ENV)
        frames = os.environ.get(SCREENSHOT_FRAMES_ENV, "")
        model = getattr(args, "model", None)
        return cls(
            source=SourceSpec(
                camera=check_index(camera) if camera is not None else 0,
                video=video,
                size=getattr(args, "size", None),
                mirror=getattr(args, "mirror", None),
                fps=getattr(args, "fps", None),
                camera_name=camera_name,
            ),
            color=getattr(args, "color", None),
            intensity=getattr(args, "intensity", None),
            shine=getattr(args, "shine", None),
            record=record,
            output_dir=getattr(args, "output_dir", None),
            cycle_s=getattr(args, "cycle", None),
            renderer=getattr(args, "renderer", "auto") or "auto",
            model=Path(model) if model else None,
            face_model=Path(fm) if (fm := getattr(args, "face_model", None)) else None,
            screenshot=Path(shot) if shot else None,
            screenshot_frames=int(frames) if frames.isdigit() else DEFAULT_SCREENSHOT_FRAMES,
            camera_given=camera is not None,
            virtual_camera=bool(getattr(args, "virtual_camera", False)),
        )


def check_outputs(record: Path | None, video: Path | None, output_dir: Path | None) -> None:
    """Refuse, before any window opens, a recording that cannot be written: its folder missing
    or read-only, the file being the input video, or another recording writing it now. An
    ``--output-dir`` is created if missing and must take new files. Raises ``ColormeError``."""
    if record is not None:
        if video is not None:
            check_not_input(video, record, "recording")
        if record.is_dir():
            raise InputError(f"cannot record to {record}: it is a folder")
        check_folder(record.parent, record)
        check_recordable(record)
    if output_dir is not None:
        make_folder(output_dir)


def default_output_dir() -> Path:
    """The platform's videos folder, ``colorme-live`` inside it."""
    return Path(platformdirs.user_videos_dir()) / APP_NAME
