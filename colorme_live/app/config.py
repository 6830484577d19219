"""What the window is asked to do, from the command line: a frozen snapshot, Qt-free."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import platformdirs

from colorme_live.core.errors import InputError
from colorme_live.core.palette import Color
from colorme_live.core.recording import OUTPUT_SUFFIXES

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
    """Camera resolution to request."""
    mirror: bool | None = None
    """None: mirrored for cameras, not for files."""

    @property
    def mirrored(self) -> bool:
        if self.mirror is not None:
            return self.mirror
        return self.video is None

    @property
    def label(self) -> str:
        return f"camera {self.camera}" if self.video is None else f"video {self.video.name}"


@dataclass(frozen=True, slots=True)
class AppConfig:
    source: SourceSpec = SourceSpec()
    color: Color | None = None
    """From ``--color``; None: the remembered colour, or the default."""
    intensity: int | None = None
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
        shot = os.environ.get(SCREENSHOT_ENV)
        frames = os.environ.get(SCREENSHOT_FRAMES_ENV, "")
        model = getattr(args, "model", None)
        return cls(
            source=SourceSpec(
                camera=getattr(args, "camera", 0) or 0,
                video=video,
                size=getattr(args, "size", None),
                mirror=getattr(args, "mirror", None),
            ),
            color=getattr(args, "color", None),
            intensity=getattr(args, "intensity", None),
            record=record,
            output_dir=getattr(args, "output_dir", None),
            cycle_s=getattr(args, "cycle", None),
            renderer=getattr(args, "renderer", "auto") or "auto",
            model=Path(model) if model else None,
            face_model=Path(fm) if (fm := getattr(args, "face_model", None)) else None,
            screenshot=Path(shot) if shot else None,
            screenshot_frames=int(frames) if frames.isdigit() else DEFAULT_SCREENSHOT_FRAMES,
        )


def default_output_dir() -> Path:
    """The platform's videos folder, ``colorme-live`` inside it."""
    return Path(platformdirs.user_videos_dir()) / APP_NAME


def timestamped_name(suffix: str, now: datetime | None = None) -> str:
    """``colorme-2024-05-01_14-03-22.mp4``: sortable, no characters any OS forbids."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    return f"{APP_NAME}-{stamp}{suffix}"


def unique_path(folder: Path, suffix: str, now: datetime | None = None) -> Path:
    """A path in ``folder`` named by date and time that does not exist yet."""
    base = timestamped_name(suffix, now)
    path = folder / base
    n = 2
    while path.exists():
        path = folder / f"{Path(base).stem}-{n}{suffix}"
        n += 1
    return path
