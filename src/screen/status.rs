//! The status screen, shown until the guest sets up a picture (or when the console stops):
//! name and version, what was found of the user's firmware and where it was looked for, what
//! the console is doing, and a live test of the four controllers.

use super::{Console, draw_text, keep_end};
use crate::firmware::{self, FileError, Firmware};
use crate::frame::Frame;
use crate::input::{Analog, Gamepad, button};
use crate::machine::timing;

pub const WIDTH: usize = 640;
pub const HEIGHT: usize = 480;

/// The palette (XRGB8888). Tests and the RetroArch smoke test look for these colours.
pub const BACKGROUND: u32 = 0x0010_1a12;
pub const TEXT: u32 = 0x00c8_d8c8;
pub const DIM: u32 = 0x0078_9078;
/// The title and every "found" finding.
pub const GREEN: u32 = 0x0078_d83c;
pub const RED: u32 = 0x00ff_6a5a;
pub const AMBER: u32 = 0x00ff_c84a;

/// Left margin, in cells.
const MARGIN: usize = 2;

/// Redraws the whole screen into `frame` (resized to the screen's size if needed). `console`
/// says what the emulated console is doing, when there is one.
pub fn draw(
    frame: &mut Frame,
    fw: &Firmware,
    console: Option<&str>,
    pads: &[Gamepad],
    frame_number: u64,
) {
    if (frame.width, frame.height) != (WIDTH, HEIGHT) {
        *frame = Frame::new(WIDTH, HEIGHT, BACKGROUND);
    }
    frame.pixels.fill(BACKGROUND);
    let title_width = draw_text(frame, MARGIN * 8, 16, crate::NAME, GREEN, 2);
    let version = format!("{} - original Xbox emulator", crate::VERSION);
    draw_text(frame, MARGIN * 8 + title_width + 12, 30, &version, DIM, 1);
    frame.fill_rect(MARGIN * 8, 54, WIDTH - 2 * MARGIN * 8, 2, GREEN);

    let mut con = Console { frame };
    let width = con.columns() - 2 * MARGIN;
    let intro = if fw.flash.is_ok() {
        [
            "The console runs your flash image. Until it sets up a picture,",
            "this screen shows what it does:",
        ]
    } else {
        [
            "No flash image: starting Oxbox's own boot ROM. Your console's",
            "firmware goes in the frontend's system folder (or xbox/ in it):",
        ]
    };
    con.put(MARGIN, 4, intro[0], TEXT);
    con.put(MARGIN, 5, intro[1], TEXT);

    let mcpx = fw
        .mcpx
        .as_ref()
        .map(|rom| (&rom.path, rom_note(rom.revision)))
        .map_err(|e| e.as_ref());
    let flash = fw
        .flash
        .as_ref()
        .map(|img| (&img.path, size_note(img.data.len())))
        .map_err(|e| e.as_ref());
    let mut row = 7;
    for (label, finding) in [("MCPX boot ROM", mcpx), ("Flash BIOS", flash)] {
        row = put_finding(&mut con, row, width, label, finding);
    }

    con.put(MARGIN, row, "Searched:", DIM);
    if fw.searched.is_empty() {
        con.put(
            MARGIN + 10,
            row,
            "(the frontend gave no system folder)",
            RED,
        );
        row += 1;
    }
    for dir in &fw.searched {
        con.put(
            MARGIN + 10,
            row,
            &keep_end(&dir.display().to_string(), width - 10),
            DIM,
        );
        row += 1;
    }
    for warning in fw.warnings() {
        con.put(MARGIN, row + 1, &keep_end(&warning, width), AMBER);
        row += 1;
    }

    if let Some(line) = console {
        con.put(MARGIN, 18, &keep_end(line, width), AMBER);
    }

    con.put(
        MARGIN,
        20,
        "Controller test (triggers drive the rumble motors)",
        TEXT,
    );
    for (port, pad) in pads.iter().enumerate() {
        let row = 21 + 2 * port;
        con.put(MARGIN, row, &format!("{}", port + 1), DIM);
        if pad.connected {
            let (pressures, rest) = describe_pad(pad);
            con.put(MARGIN + 3, row, &pressures, TEXT);
            con.put(MARGIN + 3, row + 1, &rest, TEXT);
        } else {
            con.put(MARGIN + 3, row, "not connected", DIM);
        }
    }

    let millis = frame_number * 1000 * timing::FIELD_RATE_DEN / timing::FIELD_RATE_NUM;
    let clock = format!(
        "emulated time {}:{:02}.{:03}",
        millis / 60_000,
        millis / 1000 % 60,
        millis % 1000
    );
    con.put(MARGIN, 29, &clock, DIM);
}

/// One firmware line: label, file name and verdict, then where it was found or what is wrong.
fn put_finding(
    con: &mut Console,
    row: usize,
    width: usize,
    label: &str,
    finding: Result<(&std::path::PathBuf, String), &FileError>,
) -> usize {
    con.put(MARGIN, row, label, TEXT);
    match finding {
        Ok((path, note)) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            con.put(MARGIN + 15, row, &name, TEXT);
            con.put(MARGIN + 40, row, &format!("found {note}"), GREEN);
            con.put(
                MARGIN + 2,
                row + 1,
                &keep_end(&path.display().to_string(), width - 2),
                DIM,
            );
        }
        Err(e) => {
            con.put(MARGIN + 15, row, &e.name, TEXT);
            con.put(MARGIN + 40, row, &keep_end(&e.short(), width - 40), RED);
            con.put(
                MARGIN + 2,
                row + 1,
                &format!("expected {}", e.expected),
                DIM,
            );
        }
    }
    row + 3
}

fn rom_note(revision: firmware::McpxRevision) -> String {
    match revision {
        firmware::McpxRevision::V1_0 => "(1.0)".into(),
        firmware::McpxRevision::V1_0BadDump => "(bad 1.0 dump)".into(),
        firmware::McpxRevision::Unknown => "(unknown dump)".into(),
    }
}

fn size_note(bytes: usize) -> String {
    format!("({} KiB)", bytes / 1024)
}

/// A controller's state in two lines: the pressures; then the sticks and held buttons.
fn describe_pad(pad: &Gamepad) -> (String, String) {
    let pressures: Vec<String> = Analog::ALL
        .iter()
        .map(|&b| format!("{} {:03}", b.label(), pad.pressure(b)))
        .collect();
    let [lx, ly] = pad.left_stick;
    let [rx, ry] = pad.right_stick;
    let mut line = format!("Left {lx:+06},{ly:+06}  Right {rx:+06},{ry:+06} ");
    for (bit, name) in [
        (button::DPAD_UP, " Up"),
        (button::DPAD_DOWN, " Down"),
        (button::DPAD_LEFT, " Left"),
        (button::DPAD_RIGHT, " Right"),
        (button::START, " Start"),
        (button::BACK, " Back"),
        (button::LEFT_THUMB, " LS"),
        (button::RIGHT_THUMB, " RS"),
    ] {
        if pad.buttons & bit != 0 {
            line.push_str(name);
        }
    }
    (pressures.join("  "), line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firmware::DEFAULT_FLASH_FILE;
    use crate::screen::font;

    /// Finds `text` drawn in `colour` at a cell position anywhere on the screen.
    fn shows(frame: &Frame, text: &str, colour: u32) -> bool {
        let mut probe = Frame::new(text.len() * 8, 16, BACKGROUND);
        draw_text(&mut probe, 0, 0, text, colour, 1);
        (0..HEIGHT / font::GLYPH_HEIGHT).any(|row| {
            (0..WIDTH / 8).any(|col| {
                (0..16).all(|y| {
                    (0..probe.width)
                        .all(|x| frame.pixel(col * 8 + x, row * 16 + y) == probe.pixel(x, y))
                })
            })
        })
    }

    #[test]
    fn names_the_missing_files_and_the_folders_searched() {
        let dir = std::env::temp_dir().join("oxbox-status-screen");
        let fw = Firmware::locate(Some(&dir), DEFAULT_FLASH_FILE);
        let mut frame = Frame::new(1, 1, 0);
        draw(&mut frame, &fw, None, &[Gamepad::default(); 4], 0);
        assert_eq!((frame.width, frame.height), (WIDTH, HEIGHT));
        assert!(shows(&frame, "mcpx_1.0.bin", TEXT));
        assert!(shows(&frame, "Complex_4627.bin", TEXT));
        assert!(shows(&frame, "missing", RED));
        assert!(shows(&frame, &dir.display().to_string(), DIM));
        assert!(shows(&frame, &dir.join("xbox").display().to_string(), DIM));
        assert!(shows(&frame, "not connected", DIM));
        assert_eq!(frame.pixel(0, 0), Some(BACKGROUND));
    }

    #[test]
    fn shows_controller_state() {
        let fw = Firmware::locate(None, DEFAULT_FLASH_FILE);
        let mut pad = Gamepad {
            connected: true,
            buttons: button::START,
            left_stick: [-32768, 32767],
            ..Gamepad::default()
        };
        pad.analog[Analog::A as usize] = 200;
        let mut frame = Frame::new(1, 1, 0);
        draw(&mut frame, &fw, None, &[pad, Gamepad::default()], 0);
        assert!(shows(&frame, "A 200  B 000", TEXT));
        assert!(shows(&frame, "Left -32768,+32767", TEXT));
        assert!(shows(&frame, "Start", TEXT));
        assert!(shows(&frame, "no system folder", RED));
    }

    #[test]
    fn found_firmware_is_shown_with_its_path() {
        let dir = std::env::temp_dir().join(format!("oxbox-status-found-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("xbox")).unwrap();
        std::fs::write(dir.join("mcpx_1.0.bin"), [0u8; 512]).unwrap();
        std::fs::write(
            dir.join("xbox").join(DEFAULT_FLASH_FILE),
            vec![0u8; 1 << 20],
        )
        .unwrap();
        let fw = Firmware::locate(Some(&dir), DEFAULT_FLASH_FILE);
        let mut frame = Frame::new(1, 1, 0);
        draw(
            &mut frame,
            &fw,
            Some("Running: EIP 00001234"),
            &[Gamepad::default(); 4],
            0,
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(shows(&frame, "The console runs your flash image.", TEXT));
        assert!(shows(&frame, "Running: EIP 00001234", AMBER));
        assert!(shows(&frame, "found (unknown dump)", GREEN));
        assert!(shows(&frame, "found (1024 KiB)", GREEN));
        let flash_path = dir.join("xbox").join(DEFAULT_FLASH_FILE);
        assert!(shows(&frame, &flash_path.display().to_string(), DIM));
    }
}
