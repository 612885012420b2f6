#version 410 core
// Shows the frame texture as it is; the frame's X byte is padding, so alpha is forced opaque.
uniform sampler2D frame;
in vec2 uv;
out vec4 colour;

void main() {
    colour = vec4(texture(frame, uv).rgb, 1.0);
}
