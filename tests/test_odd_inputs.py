"""Unusual but valid inputs are processed correctly: grayscale, 16-bit, alpha-channel, tiny,
huge and odd-sized images, and portrait-orientation video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.cli import main
from colorme_live.core.sources import VideoFileSource
from colorme_live.core.video_writer import H264Writer, probe_video
from tests.conftest import clip

PORTRAIT = "lp_d9_woman_long_blonde_brown_hair.jpg"


def _portrait(media_dir: Path) -> np.ndarray:
    image = cv2.imread(str(media_dir / "portraits" / PORTRAIT))
    assert image is not None
    return image


def _mask_of(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> np.ndarray:
    dest = tmp_path / f"{path.stem}_mask.png"
    assert main(["mask", str(path), str(dest)]) == 0, capsys.readouterr().err
    mask = cv2.imread(str(dest), cv2.IMREAD_UNCHANGED)
    assert mask is not None and mask.dtype == np.uint8 and mask.ndim == 2
    return mask


@pytest.mark.parametrize(
    "variant", ["grayscale", "16-bit", "16-bit grayscale", "with alpha", "odd 333x257"]
)
def test_image_variants_give_a_mask_like_the_plain_photo(
    variant: str, media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _portrait(media_dir)
    if variant == "odd 333x257":
        image = cv2.resize(image, (333, 257), interpolation=cv2.INTER_AREA)
    plain = tmp_path / "plain.png"
    cv2.imwrite(str(plain), image)
    reference = _mask_of(plain, tmp_path, capsys)
    if variant == "grayscale":
        converted = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif variant == "16-bit":
        converted = image.astype(np.uint16) * 257
    elif variant == "16-bit grayscale":
        converted = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    elif variant == "with alpha":
        converted = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    else:
        converted = image
    path = tmp_path / f"{variant.replace(' ', '_')}.png"
    cv2.imwrite(str(path), converted)
    mask = _mask_of(path, tmp_path, capsys)
    assert mask.shape == image.shape[:2]
    agree = np.mean((mask > 127) == (reference > 127))
    assert agree > (0.9 if "gray" in variant else 0.99), f"{variant}: {agree:.3f}"


@pytest.mark.parametrize("size", [(1, 1), (16, 16), (3, 2)])
def test_tiny_images(
    size: tuple[int, int], media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.png"
    cv2.imwrite(str(path), cv2.resize(_portrait(media_dir), size, interpolation=cv2.INTER_AREA))
    assert _mask_of(path, tmp_path, capsys).shape == (size[1], size[0])
    out = tmp_path / "tiny_out.png"
    assert main(["render", str(path), str(out)]) == 0
    assert cv2.imread(str(out)).shape == (size[1], size[0], 3)


@pytest.mark.slow
def test_a_4k_image_is_recoloured_at_full_size(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.jpg"
    cv2.imwrite(str(path), cv2.resize(_portrait(media_dir), (3840, 2160)))
    mask = _mask_of(path, tmp_path, capsys)
    assert mask.shape == (2160, 3840) and (mask > 127).mean() > 0.05


def test_portrait_video_keeps_its_orientation(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "portrait.mp4"
    with VideoFileSource(clip(media_dir, "lp_d13_selfie_man_glasses_static")) as video:
        assert video.size == (720, 1280)
        with H264Writer(src, video.fps, video.size) as out:
            while out.frames_written < 8 and (f := video.read()) is not None:
                out.write(f.image)
    dest = tmp_path / "out.mp4"
    assert main(["render", str(src), str(dest)]) == 0, capsys.readouterr().err
    info = probe_video(dest)
    assert (info.width, info.height, info.frames) == (720, 1280, 8)


def test_odd_sized_video_renders_at_the_same_size(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "odd.mp4"
    source = clip(media_dir, "lp_d12_man_wavy_brown_hair_motion")
    with VideoFileSource(source) as video, H264Writer(src, video.fps, (301, 199)) as out:
        while out.frames_written < 6 and (f := video.read()) is not None:
            out.write(np.ascontiguousarray(cv2.resize(f.image, (301, 199))))
    dest = tmp_path / "out.mp4"
    assert main(["render", str(src), str(dest)]) == 0, capsys.readouterr().err
    info = probe_video(dest)
    assert (info.width, info.height, info.frames) == (301, 199, 6)
