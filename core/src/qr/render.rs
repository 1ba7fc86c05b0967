//! QR symbols: the module matrix (Kotlin draws it into a Bitmap), SVG, PNG and a terminal
//! rendering.
//!
//! Encoder: `fast_qr`. Of the maintained Rust QR encoders it is the fastest measured here
//! (≈0.5 ms for a 290-byte payload at ECC M, against 0.8–3.4 ms for qrcode-generator, qrcodegen,
//! qr_code and qrcode; see notes/qr.md), its builder lets us force byte mode and the ECC level
//! (qrcodegen silently boosts the level unless told not to), it has no dependencies, and its
//! `svg` feature adds none either. PNG: the `png` crate rather than fast_qr's `image` feature,
//! which rasterises the SVG through resvg (a large dependency tree) when square modules map
//! exactly onto pixels anyway.
//!
//! Always byte mode: MPM payloads mix cases and symbols and CPM is base64, so alphanumeric mode
//! rarely applies, and one fixed mode keeps what a scanner returns byte-identical to the input.

use fast_qr::convert::Builder as _;
use fast_qr::convert::svg::SvgBuilder;
use fast_qr::{ECL, Mode, QRBuilder, QRCode};

/// Error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ecc {
    /// ~7 % recoverable.
    L,
    /// ~15 %: the default; survives a scuffed print or a cracked screen at modest density.
    #[default]
    M,
    /// ~25 %.
    Q,
    /// ~30 %.
    H,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    pub ecc: Ecc,
    /// Light border in modules; ISO/IEC 18004 asks for 4.
    pub quiet_zone: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            ecc: Ecc::M,
            quiet_zone: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{0} bytes do not fit in a QR symbol at this error correction level")]
    TooLarge(usize),
    #[error("empty payload")]
    Empty,
    #[error("PNG scale must be 1 to {max} pixels per module", max = MAX_SCALE)]
    Scale,
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Largest PNG module size accepted (a version-40 symbol at 32 px is ~5.9k pixels square).
pub const MAX_SCALE: u32 = 32;
/// Longest payload rendered: version 40 holds at most 2331 bytes at ECC M.
const MAX_BYTES: usize = 2953;

/// A QR symbol's modules including the quiet zone, row-major, `true` = dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    pub modules: Vec<bool>,
}

impl QrMatrix {
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width
            && self
                .modules
                .get(y * self.width + x)
                .copied()
                .unwrap_or(false)
    }
}

/// An encoded QR symbol.
pub struct QrSymbol {
    code: Box<QRCode>,
    options: RenderOptions,
}

impl std::fmt::Debug for QrSymbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrSymbol")
            .field("size", &self.code.size)
            .field("options", &self.options)
            .finish()
    }
}

impl QrSymbol {
    /// Encode `data` in byte mode.
    pub fn encode(data: &[u8], options: RenderOptions) -> Result<Self, RenderError> {
        if data.is_empty() {
            return Err(RenderError::Empty);
        }
        if data.len() > MAX_BYTES {
            return Err(RenderError::TooLarge(data.len()));
        }
        let ecl = match options.ecc {
            Ecc::L => ECL::L,
            Ecc::M => ECL::M,
            Ecc::Q => ECL::Q,
            Ecc::H => ECL::H,
        };
        let code = QRBuilder::new(data)
            .mode(Mode::Byte)
            .ecl(ecl)
            .build()
            .map_err(|_| RenderError::TooLarge(data.len()))?;
        Ok(Self {
            code: Box::new(code),
            options,
        })
    }

    /// Modules per side without the quiet zone (21 for version 1 … 177 for version 40).
    pub fn size(&self) -> usize {
        self.code.size
    }

    /// Modules per side with the quiet zone.
    pub fn width(&self) -> usize {
        self.code.size + 2 * self.options.quiet_zone
    }

    fn dark(&self, x: usize, y: usize) -> bool {
        let q = self.options.quiet_zone;
        let n = self.code.size;
        match (x.checked_sub(q), y.checked_sub(q)) {
            (Some(x), Some(y)) if x < n && y < n => {
                self.code.data.get(y * n + x).is_some_and(|m| m.value())
            }
            _ => false,
        }
    }

    pub fn matrix(&self) -> QrMatrix {
        let w = self.width();
        let modules = (0..w * w).map(|i| self.dark(i % w, i / w)).collect();
        QrMatrix { width: w, modules }
    }

    /// SVG with one unit per module (scale it with the `width`/`height` of the element that
    /// shows it), quiet zone included.
    pub fn svg(&self) -> String {
        SvgBuilder::default()
            .margin(self.options.quiet_zone)
            .to_str(&self.code)
    }

    /// 1-bit greyscale PNG, `scale` pixels per module.
    pub fn png(&self, scale: u32) -> Result<Vec<u8>, RenderError> {
        if !(1..=MAX_SCALE).contains(&scale) {
            return Err(RenderError::Scale);
        }
        let modules = self.width();
        let px = modules * scale as usize;
        let px_u32 = u32::try_from(px).map_err(|_| RenderError::Scale)?;
        let row_bytes = px.div_ceil(8);
        let scale = scale as usize;
        let mut pixels = vec![0u8; row_bytes * px];
        // Build one pixel row per module row and repeat it `scale` times.
        for (my, rows) in pixels.chunks_exact_mut(row_bytes * scale).enumerate() {
            let (first, copies) = rows.split_at_mut(row_bytes);
            for x in (0..px).filter(|x| !self.dark(x / scale, my)) {
                // Bit set = white in 1-bit greyscale.
                if let Some(b) = first.get_mut(x / 8) {
                    *b |= 0x80 >> (x % 8);
                }
            }
            for copy in copies.chunks_exact_mut(row_bytes) {
                copy.copy_from_slice(first);
            }
        }
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, px_u32, px_u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        // Two-tone 1-bit images compress well even with the fast DEFLATE; the default level
        // spends most of the PNG's time for a few percent.
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc
            .write_header()
            .map_err(|e| RenderError::Png(e.to_string()))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| RenderError::Png(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| RenderError::Png(e.to_string()))?;
        Ok(out)
    }

    /// Unicode half blocks, two module rows per text line, quiet zone included. `dark_on_light`
    /// draws dark modules as ink (light terminal themes); `false` draws the light modules as
    /// ink, which is what a scanner needs on a dark terminal.
    pub fn terminal(&self, dark_on_light: bool) -> String {
        let w = self.width();
        let mut out = String::with_capacity((w + 1) * w.div_ceil(2) * 3);
        for y in (0..w).step_by(2) {
            for x in 0..w {
                let ink = |yy: usize| yy < w && self.dark(x, yy) == dark_on_light;
                out.push(
                    match (ink(y), ink(y + 1) || (y + 1 >= w && !dark_on_light)) {
                        (true, true) => '█',
                        (true, false) => '▀',
                        (false, true) => '▄',
                        (false, false) => ' ',
                    },
                );
            }
            out.push('\n');
        }
        out
    }
}
