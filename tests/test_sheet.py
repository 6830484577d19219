"""``colorme-live sheet``: one labelled grid of a real portrait in every palette colour, and
``--shine`` on the command line."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from colorme_live.cli import main
from colorme_live.core import sheet
from colorme_live.core.palette import PALETTE
from colorme_live.core.settings import Settings

PORTRAIT = "lp_d9_woman_long_blonde_brown_hair.jpg"


def _cell(grid: np.ndarray, k: int, tw: int, th: int) -> np.ndarray:
    y = sheet.GAP + (k // sheet.COLUMNS) * (th + sheet.LABEL_HEIGHT + sheet.GAP)
    x = sheet.GAP + (k % sheet.COLUMNS) * (tw + sheet.GAP)
    return grid[y : y + th, x : x + tw]


def test_sheet_of_a_real_portrait(media_dir: Path, model_path: Path, tmp_path: Path) -> None:
    photo = media_dir / "portraits" / PORTRAIT
    out = tmp_path / "sheet.png"
    code = main(["sheet", str(photo), str(out), "--intensity", "100", "--shine", "70"])
    assert code == 0
    grid = cv2.imread(str(out))
    assert grid is not None
    image = cv2.imread(str(photo))
    tw, th = sheet._tile_size(image.shape[1], image.shape[0])
    rows = -(-(len(PALETTE) + 1) // sheet.COLUMNS)
    assert grid.shape[:2] == (
        sheet.GAP + rows * (th + sheet.LABEL_HEIGHT + sheet.GAP),
        sheet.GAP + sheet.COLUMNS * (tw + sheet.GAP),
    )
    original = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)
    assert np.array_equal(_cell(grid, 0, tw, th), original)  # tile 0 is the photo as it is
    tiles = [_cell(grid, k, tw, th).astype(np.int16) for k in range(1, len(PALETTE) + 1)]
    changed = [np.abs(t - original).max(axis=2) > 12 for t in tiles]
    for k, c in enumerate(changed):
        # each colour recolours the hair (a good share of the tile), not the whole picture
        assert 0.05 < c.mean() < 0.6, (PALETTE[k].name, c.mean())
    # every tile is its own colour: the mean colour of the changed pixels differs
    means = [t[c].mean(axis=0) for t, c in zip(tiles, changed, strict=True)]
    for i in range(len(means)):
        for j in range(i + 1, len(means)):
            assert np.abs(means[i] - means[j]).max() > 4, (PALETTE[i].name, PALETTE[j].name)
    # each tile carries a label strip: text pixels on the background colour
    y = sheet.GAP + th
    label = grid[y : y + sheet.LABEL_HEIGHT, sheet.GAP : sheet.GAP + tw]
    assert (np.abs(label.astype(int) - sheet.TEXT).max(axis=2) < 30).sum() > 20


def test_sheet_settings_change_the_tiles(media_dir: Path, model_path: Path) -> None:
    from colorme_live.core.batch import open_pipeline
    from colorme_live.core.sources import read_image

    image = read_image(media_dir / "portraits" / PORTRAIT)
    image = np.ascontiguousarray(cv2.resize(image, (480, 640), interpolation=cv2.INTER_AREA))
    with open_pipeline(model_path) as pipeline:
        matte = sheet.make_sheet(pipeline, image, Settings(intensity=100, shine=0))
        glossy = sheet.make_sheet(pipeline, image, Settings(intensity=100, shine=100))
        off = sheet.make_sheet(pipeline, image, Settings(intensity=0))
    assert matte.shape == glossy.shape
    assert not np.array_equal(matte, glossy)
    tw, th = sheet._tile_size(480, 640)
    for k in range(len(PALETTE) + 1):  # intensity 0: every tile is the original
        assert np.array_equal(_cell(off, k, tw, th), _cell(off, 0, tw, th))


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--shine", "101"], "shine must be 0-100"),
        (["--shine", "gloss"], "shine must be an integer"),
    ],
)
def test_sheet_bad_shine_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sheet", "x.jpg", str(tmp_path / "s.png"), *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert named in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_sheet_bad_output_and_missing_photo(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = media_dir / "portraits" / PORTRAIT
    assert main(["sheet", str(photo), str(tmp_path / "sheet.mp4")]) == 2
    assert "png" in capsys.readouterr().err
    assert main(["sheet", str(tmp_path / "nope.jpg"), str(tmp_path / "s.png")]) == 2
    assert "nope.jpg" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_render_takes_shine(media_dir: Path, model_path: Path, tmp_path: Path) -> None:
    photo = media_dir / "portraits" / PORTRAIT
    outs = []
    for shine in ("0", "100"):
        out = tmp_path / f"r{shine}.png"
        assert main(["render", str(photo), str(out), "--shine", shine, "--intensity", "100"]) == 0
        outs.append(cv2.imread(str(out)).astype(np.int16))
    diff = np.abs(outs[1] - outs[0]).max(axis=2)
    assert 0.005 < (diff > 8).mean() < 0.5  # the highlights of the hair, not the picture


def test_settings_shine_is_validated() -> None:
    assert Settings().shine == 50
    with pytest.raises(ValueError, match="shine"):
        Settings(shine=101)
    with pytest.raises(ValueError, match="shine"):
        Settings(shine=-1)
    with pytest.raises(TypeError, match="shine"):
        Settings(shine=True)
    with pytest.raises(TypeError, match="shine"):
        Settings(shine=50.0)  # type: ignore[arg-type]
