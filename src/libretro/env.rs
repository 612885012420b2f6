//! The frontend's callbacks, and typed wrappers for the environment calls the core makes:
//! logging, on-screen messages, directories, flags.
//!
//! Callbacks are copied out of their lock before being called, so a frontend that calls back
//! into the core from inside a callback cannot deadlock it.

use parking_lot::Mutex;
use rust_libretro_sys as sys;
use std::ffi::{CStr, CString, c_uint, c_void};
use std::path::PathBuf;

/// Everything the frontend handed us, plus what we learnt about it.
#[derive(Clone, Copy, Default)]
pub struct Callbacks {
    pub environment: sys::retro_environment_t,
    pub video: sys::retro_video_refresh_t,
    pub audio_batch: sys::retro_audio_sample_batch_t,
    pub input_poll: sys::retro_input_poll_t,
    pub input_state: sys::retro_input_state_t,
    pub log: sys::retro_log_printf_t,
    /// The frontend's message interface version (0: only `SET_MESSAGE`).
    pub message_version: c_uint,
}

static CALLBACKS: Mutex<Callbacks> = Mutex::new(Callbacks {
    environment: None,
    video: None,
    audio_batch: None,
    input_poll: None,
    input_state: None,
    log: None,
    message_version: 0,
});

pub fn callbacks() -> Callbacks {
    *CALLBACKS.lock()
}

pub fn update(change: impl FnOnce(&mut Callbacks)) {
    change(&mut CALLBACKS.lock());
}

/// Makes environment call `cmd` with `data`. False when the frontend does not know the call.
///
/// # Safety
/// `data` must point to what the libretro header documents for `cmd`, valid for the call.
pub unsafe fn call<T>(cmd: u32, data: *mut T) -> bool {
    match callbacks().environment {
        // SAFETY: forwarded from the caller's contract.
        Some(environment) => unsafe { environment(cmd, data.cast::<c_void>()) },
        None => false,
    }
}

/// Sets a boolean flag such as `SET_SUPPORT_NO_GAME`.
pub fn set_flag(cmd: u32, value: bool) -> bool {
    let mut value = value;
    // SAFETY: boolean environment calls take a pointer to a bool.
    unsafe { call(cmd, &mut value) }
}

/// Reads a value the frontend writes into a plain scalar (bool, unsigned, enum as unsigned).
pub fn get<T: Copy + Default>(cmd: u32) -> Option<T> {
    let mut value = T::default();
    // SAFETY: only used with calls whose argument is a pointer to a scalar of type T.
    unsafe { call(cmd, &mut value) }.then_some(value)
}

/// Reads a directory the frontend reports (system, save); None when it has none.
pub fn directory(cmd: u32) -> Option<PathBuf> {
    let mut dir: *const std::ffi::c_char = std::ptr::null();
    // SAFETY: directory calls write a pointer to a NUL-terminated string owned by the frontend.
    if !unsafe { call(cmd, &mut dir) } || dir.is_null() {
        return None;
    }
    // SAFETY: non-null, NUL-terminated, valid at least until the next environment call.
    let text = unsafe { CStr::from_ptr(dir) }
        .to_string_lossy()
        .into_owned();
    (!text.is_empty()).then(|| PathBuf::from(text))
}

/// A C string from Rust text; interior NULs (never produced by our own text) become spaces.
pub fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn libretro(self) -> sys::retro_log_level {
        match self {
            Level::Info => sys::retro_log_level::RETRO_LOG_INFO,
            Level::Warn => sys::retro_log_level::RETRO_LOG_WARN,
            Level::Error => sys::retro_log_level::RETRO_LOG_ERROR,
        }
    }
}

/// Logs through the frontend's log interface, or to stderr when it offers none.
pub fn log(level: Level, message: &str) {
    match callbacks().log {
        Some(printf) => {
            let text = c_string(&format!("[Oxbox] {message}"));
            // SAFETY: a printf-style call whose format consumes exactly one C string.
            unsafe { printf(level.libretro(), c"%s\n".as_ptr(), text.as_ptr()) };
        }
        None => eprintln!("[Oxbox] {level:?}: {message}"),
    }
}

/// Shows `message` on screen for about `millis` milliseconds (and logs it).
pub fn show_message(level: Level, message: &str, millis: u32) {
    log(level, message);
    let text = c_string(&format!("Oxbox: {message}"));
    if callbacks().message_version >= 1 {
        let mut ext = sys::retro_message_ext {
            msg: text.as_ptr(),
            duration: millis,
            priority: if level == Level::Error { 3 } else { 1 },
            level: level.libretro(),
            target: sys::retro_message_target::RETRO_MESSAGE_TARGET_OSD,
            type_: sys::retro_message_type::RETRO_MESSAGE_TYPE_NOTIFICATION,
            progress: -1,
        };
        // SAFETY: SET_MESSAGE_EXT takes a retro_message_ext; the frontend copies the text.
        unsafe { call(sys::RETRO_ENVIRONMENT_SET_MESSAGE_EXT, &mut ext) };
    } else {
        let mut plain = sys::retro_message {
            msg: text.as_ptr(),
            frames: millis * 60 / 1000,
        };
        // SAFETY: SET_MESSAGE takes a retro_message; the frontend copies the text.
        unsafe { call(sys::RETRO_ENVIRONMENT_SET_MESSAGE, &mut plain) };
    }
}
