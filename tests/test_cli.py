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
    argv = _bad_inputs(tmp_path, media_dir)[case]
    before = _folder_contents(tmp_path)
    code = _exit_code(argv)
    _, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("colorme-live") and "error" in lines[0]
    assert "Traceback" not in err
    assert _folder_contents(tmp_path) == before  # nothing written: no output, no temp file


def _folder_contents(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` (hidden ones too), as relative paths."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _cut_after_a_few_frames(video: Path, dest: Path) -> Path:
    """``video`` (written with its index first) cut in half: it opens and decodes several
    frames, then runs out of data part-way through."""
    data = video.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "the index is not at the front"
    dest.write_bytes(data[: len(data) // 2])
    return dest


class _StepSpy:
    """Wraps ``Pipeline.step``: notes whether ``folder`` already held a file (the render had
    begun writing) and, with ``interrupt_at``, raises KeyboardInterrupt (Ctrl+C) on that
    call."""

    def __init__(self, folder: Path, interrupt_at: int | None = None) -> None:
        from colorme_live.core.pipeline import Pipeline

        self.folder, self.interrupt_at = folder, interrupt_at
        self.calls, self.saw_output = 0, False
        self._step = Pipeline.step

    def __call__(self, pipeline: object, *args: object, **kwargs: object) -> object:
        self.calls += 1
        self.saw_output = self.saw_output or bool(_folder_contents(self.folder))
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return self._step(pipeline, *args, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("how", ["interrupted", "input cut part-way", "file size limit"])
def test_a_render_that_fails_part_way_leaves_the_output_folder_as_it_was(
    how: str,
    media_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each case gets as far as encoding frames into the output folder, then fails: the
    folder must hold nothing new afterwards (neither the output nor a temporary file of any
    name), and the user sees one line, not a traceback."""
    import resource

    from colorme_live.core.pipeline import Pipeline

    video = _short_video(media_dir, tmp_path, frames=24)
    folder = tmp_path / "out"
    folder.mkdir()
    dest = folder / "out.mp4"
    expected_code = 2
    spy = _StepSpy(folder)
    if how == "interrupted":
        spy.interrupt_at = 8
        expected_code = 130
    elif how == "input cut part-way":
        video = _cut_after_a_few_frames(video, tmp_path / "cut.mp4")
    else:
        # warm up first (Numba writes its cache files on the first compile in a process)
        assert main(["render", str(video), str(tmp_path / "warm.mp4")]) == 0
        (tmp_path / "warm.mp4").unlink()
        capsys.readouterr()
        old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails: EFBIG
        old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, old_limit[1]))
    monkeypatch.setattr(Pipeline, "step", lambda self, *a, **k: spy(self, *a, **k))
    try:
        code = main(["render", str(video), str(dest)])
    finally:
        if how == "file size limit":
            resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
            signal.signal(signal.SIGXFSZ, old_handler)
    _, err = capsys.readouterr()
    assert code == expected_code, err
    # it failed after writing had begun: part-way, or (the file size limit: FFmpeg's write
    # buffer reports the error late) when finishing the file
    assert spy.saw_output and spy.calls > 2, "it failed before writing anything"
    assert spy.calls < 24 or how == "file size limit"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert _folder_contents(folder) == set(), "left behind in the output folder"


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


def test_a_finaliser_failing_while_a_command_unwinds_adds_no_stderr_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl+C inside MediaPipe's ``Image()`` constructor leaves a half-built object whose
    ``__del__`` fails once the interrupt has unwound; the user still sees one line, and the
    previous unraisable hook is back afterwards."""
    from colorme_live.core import batch

    class HalfBuilt:
        def __del__(self) -> None:
            raise AttributeError("'Image' object has no attribute '_image_ptr'")

    def interrupted_mid_construction(*args: object, **kwargs: object) -> int:
        half = HalfBuilt()  # referenced by this frame until the interrupt is handled
        assert half is not None
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "render", interrupted_mid_construction)
    # Python's own hook, which prints "Exception ignored in ..." to stderr (pytest's would
    # turn it into a warning instead)
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    hook = sys.unraisablehook
    assert main(["render", "in.mp4", "out.mp4"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["colorme-live: interrupted"]
    assert sys.unraisablehook is hook
