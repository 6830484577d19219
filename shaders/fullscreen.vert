#version 330 core
// Full-screen triangle for the compositing pass (no vertex buffer: positions come from
// gl_VertexID; draw 3 vertices with an empty vertex array object bound).
//
// It only covers the viewport: the fragment shaders work out where they are in the frame
// from gl_FragCoord (see composite.frag), which is exact at pixel centres, unlike an
// interpolated texture coordinate. No CPU twin: it computes nothing.

void main() {
    // (-1, -1), (3, -1), (-1, 3): one triangle that contains the whole [-1, 1]^2 square.
    vec2 corner = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
