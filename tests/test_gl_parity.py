"""Parity of the GLSL compositor (shaders/composite.frag + recolor.frag) with its CPU twins
(``refine.upsample_alpha``, ``recolor.recolor`` via ``pipeline.composite``, and
``pipeline.render_view``), at the frame's own size.

How it runs: the GL side renders in a separate worker process on a private Xvfb (Mesa
llvmpipe), because this process's Qt (if any) is on the ``offscreen`` platform, which has no
OpenGL, and Qt picks its platform once per process; see ``tests/glx.py``. The model, the CPU
path and every assertion stay in this process. Skips, with the reason, when Xvfb or a usable
OpenGL 3.3 is missing.

Tolerance: at most ``MAX_LEVEL_DIFF`` (1) grey level on any channel of any pixel, and at most
``MAX_DIFFERING_FRACTION`` (0.1%) of channel values differing at all. Measured with Mesa
22.3.6 llvmpipe (LLVM 15): **bit-identical** (max difference 0, no differing value) on every
real and synthetic case here; the shader evaluates the CPU's float32 formulas in the same
order at the same sample positions (gl_FragCoord pixel centres, texelFetch bilinear with
float32 weights). The one level of slack covers other GL implementations, which may compute
division, exp and tanh less exactly or fuse multiply-adds, and so land on the other side of
a floor(x + 0.5) now and then; anything larger is a real difference in the formula.
With two people (their own looks, mixed by whose hair it is) one value of one pixel differs
by 1, in the recolour itself: one person's look drawn for everyone differs there the same."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.core.palette import PALETTE, Color
from colorme_live.core.pipeline import (
    Analysis,
    PersonLook,
    Pipeline,
    Prepared,
    composite,
    prepare,
    render_view,
)
from colorme_live.core.recolor import make_look
from colorme_live.core.refine import coefficients, luma
from colorme_live.core.segmentation import HairSegmenter
from colorme_live.core.settings import RefineSettings, Settings, View
from tests.conftest import SHARED_FACE_MODEL, _need, clip
from tests.glx import GLWorker, gl_worker_fixture  # noqa: F401 (the gl_worker fixture)

pytestmark = pytest.mark.gl

MAX_LEVEL_DIFF = 1
MAX_DIFFERING_FRACTION = 1e-3
INTENSITIES = (0, 50, 100)
COLORS_PER_FRAME = 3

# (kind, name, frame number for videos): portraits, a labelled photo, video frames. Sizes
# include odd ones (533x710, 685x946, 398x396) and a tall 720x1280 video.
SOURCES = (
    ("portrait", "lp_d9_woman_long_blonde_brown_hair.jpg", 0),
    ("portrait", "pakutaso_woman_long_dark_hair_white_top.jpg", 0),
    ("portrait", "pakutaso_selfie2anime_5.jpg", 0),
    ("image", "figaro_curly_Frame00321.jpg", 0),
    ("video", "pexels_red_hair_woman_makeup", 8),
    ("video", "lp_d13_selfie_man_glasses_static", 5),
    ("video", "tk_man_black_hair_guitar_head_motion", 8),
)


@dataclass(frozen=True)
class Diff:
    max: int
    differing: float
    """Fraction of channel values that differ at all."""


def diff(gl: np.ndarray, cpu: np.ndarray) -> Diff:
    assert gl.shape == cpu.shape and gl.dtype == cpu.dtype == np.uint8
    d = np.abs(gl.astype(np.int16) - cpu.astype(np.int16))
    return Diff(int(d.max()), float(np.count_nonzero(d)) / d.size)


def assert_parity(gl: np.ndarray, cpu: np.ndarray, what: str) -> Diff:
    r = diff(gl, cpu)
    assert r.max <= MAX_LEVEL_DIFF and r.differing <= MAX_DIFFERING_FRACTION, (
        f"{what}: GL and CPU differ by up to {r.max} levels on {100 * r.differing:.4f}% of"
        f" values (allowed {MAX_LEVEL_DIFF} on {100 * MAX_DIFFERING_FRACTION}%)"
    )
    return r


def cpu_view(frame: np.ndarray, analysis: Analysis, prepared: Prepared, s: Settings) -> np.ndarray:
    return render_view(frame, composite(frame, analysis, s, prepared), s)


def _load(media_dir: Path, kind: str, name: str, n: int) -> list[np.ndarray]:
    if kind == "video":
        cap = cv2.VideoCapture(str(clip(media_dir, name)))
        frames: list[np.ndarray] = []
        while len(frames) < n:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
        cap.release()
        assert len(frames) == n, f"{name}: only {len(frames)} frames"
        return frames
    folder = "portraits" if kind == "portrait" else "images"
    image = cv2.imread(str(media_dir / folder / name))
    if image is None:
        pytest.skip(f"{folder}/{name} not in the shared media")
    return [image]


@pytest.mark.parametrize(("index", "source"), list(enumerate(SOURCES)), ids=[s[1] for s in SOURCES])
def test_real_frames_match_the_cpu_path(
    gl_worker: GLWorker, media_dir: Path, model_path: Path, index: int, source: tuple[str, str, int]
) -> None:
    """Real frames through the real model: three palette colours per frame (all ten over the
    sources), intensities 0/50/100, all three views, split divider at an odd position.
    Videos are analysed over their first frames and the last frame is composited with the
    previous frame's mask, as the live engine does."""
    kind, name, n = source
    frames = [np.ascontiguousarray(f) for f in _load(media_dir, kind, name, n or 1)]
    with Pipeline(HairSegmenter(model_path)) as pipeline:
        state = None
        for f in frames[:-1] or frames:
            analysis, state = pipeline.analyse(f, Settings(), state)
    frame = frames[-1]
    worst = Diff(0, 0.0)
    for k in range(COLORS_PER_FRAME):
        color = PALETTE[(COLORS_PER_FRAME * index + k) % len(PALETTE)]
        base = Settings(color=color, split=0.3 + 0.07 * index)
        prepared = prepare(frame, analysis, base)
        for intensity in INTENSITIES:
            for view in View:
                s = Settings(color=color, intensity=intensity, view=view, split=base.split)
                cpu = cpu_view(frame, analysis, prepared, s)
                gl = gl_worker.call("render", frame, prepared, s)
                r = assert_parity(gl, cpu, f"{name} {color.name} {intensity}% {view.value}")
                worst = Diff(max(worst.max, r.max), max(worst.differing, r.differing))
                if view is View.RECOLOR and intensity == 100:
                    assert np.any(cpu != frame), "nothing recoloured: the case tests nothing"
        alpha = composite(frame, analysis, base, prepared).alpha
        assert alpha.max() > 0.5 and alpha.min() == 0.0, "expected hair and non-hair"
    print(f"{name}: max diff {worst.max}, differing {100 * worst.differing:.4f}%")


def _synthetic(
    w: int, h: int, cw: int, ch: int, seed: int, prob_level: float | None = None
) -> tuple[np.ndarray, Prepared, Analysis]:
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if w > 4 and h > 4:
        frame = np.ascontiguousarray(cv2.GaussianBlur(frame, (0, 0), 1.5).reshape(h, w, 3))
    if prob_level is None:
        yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
        r = np.hypot((xx + 0.5 - cw / 2) / (cw / 3 + 0.5), (yy + 0.5 - ch / 2) / (ch / 3 + 0.5))
        prob = np.clip(1.4 - r, 0.0, 1.0).astype(np.float32)
    else:
        prob = np.full((ch, cw), prob_level, np.float32)
    small = cv2.resize(frame, (cw, ch), interpolation=cv2.INTER_AREA).reshape(ch, cw, 3)
    analysis = Analysis(0, prob, prob, 0.4)
    coeffs = coefficients(prob, luma(np.ascontiguousarray(small)), RefineSettings())
    return frame, Prepared(coeffs, make_look(PALETTE[8], 0.4), {}), analysis


@pytest.mark.parametrize(
    ("w", "h", "cw", "ch"),
    [
        (1, 1, 1, 1),
        (2, 3, 1, 1),
        (3, 2, 5, 7),  # coefficients larger than the frame
        (7, 5, 3, 2),
        (641, 479, 128, 96),  # odd width: rows not 4-byte aligned
        (1280, 720, 256, 144),
        (333, 1001, 85, 256),
    ],
)
def test_synthetic_sizes_and_views(gl_worker: GLWorker, w: int, h: int, cw: int, ch: int) -> None:
    frame, prepared, analysis = _synthetic(w, h, cw, ch, seed=w * h)
    for split in (0.0, 0.41, 1.0):
        for view in View:
            for intensity in (35, 100):
                s = Settings(color=PALETTE[8], intensity=intensity, view=view, split=split)
                gl = gl_worker.call("render", frame, prepared, s)
                assert_parity(gl, cpu_view(frame, analysis, prepared, s), f"{w}x{h} {s}")


@pytest.mark.parametrize(
    "color",
    [
        Color("black", (0, 0, 0)),
        Color("white", (255, 255, 255)),
        Color("grey", (128, 128, 128)),
        *PALETTE,
    ],
    ids=lambda c: c.name,
)
def test_every_colour_on_black_white_and_grey_pixels(gl_worker: GLWorker, color: Color) -> None:
    """Saturation 0 targets, hue wrap-around (palette), and black/white/grey source pixels,
    under full alpha: the soft-clip knees and the hsv_to_rgb closed form at their edges."""
    frame, _, analysis = _synthetic(64, 48, 16, 12, seed=1)
    frame[:16] = 0
    frame[16:32] = 255
    frame[32:, :, :] = np.arange(64, dtype=np.uint8)[None, :, None] * 4
    for hair_value in (0.0, 0.35, 1.0):
        # Band everywhere and a ramp that saturates: alpha exactly 1 on most pixels.
        coeffs = np.zeros((12, 16, 3), np.float32)
        coeffs[..., 1] = 1.0
        coeffs[..., 2] = 1.0
        coeffs[:, :4, 1] = 0.5  # a partial alpha on the left
        prepared = Prepared(coeffs, make_look(color, hair_value), {})
        s = Settings(color=color, intensity=100)
        gl = gl_worker.call("render", frame, prepared, s)
        assert_parity(gl, cpu_view(frame, analysis, prepared, s), f"{color} v_h={hair_value}")


def test_no_band_leaves_the_frame_untouched(gl_worker: GLWorker) -> None:
    """A probability that is nowhere above 0.5 gives no band: alpha exactly 0, so the
    recolour and split views are the frame itself and the mask view is black."""
    frame, prepared, _ = _synthetic(160, 90, 32, 18, seed=3, prob_level=0.3)
    assert not prepared.coeffs[..., 2].any()
    for view in (View.RECOLOR, View.MASK):
        s = Settings(intensity=100, view=view)
        gl = gl_worker.call("render", frame, prepared, s)
        expected = frame if view is View.RECOLOR else np.zeros_like(frame)
        np.testing.assert_array_equal(gl, expected)


@pytest.mark.parametrize("view", list(View))
def test_before_the_first_mask_the_frame_is_shown_as_it_is(gl_worker: GLWorker, view: View) -> None:
    """``prepared is None`` (no mask yet): every view shows the plain frame, as the engine's
    CPU path does."""
    frame, _, _ = _synthetic(321, 241, 64, 48, seed=4)
    gl = gl_worker.call("render", frame, None, Settings(view=view, intensity=100))
    np.testing.assert_array_equal(gl, frame)


def test_intensity_zero_is_bit_exact(gl_worker: GLWorker) -> None:
    frame, prepared, _ = _synthetic(200, 100, 40, 20, seed=5)
    gl = gl_worker.call("render", frame, prepared, Settings(intensity=0))
    np.testing.assert_array_equal(gl, frame)


# -- several people, each in their own look --------------------------------------------------

DARK_HAIR = "pakutaso_man_suit_short_black_hair.jpg"
LIGHT_HAIR = "lp_d9_woman_long_blonde_brown_hair.jpg"


def test_two_people_are_each_drawn_in_their_own_look(
    gl_worker: GLWorker, media_dir: Path, model_path: Path
) -> None:
    """Dark and light hair side by side (the bench's sitting-back layout, held still until
    both regions are tracked): the CPU recolours each person by their own hair brightness
    and mixes them in by whose hair it is; the GL view draws the same."""
    from colorme_live.core.bench import sitting_back
    from colorme_live.core.faces import FaceDetector, tiles
    from colorme_live.core.regions import CONFIRM_SEEN

    face_model = _need(SHARED_FACE_MODEL, "the shared face model")
    people = []
    for name in (DARK_HAIR, LIGHT_HAIR):
        image = cv2.imread(str(media_dir / "portraits" / name))
        if image is None:
            pytest.skip(f"portraits/{name} not in the shared media")
        people.append(image)
    frame = sitting_back(people)
    with Pipeline(HairSegmenter(model_path), FaceDetector(face_model)) as pipeline:
        state = None
        for _ in range(len(tiles((1280, 720))) + 1 + CONFIRM_SEEN):
            result, state = pipeline.step(frame, Settings(), state)
    analysis = result.analysis
    assert len(analysis.regions) == 2 and analysis.owner is not None
    for color in (PALETTE[2], PALETTE[8]):
        base = Settings(color=color, split=0.47)
        prepared = prepare(frame, analysis, base)
        assert len(prepared.people) == 2
        values = [p.look.hair_value for p in prepared.people]
        assert abs(values[0] - values[1]) > 0.1, values
        for intensity in (50, 100):
            for view in (View.RECOLOR, View.SPLIT):
                s = replace(base, intensity=intensity, view=view)
                cpu = cpu_view(frame, analysis, prepared, s)
                gl = gl_worker.call("render", frame, prepared, s)
                r = assert_parity(gl, cpu, f"{color.name} {intensity}% {view.value}")
                print(f"{color.name} {intensity}% {view.value}: max {r.max}, {r.differing:.6f}")
        # one shared look for both (what the GL view drew before) is visibly not the CPU's
        s = replace(base, intensity=100)
        shared = gl_worker.call("render", frame, replace(prepared, people=()), s)
        off = np.abs(shared.astype(np.int16) - cpu_view(frame, analysis, prepared, s)).max(axis=2)
        assert np.count_nonzero(off > 8) > 1000, "the people's looks do not matter here"


@pytest.mark.parametrize(
    ("w", "h", "cw", "ch"), [(641, 479, 128, 96), (1280, 720, 256, 144), (333, 1001, 85, 256)]
)
def test_three_looks_meet_where_the_owner_map_changes(
    gl_worker: GLWorker, w: int, h: int, cw: int, ch: int
) -> None:
    """Three people's looks over one blob of hair, whose owner changes at a diagonal and a
    vertical line of the coefficients' map: the GL mix at the seams (bilinear shares in
    1/256 steps) is the CPU's ``ombre.mix``, at odd scales."""
    frame, single, analysis = _synthetic(w, h, cw, ch, seed=w + h)
    yy, xx = np.mgrid[0:ch, 0:cw]
    owner = np.where(xx < cw // 3, 0, np.where(yy * cw < (xx - cw // 3) * ch, 1, 2))
    people = tuple(PersonLook(make_look(PALETTE[8], value), None) for value in (0.1, 0.45, 0.8))
    prepared = replace(single, people=people, owner=owner.astype(np.uint8))
    for view in (View.RECOLOR, View.SPLIT, View.MASK):
        s = Settings(color=PALETTE[8], intensity=90, view=view, split=0.25)
        gl = gl_worker.call("render", frame, prepared, s)
        assert_parity(gl, cpu_view(frame, analysis, prepared, s), f"{w}x{h} {view.value}")
    s = Settings(color=PALETTE[8], intensity=90)
    shared = gl_worker.call("render", frame, single, s)
    assert np.count_nonzero(shared != cpu_view(frame, analysis, prepared, s)) > 1000
