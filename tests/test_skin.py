"""The skin guard (``core.skin``, run by ``Pipeline.analyse`` between segmentation and
temporal smoothing) with the real hair and face models on real photos: colour leaves the
skin of a face the model painted, the hair keeps it (IoU no worse), on a photo segmented
whole and in a face-anchored region; a false face on the back of a head changes nothing;
and the colour models' log-likelihood ratio against its per-pixel oracle."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.core.evaluate import eval_clip, spill_parts
from colorme_live.core.faces import KEYPOINTS, LEFT_EYE, MOUTH, RIGHT_EYE, Face, FaceDetector
from colorme_live.core.metrics import iou
from colorme_live.core.pipeline import Analysis, Pipeline, composite
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import Settings
from colorme_live.core.skin import (
    log_likelihood_ratio,
    log_likelihood_ratio_reference,
    skin_keep,
)
from tests.conftest import SHARED, _need, clip

FACE_MODEL = SHARED / "models" / "blaze_face_short_range.tflite"
ON = replace(Settings(), intensity=100)
OFF = replace(ON, skin_guard=False)


@pytest.fixture(scope="module")
def pipeline(model_path: Path) -> Iterator[Pipeline]:
    face_path = _need(FACE_MODEL, "the shared face model")
    with Pipeline(HairSegmenter(model_path), FaceDetector(face_path)) as p:
        yield p


def _photo(media_dir: Path, stem: str) -> tuple[np.ndarray, np.ndarray]:
    image = cv2.imread(str(media_dir / "images" / f"{stem}.jpg"))
    mask = cv2.imread(str(media_dir / "images" / "masks" / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
    assert image is not None and mask is not None, stem
    return image, mask.astype(np.float32) / 255.0


def _size(image: np.ndarray) -> tuple[int, int]:
    return image.shape[1], image.shape[0]


def _on_map(image: np.ndarray, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` downscaled to ``prob``'s grid, and ``prob``: what `skin_keep` takes."""
    h, w = prob.shape
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA), prob


def _both(pipeline: Pipeline, image: np.ndarray) -> tuple[Analysis, tuple[np.ndarray, ...]]:
    """The analysis with the guard, and the composite's image and alpha with and without."""
    with_guard, _ = pipeline.analyse(image, ON, None)
    without, _ = pipeline.analyse(image, OFF, None)
    np.testing.assert_array_equal(with_guard.raw_prob, without.raw_prob)  # the model's own
    on, off = composite(image, with_guard, ON), composite(image, without, OFF)
    assert on.alpha is not None and off.alpha is not None
    return with_guard, (on.image, on.alpha, off.image, off.alpha)


def test_faces_carry_blazefaces_keypoints(pipeline: Pipeline, media_dir: Path) -> None:
    image, _ = _photo(media_dir, "celebamaskhq_maskgan_sample0")
    assert pipeline.faces is not None
    (face,) = pipeline.faces.detect(image)
    assert len(face.keypoints) == len(KEYPOINTS)
    for x, y in face.keypoints[: MOUTH + 1]:  # eyes, nose and mouth lie inside the box
        assert face.x <= x <= face.x + face.w and face.y <= y <= face.y + face.h
    assert face.keypoints[RIGHT_EYE][0] < face.keypoints[LEFT_EYE][0]  # the person's right
    assert face.keypoints[MOUTH][1] > face.keypoints[RIGHT_EYE][1]
    moved = face.shifted(10.0, 20.0, 0.5)
    assert moved.keypoints[MOUTH] == pytest.approx(
        (10 + face.keypoints[MOUTH][0] * 0.5, 20 + face.keypoints[MOUTH][1] * 0.5)
    )
    # a face found in a part of the frame is reported in frame pixels, keypoints included
    (inner,) = pipeline.faces.detect_in(image, (100, 150, 924, 874))
    assert inner.keypoints[MOUTH] == pytest.approx(face.keypoints[MOUTH], abs=0.05 * face.size)


@pytest.mark.parametrize(
    "stem",
    [
        "figaro_kinky_Frame00566",  # a forehead under big blonde hair
        "figaro_kinky_Frame00595",  # forehead and temples under an afro
        "figaro_short_Frame01048",  # a face under short hair
    ],
)
def test_colour_leaves_the_skin_the_model_painted(
    pipeline: Pipeline, media_dir: Path, stem: str
) -> None:
    image, truth = _photo(media_dir, stem)
    analysis, (on_image, on_alpha, off_image, off_alpha) = _both(pipeline, image)
    assert analysis.faces and analysis.regions == ()  # segmented whole, its face still seen
    far_on, _ = spill_parts(image, on_image, truth)
    far_off, _ = spill_parts(image, off_image, truth)
    assert far_on < 0.8 * far_off
    assert iou(on_alpha, truth) >= iou(off_alpha, truth)
    assert on_alpha.sum() < off_alpha.sum()  # colour taken away, none added


def test_a_face_anchored_region_is_guarded_too(pipeline: Pipeline, media_dir: Path) -> None:
    """The same photo at 40% of a wide frame: its face anchors a region of its own."""
    photo, truth = _photo(media_dir, "figaro_kinky_Frame00566")
    h = 288
    w = round(photo.shape[1] * h / photo.shape[0])
    image = np.full((720, 1280, 3), 90, np.uint8)
    image[720 - h :, 200 : 200 + w] = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
    placed = np.zeros((720, 1280), np.float32)
    placed[720 - h :, 200 : 200 + w] = cv2.resize(truth, (w, h), interpolation=cv2.INTER_LINEAR)
    analysis, (on_image, on_alpha, off_image, off_alpha) = _both(pipeline, image)
    assert len(analysis.regions) == 1 and len(analysis.faces) == 1
    face = analysis.faces[0]
    box = (slice(int(face.y), int(face.y + face.h)), slice(int(face.x), int(face.x + face.w)))
    skin = placed[box] <= 0.5  # the face box, off the hand-made hair mask

    def colour_on_skin(out: np.ndarray) -> int:
        change = np.abs(out[box].astype(np.int16) - image[box].astype(np.int16)).sum(axis=2)
        return int(change[skin].sum())

    assert colour_on_skin(on_image) < 0.85 * colour_on_skin(off_image)  # the beard stays
    assert iou(on_alpha, placed) >= iou(off_alpha, placed)


def test_a_false_face_on_the_back_of_a_head_changes_nothing(
    pipeline: Pipeline, media_dir: Path
) -> None:
    """BlazeFace finds a weak face in this bun; the hair model calls its "cheeks" hair."""
    image, _ = _photo(media_dir, "figaro_wavy_Frame00243")
    analysis, (on_image, on_alpha, off_image, off_alpha) = _both(pipeline, image)
    assert analysis.faces
    assert skin_keep(*_on_map(image, analysis.raw_prob), analysis.faces, _size(image)) is None
    assert np.array_equal(on_alpha, off_alpha) and np.array_equal(on_image, off_image)


def test_no_usable_face_changes_nothing(pipeline: Pipeline, media_dir: Path) -> None:
    image, _ = _photo(media_dir, "figaro_braids_Frame00723")  # a braid, no face
    analysis, (on_image, on_alpha, off_image, off_alpha) = _both(pipeline, image)
    assert analysis.faces == ()
    assert np.array_equal(on_alpha, off_alpha) and np.array_equal(on_image, off_image)
    # a box without keypoints (made by hand) and a face too small to sample are skipped
    box = Face(100.0, 100.0, 80.0, 80.0, 0.9)
    tiny = Face(10.0, 10.0, 2.0, 2.0, 0.9, ((10.0, 10.0), (10.5, 10.0), (10.2, 10.5), (10.2, 11.0)))
    assert skin_keep(*_on_map(image, analysis.prob), [box, tiny], _size(image)) is None


def test_log_likelihood_ratio_matches_its_reference(media_dir: Path) -> None:
    image, _ = _photo(media_dir, "celebamaskhq_maskgan_sample0")
    lab = cv2.cvtColor(cv2.resize(image, (24, 24), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2LAB)
    lab = lab.astype(np.float32)
    rng = np.random.default_rng(5)
    skin = lab[10:14, 8:16].reshape(-1, 3)  # cheeks
    hair = lab[0:4].reshape(-1, 3)  # the top rows: hair
    for a, b in ((skin, hair), (rng.uniform(0, 255, (40, 3)), rng.normal(100, 3, (12, 3)))):
        got = log_likelihood_ratio(lab, a, b)
        want = log_likelihood_ratio_reference(lab, a, b)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    # a flat sample (every pixel the same colour) still gives a finite model
    flat = np.full((9, 3), 120.0, np.float32)
    assert np.all(np.isfinite(log_likelihood_ratio(lab, flat, hair)))
    assert log_likelihood_ratio(np.full((1, 1, 3), 120, np.float32), flat, hair)[0, 0] > 0


def test_the_guard_adds_no_flicker_on_a_still_selfie_clip(
    pipeline: Pipeline, media_dir: Path
) -> None:
    """Band flicker (the eval's metric) on the static selfie clip with and without the guard:
    run before the temporal smoothing, it is steadied with the mask (applied per frame after
    it, it raised this clip's flicker by a third)."""
    path = clip(media_dir, "lp_d13_selfie_man_glasses_static")
    on = eval_clip(pipeline, path, Settings(), 40)
    off = eval_clip(pipeline, path, Settings(skin_guard=False), 40)
    assert on["frames"] == off["frames"] == 40
    assert on["flicker"] <= off["flicker"] * 1.03
