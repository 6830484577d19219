"""The command-line contract: mask, render, palette, and every bad-input case (exit 2, one
clear line on stderr, no traceback)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.cli import main
from colorme_live.core.palette import PALETTE
from colorme_live.core.video_writer import probe_video
from tests.conftest import clip
from tests.models import relabelled_model

SHORT_CLIP = "lp_d12_man_wavy_brown_hair_motion"  # 512x512, 25 fps, 183 frames


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _short_video(media_dir: Path, tmp_path: Path, frames: int = 12) -> Path:
    """The first frames of a real clip (a short real input keeps the CLI tests quick)."""
    from colorme_live.core.sources import VideoFileSource
    from colorme_live.core.video_writer import H264Writer

    dest = tmp_path / "short.mp4"
    with (
        VideoFileSource(clip(media_dir, SHORT_CLIP)) as src,
        H264Writer(dest, src.fps, src.size) as out,
    ):
        while out.frames_written < frames and (f := src.read()) is not None:
            out.write(f.image)
    return dest


def test_palette_lists_ten_colours_in_key_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["palette"], capsys)
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 10
    for i, (line, color) in enumerate(zip(lines, PALETTE, strict=True), start=1):
        assert line.split()[0] == str(i)
        assert color.name in line and line.rstrip().endswith(color.hex)


def test_mask_of_one_image_to_a_png_path(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = media_dir / "images" / "figaro_curly_Frame00338.jpg"
    dest = tmp_path / "out.png"
    code, _, err = _run(["mask", str(src), str(dest)], capsys)
    assert code == 0, err
    mask = cv2.imread(str(dest), cv2.IMREAD_UNCHANGED)
    image = cv2.imread(str(src))
    assert mask.dtype == np.uint8 and mask.ndim == 2 and mask.shape == image.shape[:2]
    truth = cv2.imread(str(media_dir / "images" / "masks" / "figaro_curly_Frame00338.png"), 0)
    inter = np.count_nonzero((mask > 127) & (truth > 127))
    assert inter / np.count_nonzero((mask > 127) | (truth > 127)) > 0.6


def test_mask_of_a_directory_writes_one_png_per_image(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    names = ["lfw_Joe_Dumars_0001", "lfw_Pat_Cox_0002", "figaro_short_Frame00905"]
    for name in names:
        src = media_dir / "images" / f"{name}.jpg"
        if not src.exists():
            pytest.skip(f"{src} missing")
        (folder / f"{name}.jpg").symlink_to(src)
    code, _, err = _run(["mask", str(folder), str(tmp_path / "out")], capsys)
    assert code == 0, err
    assert sorted(p.stem for p in (tmp_path / "out").iterdir()) == sorted(names)


def test_mask_of_a_video_writes_one_png_per_frame(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = _short_video(media_dir, tmp_path, frames=10)
    code, _, err = _run(["mask", str(video), str(tmp_path / "masks")], capsys)
    assert code == 0, err
    files = sorted((tmp_path / "masks").iterdir())
    assert [p.name for p in files] == [f"frame_{i:06d}.png" for i in range(1, 11)]
    assert cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED).shape == (512, 512)


def test_render_keeps_frames_size_and_rate_and_recolours(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = _short_video(media_dir, tmp_path, frames=15)
    dest = tmp_path / "out.mp4"
    code, out, err = _run(
        ["render", str(video), str(dest), "--color", "electric blue", "--intensity", "100"], capsys
    )
    assert code == 0, err
    assert "15 frames" in out
    before, after = probe_video(video), probe_video(dest)
    assert (after.frames, after.width, after.height) == (15, 512, 512)
    assert after.fps == pytest.approx(before.fps) and after.codec == "h264"
    cap_a, cap_b = cv2.VideoCapture(str(video)), cv2.VideoCapture(str(dest))
    _, a = cap_a.read()
    _, b = cap_b.read()
    changed = np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 40
    assert 0.02 < changed.mean() < 0.6  # the hair changed, most of the frame did not


def test_render_one_image(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = media_dir / "portraits" / "lp_d9_woman_long_blonde_brown_hair.jpg"
    dest = tmp_path / "blue.png"
    code, _, err = _run(["render", str(src), str(dest), "--color", "9"], capsys)
    assert code == 0, err
    assert cv2.imread(str(dest)).shape == cv2.imread(str(src)).shape


def _bad_inputs(tmp_path: Path, media_dir: Path) -> dict[str, list[str]]:
    text_mp4 = tmp_path / "notes.mp4"
    text_mp4.write_text("this is not a video\n")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    real = clip(media_dir, SHORT_CLIP).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(real[: len(real) // 2])
    not_image = tmp_path / "photo.png"
    not_image.write_text("nope")
    bad_model = tmp_path / "bad.tflite"
    bad_model.write_bytes(b"garbage" * 10)
    face_model = relabelled_model(
        media_dir.parent / "models" / "hair_segmenter_derived.tflite", tmp_path / "face.tflite"
    )
    video = str(clip(media_dir, SHORT_CLIP))
    out = str(tmp_path / "out.mp4")
    return {
        "missing file": ["render", str(tmp_path / "nope.mp4"), out],
        "zero-length video": ["render", str(empty), out],
        "text file named .mp4": ["render", str(text_mp4), out],
        "truncated video": ["render", str(truncated), out],
        "image that is not an image": ["mask", str(not_image), str(tmp_path / "m.png")],
        "unknown colour": ["render", video, out, "--color", "mauve-ish"],
        "colour index 11": ["render", video, out, "--color", "11"],
        "intensity 101": ["render", video, out, "--intensity", "101"],
        "intensity -1": ["render", video, out, "--intensity=-1"],
        "intensity not a number": ["render", video, out, "--intensity", "lots"],
        "bad model": ["render", video, out, "--model", str(bad_model)],
        "missing model": ["render", video, out, "--model", str(tmp_path / "none.tflite")],
        "not a hair model": ["render", video, out, "--model", str(face_model)],
        "unknown command": ["paint", video],
        "missing argument": ["mask", video],
    }


CASES = [
    "missing file",
    "zero-length video",
    "text file named .mp4",
    "truncated video",
    "image that is not an image",
    "unknown colour",
    "colour index 11",
    "intensity 101",
    "intensity -1",
    "intensity not a number",
    "bad model",
    "missing model",
    "not a hair model",
    "unknown command",
    "missing argument",
]


def _exit_code(argv: list[str]) -> int:
    """``main``'s return value, or argparse's exit status for usage errors."""
    try:
        return main(argv)
    except SystemExit as e:
        return int(e.code or 0)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_clear_line_and_exit_2(
    case: str, media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _exit_code(_bad_inputs(tmp_path, media_dir)[case])
    _, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("colorme-live") and "error" in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "out.mp4").exists()  # no corrupt output left behind


@pytest.mark.parametrize("case", ["missing file", "truncated video", "bad model", "intensity 101"])
def test_bad_input_as_a_user_sees_it(case: str, tmp_path: Path, media_dir: Path) -> None:
    """The real process (``python -m colorme_live``): exit 2 and exactly one stderr line."""
    argv = _bad_inputs(tmp_path, media_dir)[case]
    proc = subprocess.run(
        [sys.executable, "-m", "colorme_live", *argv], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], proc.stderr


@pytest.mark.parametrize("how", ["module", "console script"])
def test_the_entry_points_run(how: str) -> None:
    script = Path(sys.executable).parent / "colorme-live"
    cmd = [sys.executable, "-m", "colorme_live"] if how == "module" else [str(script)]
    proc = subprocess.run([*cmd, "palette"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 10


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_render_leaves_no_partial_output(
    sig: signal.Signals, media_dir: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out.mp4"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "colorme_live",
            "render",
            str(clip(media_dir, "lp_d13_selfie_man_glasses_static")),
            str(dest),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not any(tmp_path.iterdir()) and time.monotonic() < deadline:  # encoding has begun
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "colorme-live: interrupted"
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither the output nor a partial file


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "--color", "3", "--intensity", "40", "render", "in.mp4", "out.mp4"],
        ["render", "in.mp4", "out.mp4", "-v", "--color", "3", "--intensity", "40"],
    ],
)
def test_shared_options_work_before_and_after_the_command(argv: list[str]) -> None:
    from colorme_live.cli import build_parser

    args = build_parser().parse_args(argv)
    assert args.verbose == 1 and args.color == PALETTE[2] and args.intensity == 40


def test_a_command_restores_the_sigterm_handler(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert main(["palette"]) == 0
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before
