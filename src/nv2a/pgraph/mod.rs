//! PGRAPH, the NV2A's graphics engine, for everything outside the 3D pipeline: object binding
//! and method dispatch, the 2D objects, the 3D object's surfaces, clears, semaphores, flip
//! counters and notifiers, and the register block (BAR0 0x400000, 8 KiB).
//!
//! The engine keeps all its state itself and draws in software straight into guest RAM
//! ([`soft`]): the state side (this module and the per-object modules) decodes methods into
//! plain requests, the drawing side carries them out. A hardware renderer can take the same
//! requests later.
//!
//! Objects. The puller binds an object with method 0 after its RAMHT lookup: [`Pgraph::bind`]
//! reads the class from the low 8 bits of the object's first PRAMIN word (pbkit writes
//! `class & 0xFF` there; xemu's CTX_SWITCH1 GRCLASS is bits 0-7) and remembers it per
//! channel and subchannel. Methods 0x180-0x1FC name objects; the puller has already turned
//! their handles into PRAMIN instances, and DMA objects are decoded when they are set.
//! Classes modelled: BETA1 0x12, CLIP 0x19, M2MF 0x39, ROP 0x43, PATTERN 0x44, GDI 0x4A,
//! SURFACES_2D 0x62 (and its NV04 form 0x42, whose methods are the same), SOLID_LINE 0x5C,
//! BETA4 0x72, KELVIN 0x97, IMAGE_BLIT 0x9F. An unknown method of one of
//! these is recorded ([`Pgraph::last_ignored`]) and accepted. An object of another class
//! takes its methods below 0x100 and the common NOP (0x100), NOTIFY (0x104) and DMA_NOTIFY
//! (0x180) without effect; anything else is an illegal method.
//!
//! Notifiers (envytools docs/hw/graph/intro.rst): NOTIFY (0x104) arms a write that happens
//! after the next method other than NOTIFY and DMA_NOTIFY completes: 16 bytes at offset 0 of
//! the object's notify window, the 64-bit timestamp (the time last given to
//! [`Pgraph::set_time`], in ns), then two words of 0 (info and status: done). A parameter of 1
//! also raises the NOTIFY interrupt; above 1 is an invalid value, and a second NOTIFY while one
//! is armed is DOUBLE_NOTIFY.
//!
//! Errors. A method that fails raises ERROR in INTR with its cause in NSOURCE (and NSTATUS),
//! the method in TRAPPED_ADDR/TRAPPED_DATA, and returns the matching [`EngineError`]. While
//! ERROR is pending the engine reports busy, so the FIFO waits for the guest to acknowledge it,
//! as on hardware. KELVIN's NO_OPERATION with a non-zero parameter is the kernel's software
//! method: it raises ERROR with NSOURCE NOTIFICATION and waits the same way (xemu documents
//! the BIOS relying on this).

pub mod blit;
pub mod context;
pub mod gdi;
pub mod kelvin;
pub mod line;
pub mod m2mf;
pub mod regs;
pub mod soft;
pub mod surf2d;
pub mod surface;

#[cfg(test)]
mod tests;

use crate::machine::state::{Snapshot, State};
use crate::nv2a::dma::DmaObject;
use crate::nv2a::{Engine, EngineError, Memory, Method, read_u32};

pub use kelvin::{ColorSurface, SurfaceClip, SurfaceShape, ZetaSurface};
pub use surface::{AntiAliasing, ColorFormat, ZetaFormat};

use context::Context;
use gdi::Gdi;
use kelvin::Kelvin;
use line::SolidLine;
use m2mf::M2mf;
use regs::*;
use soft::{BlitJob, Op2d, Operation, Plane, Rect, SoftError};
use surf2d::{Format2d, Surfaces2d};

pub const CLASS_BETA1: u32 = 0x12;
pub const CLASS_CLIP: u32 = 0x19;
pub const CLASS_NULL: u32 = 0x30;
pub const CLASS_M2MF: u32 = 0x39;
pub const CLASS_ROP: u32 = 0x43;
pub const CLASS_PATTERN: u32 = 0x44;
pub const CLASS_GDI: u32 = 0x4A;
pub const CLASS_SOLID_LINE: u32 = 0x5C;
/// NV04_CONTEXT_SURFACES_2D: the same methods as 0x62, taken as the same class.
pub const CLASS_SURFACES_2D_NV04: u32 = 0x42;
pub const CLASS_SURFACES_2D: u32 = 0x62;
pub const CLASS_BETA4: u32 = 0x72;
pub const CLASS_KELVIN: u32 = 0x97;
pub const CLASS_IMAGE_BLIT: u32 = 0x9F;

/// The common methods every object has.
pub const NOP: u32 = 0x100;
pub const NOTIFY: u32 = 0x104;
pub const DMA_NOTIFY: u32 = 0x180;

const CHANNELS: usize = 32;
const SUBCHANNELS: usize = 8;

/// The classes modelled here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Beta1,
    Clip,
    M2mf,
    Rop,
    Pattern,
    Gdi,
    SolidLine,
    Surfaces2d,
    Beta4,
    Kelvin,
    ImageBlit,
}

impl Class {
    pub const ALL: [Class; 11] = [
        Class::Beta1,
        Class::Clip,
        Class::M2mf,
        Class::Rop,
        Class::Pattern,
        Class::Gdi,
        Class::SolidLine,
        Class::Surfaces2d,
        Class::Beta4,
        Class::Kelvin,
        Class::ImageBlit,
    ];

    pub fn id(self) -> u32 {
        match self {
            Class::Beta1 => CLASS_BETA1,
            Class::Clip => CLASS_CLIP,
            Class::M2mf => CLASS_M2MF,
            Class::Rop => CLASS_ROP,
            Class::Pattern => CLASS_PATTERN,
            Class::Gdi => CLASS_GDI,
            Class::SolidLine => CLASS_SOLID_LINE,
            Class::Surfaces2d => CLASS_SURFACES_2D,
            Class::Beta4 => CLASS_BETA4,
            Class::Kelvin => CLASS_KELVIN,
            Class::ImageBlit => CLASS_IMAGE_BLIT,
        }
    }

    pub fn from_id(id: u32) -> Option<Class> {
        if id == CLASS_SURFACES_2D_NV04 {
            return Some(Class::Surfaces2d);
        }
        Class::ALL.iter().copied().find(|c| c.id() == id)
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// Why a method failed, and how PGRAPH reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No object is bound to the subchannel.
    NoObject,
    /// The object's class has no such method (NSOURCE ILLEGAL_MTHD).
    IllegalMethod,
    /// A parameter out of range, or a request too large to carry out (DATA_ERROR).
    DataError,
    /// A read beyond its DMA object's limit (DMA_R_PROTECTION).
    DmaRead,
    /// A write beyond its DMA object's limit (DMA_W_PROTECTION).
    DmaWrite,
    /// A clear beyond the colour surface's window (LIMIT_COLOR).
    LimitColor,
    /// A clear beyond the zeta surface's window (LIMIT_ZETA).
    LimitZeta,
    /// An undefined 2D surface format (FORMAT_EXCEPTION).
    Format,
    /// NOTIFY without a notify window (STATE_INVALID).
    NoNotifier,
    /// NOTIFY while a notification is armed (DOUBLE_NOTIFY).
    DoubleNotify,
}

impl Fault {
    pub fn nsource(self) -> u32 {
        match self {
            Fault::NoObject | Fault::IllegalMethod => NSOURCE_ILLEGAL_MTHD,
            Fault::DataError => NSOURCE_DATA_ERROR,
            Fault::DmaRead => NSOURCE_DMA_R_PROTECTION,
            Fault::DmaWrite => NSOURCE_DMA_W_PROTECTION,
            Fault::LimitColor => NSOURCE_LIMIT_COLOR,
            Fault::LimitZeta => NSOURCE_LIMIT_ZETA,
            Fault::Format => NSOURCE_FORMAT_EXCEPTION,
            Fault::NoNotifier => NSOURCE_STATE_INVALID,
            Fault::DoubleNotify => NSOURCE_DOUBLE_NOTIFY,
        }
    }

    pub fn nstatus(self) -> u32 {
        match self {
            Fault::DataError | Fault::Format => NSTATUS_BAD_ARGUMENT,
            Fault::DmaRead | Fault::DmaWrite | Fault::LimitColor | Fault::LimitZeta => {
                NSTATUS_PROTECTION_FAULT
            }
            Fault::NoNotifier | Fault::DoubleNotify => NSTATUS_INVALID_STATE,
            Fault::NoObject | Fault::IllegalMethod => 0,
        }
    }

    pub fn engine_error(self) -> EngineError {
        match self {
            Fault::NoObject => EngineError::NoObject,
            Fault::IllegalMethod => EngineError::InvalidMethod,
            _ => EngineError::InvalidData,
        }
    }
}

/// An object bound to a subchannel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Binding {
    instance: u32,
    class: u32,
    bound: bool,
}

/// A method accepted without effect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IgnoredMethod {
    pub class: u32,
    pub method: u32,
    pub param: u32,
}

/// A notify window as set (the instance) and decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Notifier {
    instance: u32,
    dma: DmaObject,
}

/// Saves or loads a decoded DMA object.
pub(crate) fn dma_state(s: &mut State, dma: &mut DmaObject) {
    s.u32(&mut dma.class);
    s.u32(&mut dma.target);
    s.u32(&mut dma.base);
    s.u32(&mut dma.limit);
}

/// The graphics engine.
pub struct Pgraph {
    regs: Box<[u32]>,
    bindings: Box<[Binding]>,
    now_ns: u64,
    /// Each modelled class's notify window.
    notifiers: [Notifier; Class::ALL.len()],
    /// An armed NOTIFY: its type and the window it writes to.
    notify_armed: bool,
    notify_type: u32,
    notify_dma: DmaObject,
    context: Context,
    m2mf: M2mf,
    surf2d: Surfaces2d,
    blit: blit::ImageBlit,
    gdi: Gdi,
    line: SolidLine,
    kelvin: Kelvin,
    flip_stall: bool,
    ignored: IgnoredMethod,
    ignored_count: u64,
}

impl Default for Pgraph {
    fn default() -> Pgraph {
        Pgraph::new()
    }
}

impl Pgraph {
    pub fn new() -> Pgraph {
        let mut regs = vec![0; WORDS].into_boxed_slice();
        regs[(FIFO / 4) as usize] = FIFO_ACCESS;
        Pgraph {
            regs,
            bindings: vec![Binding::default(); CHANNELS * SUBCHANNELS].into_boxed_slice(),
            now_ns: 0,
            notifiers: [Notifier::default(); Class::ALL.len()],
            notify_armed: false,
            notify_type: 0,
            notify_dma: DmaObject::default(),
            context: Context::default(),
            m2mf: M2mf::default(),
            surf2d: Surfaces2d::default(),
            blit: blit::ImageBlit::default(),
            gdi: Gdi::default(),
            line: SolidLine::default(),
            kelvin: Kelvin::default(),
            flip_stall: false,
            ignored: IgnoredMethod::default(),
            ignored_count: 0,
        }
    }

    /// The time notifications are stamped with, in nanoseconds (the board keeps it current).
    pub fn set_time(&mut self, ns: u64) {
        self.now_ns = ns;
    }

    pub fn time(&self) -> u64 {
        self.now_ns
    }

    /// The colour surface the 3D engine draws into.
    pub fn color_surface(&self) -> ColorSurface {
        self.kelvin.color_surface()
    }

    /// The zeta surface.
    pub fn zeta_surface(&self) -> ZetaSurface {
        self.kelvin.zeta_surface()
    }

    /// The last parameter KELVIN received for a method (the 3D state).
    pub fn kelvin_param(&self, method: u32) -> u32 {
        self.kelvin.param(method)
    }

    /// The object bound to a subchannel: (instance, class).
    pub fn binding(&self, channel: u32, subchannel: u32) -> Option<(u32, u32)> {
        let b = self.bindings[slot(channel, subchannel)];
        b.bound.then_some((b.instance, b.class))
    }

    /// The last method accepted without effect, and how many there have been.
    pub fn last_ignored(&self) -> Option<(IgnoredMethod, u64)> {
        (self.ignored_count != 0).then_some((self.ignored, self.ignored_count))
    }

    fn ignore(&mut self, class: u32, method: u32, param: u32) {
        self.ignored = IgnoredMethod {
            class,
            method,
            param,
        };
        self.ignored_count += 1;
    }

    /// Raises ERROR for a method: its cause, and where it happened.
    fn trap(&mut self, nsource: u32, nstatus: u32, ch: usize, sub: usize, method: u32, param: u32) {
        self.set_reg(NSOURCE, self.reg(NSOURCE) | nsource);
        self.set_reg(NSTATUS, self.reg(NSTATUS) | nstatus);
        self.set_reg(
            TRAPPED_ADDR,
            method & 0x1FFF | (sub as u32) << 16 | (ch as u32) << 20,
        );
        self.set_reg(TRAPPED_DATA_LOW, param);
        self.set_reg(INTR, self.reg(INTR) | INTR_ERROR);
        // The engine stops taking methods from the FIFO until the handler lets it again.
        self.set_reg(FIFO, self.reg(FIFO) & !FIFO_ACCESS);
    }

    /// Mirrors the current channel, subchannel and object into the context registers.
    fn note_context(&mut self, ch: usize, sub: usize) {
        let user =
            self.reg(CTX_USER) & !(0x1F << 24 | 7 << 13) | (ch as u32) << 24 | (sub as u32) << 13;
        self.set_reg(CTX_USER, user);
        self.set_reg(CTX_CONTROL, self.reg(CTX_CONTROL) | CTX_CONTROL_CHID_VALID);
        for k in 0..5 {
            let cached = self.reg(CTX_CACHE1 + k * 0x20 + sub as u32 * 4);
            self.set_reg(CTX_SWITCH1 + k * 4, cached);
        }
    }

    /// The class of the object at a PRAMIN instance.
    fn class_at(pramin: &[u8], instance: u32) -> u32 {
        read_u32(pramin, instance as usize) & 0xFF
    }

    fn dispatch(
        &mut self,
        mem: &mut Memory,
        ch: usize,
        sub: usize,
        binding: Binding,
        method: u32,
        param: u32,
    ) -> Result<(), Fault> {
        let Some(class) = Class::from_id(binding.class) else {
            return if method <= NOTIFY || method == DMA_NOTIFY {
                self.ignore(binding.class, method, param);
                Ok(())
            } else {
                Err(Fault::IllegalMethod)
            };
        };
        if class == Class::Kelvin {
            // Kelvin's methods end at 0x1EA4 (envytools hwtest); beyond is illegal.
            if method > KELVIN_LAST_METHOD {
                return Err(Fault::IllegalMethod);
            }
            self.kelvin.record(method, param);
        }
        match method {
            NOTIFY => return self.arm_notify(class, param),
            DMA_NOTIFY => {
                self.notifiers[class.slot()] = Notifier {
                    instance: param,
                    dma: DmaObject::load(mem.pramin, param),
                };
                return Ok(());
            }
            _ => {}
        }
        let handled = match class {
            Class::Beta1 => match method {
                0x300 => {
                    self.context.beta = context::beta_from_param(param);
                    true
                }
                _ => false,
            },
            Class::Beta4 => match method {
                0x300 => {
                    self.context.beta4 = param;
                    true
                }
                _ => false,
            },
            Class::Clip => match method {
                0x300 => {
                    self.context.clip[0] = param & 0xFFFF;
                    self.context.clip[1] = param >> 16;
                    true
                }
                0x304 => {
                    self.context.clip[2] = param & 0xFFFF;
                    self.context.clip[3] = param >> 16;
                    true
                }
                _ => false,
            },
            Class::Rop => match method {
                0x300 if param & !0xFF != 0 => return Err(Fault::DataError),
                0x300 => {
                    self.context.rop = param;
                    true
                }
                _ => false,
            },
            Class::Pattern => self.context.pattern.method(method, param),
            Class::Surfaces2d => {
                let pramin = &*mem.pramin;
                self.surf2d
                    .method(method, param, |i| DmaObject::load(pramin, i))
            }
            Class::M2mf => {
                if method == m2mf::BUF_NOTIFY {
                    self.m2mf_transfer(mem, param)?;
                    true
                } else {
                    let pramin = &*mem.pramin;
                    self.m2mf
                        .method(method, param, |i| DmaObject::load(pramin, i))
                }
            }
            Class::ImageBlit => match method {
                blit::OPERATION if Operation::from_raw(param).is_none() => {
                    return Err(Fault::DataError);
                }
                blit::SIZE => {
                    self.blit.size = param;
                    self.image_blit(mem)?;
                    true
                }
                0x120..=0x130 => self.flip_method(method, param),
                _ => self.blit.method(method, param),
            },
            Class::Gdi => match method {
                0x2FC if Operation::from_raw(param).is_none() => return Err(Fault::DataError),
                m if gdi::is_rectangle_size(m) => {
                    self.gdi_rectangle(mem, param)?;
                    true
                }
                _ => self.gdi.method(method, param),
            },
            Class::SolidLine => match method {
                0x2FC if Operation::from_raw(param).is_none() => return Err(Fault::DataError),
                _ => {
                    let (handled, lin) = self.line.method(method, param);
                    if let Some(lin) = lin {
                        self.solid_lin(mem, lin)?;
                    }
                    handled
                }
            },
            Class::Kelvin => self.kelvin_method(mem, ch, sub, method, param)?,
        };
        if !handled && method != NOP {
            self.ignore(class.id(), method, param);
        }
        self.complete_notify(mem)
    }

    fn arm_notify(&mut self, class: Class, param: u32) -> Result<(), Fault> {
        if param > 1 {
            return Err(Fault::DataError);
        }
        if self.notify_armed {
            return Err(Fault::DoubleNotify);
        }
        let dma = self.notifiers[class.slot()].dma;
        if !soft::is_dma(&dma) {
            return Err(Fault::NoNotifier);
        }
        self.notify_armed = true;
        self.notify_type = param;
        self.notify_dma = dma;
        Ok(())
    }

    /// Writes a 16-byte notification at `offset` in a notify window.
    fn write_notification(&self, ram: &mut [u8], dma: &DmaObject, offset: u64) -> bool {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.now_ns.to_le_bytes());
        soft::write_bytes(ram, dma, offset, &bytes)
    }

    /// Performs an armed notification once its method has completed.
    fn complete_notify(&mut self, mem: &mut Memory) -> Result<(), Fault> {
        if !self.notify_armed {
            return Ok(());
        }
        self.notify_armed = false;
        let dma = self.notify_dma;
        if !self.write_notification(mem.ram, &dma, 0) {
            return Err(Fault::DmaWrite);
        }
        if self.notify_type == 1 {
            self.set_reg(INTR, self.reg(INTR) | INTR_NOTIFY);
        }
        Ok(())
    }

    fn m2mf_transfer(&mut self, mem: &mut Memory, param: u32) -> Result<(), Fault> {
        let job = self.m2mf.job().ok_or(Fault::DataError)?;
        soft::copy_lines(mem.ram, &job).map_err(|e| match e {
            SoftError::ReadOutside => Fault::DmaRead,
            SoftError::WriteOutside => Fault::DmaWrite,
            SoftError::TooLarge => Fault::DataError,
        })?;
        let notifier = self.notifiers[Class::M2mf.slot()];
        if notifier.instance != 0 && !self.write_notification(mem.ram, &notifier.dma, 0x10) {
            return Err(Fault::DmaWrite);
        }
        if param & 1 != 0 {
            self.set_reg(INTR, self.reg(INTR) | INTR_BUFFER_NOTIFY);
        }
        Ok(())
    }

    /// How source and destination combine for an operation, in a destination format.
    fn op2d(&self, operation: Operation, format: Format2d) -> Op2d {
        let mut op = Op2d::srccopy();
        op.operation = operation;
        op.beta = self.context.beta;
        op.beta4 = self.context.beta4;
        op.rop = self.context.rop as u8;
        if operation == Operation::RopAnd {
            let (shape, table) = self.context.pattern.table();
            op.pattern_shape = shape;
            op.pattern = table.map(|argb| format.pack_argb(argb));
        }
        op
    }

    fn soft_2d(e: SoftError) -> Fault {
        match e {
            SoftError::ReadOutside => Fault::DmaRead,
            SoftError::WriteOutside => Fault::DmaWrite,
            SoftError::TooLarge => Fault::DataError,
        }
    }

    fn image_blit(&mut self, mem: &mut Memory) -> Result<(), Fault> {
        let b = &self.blit;
        let format = Format2d::from_raw(self.surf2d.format).ok_or(Fault::Format)?;
        let operation = Operation::from_raw(b.operation).ok_or(Fault::DataError)?;
        let (w, h) = (b.size & 0xFFFF, b.size >> 16);
        let (ox, oy) = (b.point_out & 0xFFFF, b.point_out >> 16);
        let (ix, iy) = (b.point_in & 0xFFFF, b.point_in >> 16);
        let mut rect = Rect::new(ox, oy, w, h);
        if Self::class_at(mem.pramin, b.clip) == CLASS_CLIP {
            let [x, y, cw, ch] = self.context.clip;
            rect = rect.intersect(&Rect::new(x, y, cw, ch));
        }
        if rect.is_empty() {
            return Ok(());
        }
        let job = BlitJob {
            format,
            src: Plane {
                dma: self.surf2d.dma_source,
                offset: self.surf2d.offset_source,
                pitch: self.surf2d.source_pitch(),
            },
            dst: Plane {
                dma: self.surf2d.dma_destin,
                offset: self.surf2d.offset_destin,
                pitch: self.surf2d.destin_pitch(),
            },
            src_origin: (ix + (rect.x0 - ox), iy + (rect.y0 - oy)),
            rect,
            op: self.op2d(operation, format),
        };
        soft::blit(mem.ram, &job).map_err(Self::soft_2d)
    }

    fn gdi_rectangle(&mut self, mem: &mut Memory, size: u32) -> Result<(), Fault> {
        let format = Format2d::from_raw(self.surf2d.format).ok_or(Fault::Format)?;
        let operation = Operation::from_raw(self.gdi.operation).ok_or(Fault::DataError)?;
        let point = self.gdi.point;
        let rect = Rect::new(point >> 16, point & 0xFFFF, size >> 16, size & 0xFFFF);
        let dst = Plane {
            dma: self.surf2d.dma_destin,
            offset: self.surf2d.offset_destin,
            pitch: self.surf2d.destin_pitch(),
        };
        let op = self.op2d(operation, format);
        let color = self.gdi.pixel(format);
        soft::fill_2d(mem.ram, format, &dst, rect, color, &op).map_err(Self::soft_2d)
    }

    /// Draws a SOLID_LINE lin into the 2D destination surface, through the line's clip
    /// rectangle when it names a CLIP object.
    fn solid_lin(&mut self, mem: &mut Memory, lin: line::Lin) -> Result<(), Fault> {
        let format = Format2d::from_raw(self.surf2d.format).ok_or(Fault::Format)?;
        let operation = Operation::from_raw(self.line.operation).ok_or(Fault::DataError)?;
        let mut clip = Rect::new(0, 0, u32::MAX, u32::MAX);
        if Self::class_at(mem.pramin, self.line.clip) == CLASS_CLIP {
            let [x, y, w, h] = self.context.clip;
            clip = Rect::new(x, y, w, h);
        }
        let dst = Plane {
            dma: self.surf2d.dma_destin,
            offset: self.surf2d.offset_destin,
            pitch: self.surf2d.destin_pitch(),
        };
        let op = self.op2d(operation, format);
        let color = gdi::solid_pixel(self.line.color_format, self.line.color, format);
        soft::draw_lin(mem.ram, format, &dst, clip, lin, color, &op).map_err(Self::soft_2d)
    }

    /// A KELVIN method (its parameter is already recorded); whether it is modelled.
    fn kelvin_method(
        &mut self,
        mem: &mut Memory,
        ch: usize,
        sub: usize,
        method: u32,
        param: u32,
    ) -> Result<bool, Fault> {
        use kelvin::*;
        let load = |instance| DmaObject::load(mem.pramin, instance);
        match method {
            NO_OPERATION if param != 0 => {
                self.trap(NSOURCE_NOTIFICATION, 0, ch, sub, method, param);
            }
            SET_FLIP_READ..=FLIP_STALL => return Ok(self.flip_method(method, param)),
            SET_CONTEXT_DMA_COLOR => self.kelvin.dma_color = load(param),
            SET_CONTEXT_DMA_ZETA => self.kelvin.dma_zeta = load(param),
            SET_CONTEXT_DMA_SEMAPHORE => self.kelvin.dma_semaphore = load(param),
            SET_CONTEXT_DMA_REPORT => self.kelvin.dma_report = load(param),
            BACK_END_WRITE_SEMAPHORE_RELEASE => {
                let offset = u64::from(self.kelvin.param(SET_SEMAPHORE_OFFSET));
                let dma = self.kelvin.dma_semaphore;
                if !soft::write_bytes(mem.ram, &dma, offset, &param.to_le_bytes()) {
                    return Err(Fault::DmaWrite);
                }
            }
            CLEAR_SURFACE => self.clear(mem, param)?,
            // The surface, clear and semaphore-offset methods act through their recorded
            // parameters; everything else is 3D state, kept for the pipeline.
            _ => {}
        }
        Ok(true)
    }

    fn clear(&mut self, mem: &mut Memory, param: u32) -> Result<(), Fault> {
        let (color, zeta) = self.kelvin.clear_jobs(param);
        let run = |ram: &mut [u8], job: Option<kelvin::ClearJob>, limit: Fault| {
            job.map_or(Ok(()), |job| {
                soft::fill(ram, &job.target, job.rect, job.value, job.mask).map_err(|e| match e {
                    SoftError::TooLarge => Fault::DataError,
                    _ => limit,
                })
            })
        };
        let color = run(mem.ram, color, Fault::LimitColor);
        let zeta = run(mem.ram, zeta, Fault::LimitZeta);
        color.and(zeta)
    }
}

fn slot(channel: u32, subchannel: u32) -> usize {
    (channel as usize % CHANNELS) * SUBCHANNELS + subchannel as usize % SUBCHANNELS
}

impl Engine for Pgraph {
    fn bind(&mut self, mem: &mut Memory, channel: u32, subchannel: u32, instance: u32) {
        let words: [u32; 4] =
            std::array::from_fn(|k| read_u32(mem.pramin, (instance as usize).wrapping_add(4 * k)));
        self.bindings[slot(channel, subchannel)] = Binding {
            instance,
            class: words[0] & 0xFF,
            bound: true,
        };
        let sub = subchannel % SUBCHANNELS as u32;
        for (k, word) in words.into_iter().chain([instance]).enumerate() {
            self.set_reg(CTX_CACHE1 + k as u32 * 0x20 + sub * 4, word);
        }
    }

    fn method(&mut self, mem: &mut Memory, method: Method) -> Result<(), EngineError> {
        let ch = method.channel as usize % CHANNELS;
        let sub = method.subchannel as usize % SUBCHANNELS;
        let offset = method.method & 0x1FFC;
        if self.flip_stall && !self.flip_stalled() {
            self.flip_stall = false;
        }
        self.note_context(ch, sub);
        let binding = self.bindings[ch * SUBCHANNELS + sub];
        let result = if binding.bound {
            self.dispatch(mem, ch, sub, binding, offset, method.param)
        } else {
            Err(Fault::NoObject)
        };
        result.map_err(|fault| {
            self.trap(
                fault.nsource(),
                fault.nstatus(),
                ch,
                sub,
                offset,
                method.param,
            );
            fault.engine_error()
        })
    }

    fn busy(&self) -> bool {
        self.reg(FIFO) & FIFO_ACCESS == 0 || self.reg(INTR) & INTR_ERROR != 0 || self.flip_stalled()
    }
}

impl Snapshot for Pgraph {
    fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.regs);
        for b in self.bindings.iter_mut() {
            s.u32(&mut b.instance);
            s.u32(&mut b.class);
            s.bool(&mut b.bound);
        }
        s.u64(&mut self.now_ns);
        for n in self.notifiers.iter_mut() {
            s.u32(&mut n.instance);
            dma_state(s, &mut n.dma);
        }
        s.bool(&mut self.notify_armed);
        s.u32(&mut self.notify_type);
        dma_state(s, &mut self.notify_dma);
        self.context.state(s);
        self.m2mf.state(s);
        self.surf2d.state(s);
        self.blit.state(s);
        self.gdi.state(s);
        self.line.state(s);
        self.kelvin.state(s);
        s.bool(&mut self.flip_stall);
        s.u32(&mut self.ignored.class);
        s.u32(&mut self.ignored.method);
        s.u32(&mut self.ignored.param);
        s.u64(&mut self.ignored_count);
    }
}
