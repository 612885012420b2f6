#version 410 core
// Shows a scan-out picture exactly: `frame` holds the guest's stored pixel words unfiltered (one
// 16- or 32-bit unsigned integer per texel, row 0 the top of the picture), and this pass turns
// each into 8-bit red, green and blue the way the CPU reference (src/frame.rs) does. The
// viewport is the picture's size, so each fragment is one pixel.
uniform usampler2D frame;
// 0: X1R5G5B5, 1: R5G6B5, 2: X8R8G8B8 (PixelFormat::code).
uniform int format;
in vec2 uv;
out vec4 colour;

// A 5- or 6-bit component widened to 8 bits by repeating its top bits below it.
uint widen5(uint v) { return (v << 3u) | (v >> 2u); }
uint widen6(uint v) { return (v << 2u) | (v >> 4u); }

void main() {
    ivec2 size = textureSize(frame, 0);
    ivec2 texel = ivec2(int(gl_FragCoord.x), size.y - 1 - int(gl_FragCoord.y));
    uint v = texelFetch(frame, texel, 0).r;
    uvec3 rgb;
    if (format == 0) {
        rgb = uvec3(widen5((v >> 10u) & 31u), widen5((v >> 5u) & 31u), widen5(v & 31u));
    } else if (format == 1) {
        rgb = uvec3(widen5((v >> 11u) & 31u), widen6((v >> 5u) & 63u), widen5(v & 31u));
    } else {
        rgb = uvec3((v >> 16u) & 255u, (v >> 8u) & 255u, v & 255u);
    }
    colour = vec4(vec3(rgb) / 255.0, 1.0);
}
