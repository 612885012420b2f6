//! The user's own firmware: the MCPX boot ROM and the flash BIOS.
//!
//! Both live in the frontend's system directory or its `xbox/` subfolder. Nothing here is
//! ever shipped with Oxbox; this module finds the files, checks them, and says precisely what is
//! wrong when a file is missing or unusable, so the core can keep running and tell the user.

use crate::md5;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The MCPX boot ROM's file name, as xemu and the launchers built on it spell it.
pub const MCPX_FILE: &str = "mcpx_1.0.bin";
/// The MCPX boot ROM is the chip's hidden 512 bytes, exactly.
pub const MCPX_SIZE: u64 = 512;
/// The flash BIOS looked for unless a core option names another file.
pub const DEFAULT_FLASH_FILE: &str = "Complex_4627.bin";
/// Flash images come in 256 KiB units (the chip is mirrored to fill its 1 MiB window).
pub const FLASH_UNIT: u64 = 256 * 1024;
/// The largest flash chip fitted to a retail board.
pub const FLASH_MAX: u64 = 1024 * 1024;

/// The published MD5 of a good MCPX 1.0 dump.
const MCPX_1_0_MD5: &str = "d49c52a4102f6df7bcf8d0617ac475ed";
/// The MD5 of a widely shared MCPX 1.0 dump that is a few bytes off.
const MCPX_1_0_BAD_DUMP_MD5: &str = "196a5f59a13382c185636e691d6c323d";

/// The folders searched for firmware, in order: the system directory, then its `xbox/` subfolder.
pub fn search_dirs(system_dir: Option<&Path>) -> Vec<PathBuf> {
    system_dir
        .map(|dir| vec![dir.to_path_buf(), dir.join("xbox")])
        .unwrap_or_default()
}

/// Which MCPX ROM a dump is, judged by its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum McpxRevision {
    /// The good 1.0 dump.
    V1_0,
    /// The known bad 1.0 dump: a couple of bytes differ, and booting with it fails.
    V1_0BadDump,
    /// A 512-byte file matching no known dump.
    Unknown,
}

/// A loaded MCPX boot ROM.
#[derive(Clone, Debug)]
pub struct McpxRom {
    pub path: PathBuf,
    pub data: Vec<u8>,
    pub revision: McpxRevision,
    pub md5: String,
}

/// A loaded flash BIOS image.
#[derive(Clone, Debug)]
pub struct FlashImage {
    pub path: PathBuf,
    pub data: Vec<u8>,
}

/// Why a firmware file could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The frontend gave no system directory to look in.
    NoSystemDir,
    /// No candidate path exists.
    Missing,
    /// The path exists but is a directory (or another non-file).
    NotAFile(PathBuf),
    /// Opening or reading failed.
    Unreadable(PathBuf, String),
    /// The file has the wrong size.
    WrongSize(PathBuf, u64),
}

/// A firmware file that could not be used, with everything a user needs to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// What the file is, for people: "MCPX boot ROM".
    pub what: &'static str,
    /// The file name looked for.
    pub name: String,
    /// The size the file must have, for people.
    pub expected: &'static str,
    /// The folders searched, in order.
    pub searched: Vec<PathBuf>,
    pub problem: Problem,
}

impl FileError {
    /// A one-line summary for narrow places such as the status screen.
    pub fn short(&self) -> String {
        match &self.problem {
            Problem::NoSystemDir => "no system directory".into(),
            Problem::Missing => "missing".into(),
            Problem::NotAFile(_) => "not a file".into(),
            Problem::Unreadable(_, why) => format!("unreadable: {why}"),
            Problem::WrongSize(_, 0) => "empty".into(),
            Problem::WrongSize(_, size) => format!("wrong size: {size} bytes"),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.what;
        let name = &self.name;
        match &self.problem {
            Problem::NoSystemDir => write!(
                f,
                "{what} {name} not found: the frontend gave no system directory to look in"
            )?,
            Problem::Missing => write!(f, "{what} {name} not found")?,
            Problem::NotAFile(path) => write!(f, "{what} {} is not a file", path.display())?,
            Problem::Unreadable(path, why) => {
                write!(f, "{what} {} cannot be read ({why})", path.display())?
            }
            Problem::WrongSize(path, 0) => write!(f, "{what} {} is empty", path.display())?,
            Problem::WrongSize(path, size) => {
                write!(f, "{what} {} is {size} bytes", path.display())?
            }
        }
        write!(f, "; expected {}", self.expected)?;
        if !self.searched.is_empty() {
            let dirs: Vec<String> = self
                .searched
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            write!(f, "; searched {}", dirs.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

/// What was found of the user's firmware.
#[derive(Clone, Debug)]
pub struct Firmware {
    /// The folders searched, in order.
    pub searched: Vec<PathBuf>,
    pub mcpx: Result<McpxRom, Box<FileError>>,
    pub flash: Result<FlashImage, Box<FileError>>,
}

impl Firmware {
    /// Looks for both files under `system_dir`; `flash_file` is the flash BIOS's file name.
    pub fn locate(system_dir: Option<&Path>, flash_file: &str) -> Firmware {
        Firmware {
            searched: search_dirs(system_dir),
            mcpx: load_mcpx(system_dir),
            flash: load_flash(system_dir, flash_file),
        }
    }

    /// Warnings about files that load but may not work.
    pub fn warnings(&self) -> Vec<String> {
        let Ok(rom) = &self.mcpx else {
            return Vec::new();
        };
        let path = rom.path.display();
        match rom.revision {
            McpxRevision::V1_0 => Vec::new(),
            McpxRevision::V1_0BadDump => vec![format!(
                "MCPX boot ROM {path} is the known bad 1.0 dump (MD5 {}): a few bytes are wrong; \
                 dump it again (a good one has MD5 {MCPX_1_0_MD5})",
                rom.md5
            )],
            McpxRevision::Unknown => vec![format!(
                "MCPX boot ROM {path} is not a known dump (MD5 {}; the good 1.0 dump has MD5 \
                 {MCPX_1_0_MD5}); it may fail to boot",
                rom.md5
            )],
        }
    }
}

fn load_mcpx(system_dir: Option<&Path>) -> Result<McpxRom, Box<FileError>> {
    let (path, data) = find(
        system_dir,
        "MCPX boot ROM",
        MCPX_FILE,
        "exactly 512 bytes",
        |size| size == MCPX_SIZE,
    )?;
    let md5 = md5::hex_digest(&data);
    let revision = match md5.as_str() {
        MCPX_1_0_MD5 => McpxRevision::V1_0,
        MCPX_1_0_BAD_DUMP_MD5 => McpxRevision::V1_0BadDump,
        _ => McpxRevision::Unknown,
    };
    Ok(McpxRom {
        path,
        data,
        revision,
        md5,
    })
}

fn load_flash(system_dir: Option<&Path>, name: &str) -> Result<FlashImage, Box<FileError>> {
    let (path, data) = find(
        system_dir,
        "flash BIOS",
        name,
        "256 KiB, 512 KiB, 768 KiB or 1 MiB",
        is_flash_size,
    )?;
    Ok(FlashImage { path, data })
}

fn is_flash_size(size: u64) -> bool {
    size > 0 && size <= FLASH_MAX && size.is_multiple_of(FLASH_UNIT)
}

/// Finds `name` in the search folders. The first candidate that loads wins; when none does, the
/// problem with the first one that exists is reported (or `Missing` when none exists).
fn find(
    system_dir: Option<&Path>,
    what: &'static str,
    name: &str,
    expected: &'static str,
    size_ok: impl Fn(u64) -> bool,
) -> Result<(PathBuf, Vec<u8>), Box<FileError>> {
    let searched = search_dirs(system_dir);
    let mut first_problem = None;
    // Only plain names inside the search folders: an option value cannot reach elsewhere.
    let plain = Path::new(name).file_name().is_some_and(|n| n == name);
    for dir in searched.iter().filter(|_| plain) {
        let path = dir.join(name);
        match read_checked(&path, &size_ok) {
            Ok(data) => return Ok((path, data)),
            Err(Problem::Missing) => {}
            Err(problem) => {
                first_problem.get_or_insert(problem);
            }
        }
    }
    let problem = match (system_dir, first_problem) {
        (None, _) => Problem::NoSystemDir,
        (Some(_), Some(problem)) => problem,
        (Some(_), None) => Problem::Missing,
    };
    Err(Box::new(FileError {
        what,
        name: name.to_string(),
        expected,
        searched,
        problem,
    }))
}

/// Reads `path` if it is a regular file whose size passes `size_ok`. Files of the wrong size are
/// never read whole, so a huge file named like firmware costs nothing.
fn read_checked(path: &Path, size_ok: impl Fn(u64) -> bool) -> Result<Vec<u8>, Problem> {
    let unreadable = |e: io::Error| Problem::Unreadable(path.to_path_buf(), e.to_string());
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        // A dangling link exists but cannot be followed: that is unreadable, not missing.
        Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_err() => {
            return Err(Problem::Missing);
        }
        Err(e) => return Err(unreadable(e)),
    };
    if !meta.is_file() {
        return Err(Problem::NotAFile(path.to_path_buf()));
    }
    if !size_ok(meta.len()) {
        return Err(Problem::WrongSize(path.to_path_buf(), meta.len()));
    }
    let data = fs::read(path).map_err(unreadable)?;
    // The file may have changed between the two looks.
    if !size_ok(data.len() as u64) {
        return Err(Problem::WrongSize(path.to_path_buf(), data.len() as u64));
    }
    Ok(data)
}

/// File names in the search folders that have a flash image's size, sorted and without
/// duplicates: the choices offered by the flash BIOS core option.
pub fn flash_candidates(system_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = search_dirs(system_dir)
        .iter()
        .filter_map(|dir| fs::read_dir(dir).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| {
            fs::metadata(entry.path()).is_ok_and(|meta| meta.is_file() && is_flash_size(meta.len()))
        })
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("oxbox-fw-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("xbox")).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn locate(dir: &Scratch) -> Firmware {
        Firmware::locate(Some(&dir.0), DEFAULT_FLASH_FILE)
    }

    #[test]
    fn missing_files_name_the_file_and_folders() {
        let dir = Scratch::new("missing");
        let fw = locate(&dir);
        let err = fw.mcpx.unwrap_err();
        assert_eq!(err.problem, Problem::Missing);
        let text = err.to_string();
        assert!(text.contains("mcpx_1.0.bin"), "{text}");
        assert!(text.contains("exactly 512 bytes"), "{text}");
        assert!(text.contains(&dir.0.display().to_string()), "{text}");
        assert!(
            text.contains(&dir.0.join("xbox").display().to_string()),
            "{text}"
        );
        let err = fw.flash.unwrap_err();
        assert_eq!(err.problem, Problem::Missing);
        assert!(err.to_string().contains("Complex_4627.bin"));
    }

    #[test]
    fn names_cannot_leave_the_search_folders() {
        let dir = Scratch::new("escape");
        fs::write(dir.0.join("flash.bin"), vec![0u8; FLASH_UNIT as usize]).unwrap();
        let inner = dir.0.join("xbox");
        for name in ["../flash.bin", "..", "/etc/passwd", "a/b.bin", ""] {
            let err = Firmware::locate(Some(&inner), name).flash.unwrap_err();
            assert_eq!(err.problem, Problem::Missing, "{name}");
        }
        assert!(Firmware::locate(Some(&dir.0), "flash.bin").flash.is_ok());
    }

    #[test]
    fn no_system_directory() {
        let fw = Firmware::locate(None, DEFAULT_FLASH_FILE);
        assert_eq!(fw.mcpx.unwrap_err().problem, Problem::NoSystemDir);
        assert_eq!(fw.flash.unwrap_err().problem, Problem::NoSystemDir);
    }

    #[test]
    fn truncated_mcpx_rom() {
        let dir = Scratch::new("short");
        let path = dir.0.join(MCPX_FILE);
        fs::write(&path, [0u8; 100]).unwrap();
        let err = locate(&dir).mcpx.unwrap_err();
        assert_eq!(err.problem, Problem::WrongSize(path, 100));
        let text = err.to_string();
        assert!(
            text.contains("is 100 bytes; expected exactly 512 bytes"),
            "{text}"
        );
    }

    #[test]
    fn oversized_mcpx_rom() {
        let dir = Scratch::new("long");
        let path = dir.0.join("xbox").join(MCPX_FILE);
        fs::write(&path, [0u8; 513]).unwrap();
        assert_eq!(
            locate(&dir).mcpx.unwrap_err().problem,
            Problem::WrongSize(path, 513)
        );
    }

    #[test]
    fn empty_flash() {
        let dir = Scratch::new("empty");
        let path = dir.0.join(DEFAULT_FLASH_FILE);
        fs::write(&path, []).unwrap();
        let err = locate(&dir).flash.unwrap_err();
        assert_eq!(err.problem, Problem::WrongSize(path, 0));
        assert!(err.to_string().contains("is empty; expected 256 KiB"));
        assert_eq!(err.short(), "empty");
    }

    #[test]
    fn flash_sizes() {
        for (size, ok) in [
            (FLASH_UNIT, true),
            (2 * FLASH_UNIT, true),
            (FLASH_MAX, true),
            (FLASH_UNIT - 1, false),
            (FLASH_UNIT + 512, false),
            (FLASH_MAX + FLASH_UNIT, false),
        ] {
            assert_eq!(is_flash_size(size), ok, "{size}");
        }
    }

    #[test]
    fn directory_in_place_of_a_file() {
        let dir = Scratch::new("dir");
        let path = dir.0.join(MCPX_FILE);
        fs::create_dir(&path).unwrap();
        let err = locate(&dir).mcpx.unwrap_err();
        assert_eq!(err.problem, Problem::NotAFile(path));
        assert!(
            err.to_string()
                .contains("is not a file; expected exactly 512 bytes")
        );
    }

    /// A link to itself cannot be opened by anyone, root included.
    #[test]
    fn unreadable_file() {
        let dir = Scratch::new("loop");
        let path = dir.0.join(DEFAULT_FLASH_FILE);
        std::os::unix::fs::symlink(&path, &path).unwrap();
        let err = locate(&dir).flash.unwrap_err();
        assert!(
            matches!(&err.problem, Problem::Unreadable(p, _) if *p == path),
            "{err:?}"
        );
        assert!(err.to_string().contains("cannot be read"), "{err}");
    }

    /// Permission bits stop everyone but root, so this case only runs unprivileged.
    #[test]
    fn unreadable_by_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Scratch::new("perm");
        let path = dir.0.join(MCPX_FILE);
        fs::write(&path, [0u8; 512]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::read(&path).is_ok() {
            return; // running as root: the loop test above covers unreadable files
        }
        let err = locate(&dir).mcpx.unwrap_err();
        assert!(matches!(err.problem, Problem::Unreadable(..)), "{err:?}");
    }

    #[test]
    fn subfolder_is_searched_and_first_good_file_wins() {
        let dir = Scratch::new("sub");
        fs::write(dir.0.join(MCPX_FILE), [0u8; 10]).unwrap();
        fs::write(dir.0.join("xbox").join(MCPX_FILE), [0u8; 512]).unwrap();
        let rom = locate(&dir).mcpx.unwrap();
        assert_eq!(rom.path, dir.0.join("xbox").join(MCPX_FILE));
        assert_eq!(rom.revision, McpxRevision::Unknown);
        assert_eq!(rom.md5, "bf619eac0cdf3f68d496ea9344137e8b");
    }

    #[test]
    fn unknown_mcpx_dump_warns() {
        let dir = Scratch::new("warn");
        fs::write(dir.0.join(MCPX_FILE), [0x33u8; 512]).unwrap();
        let fw = locate(&dir);
        let warnings = fw.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("not a known dump"), "{}", warnings[0]);
    }

    #[test]
    fn flash_candidates_are_sized_sorted_and_unique() {
        let dir = Scratch::new("cands");
        fs::write(dir.0.join("b.bin"), vec![0u8; FLASH_UNIT as usize]).unwrap();
        fs::write(
            dir.0.join("xbox").join("a.bin"),
            vec![0u8; FLASH_MAX as usize],
        )
        .unwrap();
        fs::write(
            dir.0.join("xbox").join("b.bin"),
            vec![0u8; FLASH_UNIT as usize],
        )
        .unwrap();
        fs::write(dir.0.join(MCPX_FILE), [0u8; 512]).unwrap();
        fs::write(dir.0.join("odd.bin"), vec![0u8; 1000]).unwrap();
        assert_eq!(flash_candidates(Some(&dir.0)), ["a.bin", "b.bin"]);
        let fw = Firmware::locate(Some(&dir.0), "a.bin");
        assert_eq!(fw.flash.unwrap().data.len(), FLASH_MAX as usize);
    }
}
