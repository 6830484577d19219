"""The GPU compositor: the GLSL twin of ``pipeline.composite`` + ``render_view``.

`GLCompositor` owns the shader program (``shaders/fullscreen.vert`` + ``recolor.frag`` +
``composite.frag``, loaded by name) and the two textures, and knows how to upload a frame
with its `Prepared` coefficients and draw one view of it. It is the only GL code: the widget
(`colorme_live.app.gl_view.GLView`) and the offscreen renderer here (`OffscreenRenderer`,
`render_offscreen`, used by the parity tests and ``python -m colorme_live.app.gl_bench``)
both drive it.

Uploads: the frame as a GL_RGB8 texture straight from the BGR bytes (GL_BGR source format,
unpack alignment 1, so any width works), the coefficients as a GL_RGB32F texture at their own
low resolution. The shader samples the coefficients bilinearly at pixel centres with clamped
borders (the CPU's ``cv2.INTER_LINEAR``), with four ``texelFetch`` and float32 weights.
With two or more people (``Prepared.people``), also whose hair each coefficient pixel is, as
a GL_R8UI texture (``Prepared.owner``), and one look per person in the recolour uniforms' arrays:
the shader recolours in each look and mixes them in as the CPU composite does.

All methods of `GLCompositor` need its context current on the calling thread; the Qt
objects need a ``QGuiApplication`` (or ``QApplication``) and must be used on its thread."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import numpy as np
import shiboken6
from PySide6.QtGui import (
    QGuiApplication,
    QOffscreenSurface,
    QOpenGLContext,
    QOpenGLFunctions,
    QSurfaceFormat,
    QVector2D,
    QVector3D,
)
from PySide6.QtOpenGL import (
    QOpenGLFramebufferObject,
    QOpenGLFramebufferObjectFormat,
    QOpenGLPixelTransferOptions,
    QOpenGLShader,
    QOpenGLShaderProgram,
    QOpenGLTexture,
    QOpenGLVertexArrayObject,
)

from colorme_live.app.shaders import load_shader
from colorme_live.core.errors import ColormeError
from colorme_live.core.frames import check_bgr
from colorme_live.core.pipeline import SPLIT_LINE_BGR, SPLIT_LINE_WIDTH, Prepared
from colorme_live.core.recolor import PARAM_NAMES, recolor_params
from colorme_live.core.refine import LUMA_WEIGHTS_BGR
from colorme_live.core.settings import MAX_PEOPLE, Settings, View

__all__ = [
    "FRAGMENT_SHADERS",
    "GL_VERSION",
    "MAX_LOOKS",
    "VERTEX_SHADER",
    "GLCompositor",
    "GLError",
    "OffscreenRenderer",
    "ViewMode",
    "Viewport",
    "gl_available",
    "letterbox",
    "render_offscreen",
    "surface_format",
]

GL_VERSION: Final = (3, 3)
"""The OpenGL version the shaders need (``#version 330 core``), core profile."""
VERTEX_SHADER: Final = "fullscreen.vert"
FRAGMENT_SHADERS: Final = ("recolor.frag", "composite.frag")
"""Fragment shader objects linked into one program (composite.frag has ``main``)."""
MAX_LOOKS: Final = MAX_PEOPLE
"""Length of recolor.frag's uniform arrays (``MAX_LOOKS`` there): one look per person."""

# GL enums the Qt wrappers take as plain ints.
_GL_TRIANGLES: Final = 0x0004
_GL_COLOR_BUFFER_BIT: Final = 0x4000
_GL_BLEND: Final = 0x0BE2
_GL_DEPTH_TEST: Final = 0x0B71
_GL_SCISSOR_TEST: Final = 0x0C11
_GL_DITHER: Final = 0x0BD0
_GL_UNSIGNED_BYTE: Final = 0x1401
_GL_BGRA: Final = 0x80E1
_GL_RGBA8: Final = 0x8058
_GL_PACK_ALIGNMENT: Final = 0x0D05
_GL_VERSION_STR: Final = 0x1F02
_GL_RENDERER_STR: Final = 0x1F01


class GLError(ColormeError):
    """OpenGL is missing, too old, or could not compile the shaders (the message says which)."""


class ViewMode(enum.IntEnum):
    """``u_view`` of composite.frag (keep the two in step)."""

    PLAIN = 0
    """No mask yet: the frame as it is (what the CPU path shows before the first mask)."""
    RECOLOR = 1
    SPLIT = 2
    MASK = 3

    @classmethod
    def of(cls, view: View, has_mask: bool) -> ViewMode:
        if not has_mask:
            return cls.PLAIN
        return {View.RECOLOR: cls.RECOLOR, View.SPLIT: cls.SPLIT, View.MASK: cls.MASK}[view]


@dataclass(frozen=True, slots=True)
class Viewport:
    """A rectangle of the framebuffer in pixels, origin at the lower left (GL convention)."""

    x: int
    y: int
    width: int
    height: int


def letterbox(frame_w: int, frame_h: int, target_w: int, target_h: int) -> Viewport:
    """The largest rectangle of ``frame_w : frame_h`` aspect ratio centred in the target
    (bars left/right or top/bottom), at least 1x1 pixel."""
    if frame_w < 1 or frame_h < 1:
        raise ValueError(f"frame size must be at least 1x1, got {frame_w}x{frame_h}")
    target_w, target_h = max(1, target_w), max(1, target_h)
    if target_w * frame_h <= target_h * frame_w:  # width-limited: bars top and bottom
        w, h = target_w, max(1, round(target_w * frame_h / frame_w))
    else:
        w, h = max(1, round(target_h * frame_w / frame_h)), target_h
    return Viewport((target_w - w) // 2, (target_h - h) // 2, w, h)


def surface_format() -> QSurfaceFormat:
    """An OpenGL 3.3 core-profile format, no depth/stencil buffers."""
    fmt = QSurfaceFormat()
    fmt.setRenderableType(QSurfaceFormat.RenderableType.OpenGL)
    fmt.setVersion(*GL_VERSION)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    fmt.setDepthBufferSize(0)
    fmt.setStencilBufferSize(0)
    return fmt


def _pixels(array: np.ndarray) -> Any:
    """PySide6 takes a buffer (a contiguous array) where its stubs say ``int`` (``void *``)."""
    return array


def _check_coeffs(coeffs: object) -> np.ndarray:
    if not isinstance(coeffs, np.ndarray) or coeffs.dtype != np.float32:
        raise TypeError(f"coeffs must be float32, got {getattr(coeffs, 'dtype', coeffs)!r}")
    if coeffs.ndim != 3 or coeffs.shape[2] != 3 or coeffs.shape[0] < 1 or coeffs.shape[1] < 1:
        raise ValueError(f"coeffs must be (h, w, 3), got shape {coeffs.shape}")
    return np.ascontiguousarray(coeffs)


def _check_owner(prepared: Prepared, shape: tuple[int, int]) -> np.ndarray:
    """``prepared.owner`` (whose hair each coefficient pixel is), checked against the
    coefficients' ``shape`` and the shader's number of looks."""
    if len(prepared.people) > MAX_LOOKS:
        raise ValueError(f"at most {MAX_LOOKS} people, got {len(prepared.people)}")
    owner = prepared.owner
    if owner is None or owner.shape != shape:
        got = None if owner is None else owner.shape
        raise ValueError(f"Prepared.owner {got} is not the coeffs' {shape}")
    return np.ascontiguousarray(owner, dtype=np.uint8)


def _size(tex: QOpenGLTexture) -> tuple[int, int]:
    """(width, height) of ``tex``."""
    return tex.width(), tex.height()


def _f32(x: float) -> float:
    """``x`` rounded to float32 once, the way the CPU kernels see their scalar arguments."""
    return float(np.float32(x))


class GLCompositor:
    """Shader program, vertex array and textures in one context (current on every call).

    ``upload`` then ``draw``; ``destroy`` (with the context current) frees the GL objects."""

    def __init__(self, context: QOpenGLContext) -> None:
        """Compile and link the shaders in ``context``, which must be current and at least
        OpenGL 3.3 core. Raises GLError with the driver's log if they do not compile."""
        if QOpenGLContext.currentContext() is not context:
            raise RuntimeError("GLCompositor needs its context current")
        self._gl: QOpenGLFunctions = context.functions()
        self._program = QOpenGLShaderProgram()
        stages = [(QOpenGLShader.ShaderTypeBit.Vertex, VERTEX_SHADER)]
        stages += [(QOpenGLShader.ShaderTypeBit.Fragment, name) for name in FRAGMENT_SHADERS]
        for stage, name in stages:
            if not self._program.addShaderFromSourceCode(stage, load_shader(name)):
                raise GLError(f"shader {name} does not compile: {self._program.log().strip()}")
        if not self._program.link():
            raise GLError(f"shaders do not link: {self._program.log().strip()}")
        self._vao = QOpenGLVertexArrayObject()
        if not self._vao.create():
            raise GLError("cannot create a vertex array object")
        self._uniforms = {
            name: self._program.uniformLocation(name)
            for name in (
                "u_frame",
                "u_coeffs",
                "u_frame_size",
                "u_origin",
                "u_frame_per_px",
                "u_coeff_scale",
                "u_luma_bgr",
                "u_feather_lo",
                "u_inv_ramp",
                "u_view",
                "u_split_x",
                "u_line_lo",
                "u_line_hi",
                "u_line_rgb",
                "u_owner",
                "u_looks",
            )
        }
        # recolor.frag's arrays, element by element: [look][parameter]
        self._look_uniforms = [
            [self._program.uniformLocation(f"u_{name}[{k}]") for name in PARAM_NAMES]
            for k in range(MAX_LOOKS)
        ]
        self._frame_tex: QOpenGLTexture | None = None
        self._coeff_tex: QOpenGLTexture | None = None
        self._owner_tex: QOpenGLTexture | None = None
        self._prepared: Prepared | None = None
        self._unpack = QOpenGLPixelTransferOptions()
        self._unpack.setAlignment(1)
        # The coefficients' texture needs something to sample before the first mask.
        self._upload_coeffs(np.zeros((1, 1, 3), np.float32))
        self._upload_owner(np.zeros((1, 1), np.uint8))  # sampled only with two or more looks

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the uploaded frame, None before the first upload."""
        return None if self._frame_tex is None else _size(self._frame_tex)

    def _texture(self, fmt: QOpenGLTexture.TextureFormat, w: int, h: int) -> QOpenGLTexture:
        tex = QOpenGLTexture(QOpenGLTexture.Target.Target2D)
        tex.setFormat(fmt)
        tex.setSize(w, h)
        tex.setMipLevels(1)
        tex.setWrapMode(QOpenGLTexture.WrapMode.ClampToEdge)
        tex.setMinMagFilters(QOpenGLTexture.Filter.Nearest, QOpenGLTexture.Filter.Nearest)
        tex.allocateStorage()
        if not tex.isStorageAllocated():
            raise GLError(f"cannot allocate a {w}x{h} texture")
        return tex

    def _filled(
        self,
        tex: QOpenGLTexture | None,
        fmt: QOpenGLTexture.TextureFormat,
        pixel_format: QOpenGLTexture.PixelFormat,
        pixel_type: QOpenGLTexture.PixelType,
        data: np.ndarray,
    ) -> QOpenGLTexture:
        """``tex`` holding ``data`` (C-contiguous, (h, w) or (h, w, channels)), reallocated in
        ``fmt`` only when it is None or of another size."""
        h, w = data.shape[:2]
        if tex is None or _size(tex) != (w, h):
            if tex is not None:
                shiboken6.delete(tex)
            tex = self._texture(fmt, w, h)
        tex.setData(pixel_format, pixel_type, _pixels(data), self._unpack)
        return tex

    def _upload_coeffs(self, coeffs: np.ndarray) -> None:
        self._coeff_tex = self._filled(
            self._coeff_tex,
            QOpenGLTexture.TextureFormat.RGB32F,
            QOpenGLTexture.PixelFormat.RGB,
            QOpenGLTexture.PixelType.Float32,
            coeffs,
        )

    def _upload_owner(self, owner: np.ndarray) -> None:
        self._owner_tex = self._filled(
            self._owner_tex,
            QOpenGLTexture.TextureFormat.R8U,
            QOpenGLTexture.PixelFormat.Red_Integer,
            QOpenGLTexture.PixelType.UInt8,
            np.ascontiguousarray(owner),
        )

    def upload(self, frame: np.ndarray, prepared: Prepared | None) -> None:
        """Upload ``frame`` (uint8 (H, W, 3) BGR) and, unless None or already uploaded, the
        coefficients of ``prepared``; textures are reallocated only when a size changes."""
        check_bgr(frame)
        self._frame_tex = self._filled(
            self._frame_tex,
            QOpenGLTexture.TextureFormat.RGB8_UNorm,
            QOpenGLTexture.PixelFormat.BGR,
            QOpenGLTexture.PixelType.UInt8,
            np.ascontiguousarray(frame),
        )
        if prepared is not None and prepared is not self._prepared:
            coeffs = _check_coeffs(prepared.coeffs)
            self._upload_coeffs(coeffs)
            if prepared.people:
                self._upload_owner(_check_owner(prepared, coeffs.shape[:2]))
        self._prepared = prepared

    def draw(self, viewport: Viewport, settings: Settings) -> None:
        """Draw the uploaded frame into ``viewport`` of the bound framebuffer, composited as
        ``settings`` say (the view, intensity and refinement ramp; the colour comes from the
        uploaded `Prepared`). At 1:1 (viewport == frame size) the result is the CPU's
        ``render_view(composite(...))`` up to the tolerance of the parity test; scaled, the
        frame is sampled bilinearly and the coefficients at the sampled positions."""
        if self._frame_tex is None or self._coeff_tex is None or self._owner_tex is None:
            raise RuntimeError("GLCompositor.draw() before upload()")
        gl, prog, u = self._gl, self._program, self._uniforms
        fw, fh = _size(self._frame_tex)
        per_px = (fw / viewport.width, fh / viewport.height)
        exact = per_px == (1.0, 1.0)
        prepared = self._prepared
        mode = ViewMode.of(settings.view, prepared is not None)

        gl.glDisable(_GL_BLEND)
        gl.glDisable(_GL_DEPTH_TEST)
        gl.glDisable(_GL_SCISSOR_TEST)
        gl.glDisable(_GL_DITHER)
        gl.glViewport(viewport.x, viewport.y, viewport.width, viewport.height)
        prog.bind()
        filt = QOpenGLTexture.Filter.Nearest if exact else QOpenGLTexture.Filter.Linear
        self._frame_tex.setMinMagFilters(filt, filt)
        self._frame_tex.bind(0)
        self._coeff_tex.bind(1)
        self._owner_tex.bind(2)
        prog.setUniformValue1i(u["u_frame"], 0)
        prog.setUniformValue1i(u["u_coeffs"], 1)
        prog.setUniformValue1i(u["u_owner"], 2)  # always: unit 0 holds a float sampler
        prog.setUniformValue(u["u_frame_size"], QVector2D(fw, fh))
        prog.setUniformValue(u["u_origin"], QVector2D(viewport.x, viewport.y))
        prog.setUniformValue(u["u_frame_per_px"], QVector2D(*per_px))
        prog.setUniformValue1i(u["u_view"], int(mode))

        if prepared is not None:
            cw, ch = _size(self._coeff_tex)
            prog.setUniformValue(u["u_coeff_scale"], QVector2D(_f32(cw / fw), _f32(ch / fh)))
            refine = settings.refine
            prog.setUniformValue(u["u_luma_bgr"], QVector3D(*(c / 255.0 for c in LUMA_WEIGHTS_BGR)))
            prog.setUniformValue1f(u["u_feather_lo"], _f32(refine.feather_lo))
            inv_ramp = _f32(1.0 / (refine.feather_hi - refine.feather_lo))
            prog.setUniformValue1f(u["u_inv_ramp"], inv_ramp)
            # The recolour formula's numbers, one uniform each (float32, as the CPU reads them),
            # per look: each person's own, or the one look for everyone.
            looks = [p.look for p in prepared.people] or [prepared.look]
            prog.setUniformValue1i(u["u_looks"], len(looks))
            for locations, look in zip(self._look_uniforms, looks, strict=False):
                params = recolor_params(look, settings.strength)
                for location, value in zip(locations, params.tolist(), strict=True):
                    prog.setUniformValue1f(location, value)
            # The divider exactly as render_view places it, at least one output pixel wide.
            x = min(max(round(settings.split * fw), 0), fw)
            lo = max(0, x - SPLIT_LINE_WIDTH // 2)
            hi = min(fw, x + (SPLIT_LINE_WIDTH + 1) // 2)
            line_lo, line_hi = float(lo), float(hi)
            if hi - lo < per_px[0]:
                mid = (lo + hi) / 2
                line_lo, line_hi = mid - per_px[0] / 2, mid + per_px[0] / 2
            prog.setUniformValue1f(u["u_split_x"], float(x))
            prog.setUniformValue1f(u["u_line_lo"], line_lo)
            prog.setUniformValue1f(u["u_line_hi"], line_hi)
            b, g, r = SPLIT_LINE_BGR
            prog.setUniformValue(u["u_line_rgb"], QVector3D(r, g, b))

        self._vao.bind()
        gl.glDrawArrays(_GL_TRIANGLES, 0, 3)
        self._vao.release()
        self._owner_tex.release(2)
        self._coeff_tex.release(1)
        self._frame_tex.release(0)
        prog.release()

    def destroy(self) -> None:
        """Free the GL objects now (the context must be current): Qt frees them in the C++
        destructors, which must not wait for Python's garbage collector. Idempotent."""
        for obj in (self._frame_tex, self._coeff_tex, self._owner_tex, self._vao, self._program):
            if obj is not None and shiboken6.isValid(obj):
                shiboken6.delete(obj)
        self._frame_tex = self._coeff_tex = self._owner_tex = None
        self._prepared = None


def _require_gui_app() -> None:
    if not isinstance(QGuiApplication.instance(), QGuiApplication):
        raise RuntimeError("OpenGL needs a QGuiApplication (or QApplication) created first")


def _describe(gl: QOpenGLFunctions) -> str:
    return f"OpenGL {gl.glGetString(_GL_VERSION_STR)} on {gl.glGetString(_GL_RENDERER_STR)}"


class OffscreenRenderer:
    """The compositor in its own context on an offscreen surface, drawing into a framebuffer
    object of the frame's size and reading it back: the parity tests' and the benchmark's
    renderer. Use on the GUI thread; ``close()`` (or ``with``) frees it. Raises GLError
    when no OpenGL 3.3 core context can be made."""

    def __init__(self) -> None:
        _require_gui_app()
        self._context = QOpenGLContext()
        self._context.setFormat(surface_format())
        if not self._context.create():
            raise GLError("cannot create an OpenGL context")
        fmt = self._context.format()
        if (fmt.majorVersion(), fmt.minorVersion()) < GL_VERSION:
            raise GLError(f"OpenGL {fmt.majorVersion()}.{fmt.minorVersion()} is older than 3.3")
        self._surface = QOffscreenSurface()
        self._surface.setFormat(fmt)
        self._surface.create()
        if not self._surface.isValid() or not self._context.makeCurrent(self._surface):
            raise GLError("cannot make an OpenGL context current on an offscreen surface")
        self._gl = self._context.functions()
        self.description = _describe(self._gl)
        try:
            self._compositor: GLCompositor | None = GLCompositor(self._context)
        finally:
            self._context.doneCurrent()
        self._fbo: QOpenGLFramebufferObject | None = None
        self._readback: np.ndarray | None = None

    def __enter__(self) -> OffscreenRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _current(self) -> GLCompositor:
        if self._compositor is None:
            raise RuntimeError("OffscreenRenderer is closed")
        if not self._context.makeCurrent(self._surface):
            raise GLError("cannot make the OpenGL context current")
        return self._compositor

    def draw(
        self,
        frame: np.ndarray,
        prepared: Prepared | None,
        settings: Settings,
        *,
        finish: bool = True,
        timings_ms: dict[str, float] | None = None,
    ) -> None:
        """Upload and draw into the framebuffer object (resized to the frame if needed);
        ``finish`` waits for the GPU (glFinish). ``timings_ms`` gets ``upload`` and ``draw``
        (the latter including glFinish when ``finish``)."""
        comp = self._current()
        check_bgr(frame)
        frame = np.ascontiguousarray(frame)
        h, w = frame.shape[:2]
        if self._fbo is None or (self._fbo.width(), self._fbo.height()) != (w, h):
            if self._fbo is not None:
                shiboken6.delete(self._fbo)
            fbo_format = QOpenGLFramebufferObjectFormat()
            fbo_format.setInternalTextureFormat(_GL_RGBA8)
            self._fbo = QOpenGLFramebufferObject(w, h, fbo_format)
            if not self._fbo.isValid():
                raise GLError(f"cannot create a {w}x{h} framebuffer object")
            self._readback = np.empty((h, w, 4), np.uint8)
        self._fbo.bind()
        t0 = time.perf_counter()
        comp.upload(frame, prepared)
        t1 = time.perf_counter()
        comp.draw(Viewport(0, 0, w, h), settings)
        if finish:
            self._gl.glFinish()
        t2 = time.perf_counter()
        if timings_ms is not None:
            timings_ms["upload"] = (t1 - t0) * 1e3
            timings_ms["draw"] = (t2 - t1) * 1e3

    def read(self, timings_ms: dict[str, float] | None = None) -> np.ndarray:
        """The last drawn image as uint8 (H, W, 3) BGR (glReadPixels, rows flipped to top
        first); ``timings_ms`` gets ``readback``."""
        self._current()
        if self._fbo is None or self._readback is None:
            raise RuntimeError("OffscreenRenderer.read() before draw()")
        t0 = time.perf_counter()
        self._fbo.bind()
        self._gl.glPixelStorei(_GL_PACK_ALIGNMENT, 4)
        buf = self._readback
        self._gl.glReadPixels(
            0, 0, buf.shape[1], buf.shape[0], _GL_BGRA, _GL_UNSIGNED_BYTE, _pixels(buf)
        )
        out = np.ascontiguousarray(buf[::-1, :, :3])
        if timings_ms is not None:
            timings_ms["readback"] = (time.perf_counter() - t0) * 1e3
        return out

    def render(
        self, frame: np.ndarray, prepared: Prepared | None, settings: Settings
    ) -> np.ndarray:
        """``draw`` then ``read``: what the viewer shows for ``frame``, BGR uint8, at the
        frame's size."""
        self.draw(frame, prepared, settings, finish=False)
        return self.read()

    def close(self) -> None:
        """Free the GL objects and the context. Idempotent."""
        if self._compositor is None:
            return
        if self._context.makeCurrent(self._surface):
            self._compositor.destroy()
            if self._fbo is not None:
                shiboken6.delete(self._fbo)
            self._context.doneCurrent()
        self._compositor = None
        self._fbo = None
        self._surface.destroy()


def render_offscreen(
    frame_bgr: np.ndarray, prepared: Prepared | None, settings: Settings
) -> np.ndarray:
    """One frame through the GPU compositor at its own size, BGR uint8 (H, W, 3): the GLSL
    twin of ``render_view(frame, composite(frame, ..., prepared), settings)`` (the plain frame
    when ``prepared`` is None). Makes and frees a context per call; keep an
    `OffscreenRenderer` for many frames."""
    with OffscreenRenderer() as renderer:
        return renderer.render(frame_bgr, prepared, settings)


def gl_available() -> tuple[bool, str]:
    """Whether an OpenGL 3.3 core context can be made here and compiles the shaders, with a
    one-line reason (the GL version and renderer when it can). Needs a QGuiApplication; call
    it on the GUI thread."""
    if not isinstance(QGuiApplication.instance(), QGuiApplication):
        return False, "no QGuiApplication yet (create the application first)"
    try:
        with OffscreenRenderer() as renderer:
            return True, renderer.description
    except GLError as e:
        platform = QGuiApplication.platformName()
        return False, f"{e} (Qt platform {platform!r})"
