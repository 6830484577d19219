#version 330 core
// Hair recolouring of one pixel: a function library, linked into the same program as
// composite.frag (which has main() and declares recolor()).
//
// CPU twin: colorme_live.core.recolor, kernels _value_table + _recolor_rows (Numba).
// Formula (all in float32; levels are 0..255 as in the CPU kernel):
//
//     m   = max(R, G, B)                               the pixel's value as a level 0..255
//     x   = v_t + (m / 255 - v_h) * c                  hair texture around the target value
//     v'  = x                               if SOFT_LOW <= x <= SOFT_HIGH
//           SOFT_HIGH + span * tanh((x - SOFT_HIGH) / span)   if x > SOFT_HIGH (span = 1 - SOFT_HIGH)
//           SOFT_LOW * exp((x - SOFT_LOW) / SOFT_LOW)         if x < SOFT_LOW
//     t_n = (255 * v') * k_n                           k_n = 1 - s_t * f_n (hsv_to_rgb closed form)
//     w   = alpha * strength
//     out = floor(clamp(in + (t_n - in) * w + 0.5, 0, 255))   per channel n
//
// The CPU evaluates 255 * v' once per level into a table; here it is evaluated per pixel
// with the same operations. Every constant comes in as a uniform set from the Python
// constants (colorme_live.core.recolor, Look), so the two cannot drift apart.

uniform float u_value;        // v_t: the target colour's HSV value, 0..1
uniform float u_hair_value;   // v_h: mean HSV value of the hair, 0..1
uniform float u_contrast;     // c, 0.5..2
uniform vec3 u_k_rgb;         // k_n = 1 - s_t * f_n for R, G, B
uniform float u_strength;     // intensity / 100, 0..1
uniform float u_soft_low;     // recolor.SOFT_LOW
uniform float u_soft_high;    // recolor.SOFT_HIGH
uniform float u_soft_span;    // 1 - SOFT_HIGH, rounded to float32 once, as on the CPU

// 255 * v' for a level m (0..255). Twin: recolor._value_table.
float target_level(float m) {
    float x = u_value + (m / 255.0 - u_hair_value) * u_contrast;
    if (x > u_soft_high) {
        x = u_soft_high + u_soft_span * tanh((x - u_soft_high) / u_soft_span);
    } else if (x < u_soft_low) {
        x = u_soft_low * exp((x - u_soft_low) / u_soft_low);
    }
    return 255.0 * x;
}

// The recoloured pixel, in levels 0..255 (integers stored as floats), for a pixel `rgb`
// given in levels (R, G, B order) and its hair alpha. Twin: recolor._recolor_rows.
vec3 recolor(vec3 rgb, float alpha) {
    float w = alpha * u_strength;
    vec3 target = target_level(max(rgb.r, max(rgb.g, rgb.b))) * u_k_rgb;
    return floor(clamp(rgb + (target - rgb) * w + 0.5, 0.0, 255.0));
}
