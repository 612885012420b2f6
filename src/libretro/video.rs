//! The frontend's OpenGL context: asking for it, (re)building our GL objects when it is created,
//! dropping them when it goes, and presenting each frame into the frontend's framebuffer.

use super::env::{self, Level};
use crate::frame::{Frame, Pixels};
use crate::render::{self, GL_VERSION, Presenter};
use parking_lot::Mutex;
use rust_libretro_sys as sys;
use std::ffi::{c_uint, c_void};
use std::num::NonZeroU32;

/// Our GL objects with the context they belong to.
struct Gl {
    gl: glow::Context,
    presenter: Presenter,
}

// SAFETY: libretro calls context_reset, context_destroy and retro_run on the frontend's one
// video thread; the GL objects are only ever touched from those calls.
unsafe impl Send for Gl {}

struct Hw {
    get_framebuffer: sys::retro_hw_get_current_framebuffer_t,
    get_proc_address: sys::retro_hw_get_proc_address_t,
    gl: Option<Gl>,
}

static HW: Mutex<Hw> = Mutex::new(Hw {
    get_framebuffer: None,
    get_proc_address: None,
    gl: None,
});

/// Asks the frontend for an OpenGL 4.1 core context.
pub fn request_context() -> Result<(), String> {
    let preferred = env::get::<c_uint>(sys::RETRO_ENVIRONMENT_GET_PREFERRED_HW_RENDER);
    let gl_types = [
        sys::retro_hw_context_type::RETRO_HW_CONTEXT_OPENGL as c_uint,
        sys::retro_hw_context_type::RETRO_HW_CONTEXT_OPENGL_CORE as c_uint,
    ];
    if let Some(preferred) = preferred.filter(|p| !gl_types.contains(p)) {
        env::log(
            Level::Warn,
            &format!(
                "the frontend prefers video context type {preferred}; Oxbox renders with OpenGL \
                 only (in RetroArch, choose the \"gl\" video driver)"
            ),
        );
    }
    let mut callback = sys::retro_hw_render_callback {
        context_type: sys::retro_hw_context_type::RETRO_HW_CONTEXT_OPENGL_CORE,
        context_reset: Some(context_reset),
        get_current_framebuffer: None,
        get_proc_address: None,
        depth: false,
        stencil: false,
        bottom_left_origin: true,
        version_major: GL_VERSION.0,
        version_minor: GL_VERSION.1,
        cache_context: true,
        context_destroy: Some(context_destroy),
        debug_context: false,
    };
    // SAFETY: SET_HW_RENDER takes a retro_hw_render_callback and fills in the frontend's
    // functions before returning.
    if !unsafe { env::call(sys::RETRO_ENVIRONMENT_SET_HW_RENDER, &mut callback) } {
        return Err(format!(
            "the frontend cannot give Oxbox an OpenGL {}.{} core context; in RetroArch, set the \
             video driver to \"gl\"",
            GL_VERSION.0, GL_VERSION.1
        ));
    }
    let mut hw = HW.lock();
    hw.get_framebuffer = callback.get_current_framebuffer;
    hw.get_proc_address = callback.get_proc_address;
    Ok(())
}

/// The frontend made a new context: every GL object of ours is gone; build them again.
unsafe extern "C" fn context_reset() {
    super::guard("context_reset", (), || {
        let mut hw = HW.lock();
        // The old objects died with the old context: forget them without GL calls.
        hw.gl = None;
        let Some(get_proc_address) = hw.get_proc_address else {
            env::log(Level::Error, "context_reset without get_proc_address");
            return;
        };
        // SAFETY: the frontend's loader returns GL entry points for its current context.
        let gl = unsafe {
            glow::Context::from_loader_function_cstr(|name| {
                get_proc_address(name.as_ptr()).map_or(std::ptr::null(), |f| f as *const c_void)
            })
        };
        match render::check_context(&gl).and_then(|what| Presenter::new(&gl).map(|p| (what, p))) {
            Ok((what, presenter)) => {
                env::log(Level::Info, &format!("rendering with {what}"));
                hw.gl = Some(Gl { gl, presenter });
            }
            Err(why) => env::show_message(Level::Error, &why, 10_000),
        }
    });
}

/// The frontend is about to destroy the context: delete our objects while it is current.
unsafe extern "C" fn context_destroy() {
    super::guard("context_destroy", (), || {
        if let Some(Gl { gl, presenter }) = HW.lock().gl.take() {
            presenter.destroy(&gl);
        }
    });
}

/// Draws `frame` into the frontend's framebuffer. False when there is no usable context.
pub fn present(frame: &Frame) -> bool {
    with_presenter(|gl, presenter, target| presenter.draw(gl, target, frame))
}

/// Draws a scan-out picture (the guest's pixels in their own format) into the frontend's
/// framebuffer. False when there is no usable context.
#[allow(
    dead_code,
    reason = "for the machine's scan-out, which mod.rs does not show yet"
)]
pub fn present_pixels(pixels: Pixels) -> bool {
    with_presenter(|gl, presenter, target| presenter.draw_pixels(gl, target, pixels))
}

/// Runs `draw` with our GL objects and the frontend's current framebuffer.
fn with_presenter(
    draw: impl FnOnce(&glow::Context, &mut Presenter, Option<glow::Framebuffer>),
) -> bool {
    let mut hw = HW.lock();
    let get_framebuffer = hw.get_framebuffer;
    let Some(Gl { gl, presenter }) = hw.gl.as_mut() else {
        return false;
    };
    // SAFETY: the frontend's callback for its current framebuffer object.
    let fbo = get_framebuffer.map_or(0, |get| unsafe { get() });
    let target = NonZeroU32::new(fbo as u32).map(glow::NativeFramebuffer);
    draw(gl, presenter, target);
    true
}
