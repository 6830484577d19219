"""``colorme-live eval``: the quality report, reproducible with one command.

* **IoU** (images with ``masks/NAME.png``): intersection over union of the final alpha > 0.5
  with the ground-truth mask, per image; mean and median overall and per group (the file
  name's leading lower-case words, e.g. ``figaro_curly``, ``lfw``). The raw model's IoU
  (its probability bilinearly upsampled) is reported next to it.
* **Boundary flicker** (clips): mean |a_t - a_(t-1)| over the pixels within 5 px of the raw
  model's hair boundary, for the raw model's upsampled probability and for our final alpha,
  over the same pixels. Lower is steadier.
* **Lag** (clips): how many frames the final alpha's centroid trails the raw model's (both
  low-passed over 5 frames); 0 means the smoothing adds no visible delay.
* **Hue error** (recoloured photos): the saturation-weighted circular mean hue of the
  recoloured hair minus the target hue, in degrees, for palette colours with saturation >=
  0.25 (greys and near-blacks have no meaningful hue).
* **Texture kept**: the correlation of Lab lightness inside the hair before and after
  recolouring at intensity 100 (1 = the strands' shading survives untouched in shape)."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from colorme_live.core.batch import open_pipeline
from colorme_live.core.errors import InputError
from colorme_live.core.metrics import (
    boundary_flicker,
    hue_error_degrees,
    iou,
    lag_frames,
    lightness_correlation,
)
from colorme_live.core.palette import PALETTE
from colorme_live.core.pipeline import Pipeline, PipelineState
from colorme_live.core.settings import Settings
from colorme_live.core.sources import IMAGE_SUFFIXES, VideoFileSource, read_image

log = logging.getLogger(__name__)

DEFAULT_MEDIA = Path(__file__).resolve().parents[3] / "shared" / "media"
CLIP_FRAMES = 150
"""Frames per clip used for flicker and lag (about 5 s at 30 fps)."""
HUE_MIN_SATURATION = 0.25
RECOLOR_IMAGES = 24
"""Photos used for the recolour metrics (every k-th labelled photo, all groups)."""


def group_of(stem: str) -> str:
    """The leading all-lower-case words of a file name: ``figaro_curly_Frame00317`` ->
    ``figaro_curly``, ``lfw_Donna_Ralston_0001`` -> ``lfw``."""
    words = []
    for word in stem.split("_"):
        if not re.fullmatch(r"[a-z]+", word):
            break
        words.append(word)
    return "_".join(words) or stem


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(float(np.mean(values)), 4),
        "median": round(float(np.median(values)), 4),
        "n": len(values),
    }


def labelled_images(folder: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for path in sorted(folder.iterdir()):
        mask = folder / "masks" / f"{path.stem}.png"
        if path.suffix.lower() in IMAGE_SUFFIXES and mask.is_file():
            pairs.append((path, mask))
    if not pairs:
        raise InputError(f"no images with masks/NAME.png ground truth in {folder}")
    return pairs


def eval_images(pipeline: Pipeline, folder: Path, settings: Settings) -> dict[str, Any]:
    ours: dict[str, list[float]] = {}
    raw: dict[str, list[float]] = {}
    recolor: dict[str, dict[str, list[float]]] = {
        c.name: {"hue": [], "texture": []} for c in PALETTE
    }
    pairs = labelled_images(folder)
    step = max(1, len(pairs) // RECOLOR_IMAGES)
    for i, (path, mask_path) in enumerate(pairs):
        image = read_image(path)
        truth = read_image(mask_path)[..., 0] / 255.0
        if truth.shape != image.shape[:2]:
            raise InputError(f"{mask_path} is not the size of {path}")
        result, _ = pipeline.step(image, settings, None)
        g = group_of(path.stem)
        ours.setdefault(g, []).append(iou(result.alpha, truth))
        h, w = image.shape[:2]
        raw_up = cv2.resize(result.analysis.raw_prob, (w, h), interpolation=cv2.INTER_LINEAR)
        raw.setdefault(g, []).append(iou(raw_up, truth))
        if i % step == 0:
            hair = (truth > 0.5) & (result.alpha > 0.5)
            for color in PALETTE:
                full = replace(settings, color=color, intensity=100)
                out, _ = pipeline.step(image, full, None)
                recolor[color.name]["texture"].append(lightness_correlation(image, out.image, hair))
                if color.hsv[1] >= HUE_MIN_SATURATION:
                    recolor[color.name]["hue"].append(
                        hue_error_degrees(out.image, hair, color.hsv[0])
                    )
    every = [v for vs in ours.values() for v in vs]
    every_raw = [v for vs in raw.values() for v in vs]
    return {
        "images": len(every),
        "iou": _summary(every),
        "iou_raw_model": _summary(every_raw),
        "iou_by_group": {g: _summary(v) for g, v in sorted(ours.items())},
        "iou_raw_by_group": {g: _summary(v) for g, v in sorted(raw.items())},
        "recolor": {
            name: {
                "hue_error_deg": _nanmean(m["hue"]),
                "texture_corr": _nanmean(m["texture"]),
            }
            for name, m in recolor.items()
        },
    }


def _nanmean(values: list[float]) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return round(float(np.mean(finite)), 3) if finite else None


def eval_clip(pipeline: Pipeline, path: Path, settings: Settings, frames: int) -> dict[str, Any]:
    raw: list[np.ndarray] = []
    final: list[np.ndarray] = []
    state: PipelineState | None = None
    with VideoFileSource(path) as video:
        while len(final) < frames and (frame := video.read()) is not None:
            result, state = pipeline.step(frame.image, settings, state)
            h, w = frame.image.shape[:2]
            raw.append(cv2.resize(result.analysis.raw_prob, (w, h), interpolation=cv2.INTER_LINEAR))
            final.append(result.alpha)
    lag = lag_frames(final, raw)
    flicker_raw = boundary_flicker(raw)
    flicker_ours = boundary_flicker(final, raw)
    return {
        "frames": len(final),
        "flicker_raw": round(flicker_raw, 4),
        "flicker": round(flicker_ours, 4),
        "flicker_ratio": round(flicker_ours / flicker_raw, 3) if flicker_raw else None,
        "lag_frames": None if lag is None else round(lag, 2),
    }


def main(
    *,
    images: Path | None,
    videos: Path | None,
    as_json: bool,
    model: str | Path | None,
    frames: int = CLIP_FRAMES,
) -> int:
    images = images if images is not None else DEFAULT_MEDIA / "images"
    videos = videos if videos is not None else DEFAULT_MEDIA / "videos"
    for folder, what in ((images, "--images"), (videos, "--videos")):
        if not folder.is_dir():
            raise InputError(f"{what} folder not found: {folder}")
    clips = sorted(p for p in videos.iterdir() if p.suffix.lower() in (".mp4", ".mov", ".mkv"))
    if not clips:
        raise InputError(f"no video clips in {videos}")
    settings = Settings()
    t0 = time.perf_counter()
    with open_pipeline(model) as pipeline:
        report: dict[str, Any] = eval_images(pipeline, images, settings)
        report["clips"] = {p.stem: eval_clip(pipeline, p, settings, frames) for p in clips}
    report["seconds"] = round(time.perf_counter() - t0, 1)
    _print_table(report)
    if as_json:
        print(json.dumps(report))
    return 0


def _print_table(r: dict[str, Any]) -> None:
    print(
        f"IoU of the final alpha on {r['images']} labelled photos "
        f"(raw model in brackets): mean {r['iou']['mean']:.4f} ({r['iou_raw_model']['mean']:.4f}),"
        f" median {r['iou']['median']:.4f} ({r['iou_raw_model']['median']:.4f})"
    )
    for g, s in r["iou_by_group"].items():
        raw = r["iou_raw_by_group"][g]
        print(
            f"  {g:<22} n={s['n']:<3} mean {s['mean']:.4f} ({raw['mean']:.4f})"
            f"  median {s['median']:.4f} ({raw['median']:.4f})"
        )
    print("Clips (boundary flicker: raw model -> ours; lag of ours behind the raw model):")
    for name, c in r["clips"].items():
        print(
            f"  {name:<40} {c['frames']:>4} frames  flicker {c['flicker_raw']:.4f} -> "
            f"{c['flicker']:.4f} (x{c['flicker_ratio']})  lag "
            + ("n/a (too still)" if c["lag_frames"] is None else f"{c['lag_frames']:.2f} frames")
        )
    print("Recolour at intensity 100 (hue error in degrees; texture = lightness correlation):")
    for name, m in r["recolor"].items():
        hue = "   -  " if m["hue_error_deg"] is None else f"{m['hue_error_deg']:6.1f}"
        print(f"  {name:<14} hue error {hue}  texture {m['texture_corr']}")
    print(f"({r['seconds']} s)")
