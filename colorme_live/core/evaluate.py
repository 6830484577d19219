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


def eval_images(
    pipeline: Pipeline, folder: Path, settings: Settings, limit: int | None = None
) -> dict[str, Any]:
    ours: dict[str, list[float]] = {}
    raw: dict[str, list[float]] = {}
    recolor: dict[str, dict[str, list[float]]] = {
        c.name: {"hue": [], "texture": []} for c in PALETTE
    }
    pairs = _subset(labelled_images(folder), limit)
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


# -- framing: the labelled photos placed in a webcam-sized frame ----------------------------

FRAMING_SIZE = (1280, 720)
FRAMING_SCALES = (1.0, 0.6, 0.4)
"""Height of the placed photo as a share of the frame's: arm's length, sitting back, across
the desk."""
FRAMING_BACKGROUNDS: dict[str, tuple[str, int, tuple[int, int, int, int]]] = {
    # name: (file under the media folder, frame index (clips) or 0, people-free crop x, y, w, h)
    "plain_backdrop": ("videos/pexels_red_hair_woman_makeup.mp4", 0, (0, 0, 224, 126)),
    "dark_trusses": ("portraits/pexels_group_matheus_bertelli_2467506.jpg", 0, (741, 0, 384, 216)),
}
"""Real backgrounds cut from people-free parts of the shared media: a plain blue backdrop, and
a busy, dark warehouse roof (steel trusses, lamps), both scaled to `FRAMING_SIZE`."""
FRAMING_X = 0.3
"""The placed photo's left edge, as a share of the free width (off centre, as people sit)."""


def framing_background(media: Path, name: str, size: tuple[int, int] = FRAMING_SIZE) -> np.ndarray:
    """One of `FRAMING_BACKGROUNDS` at ``size`` (w, h), uint8 BGR."""
    rel, index, (x, y, w, h) = FRAMING_BACKGROUNDS[name]
    path = media / rel
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = read_image(path)
    else:
        with VideoFileSource(path) as video:
            for _ in range(index + 1):
                frame = video.read()
                if frame is None:
                    raise InputError(f"{path} has fewer than {index + 1} frames")
                image = frame.image
    crop = image[y : y + h, x : x + w]
    return cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)


def framing_media(media: Path) -> Path:
    """Where the framing backgrounds come from: ``media`` (the folder above ``--images``)
    when it holds them all, else the shared media (a hand-picked ``--images`` folder)."""
    if all((media / rel).is_file() for rel, _, _ in FRAMING_BACKGROUNDS.values()):
        return media
    return DEFAULT_MEDIA


def place(
    background: np.ndarray, photo: np.ndarray, truth: np.ndarray, height: float
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """``photo`` scaled to ``height`` of the frame (width kept in proportion, at most the
    frame's), bottom-aligned at `FRAMING_X`: the frame, the ground truth over the whole frame
    (0 outside the photo) and the photo's rectangle (x, y, w, h)."""
    fh, fw = background.shape[:2]
    h, w = photo.shape[:2]
    ph = max(1, round(fh * height))
    pw = max(1, round(w * ph / h))
    if pw > fw:
        pw, ph = fw, max(1, round(h * fw / w))
    x = round((fw - pw) * FRAMING_X)
    y = fh - ph
    interp = cv2.INTER_AREA if ph < h else cv2.INTER_CUBIC
    frame = background.copy()
    frame[y : y + ph, x : x + pw] = cv2.resize(photo, (pw, ph), interpolation=interp)
    placed = np.zeros((fh, fw), np.float32)
    placed[y : y + ph, x : x + pw] = cv2.resize(truth, (pw, ph), interpolation=cv2.INTER_LINEAR)
    return frame, placed, (x, y, pw, ph)


def false_hair(alpha: np.ndarray, rect: tuple[int, int, int, int]) -> float:
    """The share of the frame outside ``rect`` (the placed photo) where alpha > 0.5."""
    x, y, w, h = rect
    hair = alpha > 0.5
    inside = int(np.count_nonzero(hair[y : y + h, x : x + w]))
    outside_area = alpha.size - w * h
    return (int(np.count_nonzero(hair)) - inside) / outside_area if outside_area else 0.0


def _subset(pairs: list[tuple[Path, Path]], limit: int | None) -> list[tuple[Path, Path]]:
    """Every k-th pair, ``limit`` in all (all of them for None)."""
    if limit is None or limit >= len(pairs):
        return pairs
    step = len(pairs) / max(1, limit)
    return [pairs[int(i * step)] for i in range(max(1, limit))]


def eval_framing(
    pipeline: Pipeline, media: Path, images: Path, settings: Settings, limit: int | None
) -> dict[str, Any]:
    """IoU (final alpha vs the placed mask, whole frame) and false hair per background and
    scale; each placed photo is a still (cold start)."""
    pairs = _subset(labelled_images(images), limit)
    out: dict[str, Any] = {}
    for bg_name in FRAMING_BACKGROUNDS:
        background = framing_background(media, bg_name)
        rows: dict[str, Any] = {}
        for scale in FRAMING_SCALES:
            ious: list[float] = []
            false: list[float] = []
            faces = 0
            for path, mask_path in pairs:
                truth = read_image(mask_path)[..., 0].astype(np.float32) / 255.0
                frame, placed, rect = place(background, read_image(path), truth, scale)
                result, _ = pipeline.step(frame, settings, None)
                ious.append(iou(result.alpha, placed))
                false.append(false_hair(result.alpha, rect))
                faces += bool(result.analysis.regions)
            rows[f"{round(scale * 100)}%"] = {
                "iou": _summary(ious),
                "false_hair_pct": round(100 * float(np.mean(false)), 3),
                "false_hair_max_pct": round(100 * float(np.max(false)), 3),
                "anchored": faces,
            }
        out[bg_name] = rows
    return {"photos": len(pairs), "backgrounds": out}


SHRINK = 0.5
"""Shrunk clips: the clip at this share of its height inside a 16:9 frame of its height."""


def eval_shrunk_clip(
    pipeline: Pipeline, path: Path, background: np.ndarray, settings: Settings, frames: int
) -> dict[str, Any]:
    """The clip shrunk to half height inside a 16:9 frame over ``background``: the final
    alpha's IoU (inside the placed clip) against the raw model on the original frame."""
    scores: list[float] = []
    false: list[float] = []
    state: PipelineState | None = None
    with VideoFileSource(path) as video:
        while len(scores) < frames and (frame := video.read()) is not None:
            image = frame.image
            h = image.shape[0]
            canvas = cv2.resize(background, (round(h * 16 / 9), h), interpolation=cv2.INTER_AREA)
            reference = pipeline.segmenter.segment(image).prob
            placed, ref, rect = place(canvas, image, reference, SHRINK)
            result, state = pipeline.step(placed, settings, state)
            scores.append(iou(result.alpha, ref))
            false.append(false_hair(result.alpha, rect))
    return {
        "frames": len(scores),
        "iou": round(float(np.mean(scores)), 4) if scores else None,
        "false_hair_pct": round(100 * float(np.mean(false)), 3) if false else None,
    }


def main(
    *,
    images: Path | None,
    videos: Path | None,
    as_json: bool,
    model: str | Path | None,
    frames: int | None = None,
    face_model: str | Path | None = None,
    faces: bool = True,
    limit: int | None = None,
    only: str = "all",
) -> int:
    images = images if images is not None else DEFAULT_MEDIA / "images"
    videos = videos if videos is not None else DEFAULT_MEDIA / "videos"
    for folder, what in ((images, "--images"), (videos, "--videos")):
        if not folder.is_dir():
            raise InputError(f"{what} folder not found: {folder}")
    clips = sorted(p for p in videos.iterdir() if p.suffix.lower() in (".mp4", ".mov", ".mkv"))
    if not clips:
        raise InputError(f"no video clips in {videos}")
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be at least 1, got {limit}")
    if frames is not None and frames < 2:
        raise InputError(f"--frames must be at least 2, got {frames}")
    n_frames = CLIP_FRAMES if frames is None else frames
    media = framing_media(images.parent)
    settings = Settings()
    t0 = time.perf_counter()
    report: dict[str, Any] = {}
    with open_pipeline(model, face_model, faces=faces) as pipeline:
        report["faces"] = pipeline.faces is not None
        if only == "all":
            report.update(eval_images(pipeline, images, settings, limit))
        if only in ("all", "clips"):
            report["clips"] = {p.stem: eval_clip(pipeline, p, settings, n_frames) for p in clips}
        if only == "all":
            report["palette"] = eval_palette(pipeline, images, settings)
        if only in ("all", "framing"):
            report["framing"] = eval_framing(pipeline, media, images, settings, limit)
            dark = framing_background(media, "dark_trusses")
            report["shrunk_clips"] = {
                p.stem: eval_shrunk_clip(pipeline, p, dark, settings, n_frames) for p in clips
            }
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if only == "all":
        _print_table(report)
        print_palette_table(report["palette"])
    if only == "clips":
        _print_clips(report["clips"])
    else:
        _print_framing(report)
    print(f"({report['seconds']} s)")
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
    _print_clips(r["clips"])
    print("Recolour at intensity 100 (hue error in degrees; texture = lightness correlation):")
    for name, m in r["recolor"].items():
        hue = "   -  " if m["hue_error_deg"] is None else f"{m['hue_error_deg']:6.1f}"
        print(f"  {name:<14} hue error {hue}  texture {m['texture_corr']}")


def _print_clips(clips: dict[str, Any]) -> None:
    print("Clips (boundary flicker: raw model -> ours; lag of ours behind the raw model):")
    for name, c in clips.items():
        print(
            f"  {name:<40} {c['frames']:>4} frames  flicker {c['flicker_raw']:.4f} -> "
            f"{c['flicker']:.4f} (x{c['flicker_ratio']})  lag "
            + ("n/a (too still)" if c["lag_frames"] is None else f"{c['lag_frames']:.2f} frames")
        )


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


def _print_framing(r: dict[str, Any]) -> None:
    f = r["framing"]
    mode = "face-anchored regions" if r["faces"] else "whole frame (no face model)"
    print(
        f"Framing: {f['photos']} labelled photos placed in a {FRAMING_SIZE[0]}x{FRAMING_SIZE[1]}"
        f" frame, {mode}; IoU over the whole frame, false hair = share of the frame outside"
        " the photo with alpha > 0.5, anchored = photos where a face placed a region:"
    )
    for bg, rows in f["backgrounds"].items():
        for scale, row in rows.items():
            print(
                f"  {bg:<16} {scale:>4}  IoU mean {row['iou']['mean']:.4f} median "
                f"{row['iou']['median']:.4f}  false hair {row['false_hair_pct']:.3f}% "
                f"(max {row['false_hair_max_pct']:.2f}%)  anchored {row['anchored']}"
            )
    print("Shrunk clips (half height in a 16:9 frame; IoU vs the raw model on the original):")
    for name, c in r["shrunk_clips"].items():
        print(
            f"  {name:<40} {c['frames']:>4} frames  IoU {c['iou']}  "
            f"false hair {c['false_hair_pct']}%"
        )
