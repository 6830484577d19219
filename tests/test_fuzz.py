"""Property-based tests: random sizes, dtypes, masks and settings never crash the kernels or
the smoother, the output contracts hold, and intensity 0 is the identity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from colorme_live.core.palette import PALETTE, Color
from colorme_live.core.recolor import make_look, recolor
from colorme_live.core.refine import coefficients, luma, upsample_alpha
from colorme_live.core.settings import RefineSettings, TemporalSettings
from colorme_live.core.temporal import smooth

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sizes = st.tuples(st.integers(1, 48), st.integers(1, 48))
colors = st.one_of(
    st.sampled_from(PALETTE),
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
        lambda rgb: Color("custom", rgb)
    ),
)
unit = st.floats(0.0, 1.0, allow_nan=False, width=32)


@st.composite
def frame_and_alpha(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    h, w = draw(sizes)
    frame = draw(hnp.arrays(np.uint8, (h, w, 3)))
    kind = draw(st.sampled_from(["random", "zeros", "ones", "binary"]))
    if kind == "random":
        alpha = draw(hnp.arrays(np.float32, (h, w), elements=unit))
    elif kind == "binary":
        alpha = draw(hnp.arrays(np.bool_, (h, w))).astype(np.float32)
    else:
        alpha = np.full((h, w), 1.0 if kind == "ones" else 0.0, np.float32)
    return frame, alpha


@FUZZ
@given(frame_and_alpha(), colors, st.integers(0, 100), unit)
def test_recolor_contract(
    fa: tuple[np.ndarray, np.ndarray], color: Color, intensity: int, hair_v: float
) -> None:
    frame, alpha = fa
    before = frame.copy()
    out = recolor(frame, alpha, make_look(color, float(hair_v)), intensity / 100)
    assert out.shape == frame.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(frame, before)  # input untouched
    untouched = alpha == 0
    np.testing.assert_array_equal(out[untouched], frame[untouched])
    if intensity == 0:
        np.testing.assert_array_equal(out, frame)


@FUZZ
@given(
    hnp.arrays(
        st.sampled_from([np.float64, np.int32, np.uint16, np.float16]),
        st.tuples(st.integers(1, 8), st.integers(1, 8), st.just(3)),
    )
)
def test_recolor_rejects_other_dtypes_with_a_clear_error(frame: np.ndarray) -> None:
    alpha = np.zeros(frame.shape[:2], np.float32)
    with pytest.raises((TypeError, ValueError), match="uint8"):
        recolor(frame, alpha, make_look(PALETTE[0], 0.3), 0.5)


@FUZZ
@given(
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    st.tuples(st.integers(1, 12), st.integers(1, 12)),
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
    st.integers(0, 5),
)
def test_refine_contract(
    size: tuple[int, int], low: tuple[int, int], seed: int, radius: int, band: int
) -> None:
    (h, w), (lh, lw) = size, low
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    prob = rng.random((lh, lw), dtype=np.float32)
    guide = luma(rng.integers(0, 256, (lh, lw, 3), dtype=np.uint8))
    cfg = RefineSettings(radius=radius, band=band)
    alpha = upsample_alpha(coefficients(prob, guide, cfg), frame, cfg)
    assert alpha.shape == (h, w) and alpha.dtype == np.float32
    assert np.isfinite(alpha).all() and alpha.min() >= 0.0 and alpha.max() <= 1.0
    if not (prob > 0.5).any():
        assert not alpha.any()


@FUZZ
@given(
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 0.99),
    st.floats(1e-3, 1.0),
    st.booleans(),
)
def test_smooth_contract(
    size: tuple[int, int], steps: int, seed: int, history: float, motion: float, with_luma: bool
) -> None:
    rng = np.random.default_rng(seed)
    cfg = TemporalSettings(history=history, motion_scale=motion)
    state = None
    for _ in range(steps):
        prob = rng.random(size, dtype=np.float32)
        lum = rng.random(size, dtype=np.float32) if with_luma else None
        before = prob.copy()
        out, state = smooth(prob, state, cfg, luma=lum)
        assert out.shape == size and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
        np.testing.assert_array_equal(prob, before)


@FUZZ
@given(st.text(max_size=20))
def test_any_colour_text_parses_or_fails_with_one_clear_error(text: str) -> None:
    from colorme_live.core.errors import InputError
    from colorme_live.core.palette import parse_color

    try:
        color = parse_color(text)
    except InputError as e:
        assert "\n" not in str(e) and str(e)
    else:
        assert all(0 <= c <= 255 for c in color.rgb)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "--intensity",
                "--color",
                "-5",
                "101",
                "50",
                "x",
                "#12345G",
                "#FF00FF",
                "3",
                "0",
                "11",
                "copper",
                "--nope",
                "palette",
                "render",
                "mask",
                "--json",
            ]
        ),
        max_size=5,
    )
)
@example(["palette"])
@example(["--color", "copper", "--intensity", "50", "palette"])
@example(["render", "x", "3", "--color", "#FF00FF"])
def test_cli_options_never_traceback(argv: list[str]) -> None:
    """Random option soups run through ``main``: they either end with exit code 2 and one
    usage line, or run. The (network-free) palette command prints its ten colours; ``render``
    and ``mask`` name inputs that do not exist here and fail with one clear line. Only the
    window (no command) is not started."""
    import contextlib
    import io

    from colorme_live.cli import build_parser, main

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        args, parse_code = None, e.code
    out, err = io.StringIO(), io.StringIO()
    if args is not None and args.command is None:
        return  # would open the window
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    lines = err.getvalue().strip().splitlines()
    if args is None:
        assert code == parse_code == 2
        assert len(lines) == 1 and lines[0].startswith("colorme-live"), err.getvalue()
        assert "error:" in lines[0], err.getvalue()
        return
    assert args.intensity is None or 0 <= args.intensity <= 100
    if args.command == "palette":
        assert code == 0 and lines == []
        assert len(out.getvalue().splitlines()) == len(PALETTE)
    else:
        assert code == 2 and len(lines) == 1 and "input not found" in lines[0], err.getvalue()
    assert "Traceback" not in err.getvalue()


@pytest.mark.parametrize("text", ["²", "٣", "½"])
def test_non_ascii_digits_are_a_clear_error(text: str) -> None:
    from colorme_live.core.errors import InputError
    from colorme_live.core.palette import parse_color

    with pytest.raises(InputError, match="unknown colour"):
        parse_color(text)
