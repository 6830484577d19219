"""Errors the user can fix. The CLI prints their message on one line and exits with 2."""

from __future__ import annotations


class ColormeError(Exception):
    """A problem with the user's input or environment, with a message meant for them."""

    exit_code = 2


class InputError(ColormeError):
    """A missing, unreadable, truncated or unsupported input file, or a bad option value."""


class ModelError(ColormeError):
    """The hair model is missing, could not be downloaded, is corrupt, or is not a hair model."""
