//! The libretro boundary: every `retro_*` export, adapting the frontend to the [`Machine`].
//!
//! Each export runs inside [`guard`], so a panic is logged and turned into a harmless return
//! value instead of unwinding into the frontend.

mod env;
mod input;
mod options;
mod video;

use crate::machine::{Config, Machine, timing};
use crate::screen::status;
use env::Level;
use parking_lot::Mutex;
use rust_libretro_sys as sys;
use std::ffi::{c_uint, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The largest picture the console can scan out (1080i), which the frontend sizes its
/// framebuffer for.
const MAX_WIDTH: c_uint = 1920;
const MAX_HEIGHT: c_uint = 1080;

/// Everything alive between `retro_load_game` and `retro_unload_game`.
struct Core {
    machine: Machine,
    controllers: input::Controllers,
    options: options::Options,
    /// The picture size last announced to the frontend.
    geometry: (usize, usize),
    /// Reused between save states (they are the size of guest RAM).
    state_buffer: Vec<u8>,
}

static CORE: Mutex<Option<Core>> = Mutex::new(None);

/// Runs an entry point's body, turning a panic into a logged error and `fallback`.
fn guard<R>(entry: &str, fallback: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        env::log(Level::Error, &format!("internal error in {entry}: {why}"));
        fallback
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_api_version() -> c_uint {
    sys::RETRO_API_VERSION
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_set_environment(callback: sys::retro_environment_t) {
    guard("retro_set_environment", (), || {
        env::update(|c| c.environment = callback);
        let mut log = sys::retro_log_callback { log: None };
        // SAFETY: GET_LOG_INTERFACE fills in a retro_log_callback.
        if unsafe { env::call(sys::RETRO_ENVIRONMENT_GET_LOG_INTERFACE, &mut log) } {
            env::update(|c| c.log = log.log);
        }
        let message_version =
            env::get::<c_uint>(sys::RETRO_ENVIRONMENT_GET_MESSAGE_INTERFACE_VERSION).unwrap_or(0);
        env::update(|c| c.message_version = message_version);
        env::set_flag(sys::RETRO_ENVIRONMENT_SET_SUPPORT_NO_GAME, true);
        options::declare(env::directory(sys::RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY).as_deref());
        input::declare_controllers();
    });
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_set_video_refresh(callback: sys::retro_video_refresh_t) {
    env::update(|c| c.video = callback);
}

/// Oxbox sends audio in batches only.
#[unsafe(no_mangle)]
pub extern "C" fn retro_set_audio_sample(_callback: sys::retro_audio_sample_t) {}

#[unsafe(no_mangle)]
pub extern "C" fn retro_set_audio_sample_batch(callback: sys::retro_audio_sample_batch_t) {
    env::update(|c| c.audio_batch = callback);
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_set_input_poll(callback: sys::retro_input_poll_t) {
    env::update(|c| c.input_poll = callback);
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_set_input_state(callback: sys::retro_input_state_t) {
    env::update(|c| c.input_state = callback);
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_init() {
    guard("retro_init", (), || {
        env::log(
            Level::Info,
            &format!("{} {} initialised", crate::NAME, crate::VERSION),
        );
    });
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_deinit() {
    guard("retro_deinit", (), || *CORE.lock() = None);
}

/// # Safety
/// `info` must point to a writable `retro_system_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn retro_get_system_info(info: *mut sys::retro_system_info) {
    guard("retro_get_system_info", (), || {
        // SAFETY: the frontend passes a valid struct to fill in; our strings are static.
        if let Some(info) = unsafe { info.as_mut() } {
            info.library_name = c"Oxbox".as_ptr();
            info.library_version = concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast();
            // No content format loads yet: the core boots without a game only.
            info.valid_extensions = c"".as_ptr();
            info.need_fullpath = true;
            info.block_extract = false;
        }
    });
}

/// # Safety
/// `info` must point to a writable `retro_system_av_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn retro_get_system_av_info(info: *mut sys::retro_system_av_info) {
    guard("retro_get_system_av_info", (), || {
        let (width, height) = CORE
            .lock()
            .as_ref()
            .map_or((status::WIDTH, status::HEIGHT), |core| core.geometry);
        // SAFETY: the frontend passes a valid struct to fill in.
        if let Some(info) = unsafe { info.as_mut() } {
            info.geometry = geometry(width, height);
            info.timing = sys::retro_system_timing {
                fps: timing::field_rate(),
                sample_rate: timing::SAMPLE_RATE as f64,
            };
        }
    });
}

fn geometry(width: usize, height: usize) -> sys::retro_game_geometry {
    sys::retro_game_geometry {
        base_width: width as c_uint,
        base_height: height as c_uint,
        max_width: MAX_WIDTH,
        max_height: MAX_HEIGHT,
        // The HD modes (720p, 1080i) are 16:9; the SD ones fill a 4:3 television (a game's
        // anamorphic widescreen is the frontend's aspect setting to choose).
        aspect_ratio: if width >= 1280 { 16.0 / 9.0 } else { 4.0 / 3.0 },
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_set_controller_port_device(port: c_uint, device: c_uint) {
    guard("retro_set_controller_port_device", (), || {
        input::set_device(port as usize, device)
    });
}

/// Restart: a power cycle of the console.
#[unsafe(no_mangle)]
pub extern "C" fn retro_reset() {
    guard("retro_reset", (), || {
        if let Some(core) = CORE.lock().as_mut() {
            core.machine = Machine::new(core.machine.config().clone());
        }
    });
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_run() {
    guard("retro_run", (), || {
        let mut core = CORE.lock();
        let Some(core) = core.as_mut() else { return };
        if options::changed() {
            let options = options::read();
            if options != core.options {
                core.options = options;
                let config = config(&core.options);
                core.machine = Machine::new(config);
                report_firmware(&core.machine);
            }
        }
        for notice in core.machine.take_notices() {
            env::show_message(Level::Warn, &notice, 8_000);
        }
        for line in core.machine.take_guest_log() {
            env::log(Level::Info, &format!("guest: {line}"));
        }
        let pads = core.controllers.poll();
        let out = core.machine.run_frame(&pads);
        let video = out.video;
        let size = (video.width(), video.height());
        if size != core.geometry {
            core.geometry = size;
            let mut geometry = geometry(size.0, size.1);
            // SAFETY: SET_GEOMETRY takes a retro_game_geometry.
            unsafe { env::call(sys::RETRO_ENVIRONMENT_SET_GEOMETRY, &mut geometry) };
        }
        let callbacks = env::callbacks();
        if let Some(refresh) = callbacks.video {
            let data = if video::present_pixels(video) {
                sys::RETRO_HW_FRAME_BUFFER_VALID
            } else {
                std::ptr::null() // no usable context: ask the frontend to repeat its last frame
            };
            // SAFETY: the frontend's video callback; HW_FRAME_BUFFER_VALID or NULL need no pixels.
            unsafe { refresh(data, size.0 as c_uint, size.1 as c_uint, 0) };
        }
        if let Some(batch) = callbacks.audio_batch {
            let mut samples = out.audio;
            while !samples.is_empty() {
                // SAFETY: the pointer and length describe our live slice of stereo frames.
                let taken = unsafe { batch(samples.as_ptr(), samples.len() / 2) };
                if taken == 0 {
                    break;
                }
                samples = &samples[(2 * taken).min(samples.len())..];
            }
        }
        let rumble = out.rumble;
        core.controllers.rumble(&rumble);
    });
}

fn config(options: &options::Options) -> Config {
    Config {
        system_dir: env::directory(sys::RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY),
        save_dir: env::directory(sys::RETRO_ENVIRONMENT_GET_SAVE_DIRECTORY),
        flash_file: options.flash_file.clone(),
        builtin_rom: options.builtin_rom,
        ram_mib: options.ram_mib,
        encoder: options.encoder,
        av_pack: options.av_pack,
        short_animation: options.short_animation,
        eeprom: options.eeprom,
        ..Config::default()
    }
}

/// Tells the user about every firmware file that is missing or wrong.
fn report_firmware(machine: &Machine) {
    let fw = machine.firmware();
    let errors = [fw.mcpx.as_ref().err(), fw.flash.as_ref().err()];
    for error in errors.into_iter().flatten() {
        env::show_message(Level::Warn, &error.to_string(), 8_000);
    }
    for warning in fw.warnings() {
        env::show_message(Level::Warn, &warning, 8_000);
    }
    if let Ok(rom) = &fw.mcpx {
        env::log(
            Level::Info,
            &format!("MCPX boot ROM: {}", rom.path.display()),
        );
    }
    if let Ok(flash) = &fw.flash {
        env::log(
            Level::Info,
            &format!("flash BIOS: {}", flash.path.display()),
        );
    }
}

/// The state size is fixed for a configuration (what run-ahead and netplay need).
#[unsafe(no_mangle)]
pub extern "C" fn retro_serialize_size() -> usize {
    guard("retro_serialize_size", 0, || {
        CORE.lock()
            .as_mut()
            .map_or(0, |core| core.machine.state_size())
    })
}

/// # Safety
/// `data` must point to `size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn retro_serialize(data: *mut c_void, size: usize) -> bool {
    guard("retro_serialize", false, || {
        let mut core = CORE.lock();
        let Some(core) = core.as_mut() else {
            return false;
        };
        if data.is_null() || size < core.machine.state_size() {
            return false;
        }
        core.machine.save_state(&mut core.state_buffer);
        // SAFETY: the frontend gives a writable buffer of `size` bytes; we checked it holds
        // the state.
        let out = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), size) };
        out[..core.state_buffer.len()].copy_from_slice(&core.state_buffer);
        true
    })
}

/// # Safety
/// `data` must point to `size` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn retro_unserialize(data: *const c_void, size: usize) -> bool {
    guard("retro_unserialize", false, || {
        let mut core = CORE.lock();
        let Some(core) = core.as_mut() else {
            return false;
        };
        if data.is_null() {
            return false;
        }
        // SAFETY: the frontend gives a readable buffer of `size` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size) };
        match core.machine.load_state(bytes) {
            Ok(()) => true,
            Err(why) => {
                env::show_message(Level::Error, &format!("Cannot load: {why}"), 5_000);
                false
            }
        }
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_cheat_reset() {}

#[unsafe(no_mangle)]
pub extern "C" fn retro_cheat_set(_index: c_uint, _enabled: bool, _code: *const std::ffi::c_char) {}

/// # Safety
/// `game` is null (no content) or points to a valid `retro_game_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn retro_load_game(game: *const sys::retro_game_info) -> bool {
    guard("retro_load_game", false, || {
        if !game.is_null() {
            env::show_message(
                Level::Error,
                "Oxbox cannot load games yet; start the core without content",
                10_000,
            );
            return false;
        }
        let mut format = sys::retro_pixel_format::RETRO_PIXEL_FORMAT_XRGB8888;
        // SAFETY: SET_PIXEL_FORMAT takes a retro_pixel_format.
        unsafe { env::call(sys::RETRO_ENVIRONMENT_SET_PIXEL_FORMAT, &mut format) };
        if let Err(why) = video::request_context() {
            env::show_message(Level::Error, &why, 10_000);
            return false;
        }
        input::declare_descriptors();
        let options = options::read();
        let machine = Machine::new(config(&options));
        env::log(Level::Info, "no content: showing the status screen");
        report_firmware(&machine);
        *CORE.lock() = Some(Core {
            machine,
            controllers: input::Controllers::new(),
            options,
            geometry: (status::WIDTH, status::HEIGHT),
            state_buffer: Vec::new(),
        });
        true
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_load_game_special(
    _game_type: c_uint,
    _info: *const sys::retro_game_info,
    _num_info: usize,
) -> bool {
    false
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_unload_game() {
    guard("retro_unload_game", (), || *CORE.lock() = None);
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_get_region() -> c_uint {
    sys::RETRO_REGION_NTSC
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_get_memory_data(_id: c_uint) -> *mut c_void {
    std::ptr::null_mut()
}

#[unsafe(no_mangle)]
pub extern "C" fn retro_get_memory_size(_id: c_uint) -> usize {
    0
}
