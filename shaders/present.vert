#version 410 core
// Covers the viewport with one triangle made from the vertex index, so no vertex buffer is
// needed. Texture row 0 is the top of the frame, and the viewport's top is clip-space +1.
out vec2 uv;

void main() {
    vec2 clip = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);
    uv = vec2(clip.x + 1.0, 1.0 - clip.y) * 0.5;
    gl_Position = vec4(clip, 0.0, 1.0);
}
