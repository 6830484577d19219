"""The last colour, intensity and shine, and the last five custom colours, remembered between
runs (QSettings).

``$COLORME_SETTINGS`` names an INI file to use instead of the platform's settings store, so
tests (and portable setups) never touch the user's real settings. Settings that cannot be
saved (an unwritable place) give one warning in the log (and the window says so in its status
bar); the app carries on."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings

from colorme_live.core.errors import InputError
from colorme_live.core.palette import Color, index_of, parse_color

log = logging.getLogger(__name__)

SETTINGS_ENV = "COLORME_SETTINGS"
MAX_CUSTOM_COLORS = 5
"""How many custom colours (the colour picker's) are remembered, newest first."""
_ORG = "colorme-live"
_APP = "colorme-live"


class Prefs:
    def __init__(self, path: Path | None = None) -> None:
        env = os.environ.get(SETTINGS_ENV)
        if path is None and env:
            path = Path(env)
        if path is not None:
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._qs = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, _ORG, _APP)
        self._warned = False

    @property
    def location(self) -> str:
        return self._qs.fileName()

    def problem(self) -> str | None:
        """Why the settings cannot be saved (an unwritable place), or None. Checked for real
        (the file opened for appending, or a temporary file made in its folder); the first
        time a problem is found it is logged as a warning, once."""
        path = Path(self.location)
        try:
            if path.exists():
                with path.open("ab"):
                    pass
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=path.parent, prefix=".colorme-check."):
                    pass
        except OSError as e:
            return self._warn(f"settings cannot be saved to {path}: {e.strerror or e}")
        return None

    def _warn(self, message: str) -> str:
        if not self._warned:
            self._warned = True
            log.warning("%s; colorme-live carries on without remembering them", message)
        return message

    def color(self) -> Color | None:
        text = self._qs.value("look/color", None)
        if not isinstance(text, str) or not text:
            return None
        try:
            return parse_color(text)
        except InputError:
            log.warning("ignoring the remembered colour %r in %s", text, self.location)
            return None

    def _percent(self, key: str) -> int | None:
        """A remembered 0..100 setting; None if unset or not valid."""
        try:
            number = int(str(self._qs.value(key, None)))
        except ValueError:
            return None
        return number if 0 <= number <= 100 else None

    def intensity(self) -> int | None:
        return self._percent("look/intensity")

    def save_look(self, color: Color, intensity: int) -> None:
        self._qs.setValue("look/color", color.name if index_of(color) else color.hex)
        self._qs.setValue("look/intensity", intensity)
        self._sync()

    def camera(self) -> tuple[str | None, int | None]:
        """The camera used last: its system name (None if unknown) and index."""
        name = self._qs.value("camera/name", None)
        index = self._qs.value("camera/index", None)
        try:
            number: int | None = int(str(index))
        except ValueError:
            number = None
        if number is not None and not 0 <= number <= 99:
            number = None
        return (name if isinstance(name, str) and name else None), number

    def save_camera(self, name: str | None, index: int) -> None:
        self._qs.setValue("camera/name", name or "")
        self._qs.setValue("camera/index", index)
        self._sync()

    def _sync(self) -> None:
        """Write the settings now; a place that cannot be written is said once."""
        self._qs.sync()
        if self._qs.status() != QSettings.Status.NoError:
            self._warn(f"settings could not be saved to {self.location}")

    def custom_colors(self) -> list[Color]:
        """The custom colours picked last, newest first (at most ``MAX_CUSTOM_COLORS``);
        entries that are not ``#RRGGBB`` are skipped with a warning."""
        text = self._qs.value("look/custom", None)
        if not isinstance(text, str) or not text.strip():
            return []
        colors: list[Color] = []
        for item in text.split():
            try:
                color = parse_color(item) if item.startswith("#") else None
            except InputError:
                color = None
            if color is None:
                log.warning("ignoring the remembered custom colour %r in %s", item, self.location)
            elif color not in colors:
                colors.append(color)
        return colors[:MAX_CUSTOM_COLORS]

    def save_custom_colors(self, colors: list[Color]) -> None:
        # space-separated: an INI value with commas would be read back as a list
        self._qs.setValue("look/custom", " ".join(c.hex for c in colors[:MAX_CUSTOM_COLORS]))
        self._sync()

    def shine(self) -> int | None:
        """The remembered shine (0..100), None if unset or not valid."""
        return self._percent("look/shine")

    def save_shine(self, shine: int) -> None:
        self._qs.setValue("look/shine", shine)
        self._sync()
