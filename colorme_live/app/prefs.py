"""The last colour, intensity and shine, remembered between runs (QSettings).

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

    def shine(self) -> int | None:
        """The remembered shine (0..100), None if unset or not valid."""
        value = self._qs.value("look/shine", None)
        try:
            number = int(str(value))
        except ValueError:
            return None
        return number if 0 <= number <= 100 else None

    def save_shine(self, shine: int) -> None:
        self._qs.setValue("look/shine", shine)
        self._qs.sync()
