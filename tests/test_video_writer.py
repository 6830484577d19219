"""H.264 writer: round trips on real frames, odd sizes, failure clean-up, killed recordings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from colorme_live.core.errors import InputError
from colorme_live.core.outputs import is_temp_file
from colorme_live.core.sources import VideoFileSource
from colorme_live.core.video_writer import H264Writer, RecordingError, probe_video

CLIP = "lp_d12_man_wavy_brown_hair_motion.mp4"
MAX_MEAN_ABS_ERROR = 6.0
"""Mean absolute BGR error (0..255) allowed after an H.264 round trip at crf 20."""
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals and rlimits")

Image = npt.NDArray[np.uint8]


@pytest.fixture(scope="session")
def real_frames(media_dir: Path) -> list[Image]:
    path = media_dir / "videos" / CLIP
    if not path.is_file():
        pytest.skip(f"clip {path} is missing")
    with VideoFileSource(path) as source:
        frames = [source.read() for _ in range(24)]
    return [f.image for f in frames if f is not None]


def _read_cv2(path: Path) -> list[Image]:
    cap = cv2.VideoCapture(str(path))
    images = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        images.append(np.asarray(image, dtype=np.uint8))
    cap.release()
    return images


def _read_av(path: Path) -> list[Image]:
    with VideoFileSource(path) as source:
        return [f.image for f in iter(source.read, None)]


def _pix_fmt(path: Path) -> str | None:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.pix_fmt


def _mean_abs_error(a: list[Image], b: list[Image]) -> float:
    return float(
        np.mean([np.abs(x.astype(np.int16) - y).mean() for x, y in zip(a, b, strict=True)])
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), 30000 / 1001, 25.0])
def test_round_trip_real_frames(real_frames: list[Image], tmp_path: Path, fps: float) -> None:
    path = tmp_path / "out.mp4"
    with H264Writer(path, fps, (512, 512)) as writer:
        assert writer.fps == Fraction(fps).limit_denominator(1001)
        for image in real_frames:
            writer.write(image)
        assert writer.frames_written == len(real_frames)
        assert not path.exists()  # only the partial file exists until close
    assert _leftovers(tmp_path) == ["out.mp4"]

    info = probe_video(path)
    assert info.frames == len(real_frames)
    assert info.fps == pytest.approx(float(fps), abs=1e-9)
    assert (info.width, info.height, info.codec) == (512, 512, "h264")
    assert _pix_fmt(path) == "yuv420p"

    with VideoFileSource(path) as source:
        frames = list(iter(source.read, None))
    np.testing.assert_allclose([f.pts for f in frames], np.arange(len(frames)) / float(fps))
    by_av = [f.image for f in frames]
    by_cv2 = _read_cv2(path)
    assert len(by_av) == len(by_cv2) == len(real_frames)
    assert _mean_abs_error(real_frames, by_av) < MAX_MEAN_ABS_ERROR
    assert _mean_abs_error(real_frames, by_cv2) < MAX_MEAN_ABS_ERROR
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart


@pytest.mark.parametrize(
    ("size", "pix_fmt"),
    [((7, 13), "yuv444p"), ((1, 1), "yuv444p"), ((13, 6), "yuv444p"), ((2, 2), "yuv420p")],
)
def test_odd_and_tiny_sizes(tmp_path: Path, size: tuple[int, int], pix_fmt: str) -> None:
    width, height = size
    # One colour per frame with a mild luma ramp: 4:2:0 chroma subsampling of a 2x2 image
    # would legitimately blur random per-pixel colours.
    ramp = np.add.outer(np.arange(height), np.arange(width))[..., None].astype(np.int16)
    colours = [np.array([40 + 30 * i, 180 - 20 * i, 90 + 10 * i], np.int16) for i in range(5)]
    written = [np.clip(c + 3 * ramp, 0, 255).astype(np.uint8) for c in colours]
    path = tmp_path / "odd.mp4"
    with H264Writer(path, 30, size) as writer:
        for image in written:
            writer.write(image)
    assert _pix_fmt(path) == pix_fmt
    info = probe_video(path)
    assert (info.frames, info.width, info.height, info.codec) == (5, width, height, "h264")
    for decoded in (_read_av(path), _read_cv2(path)):
        assert len(decoded) == 5
        assert decoded[0].shape == (height, width, 3)
        assert _mean_abs_error(written, decoded) < MAX_MEAN_ABS_ERROR


def test_fragmented_closed_normally_has_every_frame(
    real_frames: list[Image], tmp_path: Path
) -> None:
    path = tmp_path / "live.mp4"
    with H264Writer(path, 25, (512, 512), fragmented=True) as writer:
        for image in real_frames:
            writer.write(image)
        assert path.exists()  # written in place
    info = probe_video(path)
    assert (info.frames, info.fps, info.codec) == (len(real_frames), 25.0, "h264")
    assert _mean_abs_error(real_frames, _read_cv2(path)) < MAX_MEAN_ABS_ERROR


def test_error_inside_with_block_leaves_no_file(real_frames: list[Image], tmp_path: Path) -> None:
    path = tmp_path / "render.mp4"
    path.write_bytes(b"previous render")
    with pytest.raises(KeyError), H264Writer(path, 25, (512, 512)) as writer:
        writer.write(real_frames[0])
        writer.write(real_frames[1])
        temps = [n for n in _leftovers(tmp_path) if is_temp_file(n)]
        assert len(temps) == 1 and temps[0].startswith(".render.mp4.")  # its own temporary file
        raise KeyError("boom")
    assert _leftovers(tmp_path) == ["render.mp4"]
    assert path.read_bytes() == b"previous render"  # the old file was not touched


def test_error_inside_with_block_keeps_fragmented_recording(
    real_frames: list[Image], tmp_path: Path
) -> None:
    path = tmp_path / "live.mp4"
    with pytest.raises(KeyError), H264Writer(path, 25, (512, 512), fragmented=True) as writer:
        for image in real_frames[:10]:
            writer.write(image)
        raise KeyError("boom")
    assert probe_video(path).frames == 10


def test_no_frames_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    for fragmented in (False, True):
        writer = H264Writer(tmp_path / "x.mp4", 30, (16, 16), fragmented=fragmented)
        with pytest.raises(RecordingError, match="no frames"):
            writer.close()
        assert _leftovers(tmp_path) == []


def test_missing_folder_and_file_as_folder(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="does not exist") as info:
        H264Writer(tmp_path / "nope" / "out.mp4", 30, (16, 16))
    assert str(tmp_path / "nope" / "out.mp4") in str(info.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RecordingError, match="is not a folder"):
        H264Writer(tmp_path / "file" / "out.mp4", 30, (16, 16))


@POSIX_ONLY
@pytest.mark.parametrize("fragmented", [False, True])
def test_unwritable_folder(tmp_path: Path, fragmented: bool) -> None:
    if os.geteuid() == 0:  # root ignores permission bits; sysfs refuses new files even to root
        folder = Path("/sys")
        if not folder.is_dir():
            pytest.skip("running as root without /sys: cannot make an unwritable folder")
    else:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
    path = folder / "out.mp4"
    with pytest.raises(RecordingError, match="Permission denied") as info:
        H264Writer(path, 30, (16, 16), fragmented=fragmented)
    assert str(info.value).startswith(f"cannot record to {path}:")


def test_bad_arguments(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    with pytest.raises(ValueError, match="fps"):
        H264Writer(path, 0, (16, 16))
    with pytest.raises(ValueError, match="size"):
        H264Writer(path, 30, (0, 16))
    with pytest.raises(ValueError, match="crf"):
        H264Writer(path, 30, (16, 16), crf=60)
    with pytest.raises(ValueError, match="preset"):
        H264Writer(path, 30, (16, 16), preset="warp")
    with pytest.raises(RecordingError, match="must end in"):
        H264Writer(tmp_path / "x.avi", 30, (16, 16))
    assert _leftovers(tmp_path) == []
    with H264Writer(path, 30, (16, 16)) as writer:
        with pytest.raises(ValueError, match=r"\(16, 16, 3\)"):
            writer.write(np.zeros((16, 17, 3), np.uint8))
        with pytest.raises(TypeError, match="uint8"):
            writer.write(np.zeros((16, 16, 3), np.float32))
        writer.write(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="closed"):
        writer.write(np.zeros((16, 16, 3), np.uint8))


def test_probe_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        probe_video(tmp_path / "nope.mp4")
    (tmp_path / "t.mp4").write_text("text")
    with pytest.raises(InputError, match="not a readable video"):
        probe_video(tmp_path / "t.mp4")


_FULL_DISK_CHILD = """
import resource, signal, sys
import numpy as np
from colorme_live.core.video_writer import H264Writer, RecordingError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit, write() fails with EFBIG
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
rng = np.random.default_rng(0)
writer = None
try:
    with H264Writer(sys.argv[1], 25, (128, 96), fragmented=sys.argv[2] == "1") as writer:
        for _ in range(300):
            writer.write(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
except RecordingError as e:
    print(e)
    print(writer.frames_written if writer is not None else -1)
    sys.exit(3)
"""
FULL_DISK_LIMIT = 300_000
"""Bytes: about two and a half one-second fragments of noise at 128x96."""


def _run_full_disk(path: Path, fragmented: bool, limit: int = FULL_DISK_LIMIT) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(path), "1" if fragmented else "0", str(limit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    return result.stdout.strip().splitlines()


def _claimed_frames(path: Path) -> int:
    """The frame count the file states, as OpenCV (FFmpeg's demuxer) reads it."""
    cap = cv2.VideoCapture(str(path))
    try:
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()


@POSIX_ONLY
@pytest.mark.parametrize("fragmented", [False, True])
def test_disk_full(tmp_path: Path, fragmented: bool) -> None:
    # A file-size limit stands in for a full disk: writes fail with an OSError midway.
    path = tmp_path / "big.mp4"
    message, _ = _run_full_disk(path, fragmented)
    assert message.startswith(f"writing video {path} failed:"), message
    if fragmented:  # what was recorded before the failure stays playable
        assert _leftovers(tmp_path) == ["big.mp4"]
        assert probe_video(path).frames > 0
    else:
        assert _leftovers(tmp_path) == []


@POSIX_ONLY
def test_disk_full_recording_claims_exactly_the_frames_it_holds(tmp_path: Path) -> None:
    """Issue 10 case 16: the fragment cut by the full disk is removed, so the file's own
    frame count, the frames that decode and the writer's count all agree (on main the file
    claimed 50 frames and 33 decoded)."""
    path = tmp_path / "big.mp4"
    _, kept = _run_full_disk(path, fragmented=True)
    decoded = _read_cv2(path)
    assert len(decoded) > 0
    assert _claimed_frames(path) == len(decoded) == int(kept)
    assert probe_video(path).frames == len(decoded)  # and PyAV sees no damage
    assert len(decoded) % 25 == 0  # whole one-second fragments


@POSIX_ONLY
def test_disk_full_before_the_first_fragment_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "small.mp4"
    _run_full_disk(path, fragmented=True, limit=100_000)
    assert _leftovers(tmp_path) == []


_KILLED_CHILD = """
import sys, time
import cv2
from colorme_live.core.video_writer import H264Writer
from colorme_live.core.sources import VideoFileSource
out, clip, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
writer = H264Writer(out, 30, (160, 160), fragmented=True)
with VideoFileSource(clip) as source:
    for _ in range(n):
        writer.write(cv2.resize(source.read().image, (160, 160), interpolation=cv2.INTER_AREA))
print("written", flush=True)
time.sleep(60)
"""


@POSIX_ONLY
def test_killed_fragmented_recording_is_playable(media_dir: Path, tmp_path: Path) -> None:
    clip = media_dir / "videos" / CLIP
    if not clip.is_file():
        pytest.skip(f"clip {clip} is missing")
    n, gop = 75, 30  # keyframes, and so fragments, start at frames 0, 30, 60
    path = tmp_path / "killed.mp4"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(path), str(clip), str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    by_cv2 = _read_cv2(path)
    by_av = _read_av(path)  # no InputError: a fragmented file lists no frame count to miss
    assert len(by_cv2) == len(by_av)
    # Every fragment completed before the kill is there; the one in progress is lost.
    assert len(by_av) % gop == 0
    assert n - 2 * gop <= len(by_av) < n
    with VideoFileSource(clip) as source:
        expected = [
            np.asarray(cv2.resize(f.image, (160, 160), interpolation=cv2.INTER_AREA), np.uint8)
            for f in (source.read() for _ in range(len(by_av)))
            if f is not None
        ]
    assert _mean_abs_error(expected, by_av) < MAX_MEAN_ABS_ERROR
    assert _mean_abs_error(expected, by_cv2) < MAX_MEAN_ABS_ERROR
