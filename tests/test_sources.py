"""Frame sources: real clips and photos, every bad-input case, looping and pacing."""

from __future__ import annotations

import random
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from colorme_live.core.errors import ColormeError, InputError
from colorme_live.core.frames import Frame
from colorme_live.core.sources import (
    CameraSource,
    ImageSource,
    PacedSource,
    SourceLost,
    VideoFileSource,
    is_image_path,
    open_source,
    read_image,
)

CLIP = "lp_d12_man_wavy_brown_hair_motion.mp4"
"""512x512, 25 fps, 183 frames, has an audio track, index (moov) at the end."""
CLIP_FRAMES = 183
CLIP_FPS = 25.0


@pytest.fixture(scope="session")
def clip(media_dir: Path) -> Path:
    path = media_dir / "videos" / CLIP
    if not path.is_file():
        pytest.skip(f"clip {path} is missing")
    return path


def _remux(src: Path, dst: Path, *, kind: str, faststart: bool = False) -> None:
    """Copy the ``kind`` ("video" or "audio") stream of ``src`` into ``dst`` without
    re-encoding; with ``faststart`` the index (moov) goes before the media data."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(src)) as ic, av.open(str(dst), "w", container_options=options) as oc:
        istream = ic.streams.video[0] if kind == "video" else ic.streams.audio[0]
        ostream = oc.add_stream_from_template(istream)
        for packet in ic.demux(istream):
            if packet.dts is None:
                continue
            packet.stream = ostream
            oc.mux(packet)


@pytest.fixture(scope="session")
def faststart_clip(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faststart") / "faststart.mp4"
    _remux(clip, path, kind="video", faststart=True)
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "remux did not move the index to the front"
    return path


def _cut_in_half(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def _read_all(source: VideoFileSource | ImageSource) -> list[Frame]:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    return frames


# --- Frame -----------------------------------------------------------------------------------


def test_frame_checks_its_image() -> None:
    ok = np.zeros((2, 3, 3), np.uint8)
    assert Frame(ok, 0, 0.0, 0.0).size == (3, 2)
    with pytest.raises(TypeError, match="uint8"):
        Frame(np.zeros((2, 3, 3), np.float32), 0, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        Frame(np.zeros((2, 3), np.uint8), 0, 0.0, 0.0)
    with pytest.raises(ValueError, match="not contiguous"):
        Frame(np.zeros((2, 6, 3), np.uint8)[:, ::2], 0, 0.0, 0.0)


# --- VideoFileSource -------------------------------------------------------------------------


def test_video_reads_every_frame_of_a_real_clip(clip: Path) -> None:
    with VideoFileSource(clip) as source:
        assert source.fps == CLIP_FPS
        assert source.size == (512, 512)
        assert source.frame_count == CLIP_FRAMES
        assert not source.is_live
        assert CLIP in source.description
        frames = _read_all(source)
        assert source.read() is None  # stays at the end
    assert len(frames) == CLIP_FRAMES
    assert [f.index for f in frames] == list(range(CLIP_FRAMES))
    np.testing.assert_allclose([f.pts for f in frames], np.arange(CLIP_FRAMES) / CLIP_FPS)
    stamps = [f.timestamp for f in frames]
    assert stamps == sorted(stamps)
    first = frames[0].image
    assert first.shape == (512, 512, 3) and first.dtype == np.uint8
    assert first.flags.c_contiguous
    assert 20 < first.mean() < 235  # a real picture, not a blank


@pytest.mark.parametrize(
    "name",
    [
        "lp_d10_woman_long_dark_hair_talking.mp4",
        "lp_d13_selfie_man_glasses_static.mp4",
        "lp_d3_woman_brown_hair_expressions.mp4",
        "pexels_red_hair_woman_makeup.mp4",
        "tk_man_black_hair_guitar_head_motion.mp4",
    ],
)
def test_video_opens_every_shared_clip(media_dir: Path, name: str) -> None:
    path = media_dir / "videos" / name
    if not path.is_file():
        pytest.skip(f"clip {path} is missing")
    with VideoFileSource(path) as source:
        frame = source.read()
        assert frame is not None
        assert frame.size == source.size
        assert source.fps in (25.0, 30.0)
        assert source.frame_count is not None and source.frame_count > 100


def test_video_loops_with_increasing_index_and_pts(clip: Path) -> None:
    with VideoFileSource(clip, loop=True) as source:
        frames = [source.read() for _ in range(CLIP_FRAMES + 5)]
    assert all(f is not None for f in frames)
    got = [f for f in frames if f is not None]
    assert [f.index for f in got] == list(range(CLIP_FRAMES + 5))
    pts = np.array([f.pts for f in got])
    assert np.all(np.diff(pts) > 0)
    np.testing.assert_allclose(pts, np.arange(len(got)) / CLIP_FPS, atol=1e-6)
    # The second pass starts again at the first picture.
    np.testing.assert_array_equal(got[CLIP_FRAMES].image, got[0].image)
    np.testing.assert_array_equal(got[CLIP_FRAMES + 4].image, got[4].image)


def test_faststart_copy_reads_completely(faststart_clip: Path) -> None:
    # Control for the truncation tests below: the remuxed copy itself is complete.
    with VideoFileSource(faststart_clip) as source:
        assert len(_read_all(source)) == CLIP_FRAMES


def test_missing_video(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        VideoFileSource(tmp_path / "nope.mp4")


def test_video_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a file"):
        VideoFileSource(tmp_path)


def test_empty_video_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        VideoFileSource(tmp_path / "empty.mp4")


def test_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(InputError, match="not a readable video") as info:
        VideoFileSource(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_audio_only_file(clip: Path, tmp_path: Path) -> None:
    path = tmp_path / "audio.mp4"
    _remux(clip, path, kind="audio")
    with pytest.raises(InputError, match="has no video stream"):
        VideoFileSource(path)


def test_truncated_video_with_index_at_end_fails_to_open(clip: Path, tmp_path: Path) -> None:
    # The shared clips keep their index (moov) after the media data: cut in half, the index
    # is gone and FFmpeg cannot open the file at all.
    path = _cut_in_half(clip, tmp_path / "cut.mp4")
    with pytest.raises(InputError, match="probably truncated") as info:
        VideoFileSource(path)
    assert str(path) in str(info.value)


def test_truncated_faststart_video_fails_while_reading(
    faststart_clip: Path, tmp_path: Path
) -> None:
    # With the index first, FFmpeg opens the file and silently runs out of packets half-way;
    # the source notices that frames listed in the index never came.
    path = _cut_in_half(faststart_clip, tmp_path / "cut.mp4")
    source = VideoFileSource(path)
    delivered = 0
    with source, pytest.raises(InputError, match=r"truncated or corrupt after frame (\d+)") as info:
        while source.read() is not None:
            delivered += 1
    assert 0 < delivered < CLIP_FRAMES
    assert f"after frame {delivered} (of {CLIP_FRAMES})" in str(info.value)


def test_garbage_in_the_middle_fails_while_reading(faststart_clip: Path, tmp_path: Path) -> None:
    data = bytearray(faststart_clip.read_bytes())
    rng = random.Random(0)
    middle = len(data) // 2
    data[middle : middle + 20_000] = rng.randbytes(20_000)
    path = tmp_path / "garbage.mp4"
    path.write_bytes(bytes(data))
    with VideoFileSource(path) as source, pytest.raises(InputError, match="truncated or corrupt"):
        _read_all(source)


def test_read_after_close_is_an_error(clip: Path) -> None:
    source = VideoFileSource(clip)
    source.close()
    source.close()
    with pytest.raises(ValueError, match="closed"):
        source.read()


# --- ImageSource -----------------------------------------------------------------------------


def test_single_real_photo(media_dir: Path) -> None:
    path = media_dir / "images" / "lfw_Arnold_Palmer_0001.jpg"
    with ImageSource(path) as source:
        assert source.size == (250, 250)
        frames = _read_all(source)
    assert len(frames) == 1
    expected = cv2.imread(str(path), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(frames[0].image, expected)


def test_folder_of_real_photos(media_dir: Path) -> None:
    folder = media_dir / "portraits"
    names = sorted(p.name for p in folder.glob("*.jpg"))
    with ImageSource(folder, fps=10.0) as source:
        assert source.frame_count == len(names)
        assert [p.name for p in source.paths] == names
        frames = _read_all(source)
    assert len(frames) == len(names)
    assert len({f.size for f in frames}) > 1  # sizes differ, each frame keeps its own
    np.testing.assert_allclose([f.pts for f in frames], np.arange(len(names)) / 10.0)


def test_folder_order_is_natural_and_skips_other_files(tmp_path: Path) -> None:
    for i in (10, 2, 1):
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), np.full((4, 4, 3), i, np.uint8))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".hidden.png").write_text("x")
    with ImageSource(tmp_path) as source:
        values = [int(f.image[0, 0, 0]) for f in _read_all(source)]
    assert values == [1, 2, 10]


def test_image_conversions(tmp_path: Path) -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    bgra = np.dstack([np.full((3, 4), v, np.uint8) for v in (10, 20, 30, 40)])
    cv2.imwrite(str(tmp_path / "bgra.png"), bgra)
    deep = np.zeros((3, 4, 3), np.uint16)
    deep[..., 0], deep[..., 1], deep[..., 2] = 65535, 257 * 100, 500
    cv2.imwrite(str(tmp_path / "deep.png"), deep)

    out = read_image(tmp_path / "gray.png")
    assert out.shape == (3, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)
    out = read_image(tmp_path / "bgra.png")
    assert out.shape == (3, 4, 3)
    assert out[0, 0].tolist() == [10, 20, 30]
    out = read_image(tmp_path / "deep.png")
    assert out.dtype == np.uint8
    assert out[0, 0].tolist() == [255, 100, 2]  # scaled by 255/65535, not truncated to 8 bits


def test_image_with_unicode_path(tmp_path: Path) -> None:
    path = tmp_path / "фото été 写真.png"
    ok, encoded = cv2.imencode(".png", np.full((5, 6, 3), 77, np.uint8))
    assert ok
    encoded.tofile(path)
    with ImageSource(path) as source:
        frame = source.read()
    assert frame is not None and frame.size == (6, 5) and int(frame.image[0, 0, 0]) == 77


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_text("not a jpeg")
    with pytest.raises(InputError, match=r"broken\.jpg"):
        ImageSource(path)


def test_unreadable_image_later_in_a_folder(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "b.png").write_bytes(b"\x89PNG garbage")
    with ImageSource(tmp_path) as source:
        assert source.read() is not None
        with pytest.raises(InputError, match=r"b\.png"):
            source.read()


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(InputError, match="no images"):
        ImageSource(tmp_path)


def test_missing_and_empty_image(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        ImageSource(tmp_path / "nope.jpg")
    (tmp_path / "empty.png").touch()
    with pytest.raises(InputError, match="empty"):
        ImageSource(tmp_path / "empty.png")


def test_image_source_loops(tmp_path: Path) -> None:
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((2, 2, 3), i, np.uint8))
    with ImageSource(tmp_path, loop=True) as source:
        frames = [source.read() for _ in range(5)]
    values = [int(f.image[0, 0, 0]) for f in frames if f is not None]
    assert values == [0, 1, 0, 1, 0]
    assert [f.index for f in frames if f is not None] == list(range(5))


# --- cameras and open_source -----------------------------------------------------------------


def test_missing_camera_raises_input_error_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match="no camera 99 found"):
        CameraSource(99)
    assert time.monotonic() - start < 10.0


def test_source_lost_is_a_colorme_error() -> None:
    assert issubclass(SourceLost, ColormeError)


def test_is_image_path() -> None:
    assert is_image_path("a/b.JPG") and is_image_path(Path("x.tiff")) and is_image_path("x.webp")
    assert not is_image_path("clip.mp4") and not is_image_path("folder")


def test_open_source_dispatch(clip: Path, media_dir: Path) -> None:
    with open_source(str(clip)) as source:
        assert isinstance(source, VideoFileSource)
    with open_source(media_dir / "portraits") as source:
        assert isinstance(source, ImageSource)
    with open_source(str(media_dir / "images" / "lfw_Pat_Cox_0002.jpg")) as source:
        assert isinstance(source, ImageSource)
    with pytest.raises(InputError, match="no camera 99"):
        open_source("99")
    with pytest.raises(InputError, match="not found"):
        open_source(Path("99"))  # a Path is always a file, never a camera


# --- PacedSource -----------------------------------------------------------------------------


class _FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _still_images(tmp_path: Path, n: int) -> ImageSource:
    for i in range(n):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((2, 2, 3), i, np.uint8))
    return ImageSource(tmp_path)


def test_paced_source_schedule_with_a_fake_clock(tmp_path: Path) -> None:
    clock = _FakeClock()
    paced = PacedSource(_still_images(tmp_path, 6), fps=10.0, clock=clock, sleep=clock.sleep)
    assert paced.is_live and paced.fps == 10.0
    first = paced.read()
    assert first is not None and first.timestamp == 100.0 and clock.sleeps == []
    second = paced.read()
    assert second is not None and second.timestamp == pytest.approx(100.1)
    assert clock.sleeps == [pytest.approx(0.1)]
    clock.now += 0.05  # the consumer took half a frame: only the rest is slept
    third = paced.read()
    assert third is not None and third.timestamp == pytest.approx(100.2)
    assert clock.sleeps[-1] == pytest.approx(0.05)
    clock.now += 1.0  # far behind: delivered at once, schedule restarts, no burst
    fourth = paced.read()
    assert fourth is not None and fourth.timestamp == pytest.approx(101.2)
    fifth = paced.read()
    assert fifth is not None and fifth.timestamp == pytest.approx(101.3)
    assert fifth.index == 4 and fifth.pts == pytest.approx(4 / 30.0)  # pts is the media's
    assert paced.read() is not None
    assert paced.read() is None
    paced.close()


def test_paced_source_speed_zero_never_sleeps(tmp_path: Path) -> None:
    clock = _FakeClock()
    with PacedSource(_still_images(tmp_path, 3), clock=clock, sleep=clock.sleep, speed=0) as p:
        assert sum(1 for _ in iter(p.read, None)) == 3
    assert clock.sleeps == []


def test_paced_source_rejects_bad_rates(tmp_path: Path) -> None:
    images = _still_images(tmp_path, 1)
    with pytest.raises(ValueError, match="fps"):
        PacedSource(images, fps=0.0)
    with pytest.raises(ValueError, match="speed"):
        PacedSource(images, speed=-1.0)


def test_paced_video_runs_at_about_real_time(clip: Path) -> None:
    n, speed = 20, 4.0
    expected = (n - 1) / (CLIP_FPS * speed)
    with PacedSource(VideoFileSource(clip), speed=speed) as paced:
        start = time.monotonic()
        frames = [paced.read() for _ in range(n)]
        elapsed = time.monotonic() - start
    assert all(f is not None for f in frames)
    # Sleeping can only make it slower; a loaded machine can make it much slower.
    assert 0.5 * expected <= elapsed <= 3.0 * expected, f"{elapsed:.3f}s vs {expected:.3f}s"
