//! What the boot ROM's screen shows and where: text lines on the 8x16 cell grid, filled
//! rectangles, and the two fields the x86 code fills in at run time (the SMC version it reads
//! over the SMBus and the RAM size it reads from the NV2A). The builder lays this out; the x86
//! code only walks the tables.

use super::{BootInfo, FileStatus};
use crate::mcpx::smc::AvPack;
use crate::mcpx::video_encoder::Encoder;
use crate::screen::font::{GLYPH_HEIGHT, GLYPH_WIDTH};
use crate::screen::{keep_end, status};

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 480;
/// Cells across and down.
pub const COLUMNS: usize = WIDTH as usize / GLYPH_WIDTH;
pub const ROWS: usize = HEIGHT as usize / GLYPH_HEIGHT;
/// Left margin, in cells (as on the status screen).
const MARGIN: usize = 2;

/// The colours text can have: one glyph atlas each. Index 0 is the background, which every
/// atlas uses behind its glyphs (text sits on the plain background).
pub const PALETTE: [u32; 6] = [
    status::BACKGROUND,
    status::TEXT,
    status::DIM,
    status::GREEN,
    status::RED,
    status::AMBER,
];
pub const TEXT: u8 = 1;
pub const DIM: u8 = 2;
pub const GREEN: u8 = 3;
pub const RED: u8 = 4;
pub const AMBER: u8 = 5;

/// A run of text at a pixel position, in printable ASCII only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub x: u16,
    pub y: u16,
    /// An index into [`PALETTE`].
    pub colour: u8,
    pub text: Vec<u8>,
}

/// A filled rectangle, drawn with a Kelvin clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x: u16,
    pub y: u16,
    pub w: u16,
    pub h: u16,
    pub colour: u32,
}

/// Where the x86 code writes a value it found: `len` characters from (x, y).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub x: u16,
    pub y: u16,
    pub colour: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screen {
    pub lines: Vec<Line>,
    pub rects: Vec<Rect>,
    /// The SMC version string: 3 characters.
    pub smc_version: Field,
    /// The RAM size in MiB: 3 characters, right-aligned.
    pub ram_mib: Field,
}

impl Screen {
    pub fn new(info: &BootInfo) -> Screen {
        let mut s = Screen {
            lines: Vec::new(),
            rects: Vec::new(),
            smc_version: Field {
                x: 0,
                y: 0,
                colour: 0,
            },
            ram_mib: Field {
                x: 0,
                y: 0,
                colour: 0,
            },
        };
        let width = COLUMNS - 2 * MARGIN;
        s.put(MARGIN, 1, "Oxbox", GREEN);
        s.put(
            MARGIN + 6,
            1,
            &format!(
                "{} - original Xbox emulator, built-in boot ROM",
                info.version
            ),
            DIM,
        );
        s.rule(2, status::GREEN);
        s.put(
            MARGIN,
            4,
            "No flash BIOS to boot, so Oxbox started its own boot ROM. To run",
            TEXT,
        );
        s.put(
            MARGIN,
            5,
            "the console's own firmware, put these in the frontend's system folder:",
            TEXT,
        );
        let mut row = 7;
        for file in &info.files {
            s.put(MARGIN, row, &file.what, TEXT);
            s.put(MARGIN + 15, row, &file.name, TEXT);
            match &file.status {
                FileStatus::Found(path) => {
                    s.put(MARGIN + 40, row, "found", GREEN);
                    s.put(MARGIN + 2, row + 1, &keep_end(path, width - 2), DIM);
                }
                FileStatus::Missing { problem, expected } => {
                    s.put(MARGIN + 40, row, &keep_end(problem, width - 40), RED);
                    s.put(MARGIN + 2, row + 1, &format!("expected {expected}"), DIM);
                }
            }
            row += 3;
        }
        s.put(MARGIN, row, "Searched:", DIM);
        if info.searched.is_empty() {
            s.put(
                MARGIN + 10,
                row,
                "(the frontend gave no system folder)",
                RED,
            );
            row += 1;
        }
        for dir in &info.searched {
            s.put(MARGIN + 10, row, &keep_end(dir, width - 10), DIM);
            row += 1;
        }
        row += 1;
        s.put(MARGIN, row, "Detected configuration", TEXT);
        let value = MARGIN + 17;
        s.put(MARGIN + 2, row + 1, "RAM", DIM);
        s.ram_mib = s.field(value, row + 1, TEXT);
        s.put(value + 4, row + 1, "MiB", TEXT);
        s.put(MARGIN + 2, row + 2, "Video encoder", DIM);
        s.put(value, row + 2, &encoder_name(info.encoder), TEXT);
        s.put(MARGIN + 2, row + 3, "AV pack", DIM);
        s.put(value, row + 3, av_pack_name(info.av_pack), TEXT);
        s.put(MARGIN + 2, row + 4, "SMC version", DIM);
        s.smc_version = s.field(value, row + 4, TEXT);
        s.rule(ROWS - 3, status::DIM);
        s.put(
            MARGIN,
            ROWS - 2,
            "Drawn by the emulated NV2A: Kelvin clears and 2D blits through PFIFO.",
            AMBER,
        );
        s
    }

    /// `text` at cell (col, row), clipped to the screen and made printable.
    fn put(&mut self, col: usize, row: usize, text: &str, colour: u8) {
        if row >= ROWS || col >= COLUMNS {
            return;
        }
        let text: Vec<u8> = text
            .chars()
            .take(COLUMNS - col)
            .map(|c| {
                if c == ' ' || c.is_ascii_graphic() {
                    c as u8
                } else {
                    b'?'
                }
            })
            .collect();
        self.lines.push(Line {
            x: (col * GLYPH_WIDTH) as u16,
            y: (row * GLYPH_HEIGHT) as u16,
            colour,
            text,
        });
    }

    fn field(&self, col: usize, row: usize, colour: u8) -> Field {
        Field {
            x: (col * GLYPH_WIDTH) as u16,
            y: (row * GLYPH_HEIGHT) as u16,
            colour,
        }
    }

    /// A 2-pixel rule across the screen in the middle of cell row `row`.
    fn rule(&mut self, row: usize, colour: u32) {
        self.rects.push(Rect {
            x: (MARGIN * GLYPH_WIDTH) as u16,
            y: (row * GLYPH_HEIGHT + GLYPH_HEIGHT / 2 - 1) as u16,
            w: (WIDTH as usize - 2 * MARGIN * GLYPH_WIDTH) as u16,
            h: 2,
            colour,
        });
    }

    /// Characters drawn (spaces are not).
    pub fn glyph_count(&self) -> usize {
        self.lines
            .iter()
            .map(|l| l.text.iter().filter(|&&c| c != b' ').count())
            .sum()
    }
}

fn encoder_name(encoder: Encoder) -> String {
    let name = match encoder {
        Encoder::Conexant => "Conexant CX25871",
        Encoder::Focus => "Focus FS454",
        Encoder::Xcalibur => "Xcalibur",
    };
    format!("{name} (SMBus 0x{:02X})", encoder.address())
}

fn av_pack_name(pack: AvPack) -> &'static str {
    match pack {
        AvPack::Scart => "SCART",
        AvPack::Hdtv => "HDTV (component)",
        AvPack::Vga => "VGA",
        AvPack::Rfu => "RF",
        AvPack::SVideo => "S-video",
        AvPack::Composite => "Composite",
        AvPack::None => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootrom::FileFinding;

    fn info(searched: Vec<String>) -> BootInfo {
        BootInfo {
            version: "9.9.9".into(),
            files: vec![
                FileFinding {
                    what: "MCPX boot ROM".into(),
                    name: "mcpx_1.0.bin".into(),
                    status: FileStatus::Found("/very/long/".repeat(20) + "mcpx_1.0.bin"),
                },
                FileFinding {
                    what: "Flash BIOS".into(),
                    name: "Complex_4627.bin".into(),
                    status: FileStatus::Missing {
                        problem: "missing".into(),
                        expected: "256 KiB".into(),
                    },
                },
            ],
            searched,
            ram_mib: 64,
            encoder: Encoder::Focus,
            av_pack: AvPack::Composite,
        }
    }

    #[test]
    fn everything_stays_on_the_screen_in_printable_ascii() {
        let s = Screen::new(&info(vec!["/home/ü/system".into(); 3]));
        for line in &s.lines {
            assert!(usize::from(line.x) / GLYPH_WIDTH + line.text.len() <= COLUMNS);
            assert!(u32::from(line.y) + GLYPH_HEIGHT as u32 <= HEIGHT);
            assert!(line.text.iter().all(|&c| (0x20..0x7F).contains(&c)));
            assert!(usize::from(line.colour) < PALETTE.len());
        }
        for r in &s.rects {
            assert!(u32::from(r.x + r.w) <= WIDTH && u32::from(r.y + r.h) <= HEIGHT);
        }
        let text: Vec<String> = s
            .lines
            .iter()
            .map(|l| String::from_utf8_lossy(&l.text).into_owned())
            .collect();
        assert!(text.iter().any(|t| t.contains("Complex_4627.bin")));
        assert!(text.iter().any(|t| t == "missing"));
        assert!(
            text.iter()
                .any(|t| t.ends_with("mcpx_1.0.bin") && t.starts_with("..."))
        );
        assert!(text.iter().any(|t| t == "/home/?/system"));
        assert!(
            text.iter()
                .any(|t| t.starts_with("Focus FS454 (SMBus 0x6A)"))
        );
        assert!(s.glyph_count() > 200);
    }

    #[test]
    fn no_system_folder_is_said_in_red() {
        let s = Screen::new(&info(Vec::new()));
        assert!(
            s.lines
                .iter()
                .any(|l| l.colour == RED && l.text.starts_with(b"(the frontend gave no"))
        );
    }
}
