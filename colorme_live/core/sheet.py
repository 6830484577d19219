"""``colorme-live sheet PHOTO OUT.png``: one labelled grid of a photo in every palette colour.

The original and the ten palette colours, each tile named (and its swatch shown), at the
settings' intensity and shine; the hair is segmented once and each colour composited at the
photo's full resolution, then scaled down to the tile. For salons comparing shades and for
judging realism at a glance."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from colorme_live.core import outputs
from colorme_live.core.batch import open_pipeline, write_image
from colorme_live.core.errors import InputError
from colorme_live.core.palette import PALETTE
from colorme_live.core.pipeline import Pipeline, composite
from colorme_live.core.settings import Settings
from colorme_live.core.sources import read_image

__all__ = ["COLUMNS", "SHEET_SUFFIXES", "TILE_WIDTH", "main", "make_sheet"]

TILE_WIDTH = 360
"""Width of one tile in pixels (its height follows the photo's aspect ratio)."""
MAX_TILE_HEIGHT = 540
COLUMNS = 4
LABEL_HEIGHT = 30
GAP = 6
BACKGROUND = (32, 32, 32)
TEXT = (240, 240, 240)
SHEET_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _tile_size(w: int, h: int) -> tuple[int, int]:
    tw = TILE_WIDTH
    th = round(tw * h / w)
    if th > MAX_TILE_HEIGHT:
        th = MAX_TILE_HEIGHT
        tw = max(1, round(th * w / h))
    return max(1, tw), max(1, th)


def _label(width: int, text: str, swatch_bgr: tuple[int, int, int] | None) -> npt.NDArray[np.uint8]:
    strip = np.full((LABEL_HEIGHT, width, 3), BACKGROUND, np.uint8)
    x = 6
    if swatch_bgr is not None:
        cv2.rectangle(strip, (6, 6), (6 + LABEL_HEIGHT - 12, LABEL_HEIGHT - 7), swatch_bgr, -1)
        cv2.rectangle(strip, (6, 6), (6 + LABEL_HEIGHT - 12, LABEL_HEIGHT - 7), TEXT, 1)
        x += LABEL_HEIGHT - 6
    cv2.putText(
        strip, text, (x, LABEL_HEIGHT - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, TEXT, 1, cv2.LINE_AA
    )
    return strip


def make_sheet(
    pipeline: Pipeline, image: npt.NDArray[np.uint8], settings: Settings
) -> npt.NDArray[np.uint8]:
    """The grid (uint8 BGR): ``image`` (uint8 (H, W, 3) BGR) as it is, then recoloured to each
    palette colour at ``settings``' intensity and shine, `COLUMNS` tiles a row, each tile with
    its name underneath."""
    h, w = image.shape[:2]
    tw, th = _tile_size(w, h)
    analysis, _ = pipeline.analyse(image, settings, None)
    tiles: list[tuple[np.ndarray, str, tuple[int, int, int] | None]] = [(image, "original", None)]
    for i, color in enumerate(PALETTE, start=1):
        comp = composite(image, analysis, replace(settings, color=color), keep_alpha=False)
        r, g, b = color.rgb
        tiles.append((comp.image, f"{i % 10}  {color.name}  {color.hex}", (b, g, r)))
    rows = -(-len(tiles) // COLUMNS)
    cell_h = th + LABEL_HEIGHT
    sheet = np.full(
        (GAP + rows * (cell_h + GAP), GAP + COLUMNS * (tw + GAP), 3), BACKGROUND, np.uint8
    )
    for k, (picture, text, swatch) in enumerate(tiles):
        y = GAP + (k // COLUMNS) * (cell_h + GAP)
        x = GAP + (k % COLUMNS) * (tw + GAP)
        sheet[y : y + th, x : x + tw] = cv2.resize(picture, (tw, th), interpolation=cv2.INTER_AREA)
        sheet[y + th : y + cell_h, x : x + tw] = _label(tw, text, swatch)
    if len(tiles) < rows * COLUMNS:  # the spare cell says how the sheet was made
        k = len(tiles)
        y = GAP + (k // COLUMNS) * (cell_h + GAP)
        x = GAP + (k % COLUMNS) * (tw + GAP)
        for j, line in enumerate(
            ("colorme-live sheet", f"intensity {settings.intensity}", f"shine {settings.shine}")
        ):
            cv2.putText(
                sheet, line, (x + 10, y + 30 + 26 * j), cv2.FONT_HERSHEY_SIMPLEX, 0.6, TEXT, 1,
                cv2.LINE_AA,
            )  # fmt: skip
    return sheet


def main(
    photo: Path,
    output: Path,
    settings: Settings,
    *,
    model: str | Path | None,
    face_model: str | Path | None = None,
) -> int:
    """Write the sheet of ``photo`` to ``output`` (.png, .jpg, .bmp or .webp). The file
    appears whole or not at all (``batch.write_image`` writes it atomically); the output is
    checked before the model loads."""
    if output.suffix.lower() not in SHEET_SUFFIXES:
        raise InputError(
            f"sheet writes an image: give OUT a {'/'.join(SHEET_SUFFIXES)} name, got {output}"
        )
    outputs.check_target(output)
    outputs.check_not_input(photo, output)
    image = read_image(photo)
    with open_pipeline(model, face_model) as pipeline:
        sheet = make_sheet(pipeline, image, settings)
    write_image(output, sheet)
    print(f"wrote {output} ({sheet.shape[1]}x{sheet.shape[0]}, {len(PALETTE) + 1} tiles)")
    return 0
