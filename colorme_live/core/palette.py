"""The ten palette colours, defined once, in key order 1-9 then 0."""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

from colorme_live.core.errors import InputError


@dataclass(frozen=True, slots=True)
class Color:
    """A target hair colour. ``rgb`` is 0..255 per channel."""

    name: str
    rgb: tuple[int, int, int]

    def __post_init__(self) -> None:
        if len(self.rgb) != 3 or any(not 0 <= c <= 255 for c in self.rgb):
            raise ValueError(f"rgb must be three values in 0..255, got {self.rgb!r}")

    @property
    def hex(self) -> str:
        r, g, b = self.rgb
        return f"#{r:02X}{g:02X}{b:02X}"

    @property
    def hsv(self) -> tuple[float, float, float]:
        """Hue, saturation and value, each in 0..1 (hue 1.0 == 360 degrees)."""
        r, g, b = (c / 255.0 for c in self.rgb)
        return colorsys.rgb_to_hsv(r, g, b)


PALETTE: tuple[Color, ...] = (
    Color("jet black", (0x1C, 0x1A, 0x1B)),
    Color("dark brown", (0x3D, 0x2A, 0x20)),
    Color("chestnut", (0x6F, 0x3A, 0x22)),
    Color("copper", (0xB8, 0x57, 0x2B)),
    Color("honey blonde", (0xC9, 0x9B, 0x5C)),
    Color("platinum", (0xE4, 0xDF, 0xD3)),
    Color("burgundy", (0x70, 0x1A, 0x2E)),
    Color("pastel pink", (0xF2, 0xA6, 0xC4)),
    Color("electric blue", (0x1E, 0x5B, 0xFF)),
    Color("lavender", (0xA0, 0x82, 0xDC)),
)
"""Index i (1..10) is ``PALETTE[i - 1]``; the keys 1-9 select 1..9 and the key 0 selects 10."""

KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")

_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


def by_index(index: int) -> Color:
    """The palette colour with 1-based ``index`` (1..10)."""
    if not 1 <= index <= len(PALETTE):
        raise InputError(f"colour index must be 1..{len(PALETTE)}, got {index}")
    return PALETTE[index - 1]


def index_of(color: Color) -> int | None:
    """The 1-based palette index of ``color``, or None for a custom colour."""
    for i, c in enumerate(PALETTE, start=1):
        if c == color:
            return i
    return None


def parse_color(text: str) -> Color:
    """A palette name (any case, '-' or '_' for spaces), a 1-based index, or ``#RRGGBB``."""
    value = text.strip()
    if value.isascii() and value.isdigit():  # not '²': str.isdigit takes it, int() does not
        return by_index(int(value))
    key = value.lower().replace("-", " ").replace("_", " ")
    for c in PALETTE:
        if c.name == key:
            return c
    m = _HEX.fullmatch(value)
    if m and (value.startswith("#") or not value.isalpha()):
        h = m.group(1)
        return Color(f"#{h.upper()}", (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)))
    names = ", ".join(c.name for c in PALETTE)
    raise InputError(f"unknown colour {text!r}: use 1-{len(PALETTE)}, #RRGGBB or one of: {names}")
