//! Exceptions raised by instructions, with the vector numbers and error codes of the manuals.

/// An exception an instruction raised. Execution stops at the faulting instruction, which is
/// restarted after the handler (faults) or continued after it (traps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub vector: u8,
    pub error_code: Option<u32>,
}

pub mod vector {
    pub const DE: u8 = 0;
    pub const DB: u8 = 1;
    pub const NMI: u8 = 2;
    pub const BP: u8 = 3;
    pub const OF: u8 = 4;
    pub const BR: u8 = 5;
    pub const UD: u8 = 6;
    pub const NM: u8 = 7;
    pub const DF: u8 = 8;
    pub const TS: u8 = 10;
    pub const NP: u8 = 11;
    pub const SS: u8 = 12;
    pub const GP: u8 = 13;
    pub const PF: u8 = 14;
    pub const MF: u8 = 16;
    pub const AC: u8 = 17;
    pub const MC: u8 = 18;
    pub const XF: u8 = 19;
}

/// Page-fault error code bits.
pub mod pf {
    pub const PRESENT: u32 = 1 << 0;
    pub const WRITE: u32 = 1 << 1;
    pub const USER: u32 = 1 << 2;
    pub const RESERVED: u32 = 1 << 3;
}

impl Fault {
    const fn new(vector: u8) -> Fault {
        Fault {
            vector,
            error_code: None,
        }
    }

    const fn with_code(vector: u8, code: u32) -> Fault {
        Fault {
            vector,
            error_code: Some(code),
        }
    }

    pub const fn de() -> Fault {
        Fault::new(vector::DE)
    }
    pub const fn db() -> Fault {
        Fault::new(vector::DB)
    }
    pub const fn bp() -> Fault {
        Fault::new(vector::BP)
    }
    pub const fn of() -> Fault {
        Fault::new(vector::OF)
    }
    pub const fn br() -> Fault {
        Fault::new(vector::BR)
    }
    pub const fn ud() -> Fault {
        Fault::new(vector::UD)
    }
    pub const fn nm() -> Fault {
        Fault::new(vector::NM)
    }
    pub const fn mf() -> Fault {
        Fault::new(vector::MF)
    }
    pub const fn xf() -> Fault {
        Fault::new(vector::XF)
    }
    pub const fn ac() -> Fault {
        Fault::with_code(vector::AC, 0)
    }
    /// #GP with a selector-style error code (0 for most causes).
    pub const fn gp(code: u32) -> Fault {
        Fault::with_code(vector::GP, code)
    }
    pub const fn ss(code: u32) -> Fault {
        Fault::with_code(vector::SS, code)
    }
    pub const fn np(code: u32) -> Fault {
        Fault::with_code(vector::NP, code)
    }
    pub const fn ts(code: u32) -> Fault {
        Fault::with_code(vector::TS, code)
    }
    /// #PF; the faulting linear address goes to CR2 when the fault is delivered.
    pub const fn pf(code: u32) -> Fault {
        Fault::with_code(vector::PF, code)
    }

    /// Whether the exception is a contributory one for the double-fault rules.
    pub fn contributory(&self) -> bool {
        matches!(
            self.vector,
            vector::DE | vector::TS | vector::NP | vector::SS | vector::GP
        )
    }
}

/// Result of anything that can raise an exception.
pub type Result<T> = std::result::Result<T, Fault>;
