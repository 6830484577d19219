#version 330 core
// Hair recolouring of one pixel: a function library, linked into the same program as
// composite.frag (which has main() and declares recolor()).
//
// CPU twin: colorme_live.core.recolor, kernels _target_table + _recolor_rows (Numba); the
// formula is written out in that module's docstring. In float32, levels 0..255 as on the CPU:
//
//     m   = floor((77 R + 150 G + 29 B + 128) / 256)        the pixel's shading level
//     d   = log(max(m, 0.5) / 255) - log_hair
//     e   = d * (d > 0 ? gain_high : gain_low)
//     x   = centre * exp(e);  x > knee: x = 1 - (1 - knee) * exp(-(x - knee) / (1 - knee))
//     u   = clamp(e / highlight_log, 0, 1);  s' = saturation * (1 - desaturate * u*u*(3-2u))
//     t_n = (255 * x) * (1 - s' * f_n)                        hsv_to_rgb closed form
//     w   = alpha * strength
//     out = floor(clamp(in + (t_n - in) * w + 0.5, 0, 255))   per channel n
//
// The CPU evaluates t_n once per level into a table; here it is evaluated per pixel with the
// same operations. Every number comes in as a uniform u_<name>, set by a loop over
// colorme_live.core.recolor.recolor_params / PARAM_NAMES (a test holds the two lists equal).

uniform float u_centre;         // where the hair's mean lands, 0..1
uniform float u_log_hair;       // ln(hair level)
uniform float u_gain_high;      // gain on highlights (gamma * gloss)
uniform float u_gain_low;       // gain on shadows (gamma * SHADOW_DEEPEN)
uniform float u_knee;           // start of the shoulder towards 1
uniform float u_highlight_log;  // log ratio of a full highlight
uniform float u_saturation;     // s_t
uniform float u_desaturate;     // share of the saturation a full highlight loses
uniform float u_factor_r;       // f_n of hsv_to_rgb for R, G, B
uniform float u_factor_g;
uniform float u_factor_b;
uniform float u_strength;       // intensity / 100, 0..1

// 255 * rgb for a shading level m (0..255), R, G, B. Twin: recolor._target_table.
vec3 target_rgb(float m) {
    float d = log(max(m, 0.5) / 255.0) - u_log_hair;
    float e = d * (d > 0.0 ? u_gain_high : u_gain_low);
    float x = u_centre * exp(e);
    if (x > u_knee) {
        float span = 1.0 - u_knee;
        x = 1.0 - span * exp(-(x - u_knee) / span);
    }
    float u = min(max(e / u_highlight_log, 0.0), 1.0);
    float s = u_saturation * (1.0 - u_desaturate * (u * u * (3.0 - 2.0 * u)));
    float t = 255.0 * x;
    return t * (1.0 - s * vec3(u_factor_r, u_factor_g, u_factor_b));
}

// The recoloured pixel, in levels 0..255 (integers stored as floats), for a pixel `rgb`
// given in levels (R, G, B order) and its hair alpha. Twin: recolor._recolor_rows.
vec3 recolor(vec3 rgb, float alpha) {
    float w = alpha * u_strength;
    float m = floor((77.0 * rgb.r + 150.0 * rgb.g + 29.0 * rgb.b + 128.0) / 256.0);
    vec3 target = target_rgb(m);
    return floor(clamp(rgb + (target - rgb) * w + 0.5, 0.0, 255.0));
}
