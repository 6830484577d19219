"""``bench --json`` and ``eval --json`` on short runs: each prints one JSON object on its last
line holding every documented key (README, "Development") with the documented type. Other
keys may be added; these must stay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from colorme_live.cli import main
from colorme_live.core.evaluate import FRAMING_BACKGROUNDS
from colorme_live.core.palette import PALETTE
from tests.conftest import clip

NUMBER = (int, float)
MAYBE_NUMBER = (int, float, type(None))
SIZES = ("640x480", "1280x720", "1920x1080")

BENCH_KEYS: dict[str, Any] = {
    "load_before": str,
    "load_after": str,
    "machine": str,
    "recolor_ms": dict.fromkeys(SIZES, NUMBER),
    "recolor_cpu_ms": dict.fromkeys(SIZES, NUMBER),
    "recolor_reference_ms": dict.fromkeys(SIZES, NUMBER),
    "refine_ms_720p": NUMBER,
    "segment_ms_720p": NUMBER,
    "pipeline_fps_720p": NUMBER,
    "pipeline_frames": int,
    "peak_rss_mb": NUMBER,
    "bench_process_rss_mb": NUMBER,
    "first_frame_s": NUMBER,
    "first_frame_cold_s": NUMBER,
    "first_frame_runs": int,
    "bytecode_cache": str,
    "live": {
        "source_fps": NUMBER,
        "display_fps": NUMBER,
        "dropped_pct": NUMBER,
        "latency_ms_p50": MAYBE_NUMBER,
        "latency_ms_p95": MAYBE_NUMBER,
        "segment_hz": NUMBER,
        "seconds": NUMBER,
        "frames": int,
        "captured": int,
    },
    "face_detection_ms_720p": NUMBER,
    "skin_guard_ms_720p": NUMBER,
    "face_calls_per_frame": NUMBER,
    "regions_per_frame": NUMBER,
    "pipeline_fps_1080p": NUMBER,
}
LIVE_BLOCK_KEYS = BENCH_KEYS["live"]
"""``live_1080p30`` and ``live_720p60`` (issue 12) have the keys of ``live``."""

SUMMARY = {"mean": NUMBER, "median": NUMBER, "n": int}
CLIP_KEYS = {
    "frames": int,
    "flicker_raw": NUMBER,
    "flicker": NUMBER,
    "flicker_ratio": MAYBE_NUMBER,
    "lag_frames": MAYBE_NUMBER,
}
RECOLOR_KEYS = {"hue_error_deg": MAYBE_NUMBER, "texture_corr": MAYBE_NUMBER}
EVAL_KEYS: dict[str, Any] = {
    "images": int,
    "iou": SUMMARY,
    "iou_raw_model": SUMMARY,
    "seconds": NUMBER,
}
"""Plus ``iou_by_group``/``iou_raw_by_group`` (group -> SUMMARY), ``recolor`` (colour name ->
RECOLOR_KEYS) and ``clips`` (clip stem -> CLIP_KEYS), checked below."""


def check_keys(report: dict[str, Any], spec: dict[str, Any], where: str = "") -> None:
    for key, kind in spec.items():
        assert key in report, f"{where}{key} missing from {sorted(report)}"
        if isinstance(kind, dict):
            assert isinstance(report[key], dict), f"{where}{key}: {report[key]!r}"
            check_keys(report[key], kind, f"{where}{key}.")
        else:
            value = report[key]
            assert isinstance(value, kind) and not isinstance(value, bool), (
                f"{where}{key} = {value!r}, expected {kind}"
            )


def _json_line(out: str) -> dict[str, Any]:
    last = out.strip().splitlines()[-1]
    report = json.loads(last)
    assert isinstance(report, dict)
    return report


def test_bench_json_has_every_documented_key(
    media_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = clip(media_dir, "lp_d12_man_wavy_brown_hair_motion")
    code = main(["bench", "--quick", "--json", "--video", str(video)])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = _json_line(out)
    check_keys(report, BENCH_KEYS)
    assert "Load average" in out  # the table comes first
    assert all(report[k][s] > 0 for k in ("recolor_ms", "recolor_reference_ms") for s in SIZES)
    live = report["live"]
    assert live["frames"] > 0 and 0 < live["display_fps"] and 0 <= live["dropped_pct"] <= 100
    assert live["captured"] >= live["frames"] and live["source_fps"] == 30.0
    assert report["first_frame_runs"] >= 1 and report["first_frame_s"] > 0
    assert report["peak_rss_mb"] > 50  # the live run's process holds the model and frames
    for key in ("live_1080p30", "live_720p60"):
        check_keys(report[key], LIVE_BLOCK_KEYS, f"{key}.")
        assert report[key]["frames"] > 0
    assert report["live_720p60"]["source_fps"] == 60.0


def test_eval_json_has_every_documented_key(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = tmp_path / "images"
    (images / "masks").mkdir(parents=True)
    stems = ["figaro_straight_Frame00006", "lfw_Pat_Cox_0002", "celebamaskhq_maskgan_sample3"]
    for stem in stems:
        (images / f"{stem}.jpg").symlink_to(media_dir / "images" / f"{stem}.jpg")
        mask = media_dir / "images" / "masks" / f"{stem}.png"
        (images / "masks" / f"{stem}.png").symlink_to(mask)
    videos = tmp_path / "videos"
    videos.mkdir()
    name = "lp_d3_woman_brown_hair_expressions"
    (videos / f"{name}.mp4").symlink_to(clip(media_dir, name))
    argv = ["eval", "--json", "--images", str(images), "--videos", str(videos)]
    code = main([*argv, "--frames", "12"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = _json_line(out)
    check_keys(report, EVAL_KEYS)
    assert sorted(report["palette"]["colors"]) == sorted(c.name for c in PALETTE)
    framing = report["framing"]
    assert framing["photos"] == 3 and set(framing["backgrounds"]) == set(FRAMING_BACKGROUNDS)
    for rows in framing["backgrounds"].values():
        for row in rows.values():
            check_keys(row, {"iou": SUMMARY, "false_hair_pct": NUMBER}, "framing.")
    assert sorted(report["shrunk_clips"]) == sorted(p.stem for p in videos.iterdir())
    assert report["images"] == 3 and report["iou"]["n"] == 3
    assert 0.5 < report["iou"]["mean"] <= 1.0 and 0.5 < report["iou_raw_model"]["mean"] <= 1.0
    for key in ("iou_by_group", "iou_raw_by_group"):
        assert sorted(report[key]) == ["celebamaskhq_maskgan", "figaro_straight", "lfw"]
        for group in report[key].values():
            check_keys(group, SUMMARY, f"{key}.")
    assert sorted(report["recolor"]) == sorted(c.name for c in PALETTE)
    for name_, metrics in report["recolor"].items():
        check_keys(metrics, RECOLOR_KEYS, f"recolor.{name_}.")
    assert sorted(report["clips"]) == sorted(p.stem for p in videos.iterdir())
    check_keys(report["clips"][name], CLIP_KEYS, f"clips.{name}.")
    assert report["clips"][name]["frames"] == 12


def test_eval_only_clips_measures_the_clips_and_nothing_else(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    name = "pexels_red_hair_woman_makeup"
    (videos / f"{name}.mp4").symlink_to(clip(media_dir, name))
    code = main(["eval", "--only", "clips", "--json", "--videos", str(videos), "--frames", "8"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = _json_line(out)
    assert sorted(report) == ["clips", "faces", "seconds"]
    check_keys(report["clips"][name], CLIP_KEYS, f"clips.{name}.")
    assert report["clips"][name]["frames"] == 8
    assert name in out and "flicker" in out  # the clip table is printed


def test_eval_frames_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["eval", "--frames", "0"])
    assert e.value.code == 2
    assert "positive" in capsys.readouterr().err
