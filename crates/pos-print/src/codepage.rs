//! Printer code pages and what to do with text they cannot print.
//!
//! A receipt printer prints one byte per column: ASCII in the lower half, and in the upper half
//! whatever the selected code page (`ESC t n`) maps there. [`CodePage::fit`] turns any text into
//! text the page can print: control and formatting characters are dropped (so no catalog name can
//! smuggle printer commands), characters the page has are kept, and the rest are transliterated
//! (`€` → `EUR`, `ß` → `ss` where the page lacks it, Cyrillic → Latin letters) or become `?`.

use serde::{Deserialize, Serialize};

use crate::codepage_tables as t;

/// The code pages a printer can be configured with, by their Epson `ESC t` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodePage {
    /// USA and standard Europe; no euro sign.
    Pc437,
    /// Multilingual Latin 1; no euro sign.
    Pc850,
    /// Latin 2: Central and Eastern Europe.
    Pc852,
    /// Turkish.
    Pc857,
    /// Multilingual Latin 1 with the euro sign: the default.
    Pc858,
    /// Cyrillic.
    Pc866,
    /// Windows Latin 1, with the euro sign and typographic quotes.
    Wpc1252,
}

impl CodePage {
    pub const ALL: [CodePage; 7] = [
        CodePage::Pc437,
        CodePage::Pc850,
        CodePage::Pc852,
        CodePage::Pc857,
        CodePage::Pc858,
        CodePage::Pc866,
        CodePage::Wpc1252,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CodePage::Pc437 => "pc437",
            CodePage::Pc850 => "pc850",
            CodePage::Pc852 => "pc852",
            CodePage::Pc857 => "pc857",
            CodePage::Pc858 => "pc858",
            CodePage::Pc866 => "pc866",
            CodePage::Wpc1252 => "wpc1252",
        }
    }

    pub fn parse(name: &str) -> Option<CodePage> {
        CodePage::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The `n` of `ESC t n` that selects this page (Epson numbering).
    pub fn esc_t(self) -> u8 {
        match self {
            CodePage::Pc437 => 0,
            CodePage::Pc850 => 2,
            CodePage::Pc857 => 13,
            CodePage::Wpc1252 => 16,
            CodePage::Pc866 => 17,
            CodePage::Pc852 => 18,
            CodePage::Pc858 => 19,
        }
    }

    pub fn from_esc_t(n: u8) -> Option<CodePage> {
        CodePage::ALL.into_iter().find(|c| c.esc_t() == n)
    }

    fn upper_half(self) -> &'static str {
        match self {
            CodePage::Pc437 => t::PC437,
            CodePage::Pc850 => t::PC850,
            CodePage::Pc852 => t::PC852,
            CodePage::Pc857 => t::PC857,
            CodePage::Pc858 => t::PC858,
            CodePage::Pc866 => t::PC866,
            CodePage::Wpc1252 => t::WPC1252,
        }
    }

    /// The byte that prints `c`, if this page has it. Control characters have none.
    pub fn encode_char(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return Some(c as u8);
        }
        if c == '\0' || c.is_control() {
            return None;
        }
        self.upper_half().chars().position(|p| p == c).map(|i| 0x80 + i as u8)
    }

    /// What `byte` prints as on this page; `None` for control bytes and unassigned positions.
    pub fn decode_byte(self, byte: u8) -> Option<char> {
        match byte {
            0x20..=0x7e => Some(byte as char),
            0x80..=0xff => self.upper_half().chars().nth(usize::from(byte - 0x80)).filter(|c| *c != '\0'),
            _ => None,
        }
    }

    /// `text` as this page can print it, one `char` per printed column (see the module docs).
    pub fn fit(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in clean(text).chars() {
            if self.encode_char(c).is_some() {
                out.push(c);
                continue;
            }
            match deunicode::deunicode_char(c) {
                Some(ascii) if !ascii.is_empty() => {
                    out.extend(ascii.chars().filter(|a| (' '..='~').contains(a)));
                }
                _ => out.push('?'),
            }
        }
        out
    }

    /// Encodes text already [fitted](CodePage::fit) to this page; anything else becomes `?`.
    pub fn encode(self, fitted: &str, out: &mut Vec<u8>) {
        out.extend(fitted.chars().map(|c| self.encode_char(c).unwrap_or(b'?')));
    }
}

/// Text with control and invisible formatting characters removed: C0 and C1 controls, DEL,
/// bidirectional overrides, zero-width characters and the byte-order mark. Tabs and line breaks
/// become spaces. Applied to every piece of text before it reaches a printer.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_round_trips_its_own_characters() {
        for page in CodePage::ALL {
            for b in 0x20u8..=0xff {
                if let Some(c) = page.decode_byte(b) {
                    assert_eq!(page.encode_char(c), Some(b), "{page:?} byte {b:#x}");
                }
            }
        }
    }

    #[test]
    fn euro_and_sharp_s_where_the_page_has_them_and_transliterated_where_not() {
        assert_eq!(CodePage::Pc858.fit("5 € Weißbier"), "5 € Weißbier");
        assert_eq!(CodePage::Pc437.fit("5 €"), "5 EUR");
        assert_eq!(CodePage::Pc866.fit("ß"), "ss");
        assert_eq!(CodePage::Pc866.fit("Пирожок"), "Пирожок");
        assert_eq!(CodePage::Pc858.fit("Пирожок"), "Pirozhok");
        assert_eq!(CodePage::Pc857.fit("ığüşöç İĞŞ"), "ığüşöç İĞŞ");
        assert_eq!(CodePage::Pc858.fit("ığüş"), "igüs");
    }

    #[test]
    fn control_characters_never_survive() {
        let evil = "Tea\x1b@\x1dV\x00\x10\x04\x01\u{202e}\u{9b}x";
        let fitted = CodePage::Pc858.fit(evil);
        assert_eq!(fitted, "Tea@Vx");
        let mut bytes = Vec::new();
        CodePage::Pc858.encode(&fitted, &mut bytes);
        assert!(bytes.iter().all(|b| *b >= 0x20 && *b != 0x7f));
    }
}
