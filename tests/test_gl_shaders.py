"""The GLSL files: found by name in a checkout and in an installed wheel, and paired with
their CPU twins (STYLE habit 10). No OpenGL needed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from colorme_live.app.gl_render import FRAGMENT_SHADERS, VERTEX_SHADER
from colorme_live.app.shaders import load_shader, shader_location
from tests.glx import REPO

SHADERS = (VERTEX_SHADER, *FRAGMENT_SHADERS)
TWINS = {
    "composite.frag": ("colorme_live.core.refine", "upsample_alpha"),
    "recolor.frag": ("colorme_live.core.recolor", "_recolor_rows"),
}
"""Shader -> (module, function) of its CPU twin, which names the shader back."""


def test_every_shader_is_in_the_shaders_folder_and_loads_by_name() -> None:
    assert sorted(p.name for p in (REPO / "shaders").iterdir()) == sorted(SHADERS)
    for name in SHADERS:
        assert Path(shader_location(name)) == REPO / "shaders" / name
        source = load_shader(name)
        assert source.startswith("#version 330 core\n"), name


@pytest.mark.parametrize("name", ["", "../pyproject.toml", "sub/x.frag", ".hidden", "nope.frag"])
def test_bad_or_unknown_names_are_refused(name: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=re.escape(repr(name))):
        load_shader(name)


@pytest.mark.parametrize(("shader", "twin"), list(TWINS.items()))
def test_each_shader_and_its_cpu_twin_name_each_other(shader: str, twin: tuple[str, str]) -> None:
    module, function = twin
    header = load_shader(shader).split("\n\n")[0]
    assert "CPU twin" in header and module in header and function.lstrip("_") in header
    path = REPO / Path(*module.split(".")).with_suffix(".py")
    assert f"shaders/{shader}" in path.read_text(encoding="utf-8")


def _uniforms(name: str) -> set[str]:
    return set(re.findall(r"^uniform\s+\w+\s+(u_\w+)\s*(?:\[\w+\])?\s*;", load_shader(name), re.M))


def test_recolor_uniforms_are_the_params_names() -> None:
    """STYLE habit 12: the recolour formula's numbers live in one parameters array; the shader
    declares exactly one ``float u_<name>[MAX_LOOKS]`` (a value per look) per entry and
    nothing else, and the renderer sets
    every uniform the linked program declares."""
    from colorme_live.core.recolor import PARAM_NAMES

    source = load_shader("recolor.frag")
    declared = set(re.findall(r"^uniform\s+float\s+(u_\w+)\[MAX_LOOKS\]\s*;", source, re.M))
    assert declared == _uniforms("recolor.frag")  # all float arrays, one entry per look
    assert declared == {f"u_{name}" for name in PARAM_NAMES}
    gl_render = (REPO / "colorme_live" / "app" / "gl_render.py").read_text(encoding="utf-8")
    listed = set(re.findall(r'"(u_\w+)"', gl_render)) | {f"u_{n}" for n in PARAM_NAMES}
    assert _uniforms("composite.frag") <= listed


def test_the_shader_holds_a_look_for_every_person_the_settings_allow() -> None:
    from colorme_live.app.gl_render import MAX_LOOKS
    from colorme_live.core.settings import MAX_PEOPLE, RegionSettings

    (length,) = re.findall(r"const int MAX_LOOKS = (\d+);", load_shader("recolor.frag"))
    assert int(length) == MAX_LOOKS == MAX_PEOPLE
    RegionSettings(max_people=MAX_PEOPLE)
    with pytest.raises(ValueError, match="max_people"):
        RegionSettings(max_people=MAX_PEOPLE + 1)


def test_every_shader_the_core_names_exists() -> None:
    named = set()
    for path in (REPO / "colorme_live" / "core").glob("*.py"):
        named |= set(re.findall(r"shaders/([\w.]+\.(?:frag|vert))", path.read_text("utf-8")))
    assert named and named <= set(SHADERS), named - set(SHADERS)


def test_the_wheel_carries_the_shaders_and_finds_them_installed(tmp_path: Path) -> None:
    """Build the wheel, check the shaders are inside as colorme_live/shaders/, unpack it and
    load them from there (not from the checkout) in a fresh interpreter."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (needed to build the wheel)")
    out = tmp_path / "dist"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("colorme_live-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in SHADERS:
            assert f"colorme_live/shaders/{name}" in names
        zf.extractall(tmp_path / "site")
    code = (
        "import colorme_live\n"
        "from colorme_live.app.shaders import load_shader, shader_location\n"
        "print(colorme_live.__file__)\n"
        f"for n in {SHADERS!r}: print(shader_location(n)); assert load_shader(n)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"))
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    site = str(tmp_path / "site" / "colorme_live")
    lines = run.stdout.splitlines()
    assert lines[0].startswith(site), lines
    assert lines[1:] == [os.path.join(site, "shaders", n) for n in SHADERS]
