//! A headless OpenGL context: EGL on Mesa's surfaceless platform (no window system and no GPU
//! needed), or a driver's default display where that platform is missing (NVIDIA's EGL picks
//! its GPU device there), with a framebuffer object standing in for a window.

use glow::HasContext;
use khronos_egl as egl;
use std::sync::OnceLock;

/// `EGL_PLATFORM_SURFACELESS_MESA` from `EGL_MESA_platform_surfaceless`.
const PLATFORM_SURFACELESS_MESA: egl::Enum = 0x31DD;

type Egl = egl::DynamicInstance<egl::EGL1_5>;

/// libEGL, loaded once per process.
fn instance() -> Result<&'static Egl, String> {
    static EGL: OnceLock<Result<Egl, String>> = OnceLock::new();
    EGL.get_or_init(|| {
        // SAFETY: loads the system's libEGL.so.1 and resolves the EGL 1.5 entry points.
        unsafe { Egl::load_required() }.map_err(|e| {
            format!("cannot load libEGL.so.1 ({e}); install Mesa's libegl1 and libegl-mesa0")
        })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The address of GL or EGL function `name`, for the core's `get_proc_address`.
pub fn proc_address(name: &str) -> Option<extern "system" fn()> {
    instance().ok()?.get_proc_address(name)
}

/// An initialised display: the surfaceless platform, else the default display.
fn open_display(egl: &Egl) -> Result<egl::Display, egl::Error> {
    // SAFETY: the surfaceless platform takes the default display and no attributes.
    let surfaceless = unsafe {
        egl.get_platform_display(
            PLATFORM_SURFACELESS_MESA,
            egl::DEFAULT_DISPLAY,
            &[egl::ATTRIB_NONE],
        )
    };
    if let Ok(display) = surfaceless
        && egl.initialize(display).is_ok()
    {
        return Ok(display);
    }
    // SAFETY: EGL_DEFAULT_DISPLAY is always a valid argument.
    let display = unsafe { egl.get_display(egl::DEFAULT_DISPLAY) }.ok_or(egl::Error::BadDisplay)?;
    egl.initialize(display)?;
    Ok(display)
}

/// A current desktop-GL context with an RGBA8 framebuffer object of a fixed size.
pub struct Headless {
    pub gl: glow::Context,
    pub framebuffer: glow::Framebuffer,
    pub width: usize,
    pub height: usize,
    renderbuffer: glow::Renderbuffer,
    display: egl::Display,
    context: egl::Context,
}

impl Headless {
    /// Makes a core-profile context of at least `version` current on this thread, with a
    /// `width` x `height` framebuffer object.
    pub fn new(version: (u32, u32), width: usize, height: usize) -> Result<Headless, String> {
        let egl = instance()?;
        let fail = |what: &str, e: egl::Error| format!("EGL: {what} failed: {e}");
        let display = open_display(egl).map_err(|e| fail("opening a display", e))?;
        egl.bind_api(egl::OPENGL_API)
            .map_err(|e| fail("choosing desktop OpenGL", e))?;
        // Surfaceless configs only offer pbuffers; without PBUFFER_BIT nothing matches.
        let attributes = [
            egl::SURFACE_TYPE,
            egl::PBUFFER_BIT,
            egl::RENDERABLE_TYPE,
            egl::OPENGL_BIT,
            egl::RED_SIZE,
            8,
            egl::GREEN_SIZE,
            8,
            egl::BLUE_SIZE,
            8,
            egl::ALPHA_SIZE,
            8,
            egl::NONE,
        ];
        let config = egl
            .choose_first_config(display, &attributes)
            .map_err(|e| fail("choosing a config", e))?
            .ok_or("EGL: no RGBA8 desktop-GL config on the surfaceless platform")?;
        let context_attributes = [
            egl::CONTEXT_MAJOR_VERSION,
            version.0 as egl::Int,
            egl::CONTEXT_MINOR_VERSION,
            version.1 as egl::Int,
            egl::CONTEXT_OPENGL_PROFILE_MASK,
            egl::CONTEXT_OPENGL_CORE_PROFILE_BIT,
            egl::NONE,
        ];
        let context = egl
            .create_context(display, config, None, &context_attributes)
            .map_err(|e| {
                fail(
                    &format!(
                        "creating an OpenGL {}.{} core context",
                        version.0, version.1
                    ),
                    e,
                )
            })?;
        egl.make_current(display, None, None, Some(context))
            .map_err(|e| fail("making the context current", e))?;
        // SAFETY: the context is current; the loader returns its entry points.
        let gl = unsafe {
            glow::Context::from_loader_function(|name| {
                egl.get_proc_address(name)
                    .map_or(std::ptr::null(), |f| f as *const std::ffi::c_void)
            })
        };
        // SAFETY: plain object creation on the current context.
        let (framebuffer, renderbuffer) = unsafe {
            let renderbuffer = gl.create_renderbuffer()?;
            gl.bind_renderbuffer(glow::RENDERBUFFER, Some(renderbuffer));
            gl.renderbuffer_storage(glow::RENDERBUFFER, glow::RGBA8, width as i32, height as i32);
            let framebuffer = gl.create_framebuffer()?;
            gl.bind_framebuffer(glow::FRAMEBUFFER, Some(framebuffer));
            gl.framebuffer_renderbuffer(
                glow::FRAMEBUFFER,
                glow::COLOR_ATTACHMENT0,
                glow::RENDERBUFFER,
                Some(renderbuffer),
            );
            let status = gl.check_framebuffer_status(glow::FRAMEBUFFER);
            gl.clear_color(0.0, 0.0, 0.0, 1.0);
            gl.clear(glow::COLOR_BUFFER_BIT);
            gl.bind_framebuffer(glow::FRAMEBUFFER, None);
            if status != glow::FRAMEBUFFER_COMPLETE {
                return Err(format!(
                    "the {width}x{height} framebuffer is incomplete ({status:#x})"
                ));
            }
            (framebuffer, renderbuffer)
        };
        Ok(Headless {
            gl,
            framebuffer,
            width,
            height,
            renderbuffer,
            display,
            context,
        })
    }

    /// The framebuffer's name, as libretro's `get_current_framebuffer` reports it.
    pub fn framebuffer_id(&self) -> u32 {
        self.framebuffer.0.get()
    }

    /// The bottom-left `width` x `height` pixels as RGBA8, rows top first.
    pub fn read_pixels(&self, width: usize, height: usize) -> Vec<u8> {
        let (width, height) = (width.min(self.width), height.min(self.height));
        let mut pixels = vec![0u8; width * height * 4];
        // SAFETY: reads exactly width * height RGBA8 pixels into a buffer of that size.
        unsafe {
            self.gl
                .bind_framebuffer(glow::READ_FRAMEBUFFER, Some(self.framebuffer));
            self.gl.pixel_store_i32(glow::PACK_ALIGNMENT, 1);
            self.gl.read_pixels(
                0,
                0,
                width as i32,
                height as i32,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                glow::PixelPackData::Slice(Some(&mut pixels)),
            );
            self.gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        }
        // GL rows run bottom-up; pictures are stored top-down.
        let row = width * 4;
        pixels.chunks_exact(row).rev().flatten().copied().collect()
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        // SAFETY: our own objects on our own, still current, context.
        unsafe {
            self.gl.delete_framebuffer(self.framebuffer);
            self.gl.delete_renderbuffer(self.renderbuffer);
        }
        if let Ok(egl) = instance() {
            let _ = egl.make_current(self.display, None, None, None);
            let _ = egl.destroy_context(self.display, self.context);
        }
    }
}
