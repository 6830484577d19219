"""Two-tone / ombré in the window (pytest-qt, offscreen, real clip and model): T turns it on
with the current colour at the roots, the ombré bar sets the tip (Tip…, through the colour
dialog, replaced by the test's answer) and the blend; colour keys change the root; frames are
composited with it; T turns it off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog

from colorme_live.app.config import SourceSpec
from colorme_live.core.live import LiveFrame
from colorme_live.core.palette import PALETTE
from tests.conftest import clip

CLIP = "lp_d10_woman_long_dark_hair_talking"
TIMEOUT_MS = 30_000


def test_t_key_tip_blend_and_frames(qtbot, make_window, media_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: QColor("#1E5BFF")))
    window = make_window(source=SourceSpec(video=clip(media_dir, CLIP)))
    frames: list[LiveFrame] = []
    window.frame_displayed.connect(frames.append)
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert window.settings.ombre is None and window.ombre_bar.isHidden()
    qtbot.keyClick(window, Qt.Key.Key_T)
    ombre = window.settings.ombre
    assert ombre is not None and ombre.root == PALETTE[1] and ombre.tip == PALETTE[5]
    assert not window.ombre_bar.isHidden() and window.view.needs_cpu_image
    window.tip_button.click()  # the dialog answers electric blue
    assert window.settings.ombre is not None and window.settings.ombre.tip == PALETTE[8]
    window.blend_slider.setValue(30)
    window.softness_slider.setValue(10)
    qtbot.keyClick(window, Qt.Key.Key_4)  # a colour key sets the root
    ombre = window.settings.ombre
    assert ombre is not None and (ombre.root, ombre.blend, ombre.softness) == (PALETTE[3], 30, 10)
    assert window.settings.color == PALETTE[3]

    def composited() -> LiveFrame | None:
        for live in reversed(frames):
            if live.mask_index is not None and live.settings.ombre == ombre:
                return live
        return None

    qtbot.waitUntil(lambda: composited() is not None, timeout=TIMEOUT_MS)
    live = composited()
    assert live is not None and live.image is not None
    changed = np.abs(live.image.astype(int) - live.frame.image).sum(axis=2) > 30
    blue = (live.image[:, :, 0].astype(int) - live.image[:, :, 2]) > 40  # B well above R
    assert changed.sum() > 500 and (blue & changed).sum() > 100, "no blue ends"
    qtbot.keyClick(window, Qt.Key.Key_T)
    assert window.settings.ombre is None and window.ombre_bar.isHidden()
