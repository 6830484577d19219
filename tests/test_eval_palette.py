"""``eval --palette``: texture kept, hue error, spill per group and IoU per palette colour, on
real labelled photos; and the spill measure itself on a drawn case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from colorme_live.cli import main
from colorme_live.core.evaluate import spill_parts
from colorme_live.core.palette import PALETTE


def test_spill_counts_only_change_far_outside_the_mask() -> None:
    truth = np.zeros((100, 100), np.float32)
    truth[30:70, 30:70] = 1.0
    before = np.zeros((100, 100, 3), np.uint8)
    after = before.copy()
    after[30:70, 30:70] = 10  # on the hair: 40*40 px * 30 levels
    after[30:70, 71] = 10  # 1 px outside: near, not spill
    after[0:5, 0:5] = 20  # a corner far away: 25 px * 60 levels
    far, total = spill_parts(before, after, truth)
    assert total == 1600 * 30 + 40 * 30 + 25 * 60
    assert far == 25 * 60


def test_eval_palette_on_real_photos(
    media_dir: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = tmp_path / "images"
    (images / "masks").mkdir(parents=True)
    for stem in ("figaro_curly_Frame00338", "lfw_Donna_Ralston_0001"):
        src = media_dir / "images" / f"{stem}.jpg"
        if not src.is_file():
            src = next((media_dir / "images").glob(f"{stem.split('_')[0]}_*.jpg"))
            stem = src.stem
        shutil.copy(src, images / f"{stem}.jpg")
        shutil.copy(media_dir / "images" / "masks" / f"{stem}.png", images / "masks")
    assert main(["eval", "--palette", "--images", str(images)]) == 0
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["photos"] == 2
    assert set(report["iou"]) == {"all", "figaro+celebamaskhq", "lfw"}
    assert 0.5 < report["iou"]["all"] <= 1.0
    assert list(report["colors"]) == [c.name for c in PALETTE]
    for color in PALETTE:
        m = report["colors"][color.name]
        assert 0.8 < m["texture_kept"] <= 1.0, color.name
        if color.hsv[1] >= 0.25:
            assert 0.0 <= m["hue_error_deg"] < 5.0, color.name
        else:
            assert m["hue_error_deg"] is None
        assert set(m["spill"]) == {"all", "figaro+celebamaskhq", "lfw"}
        assert all(0.0 <= v < 0.5 for v in m["spill"].values())
        assert color.name in out  # the printed table names every colour
