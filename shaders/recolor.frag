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
//     hl  = smoothstep of clamp(e / highlight_log, 0, 1)      how much of a highlight
//     sh  = smoothstep of clamp(-e / highlight_log, 0, 1)     how much of a shadow
//     s'  = min(saturation * (1 - desaturate * hl + shadow_saturate * sh), 1)
//     h'  = hue + hue_shift * hl + hue_shift_shadow * sh      warm highlights turn golden
//     t_n = (255 * x) * (1 - s' * f_n(h')),  f_n(h) = clamp(min(k, 4 - k), 0, 1),
//           k = mod(n + 6 h, 6), n = 5, 3, 1 for R, G, B       hsv_to_rgb closed form
//     w   = alpha * strength
//     out = floor(clamp(in + (t_n - in) * w + 0.5, 0, 255))   per channel n
//
// The CPU evaluates t_n once per level into a table; here it is evaluated per pixel with the
// same operations. Every number comes in as a uniform u_<name>, set by a loop over
// colorme_live.core.recolor.recolor_params / PARAM_NAMES (a test holds the two lists equal).
// Each is an array with one entry per look: entry k is person k's look (their own hair
// brightness; pipeline.Prepared.people), entry 0 the only one with one person.

const int MAX_LOOKS = 8;  // keep in step with colorme_live.core.settings.MAX_PEOPLE

uniform float u_centre[MAX_LOOKS];          // where the hair's mean lands, 0..1
uniform float u_log_hair[MAX_LOOKS];        // ln(hair level)
uniform float u_gain_high[MAX_LOOKS];       // gain on highlights (gamma * gloss)
uniform float u_gain_low[MAX_LOOKS];        // gain on shadows (gamma_low * SHADOW_DEEPEN)
uniform float u_knee[MAX_LOOKS];            // start of the shoulder towards 1
uniform float u_highlight_log[MAX_LOOKS];   // log ratio of a full highlight
uniform float u_hue[MAX_LOOKS];             // h_t, turns (0..1)
uniform float u_hue_shift[MAX_LOOKS];       // turn of a full highlight (towards gold), turns
uniform float u_hue_shift_shadow[MAX_LOOKS];  // turn of a full shadow, turns
uniform float u_saturation[MAX_LOOKS];      // s_t
uniform float u_desaturate[MAX_LOOKS];      // share of the saturation a full highlight loses
uniform float u_shadow_saturate[MAX_LOOKS];  // share of the saturation a full shadow gains
uniform float u_strength[MAX_LOOKS];        // intensity / 100, 0..1

// 255 * rgb for a shading level m (0..255), R, G, B, in look `look` (an index into the
// u_ arrays). Twin: recolor._target_table.
vec3 target_rgb(float m, int look) {
    float d = log(max(m, 0.5) / 255.0) - u_log_hair[look];
    float e = d * (d > 0.0 ? u_gain_high[look] : u_gain_low[look]);
    float x = u_centre[look] * exp(e);
    if (x > u_knee[look]) {
        float span = 1.0 - u_knee[look];
        x = 1.0 - span * exp(-(x - u_knee[look]) / span);
    }
    float u = min(max(e / u_highlight_log[look], 0.0), 1.0);
    float q = min(max(-e / u_highlight_log[look], 0.0), 1.0);
    float hl = u * u * (3.0 - 2.0 * u);
    float sh = q * q * (3.0 - 2.0 * q);
    float s = u_saturation[look] * (1.0 - u_desaturate[look] * hl + u_shadow_saturate[look] * sh);
    s = min(s, 1.0);
    float h = u_hue[look] + u_hue_shift[look] * hl + u_hue_shift_shadow[look] * sh;
    vec3 k = mod(vec3(5.0, 3.0, 1.0) + 6.0 * h, 6.0);
    vec3 f = clamp(min(k, 4.0 - k), 0.0, 1.0);
    float t = 255.0 * x;
    return t * (1.0 - s * f);
}

// The recoloured pixel, in levels 0..255 (integers stored as floats), for a pixel `rgb`
// given in levels (R, G, B order) and its hair alpha, in look `look`.
// Twin: recolor._recolor_rows.
vec3 recolor(vec3 rgb, float alpha, int look) {
    float w = alpha * u_strength[look];
    float m = floor((77.0 * rgb.r + 150.0 * rgb.g + 29.0 * rgb.b + 128.0) / 256.0);
    vec3 target = target_rgb(m, look);
    return floor(clamp(rgb + (target - rgb) * w + 0.5, 0.0, 255.0));
}
