"""Tests written to kill the mutants that survived ``tests/mutation/run.sh`` (cosmic-ray over
refine, the fused kernel, temporal smoothing and the CLI's error paths); each names the
behaviour a surviving mutant broke without any test noticing. Small frames: the mutation run
executes them with NUMBA_DISABLE_JIT=1."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from colorme_live.core.palette import PALETTE
from colorme_live.core.recolor import make_look, recolor
from colorme_live.core.refine import coefficients, luma, upsample_alpha
from colorme_live.core.settings import RefineSettings, TemporalSettings
from colorme_live.core.temporal import TemporalState, smooth, warp_previous

# -- temporal smoothing -------------------------------------------------------------------------


def _confidence(p: float) -> float:
    """From ``temporal``'s docstring: 1 - binary entropy in bits, sharpened c * (2 - c)."""
    c = 1.0 + p * math.log2(p) + (1.0 - p) * math.log2(1.0 - p)
    return c * (2.0 - c)


def test_history_weight_follows_the_documented_formula() -> None:
    """Flat frames (no motion to find): the new value is pulled towards the previous one by
    ``history * (1 - mismatch * confidence)``, ``mismatch = clip(|luma change| /
    motion_scale, min_mismatch, 1)`` (worked out here by hand, not by the code)."""
    s = TemporalSettings()
    p_prev, p_new, luma_prev = 0.3, 0.8, 0.5
    shape = (16, 16)
    state = TemporalState(
        prob=np.full(shape, p_prev, np.float32), luma=np.full(shape, luma_prev, np.float32)
    )
    for change in (0.0, 0.0225, 0.06):  # mismatch 0 -> min_mismatch, 0.75, 2 -> 1
        luma_new = np.full(shape, luma_prev + change, np.float32)
        out, _ = smooth(np.full(shape, p_new, np.float32), state, s, luma=luma_new)
        mismatch = min(max(change / s.motion_scale, s.min_mismatch), 1.0)
        weight = s.history * (1.0 - mismatch * _confidence(p_new))
        expected = p_new + (p_prev - p_new) * weight
        np.testing.assert_allclose(out, expected, atol=1e-4, err_msg=f"luma change {change}")


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).random((h, w), dtype=np.float32)
    return cv2.GaussianBlur(noise, (0, 0), 2.0)


def test_the_previous_mask_is_warped_along_with_the_image() -> None:
    """A textured frame moved 3 px to the right: the warped previous mask moves with it."""
    big = _texture(72, 96)
    prev_luma = np.ascontiguousarray(big[4:68, 10:90])
    luma_now = np.ascontiguousarray(big[4:68, 7:87])  # the content moved 3 px right
    prev_prob = np.zeros_like(prev_luma)
    prev_prob[20:44, 30:50] = 1.0
    moved = np.zeros_like(prev_prob)
    moved[20:44, 33:53] = 1.0
    warped, warped_luma = warp_previous(luma_now, prev_luma, prev_prob)
    assert np.abs(warped - moved).mean() < 0.3 * np.abs(prev_prob - moved).mean()
    inner = (slice(8, -8), slice(8, -8))
    assert (
        np.abs(warped_luma - luma_now)[inner].mean()
        < 0.5 * np.abs(prev_luma - luma_now)[inner].mean()
    )


def test_frames_too_small_for_optical_flow_are_not_warped() -> None:
    luma_now = _texture(7, 40)
    prev_prob = np.full((7, 40), 0.25, np.float32)
    warped, warped_luma = warp_previous(luma_now, luma_now * 0.5, prev_prob)
    assert warped is prev_prob and np.array_equal(warped_luma, luma_now * 0.5)


# -- the fused kernel ---------------------------------------------------------------------------


def test_a_one_pixel_wide_band_segment_is_recoloured() -> None:
    """Frames one pixel wide, hair everywhere: every band segment is one pixel long."""
    from colorme_live.core.fused import refine_recolor

    settings = RefineSettings()
    rng = np.random.default_rng(5)
    for h in (1, 5):
        frame = rng.integers(0, 256, (h, 1, 3), dtype=np.uint8)
        prob = np.ones((h, 1), np.float32)
        coeffs = coefficients(prob, luma(frame), settings)
        look = make_look(PALETTE[8], 0.4)
        image, alpha = refine_recolor(coeffs, frame, look, 1.0, settings, keep_alpha=True)
        expected_alpha = upsample_alpha(coeffs, frame, settings)
        assert alpha is not None and np.all(expected_alpha > 0)
        np.testing.assert_allclose(alpha, expected_alpha, atol=1e-4)
        np.testing.assert_array_equal(image, recolor(frame, expected_alpha, look, 1.0))
        assert not np.array_equal(image, frame)


# -- the command line's argument checks and exit codes ------------------------------------------


def _parse(argv: list[str]) -> tuple[object, str]:
    """(the parsed namespace, or argparse's exit code) and stderr."""
    import contextlib
    import io

    from colorme_live.cli import build_parser

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return build_parser().parse_args(argv), err.getvalue()
        except SystemExit as e:
            return e.code, err.getvalue()


@pytest.mark.parametrize(
    ("argv", "attr", "value"),
    [
        (["--size", "16x16"], "size", (16, 16)),
        (["--size", "1280X720"], "size", (1280, 720)),
        (["--intensity", "0"], "intensity", 0),
        (["--intensity", "100"], "intensity", 100),
        (["--cycle", "0.5"], "cycle", 0.5),
        (["eval", "--frames", "1"], "frames", 1),
    ],
)
def test_the_smallest_and_largest_allowed_values_are_accepted(
    argv: list[str], attr: str, value: object
) -> None:
    args, err = _parse(argv)
    assert getattr(args, attr) == value, err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--size", "15x16"], "at least 16x16"),
        (["--size", "16x15"], "at least 16x16"),
        (["--size", "big"], "size must be WxH"),
        (["--size", "1x2x3"], "size must be WxH"),
        (["--cycle", "0"], "the cycle must be 0.1-3600 seconds"),
        (["--cycle", "soon"], "expected a number of seconds"),
        (["eval", "--frames", "0"], "expected a positive number"),
        (["eval", "--frames", "some"], "expected a whole number"),
    ],
)
def test_out_of_range_values_are_one_clear_usage_line(argv: list[str], says: str) -> None:
    code, err = _parse(argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and says in lines[0], err
    assert lines[0].startswith("colorme-live") and "Traceback" not in err


def test_an_interrupt_is_exit_130_and_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from colorme_live.cli import main
    from colorme_live.core import batch

    def interrupted(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "render", interrupted)
    assert main(["render", "in.mp4", "out.mp4"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["colorme-live: interrupted"]


def test_a_command_puts_back_whatever_sigterm_handler_was_there() -> None:
    """With a handler of the caller's own (not one an earlier test may have left behind)."""
    import signal

    from colorme_live.cli import main

    def mine(signum: int, frame: object) -> None:
        raise AssertionError("not expected to run")

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        assert main(["palette"]) == 0
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_during_a_command_sigterm_unwinds_like_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """While a command runs, SIGTERM's handler raises KeyboardInterrupt (so half-written
    outputs are removed); called here directly rather than by signalling the test process."""
    import signal

    from colorme_live.cli import main
    from colorme_live.core import batch

    def render(*args: object, **kwargs: object) -> int:
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler), f"no SIGTERM handler during the command: {handler!r}"
        handler(signal.SIGTERM, None)
        return 0

    monkeypatch.setattr(batch, "render", render)
    assert main(["render", "in.mp4", "out.mp4"]) == 130
    assert capsys.readouterr().err.strip() == "colorme-live: interrupted"
