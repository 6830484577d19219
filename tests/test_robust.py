"""Issue 10, "nothing lost, nothing corrupt": each way the app broke, tried again through the
real process (``python -m colorme_live``) wherever an exit code, a file on disk or a signal is
involved. Test media are the shared clips and photos, or copies of them made in ``tmp_path``
(``tests/robust_media.py``). Case 1 (``--camera -1``) is tested with the camera code; the
window cases (leak, two windows, rotation in the window, settings) are in
``test_robust_window.py``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from colorme_live.core.outputs import claim_new_file, is_temp_file, timestamped
from colorme_live.core.video_writer import H264Writer, RecordingError
from tests.conftest import REPO, clip
from tests.robust_media import audio_packets, frame_times, remux, vfr_copy

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and rlimits")

AUDIO_CLIP = "lp_d12_man_wavy_brown_hair_motion"  # 512x512, 25 fps, AAC audio
TALL_CLIP = "lp_d13_selfie_man_glasses_static"  # stored 720x1280
PORTRAITS = (
    "lp_d9_woman_long_blonde_brown_hair.jpg",
    "pakutaso_woman_long_dark_hair_white_top.jpg",
)
TIMEOUT_S = 240


def _cli(
    *args: object,
    preexec_fn: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "colorme_live", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=REPO,
        preexec_fn=preexec_fn,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )


def _refused(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2 with exactly one line on stderr (no traceback) that names ``words``."""
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("colorme-live: error:"), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _decoded_and_claimed(path: Path) -> tuple[int, int]:
    cap = cv2.VideoCapture(str(path))
    claimed = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    decoded = 0
    while cap.read()[0]:
        decoded += 1
    cap.release()
    return decoded, claimed


@pytest.fixture
def short_clip(media_dir: Path, tmp_path: Path) -> Path:
    """The first 0.6 s of a real clip, with its sound (15 frames)."""
    return remux(clip(media_dir, AUDIO_CLIP), tmp_path / "short.mp4", seconds=0.6)


@pytest.fixture
def portrait(media_dir: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "in" / "portrait.jpg"
    dest.parent.mkdir()
    shutil.copy(media_dir / "portraits" / PORTRAITS[0], dest)
    return dest


@contextlib.contextmanager
def _read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder no file can be created in, even by root: a read-only tmpfs where it can be
    mounted, else /sys for root (sysfs refuses new files), else a folder without write bits."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield Path("/sys")
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For ``preexec_fn``: files stop growing at ``limit`` bytes, as on a full disk (writes
    fail with EFBIG instead of killing the process with SIGXFSZ)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


# -- case 2: the input is destroyed ---------------------------------------------------------------


def test_case2_record_onto_the_input_video_is_refused_and_the_input_kept(
    short_clip: Path, tmp_path: Path
) -> None:
    before = _digest(short_clip)
    link = tmp_path / "link.mp4"
    os.link(short_clip, link)  # the same file under another name
    for target in (short_clip, tmp_path / "." / short_clip.name, link):
        proc = _cli("--video", short_clip, "--record", target, "--output-dir", tmp_path / "o")
        _refused(proc, "is the input")
    assert _digest(short_clip) == before


@pytest.mark.parametrize("kind", ["video", "image"])
def test_case2_render_onto_its_input_is_refused_and_the_input_kept(
    kind: str, short_clip: Path, portrait: Path, tmp_path: Path
) -> None:
    if kind == "video":
        source = short_clip
    else:
        source = portrait.with_suffix(".png")
        cv2.imwrite(str(source), cv2.imread(str(portrait)))
    before = _digest(source)
    link = source.parent / f"same{source.suffix}"
    link.symlink_to(source)
    for output in (source, link):
        _refused(_cli("render", source, output), "is the input")
        if kind == "image":
            _refused(_cli("mask", source, output), "is the input")
    assert _digest(source) == before
    assert not any(is_temp_file(n) for n in _names(source.parent))


# -- case 3: two renders to one output ------------------------------------------------------------


def test_case3_two_renders_to_one_output_both_finish_and_the_file_is_whole(
    short_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "same.mp4"
    out.parent.mkdir()
    cmd = [sys.executable, "-m", "colorme_live", "render", str(short_clip), str(out)]
    procs = [
        subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    assert _names(out.parent) == ["same.mp4"]  # no temporary file left behind
    decoded, claimed = _decoded_and_claimed(out)
    assert decoded == claimed == 15


# -- case 6: a read-only folder -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["video", "image"])
def test_case6_render_into_a_read_only_folder_is_one_line(
    kind: str, short_clip: Path, portrait: Path, tmp_path: Path
) -> None:
    source, name = (short_clip, "x.mp4") if kind == "video" else (portrait, "x.png")
    with _read_only_folder(tmp_path) as folder:
        line = _refused(_cli("render", source, folder / name))
        assert "Read-only file system" in line or "Permission denied" in line, line


# -- case 7: bad --cycle --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "3000000", "0", "-1", "1e400", "x"])
def test_case7_bad_cycle_is_a_usage_error(value: str, short_clip: Path) -> None:
    proc = _cli("--video", short_clip, f"--cycle={value}")
    _refused(proc, "--cycle")


# -- case 8: image renders are atomic -------------------------------------------------------------


def test_case8_image_render_on_a_full_disk_keeps_the_old_file(
    portrait: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "dyed.png"
    out.parent.mkdir()
    out.write_bytes(b"yesterday's render")
    proc = _cli("render", portrait, out, preexec_fn=_file_size_limit(64_000))
    line = _refused(proc, str(out))
    assert "File too large" in line, line
    assert out.read_bytes() == b"yesterday's render"
    assert _names(out.parent) == ["dyed.png"]


# -- case 9: rotation -----------------------------------------------------------------------------


def test_case9_render_turns_a_rotated_video_upright(media_dir: Path, tmp_path: Path) -> None:
    rotated = remux(clip(media_dir, TALL_CLIP), tmp_path / "phone.mp4", seconds=0.4, rotation=90)
    out = tmp_path / "upright.mp4"
    proc = _cli("render", rotated, out, "--intensity", "0")
    assert proc.returncode == 0, proc.stderr
    upright = cv2.VideoCapture(str(rotated))  # OpenCV applies the display matrix
    ok, expected = upright.read()
    upright.release()
    assert ok and expected.shape == (720, 1280, 3)
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert frame.rotation == 0  # the pixels are turned; no flag left to turn them again
        got = frame.to_ndarray(format="bgr24")
    assert got.shape == expected.shape
    error = np.abs(got.astype(np.int16) - expected).mean()
    flipped = np.abs(got.astype(np.int16) - cv2.rotate(expected, cv2.ROTATE_180)).mean()
    assert error < 4.0 < flipped, (error, flipped)


# -- cases 10, 11 and issue 11: folders -----------------------------------------------------------


def _photo_folder(media_dir: Path, tmp_path: Path) -> Path:
    """Two real portraits whose names clash (``photo.jpg``, ``photo.png``), one more, and three
    unreadable files sorted first: empty, truncated, text named .jpg."""
    folder = tmp_path / "photos"
    folder.mkdir()
    a = cv2.imread(str(media_dir / "portraits" / PORTRAITS[0]))
    b = cv2.imread(str(media_dir / "portraits" / PORTRAITS[1]))
    assert a.shape != b.shape
    cv2.imwrite(str(folder / "photo.jpg"), a)
    cv2.imwrite(str(folder / "photo.png"), b)
    cv2.imwrite(str(folder / "zz.jpg"), a[::2, ::2])
    (folder / "a_empty.jpg").write_bytes(b"")
    whole = (folder / "photo.jpg").read_bytes()
    (folder / "b_truncated.jpg").write_bytes(whole[: len(whole) // 3])
    (folder / "c_text.jpg").write_text("not a photo\n")
    return folder


def test_case10_11_mask_folder_names_do_not_clash_and_bad_files_are_skipped(
    media_dir: Path, tmp_path: Path
) -> None:
    folder = _photo_folder(media_dir, tmp_path)
    out = tmp_path / "masks"
    proc = _cli("mask", folder, out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _names(out) == ["photo.jpg.png", "photo.png.png", "zz.png"]
    for name, source in (("photo.jpg.png", "photo.jpg"), ("photo.png.png", "photo.png")):
        mask = cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED)
        photo = cv2.imread(str(folder / source))
        assert mask.shape == photo.shape[:2] and mask.max() == 255  # its own photo's mask
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 3, proc.stderr  # one per unreadable file
    for bad in ("a_empty.jpg", "b_truncated.jpg", "c_text.jpg"):
        assert sum(bad in line for line in warnings) == 1, proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"wrote 3 masks to {out}, skipped 3: "), summary


def test_issue11_render_a_folder_writes_one_image_per_photo(
    media_dir: Path, tmp_path: Path
) -> None:
    folder = _photo_folder(media_dir, tmp_path)
    out = tmp_path / "dyed"
    proc = _cli("render", folder, out, "--color", "electric blue", "--intensity", "100")
    assert proc.returncode == 0, proc.stderr
    assert _names(out) == ["photo.jpg", "photo.png", "zz.jpg"]
    for name in _names(out):
        before = cv2.imread(str(folder / name)).astype(np.int16)
        after = cv2.imread(str(out / name)).astype(np.int16)
        assert after.shape == before.shape
        changed = (np.abs(after - before).max(axis=2) > 40).mean()
        assert 0.01 < changed < 0.6, (name, changed)  # the hair, not the whole photo
    assert (
        proc.stdout.strip().splitlines()[-1].startswith(f"rendered 3 images to {out}, skipped 3: ")
    )


def test_case11_a_folder_of_only_unreadable_files_is_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"")
    (folder / "b.png").write_text("text")
    proc = _cli("mask", folder, tmp_path / "masks")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("colorme-live: error: no mask")
    assert "Traceback" not in proc.stderr


def test_render_folder_into_itself_is_refused(portrait: Path) -> None:
    _refused(_cli("render", portrait.parent, portrait.parent), "input folder")


# -- case 12 and 13: audio and frame times --------------------------------------------------------


def test_case12_render_keeps_the_audio_stream_bit_for_bit(short_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "dyed.mp4"
    proc = _cli("render", short_clip, out)
    assert proc.returncode == 0, proc.stderr
    assert "with its sound" in proc.stdout
    source = audio_packets(short_clip)
    assert len(source) > 10
    assert audio_packets(out) == source
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def test_case13_variable_frame_rate_keeps_every_frame_time(media_dir: Path, tmp_path: Path) -> None:
    vfr = tmp_path / "vfr.mp4"
    written = vfr_copy(clip(media_dir, AUDIO_CLIP), vfr)
    assert frame_times(vfr) == pytest.approx(written, abs=1e-6)
    out = tmp_path / "dyed.mp4"
    proc = _cli("render", vfr, out)
    assert proc.returncode == 0, proc.stderr
    got = frame_times(out)
    assert len(got) == len(written)
    assert max(abs(a - b) for a, b in zip(got, written, strict=True)) <= 0.001


# -- case 15: the small ones ----------------------------------------------------------------------


def test_case15_mask_to_a_jpg_name_makes_no_folder(portrait: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    _refused(_cli("mask", portrait, out), ".png")
    assert not out.exists()


def test_case15_render_to_mkv_is_refused_before_the_model_with_the_writers_suffixes(
    short_clip: Path, tmp_path: Path
) -> None:
    # a missing model would be the error if the model were loaded before the name is checked
    line = _refused(
        _cli("render", short_clip, tmp_path / "out.mkv", "--model", tmp_path / "none.tflite")
    )
    assert "out.mkv" in line and ".m4v/.mov/.mp4" in line
    with pytest.raises(RecordingError, match=r"\.m4v/\.mov/\.mp4"):
        H264Writer(tmp_path / "x.mkv", 25, (16, 16))


@pytest.mark.parametrize("kind", ["video", "image"])
def test_case15_render_into_a_missing_folder_fails_the_same_way(
    kind: str, short_clip: Path, portrait: Path, tmp_path: Path
) -> None:
    source, name = (short_clip, "x.mp4") if kind == "video" else (portrait, "x.png")
    _refused(_cli("render", source, tmp_path / "missing" / name), "does not exist")
    assert not (tmp_path / "missing").exists()


def test_case15_record_into_a_missing_or_read_only_folder_is_refused_before_the_window(
    short_clip: Path, tmp_path: Path
) -> None:
    t0 = time.monotonic()
    _refused(_cli("--video", short_clip, "--record", tmp_path / "nope" / "r.mp4"), "does not exist")
    with _read_only_folder(tmp_path) as folder:
        line = _refused(_cli("--video", short_clip, "--record", folder / "r.mp4"))
        assert "Read-only file system" in line or "Permission denied" in line, line
        _refused(_cli("--video", short_clip, "--output-dir", folder / "sub"))
    assert time.monotonic() - t0 < 60  # no window was opened and waited for


def test_case15_a_killed_render_leaves_nothing_after_the_next_run(
    media_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "dyed.mp4"
    out.parent.mkdir()
    video = clip(media_dir, AUDIO_CLIP)
    proc = subprocess.Popen(
        [sys.executable, "-m", "colorme_live", "render", str(video), str(out)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + TIMEOUT_S
    while not any(out.parent.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # frames are being encoded into the temporary file
    proc.kill()
    proc.wait(timeout=30)
    left = _names(out.parent)
    assert len(left) == 1 and is_temp_file(left[0]), left  # what kill -9 leaves
    short = remux(video, tmp_path / "short.mp4", seconds=0.3)
    other = out.parent / "other.mp4"  # any later write into the folder cleans up
    again = _cli("render", short, other)
    assert again.returncode == 0, again.stderr
    assert _names(out.parent) == ["other.mp4"]


# -- case 4 (names): claimed exclusively ----------------------------------------------------------


def test_case4_names_are_claimed_exclusively_by_simultaneous_presses(tmp_path: Path) -> None:
    """Many processes claim a recording name in the same second: every one gets its own."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from datetime import datetime\n"
        "from colorme_live.core.outputs import claim_new_file, timestamped\n"
        "when = datetime(2026, 1, 1, 12, 0, 0)\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "print(claim_new_file(Path(sys.argv[1]), timestamped('colorme-live', '.mp4', when)))\n"
    )
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path), str(start)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    names = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert len(set(names)) == 6, names
    assert len(_names(tmp_path)) == 6
    nxt = claim_new_file(tmp_path, timestamped("colorme-live", ".mp4"))
    assert nxt.exists() and nxt.stat().st_size == 0
