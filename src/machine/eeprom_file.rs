//! The console's EEPROM as a file in the frontend's save directory: created with generated
//! contents when missing, loaded when present, written back when the guest changes it.

use crate::mcpx::eeprom::{self, Params, Region, Revision, VideoStandard};
use std::path::{Path, PathBuf};

/// The EEPROM's size in bytes.
pub const SIZE: usize = 256;
/// The file, under the save directory.
pub const FILE: &str = "oxbox/eeprom.bin";

/// What a newly generated EEPROM holds (the core options choose these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EepromSettings {
    pub revision: Revision,
    pub region: Region,
    pub video_standard: VideoStandard,
    /// Picks the serial number, MAC address and keys: different numbers give different
    /// consoles, the same number always the same one.
    pub identity: u32,
}

impl Default for EepromSettings {
    fn default() -> EepromSettings {
        EepromSettings {
            revision: Revision::Retail10,
            region: Region::NorthAmerica,
            video_standard: VideoStandard::NtscM,
            identity: 1,
        }
    }
}

impl EepromSettings {
    /// The generated EEPROM for these settings.
    pub fn generate(&self) -> [u8; SIZE] {
        eeprom::generate(&Params {
            region: self.region,
            video_standard: self.video_standard,
            ..Params::from_seed(self.revision, u64::from(self.identity))
        })
    }
}

/// The EEPROM's contents and where they are kept.
pub struct EepromFile {
    /// None when there is no save directory, or the file there is unusable.
    path: Option<PathBuf>,
    contents: [u8; SIZE],
    notices: Vec<String>,
}

impl EepromFile {
    pub fn open(save_dir: Option<&Path>, settings: &EepromSettings) -> EepromFile {
        let mut file = EepromFile {
            path: None,
            contents: settings.generate(),
            notices: Vec::new(),
        };
        let Some(dir) = save_dir else {
            file.notices.push(
                "No save directory: the EEPROM is generated afresh each time and not kept".into(),
            );
            return file;
        };
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(data) if data.len() == SIZE => {
                file.contents.copy_from_slice(&data);
                file.path = Some(path);
            }
            Ok(data) => file.notices.push(format!(
                "EEPROM {} is {} bytes, expected {SIZE}: using a generated one and leaving \
                 the file alone",
                path.display(),
                data.len()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let contents = file.contents;
                file.path = Some(path);
                if let Err(why) = file.store(&contents) {
                    file.notices.push(why);
                }
            }
            Err(e) => file.notices.push(format!(
                "EEPROM {} cannot be read ({e}): using a generated one",
                path.display()
            )),
        }
        file
    }

    pub fn contents(&self) -> [u8; SIZE] {
        self.contents
    }

    pub fn notices(&self) -> Vec<String> {
        self.notices.clone()
    }

    /// Writes new contents back (when the file is in use).
    pub fn store(&mut self, contents: &[u8; SIZE]) -> Result<(), String> {
        self.contents = *contents;
        let Some(path) = &self.path else {
            return Ok(());
        };
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, contents));
        if let Err(e) = written {
            let why = format!("EEPROM {} cannot be written ({e})", path.display());
            // Stop trying: the guest may write often, and one message is enough.
            self.path = None;
            return Err(why);
        }
        Ok(())
    }
}
