//! Core options: declared as v2 (with categories) where the frontend supports it, else as v1,
//! else as plain variables; and read back into a machine configuration.

use super::env;
use crate::firmware;
use rust_libretro_sys as sys;
use std::ffi::{CStr, CString, c_char, c_uint};
use std::path::Path;
use std::ptr;

pub const FLASH_BIOS: &CStr = c"oxbox_flash_bios";
const CATEGORY: &CStr = c"system_files";

const FLASH_DESC: &CStr = c"Flash BIOS file";
const FLASH_INFO: &CStr = c"The flash BIOS image to boot, from the system folder or its xbox/ \
    subfolder. Files of a flash image's size (256 KiB to 1 MiB) found there are listed. \
    Takes effect at once.";

/// At most this many values per option (the libretro header's limit, less the terminator).
const MAX_VALUES: usize = 127;

/// The option values chosen in the frontend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub flash_file: String,
}

/// Declares the options. The flash BIOS choices are the default name plus the flash-sized files
/// in the system folders; frontends copy everything during the call.
pub fn declare(system_dir: Option<&Path>) {
    let mut names = vec![firmware::DEFAULT_FLASH_FILE.to_string()];
    for name in firmware::flash_candidates(system_dir) {
        if !names.contains(&name) && names.len() < MAX_VALUES {
            names.push(name);
        }
    }
    let names: Vec<CString> = names.iter().map(|n| env::c_string(n)).collect();
    let mut values = [sys::retro_core_option_value {
        value: ptr::null(),
        label: ptr::null(),
    }; 128];
    for (slot, name) in values.iter_mut().zip(&names) {
        slot.value = name.as_ptr();
    }
    let default = names[0].as_ptr();

    let version = env::get::<c_uint>(sys::RETRO_ENVIRONMENT_GET_CORE_OPTIONS_VERSION).unwrap_or(0);
    let declared = if version >= 2 {
        declare_v2(values, default)
    } else if version == 1 {
        declare_v1(values, default)
    } else {
        false
    };
    if !declared {
        declare_variables(&names);
    }
}

fn declare_v2(values: [sys::retro_core_option_value; 128], default: *const c_char) -> bool {
    let mut categories = [
        sys::retro_core_option_v2_category {
            key: CATEGORY.as_ptr(),
            desc: c"System files".as_ptr(),
            info: c"Which of your own firmware files to boot.".as_ptr(),
        },
        sys::retro_core_option_v2_category {
            key: ptr::null(),
            desc: ptr::null(),
            info: ptr::null(),
        },
    ];
    let mut definitions = [
        sys::retro_core_option_v2_definition {
            key: FLASH_BIOS.as_ptr(),
            desc: FLASH_DESC.as_ptr(),
            desc_categorized: c"Flash BIOS".as_ptr(),
            info: FLASH_INFO.as_ptr(),
            info_categorized: ptr::null(),
            category_key: CATEGORY.as_ptr(),
            values,
            default_value: default,
        },
        // SAFETY: the all-null definition is the list's terminator, as the header specifies.
        unsafe { std::mem::zeroed() },
    ];
    let mut options = sys::retro_core_options_v2 {
        categories: categories.as_mut_ptr(),
        definitions: definitions.as_mut_ptr(),
    };
    // SAFETY: SET_CORE_OPTIONS_V2 takes a retro_core_options_v2 whose arrays end in null entries.
    unsafe { env::call(sys::RETRO_ENVIRONMENT_SET_CORE_OPTIONS_V2, &mut options) }
}

fn declare_v1(values: [sys::retro_core_option_value; 128], default: *const c_char) -> bool {
    let mut definitions = [
        sys::retro_core_option_definition {
            key: FLASH_BIOS.as_ptr(),
            desc: FLASH_DESC.as_ptr(),
            info: FLASH_INFO.as_ptr(),
            values,
            default_value: default,
        },
        // SAFETY: the all-null definition is the list's terminator.
        unsafe { std::mem::zeroed() },
    ];
    // SAFETY: SET_CORE_OPTIONS takes an array of definitions ending in a null entry.
    unsafe {
        env::call(
            sys::RETRO_ENVIRONMENT_SET_CORE_OPTIONS,
            definitions.as_mut_ptr(),
        )
    }
}

/// The oldest form: "Description; first|second|..." with the first value the default.
fn declare_variables(names: &[CString]) {
    let choices: Vec<&str> = names.iter().filter_map(|n| n.to_str().ok()).collect();
    let text = env::c_string(&format!(
        "{}; {}",
        FLASH_DESC.to_string_lossy(),
        choices.join("|")
    ));
    let mut variables = [
        sys::retro_variable {
            key: FLASH_BIOS.as_ptr(),
            value: text.as_ptr(),
        },
        sys::retro_variable {
            key: ptr::null(),
            value: ptr::null(),
        },
    ];
    // SAFETY: SET_VARIABLES takes an array of retro_variable ending in a null entry.
    unsafe { env::call(sys::RETRO_ENVIRONMENT_SET_VARIABLES, variables.as_mut_ptr()) };
}

/// The current value of option `key`, if the frontend has one.
fn value(key: &CStr) -> Option<String> {
    let mut variable = sys::retro_variable {
        key: key.as_ptr(),
        value: ptr::null(),
    };
    // SAFETY: GET_VARIABLE fills in `value` with a frontend-owned string or leaves it null.
    if !unsafe { env::call(sys::RETRO_ENVIRONMENT_GET_VARIABLE, &mut variable) }
        || variable.value.is_null()
    {
        return None;
    }
    // SAFETY: non-null and NUL-terminated, valid until the next environment call.
    Some(
        unsafe { CStr::from_ptr(variable.value) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// Reads every option, falling back to the defaults.
pub fn read() -> Options {
    Options {
        flash_file: value(FLASH_BIOS)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| firmware::DEFAULT_FLASH_FILE.to_string()),
    }
}

/// Whether the user changed an option since the last read.
pub fn changed() -> bool {
    env::get::<bool>(sys::RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE).unwrap_or(false)
}
