"""The GPU path on a real GPU, headless through EGL: upload + draw time at 720p and 1080p and
parity of the shaders with the Numba kernels on that driver.

Not a test (pytest does not collect it): a script for a machine with a GPU and no display,
where PySide6 is not installed. It runs the very same ``shaders/`` files through moderngl's
standalone EGL context, with the uniforms set exactly as ``colorme_live.app.gl_render`` sets
them, and compares the result with ``refine.upsample_alpha`` + ``recolor.recolor``.

    python tests/gpu_egl_bench.py            # needs numpy, numba, opencv, moderngl
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import moderngl  # noqa: E402

from colorme_live.core.palette import PALETTE  # noqa: E402
from colorme_live.core.recolor import (  # noqa: E402
    PARAM_NAMES,
    make_look,
    recolor,
    recolor_params,
)
from colorme_live.core.refine import (  # noqa: E402
    LUMA_WEIGHTS_BGR,
    coefficients,
    luma,
    upsample_alpha,
)
from colorme_live.core.settings import RefineSettings  # noqa: E402

VIEW_RECOLOR = 1
RUNS = 200


def f32(x: float) -> float:
    return float(np.float32(x))


def program(ctx: moderngl.Context) -> moderngl.Program:
    shaders = REPO / "shaders"
    composite = (shaders / "composite.frag").read_text()
    recolor_src = (shaders / "recolor.frag").read_text().replace("#version 330 core", "", 1)
    return ctx.program(
        vertex_shader=(shaders / "fullscreen.vert").read_text(),
        fragment_shader=composite + "\n" + recolor_src,
    )


def scene(w: int, h: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random frame and a blob-shaped hair probability at 256 px on the long side."""
    rng = np.random.default_rng(seed)
    frame = cv2.resize(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8), (w, h))
    frame = np.ascontiguousarray(frame)
    lw, lh = (256, round(256 * h / w)) if w >= h else (round(256 * w / h), 256)
    yy, xx = np.mgrid[0:lh, 0:lw]
    prob = np.exp(-(((xx - lw / 2) / (lw / 4)) ** 2 + ((yy - lh / 3) / (lh / 4)) ** 2))
    return frame, prob.astype(np.float32)


def main() -> int:
    ctx = moderngl.create_standalone_context(backend="egl", require=330)
    print(f"GL: {ctx.info['GL_RENDERER']} | {ctx.info['GL_VERSION']}")
    prog = program(ctx)
    vao = ctx.vertex_array(prog, [])
    refine = RefineSettings()
    for name, (w, h) in {"1280x720": (1280, 720), "1920x1080": (1920, 1080)}.items():
        frame, prob = scene(w, h)
        small = cv2.resize(frame, (prob.shape[1], prob.shape[0]), interpolation=cv2.INTER_AREA)
        coeffs = coefficients(prob, luma(small), refine)
        color = PALETTE[8]
        look = make_look(color, 0.3)
        strength = 0.8
        tex = ctx.texture((w, h), 3, dtype="f1")
        tex.swizzle = "BGRA"  # the bytes are BGR, the shader reads .rgb
        tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        ctex = ctx.texture((coeffs.shape[1], coeffs.shape[0]), 3, dtype="f4")
        ctex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        fbo = ctx.simple_framebuffer((w, h), components=4)
        fbo.use()
        uniforms = {
            "u_frame": 0,
            "u_coeffs": 1,
            "u_frame_size": (w, h),
            "u_origin": (0.0, 0.0),
            "u_frame_per_px": (1.0, 1.0),
            "u_view": VIEW_RECOLOR,
            "u_coeff_scale": (f32(coeffs.shape[1] / w), f32(coeffs.shape[0] / h)),
            "u_luma_bgr": tuple(c / 255.0 for c in LUMA_WEIGHTS_BGR),
            "u_feather_lo": f32(refine.feather_lo),
            "u_inv_ramp": f32(1.0 / (refine.feather_hi - refine.feather_lo)),
            "u_owner": 2,  # an unsigned sampler may not share unit 0 with the frame's
            "u_looks": 1,  # one look for everyone (look 0 of recolor.frag's arrays)
            # the recolour formula's numbers, looped as gl_render.GLCompositor.draw does
            **{
                f"u_{name}": value
                for name, value in zip(
                    PARAM_NAMES, recolor_params(look, strength).tolist(), strict=True
                )
            },
        }
        for key, value in uniforms.items():
            if key in prog:
                uniform = prog[key]
                # recolor.frag's arrays hold one entry per look: every entry the one look
                uniform.value = (
                    [value] * uniform.array_length if uniform.array_length > 1 else value
                )
        tex.use(0)
        ctex.use(1)
        data = frame.tobytes()
        cdata = np.ascontiguousarray(coeffs).tobytes()
        up, draw, back = [], [], []
        for i in range(RUNS + 10):
            ctx.finish()
            t0 = time.perf_counter()
            tex.write(data)
            ctex.write(cdata)
            ctx.finish()
            t1 = time.perf_counter()
            vao.render(moderngl.TRIANGLES, vertices=3)
            ctx.finish()
            t2 = time.perf_counter()
            out = fbo.read(components=4)
            t3 = time.perf_counter()
            if i >= 10:
                up.append((t1 - t0) * 1e3)
                draw.append((t2 - t1) * 1e3)
                back.append((t3 - t2) * 1e3)
        gpu = np.frombuffer(out, np.uint8).reshape(h, w, 4)[::-1, :, 2::-1]  # RGBA bottom-up -> BGR
        cpu = recolor(frame, upsample_alpha(coeffs, frame, refine), look, strength)
        diff = np.abs(gpu.astype(int) - cpu.astype(int))
        m_up, m_draw = statistics.median(up), statistics.median(draw)
        print(
            f"{name}: upload {m_up:.3f} ms, draw+finish "
            f"{m_draw:.3f} ms, upload+draw {m_up + m_draw:.3f} ms, "
            f"readback {statistics.median(back):.3f} ms (median of {RUNS}); parity vs Numba: "
            f"max diff {diff.max()}, {100 * (diff > 0).mean():.4f}% of values differ"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
