"""Two-tone / ombré (core.ombre) on the shared portraits and clips with the real hair model and
face boxes from MediaPipe's face detector (blaze_face_short_range in ../shared/models):
root end at the scalp, tip end at the hair's far end, following a tilted head (not the
picture's top); no face -> from the top of the hair; strand texture kept; steady on clips;
`render --ombre` on the command line."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
import pytest
from mediapipe.tasks.python import BaseOptions, vision

from colorme_live.cli import main
from colorme_live.core.errors import InputError
from colorme_live.core.ombre import (
    FaceBox,
    Ombre,
    mix,
    mix_reference,
    parse_ombre,
    root_to_tip,
    tip_weight,
)
from colorme_live.core.palette import PALETTE
from colorme_live.core.pipeline import Pipeline, composite, prepare
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from colorme_live.core.sources import VideoFileSource
from tests.conftest import SHARED, _need, clip

DARK_BROWN, PLATINUM = PALETTE[1], PALETTE[5]
LONG_HAIR = ("lp_d9_woman_long_blonde_brown_hair", "pakutaso_woman_long_dark_hair_white_top")


@pytest.fixture(scope="module")
def faces() -> Iterator[object]:
    model = _need(SHARED / "models" / "blaze_face_short_range.tflite", "the face detector")
    options = vision.FaceDetectorOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.IMAGE,
    )
    detector = vision.FaceDetector.create_from_options(options)

    def detect(image: np.ndarray) -> list[FaceBox]:
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        result = detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        return [
            (b.origin_x, b.origin_y, b.width, b.height)
            for b in (d.bounding_box for d in result.detections)
        ]

    yield detect
    detector.close()


@pytest.fixture(scope="module")
def pipeline(model_path: Path) -> Iterator[Pipeline]:
    with Pipeline(HairSegmenter(model_path)) as p:
        yield p


def _portraits(media_dir: Path) -> list[Path]:
    return sorted((media_dir / "portraits").glob("*.jpg"))


def test_root_at_the_scalp_tip_at_the_far_end(media_dir: Path, faces, pipeline) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for path in _portraits(media_dir):
        image = cv2.imread(str(path))
        boxes = faces(image)
        if len(boxes) != 1:
            continue  # groups and crowds: one head per check
        h, w = image.shape[:2]
        analysis, _ = pipeline.analyse(image, Settings(), None)
        t = root_to_tip(analysis.prob, boxes, (w, h))
        hair = analysis.prob > 0.5
        if hair.sum() < 500:
            continue
        ph, pw = hair.shape
        ys, xs = np.nonzero(hair)
        x, y, bw, _ = boxes[0]
        # distance of each hair pixel from the top of the face (the hairline), frame pixels
        d = np.hypot(xs * w / pw - (x + bw / 2), ys * h / ph - y)
        near = d <= np.percentile(d, 10)
        assert t[ys[near], xs[near]].mean() <= 0.1, path.name
        if path.stem in LONG_HAIR:
            far = d >= np.percentile(d, 95)
            assert t[ys[far], xs[far]].mean() >= 0.6, path.name
            lowest = ys >= np.percentile(ys, 97)  # the ends on the shoulders
            assert t[ys[lowest], xs[lowest]].mean() >= 0.7, path.name
        checked += 1
    assert checked >= 6


def test_follows_a_tilted_head_not_the_picture_top(media_dir: Path, faces, pipeline) -> None:  # type: ignore[no-untyped-def]
    image = cv2.imread(str(media_dir / "portraits" / f"{LONG_HAIR[0]}.jpg"))
    h, w = image.shape[:2]
    upright, _ = pipeline.analyse(image, Settings(), None)
    t_upright = root_to_tip(upright.prob, faces(image), (w, h))
    for angle in (25, -25):
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        tilted = cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
        boxes = faces(tilted)
        assert len(boxes) == 1
        analysis, _ = pipeline.analyse(tilted, Settings(), None)
        ph, pw = analysis.prob.shape
        expected = cv2.warpAffine(
            t_upright, cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, 1.0), (pw, ph)
        )
        hair = analysis.prob > 0.5
        by_face = np.abs(root_to_tip(analysis.prob, boxes, (w, h)) - expected)[hair].mean()
        by_top = np.abs(root_to_tip(analysis.prob, [], (w, h)) - expected)[hair].mean()
        assert by_face <= 0.15 and by_face * 2 <= by_top, (angle, by_face, by_top)


def test_no_face_runs_from_the_top_of_the_hair(media_dir: Path, pipeline) -> None:  # type: ignore[no-untyped-def]
    image = cv2.imread(str(media_dir / "portraits" / f"{LONG_HAIR[0]}.jpg"))
    analysis, _ = pipeline.analyse(image, Settings(), None)
    t = root_to_tip(analysis.prob, [])
    hair = analysis.prob > 0.5
    rows = np.nonzero(hair.any(axis=1))[0]
    per_row = [t[r][hair[r]].mean() for r in rows]
    assert per_row[0] <= 0.02 and per_row[-1] >= 0.98
    assert all(b >= a for a, b in itertools.pairwise(per_row))  # down the picture
    assert not root_to_tip(np.zeros((8, 8), np.float32), []).any()  # no hair: all zero


def test_tip_weight_blend_and_softness() -> None:
    t = np.linspace(0, 1, 101, dtype=np.float32)
    soft = tip_weight(t, Ombre(DARK_BROWN, PLATINUM, 50, 40))
    assert soft[0] == 0 and soft[-1] == 1 and np.all(np.diff(soft) >= 0)
    assert soft[50] == pytest.approx(0.5, abs=1e-6) and soft[29] == 0 and soft[71] == 1
    sharp = tip_weight(t, Ombre(DARK_BROWN, PLATINUM, 30, 0))
    assert sharp[28] == 0 and sharp[32] == 1
    late = tip_weight(t, Ombre(DARK_BROWN, PLATINUM, 80, 40))
    assert np.all(late <= soft)
    with pytest.raises(ValueError):
        Ombre(DARK_BROWN, PLATINUM, 101)
    assert parse_ombre("dark brown:#E4DFD3").tip.rgb == PLATINUM.rgb
    for bad in ("copper", "copper:", ":copper", "a:b:c", "copper:nocolour"):
        with pytest.raises(InputError):
            parse_ombre(bad)


def _detail(image: np.ndarray) -> np.ndarray:
    """The strands: luma minus its local mean (an ombré changes the mean along the hair on
    purpose; the strands' own shading must survive it)."""
    lum = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return lum - cv2.GaussianBlur(lum, (0, 0), 3.0)


def _texture(before: np.ndarray, after: np.ndarray, alpha: np.ndarray) -> float:
    hair = alpha > 0.9
    return float(np.corrcoef(_detail(before)[hair], _detail(after)[hair])[0, 1])


def test_strand_texture_kept_and_both_colours_shown(media_dir: Path, faces, pipeline) -> None:  # type: ignore[no-untyped-def]
    for stem in LONG_HAIR:
        image = cv2.imread(str(media_dir / "portraits" / f"{stem}.jpg"))
        analysis, _ = pipeline.analyse(image, Settings(), None)
        boxes = faces(image)
        ombre = Settings(intensity=100, ombre=Ombre(DARK_BROWN, PLATINUM))
        out = composite(image, analysis, ombre, prepare(image, analysis, ombre, boxes))
        assert out.alpha is not None
        single_texture = min(
            _texture(
                image, composite(image, analysis, Settings(intensity=100, color=c)).image, out.alpha
            )
            for c in (DARK_BROWN, PLATINUM)
        )
        assert _texture(image, out.image, out.alpha) >= single_texture - 0.03, stem
        t = root_to_tip(analysis.prob, boxes, image.shape[1::-1])
        tt = cv2.resize(t, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        hair = out.alpha > 0.9
        lum = cv2.cvtColor(out.image, cv2.COLOR_BGR2GRAY).astype(np.float64)
        roots, tips = hair & (tt < 0.1), hair & (tt > 0.9)
        assert roots.sum() > 200 and tips.sum() > 200
        assert lum[tips].mean() - lum[roots].mean() >= 40, stem  # platinum ends, brown roots


@pytest.mark.parametrize(
    "stem", ["lp_d3_woman_brown_hair_expressions", "lp_d10_woman_long_dark_hair_talking"]
)
def test_steady_over_time(media_dir: Path, faces, pipeline, stem: str) -> None:  # type: ignore[no-untyped-def]
    """Frame to frame, the tip weight on hair that stays hair moves less than the smoothed
    mask itself does (no crawling from face-box jitter or the hair's reach)."""
    ombre = Ombre(DARK_BROWN, PLATINUM)
    state = None
    prev: tuple[np.ndarray, np.ndarray] | None = None
    changes, mask_changes = [], []
    with VideoFileSource(clip(media_dir, stem)) as source:
        for _ in range(60):
            frame = source.read()
            if frame is None:
                break
            analysis, state = pipeline.analyse(frame.image, Settings(), state)
            h, w = frame.image.shape[:2]
            boxes = faces(frame.image)
            assert boxes, "the face detector found no face"
            weight = tip_weight(root_to_tip(analysis.prob, boxes, (w, h)), ombre)
            if prev is not None:
                both = (analysis.prob > 0.5) & (prev[1] > 0.5)
                changes.append(np.abs(weight - prev[0])[both].mean())
                mask_changes.append(np.abs(analysis.prob - prev[1])[both].mean())
            prev = (weight, analysis.prob)
    assert len(changes) >= 50
    assert np.percentile(changes, 95) <= 0.03
    assert np.percentile(changes, 95) <= np.percentile(mask_changes, 95)


def test_render_ombre_on_the_command_line(media_dir: Path, tmp_path: Path) -> None:
    photo = media_dir / "portraits" / f"{LONG_HAIR[0]}.jpg"
    out = tmp_path / "ombre.png"
    single = tmp_path / "single.png"
    assert (
        main(["render", str(photo), str(out), "--ombre", "dark brown:platinum", "--blend", "40"])
        == 0
    )
    assert main(["render", str(photo), str(single), "--color", "dark brown"]) == 0
    a, b = cv2.imread(str(out)), cv2.imread(str(single))
    assert a.shape == b.shape and not np.array_equal(a, b)
    h = a.shape[0]
    # no face given on the command line: the ends (lower hair) are platinum, the top brown
    assert np.abs(a[: h // 4].astype(int) - b[: h // 4]).mean() < 1.0
    assert (a[-h // 4 :].astype(int) - b[-h // 4 :]).mean() > 5.0
    assert main(["render", str(photo), str(out), "--blend", "40"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["render", str(photo), str(out), "--ombre", "copper"])
    assert info.value.code == 2


def test_mix_kernel_matches_its_reference() -> None:
    """The Numba mix against the NumPy oracle: random images and weights at a lower
    resolution, the edges (weight exactly 0 and 1, odd sizes, 1x1), and a band that limits the
    work to its box (outside it root and tip are the same frame, as in compositing)."""
    rng = np.random.default_rng(7)
    for h, w, lh, lw in ((720, 1280, 144, 256), (31, 17, 7, 5), (1, 1, 1, 1), (64, 64, 64, 64)):
        root = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        tip = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        weight = rng.random((lh, lw), dtype=np.float32)
        weight[0, 0], weight[-1, -1] = 0.0, 1.0
        assert np.array_equal(mix(root, tip, weight), mix_reference(root, tip, weight))
        for edge in (0.0, 1.0):
            flat = np.full((lh, lw), edge, np.float32)
            assert np.array_equal(mix(root, tip, flat), root if edge == 0 else tip)
    # with a band: identical wherever root and tip differ only inside the band's box
    root = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    band = np.zeros((72, 128), np.float32)
    band[20:40, 50:90] = 1.0
    tip = root.copy()
    tip[100:200, 250:450] = rng.integers(0, 256, (100, 200, 3), dtype=np.uint8)
    weight = rng.random((72, 128), dtype=np.float32)
    assert np.array_equal(mix(root, tip, weight, band), mix_reference(root, tip, weight))
    assert np.array_equal(mix(root, tip, weight, np.zeros_like(band)), root)
    with pytest.raises(ValueError):
        mix(root, tip[:10], weight)
    with pytest.raises(TypeError):
        mix(root.astype(np.float32), tip, weight)  # type: ignore[arg-type]
