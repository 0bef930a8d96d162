//! The two embedded faces (DejaVu Sans and DejaVu Sans Bold): text measurement for layout, the
//! clean-up that keeps every drawn character inside the font, and per-document subsetting.
//!
//! printpdf only subsets fonts with its `text_layout` feature, which brings azul's layout engine
//! along. This crate builds without it and subsets with `allsorts` (the subsetter printpdf itself
//! uses) before handing the font to printpdf, so a document embeds a few kilobytes of glyphs
//! instead of two 700 KB font files.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use printpdf::ParsedFont;

use crate::PdfError;

const REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Shown in place of a character the font has no glyph for.
const MISSING: char = '?';

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    pub(crate) const ALL: [Weight; 2] = [Weight::Regular, Weight::Bold];

    pub(crate) fn index(self) -> usize {
        match self {
            Weight::Regular => 0,
            Weight::Bold => 1,
        }
    }
}

pub(crate) struct Face {
    /// PostScript-style name used for the embedded font.
    name: &'static str,
    bytes: &'static [u8],
    parsed: ParsedFont,
}

impl Face {
    fn load(name: &'static str, bytes: &'static [u8]) -> Result<Face, String> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .ok_or_else(|| format!("{name} does not parse as a TrueType font ({warnings:?})"))?;
        if parsed.units_per_em == 0 || parsed.codepoint_to_glyph.is_empty() {
            return Err(format!("{name} has no usable metrics or character map"));
        }
        Ok(Face { name, bytes, parsed })
    }

    fn glyph(&self, c: char) -> Option<u16> {
        self.parsed.codepoint_to_glyph.get(&(c as u32)).copied()
    }

    /// Whether the font can draw `c`.
    pub(crate) fn has(&self, c: char) -> bool {
        self.glyph(c).is_some()
    }

    /// Advance width of `c` at 1 pt, in points.
    fn advance(&self, c: char) -> f32 {
        let units = self.glyph(c).and_then(|g| self.parsed.glyph_widths.get(&g).copied()).unwrap_or(0);
        f32::from(units) / f32::from(self.parsed.units_per_em)
    }

    /// Width of `text` set at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    /// Text as it will be drawn: control characters become spaces and characters the font has
    /// no glyph for become `?`, so that what is measured is what is drawn.
    pub(crate) fn clean(&self, text: &str) -> String {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    ' '
                } else if self.has(c) {
                    c
                } else {
                    MISSING
                }
            })
            .collect()
    }

    /// `text` cleaned and, when wider than `max`, cut so that it fits with a trailing "…".
    pub(crate) fn fit(&self, text: &str, size: f32, max: f32) -> String {
        let text = self.clean(text);
        if self.width(&text, size) <= max {
            return text;
        }
        let ellipsis = self.width("…", size);
        let mut out = String::new();
        let mut used = 0.0;
        for c in text.chars() {
            let w = self.advance(c) * size;
            if used + w + ellipsis > max {
                break;
            }
            used += w;
            out.push(c);
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        if ellipsis <= max {
            out.push('…');
        }
        out
    }

    /// Breaks cleaned `text` into lines no wider than `max`, at spaces where possible; a word
    /// wider than a whole line is broken between characters, so nothing is lost.
    pub(crate) fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let text = self.clean(text);
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if self.width(&candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                if !line.is_empty() && self.width(&line, size) + self.advance(c) * size > max {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// A font program holding only the glyphs for `chars` (plus `.notdef`), parsed back for
    /// printpdf. Its name carries the six-letter subset tag PDF asks for.
    pub(crate) fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont, PdfError> {
        let err = |reason: String| PdfError::Font { font: self.name, reason };
        let used: BTreeSet<u16> = chars.iter().filter_map(|c| self.glyph(*c)).filter(|g| *g != 0).collect();
        let ids: Vec<u16> = std::iter::once(0).chain(used).collect();
        let data = ReadScope::new(self.bytes).read::<FontData<'_>>().map_err(|e| err(e.to_string()))?;
        let provider = data.table_provider(0).map_err(|e| err(e.to_string()))?;
        let bytes = subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode)
            .map_err(|e| err(format!("subsetting failed: {e}")))?;
        let mut warnings = Vec::new();
        let mut parsed = ParsedFont::from_bytes(&bytes, 0, &mut warnings)
            .ok_or_else(|| err(format!("the subset does not parse ({warnings:?})")))?;
        parsed.font_name = Some(format!("{}+{}", subset_tag(self.name, &ids), self.name));
        Ok(parsed)
    }
}

/// Six capital letters derived from the glyph set (FNV-1a), as PDF subset tags are written.
fn subset_tag(name: &str, ids: &[u16]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = name.bytes().chain(ids.iter().flat_map(|g| g.to_be_bytes()));
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (0..6)
        .map(|i| {
            let letter = (h >> (i * 5)) % 26;
            char::from(b'A' + letter as u8)
        })
        .collect()
}

static FACES: LazyLock<Result<[Face; 2], String>> =
    LazyLock::new(|| Ok([Face::load("DejaVuSans", REGULAR_TTF)?, Face::load("DejaVuSans-Bold", BOLD_TTF)?]));

/// Both faces, parsed once per process.
pub(crate) fn faces() -> Result<&'static [Face; 2], PdfError> {
    FACES.as_ref().map_err(|reason| PdfError::Font { font: "DejaVu Sans", reason: reason.clone() })
}
