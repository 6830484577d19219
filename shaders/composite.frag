#version 330 core
// The full-resolution half of compositing in one pass: hair alpha from the low-resolution
// guided-filter coefficients, the recolour (recolor.frag, linked into the same program),
// then the view. Draw it with fullscreen.vert over a viewport showing the frame.
//
// CPU twins:
//   alpha     colorme_live.core.refine.upsample_alpha (Numba kernel _alpha_row)
//   recolour  colorme_live.core.recolor._recolor_rows          (see recolor.frag)
//   view      colorme_live.core.pipeline.render_view
//
// Alpha, at frame pixel (col, row) with centre p = (col + 0.5, row + 0.5):
//   per axis  s = max(p * (n_in / n_out) - 0.5, 0); i0 = min(int(s), n_in - 1);
//             i1 = min(i0 + 1, n_in - 1); f = s - i0   (pixel centres, clamp at the borders:
//             cv2 INTER_LINEAR, i.e. a GL_LINEAR + CLAMP_TO_EDGE texture at pixel centres;
//             done by hand with texelFetch so that the weights are float32 like the CPU's and
//             not the 8-bit fixed point that many GPUs filter with)
//   (a, b, band) = bilinear coefficients, rows first, then columns
//   I     = 0.114 B/255 + 0.587 G/255 + 0.299 R/255             (refine.LUMA_WEIGHTS_BGR)
//   q     = clamp((a * I + b - feather_lo) * (1 / (feather_hi - feather_lo)), 0, 1)
//   alpha = q * max(band, 0)
// People (two or more, pipeline.Prepared.people): the frame is recoloured in look 0 (the
// first person's), then each other person's look k is mixed in where the hair is theirs, in
// 1/256 steps as ombre.mix does (Twin: ombre._weights_256 + ombre._mix_kernel):
//   a   = roundEven(bilinear of 256 * (owner == k)) at the same sample positions, columns
//         first, then rows (cv2.resize INTER_LINEAR on uint16; roundEven is cvRound)
//   out = floor((out * (256 - a) + recolour_k * a + 128) / 256)
// Views: PLAIN (no mask yet) the frame as it is; RECOLOR the recoloured frame; SPLIT the
// original left of split_x, the recoloured frame right of it, a white divider over
// [line_lo, line_hi); MASK floor(clamp(alpha * 255 + 0.5, 0, 255)) as grey.
//
// Where it is: p = (gl_FragCoord.xy - origin) * frame_per_px with y flipped to count from the
// top. gl_FragCoord is exact at pixel centres, so when the viewport is the frame's size
// (offscreen parity renders) p is exactly (col + 0.5, row + 0.5) and every formula above is
// evaluated at the CPU's sample positions. The output is levels / 255, which an RGBA8 target
// stores exactly (the rounding, floor(x + 0.5), is done here as on the CPU).

const int VIEW_PLAIN = 0;    // keep in step with colorme_live.app.gl_render
const int VIEW_RECOLOR = 1;
const int VIEW_SPLIT = 2;
const int VIEW_MASK = 3;

uniform sampler2D u_frame;       // the frame, RGB8 (uploaded from BGR bytes), top row first
uniform sampler2D u_coeffs;      // refine.coefficients: RGB32F (a, b, band), top row first
uniform vec2 u_frame_size;       // (W, H) of the frame in pixels
uniform vec2 u_origin;           // the viewport's lower-left corner in framebuffer pixels
uniform vec2 u_frame_per_px;     // frame pixels per framebuffer pixel (1, 1) at 1:1
uniform vec2 u_coeff_scale;      // float32(w / W), float32(h / H) for coefficients (h, w)
uniform vec3 u_luma_bgr;         // float32(LUMA_WEIGHTS_BGR / 255)
uniform float u_feather_lo;      // RefineSettings.feather_lo
uniform float u_inv_ramp;        // float32(1 / (feather_hi - feather_lo))
uniform int u_view;              // VIEW_*
uniform float u_split_x;         // SPLIT: original where p.x < split_x (frame pixels)
uniform float u_line_lo;         // SPLIT: divider over line_lo <= p.x < line_hi
uniform float u_line_hi;
uniform vec3 u_line_rgb;         // divider colour, levels 0..255
uniform usampler2D u_owner;      // Analysis.owner: R8UI, whose hair (a look's index), like u_coeffs
uniform int u_looks;             // looks in recolor.frag's arrays: 1, or one per person

out vec4 frag_color;

vec3 recolor(vec3 rgb, float alpha, int look);  // recolor.frag

// Source indices and fraction along one axis. Twin: refine._sample_positions.
void sample_axis(float p, float scale, int n_in, out int i0, out int i1, out float f) {
    float s = max(p * scale - 0.5, 0.0);
    i0 = min(int(s), n_in - 1);
    i1 = min(i0 + 1, n_in - 1);
    f = s - float(i0);
}

// The coefficients' bilinear taps at frame position p: source columns x0, x1 and rows
// y0, y1, with the fractions fx, fy.
struct Taps {
    int x0, x1, y0, y1;
    float fx, fy;
};

Taps taps_at(vec2 p) {
    ivec2 size = textureSize(u_coeffs, 0);  // (w, h)
    Taps t;
    sample_axis(p.x, u_coeff_scale.x, size.x, t.x0, t.x1, t.fx);
    sample_axis(p.y, u_coeff_scale.y, size.y, t.y0, t.y1, t.fy);
    return t;
}

// Hair alpha at taps t for a pixel given in levels (R, G, B order).
// Twin: refine._alpha_row.
float upsample_alpha(Taps t, vec3 rgb) {
    float gy = 1.0 - t.fy;
    vec3 col0 = texelFetch(u_coeffs, ivec2(t.x0, t.y0), 0).rgb * gy
              + texelFetch(u_coeffs, ivec2(t.x0, t.y1), 0).rgb * t.fy;
    vec3 col1 = texelFetch(u_coeffs, ivec2(t.x1, t.y0), 0).rgb * gy
              + texelFetch(u_coeffs, ivec2(t.x1, t.y1), 0).rgb * t.fy;
    vec3 abb = col0 * (1.0 - t.fx) + col1 * t.fx;  // (a, b, band)
    float luma = u_luma_bgr.x * rgb.b + u_luma_bgr.y * rgb.g;
    luma += u_luma_bgr.z * rgb.r;
    float q = min(max((abb.x * luma + abb.y - u_feather_lo) * u_inv_ramp, 0.0), 1.0);
    return q * max(abb.z, 0.0);
}

float owned(int x, int y, int look) {
    return texelFetch(u_owner, ivec2(x, y), 0).r == uint(look) ? 256.0 : 0.0;
}

// Look `look`'s share at taps t, 0..256. Twin: ombre._weights_256.
float share(Taps t, int look) {
    float gx = 1.0 - t.fx;
    float row0 = owned(t.x0, t.y0, look) * gx + owned(t.x1, t.y0, look) * t.fx;
    float row1 = owned(t.x0, t.y1, look) * gx + owned(t.x1, t.y1, look) * t.fx;
    return roundEven(row0 * (1.0 - t.fy) + row1 * t.fy);
}

// The recoloured frame with each person in their own look. Twin: pipeline.composite.
vec3 recolor_people(Taps t, vec3 src, float alpha) {
    vec3 levels = recolor(src, alpha, 0);
    for (int look = 1; look < u_looks; ++look) {
        float a = share(t, look);
        if (a > 0.0) {  // twin: ombre._mix_kernel
            vec3 other = recolor(src, alpha, look);
            levels = floor((levels * (256.0 - a) + other * a + 128.0) / 256.0);
        }
    }
    return levels;
}

void main() {
    vec2 p = (gl_FragCoord.xy - u_origin) * u_frame_per_px;
    p.y = u_frame_size.y - p.y;
    vec3 src = floor(texture(u_frame, p / u_frame_size).rgb * 255.0 + 0.5);
    vec3 levels = src;
    if (u_view != VIEW_PLAIN) {
        Taps t = taps_at(p);
        float alpha = upsample_alpha(t, src);
        if (u_view == VIEW_MASK) {
            levels = vec3(floor(clamp(alpha * 255.0 + 0.5, 0.0, 255.0)));
        } else {
            levels = recolor_people(t, src, alpha);
            if (u_view == VIEW_SPLIT) {
                if (p.x < u_split_x) {
                    levels = src;
                }
                if (p.x >= u_line_lo && p.x < u_line_hi) {
                    levels = u_line_rgb;
                }
            }
        }
    }
    frag_color = vec4(levels / 255.0, 1.0);
}
