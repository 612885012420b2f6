//! A libretro frontend in miniature: loads a core, answers its environment calls the way
//! RetroArch does, backs its OpenGL request with a headless context, feeds it scripted input and
//! records what it presents.
//!
//! libretro callbacks carry no user pointer, so the frontend's state lives in a thread-local;
//! one core runs per thread at a time.

use crate::egl::{self, Headless};
use crate::script::Script;
use rust_libretro_sys as sys;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_uint, c_void};
use std::path::{Path, PathBuf};

/// What the runner was asked to do.
pub struct Settings {
    pub core: PathBuf,
    pub system_dir: Option<PathBuf>,
    pub save_dir: Option<PathBuf>,
    pub content: Option<PathBuf>,
    pub frames: u64,
    /// Core option values that replace the defaults.
    pub options: BTreeMap<String, String>,
    /// How many ports have a controller plugged in (the rest get "no device").
    pub ports: usize,
    pub input: Script,
    /// Option changes made while running: (frame, key, value).
    pub option_changes: Vec<(u64, String, String)>,
    /// Frames before which the GL context is lost and recreated, as on a fullscreen toggle.
    pub context_resets: Vec<u64>,
    /// Act as a frontend from before core options and bitmask input: the core must fall back
    /// to plain variables, `SET_MESSAGE` and one query per button.
    pub old_frontend: bool,
    /// Save a state to this file after this many frames.
    pub save_state_at: Option<(u64, PathBuf)>,
    /// Load this state before the first frame.
    pub load_state: Option<PathBuf>,
    /// The CRCs cover the frames from this one on.
    pub crc_from: u64,
}

/// What a run produced.
pub struct Outcome {
    /// Frames the CRCs cover.
    pub frames: u64,
    pub video_crc32: u32,
    pub audio_crc32: u32,
    /// The last presented frame: width, height, RGBA8 rows top first.
    pub last_frame: Option<(usize, usize, Vec<u8>)>,
    /// CRC-32 of a save state taken after the last frame (None when the core has none).
    pub state_crc32: Option<u32>,
}

/// One declared core option.
struct CoreOption {
    key: String,
    default: String,
    values: Vec<String>,
}

#[derive(Default)]
struct State {
    system_dir: Option<CString>,
    save_dir: Option<CString>,
    options: Vec<CoreOption>,
    overrides: BTreeMap<String, String>,
    options_updated: bool,
    old_frontend: bool,
    /// Strings handed to the core by GET_VARIABLE, kept alive for it.
    answers: Vec<CString>,
    hw: Option<sys::retro_hw_render_callback>,
    headless: Option<Headless>,
    geometry: (usize, usize),
    controller_types: Vec<Vec<c_uint>>,
    input: Script,
    frame: u64,
    video: crc32fast::Hasher,
    audio: crc32fast::Hasher,
    presented: u64,
    last_frame: Option<(usize, usize, Vec<u8>)>,
    rumble: BTreeMap<(c_uint, u32), u16>,
    error: Option<String>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|state| f(&mut state.borrow_mut()))
}

/// The core's entry points.
struct Core {
    // Declared before `_library` so it is dropped first; the pointers borrow from it.
    api: Api,
    _library: libloading::Library,
}

struct Api {
    api_version: unsafe extern "C" fn() -> c_uint,
    set_environment: unsafe extern "C" fn(sys::retro_environment_t),
    set_video_refresh: unsafe extern "C" fn(sys::retro_video_refresh_t),
    set_audio_sample: unsafe extern "C" fn(sys::retro_audio_sample_t),
    set_audio_sample_batch: unsafe extern "C" fn(sys::retro_audio_sample_batch_t),
    set_input_poll: unsafe extern "C" fn(sys::retro_input_poll_t),
    set_input_state: unsafe extern "C" fn(sys::retro_input_state_t),
    init: unsafe extern "C" fn(),
    deinit: unsafe extern "C" fn(),
    get_system_info: unsafe extern "C" fn(*mut sys::retro_system_info),
    get_system_av_info: unsafe extern "C" fn(*mut sys::retro_system_av_info),
    set_controller_port_device: unsafe extern "C" fn(c_uint, c_uint),
    run: unsafe extern "C" fn(),
    load_game: unsafe extern "C" fn(*const sys::retro_game_info) -> bool,
    unload_game: unsafe extern "C" fn(),
    serialize_size: unsafe extern "C" fn() -> usize,
    serialize: unsafe extern "C" fn(*mut c_void, usize) -> bool,
    unserialize: unsafe extern "C" fn(*const c_void, usize) -> bool,
}

impl Core {
    fn load(path: &Path) -> Result<Core, String> {
        let fail = |e: libloading::Error| format!("cannot load core {}: {e}", path.display());
        // SAFETY: loading a libretro core runs its initialisers; that is what we are here for.
        let library = unsafe { libloading::Library::new(path) }.map_err(fail)?;
        macro_rules! symbol {
            ($name:literal) => {
                // SAFETY: the libretro API fixes each symbol's signature.
                *unsafe { library.get(concat!($name, "\0").as_bytes()) }.map_err(fail)?
            };
        }
        let api = Api {
            api_version: symbol!("retro_api_version"),
            set_environment: symbol!("retro_set_environment"),
            set_video_refresh: symbol!("retro_set_video_refresh"),
            set_audio_sample: symbol!("retro_set_audio_sample"),
            set_audio_sample_batch: symbol!("retro_set_audio_sample_batch"),
            set_input_poll: symbol!("retro_set_input_poll"),
            set_input_state: symbol!("retro_set_input_state"),
            init: symbol!("retro_init"),
            deinit: symbol!("retro_deinit"),
            get_system_info: symbol!("retro_get_system_info"),
            get_system_av_info: symbol!("retro_get_system_av_info"),
            set_controller_port_device: symbol!("retro_set_controller_port_device"),
            run: symbol!("retro_run"),
            load_game: symbol!("retro_load_game"),
            unload_game: symbol!("retro_unload_game"),
            serialize_size: symbol!("retro_serialize_size"),
            serialize: symbol!("retro_serialize"),
            unserialize: symbol!("retro_unserialize"),
        };
        Ok(Core {
            api,
            _library: library,
        })
    }
}

fn c_path(path: &Option<PathBuf>) -> Result<Option<CString>, String> {
    path.as_ref()
        .map(|p| {
            CString::new(p.as_os_str().as_encoded_bytes())
                .map_err(|_| format!("bad path {}", p.display()))
        })
        .transpose()
}

/// Plays the core for `settings.frames` frames.
pub fn run(settings: Settings) -> Result<Outcome, String> {
    let core = Core::load(&settings.core)?;
    let api = &core.api;
    with(|s| -> Result<(), String> {
        *s = State::default();
        s.system_dir = c_path(&settings.system_dir)?;
        s.save_dir = c_path(&settings.save_dir)?;
        s.overrides = settings.options.clone();
        s.old_frontend = settings.old_frontend;
        s.input = settings.input.clone();
        Ok(())
    })?;
    // SAFETY: calling the core's entry points in the order the libretro API prescribes, with
    // callbacks that match their declared signatures.
    let state_crc32 = unsafe {
        let version = (api.api_version)();
        if version != sys::RETRO_API_VERSION {
            return Err(format!(
                "the core speaks libretro API {version}, not {}",
                sys::RETRO_API_VERSION
            ));
        }
        (api.set_environment)(Some(environment));
        (api.set_video_refresh)(Some(video_refresh));
        (api.set_audio_sample)(Some(audio_sample));
        (api.set_audio_sample_batch)(Some(audio_sample_batch));
        (api.set_input_poll)(Some(input_poll));
        (api.set_input_state)(Some(input_state));
        (api.init)();
        let mut info: sys::retro_system_info = std::mem::zeroed();
        (api.get_system_info)(&mut info);
        eprintln!(
            "core: {} {}",
            text(info.library_name),
            text(info.library_version)
        );

        let content = c_path(&settings.content)?;
        let game = content.as_ref().map(|path| sys::retro_game_info {
            path: path.as_ptr(),
            data: std::ptr::null(),
            size: 0,
            meta: std::ptr::null(),
        });
        let loaded = (api.load_game)(game.as_ref().map_or(std::ptr::null(), |g| g as *const _));
        if !loaded {
            (api.deinit)();
            return Err("the core refused to start (retro_load_game returned false)".into());
        }
        let mut av: sys::retro_system_av_info = std::mem::zeroed();
        (api.get_system_av_info)(&mut av);
        let geometry = &av.geometry;
        with(|s| s.geometry = (geometry.base_width as usize, geometry.base_height as usize));
        let hw = with(|s| s.hw).ok_or("the core did not ask for hardware rendering")?;
        let new_context = || -> Result<(), String> {
            let headless = Headless::new(
                (hw.version_major, hw.version_minor),
                geometry.max_width as usize,
                geometry.max_height as usize,
            )?;
            with(|s| s.headless = Some(headless));
            if let Some(reset) = hw.context_reset {
                reset();
            }
            Ok(())
        };
        new_context()?;
        let types = with(|s| s.controller_types.clone());
        for (port, kinds) in types.iter().enumerate() {
            let device = match kinds.first() {
                Some(&first) if port < settings.ports => first,
                _ => sys::RETRO_DEVICE_NONE,
            };
            (api.set_controller_port_device)(port as c_uint, device);
        }
        let mut state_size = (api.serialize_size)();
        if let Some(path) = &settings.load_state {
            let data =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if !(api.unserialize)(data.as_ptr().cast(), data.len()) {
                return Err(format!("the core refused the state {}", path.display()));
            }
        }
        for frame in 0..settings.frames {
            if frame == settings.crc_from {
                with(|s| {
                    s.video = crc32fast::Hasher::new();
                    s.audio = crc32fast::Hasher::new();
                });
            }
            if settings.context_resets.contains(&frame) {
                if let Some(destroy) = hw.context_destroy {
                    destroy();
                }
                with(|s| s.headless = None);
                new_context()?;
            }
            with(|s| {
                s.frame = frame;
                for (_, key, value) in settings.option_changes.iter().filter(|c| c.0 == frame) {
                    s.overrides.insert(key.clone(), value.clone());
                    s.options_updated = true;
                }
            });
            (api.run)();
            if let Some(error) = with(|s| s.error.take()) {
                return Err(format!("frame {frame}: {error}"));
            }
            // A changed option may rebuild the console, and a new configuration has a state
            // size of its own; otherwise the size must never change.
            if settings.option_changes.iter().any(|c| c.0 == frame) {
                state_size = (api.serialize_size)();
            }
            if let Some((_, path)) = settings.save_state_at.as_ref().filter(|s| s.0 == frame + 1) {
                let state = save_state(api, state_size)?;
                std::fs::write(path, state)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
        }
        let state_crc32 = if state_size == 0 {
            None
        } else {
            Some(crc32fast::hash(&save_state(api, state_size)?))
        };
        if let Some(destroy) = hw.context_destroy {
            destroy();
        }
        (api.unload_game)();
        (api.deinit)();
        state_crc32
    };
    Ok(with(|s| {
        s.headless = None;
        Outcome {
            frames: settings.frames.saturating_sub(settings.crc_from),
            video_crc32: s.video.clone().finalize(),
            audio_crc32: s.audio.clone().finalize(),
            last_frame: s.last_frame.take(),
            state_crc32,
        }
    }))
}

/// Takes a save state, checking that its size is the one announced at the start (run-ahead
/// and netplay rely on it never changing).
unsafe fn save_state(api: &Api, size: usize) -> Result<Vec<u8>, String> {
    // SAFETY: the core's entry points, with a buffer of the size it asked for.
    unsafe {
        let now = (api.serialize_size)();
        if now != size {
            return Err(format!("the state size changed from {size} to {now} bytes"));
        }
        let mut state = vec![0u8; size];
        if !(api.serialize)(state.as_mut_ptr().cast(), size) {
            return Err("the core could not save a state".into());
        }
        Ok(state)
    }
}

/// A C string from the core, for printing.
unsafe fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: the caller passes a NUL-terminated string from the core.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

unsafe extern "C" fn environment(cmd: c_uint, data: *mut c_void) -> bool {
    // SAFETY: `data` points to what the libretro header documents for `cmd`.
    unsafe {
        match cmd {
            sys::RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY
            | sys::RETRO_ENVIRONMENT_GET_SAVE_DIRECTORY => {
                let dir = with(|s| {
                    let dir = if cmd == sys::RETRO_ENVIRONMENT_GET_SYSTEM_DIRECTORY {
                        &s.system_dir
                    } else {
                        &s.save_dir
                    };
                    dir.as_ref().map_or(std::ptr::null(), |d| d.as_ptr())
                });
                *data.cast::<*const c_char>() = dir;
                true
            }
            sys::RETRO_ENVIRONMENT_SET_SUPPORT_NO_GAME
            | sys::RETRO_ENVIRONMENT_SET_INPUT_DESCRIPTORS => true,
            sys::RETRO_ENVIRONMENT_GET_INPUT_BITMASKS
            | sys::RETRO_ENVIRONMENT_GET_MESSAGE_INTERFACE_VERSION
            | sys::RETRO_ENVIRONMENT_GET_CORE_OPTIONS_VERSION
                if with(|s| s.old_frontend) =>
            {
                false
            }
            sys::RETRO_ENVIRONMENT_GET_INPUT_BITMASKS => true,
            sys::RETRO_ENVIRONMENT_SET_PIXEL_FORMAT => {
                *data.cast::<c_uint>()
                    == sys::retro_pixel_format::RETRO_PIXEL_FORMAT_XRGB8888 as c_uint
            }
            sys::RETRO_ENVIRONMENT_GET_PREFERRED_HW_RENDER => {
                *data.cast::<c_uint>() =
                    sys::retro_hw_context_type::RETRO_HW_CONTEXT_OPENGL_CORE as c_uint;
                true
            }
            sys::RETRO_ENVIRONMENT_SET_HW_RENDER => {
                let callback = &mut *data.cast::<sys::retro_hw_render_callback>();
                if callback.context_type != sys::retro_hw_context_type::RETRO_HW_CONTEXT_OPENGL_CORE
                {
                    return false;
                }
                callback.get_current_framebuffer = Some(current_framebuffer);
                callback.get_proc_address = Some(proc_address);
                with(|s| s.hw = Some(*callback));
                true
            }
            sys::RETRO_ENVIRONMENT_SET_GEOMETRY => {
                let geometry = &*data.cast::<sys::retro_game_geometry>();
                with(|s| {
                    s.geometry = (geometry.base_width as usize, geometry.base_height as usize)
                });
                true
            }
            sys::RETRO_ENVIRONMENT_GET_MESSAGE_INTERFACE_VERSION => {
                *data.cast::<c_uint>() = 1;
                true
            }
            sys::RETRO_ENVIRONMENT_SET_MESSAGE => {
                eprintln!(
                    "[message] {}",
                    text((*data.cast::<sys::retro_message>()).msg)
                );
                true
            }
            sys::RETRO_ENVIRONMENT_SET_MESSAGE_EXT => {
                eprintln!(
                    "[message] {}",
                    text((*data.cast::<sys::retro_message_ext>()).msg)
                );
                true
            }
            sys::RETRO_ENVIRONMENT_GET_CORE_OPTIONS_VERSION => {
                *data.cast::<c_uint>() = 2;
                true
            }
            sys::RETRO_ENVIRONMENT_SET_CORE_OPTIONS_V2 => {
                let options = &*data.cast::<sys::retro_core_options_v2>();
                declare_options(options.definitions);
                true
            }
            sys::RETRO_ENVIRONMENT_GET_VARIABLE => {
                get_variable(&mut *data.cast::<sys::retro_variable>())
            }
            sys::RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE => {
                *data.cast::<bool>() = with(|s| std::mem::take(&mut s.options_updated));
                true
            }
            sys::RETRO_ENVIRONMENT_SET_VARIABLES => {
                declare_variables(data.cast::<sys::retro_variable>());
                true
            }
            sys::RETRO_ENVIRONMENT_SET_CONTROLLER_INFO => {
                let mut info = data.cast::<sys::retro_controller_info>();
                let mut ports = Vec::new();
                while !(*info).types.is_null() {
                    let types =
                        std::slice::from_raw_parts((*info).types, (*info).num_types as usize);
                    ports.push(types.iter().map(|t| t.id).collect());
                    info = info.add(1);
                }
                with(|s| s.controller_types = ports);
                true
            }
            sys::RETRO_ENVIRONMENT_GET_RUMBLE_INTERFACE => {
                (*data.cast::<sys::retro_rumble_interface>()).set_rumble_state =
                    Some(set_rumble_state);
                true
            }
            _ => false,
        }
    }
}

/// Records the core's v2 option definitions (a list ending in a null key).
unsafe fn declare_options(mut definition: *const sys::retro_core_option_v2_definition) {
    let mut options = Vec::new();
    // SAFETY: the core passes a list terminated by a definition with a null key.
    unsafe {
        while !(*definition).key.is_null() {
            let d = &*definition;
            let values = d
                .values
                .iter()
                .take_while(|v| !v.value.is_null())
                .map(|v| text(v.value))
                .collect();
            options.push(CoreOption {
                key: text(d.key),
                default: text(d.default_value),
                values,
            });
            definition = definition.add(1);
        }
    }
    with(|s| s.options = options);
}

/// Records variables declared the oldest way: "Description; default|other|...".
unsafe fn declare_variables(mut variable: *const sys::retro_variable) {
    let mut options = Vec::new();
    // SAFETY: the core passes a list terminated by a variable with a null key.
    unsafe {
        while !(*variable).key.is_null() {
            let spec = text((*variable).value);
            let values: Vec<String> = spec
                .split_once("; ")
                .map(|(_, values)| values.split('|').map(String::from).collect())
                .unwrap_or_default();
            options.push(CoreOption {
                key: text((*variable).key),
                default: values.first().cloned().unwrap_or_default(),
                values,
            });
            variable = variable.add(1);
        }
    }
    with(|s| s.options = options);
}

fn get_variable(variable: &mut sys::retro_variable) -> bool {
    // SAFETY: the core passes a NUL-terminated key.
    let key = unsafe { text(variable.key) };
    with(|s| {
        let Some(option) = s.options.iter().find(|o| o.key == key) else {
            return false;
        };
        let value = match s.overrides.get(&key) {
            Some(wanted) if option.values.contains(wanted) => wanted.clone(),
            Some(wanted) => {
                s.error = Some(format!(
                    "option {key} has no value {wanted:?}; it offers {:?}",
                    option.values
                ));
                option.default.clone()
            }
            None => option.default.clone(),
        };
        let answer = CString::new(value).unwrap_or_default();
        variable.value = answer.as_ptr();
        s.answers.push(answer);
        true
    })
}

unsafe extern "C" fn current_framebuffer() -> usize {
    with(|s| {
        s.headless
            .as_ref()
            .map_or(0, |h| h.framebuffer_id() as usize)
    })
}

unsafe extern "C" fn proc_address(name: *const c_char) -> sys::retro_proc_address_t {
    // SAFETY: the core passes a NUL-terminated function name.
    let name = unsafe { CStr::from_ptr(name) }.to_str().ok()?;
    // SAFETY: both are argument-less C-ABI function pointer types; the caller casts the
    // result to the real signature, as with any GL loader.
    egl::proc_address(name)
        .map(|f| unsafe { std::mem::transmute::<extern "system" fn(), unsafe extern "C" fn()>(f) })
}

unsafe extern "C" fn video_refresh(
    data: *const c_void,
    width: c_uint,
    height: c_uint,
    _pitch: usize,
) {
    if data.is_null() {
        return; // a repeated frame
    }
    with(|s| {
        if data != sys::RETRO_HW_FRAME_BUFFER_VALID.cast_const() {
            s.error =
                Some("the core sent a software frame; only hardware frames are expected".into());
            return;
        }
        let Some(headless) = &s.headless else { return };
        let (width, height) = (width as usize, height as usize);
        let pixels = headless.read_pixels(width, height);
        s.video.update(&pixels);
        s.presented += 1;
        s.last_frame = Some((
            width.min(headless.width),
            height.min(headless.height),
            pixels,
        ));
    });
}

unsafe extern "C" fn audio_sample(left: i16, right: i16) {
    with(|s| {
        s.audio.update(&left.to_le_bytes());
        s.audio.update(&right.to_le_bytes());
    });
}

unsafe extern "C" fn audio_sample_batch(data: *const i16, frames: usize) -> usize {
    if data.is_null() {
        return 0;
    }
    // SAFETY: the core passes `frames` stereo frames of i16.
    let samples = unsafe { std::slice::from_raw_parts(data, frames * 2) };
    with(|s| {
        for sample in samples {
            s.audio.update(&sample.to_le_bytes());
        }
    });
    frames
}

unsafe extern "C" fn input_poll() {}

unsafe extern "C" fn input_state(port: c_uint, device: c_uint, index: c_uint, id: c_uint) -> i16 {
    with(|s| s.input.state(s.frame, port as usize, device, index, id))
}

unsafe extern "C" fn set_rumble_state(
    port: c_uint,
    effect: sys::retro_rumble_effect,
    strength: u16,
) -> bool {
    with(|s| {
        let motor = effect as u32;
        if s.rumble.insert((port, motor), strength).unwrap_or(0) != strength {
            let name = if motor == 0 { "strong" } else { "weak" };
            eprintln!(
                "[rumble] frame {} port {port} {name} {strength:#06x}",
                s.frame
            );
        }
    });
    true
}
