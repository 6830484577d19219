"""GLSL sources, loaded by name.

The shaders live in the repository's top-level ``shaders/`` folder; the wheel carries them as
``colorme_live/shaders`` (``[tool.hatch.build.targets.wheel.force-include]`` in
pyproject.toml). So an installed package finds ``NAME`` with importlib.resources at
``colorme_live/shaders/NAME``, and a source checkout (or an editable install, where the
package is the checkout's ``colorme_live/``) falls back to ``<checkout>/shaders/NAME``.

Qt-free: only files are read here; compiling is ``colorme_live.app.gl_render``'s job."""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "colorme_live"
SUBDIR = "shaders"
_CHECKOUT_DIR = Path(__file__).resolve().parents[2] / SUBDIR
"""``<checkout>/shaders`` (``colorme_live/app/shaders.py`` -> up two folders)."""


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"shader name must be a str, got {type(name).__name__}")
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(
            f"shader name must be a plain file name like 'composite.frag', got {name!r}"
        )


def _find(name: str) -> Traversable:
    _check_name(name)
    packaged = importlib.resources.files(PACKAGE).joinpath(SUBDIR, name)
    if packaged.is_file():
        return packaged
    checkout = _CHECKOUT_DIR / name
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(
        f"shader {name!r} not found in the installed package ({PACKAGE}/{SUBDIR}/) nor in the "
        f"source checkout ({_CHECKOUT_DIR}); is the installation complete?"
    )


def shader_location(name: str) -> str:
    """Where ``name`` is read from: the installed package's copy if there is one, else the
    checkout's ``shaders/`` folder. Raises FileNotFoundError naming both places."""
    return str(_find(name))


def load_shader(name: str) -> str:
    """The GLSL source of ``name`` (e.g. ``"composite.frag"``), as text."""
    return _find(name).read_text(encoding="utf-8")
