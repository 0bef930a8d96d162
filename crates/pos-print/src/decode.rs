//! An ESC/POS decoder for the subset the register sends: tests turn captured bytes back into text
//! (through the selected code page), QR payloads, cuts and drawer pulses, and see any byte sequence
//! it does not know as [`Event::Unknown`], so injected commands cannot hide.

use crate::codepage::CodePage;
use crate::escpos::{DLE, EOT, ESC, GS, LF};
use crate::layout::DrawerPin;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Init,
    /// `ESC t n`, with the page if it is one we know.
    CodePage(u8, Option<CodePage>),
    Align(u8),
    Bold(bool),
    Size(u8),
    /// A printed line (ended by LF), decoded through the selected code page.
    Line(String),
    Feed(u8),
    Qr(String),
    Cut,
    Pulse {
        pin: DrawerPin,
        on_ms: u32,
        off_ms: u32,
    },
    StatusRequest(u8),
    /// Bytes that are not a command we send; `\x1b` and friends in text end up here.
    Unknown(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    pub events: Vec<Event>,
}

impl Decoded {
    pub fn lines(&self) -> Vec<&str> {
        self.events.iter().filter_map(|e| if let Event::Line(l) = e { Some(l.as_str()) } else { None }).collect()
    }
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }
    pub fn qr_payloads(&self) -> Vec<&str> {
        self.events.iter().filter_map(|e| if let Event::Qr(p) = e { Some(p.as_str()) } else { None }).collect()
    }
    pub fn cuts(&self) -> usize {
        self.events.iter().filter(|e| matches!(e, Event::Cut)).count()
    }
    pub fn pulses(&self) -> Vec<DrawerPin> {
        self.events.iter().filter_map(|e| if let Event::Pulse { pin, .. } = e { Some(*pin) } else { None }).collect()
    }
    pub fn code_pages(&self) -> Vec<u8> {
        self.events.iter().filter_map(|e| if let Event::CodePage(n, _) = e { Some(*n) } else { None }).collect()
    }
    pub fn unknown(&self) -> Vec<&[u8]> {
        self.events.iter().filter_map(|e| if let Event::Unknown(b) = e { Some(b.as_slice()) } else { None }).collect()
    }
}

/// Decodes a byte stream. Text before any `ESC t` is read as PC437, the printer's power-on page.
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut d = Decoder { bytes, at: 0, page: CodePage::Pc437, line: Vec::new(), events: Vec::new() };
    d.run();
    Decoded { events: d.events }
}

struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    page: CodePage,
    line: Vec<u8>,
    events: Vec<Event>,
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }

    fn unknown(&mut self, from: usize) {
        self.events.push(Event::Unknown(self.bytes[from..self.at].to_vec()));
    }

    fn run(&mut self) {
        while self.at < self.bytes.len() {
            let start = self.at;
            let b = self.bytes[self.at];
            self.at += 1;
            match b {
                LF => self.flush_line(true),
                ESC => self.esc(start),
                GS => self.gs(start),
                DLE => match self.take(2) {
                    Some(&[EOT, n]) => self.events.push(Event::StatusRequest(n)),
                    _ => self.unknown(start),
                },
                0x20..=0x7e | 0x80..=0xff => self.line.push(b),
                _ => self.unknown(start),
            }
        }
        self.flush_line(false);
    }

    fn flush_line(&mut self, ended: bool) {
        if !ended && self.line.is_empty() {
            return;
        }
        let page = self.page;
        let text = self.line.drain(..).map(|b| page.decode_byte(b).unwrap_or('\u{fffd}')).collect();
        self.events.push(Event::Line(text));
    }

    fn esc(&mut self, start: usize) {
        let Some(&[cmd]) = self.take(1) else { return self.unknown(start) };
        let event = match cmd {
            b'@' => Some(Event::Init),
            b't' => self.take(1).map(|n| Event::CodePage(n[0], CodePage::from_esc_t(n[0]))),
            b'a' => self.take(1).map(|n| Event::Align(n[0])),
            b'E' => self.take(1).map(|n| Event::Bold(n[0] & 1 == 1)),
            b'd' => self.take(1).map(|n| Event::Feed(n[0])),
            b'p' => self.take(3).and_then(|p| {
                let pin = match p[0] {
                    0 | 48 => DrawerPin::Pin2,
                    1 | 49 => DrawerPin::Pin5,
                    _ => return None,
                };
                Some(Event::Pulse { pin, on_ms: u32::from(p[1]) * 2, off_ms: u32::from(p[2]) * 2 })
            }),
            _ => None,
        };
        match event {
            Some(Event::CodePage(n, page)) => {
                self.flush_line(false);
                if let Some(p) = page {
                    self.page = p;
                }
                self.events.push(Event::CodePage(n, page));
            }
            Some(e) => self.events.push(e),
            None => self.unknown(start),
        }
    }

    fn gs(&mut self, start: usize) {
        let Some(&[cmd]) = self.take(1) else { return self.unknown(start) };
        match cmd {
            b'!' => match self.take(1) {
                Some(n) => {
                    let n = n[0];
                    self.events.push(Event::Size(n));
                }
                None => self.unknown(start),
            },
            b'V' => match self.take(1) {
                Some(&[b'A' | b'B']) => match self.take(1) {
                    Some(_) => self.events.push(Event::Cut),
                    None => self.unknown(start),
                },
                Some(&[0 | 1 | 48 | 49]) => self.events.push(Event::Cut),
                _ => self.unknown(start),
            },
            b'(' => self.gs_paren(start),
            _ => self.unknown(start),
        }
    }

    /// `GS ( k pL pH cn fn ...`: only QR (cn = 49) functions 65, 67, 69, 80, 81 are ours.
    fn gs_paren(&mut self, start: usize) {
        let Some(&[b'k', pl, ph]) = self.take(3) else { return self.unknown(start) };
        let len = usize::from(pl) | usize::from(ph) << 8;
        let Some(body) = self.take(len).map(<[u8]>::to_vec) else { return self.unknown(start) };
        match body.as_slice() {
            [49, 80, 48, data @ ..] => {
                let payload = String::from_utf8_lossy(data).into_owned();
                // Printed on function 81; remember it until then.
                self.events.push(Event::Qr(payload));
            }
            [49, 65 | 67 | 69, ..] | [49, 81, 48] => {}
            _ => self.unknown(start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::sample_receipt;
    use crate::escpos::{drawer_kick, encode};
    use crate::layout::{Profile, receipt};

    #[test]
    fn decodes_what_the_encoder_writes() {
        let doc = sample_receipt();
        let profile = Profile::new(42, CodePage::Pc858).unwrap();
        let bytes = encode(&receipt(&doc, profile), profile);
        let d = decode(&bytes);
        assert!(d.unknown().is_empty(), "{:?}", d.unknown());
        assert_eq!(d.code_pages(), vec![19]);
        assert_eq!(d.qr_payloads(), vec![doc.qr_payload.as_str()]);
        assert_eq!(d.cuts(), 1);
        assert!(d.text().contains("Crème brûlée"), "{}", d.text());
        assert!(d.pulses().is_empty());
        assert_eq!(decode(&drawer_kick(DrawerPin::Pin5)).pulses(), vec![DrawerPin::Pin5]);
    }

    #[test]
    fn stray_control_bytes_are_reported() {
        let d = decode(b"abc\x1b\x99x\n");
        assert_eq!(d.unknown(), vec![&[0x1b, 0x99][..]]);
    }
}
