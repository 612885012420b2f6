//! Puts a finished picture on screen: uploads its stored pixel words unconverted to an integer
//! texture and draws it over the target framebuffer's viewport with `shaders/present.*`, whose
//! fragment shader turns each word into RGB exactly as [`Pixels::to_frame`] does on the CPU.

use crate::frame::{Frame, PixelFormat, Pixels};
use glow::HasContext;

const VERTEX_SHADER: &str = include_str!("../../shaders/present.vert");
const FRAGMENT_SHADER: &str = include_str!("../../shaders/present.frag");

/// The GL objects of the presentation pass. Created and dropped on the GL thread only.
pub struct Presenter {
    program: glow::Program,
    format_uniform: Option<glow::UniformLocation>,
    vertex_array: glow::VertexArray,
    texture: glow::Texture,
    /// The texture's width, height and bytes per texel; (0, 0, 0) before the first upload.
    texture_shape: (usize, usize, usize),
}

impl Presenter {
    pub fn new(gl: &glow::Context) -> Result<Presenter, String> {
        // SAFETY: plain object creation on the current context; every name made here is either
        // owned by the returned Presenter or deleted on the error path.
        unsafe {
            let program = link_program(gl)?;
            let format_uniform = gl.get_uniform_location(program, "format");
            let vertex_array = gl
                .create_vertex_array()
                .inspect_err(|_| gl.delete_program(program))?;
            let texture = gl.create_texture()?;
            gl.bind_texture(glow::TEXTURE_2D, Some(texture));
            for (param, value) in [
                (glow::TEXTURE_MIN_FILTER, glow::NEAREST),
                (glow::TEXTURE_MAG_FILTER, glow::NEAREST),
                (glow::TEXTURE_WRAP_S, glow::CLAMP_TO_EDGE),
                (glow::TEXTURE_WRAP_T, glow::CLAMP_TO_EDGE),
            ] {
                gl.tex_parameter_i32(glow::TEXTURE_2D, param, value as i32);
            }
            gl.bind_texture(glow::TEXTURE_2D, None);
            Ok(Presenter {
                program,
                format_uniform,
                vertex_array,
                texture,
                texture_shape: (0, 0, 0),
            })
        }
    }

    /// Draws `frame` into `target` (None: the default framebuffer) at the frame's own size, from
    /// the bottom-left corner, and leaves the GL bindings it touched unbound. A frame whose pixel
    /// vector does not match its size draws nothing.
    pub fn draw(&mut self, gl: &glow::Context, target: Option<glow::Framebuffer>, frame: &Frame) {
        if cfg!(target_endian = "little") {
            if let Some(pixels) = frame.as_pixels() {
                self.draw_pixels(gl, target, pixels);
            }
        } else if let Some(pixels) = frame.to_raw().view() {
            self.draw_pixels(gl, target, pixels);
        }
    }

    /// Draws a scan-out picture into `target` at its own size, from the bottom-left corner, and
    /// leaves the GL bindings it touched unbound.
    pub fn draw_pixels(
        &mut self,
        gl: &glow::Context,
        target: Option<glow::Framebuffer>,
        pixels: Pixels,
    ) {
        let (width, height) = (pixels.width(), pixels.height());
        let bpp = pixels.format().bytes_per_pixel();
        // GL walks rows a whole number of texels apart; any other pitch is packed here first.
        let packed;
        let (bytes, row_length) = if pixels.pitch().is_multiple_of(bpp) {
            (pixels.bytes(), pixels.pitch() / bpp)
        } else {
            packed = (0..height)
                .flat_map(|y| pixels.row(y))
                .copied()
                .collect::<Vec<u8>>();
            (&packed[..], width)
        };
        let (internal, kind) = match pixels.format() {
            PixelFormat::X8R8G8B8 => (glow::R32UI, glow::UNSIGNED_INT),
            PixelFormat::X1R5G5B5 | PixelFormat::R5G6B5 => (glow::R16UI, glow::UNSIGNED_SHORT),
        };
        // Exactly the bytes of the picture's rows: GL reads (height - 1) * row_length + width
        // texels of bpp bytes from the start, which Pixels::new checked `bytes` holds.
        let used = &bytes[..((height - 1) * row_length + width) * bpp];
        let (w, h) = (width as i32, height as i32);
        // SAFETY: with alignment 1 and the row length in texels, the upload reads exactly the
        // `used` slice; the objects bound are our own.
        unsafe {
            gl.bind_texture(glow::TEXTURE_2D, Some(self.texture));
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 1);
            gl.pixel_store_i32(glow::UNPACK_ROW_LENGTH, row_length as i32);
            // Guest words are little-endian; GL reads them in the host's order.
            gl.pixel_store_bool(glow::UNPACK_SWAP_BYTES, cfg!(target_endian = "big"));
            let source = glow::PixelUnpackData::Slice(Some(used));
            if self.texture_shape == (width, height, bpp) {
                gl.tex_sub_image_2d(
                    glow::TEXTURE_2D,
                    0,
                    0,
                    0,
                    w,
                    h,
                    glow::RED_INTEGER,
                    kind,
                    source,
                );
            } else {
                gl.tex_image_2d(
                    glow::TEXTURE_2D,
                    0,
                    internal as i32,
                    w,
                    h,
                    0,
                    glow::RED_INTEGER,
                    kind,
                    source,
                );
                self.texture_shape = (width, height, bpp);
            }
            gl.pixel_store_i32(glow::UNPACK_ROW_LENGTH, 0);
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 4);
            gl.pixel_store_bool(glow::UNPACK_SWAP_BYTES, false);
            gl.bind_framebuffer(glow::FRAMEBUFFER, target);
            gl.viewport(0, 0, w, h);
            gl.disable(glow::SCISSOR_TEST);
            gl.disable(glow::BLEND);
            gl.disable(glow::DEPTH_TEST);
            gl.use_program(Some(self.program));
            gl.uniform_1_i32(self.format_uniform.as_ref(), pixels.format().code() as i32);
            gl.active_texture(glow::TEXTURE0);
            gl.bind_texture(glow::TEXTURE_2D, Some(self.texture));
            gl.bind_vertex_array(Some(self.vertex_array));
            gl.draw_arrays(glow::TRIANGLES, 0, 3);
            gl.bind_vertex_array(None);
            gl.bind_texture(glow::TEXTURE_2D, None);
            gl.use_program(None);
            gl.bind_framebuffer(glow::FRAMEBUFFER, None);
        }
    }

    /// Deletes the GL objects; call with the context they were made on still current.
    pub fn destroy(self, gl: &glow::Context) {
        // SAFETY: these names were created on this context and are not used after this.
        unsafe {
            gl.delete_texture(self.texture);
            gl.delete_vertex_array(self.vertex_array);
            gl.delete_program(self.program);
        }
    }
}

/// Compiles and links the presentation program; the sampler uses texture unit 0.
unsafe fn link_program(gl: &glow::Context) -> Result<glow::Program, String> {
    // SAFETY: the caller guarantees a current context; shaders are deleted once linked.
    unsafe {
        let program = gl.create_program()?;
        let mut shaders = Vec::new();
        for (kind, source, name) in [
            (glow::VERTEX_SHADER, VERTEX_SHADER, "present.vert"),
            (glow::FRAGMENT_SHADER, FRAGMENT_SHADER, "present.frag"),
        ] {
            let shader = gl.create_shader(kind)?;
            gl.shader_source(shader, source);
            gl.compile_shader(shader);
            if !gl.get_shader_compile_status(shader) {
                let log = gl.get_shader_info_log(shader);
                gl.delete_shader(shader);
                shaders.into_iter().for_each(|s| gl.delete_shader(s));
                gl.delete_program(program);
                return Err(format!("shaders/{name} does not compile: {log}"));
            }
            gl.attach_shader(program, shader);
            shaders.push(shader);
        }
        gl.link_program(program);
        for shader in shaders {
            gl.detach_shader(program, shader);
            gl.delete_shader(shader);
        }
        if !gl.get_program_link_status(program) {
            let log = gl.get_program_info_log(program);
            gl.delete_program(program);
            return Err(format!("the presentation program does not link: {log}"));
        }
        gl.use_program(Some(program));
        if let Some(location) = gl.get_uniform_location(program, "frame") {
            gl.uniform_1_i32(Some(&location), 0);
        }
        gl.use_program(None);
        Ok(program)
    }
}
