//! Core options: declared as v2 (with categories) where the frontend supports it, else as v1,
//! else as plain variables; and read back into a machine configuration.

use super::env;
use crate::firmware;
use crate::machine::EepromSettings;
use crate::mcpx::eeprom::{Region, Revision, VideoStandard};
use crate::mcpx::smc::AvPack;
use crate::mcpx::video_encoder::Encoder;
use rust_libretro_sys as sys;
use std::ffi::{CStr, CString, c_uint};
use std::path::Path;
use std::ptr;

/// At most this many values per option (the libretro header's limit, less the terminator).
const MAX_VALUES: usize = 127;

pub const FLASH_BIOS: &CStr = c"oxbox_flash_bios";
pub const BOOT_ROM: &CStr = c"oxbox_boot_rom";
pub const RAM: &CStr = c"oxbox_ram";
pub const ENCODER: &CStr = c"oxbox_video_encoder";
pub const AV_PACK: &CStr = c"oxbox_av_pack";
pub const SHORT_ANIMATION: &CStr = c"oxbox_short_animation";
pub const EEPROM_KEYS: &CStr = c"oxbox_eeprom_keys";
pub const REGION: &CStr = c"oxbox_region";
pub const VIDEO_STANDARD: &CStr = c"oxbox_video_standard";
pub const IDENTITY: &CStr = c"oxbox_console_identity";

const FILES: &CStr = c"system_files";
const HARDWARE: &CStr = c"hardware";
const EEPROM: &CStr = c"eeprom";

/// The option values chosen in the frontend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub flash_file: String,
    pub builtin_rom: bool,
    pub ram_mib: u32,
    pub encoder: Encoder,
    pub av_pack: AvPack,
    pub short_animation: bool,
    pub eeprom: EepromSettings,
}

/// One option: its key, texts, category and values (value, label), the first the default.
struct Definition {
    key: &'static CStr,
    desc: &'static CStr,
    info: &'static CStr,
    category: &'static CStr,
    values: Vec<(CString, CString)>,
}

fn choices(list: &[(&str, &str)]) -> Vec<(CString, CString)> {
    list.iter()
        .map(|(value, label)| (env::c_string(value), env::c_string(label)))
        .collect()
}

fn definitions(system_dir: Option<&Path>) -> Vec<Definition> {
    let mut names = vec![firmware::DEFAULT_FLASH_FILE.to_string()];
    for name in firmware::flash_candidates(system_dir) {
        if !names.contains(&name) && names.len() < MAX_VALUES {
            names.push(name);
        }
    }
    vec![
        Definition {
            key: FLASH_BIOS,
            desc: c"Flash BIOS file",
            info: c"The flash BIOS image to boot, from the system folder or its xbox/ \
                subfolder. Files of a flash image's size (256 KiB to 1 MiB) found there are \
                listed. Restarts the console.",
            category: FILES,
            values: names
                .iter()
                .map(|n| (env::c_string(n), env::c_string(n)))
                .collect(),
        },
        Definition {
            key: BOOT_ROM,
            desc: c"Boot",
            info: c"What the console boots: your flash BIOS when it is there (else Oxbox's own \
                boot ROM, which shows what was found), or always Oxbox's boot ROM. Restarts the \
                console.",
            category: FILES,
            values: choices(&[
                ("flash", "Flash BIOS if present"),
                ("builtin", "Oxbox boot ROM"),
            ]),
        },
        Definition {
            key: RAM,
            desc: c"Memory",
            info: c"64 MiB as on retail consoles, or 128 MiB as on development kits (some \
                homebrew and debug BIOSes use it). Restarts the console.",
            category: HARDWARE,
            values: choices(&[
                ("64", "64 MiB (retail)"),
                ("128", "128 MiB (development kit)"),
            ]),
        },
        Definition {
            key: ENCODER,
            desc: c"Video encoder",
            info: c"The video encoder chip the kernel finds on the SMBus: Conexant (most \
                consoles), Focus (some 1.4 and 1.5 boards) or Xcalibur (1.6). Use the one \
                your BIOS expects. Restarts the console.",
            category: HARDWARE,
            values: choices(&[
                ("conexant", "Conexant CX25871"),
                ("focus", "Focus FS454"),
                ("xcalibur", "Xcalibur"),
            ]),
        },
        Definition {
            key: AV_PACK,
            desc: c"AV cable",
            info: c"The AV pack the SMC reports; the kernel offers HD modes only with HDTV \
                (component) and VGA. Restarts the console.",
            category: HARDWARE,
            values: choices(&[
                ("hdtv", "HDTV (component)"),
                ("composite", "Composite"),
                ("svideo", "S-Video"),
                ("scart", "SCART"),
                ("vga", "VGA"),
                ("rfu", "RF unit"),
                ("none", "None"),
            ]),
        },
        Definition {
            key: SHORT_ANIMATION,
            desc: c"Skip the boot animation",
            info: c"Sets the SMC flag the kernel reads to play the short start-up animation \
                instead of the full one. Restarts the console.",
            category: HARDWARE,
            values: choices(&[("off", "Off"), ("on", "On")]),
        },
        Definition {
            key: EEPROM_KEYS,
            desc: c"EEPROM key revision",
            info: c"Which kernel family's key encrypts a newly generated EEPROM: it must \
                match your BIOS. Applies when the EEPROM file is created (delete \
                oxbox/eeprom.bin in the save folder to make a new one).",
            category: EEPROM,
            values: choices(&[
                ("retail-1.0", "Retail 1.0"),
                ("retail-1.1", "Retail 1.1 to 1.5"),
                ("retail-1.6", "Retail 1.6"),
                ("debug", "Debug kit"),
            ]),
        },
        Definition {
            key: REGION,
            desc: c"Game region",
            info: c"The region a newly generated EEPROM holds.",
            category: EEPROM,
            values: choices(&[
                ("na", "North America"),
                ("japan", "Japan"),
                ("europe", "Europe and Australia"),
            ]),
        },
        Definition {
            key: VIDEO_STANDARD,
            desc: c"Video standard",
            info: c"The video standard a newly generated EEPROM holds.",
            category: EEPROM,
            values: choices(&[
                ("ntsc-m", "NTSC-M"),
                ("ntsc-j", "NTSC-J"),
                ("pal-i", "PAL-I"),
                ("pal-m", "PAL-M"),
            ]),
        },
        Definition {
            key: IDENTITY,
            desc: c"Console identity",
            info: c"Picks the serial number, MAC address and keys of a newly generated \
                EEPROM: each number is a different console, always the same one.",
            category: EEPROM,
            values: (1..=8)
                .map(|n| {
                    (
                        env::c_string(&n.to_string()),
                        env::c_string(&format!("Console {n}")),
                    )
                })
                .collect(),
        },
    ]
}

/// Declares the options. The flash BIOS choices are the default name plus the flash-sized files
/// in the system folders; frontends copy everything during the call.
pub fn declare(system_dir: Option<&Path>) {
    let definitions = definitions(system_dir);
    let version = env::get::<c_uint>(sys::RETRO_ENVIRONMENT_GET_CORE_OPTIONS_VERSION).unwrap_or(0);
    let declared = if version >= 2 {
        declare_v2(&definitions)
    } else if version == 1 {
        declare_v1(&definitions)
    } else {
        false
    };
    if !declared {
        declare_variables(&definitions);
    }
}

/// A definition's values as the header's fixed array (null-terminated).
fn value_array(d: &Definition) -> [sys::retro_core_option_value; 128] {
    let mut values = [sys::retro_core_option_value {
        value: ptr::null(),
        label: ptr::null(),
    }; 128];
    for (slot, (value, label)) in values.iter_mut().zip(&d.values) {
        slot.value = value.as_ptr();
        slot.label = label.as_ptr();
    }
    values
}

fn declare_v2(definitions: &[Definition]) -> bool {
    let category = |key: &CStr, desc: &CStr, info: &CStr| sys::retro_core_option_v2_category {
        key: key.as_ptr(),
        desc: desc.as_ptr(),
        info: info.as_ptr(),
    };
    let mut categories = [
        category(
            FILES,
            c"System files",
            c"Which of your own firmware files to boot.",
        ),
        category(
            HARDWARE,
            c"Hardware",
            c"The console's memory, video and SMC.",
        ),
        category(EEPROM, c"EEPROM", c"What a newly created EEPROM holds."),
        // SAFETY: the all-null category ends the list, as the header specifies.
        unsafe { std::mem::zeroed() },
    ];
    let mut list: Vec<sys::retro_core_option_v2_definition> = definitions
        .iter()
        .map(|d| sys::retro_core_option_v2_definition {
            key: d.key.as_ptr(),
            desc: d.desc.as_ptr(),
            desc_categorized: ptr::null(),
            info: d.info.as_ptr(),
            info_categorized: ptr::null(),
            category_key: d.category.as_ptr(),
            values: value_array(d),
            default_value: d.values[0].0.as_ptr(),
        })
        .collect();
    // SAFETY: the all-null definition is the list's terminator.
    list.push(unsafe { std::mem::zeroed() });
    let mut options = sys::retro_core_options_v2 {
        categories: categories.as_mut_ptr(),
        definitions: list.as_mut_ptr(),
    };
    // SAFETY: SET_CORE_OPTIONS_V2 takes a retro_core_options_v2 whose arrays end in null entries.
    unsafe { env::call(sys::RETRO_ENVIRONMENT_SET_CORE_OPTIONS_V2, &mut options) }
}

fn declare_v1(definitions: &[Definition]) -> bool {
    let mut list: Vec<sys::retro_core_option_definition> = definitions
        .iter()
        .map(|d| sys::retro_core_option_definition {
            key: d.key.as_ptr(),
            desc: d.desc.as_ptr(),
            info: d.info.as_ptr(),
            values: value_array(d),
            default_value: d.values[0].0.as_ptr(),
        })
        .collect();
    // SAFETY: the all-null definition is the list's terminator.
    list.push(unsafe { std::mem::zeroed() });
    // SAFETY: SET_CORE_OPTIONS takes an array of definitions ending in a null entry.
    unsafe { env::call(sys::RETRO_ENVIRONMENT_SET_CORE_OPTIONS, list.as_mut_ptr()) }
}

/// The oldest form: "Description; first|second|..." with the first value the default.
fn declare_variables(definitions: &[Definition]) {
    let texts: Vec<CString> = definitions
        .iter()
        .map(|d| {
            let values: Vec<&str> = d.values.iter().filter_map(|v| v.0.to_str().ok()).collect();
            env::c_string(&format!(
                "{}; {}",
                d.desc.to_string_lossy(),
                values.join("|")
            ))
        })
        .collect();
    let mut variables: Vec<sys::retro_variable> = definitions
        .iter()
        .zip(&texts)
        .map(|(d, text)| sys::retro_variable {
            key: d.key.as_ptr(),
            value: text.as_ptr(),
        })
        .collect();
    variables.push(sys::retro_variable {
        key: ptr::null(),
        value: ptr::null(),
    });
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

/// Reads every option, falling back to the defaults for missing or unknown values.
pub fn read() -> Options {
    let pick = |key: &CStr| value(key).unwrap_or_default();
    let defaults = EepromSettings::default();
    Options {
        flash_file: value(FLASH_BIOS)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| firmware::DEFAULT_FLASH_FILE.to_string()),
        builtin_rom: pick(BOOT_ROM) == "builtin",
        ram_mib: if pick(RAM) == "128" { 128 } else { 64 },
        encoder: match pick(ENCODER).as_str() {
            "focus" => Encoder::Focus,
            "xcalibur" => Encoder::Xcalibur,
            _ => Encoder::Conexant,
        },
        av_pack: match pick(AV_PACK).as_str() {
            "composite" => AvPack::Composite,
            "svideo" => AvPack::SVideo,
            "scart" => AvPack::Scart,
            "vga" => AvPack::Vga,
            "rfu" => AvPack::Rfu,
            "none" => AvPack::None,
            _ => AvPack::Hdtv,
        },
        short_animation: pick(SHORT_ANIMATION) == "on",
        eeprom: EepromSettings {
            revision: match pick(EEPROM_KEYS).as_str() {
                "retail-1.1" => Revision::Retail11,
                "retail-1.6" => Revision::Retail16,
                "debug" => Revision::Debug,
                _ => Revision::Retail10,
            },
            region: match pick(REGION).as_str() {
                "japan" => Region::Japan,
                "europe" => Region::Europe,
                _ => Region::NorthAmerica,
            },
            video_standard: match pick(VIDEO_STANDARD).as_str() {
                "ntsc-j" => VideoStandard::NtscJ,
                "pal-i" => VideoStandard::PalI,
                "pal-m" => VideoStandard::PalM,
                _ => VideoStandard::NtscM,
            },
            identity: pick(IDENTITY).parse().unwrap_or(defaults.identity),
        },
    }
}

/// Whether the user changed an option since the last read.
pub fn changed() -> bool {
    env::get::<bool>(sys::RETRO_ENVIRONMENT_GET_VARIABLE_UPDATE).unwrap_or(false)
}
