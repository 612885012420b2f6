//! Drawing through OpenGL 4.1 core with glow. Nothing here knows about libretro: the core and
//! the tests hand in a `glow::Context` and a framebuffer to draw into.

mod present;

pub use present::Presenter;

use glow::HasContext;

/// The OpenGL version Oxbox is written against: the floor and the ceiling.
pub const GL_VERSION: (u32, u32) = (4, 1);

/// Checks that `gl` is a desktop OpenGL context of at least [`GL_VERSION`], and says what it is.
pub fn check_context(gl: &glow::Context) -> Result<String, String> {
    let version = gl.version();
    // SAFETY: glGetString with a valid enum only reads driver-owned strings.
    let (renderer, text) = unsafe {
        (
            gl.get_parameter_string(glow::RENDERER),
            gl.get_parameter_string(glow::VERSION),
        )
    };
    let description = format!("OpenGL {text} on {renderer}");
    if version.is_embedded || (version.major, version.minor) < GL_VERSION {
        return Err(format!(
            "{description}: Oxbox needs desktop OpenGL {}.{} core or newer",
            GL_VERSION.0, GL_VERSION.1
        ));
    }
    Ok(description)
}
