//! Puts a finished [`Frame`] on screen: uploads it to a texture and draws it over the target
//! framebuffer's viewport with `shaders/present.*`.

use crate::frame::Frame;
use glow::HasContext;

const VERTEX_SHADER: &str = include_str!("../../shaders/present.vert");
const FRAGMENT_SHADER: &str = include_str!("../../shaders/present.frag");

/// The GL objects of the presentation pass. Created and dropped on the GL thread only.
pub struct Presenter {
    program: glow::Program,
    vertex_array: glow::VertexArray,
    texture: glow::Texture,
    texture_size: (usize, usize),
}

impl Presenter {
    pub fn new(gl: &glow::Context) -> Result<Presenter, String> {
        // SAFETY: plain object creation on the current context; every name made here is either
        // owned by the returned Presenter or deleted on the error path.
        unsafe {
            let program = link_program(gl)?;
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
                vertex_array,
                texture,
                texture_size: (0, 0),
            })
        }
    }

    /// Draws `frame` into `target` (None: the default framebuffer) at the frame's own size, from
    /// the bottom-left corner, and leaves the GL bindings it touched unbound.
    pub fn draw(&mut self, gl: &glow::Context, target: Option<glow::Framebuffer>, frame: &Frame) {
        let (width, height) = (frame.width as i32, frame.height as i32);
        let pixels: &[u8] = bytemuck::cast_slice(&frame.pixels);
        // SAFETY: the upload reads exactly width * height * 4 bytes, which `pixels` holds (a
        // Frame's pixel vector is width * height u32s); the objects bound are our own.
        unsafe {
            gl.bind_texture(glow::TEXTURE_2D, Some(self.texture));
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 4);
            gl.pixel_store_i32(glow::UNPACK_ROW_LENGTH, 0);
            let source = glow::PixelUnpackData::Slice(Some(pixels));
            if self.texture_size == (frame.width, frame.height) {
                gl.tex_sub_image_2d(
                    glow::TEXTURE_2D,
                    0,
                    0,
                    0,
                    width,
                    height,
                    glow::BGRA,
                    glow::UNSIGNED_INT_8_8_8_8_REV,
                    source,
                );
            } else {
                gl.tex_image_2d(
                    glow::TEXTURE_2D,
                    0,
                    glow::RGBA8 as i32,
                    width,
                    height,
                    0,
                    glow::BGRA,
                    glow::UNSIGNED_INT_8_8_8_8_REV,
                    source,
                );
                self.texture_size = (frame.width, frame.height);
            }
            gl.bind_framebuffer(glow::FRAMEBUFFER, target);
            gl.viewport(0, 0, width, height);
            gl.disable(glow::SCISSOR_TEST);
            gl.disable(glow::BLEND);
            gl.disable(glow::DEPTH_TEST);
            gl.use_program(Some(self.program));
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
