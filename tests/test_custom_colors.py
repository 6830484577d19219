"""Custom colours: the colour picker (C key and the toolbar button; QColorDialog.getColor is
replaced by the test's choice, the rest is the real window), the last five remembered across
launches and shown after the ten palette swatches, 1-9/0 unchanged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog

from colorme_live.app.config import SourceSpec
from colorme_live.app.prefs import MAX_CUSTOM_COLORS, Prefs
from colorme_live.core.live import LiveFrame
from colorme_live.core.palette import PALETTE, parse_color
from tests.conftest import clip

CLIP = "lp_d12_man_wavy_brown_hair_motion"
TIMEOUT_MS = 30_000
PICKS = ["#3366FF", "#12AB34", "#FF00AA", "#00C0C0", "#805020", "#F0F0A0", "#400080"]


@pytest.fixture
def picker(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the colour dialog answers next (popped from the front; "" = cancelled)."""
    answers: list[str] = []

    def get_color(initial: QColor, *args: object, **kwargs: object) -> QColor:
        assert initial.isValid()  # opened on the current colour
        answer = answers.pop(0)
        return QColor(answer) if answer else QColor()

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(get_color))
    return answers


def _custom_buttons(window) -> list[str]:  # type: ignore[no-untyped-def]
    """Tooltips of the visible custom swatches, in toolbar order."""
    out = []
    for i, action in enumerate(window._custom_swatch_actions, start=len(PALETTE) + 1):
        if action.isVisible():  # the toolbar's action: its button may sit in the overflow
            out.append(window.swatches.button(i).toolTip().split()[0])
    return out


def test_pick_apply_remember_five_and_reload(
    qtbot, make_window, media_dir: Path, picker: list[str], isolated_settings: Path
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(source=SourceSpec(video=clip(media_dir, CLIP)))
    assert _custom_buttons(window) == []
    frames: list[LiveFrame] = []
    window.frame_displayed.connect(frames.append)

    picker.insert(0, PICKS[0])
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.settings.color == parse_color(PICKS[0])
    assert _custom_buttons(window) == [PICKS[0]]
    assert window.swatches.checkedId() == len(PALETTE) + 1
    qtbot.waitUntil(
        lambda: any(f.settings.color.hex == PICKS[0] for f in frames), timeout=TIMEOUT_MS
    )

    for hex_ in PICKS[1:]:  # the toolbar button does the same
        picker.insert(0, hex_)
        window.pick_button.click()
    newest_first = PICKS[::-1][:MAX_CUSTOM_COLORS]
    assert _custom_buttons(window) == newest_first
    assert [c.hex for c in window.custom_colors] == newest_first

    picker.insert(0, "")  # cancelled: nothing changes
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.settings.color.hex == PICKS[-1] and _custom_buttons(window) == newest_first

    picker.insert(0, PICKS[4])  # picked again: moves to the front, no duplicate
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert _custom_buttons(window)[0] == PICKS[4] and len(set(_custom_buttons(window))) == 5

    picker.insert(0, PALETTE[2].hex)  # a palette colour is the palette swatch, not a custom one
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.settings.color == PALETTE[2] and window.swatches.checkedId() == 3
    assert PALETTE[2].hex not in _custom_buttons(window)

    window.swatches.button(len(PALETTE) + 2).click()  # the second custom swatch
    assert window.settings.color.hex == _custom_buttons(window)[1]
    for key, index in ((Qt.Key.Key_1, 1), (Qt.Key.Key_0, 10), (Qt.Key.Key_9, 9)):
        qtbot.keyClick(window, key)  # 1-9/0 unchanged
        assert window.settings.color == PALETTE[index - 1]
    remembered = _custom_buttons(window)
    picker.insert(0, PICKS[1])
    qtbot.keyClick(window, Qt.Key.Key_C)
    remembered = [PICKS[1], *(h for h in remembered if h != PICKS[1])][:MAX_CUSTOM_COLORS]
    window.shutdown()

    assert [c.hex for c in Prefs(isolated_settings).custom_colors()] == remembered
    again = make_window(source=SourceSpec(video=clip(media_dir, CLIP)))  # the next launch
    assert _custom_buttons(again) == remembered
    assert again.settings.color.hex == PICKS[1]  # the last colour, a custom one
    assert again.swatches.checkedId() == len(PALETTE) + 1


def test_bad_remembered_entries_are_skipped(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    ini = tmp_path / "s.ini"
    ini.write_text("[look]\ncustom=#112233 nonsense #445566 #112233 #ZZZZZZ\n")
    with caplog.at_level(logging.WARNING):
        colors = Prefs(ini).custom_colors()
    assert [c.hex for c in colors] == ["#112233", "#445566"]
    assert "nonsense" in caplog.text and "#ZZZZZZ" in caplog.text


def test_custom_colours_that_cannot_be_saved_are_said(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    prefs = Prefs(blocker / "s.ini")  # its folder cannot exist: a file is in the way
    with caplog.at_level(logging.WARNING):
        prefs.save_custom_colors([parse_color("#3366FF")])
    assert "could not be saved" in caplog.text
