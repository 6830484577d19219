"""The recolour kernels (`colorme_live.core.recolor`) against the slow `colorsys` oracle and the
NumPy reference, their edge cases and contracts, and how the result looks on real hair."""

from __future__ import annotations

import colorsys
import functools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numba
import numpy as np
import numpy.typing as npt
import pytest

from colorme_live.core.palette import PALETTE, Color, parse_color
from colorme_live.core.recolor import (
    DEFAULT_HAIR_VALUE,
    PARAM_NAMES,
    Look,
    channel_factor,
    hair_value,
    make_look,
    recolor,
    recolor_params,
    warm_shift,
)
from colorme_live.core.recolor_reference import recolor_numpy, recolor_oracle

Frame = npt.NDArray[np.uint8]
Alpha = npt.NDArray[np.float32]

TOLERANCE = 1
"""Kernel and NumPy reference (float32) vs the oracle (float64): at most 1 grey level of
absolute difference per channel; only values that land within float32 rounding of a .5
boundary can differ."""
EXACT_FRACTION = 0.99
"""...and on frames of 100+ pixels at least this fraction of the channel values is identical."""

REPO = Path(__file__).resolve().parents[1]

WRAP_RED = Color("wrap red", (255, 0, 40))  # hue ~0.974, just below 360 degrees
WRAP_ORANGE = Color("wrap orange", (250, 20, 0))  # hue ~0.013, just above 0
GREY = Color("grey", (128, 128, 128))  # saturation 0
CUSTOM = Color("custom teal", (20, 160, 150))
COLORS = (*PALETTE, WRAP_RED, WRAP_ORANGE, GREY, CUSTOM)


def _ids(colors: tuple[Color, ...]) -> list[str]:
    return [c.name.replace(" ", "-") for c in colors]


def random_frame(rng: np.random.Generator, h: int, w: int) -> Frame:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def random_alpha(rng: np.random.Generator, h: int, w: int) -> Alpha:
    """Uniform alpha with about 30% exact zeros and 20% exact ones."""
    alpha = rng.random((h, w), dtype=np.float32)
    pick = rng.random((h, w))
    alpha[pick < 0.3] = 0.0
    alpha[pick > 0.8] = 1.0
    return alpha


def assert_close_to_oracle(got: Frame, want: Frame) -> None:
    assert got.dtype == np.uint8
    assert got.shape == want.shape
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert diff.max() <= TOLERANCE, f"max difference {diff.max()} grey levels"
    if diff.size >= 300:
        assert (diff == 0).mean() >= EXACT_FRACTION, f"{(diff != 0).mean():.3%} differ"


def kernel(parallel: bool) -> Callable[[Frame, Alpha, Color, float, float], Frame]:
    def run(frame: Frame, alpha: Alpha, color: Color, hv: float, strength: float) -> Frame:
        return recolor(frame, alpha, make_look(color, hv), strength, parallel=parallel)

    return run


def numpy_ref(frame: Frame, alpha: Alpha, color: Color, hv: float, strength: float) -> Frame:
    return recolor_numpy(frame, alpha, make_look(color, hv), strength)


IMPLEMENTATIONS = {
    "serial": kernel(parallel=False),
    "parallel": kernel(parallel=True),
    "numpy": numpy_ref,
}


# --------------------------------------------------------------------------------------------
# Real photos


def _load_pair(
    media_dir: Path, name: str, long_side: int
) -> tuple[Frame, Alpha, npt.NDArray[np.bool_]]:
    """A real photo and its ground-truth hair mask, downscaled; alpha is the mask slightly
    blurred (soft edges), ``inner`` the eroded hard mask (hair away from its edges)."""
    image = cv2.imread(str(media_dir / "images" / f"{name}.jpg"), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(media_dir / "images" / "masks" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    if image is None or mask is None:
        pytest.skip(f"media file {name} missing from {media_dir}")
    scale = long_side / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / np.float32(255.0), (0, 0), 1.5)
    inner = cv2.erode((mask > 127).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return np.ascontiguousarray(image), alpha.astype(np.float32), inner


@functools.cache
def _portrait(media: str) -> tuple[Frame, Alpha, float]:
    """A 96x72 crop of a real portrait (long, textured blonde-brown hair) with a soft alpha
    shaped like a refined hair mask: exactly 0 far away, exactly 1 inside, feathered between."""
    image = cv2.imread(
        str(Path(media) / "portraits" / "lp_d9_woman_long_blonde_brown_hair.jpg"), cv2.IMREAD_COLOR
    )
    if image is None:
        pytest.skip(f"portrait missing from {media}")
    frame = cv2.resize(image[:540, :720], (96, 72), interpolation=cv2.INTER_AREA)
    hard = np.zeros((72, 96), np.float32)
    cv2.ellipse(hard, (48, 34), (40, 38), 0, 0, 360, 1.0, -1)
    cv2.ellipse(hard, (48, 42), (13, 20), 0, 0, 360, 0.0, -1)  # the face
    soft = cv2.GaussianBlur(hard, (0, 0), 2.0)
    alpha = np.clip((soft - 0.15) / 0.7, 0.0, 1.0).astype(np.float32)
    return np.ascontiguousarray(frame), alpha, hair_value(frame, alpha)


@functools.cache
def _portrait_oracle(media: str, color: Color, strength: float) -> Frame:
    frame, alpha, hv = _portrait(media)
    return recolor_oracle(frame, alpha, color, hv, strength)


PORTRAIT_CASES = [
    pytest.param(parse_color(name), s, id=f"{name.replace(' ', '-')}-{s}")
    for name, s in (
        ("platinum", 1.0),
        ("jet black", 1.0),
        ("electric blue", 0.6),
        ("burgundy", 1.0),
        ("pastel pink", 0.35),
    )
] + [pytest.param(WRAP_RED, 0.8, id="wrap-red-0.8"), pytest.param(CUSTOM, 1.0, id="custom-1.0")]


# --------------------------------------------------------------------------------------------
# Kernel and NumPy reference vs the oracle


@pytest.mark.parametrize("color", COLORS, ids=_ids(COLORS))
def test_kernel_vs_oracle_random(color: Color) -> None:
    rng = np.random.default_rng(sum(color.rgb))
    frame = random_frame(rng, 17, 23)
    alpha = random_alpha(rng, 17, 23)
    for hv, strength in ((float(rng.random()), 1.0), (float(rng.random()), 0.45)):
        want = recolor_oracle(frame, alpha, color, hv, strength)
        assert_close_to_oracle(kernel(parallel=False)(frame, alpha, color, hv, strength), want)
        assert_close_to_oracle(kernel(parallel=True)(frame, alpha, color, hv, strength), want)


@pytest.mark.parametrize(("color", "strength"), PORTRAIT_CASES)
def test_kernel_vs_oracle_portrait(media_dir: Path, color: Color, strength: float) -> None:
    frame, alpha, hv = _portrait(str(media_dir))
    assert_close_to_oracle(
        recolor(frame, alpha, make_look(color, hv), strength),
        _portrait_oracle(str(media_dir), color, strength),
    )


@pytest.mark.parametrize("color", [*PALETTE[::3], WRAP_RED], ids=_ids((*PALETTE[::3], WRAP_RED)))
def test_recolor_numpy_vs_oracle_random(color: Color) -> None:
    rng = np.random.default_rng(7 + sum(color.rgb))
    frame = random_frame(rng, 19, 21)
    alpha = random_alpha(rng, 19, 21)
    hv = float(rng.random())
    for strength in (1.0, 0.3):
        want = recolor_oracle(frame, alpha, color, hv, strength)
        assert_close_to_oracle(numpy_ref(frame, alpha, color, hv, strength), want)


@pytest.mark.parametrize(("color", "strength"), PORTRAIT_CASES[:3])
def test_recolor_numpy_vs_oracle_portrait(media_dir: Path, color: Color, strength: float) -> None:
    frame, alpha, hv = _portrait(str(media_dir))
    assert_close_to_oracle(
        numpy_ref(frame, alpha, color, hv, strength),
        _portrait_oracle(str(media_dir), color, strength),
    )


def test_oracle_closed_form_hsv_matches_colorsys() -> None:
    """``v * (1 - s * f_n(h))`` (`channel_factor`, n = 5, 3, 1) is `colorsys.hsv_to_rgb`, for
    all hues, including turned ones outside 0..1 (the kernels' ``h'`` before wrapping)."""
    rng = np.random.default_rng(3)
    for hue, s, v in rng.random((300, 3)):
        h = float(hue) * 1.2 - 0.1
        want = colorsys.hsv_to_rgb(h % 1.0, float(s), float(v))
        got = tuple(float(v) * (1 - float(s) * channel_factor(n, h)) for n in (5, 3, 1))
        assert got == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "turn_deg"),
    [  # by hand from the hues (degrees, colorsys): 0.4 * delta * clamp((70 - delta) / 25, 0, 1)
        ("chestnut", 0.4 * (45 - 18.701)),  # 26.3 deg below gold: the full 40% of the way
        ("copper", 0.4 * (45 - 18.723)),
        ("honey blonde", 0.4 * (45 - 34.679)),
        ("platinum", 0.4 * (45 - 42.353)),
        ("burgundy", 0.4 * 58.953 * (70 - 58.953) / 25),  # hue 346.047: inside the fade
        ("pastel pink", 0.4 * 68.684 * (70 - 68.684) / 25),  # hue 336.316: nearly faded out
        ("electric blue", 0.0),  # past gold: no turn
        ("lavender", 0.0),
    ],
)
def test_warm_targets_turn_their_highlights_towards_gold(name: str, turn_deg: float) -> None:
    """`warm_shift`: a target ``delta`` degrees below gold (45 deg) turns its full highlights
    ``0.4 * delta``, faded out between 45 and 70 degrees below gold; hues at or past gold 0."""
    hue = parse_color(name).hsv[0]
    assert warm_shift(hue) * 360 == pytest.approx(turn_deg, abs=0.01)
    assert make_look(parse_color(name), 0.3).hue_shift == warm_shift(hue)
    assert warm_shift(hue + 1e-9) == pytest.approx(warm_shift(hue), abs=1e-6)  # continuous


def test_warm_highlights_read_golden_not_pink() -> None:
    """Copper: a highlight's hue turns up towards gold (golden, not salmon-pink) and a shadow's
    the other way (deeper red); electric blue (past gold) keeps its hue in both."""

    def hues(color: Color) -> list[float]:
        frame = np.array([[[60] * 3, [200] * 3, [20] * 3]], np.uint8)  # mean, highlight, shadow
        out = recolor(frame, np.ones((1, 3), np.float32), make_look(color, 60 / 255), 1.0)
        return [360 * colorsys.rgb_to_hsv(*(px[::-1] / 255))[0] for px in out[0].astype(float)]

    mean, high, shadow = hues(parse_color("copper"))
    assert mean == pytest.approx(18.7, abs=0.5)
    assert high > mean + 5
    assert shadow < mean - 2
    mean, high, shadow = hues(parse_color("electric blue"))
    assert high == pytest.approx(mean, abs=1.0)
    assert shadow == pytest.approx(mean, abs=1.0)


# --------------------------------------------------------------------------------------------
# Edge cases: one template


def _solid(bgr: tuple[int, int, int], h: int = 4, w: int = 5) -> Frame:
    return np.ascontiguousarray(np.broadcast_to(np.array(bgr, np.uint8), (h, w, 3)))


def _ramp_alpha(h: int = 4, w: int = 5) -> Alpha:
    return np.linspace(0.0, 1.0, h * w, dtype=np.float32).reshape(h, w)


_RNG = np.random.default_rng(11)
EDGE_CASES = [
    # id, frame, alpha, colour, hair value, strength, output must equal input exactly
    ("black-pixels", _solid((0, 0, 0)), _ramp_alpha(), parse_color("platinum"), 0.35, 1.0, False),
    ("grey-pixels", _solid((128, 128, 128)), _ramp_alpha(), parse_color("copper"), 0.5, 1.0, False),
    (
        "white-pixels",
        _solid((255, 255, 255)),
        _ramp_alpha(),
        parse_color("jet black"),
        0.9,
        1.0,
        False,
    ),
    ("grey-target", random_frame(_RNG, 6, 7), random_alpha(_RNG, 6, 7), GREY, 0.4, 1.0, False),
    ("hue-wrap-pixels", _solid((30, 0, 255)), _ramp_alpha(), WRAP_ORANGE, 0.6, 1.0, False),
    ("hue-wrap-target-red", random_frame(_RNG, 6, 7), _ramp_alpha(6, 7), WRAP_RED, 0.3, 0.9, False),
    (
        "hue-wrap-target-orange",
        random_frame(_RNG, 6, 7),
        _ramp_alpha(6, 7),
        WRAP_ORANGE,
        0.3,
        1.0,
        False,
    ),
    (
        "alpha-0",
        random_frame(_RNG, 6, 7),
        np.zeros((6, 7), np.float32),
        parse_color("lavender"),
        0.2,
        1.0,
        True,
    ),
    (
        "alpha-negative-0",
        random_frame(_RNG, 6, 7),
        np.full((6, 7), -0.0, np.float32),
        parse_color("lavender"),
        0.2,
        1.0,
        True,
    ),
    (
        "alpha-1",
        random_frame(_RNG, 6, 7),
        np.ones((6, 7), np.float32),
        parse_color("chestnut"),
        0.5,
        1.0,
        False,
    ),
    (
        "strength-0",
        random_frame(_RNG, 6, 7),
        random_alpha(_RNG, 6, 7),
        parse_color("electric blue"),
        0.5,
        0.0,
        True,
    ),
    (
        "tiny-strength",
        random_frame(_RNG, 6, 7),
        random_alpha(_RNG, 6, 7),
        parse_color("copper"),
        0.5,
        1e-6,
        False,
    ),
    (
        "1x1",
        random_frame(_RNG, 1, 1),
        np.ones((1, 1), np.float32),
        parse_color("burgundy"),
        0.3,
        1.0,
        False,
    ),
    (
        "7x13",
        random_frame(_RNG, 7, 13),
        random_alpha(_RNG, 7, 13),
        parse_color("honey blonde"),
        0.4,
        0.7,
        False,
    ),
    (
        "13x7",
        random_frame(_RNG, 13, 7),
        random_alpha(_RNG, 13, 7),
        parse_color("pastel pink"),
        0.4,
        0.7,
        False,
    ),
    (
        "wide-zero-ends",
        random_frame(_RNG, 3, 150),
        np.pad(np.ones((3, 5), np.float32), ((0, 0), (70, 75))),
        CUSTOM,
        0.4,
        1.0,
        False,
    ),
    (
        "hair-value-0",
        random_frame(_RNG, 6, 7),
        random_alpha(_RNG, 6, 7),
        parse_color("platinum"),
        0.0,
        1.0,
        False,
    ),
    (
        "hair-value-1",
        random_frame(_RNG, 6, 7),
        random_alpha(_RNG, 6, 7),
        parse_color("jet black"),
        1.0,
        1.0,
        False,
    ),
    (
        "black-target-black-hair",
        _solid((0, 0, 0)),
        np.ones((4, 5), np.float32),
        Color("black", (0, 0, 0)),
        0.0,
        1.0,
        False,
    ),
    (
        "white-target-white-hair",
        _solid((255, 255, 255)),
        np.ones((4, 5), np.float32),
        Color("white", (255, 255, 255)),
        1.0,
        1.0,
        False,
    ),
]


@pytest.mark.parametrize("impl", list(IMPLEMENTATIONS))
@pytest.mark.parametrize(
    ("frame", "alpha", "color", "hv", "strength", "unchanged"),
    [pytest.param(*case[1:], id=case[0]) for case in EDGE_CASES],
)
def test_edge_case(
    impl: str,
    frame: Frame,
    alpha: Alpha,
    color: Color,
    hv: float,
    strength: float,
    unchanged: bool,
) -> None:
    before = frame.copy()
    got = IMPLEMENTATIONS[impl](frame, alpha, color, hv, strength)
    assert np.array_equal(frame, before), "the input frame was modified"
    assert got is not frame
    assert_close_to_oracle(got, recolor_oracle(frame, alpha, color, hv, strength))
    if unchanged:
        assert np.array_equal(got, frame), "w == 0 must give the input bit-exactly"


def test_edge_zero_weight_pixels_are_bit_exact() -> None:
    """Wherever alpha is 0 the output is the input exactly, next to recoloured pixels."""
    rng = np.random.default_rng(5)
    frame = random_frame(rng, 33, 71)
    alpha = random_alpha(rng, 33, 71)
    zero = alpha == 0
    for impl in IMPLEMENTATIONS.values():
        got = impl(frame, alpha, parse_color("electric blue"), 0.2, 1.0)
        assert np.array_equal(got[zero], frame[zero])
        assert not np.array_equal(got[~zero], frame[~zero])


def test_edge_alpha_1_strength_1_is_the_target_colour() -> None:
    """With full weight every pixel becomes ``255 * hsv_to_rgb(h_t, s', v')`` (rounded): at the
    hair's own mean level, ``v' = min(v_t, 0.76)``, ``s' = s_t`` and ``h' = h_t`` (no highlight
    and no shadow)."""
    color = parse_color("copper")
    frame = _solid((40, 60, 90), 2, 3)
    level = (77 * 90 + 150 * 60 + 29 * 40 + 128) >> 8  # 67
    out = recolor(frame, np.ones((2, 3), np.float32), make_look(color, level / 255), 1.0)
    h, s, v_t = color.hsv
    r, g, b = colorsys.hsv_to_rgb(h, s, min(v_t, 0.76))
    assert np.abs(out.astype(int) - np.round(np.array([b, g, r]) * 255)).max() <= TOLERANCE


# --------------------------------------------------------------------------------------------
# Golden values: the formula of recolor.py's docstring, evaluated by hand (float64, with the
# constants typed in, by a stand-alone script that imports nothing from colorme_live) for a
# few pixels. Any change to a constant or a step of the formula fails here until this table
# is updated on purpose. Every expected value lies at least 0.05 of a level away from a
# rounding boundary (or is clamped at 255), so float32 twins must give exactly these numbers.

GOLDEN = [
    # id, pixel BGR, target RGB, hair value, shine, strength (alpha 1), expected BGR
    ("dark-to-blue", (40, 52, 60), (0x1E, 0x5B, 0xFF), 0.2, 50, 1.0, (199, 71, 24)),
    ("highlight-to-blue", (200, 210, 220), (0x1E, 0x5B, 0xFF), 0.2, 50, 1.0, (255, 148, 109)),
    ("shadow-to-platinum", (12, 14, 18), (0xE4, 0xDF, 0xD3), 0.15, 50, 1.0, (113, 122, 126)),
    ("platinum-knee", (90, 110, 130), (0xE4, 0xDF, 0xD3), 0.15, 50, 1.0, (243, 252, 255)),
    ("light-to-jet-black", (150, 172, 190), (0x1C, 0x1A, 0x1B), 0.6, 50, 1.0, (38, 37, 39)),
    ("jet-black-glossy", (220, 225, 230), (0x1C, 0x1A, 0x1B), 0.6, 100, 1.0, (131, 129, 133)),
    ("copper-matte", (120, 100, 80), (0xB8, 0x57, 0x2B), 0.35, 0, 1.0, (45, 90, 190)),
    ("copper-glossy", (120, 100, 80), (0xB8, 0x57, 0x2B), 0.35, 100, 1.0, (50, 98, 200)),
    # a full highlight, turned 10.51 deg towards gold (hue 29.23): G 190, not 168 (salmon)
    ("copper-highlight", (170, 180, 190), (0xB8, 0x57, 0x2B), 0.25, 50, 1.0, (128, 190, 255)),
    # a deep shadow: saturation capped at 1 (B 0), turned 5.26 deg the other way
    ("chestnut-shadow", (20, 24, 28), (0x6F, 0x3A, 0x22), 0.3, 50, 1.0, (0, 9, 41)),
    ("pink-half-strength", (60, 80, 120), (0xF2, 0xA6, 0xC4), 0.3, 50, 0.5, (118, 115, 169)),
    ("black-to-lavender", (0, 0, 0), (0xA0, 0x82, 0xDC), 0.32, 50, 1.0, (10, 4, 6)),
    ("white-hair-value-0", (255, 255, 255), (0x70, 0x1A, 0x2E), 0.0, 50, 1.0, (135, 128, 255)),
    ("grey-target", (30, 40, 50), (128, 128, 128), 0.4, 50, 0.8, (49, 51, 53)),
]


@pytest.mark.parametrize(
    ("pixel", "rgb", "hv", "shine", "strength", "want"),
    [pytest.param(*case[1:], id=case[0]) for case in GOLDEN],
)
def test_golden_values(
    pixel: tuple[int, int, int],
    rgb: tuple[int, int, int],
    hv: float,
    shine: int,
    strength: float,
    want: tuple[int, int, int],
) -> None:
    color = Color("golden", rgb)
    frame = _solid(pixel, 3, 5)
    alpha = np.ones((3, 5), np.float32)
    look = make_look(color, hv, shine)
    expected = np.broadcast_to(np.array(want, np.uint8), frame.shape)
    twins = {
        "serial": recolor(frame, alpha, look, strength, parallel=False),
        "parallel": recolor(frame, alpha, look, strength, parallel=True),
        "numpy": recolor_numpy(frame, alpha, look, strength),
        "oracle": recolor_oracle(frame, alpha, color, hv, strength, shine),
    }
    for name, got in twins.items():
        assert np.array_equal(got, expected), f"{name}: {got[0, 0]} != {want}"


def test_oracle_keeps_its_own_constants() -> None:
    """The oracle must not read recolor.py's constants (a changed constant would then move
    the oracle with it and no parity test could see it)."""
    import ast

    source = (REPO / "colorme_live" / "core" / "recolor_reference.py").read_text()
    tree = ast.parse(source)
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "colorme_live.core.recolor"
        for alias in node.names
    }
    oracle = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "oracle_target_rgb"
    )
    used = {n.id for n in ast.walk(oracle) if isinstance(n, ast.Name)}
    assert not used & imported, f"the oracle uses {sorted(used & imported)} from recolor.py"


def test_params_array_has_one_entry_per_name() -> None:
    look = make_look(parse_color("copper"), 0.3, 70)
    params = recolor_params(look, 0.6)
    assert params.dtype == np.float32
    assert params.shape == (len(PARAM_NAMES),)
    assert len(set(PARAM_NAMES)) == len(PARAM_NAMES)
    named = dict(zip(PARAM_NAMES, params.tolist(), strict=True))
    assert named["strength"] == pytest.approx(0.6)
    assert named["centre"] == pytest.approx(look.centre)
    assert named["gain_high"] == pytest.approx(look.gain_high)


def test_shine_changes_only_the_highlights() -> None:
    """More shine: highlights brighter and paler; the hair's mean level and its shadows stay."""
    color = parse_color("chestnut")
    frame = np.array([[[20, 25, 30], [60, 80, 100], [140, 160, 180]]], np.uint8)
    alpha = np.ones((1, 3), np.float32)
    mean = ((77 * 100 + 150 * 80 + 29 * 60 + 128) >> 8) / 255
    outs = [recolor(frame, alpha, make_look(color, mean, shine), 1.0) for shine in (0, 50, 100)]
    for out in outs[1:]:
        assert np.array_equal(out[0, :2], outs[0][0, :2])  # shadow and mean unchanged
    highs = [o[0, 2].astype(int) for o in outs]
    assert highs[0].sum() < highs[1].sum() < highs[2].sum()
    spread = [int(h.max() - h.min()) for h in highs]  # saturation proxy: channel spread
    assert spread[2] / highs[2].max() < spread[0] / highs[0].max()


# --------------------------------------------------------------------------------------------
# Serial vs parallel, in place, out


def test_serial_and_parallel_kernels_agree_exactly() -> None:
    rng = np.random.default_rng(1)
    for h, w in ((1, 1), (15, 9), (37, 101), (161, 203)):  # heights not multiples of 16
        frame = random_frame(rng, h, w)
        alpha = random_alpha(rng, h, w)
        alpha[: h // 3] = 0.0  # whole zero rows
        for color, hv, strength in ((PALETTE[5], 0.1, 1.0), (WRAP_RED, 0.9, 0.37)):
            look = make_look(color, hv)
            serial = recolor(frame, alpha, look, strength, parallel=False)
            parallel = recolor(frame, alpha, look, strength, parallel=True)
            assert np.array_equal(serial, parallel)
            assert np.array_equal(recolor(frame, alpha, look, strength), serial)


@pytest.mark.skipif(
    "NUMBA_THREADING_LAYER" in os.environ or os.environ.get("NUMBA_DISABLE_JIT", "0") != "0",
    reason="threading layer chosen by the environment, or no JIT",
)
def test_parallel_kernel_uses_the_workqueue_threading_layer() -> None:
    frame = random_frame(np.random.default_rng(8), 32, 8)
    recolor(frame, np.ones((32, 8), np.float32), make_look(PALETTE[1], 0.5), 1.0, parallel=True)
    assert numba.threading_layer() == "workqueue"


_CONCURRENT_CODE = """
import threading
import numpy as np
from colorme_live.core.palette import PALETTE
from colorme_live.core.recolor import make_look, recolor
rng = np.random.default_rng(0)
frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
alpha = rng.random((240, 320), dtype=np.float32)
look = make_look(PALETTE[3], 0.3)
want = recolor(frame, alpha, look, 0.8, parallel=False)
bad = []
def work():
    for _ in range(300):
        if not np.array_equal(recolor(frame, alpha, look, 0.8, parallel=True), want):
            bad.append(1)
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not bad, len(bad)
"""


def test_parallel_kernel_called_from_several_threads_at_once() -> None:
    """The workqueue threading layer aborts the process on concurrent parallel launches;
    `recolor` must fall back to the serial kernel instead (in a subprocess: an abort would
    otherwise take the test session down)."""
    result = subprocess.run(
        [sys.executable, "-c", _CONCURRENT_CODE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("parallel", [False, True])
def test_in_place_equals_out_of_place(parallel: bool) -> None:
    rng = np.random.default_rng(2)
    frame = random_frame(rng, 40, 90)
    alpha = random_alpha(rng, 40, 90)
    look = make_look(PALETTE[2], 0.6)
    want = recolor(frame, alpha, look, 0.8, parallel=parallel)
    work = frame.copy()
    got = recolor(work, alpha, look, 0.8, out=work, parallel=parallel)
    assert got is work
    assert np.array_equal(work, want)


def test_out_is_filled_and_returned() -> None:
    rng = np.random.default_rng(4)
    frame = random_frame(rng, 8, 9)
    alpha = random_alpha(rng, 8, 9)
    look = make_look(PALETTE[0], 0.5)
    out = np.full_like(frame, 7)
    assert recolor(frame, alpha, look, 0.5, out=out) is out
    assert np.array_equal(out, recolor(frame, alpha, look, 0.5))
    out[...] = 7
    assert recolor(frame, alpha, look, 0.0, out=out) is out
    assert np.array_equal(out, frame)


def test_strength_0_returns_an_exact_copy() -> None:
    frame = random_frame(np.random.default_rng(6), 5, 6)
    got = recolor(frame, np.ones((5, 6), np.float32), make_look(PALETTE[8], 0.5), 0.0)
    assert got is not frame
    assert np.array_equal(got, frame)


# --------------------------------------------------------------------------------------------
# Look and hair_value


def test_make_look_clamps_the_gains() -> None:
    platinum = make_look(parse_color("platinum"), 0.0)
    assert platinum.gain_high == pytest.approx(0.7)  # GAMMA_MIN
    black = make_look(parse_color("jet black"), 1.0)
    assert black.gain_high == pytest.approx(2.5)  # GAMMA_MAX
    look = make_look(parse_color("copper"), 0.6)
    gamma = ((0.6 + 0.05) / (look.value + 0.05)) ** 0.75
    assert 0.7 < gamma < 2.5
    assert look.gain_high == pytest.approx(gamma)
    assert look.gain_low == pytest.approx(gamma * 1.15)
    assert make_look(parse_color("copper"), 0.6, 100).gain_high == pytest.approx(gamma * 1.6)
    assert make_look(parse_color("electric blue"), 0.4).centre == pytest.approx(0.76)
    # lightening dark hair a lot: the shadows' gamma goes lower (0.4) than the highlights' (0.7)
    assert platinum.gain_low == pytest.approx(0.4 * 1.15)
    pink = make_look(parse_color("pastel pink"), 0.15)
    gamma = ((0.15 + 0.05) / (pink.value + 0.05)) ** 0.75  # 0.35
    assert pink.gain_high == pytest.approx(0.7)
    assert pink.gain_low == pytest.approx(max(gamma, 0.4) * 1.15)


def test_hair_value_is_the_weighted_mean_over_confident_pixels() -> None:
    frame = np.zeros((2, 2, 3), np.uint8)
    frame[0, 0] = (255, 255, 255)  # level 255
    frame[0, 1] = (0, 255, 0)  # level (150 * 255 + 128) >> 8 = 149
    frame[1, 0] = (0, 0, 255)  # level 77, but prob 0.5 is not > 0.5
    prob = np.array([[1.0, 0.6], [0.5, 0.0]], np.float32)
    want = (1.0 * 1.0 + 149 / 255 * 0.6) / (1.0 + 0.6)
    assert hair_value(frame, prob) == pytest.approx(want, rel=1e-6)


def test_hair_value_without_hair_is_the_default() -> None:
    frame = np.full((3, 4, 3), 200, np.uint8)
    assert hair_value(frame, np.full((3, 4), 0.5, np.float32)) == DEFAULT_HAIR_VALUE


# --------------------------------------------------------------------------------------------
# Contracts: checked at the door, naming what was got

_F = np.zeros((4, 6, 3), np.uint8)
_A = np.zeros((4, 6), np.float32)
_L = make_look(PALETTE[3], 0.3)


def _recolor_into_shifted_self() -> Frame:
    buffer = np.zeros((5, 6, 3), np.uint8)
    return recolor(buffer[:4], _A, _L, 1.0, out=buffer[1:])


def _recolor_into_alpha() -> Frame:
    alpha = np.zeros((4, 6), np.float32)
    return recolor(_F, alpha, _L, 1.0, out=alpha.view(np.uint8).reshape(-1)[:72].reshape(4, 6, 3))


CONTRACT_CASES = [
    ("frame-list", lambda: recolor(_F.tolist(), _A, _L, 1.0), TypeError, "list"),
    ("frame-float32", lambda: recolor(_F.astype(np.float32), _A, _L, 1.0), TypeError, "float32"),
    ("frame-2d", lambda: recolor(_F[:, :, 0], _A, _L, 1.0), ValueError, "(4, 6)"),
    (
        "frame-4-channels",
        lambda: recolor(np.zeros((4, 6, 4), np.uint8), _A, _L, 1.0),
        ValueError,
        "(4, 6, 4)",
    ),
    (
        "frame-empty",
        lambda: recolor(np.zeros((0, 6, 3), np.uint8), _A[:0], _L, 1.0),
        ValueError,
        "(0, 6, 3)",
    ),
    (
        "frame-non-contiguous",
        lambda: recolor(np.zeros((4, 12, 3), np.uint8)[:, ::2], _A, _L, 1.0),
        ValueError,
        "C-contiguous",
    ),
    ("alpha-float64", lambda: recolor(_F, _A.astype(np.float64), _L, 1.0), TypeError, "float64"),
    ("alpha-uint8", lambda: recolor(_F, _A.astype(np.uint8), _L, 1.0), TypeError, "uint8"),
    (
        "alpha-shape",
        lambda: recolor(_F, np.zeros((6, 4), np.float32), _L, 1.0),
        ValueError,
        "(6, 4)",
    ),
    (
        "alpha-non-contiguous",
        lambda: recolor(_F, np.asfortranarray(_A), _L, 1.0),
        ValueError,
        "C-contiguous",
    ),
    ("look-color", lambda: recolor(_F, _A, PALETTE[3], 1.0), TypeError, "Color"),
    ("strength-above-1", lambda: recolor(_F, _A, _L, 1.5), ValueError, "1.5"),
    ("strength-negative", lambda: recolor(_F, _A, _L, -0.1), ValueError, "-0.1"),
    ("strength-nan", lambda: recolor(_F, _A, _L, float("nan")), ValueError, "nan"),
    ("strength-percent", lambda: recolor(_F, _A, _L, 80), ValueError, "80"),
    ("strength-str", lambda: recolor(_F, _A, _L, "1"), TypeError, "str"),
    (
        "out-shape",
        lambda: recolor(_F, _A, _L, 1.0, out=np.zeros((4, 7, 3), np.uint8)),
        ValueError,
        "(4, 7, 3)",
    ),
    (
        "out-dtype",
        lambda: recolor(_F, _A, _L, 1.0, out=np.zeros((4, 6, 3), np.float32)),
        TypeError,
        "float32",
    ),
    ("out-partial-overlap", lambda: _recolor_into_shifted_self(), ValueError, "overlap"),
    ("out-overlaps-alpha", lambda: _recolor_into_alpha(), ValueError, "alpha"),
    ("make-look-hair-value", lambda: make_look(PALETTE[0], 1.2), ValueError, "1.2"),
    ("make-look-hex", lambda: make_look("#FF0000", 0.5), TypeError, "str"),
    ("make-look-shine", lambda: make_look(PALETTE[0], 0.5, 150), ValueError, "150"),
    ("make-look-shine-str", lambda: make_look(PALETTE[0], 0.5, "50"), TypeError, "str"),
    (
        "hair-value-prob-shape",
        lambda: hair_value(_F, np.zeros((4, 5), np.float32)),
        ValueError,
        "(4, 5)",
    ),
    ("hair-value-prob-dtype", lambda: hair_value(_F, _A.astype(np.float64)), TypeError, "float64"),
    (
        "oracle-frame-dtype",
        lambda: recolor_oracle(_F.astype(np.int32), _A, PALETTE[0], 0.5, 1.0),
        TypeError,
        "int32",
    ),
    ("numpy-alpha-shape", lambda: recolor_numpy(_F, _A.T, _L, 1.0), ValueError, "(6, 4)"),
]


@pytest.mark.parametrize(
    ("call", "error", "named"), [pytest.param(*case[1:], id=case[0]) for case in CONTRACT_CASES]
)
def test_contract(call: Callable[[], object], error: type[Exception], named: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert named in str(info.value)


def test_contract_read_only_out() -> None:
    out = np.zeros_like(_F)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        recolor(_F, _A, _L, 1.0, out=out)


def test_contract_look_fields_are_checked() -> None:
    good = make_look(PALETTE[3], 0.3)
    cases = (
        ("hue", 1.5),
        ("shine", 101.0),
        ("gain_high", 0.0),
        ("centre", -0.1),
        ("hue_shift", 0.6),
    )
    for field, bad in cases:
        with pytest.raises(ValueError, match=field):
            Look(**{**{f: getattr(good, f) for f in Look.__slots__}, field: bad})


# --------------------------------------------------------------------------------------------
# How it looks on real hair: dyed, not painted


def _circular_mean_hue(bgr: npt.NDArray[np.uint8]) -> float:
    """Saturation-weighted circular mean hue (0..1) of an (N, 3) array of BGR pixels."""
    hsv = cv2.cvtColor(bgr.reshape(-1, 1, 3), cv2.COLOR_BGR2HSV_FULL).reshape(-1, 3)
    angle = hsv[:, 0].astype(np.float64) / 256.0 * 2 * np.pi
    weight = hsv[:, 1].astype(np.float64)
    mean = np.arctan2((np.sin(angle) * weight).sum(), (np.cos(angle) * weight).sum())
    return float(mean / (2 * np.pi) % 1.0)


@pytest.mark.parametrize(
    ("image", "color_name", "lighter"),
    [
        pytest.param("figaro_curly_Frame00338", "platinum", True, id="dark-curly-to-platinum"),
        pytest.param("figaro_straight_Frame00121", "jet black", False, id="blond-to-jet-black"),
        pytest.param(
            "figaro_straight_Frame00013", "platinum", True, id="dark-straight-to-platinum"
        ),
    ],
)
def test_looks_dyed_keeps_the_hair_texture(
    media_dir: Path, image: str, color_name: str, lighter: bool
) -> None:
    frame, alpha, inner = _load_pair(media_dir, image, 320)
    color = parse_color(color_name)
    out = recolor(frame, alpha, make_look(color, hair_value(frame, alpha)), 1.0)
    v_in = frame.max(axis=2)[inner].astype(np.float64)
    v_out = out.max(axis=2)[inner].astype(np.float64)
    assert np.corrcoef(v_in, v_out)[0, 1] > 0.8, "the hair's own shading was lost"
    target = color.hsv[2] * 255
    # the brightness moved to the target's, from the other side
    assert abs(v_out.mean() - target) < 0.35 * abs(v_in.mean() - target)
    assert (v_out.mean() > v_in.mean()) == lighter
    assert v_out.std() > 3.0, "flat: painted, not dyed"


@pytest.mark.parametrize("color_name", ["electric blue", "copper", "burgundy"])
def test_looks_dyed_hue_reaches_the_target(media_dir: Path, color_name: str) -> None:
    frame, alpha, inner = _load_pair(media_dir, "figaro_curly_Frame00338", 320)
    color = parse_color(color_name)
    out = recolor(frame, alpha, make_look(color, hair_value(frame, alpha)), 1.0)
    hue = _circular_mean_hue(out[inner])
    distance = min(abs(hue - color.hsv[0]), 1.0 - abs(hue - color.hsv[0]))
    assert distance < 0.02, f"mean hue {hue:.3f}, target {color.hsv[0]:.3f}"


# --------------------------------------------------------------------------------------------
# The same tests without Numba's JIT, and core stays Qt-free


@pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"),
    reason="already running with NUMBA_DISABLE_JIT (this test would recurse)",
)
def test_kernel_tests_pass_with_numba_jit_disabled() -> None:
    """Runs the oracle and edge-case tests with the kernels as plain Python."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    env.pop("COLORME_MIN_TESTS", None)  # a part of the suite, on purpose (skips still fail)
    cmd = [sys.executable, "-m", "pytest", str(Path(__file__)), "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*cmd, "-k", "oracle or edge"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
