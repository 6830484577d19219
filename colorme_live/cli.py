"""Command line: argument parsing and exit codes only; the work lives in ``core`` and ``app``.

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr, no traceback),
130 interrupted."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from colorme_live.core.errors import ColormeError, InputError
from colorme_live.core.ombre import DEFAULT_BLEND, DEFAULT_SOFTNESS, Ombre, parse_ombre
from colorme_live.core.palette import PALETTE, Color, parse_color
from colorme_live.core.settings import Settings

PROG = "colorme-live"
log = logging.getLogger("colorme_live")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _intensity(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"intensity must be an integer 0-100, got {text!r}"
        ) from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"intensity must be 0-100, got {value}")
    return value


def _shine(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"shine must be an integer 0-100, got {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"shine must be 0-100, got {value}")
    return value


def _percent(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be an integer 0-100, got {text!r}"
            ) from None
        if not 0 <= value <= 100:
            raise argparse.ArgumentTypeError(f"{name} must be 0-100, got {value}")
        return value

    return parse


def _ombre(text: str) -> tuple[Color, Color]:
    try:
        ombre = parse_ombre(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return ombre.root, ombre.tip


def _color(text: str) -> Color:
    try:
        return parse_color(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WxH, e.g. 1280x720, got {text!r}") from None
    if w < 16 or h < 16:
        raise argparse.ArgumentTypeError(f"size must be at least 16x16, got {text!r}")
    return w, h


def _camera(text: str) -> int | str:
    """``--camera``: an index 0-99, or (part of) a camera's name (see ``cameras``). Checked
    here, before anything opens: OpenCV crashed the process on a negative index."""
    from colorme_live.core.cameras import check_index

    stripped = text.strip()
    if not stripped:
        raise argparse.ArgumentTypeError("camera must be an index or a name, got ''")
    try:
        number = int(stripped)
    except ValueError:
        return stripped
    try:
        return check_index(number)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"fps must be a number, got {text!r}") from None
    if not (1.0 <= value <= 240.0):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"fps must be 1-240, got {text!r}")
    return value


CYCLE_RANGE_S = (0.1, 3600.0)
"""``--cycle``: from a tenth of a second to an hour between colours."""


def _cycle_seconds(text: str) -> float:
    """A finite number of seconds in ``CYCLE_RANGE_S`` (nan, inf and huge values are usage
    errors, not a traceback in the window's timer)."""
    lo, hi = CYCLE_RANGE_S
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise argparse.ArgumentTypeError(f"the cycle must be {lo:g}-{hi:g} seconds, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _shared_options(top_level: bool) -> tuple[_Parser, _Parser]:
    """The options accepted both before and after a command (``-v``, ``--model``, and the look:
    ``--color``, ``--intensity``). After a command their defaults are SUPPRESS, so an option
    given before the command is not reset by the command's own parser."""

    def default(value: object) -> object:
        return value if top_level else argparse.SUPPRESS

    common = _Parser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="model and source details, and per-frame stage timings",
    )
    common.add_argument(
        "--model",
        metavar="PATH",
        default=default(None),
        help="hair model (.tflite); default $COLORME_MODEL, the cache, or a download",
    )
    common.add_argument(
        "--face-model",
        metavar="PATH",
        default=default(None),
        help="face detector (.tflite) that places the hair regions; default "
        "$COLORME_FACE_MODEL, the cache, or a download (none: whole frames)",
    )
    look = _Parser(add_help=False)
    look.add_argument(
        "--color",
        type=_color,
        default=default(None),
        metavar="NAME|INDEX|#RRGGBB",
        help="palette name, index 1-10 (see 'palette'), or #RRGGBB",
    )
    look.add_argument(
        "--intensity",
        type=_intensity,
        default=default(None),
        metavar="0-100",
        help="how strongly the colour is applied (default 80)",
    )
    look.add_argument(
        "--shine",
        type=_shine,
        default=default(None),
        metavar="0-100",
        help="gloss of the hair's own highlights: 0 matte, 50 natural (default), 100 glossy",
    )
    return common, look


def build_parser() -> argparse.ArgumentParser:
    common, look = _shared_options(top_level=True)
    sub_common, sub_look = _shared_options(top_level=False)
    parser = _Parser(
        prog=PROG,
        parents=[common, look],
        description="Recolour hair live on your webcam, or on video files.",
    )
    app = parser.add_argument_group("live window (when no command is given)")
    src = app.add_mutually_exclusive_group()
    src.add_argument(
        "--camera",
        type=_camera,
        default=None,
        metavar="N|NAME",
        help="camera index or name (see 'cameras'; default: the last one used, else 0)",
    )
    src.add_argument("--video", type=Path, metavar="FILE", help="play a video file as the camera")
    app.add_argument(
        "--size", type=_size, metavar="WxH", help="camera resolution to ask for (default 1280x720)"
    )
    app.add_argument(
        "--fps", type=_fps, metavar="FPS", help="camera frame rate to ask for (default 30)"
    )
    app.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mirror the image (default: on for cameras, off for files)",
    )
    app.add_argument("--record", type=Path, metavar="FILE", help="record from launch to FILE")
    app.add_argument(
        "--virtual-camera",
        action="store_true",
        help="send the recoloured picture to a virtual camera for calls and OBS (also V)",
    )
    app.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="where recordings and snapshots go (default ~/Videos/colorme-live)",
    )
    app.add_argument(
        "--cycle",
        type=_cycle_seconds,
        metavar="SECONDS",
        help="advance the palette every SECONDS, 0.1-3600 (hands-free demos)",
    )
    app.add_argument(
        "--renderer",
        choices=("auto", "gl", "cpu"),
        default="auto",
        help="draw with OpenGL shaders or on the CPU (default auto)",
    )

    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser(
        "mask",
        parents=[sub_common],
        help="write hair alpha masks as 8-bit PNGs",
        description="Write the final hair alpha (0-255 PNG, same size as the "
        "input) for an image, a directory of images, or every frame of a video.",
    )
    p.add_argument("input", type=Path, metavar="INPUT")
    p.add_argument("output", type=Path, metavar="OUTPUT")
    p = sub.add_parser(
        "render",
        parents=[sub_common, sub_look],
        help="recolour a video, an image, or a folder of images",
        description="Recolour every frame of a video into an H.264 MP4 with the "
        "same frames and frame times, turned upright as its rotation metadata says, with its "
        "audio copied; or recolour one image; or every image in a folder into an OUTPUT "
        "folder (same names).",
    )
    p.add_argument("input", type=Path, metavar="INPUT")
    p.add_argument("output", type=Path, metavar="OUTPUT")
    p.add_argument(
        "--ombre",
        type=_ombre,
        metavar="ROOT:TIP",
        help="two-tone / ombré: root and tip colours in the --color syntax, e.g. "
        "'dark brown:#E4DFD3'",
    )
    p.add_argument(
        "--blend",
        type=_percent("blend"),
        default=None,
        metavar="0-100",
        help="with --ombre: where along the hair the colours meet, 0 root .. 100 tip "
        f"(default {DEFAULT_BLEND})",
    )
    p.add_argument(
        "--softness",
        type=_percent("softness"),
        default=None,
        metavar="0-100",
        help="with --ombre: how long the transition is, 0 a sharp line "
        f"(default {DEFAULT_SOFTNESS})",
    )
    p = sub.add_parser(
        "sheet",
        parents=[sub_common, sub_look],
        help="one image: a photo in every palette colour",
        description="Write one labelled grid (PNG or JPEG): the original photo and the photo "
        "recoloured to each of the ten palette colours, each tile named.",
    )
    p.add_argument("input", type=Path, metavar="PHOTO")
    p.add_argument("output", type=Path, metavar="OUT.png")
    sub.add_parser("palette", parents=[sub_common], help="list the palette colours")
    sub.add_parser(
        "cameras",
        parents=[sub_common],
        help="list the cameras: index, name, modes",
        description="List the connected cameras: the index and name '--camera' takes, and "
        "the modes each offers (Linux). Exit code 0 if any camera is found, 1 if none.",
    )
    p = sub.add_parser(
        "install-launcher",
        parents=[sub_common],
        help="add colorme-live to the desktop's application menu",
        description="Write a desktop menu entry with the app's icon (Linux: an XDG .desktop "
        "file and icons under $XDG_DATA_HOME; Windows: a Start-menu shortcut) and print what "
        "was written; --remove takes them away.",
    )
    p.add_argument("--remove", action="store_true", help="remove the entry and icons")
    p = sub.add_parser("bench", parents=[sub_common], help="measure speed and memory")
    p.add_argument("--video", type=Path, metavar="FILE", help="clip for the live measurement")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.add_argument("--quick", action="store_true", help="short runs (a smoke test; rough figures)")
    p = sub.add_parser("eval", parents=[sub_common], help="measure quality on labelled media")
    p.add_argument("--images", type=Path, metavar="DIR", help="images with masks/NAME.png")
    p.add_argument("--videos", type=Path, metavar="DIR", help="clips for flicker and lag")
    p.add_argument(
        "--palette",
        action="store_true",
        help="only the per-colour report (texture, hue error, spill, IoU); JSON on the last line",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.add_argument(
        "--frames", type=_positive_int, default=150, metavar="N", help="frames per clip (150)"
    )
    p.add_argument(
        "--limit", type=_positive_int, metavar="N", help="use only every k-th photo, N in all"
    )
    p.add_argument(
        "--no-faces", action="store_true", help="segment whole frames (the behaviour before faces)"
    )
    p.add_argument(
        "--only",
        choices=("all", "framing", "clips"),
        default="all",
        help="'framing': only the framing report and the shrunk clips; 'clips': only the clips'"
        " flicker and lag",
    )
    return parser


def configure_logging(verbose: int) -> None:
    """Warnings only by default, so that a failure is one clear line; ``-v`` adds INFO (model
    load time, source details) and DEBUG (per-frame stage timings with the frame index)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.DEBUG if verbose else logging.WARNING)


def _settings(args: argparse.Namespace) -> Settings:
    base = Settings()
    pair = getattr(args, "ombre", None)
    blend, softness = getattr(args, "blend", None), getattr(args, "softness", None)
    if pair is None and (blend is not None or softness is not None):
        raise InputError("--blend and --softness need --ombre ROOT:TIP")
    ombre = None
    if pair is not None:
        ombre = Ombre(
            pair[0],
            pair[1],
            DEFAULT_BLEND if blend is None else blend,
            DEFAULT_SOFTNESS if softness is None else softness,
        )
    return Settings(
        ombre=ombre,
        color=args.color if getattr(args, "color", None) is not None else base.color,
        intensity=args.intensity
        if getattr(args, "intensity", None) is not None
        else base.intensity,
        shine=args.shine if getattr(args, "shine", None) is not None else base.shine,
    )


def _run(args: argparse.Namespace) -> int:
    if args.command == "palette":
        for i, c in enumerate(PALETTE, start=1):
            print(f"{i:>2}  {c.name:<14} {c.hex}")
        return 0
    if args.command == "cameras":
        from colorme_live.core.cameras import print_cameras

        return print_cameras()
    if args.command == "install-launcher":
        from colorme_live.app.launcher import main as launcher_main

        return int(launcher_main(remove=args.remove))
    if args.command in ("mask", "render"):
        from colorme_live.core import batch

        if args.command == "mask":
            return batch.write_masks(
                args.input,
                args.output,
                _settings(args),
                model=args.model,
                face_model=args.face_model,
            )
        return batch.render(
            args.input, args.output, _settings(args), model=args.model, face_model=args.face_model
        )
    if args.command == "sheet":
        from colorme_live.core import sheet

        return sheet.main(
            args.input, args.output, _settings(args), model=args.model, face_model=args.face_model
        )
    if args.command == "bench":
        from colorme_live.core import bench

        return bench.main(video=args.video, as_json=args.json, model=args.model, quick=args.quick)
    if args.command == "eval":
        from colorme_live.core import evaluate

        if args.palette:
            return evaluate.main_palette(images=args.images, model=args.model, settings=Settings())
        return evaluate.main(
            images=args.images,
            videos=args.videos,
            as_json=args.json,
            model=args.model,
            face_model=args.face_model,
            faces=not args.no_faces,
            limit=args.limit,
            frames=args.frames,
            only=args.only,
        )
    from colorme_live.app.main import run_app

    return int(run_app(args))


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _log_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """An error in a finaliser while a command unwinds goes to the debug log, not stderr: when
    Ctrl+C lands inside MediaPipe's ``Image()`` constructor, its ``__del__`` then fails on the
    half-built object ("'Image' object has no attribute '_image_ptr'"), after our one line."""
    log.debug("ignored in %r: %r", unraisable.object, unraisable.exc_value)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    previous_hook, sys.unraisablehook = sys.unraisablehook, _log_unraisable
    previous = None
    if args.command is not None and threading.current_thread() is threading.main_thread():
        # SIGTERM unwinds like Ctrl+C, so half-written outputs are removed, never left corrupt.
        previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        return _run(args)
    except ColormeError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.unraisablehook = previous_hook
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def exit_now(code: int) -> NoReturn:
    """End the process at once with ``code``, after flushing logs and standard streams.

    Used after the window has closed: by then every worker has stopped, the recording is
    finished and the settings are saved, and what is left (the interpreter unloading Qt,
    MediaPipe, Numba and OpenCV) takes up to 2 s for nothing the user needs."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or broken pipe
            stream.flush()
    os._exit(code)


def entry() -> NoReturn:
    """The ``colorme-live`` console script and ``python -m colorme_live``."""
    argv = sys.argv[1:]
    code = main(argv)
    if build_parser().parse_known_args(argv)[0].command is None:  # the window ran
        exit_now(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
