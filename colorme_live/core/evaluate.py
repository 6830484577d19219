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
from colorme_live.core.pipeline import Pipeline, PipelineState, composite
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
        report["palette"] = eval_palette(pipeline, images, settings)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    _print_table(report)
    print_palette_table(report["palette"])
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


# ---------------------------------------------------------------------------------------------
# Per palette colour: texture kept, hue error, spill and IoU (issue 11)

SPILL_DISTANCE = 0.02
"""Colour change farther than this share of the image diagonal outside the hand-made mask
counts as spill."""
FULL_MASK_GROUPS = ("figaro", "celebamaskhq")
"""Sources whose masks label every person's hair: spill there is all off-hair colour. (The
LFW masks label only the central person, coarsely, so their spill also counts other hair.)"""


def spill_parts(
    before: np.ndarray, after: np.ndarray, truth: np.ndarray, distance: float = SPILL_DISTANCE
) -> tuple[float, float]:
    """``(far, total)``: the summed colour change (sum of absolute BGR differences, levels)
    over pixels farther than ``distance`` of the image diagonal outside ``truth > 0.5``, and
    over the whole image. Spill is ``far / total`` summed over a group's photos."""
    change = np.abs(after.astype(np.int16) - before.astype(np.int16)).sum(axis=2)
    outside = (truth <= 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, 5)
    h, w = truth.shape
    far = dist > distance * float(np.hypot(h, w))
    return float(change[far].sum()), float(change.sum())


def _spill_group(stem: str) -> str:
    return "figaro+celebamaskhq" if stem.split("_")[0] in FULL_MASK_GROUPS else "lfw"


def eval_palette(pipeline: Pipeline, folder: Path, settings: Settings) -> dict[str, Any]:
    """Every labelled photo segmented once, then composited in each palette colour at
    intensity 100: per colour the texture kept (Lab lightness correlation inside the hair),
    hue error (saturated colours), spill per group (see `spill_parts`) and the IoU of the
    final alpha (the same alpha for every colour: the colour does not move the edges)."""
    names = [c.name for c in PALETTE]
    texture: dict[str, list[float]] = {n: [] for n in names}
    hue: dict[str, list[float]] = {n: [] for n in names}
    far: dict[str, dict[str, float]] = {n: {} for n in names}
    total: dict[str, dict[str, float]] = {n: {} for n in names}
    ious: dict[str, list[float]] = {}
    for path, mask_path in labelled_images(folder):
        image = read_image(path)
        truth = read_image(mask_path)[..., 0] / 255.0
        if truth.shape != image.shape[:2]:
            raise InputError(f"{mask_path} is not the size of {path}")
        analysis, _ = pipeline.analyse(image, settings, None)
        group = _spill_group(path.stem)
        hair: np.ndarray | None = None
        for color in PALETTE:
            full = replace(settings, color=color, intensity=100)
            comp = composite(image, analysis, full)
            if comp.alpha is None:  # composite keeps the alpha by default
                raise RuntimeError("composite returned no alpha")
            if hair is None:
                hair = (truth > 0.5) & (comp.alpha > 0.5)
                ious.setdefault(group, []).append(iou(comp.alpha, truth))
            texture[color.name].append(lightness_correlation(image, comp.image, hair))
            if color.hsv[1] >= HUE_MIN_SATURATION:
                hue[color.name].append(hue_error_degrees(comp.image, hair, color.hsv[0]))
            f, t = spill_parts(image, comp.image, truth)
            for g in (group, "all"):
                far[color.name][g] = far[color.name].get(g, 0.0) + f
                total[color.name][g] = total[color.name].get(g, 0.0) + t
    all_ious = [v for vs in ious.values() for v in vs]
    return {
        "photos": len(all_ious),
        "iou": {
            "all": round(float(np.mean(all_ious)), 4),
            **{g: round(float(np.mean(v)), 4) for g, v in sorted(ious.items())},
        },
        "colors": {
            n: {
                "texture_kept": _nanmean(texture[n]),
                "hue_error_deg": _nanmean(hue[n]),
                "spill": {
                    g: round(far[n][g] / total[n][g], 4) if total[n][g] else None
                    for g in sorted(far[n])
                },
            }
            for n in names
        },
    }


def print_palette_table(r: dict[str, Any]) -> None:
    """The `eval_palette` report as a table."""
    iou_text = ", ".join(f"{g} {v:.4f}" for g, v in r["iou"].items())
    print(
        f"Palette at intensity 100 on {r['photos']} labelled photos (IoU of the final alpha: "
        f"{iou_text}); spill = share of the colour change > 2% of the diagonal off the mask:"
    )
    print(
        f"  {'colour':<14} {'texture':>8} {'hue err':>8} {'spill fig+celeb':>16} "
        f"{'spill lfw':>10} {'spill all':>10}"
    )
    for name, m in r["colors"].items():
        hue = "-" if m["hue_error_deg"] is None else f"{m['hue_error_deg']:.2f}"
        sp = m["spill"]
        print(
            f"  {name:<14} {m['texture_kept']:>8.3f} {hue:>8} "
            f"{sp.get('figaro+celebamaskhq', 0.0):>16.4f} {sp.get('lfw', 0.0):>10.4f} "
            f"{sp.get('all', 0.0):>10.4f}"
        )


def main_palette(*, images: Path | None, model: str | Path | None, settings: Settings) -> int:
    """Only the palette report (``eval --palette``): quicker than the full ``eval``."""
    images = images if images is not None else DEFAULT_MEDIA / "images"
    if not images.is_dir():
        raise InputError(f"--images folder not found: {images}")
    t0 = time.perf_counter()
    with open_pipeline(model) as pipeline:
        report = eval_palette(pipeline, images, settings)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    print_palette_table(report)
    print(json.dumps(report))
    return 0
