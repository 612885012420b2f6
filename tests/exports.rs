//! The core's entry points called as a careless or hostile frontend might: out of order, with
//! null pointers, without the callbacks a frontend should give. Nothing may crash, and a start
//! without an OpenGL context must fail cleanly.

use rust_libretro_sys as sys;
use std::ffi::{c_uint, c_void};
use std::path::Path;

#[test]
fn entry_points_survive_a_careless_frontend() {
    let runner = Path::new(env!("CARGO_BIN_EXE_oxbox"));
    let path = runner.with_file_name("deps").join("liboxbox.so");
    // SAFETY: loading our own core; each symbol is declared with its libretro signature.
    unsafe {
        let core = libloading::Library::new(&path).expect("the core loads");
        let version: libloading::Symbol<unsafe extern "C" fn() -> c_uint> =
            core.get(b"retro_api_version").unwrap();
        assert_eq!(version(), sys::RETRO_API_VERSION);
        let void = |name: &[u8]| *core.get::<unsafe extern "C" fn()>(name).unwrap();
        let info: libloading::Symbol<unsafe extern "C" fn(*mut sys::retro_system_info)> =
            core.get(b"retro_get_system_info").unwrap();
        let av: libloading::Symbol<unsafe extern "C" fn(*mut sys::retro_system_av_info)> =
            core.get(b"retro_get_system_av_info").unwrap();
        let port: libloading::Symbol<unsafe extern "C" fn(c_uint, c_uint)> =
            core.get(b"retro_set_controller_port_device").unwrap();
        let load: libloading::Symbol<unsafe extern "C" fn(*const sys::retro_game_info) -> bool> =
            core.get(b"retro_load_game").unwrap();
        let serialize: libloading::Symbol<unsafe extern "C" fn(*mut c_void, usize) -> bool> =
            core.get(b"retro_serialize").unwrap();
        let size: libloading::Symbol<unsafe extern "C" fn() -> usize> =
            core.get(b"retro_serialize_size").unwrap();

        // Before anything else, and with null pointers.
        void(b"retro_run")();
        void(b"retro_reset")();
        info(std::ptr::null_mut());
        av(std::ptr::null_mut());
        port(99, 5);
        assert_eq!(size(), 0);
        assert!(!serialize(std::ptr::null_mut(), 0));
        void(b"retro_init")();

        let mut system: sys::retro_system_info = std::mem::zeroed();
        info(&mut system);
        assert!(!system.library_name.is_null());

        // No environment callback: the core cannot get an OpenGL context and says no.
        assert!(!load(std::ptr::null()));
        void(b"retro_run")();
        void(b"retro_unload_game")();
        void(b"retro_deinit")();
        void(b"retro_deinit")();
    }
}
