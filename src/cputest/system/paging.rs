//! Paging: 4 KiB, 4 MiB (PSE) and PAE translations, #PF error codes and CR2, the U/S and R/W
//! checks with CR0.WP, accessed and dirty bits, the TLB (stale entries until INVLPG or a CR3
//! load, global pages, the PAE pointer registers), and restarting faulted instructions.

use super::Case;
use super::kernel::{FREE, Gate, Kernel, var};
use crate::asm::code_asm::*;
use crate::asm::{Cc, Result};

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("paging/4k", four_kib_pages),
        Case::kernel("paging/pse", large_pages),
        Case::kernel("paging/pae", pae),
        Case::kernel("paging/protection", protection),
        Case::kernel("paging/accessed-dirty", accessed_dirty),
        Case::kernel("paging/tlb", tlb),
        Case::kernel("paging/restart", restart),
    ]
}

const PF: u8 = 14;

/// The page directory and two page tables: PT0 maps the first 4 MiB onto themselves (the
/// kernel, its stacks and these tables), PT1 maps the test window at `WINDOW`.
pub const PD: u32 = FREE;
pub const PT0: u32 = FREE + 0x1000;
const PT1: u32 = FREE + 0x2000;
/// Linear address of the test window (page-directory entry 0x100).
pub const WINDOW: u32 = 0x4000_0000;
/// Physical pages for the window: `FRAMES + n * 0x1000`. The identity map shows them too, so
/// the tests see what a window access did to the frame.
const FRAMES: u32 = 0x0030_0000;

/// Page-table entry bits.
pub mod pte {
    pub const P: u32 = 1 << 0;
    pub const W: u32 = 1 << 1;
    pub const U: u32 = 1 << 2;
    pub const A: u32 = 1 << 5;
    pub const D: u32 = 1 << 6;
    pub const PS: u32 = 1 << 7;
    pub const G: u32 = 1 << 8;
    /// Present, writable, user.
    pub const PWU: u32 = P | W | U;
}

/// #PF error code bits.
mod code {
    pub const PRESENT: u32 = 1;
    pub const WRITE: u32 = 2;
    pub const USER: u32 = 4;
}

const CR0_PG: u32 = 1 << 31;
const CR0_WP: u32 = 1 << 16;
const CR4_PSE: u32 = 1 << 4;
const CR4_PAE: u32 = 1 << 5;
const CR4_PGE: u32 = 1 << 7;

/// The address of the PT1 entry for window page `page`.
fn window_pte(page: u32) -> u32 {
    PT1 + 4 * page
}

/// The physical frame for window page `page`.
fn frame(page: u32) -> u32 {
    FRAMES + 0x1000 * page
}

/// Writes PT1's entry for window page `page`.
pub fn map(k: &mut Kernel, page: u32, entry: u32) -> Result {
    k.mov(dword_ptr(window_pte(page)), entry)?;
    Ok(())
}

/// CR0 |= `bits` (or clears them).
fn set_cr0(k: &mut Kernel, bits: u32, on: bool) -> Result {
    k.mov(eax, cr0)?;
    if on {
        k.or(eax, bits)?;
    } else {
        k.and(eax, !bits)?;
    }
    k.mov(cr0, eax)?;
    Ok(())
}

fn set_cr4(k: &mut Kernel, bits: u32, on: bool) -> Result {
    k.mov(eax, cr4)?;
    if on {
        k.or(eax, bits)?;
    } else {
        k.and(eax, !bits)?;
    }
    k.mov(cr4, eax)?;
    Ok(())
}

/// Reloads CR3 (flushing the non-global TLB entries).
fn reload_cr3(k: &mut Kernel) -> Result {
    k.mov(eax, cr3)?;
    k.mov(cr3, eax)?;
    Ok(())
}

/// Builds PD, PT0 (identity, user and writable) and PT1 (empty), and turns paging on.
pub fn identity_paging(k: &mut Kernel) -> Result {
    k.mov(edi, PT0)?;
    k.mov(eax, pte::PWU)?;
    k.mov(ecx, 1024)?;
    let fill = k.here()?;
    k.stosd()?;
    k.add(eax, 0x1000)?;
    k.loop_(fill)?;
    k.mov(dword_ptr(PD), PT0 | pte::PWU)?;
    k.mov(dword_ptr(PD + 4 * (WINDOW >> 22)), PT1 | pte::PWU)?;
    k.mov(eax, PD)?;
    k.mov(cr3, eax)?;
    set_cr0(k, CR0_PG, true)
}

/// Checks CR2.
fn cr2_is(k: &mut Kernel, address: u32, what: &str) -> Result {
    k.mov(eax, cr2)?;
    k.check_eq(eax, address, &format!("{what}: CR2"))
}

fn four_kib_pages(k: &mut Kernel) -> Result {
    identity_paging(k)?;
    map(k, 0, frame(0) | pte::PWU)?;
    map(k, 1, frame(1) | pte::PWU)?;

    // The window reaches its frames.
    k.mov(dword_ptr(WINDOW + 0x10), 0xAAAA_0001u32)?;
    k.check_eq(
        dword_ptr(frame(0) + 0x10),
        0xAAAA_0001u32,
        "window page 0 is frame 0",
    )?;
    k.mov(dword_ptr(frame(1) + 0xFFC), 0xBBBB_0002u32)?;
    k.check_eq(
        dword_ptr(WINDOW + 0x1FFC),
        0xBBBB_0002u32,
        "window page 1 is frame 1",
    )?;
    // A dword across the two pages.
    k.mov(dword_ptr(WINDOW + 0xFFE), 0x4433_2211)?;
    k.check_eq(
        word_ptr(frame(0) + 0xFFE),
        0x2211,
        "a split write: first page",
    )?;
    k.check_eq(word_ptr(frame(1)), 0x4433, "a split write: second page")?;

    // Not-present pages and tables: #PF with the access in the error code, CR2 the address.
    let absent = WINDOW + 0x2000 + 0x34;
    k.expect_fault("read of an absent page", PF, Some(0), |k| {
        k.mov(eax, dword_ptr(absent))
    })?;
    cr2_is(k, absent, "read of an absent page")?;
    k.expect_fault("write of an absent page", PF, Some(code::WRITE), |k| {
        k.mov(dword_ptr(absent), eax)
    })?;
    cr2_is(k, absent, "write of an absent page")?;
    k.expect_fault("read under an absent directory entry", PF, Some(0), |k| {
        k.mov(eax, dword_ptr(0x8000_0000u32))
    })?;
    cr2_is(k, 0x8000_0000, "read under an absent directory entry")?;
    // A split access faults on its second page, and CR2 points there.
    k.expect_fault("a dword across into an absent page", PF, Some(0), |k| {
        k.mov(eax, dword_ptr(WINDOW + 0x1FFE))
    })?;
    cr2_is(k, WINDOW + 0x2000, "a dword across into an absent page")?;
    // A split write that faults writes neither page.
    k.mov(dword_ptr(frame(1) + 0xFFC), 0)?;
    k.expect_fault(
        "a split write into an absent page",
        PF,
        Some(code::WRITE),
        |k| k.mov(dword_ptr(WINDOW + 0x1FFE), eax),
    )?;
    k.check_eq(
        dword_ptr(frame(1) + 0xFFC),
        0,
        "a faulting split write writes nothing",
    )?;
    // Fetching from an absent page faults at the target.
    k.mov(eax, absent)?;
    k.expect_fault_at("a jump into an absent page", PF, Some(0), absent, |k| {
        k.jmp(eax)
    })?;
    cr2_is(k, absent, "a jump into an absent page")
}

fn large_pages(k: &mut Kernel) -> Result {
    // 4 MiB pages: the first 12 MiB onto themselves, and 0x80000000 onto 8 MiB.
    let large = pte::PWU | pte::PS;
    k.mov(dword_ptr(PD), large)?;
    k.mov(dword_ptr(PD + 4), 0x0040_0000 | large)?;
    k.mov(dword_ptr(PD + 8), 0x0080_0000 | large)?;
    k.mov(dword_ptr(PD + 4 * 0x200), 0x0080_0000 | large)?;
    set_cr4(k, CR4_PSE, true)?;
    k.mov(eax, PD)?;
    k.mov(cr3, eax)?;
    set_cr0(k, CR0_PG, true)?;

    k.mov(dword_ptr(0x8012_3456u32), 0x4D1B_0001)?;
    k.check_eq(
        dword_ptr(0x0092_3456u32),
        0x4D1B_0001,
        "a 4 MiB page: offset in 22 bits",
    )?;
    k.mov(eax, dword_ptr(PD + 4 * 0x200))?;
    k.and(eax, pte::A | pte::D)?;
    k.check_eq(
        eax,
        pte::A | pte::D,
        "a 4 MiB page: A and D set in its directory entry",
    )?;
    k.expect_fault("beyond the mapped 4 MiB", PF, Some(0), |k| {
        k.mov(eax, dword_ptr(0x8040_0000u32))
    })?;
    cr2_is(k, 0x8040_0000, "beyond the mapped 4 MiB")
}

fn pae(k: &mut Kernel) -> Result {
    // Three levels of 8-byte entries: PDPT, directories of 2 MiB, tables of 4 KiB.
    let pdpt = FREE + 0x3000;
    let (pd0, pd1, pt_low, pt_window) =
        (FREE + 0x4000, FREE + 0x5000, FREE + 0x6000, FREE + 0x7000);
    // 0-2 MiB through a table, 2-8 MiB as 2 MiB pages.
    k.mov(edi, pt_low)?;
    k.mov(eax, pte::PWU)?;
    k.mov(ecx, 512)?;
    let fill = k.here()?;
    k.mov(dword_ptr(edi), eax)?;
    k.add(eax, 0x1000)?;
    k.add(edi, 8)?;
    k.loop_(fill)?;
    k.mov(dword_ptr(pd0), pt_low | pte::PWU)?;
    for (i, base) in [0x0020_0000u32, 0x0040_0000, 0x0060_0000]
        .into_iter()
        .enumerate()
    {
        k.mov(
            dword_ptr(pd0 + 8 * (i as u32 + 1)),
            base | pte::PWU | pte::PS,
        )?;
    }
    // The window (PDPT entry 1): a 2 MiB page at 4 MiB, then a table with one page.
    k.mov(dword_ptr(pd1), 0x0040_0000 | pte::PWU | pte::PS)?;
    k.mov(dword_ptr(pd1 + 8), pt_window | pte::PWU)?;
    k.mov(dword_ptr(pt_window), 0x0070_0000 | pte::PWU)?;
    k.mov(dword_ptr(pdpt), pd0 | pte::P)?;
    k.mov(dword_ptr(pdpt + 8), pd1 | pte::P)?;
    set_cr4(k, CR4_PAE, true)?;
    k.mov(eax, pdpt)?;
    k.mov(cr3, eax)?;
    set_cr0(k, CR0_PG, true)?;

    k.mov(dword_ptr(WINDOW + 0x1F_F000), 0x9AE0_0001u32)?;
    k.check_eq(
        dword_ptr(0x005F_F000u32),
        0x9AE0_0001u32,
        "PAE: a 2 MiB page",
    )?;
    k.mov(dword_ptr(WINDOW + 0x20_0010), 0x9AE0_0002u32)?;
    k.check_eq(
        dword_ptr(0x0070_0010u32),
        0x9AE0_0002u32,
        "PAE: a 4 KiB page",
    )?;
    k.check_eq(
        dword_ptr(pt_window),
        0x0070_0000 | pte::PWU | pte::A | pte::D,
        "PAE: A and D",
    )?;
    k.expect_fault("PAE: an absent page", PF, Some(code::WRITE), |k| {
        k.mov(dword_ptr(WINDOW + 0x20_1000), eax)
    })?;
    cr2_is(k, WINDOW + 0x20_1000, "PAE: an absent page")?;
    k.expect_fault("PAE: an absent directory pointer", PF, Some(0), |k| {
        k.mov(eax, dword_ptr(0x8000_0000u32))
    })?;

    // The directory pointers are loaded with CR3: clearing one in memory changes nothing
    // (even past INVLPG) until CR3 is written again.
    k.mov(dword_ptr(pdpt + 8), 0)?;
    k.invlpg(byte_ptr(WINDOW))?;
    k.mov(eax, dword_ptr(WINDOW + 0x1F_F000))?;
    k.check_eq(
        eax,
        0x9AE0_0001u32,
        "PAE: a pointer cleared in memory is still in use",
    )?;
    reload_cr3(k)?;
    k.expect_fault(
        "PAE: the cleared pointer after a CR3 load",
        PF,
        Some(0),
        |k| k.mov(eax, dword_ptr(WINDOW)),
    )?;
    Ok(())
}

/// User/supervisor and read/write at both levels, with and without CR0.WP, at CPL 0 and 3.
fn protection(k: &mut Kernel) -> Result {
    identity_paging(k)?;
    map(k, 0, frame(0) | pte::P | pte::W)?; // supervisor, writable
    map(k, 1, frame(1) | pte::P | pte::U)?; // user, read-only
    map(k, 2, frame(2) | pte::P)?; // supervisor, read-only
    // 0x40400000: a directory entry that is user but read-only over a writable table.
    let pt2 = FREE + 0x3000;
    k.mov(dword_ptr(PD + 4 * 0x101), pt2 | pte::P | pte::U)?;
    k.mov(dword_ptr(pt2), frame(3) | pte::PWU)?;
    let (supervisor, read_only, kernel_ro, dir_ro) =
        (WINDOW, WINDOW + 0x1000, WINDOW + 0x2000, WINDOW + 0x40_0000);

    // CPL 0 with WP clear writes anything present.
    for (address, what) in [
        (supervisor, "supervisor page"),
        (read_only, "user read-only page"),
        (kernel_ro, "supervisor read-only page"),
        (dir_ro, "page under a read-only directory entry"),
    ] {
        k.expect_no_fault(&format!("CPL 0 writes a {what} with WP clear"), |k| {
            k.mov(dword_ptr(address), eax)
        })?;
    }
    // With WP set, read-only means read-only for CPL 0 too.
    set_cr0(k, CR0_WP, true)?;
    for (address, what) in [
        (read_only, "user read-only page"),
        (kernel_ro, "supervisor read-only page"),
        (dir_ro, "page under a read-only directory entry"),
    ] {
        k.expect_fault(
            &format!("CPL 0 writes a {what} with WP set"),
            PF,
            Some(code::PRESENT | code::WRITE),
            |k| k.mov(dword_ptr(address), eax),
        )?;
        cr2_is(k, address, &format!("CPL 0 writes a {what} with WP set"))?;
    }
    k.mov(eax, dword_ptr(kernel_ro))?;
    set_cr0(k, CR0_WP, false)?;

    // CPL 3: supervisor pages are out of reach, read-only ones cannot be written.
    let user_read = code::PRESENT | code::USER;
    let user_write = code::PRESENT | code::WRITE | code::USER;
    let user_page = super::kernel::VARS;
    k.mov(ebx, supervisor)?;
    k.to_ring3(0x2)?;
    k.expect_fault("CPL 3 reads a supervisor page", PF, Some(user_read), |k| {
        k.mov(eax, dword_ptr(supervisor))
    })?;
    k.expect_fault(
        "CPL 3 writes a supervisor page",
        PF,
        Some(user_write),
        |k| k.mov(dword_ptr(supervisor), eax),
    )?;
    k.expect_fault(
        "CPL 3 reads a supervisor read-only page",
        PF,
        Some(user_read),
        |k| k.mov(eax, dword_ptr(kernel_ro)),
    )?;
    k.expect_no_fault("CPL 3 reads a user read-only page", |k| {
        k.mov(eax, dword_ptr(read_only))
    })?;
    k.expect_fault(
        "CPL 3 writes a user read-only page",
        PF,
        Some(user_write),
        |k| k.mov(dword_ptr(read_only), eax),
    )?;
    k.expect_fault(
        "CPL 3 writes under a read-only directory entry",
        PF,
        Some(user_write),
        |k| k.mov(dword_ptr(dir_ro), eax),
    )?;
    k.expect_fault("CPL 3 reads an absent page", PF, Some(code::USER), |k| {
        k.mov(eax, dword_ptr(WINDOW + 0x5000))
    })?;
    k.expect_fault(
        "CPL 3 writes an absent page",
        PF,
        Some(code::USER | code::WRITE),
        |k| k.mov(dword_ptr(WINDOW + 0x5000), eax),
    )?;
    k.expect_fault_at(
        "CPL 3 jumps into a supervisor page",
        PF,
        Some(user_read),
        supervisor,
        |k| k.jmp(ebx),
    )?;
    k.expect_no_fault("CPL 3 writes a user page", |k| {
        k.mov(dword_ptr(user_page), eax)
    })?;
    k.to_ring0()
}

/// Reads the PT1 entry of window page `page` and checks its A and D bits.
fn bits_are(k: &mut Kernel, page: u32, bits: u32, what: &str) -> Result {
    k.mov(eax, dword_ptr(window_pte(page)))?;
    k.and(eax, pte::A | pte::D)?;
    k.check_eq(eax, bits, what)
}

fn accessed_dirty(k: &mut Kernel) -> Result {
    identity_paging(k)?;
    map(k, 0, frame(0) | pte::PWU)?;
    map(k, 1, frame(1) | pte::PWU)?;
    k.and(dword_ptr(PD + 4 * (WINDOW >> 22)), !pte::A)?;

    bits_are(k, 0, 0, "a fresh entry: A and D clear")?;
    k.mov(eax, dword_ptr(WINDOW))?;
    bits_are(k, 0, pte::A, "a read sets A only")?;
    k.test(dword_ptr(PD + 4 * (WINDOW >> 22)), pte::A)?;
    k.check(Cc::Ne, "a read sets A in the directory entry")?;
    // The entry is in the TLB without D: the first write must still set D.
    k.mov(dword_ptr(WINDOW), eax)?;
    bits_are(
        k,
        0,
        pte::A | pte::D,
        "a write through a clean TLB entry sets D",
    )?;
    // A write to a page never read sets both at once.
    k.mov(dword_ptr(WINDOW + 0x1000), eax)?;
    bits_are(k, 1, pte::A | pte::D, "a first write sets A and D")?;
    // A refused write does not make the page dirty.
    map(k, 2, frame(2) | pte::P | pte::U)?;
    k.to_ring3(0x2)?;
    k.expect_fault("CPL 3 writes a read-only page", PF, Some(7), |k| {
        k.mov(dword_ptr(WINDOW + 0x2000), eax)
    })?;
    k.to_ring0()?;
    k.test(dword_ptr(window_pte(2)), pte::D)?;
    k.check(Cc::E, "a refused write does not set D")
}

/// Reads the window at `offset` and checks the marker found there.
fn reads(k: &mut Kernel, offset: u32, marker: u32, what: &str) -> Result {
    k.mov(eax, dword_ptr(WINDOW + offset))?;
    k.check_eq(eax, marker, what)
}

fn tlb(k: &mut Kernel) -> Result {
    // Markers in two 4 MiB regions beyond the identity map, for the large page below.
    k.mov(dword_ptr(0x0080_1000), 0x8A11_0001u32)?;
    k.mov(dword_ptr(0x00C0_1000), 0xC011_0001u32)?;
    identity_paging(k)?;
    // Each frame starts with its own marker.
    for page in 0..4 {
        k.mov(dword_ptr(frame(page)), 0xF0A0_0000 | page)?;
    }
    let marker = |page: u32| 0xF0A0_0000 | page;

    // A stale translation survives a PTE change until INVLPG, or a CR3 load.
    map(k, 0, frame(0) | pte::PWU)?;
    reads(k, 0, marker(0), "window page 0 maps frame 0")?;
    map(k, 0, frame(1) | pte::PWU)?;
    reads(k, 0, marker(0), "the old translation stays in the TLB")?;
    k.invlpg(byte_ptr(WINDOW + 0x123))?;
    reads(k, 0, marker(1), "INVLPG drops it")?;
    map(k, 0, frame(2) | pte::PWU)?;
    reads(k, 0, marker(1), "the new translation is cached in turn")?;
    reload_cr3(k)?;
    reads(k, 0, marker(2), "a CR3 load drops it")?;

    // An absent entry is never cached: making it present needs no invalidation.
    k.expect_fault("window page 1 absent", PF, Some(0), |k| {
        k.mov(eax, dword_ptr(WINDOW + 0x1000))
    })?;
    map(k, 1, frame(3) | pte::PWU)?;
    reads(k, 0x1000, marker(3), "a page made present is seen at once")?;

    // Global pages survive CR3 loads, not INVLPG, nor turning CR4.PGE off.
    set_cr4(k, CR4_PGE, true)?;
    map(k, 2, frame(0) | pte::PWU | pte::G)?;
    reads(k, 0x2000, marker(0), "a global page")?;
    map(k, 2, frame(1) | pte::PWU | pte::G)?;
    reload_cr3(k)?;
    reads(
        k,
        0x2000,
        marker(0),
        "a global translation survives a CR3 load",
    )?;
    k.invlpg(byte_ptr(WINDOW + 0x2000))?;
    reads(k, 0x2000, marker(1), "INVLPG drops a global translation")?;
    map(k, 2, frame(2) | pte::PWU | pte::G)?;
    reload_cr3(k)?;
    reads(
        k,
        0x2000,
        marker(1),
        "the global translation is cached again",
    )?;
    set_cr4(k, CR4_PGE, false)?;
    reads(
        k,
        0x2000,
        marker(2),
        "clearing CR4.PGE drops global translations",
    )?;
    // Without CR4.PGE the G bit means nothing.
    map(k, 2, frame(3) | pte::PWU | pte::G)?;
    reload_cr3(k)?;
    reads(
        k,
        0x2000,
        marker(3),
        "without CR4.PGE a CR3 load drops G entries",
    )?;

    // INVLPG of any address in a 4 MiB page drops the whole page's translations.
    set_cr4(k, CR4_PSE, true)?;
    let large = 0x4040_0000u32;
    k.mov(
        dword_ptr(PD + 4 * (large >> 22)),
        0x0080_0000 | pte::PWU | pte::PS,
    )?;
    k.mov(eax, dword_ptr(large))?;
    k.mov(eax, dword_ptr(large + 0x1000))?;
    k.check_eq(eax, 0x8A11_0001u32, "a 4 MiB page at 8 MiB")?;
    k.mov(
        dword_ptr(PD + 4 * (large >> 22)),
        0x00C0_0000 | pte::PWU | pte::PS,
    )?;
    k.invlpg(byte_ptr(large))?;
    k.mov(eax, dword_ptr(large + 0x1000))?;
    k.check_eq(
        eax,
        0xC011_0001u32,
        "INVLPG drops every translation of a 4 MiB page",
    )
}

/// A #PF handler that maps the faulting window page to its frame and returns: the faulted
/// instruction runs again and completes.
fn restart(k: &mut Kernel) -> Result {
    let faults = var::SCRATCH;
    let last_code = var::SCRATCH + 4;
    let handler = k.routine(|k| {
        k.push(eax)?;
        k.push(ebx)?;
        k.inc(dword_ptr(faults).fs())?;
        k.mov(eax, dword_ptr(esp + 8))?;
        k.mov(dword_ptr(last_code).fs(), eax)?;
        k.mov(eax, cr2)?;
        k.sub(eax, WINDOW)?;
        k.shr(eax, 12)?;
        k.mov(ebx, eax)?;
        k.shl(ebx, 12)?;
        k.add(ebx, FRAMES | pte::PWU)?;
        k.mov(dword_ptr(eax * 4 + PT1).fs(), ebx)?;
        k.pop(ebx)?;
        k.pop(eax)?;
        k.add(esp, 4)?;
        k.iretd()?;
        Ok(())
    })?;
    k.gate(
        PF,
        Gate::Interrupt {
            handler,
            dpl3: false,
        },
    );
    identity_paging(k)?;
    k.mov(dword_ptr(frame(0) + 0x40), 0x4E57_A47D)?;

    // A load.
    k.mov(eax, dword_ptr(WINDOW + 0x40))?;
    k.check_eq(eax, 0x4E57_A47D, "a faulted load completes")?;
    k.check_eq(dword_ptr(faults).fs(), 1, "a faulted load: one fault")?;

    // A string copy that runs into an absent page half way: it resumes where it stopped.
    let source = k.data_words((0..8).map(|i| 0xC0DE_0000 + i).collect());
    k.mov(esi, source)?;
    k.mov(edi, WINDOW + 0x1FF8)?;
    k.mov(ecx, 8)?;
    k.cld()?;
    k.rep().movsd()?;
    k.check_eq(ecx, 0, "REP MOVSD: ECX")?;
    k.check_eq(edi, WINDOW + 0x2018, "REP MOVSD: EDI")?;
    k.check_eq(
        dword_ptr(frame(2) + 0x14),
        0xC0DE_0007u32,
        "REP MOVSD: the last dword",
    )?;
    k.check_eq(
        dword_ptr(faults).fs(),
        3,
        "REP MOVSD: one fault per absent page",
    )?;
    k.check_eq(dword_ptr(last_code).fs(), 2, "REP MOVSD: a write fault")?;

    // An instruction whose last byte lies on an absent page: MOV EAX, 0x12345678 from
    // window page 3 into page 4, then RET.
    let start = WINDOW + 0x3FFD;
    k.mov(dword_ptr(frame(3) + 0xFFC), 0x5678_B800)?;
    k.mov(dword_ptr(frame(4)), 0x00C3_1234)?;
    k.mov(dword_ptr(WINDOW + 0x3000), eax)?; // map page 3 (one fault)
    k.mov(eax, start)?;
    k.call(eax)?;
    k.check_eq(
        eax,
        0x1234_5678,
        "an instruction split over an absent page completes",
    )?;
    k.check_eq(
        dword_ptr(faults).fs(),
        5,
        "the split instruction: one fault for page 4",
    )?;
    k.check_eq(
        dword_ptr(last_code).fs(),
        0,
        "the split instruction: a read (fetch) fault",
    )?;

    // A push at CPL 3 onto an absent stack page.
    k.to_ring3(0x2)?;
    k.mov(esp, WINDOW + 0x6000)?;
    k.push(0x5AC4)?;
    k.mov(ebx, esp)?;
    k.pop(ecx)?;
    k.to_ring0()?;
    k.check_eq(
        ebx,
        WINDOW + 0x5FFC,
        "a faulted push at CPL 3: ESP moves once",
    )?;
    k.check_eq(ecx, 0x5AC4, "a faulted push at CPL 3 completes")?;
    k.check_eq(
        dword_ptr(last_code).fs(),
        6,
        "a push at CPL 3: a user write fault",
    )?;
    k.check_eq(dword_ptr(faults).fs(), 6, "a push at CPL 3: one fault")
}
