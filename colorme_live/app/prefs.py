"""The last colour and intensity, remembered between runs (QSettings).

``$COLORME_SETTINGS`` names an INI file to use instead of the platform's settings store, so
tests (and portable setups) never touch the user's real settings."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QSettings

from colorme_live.core.errors import InputError
from colorme_live.core.palette import Color, index_of, parse_color

log = logging.getLogger(__name__)

SETTINGS_ENV = "COLORME_SETTINGS"
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

    @property
    def location(self) -> str:
        return self._qs.fileName()

    def color(self) -> Color | None:
        text = self._qs.value("look/color", None)
        if not isinstance(text, str) or not text:
            return None
        try:
            return parse_color(text)
        except InputError:
            log.warning("ignoring the remembered colour %r in %s", text, self.location)
            return None

    def intensity(self) -> int | None:
        value = self._qs.value("look/intensity", None)
        try:
            number = int(str(value))
        except ValueError:
            return None
        return number if 0 <= number <= 100 else None

    def save_look(self, color: Color, intensity: int) -> None:
        self._qs.setValue("look/color", color.name if index_of(color) else color.hex)
        self._qs.setValue("look/intensity", intensity)
        self._qs.sync()

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
        self._qs.sync()
