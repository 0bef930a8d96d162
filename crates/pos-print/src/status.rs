//! Real-time status (`DLE EOT n`) answers, decoded into what a cashier needs to know.

use serde::Serialize;

/// The printer's state from its four status bytes. A job is never marked printed while
/// [`PrinterStatus::fault`] names a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper_out: bool,
    pub paper_near_end: bool,
    /// Cutter jam, head overheating or another error the printer reports.
    pub error: bool,
    /// The drawer-open sensor (connector pin 3) is high.
    pub drawer_sensor: bool,
}

impl PrinterStatus {
    /// Decodes the answers to `DLE EOT 1`, `2`, `3`, `4`. Each byte has bit 1 and bit 4 set and
    /// bits 0 and 7 clear; anything else is not a status byte.
    pub fn parse(answers: [u8; 4]) -> Result<PrinterStatus, String> {
        if let Some(bad) = answers.iter().find(|b| **b & 0x93 != 0x12) {
            return Err(format!("not a status answer: {bad:#04x}"));
        }
        let [printer, offline, error, paper] = answers;
        Ok(PrinterStatus {
            online: printer & 0x08 == 0,
            drawer_sensor: printer & 0x04 != 0,
            cover_open: offline & 0x04 != 0,
            paper_out: offline & 0x20 != 0 || paper & 0x60 != 0,
            paper_near_end: paper & 0x0c != 0,
            error: offline & 0x40 != 0 || error & 0x68 != 0,
        })
    }

    /// The four answer bytes a printer in this state sends (used by the virtual printers in tests).
    pub fn to_answers(self) -> [u8; 4] {
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        [
            0x12 | bit(!self.online, 0x08) | bit(self.drawer_sensor, 0x04),
            0x12 | bit(self.cover_open, 0x04) | bit(self.paper_out, 0x20) | bit(self.error, 0x40),
            0x12 | bit(self.error, 0x40),
            0x12 | bit(self.paper_near_end, 0x0c) | bit(self.paper_out, 0x60),
        ]
    }

    pub fn ready() -> PrinterStatus {
        PrinterStatus { online: true, ..PrinterStatus::default() }
    }

    /// What stops printing, in words, or `None` when the printer can print.
    pub fn fault(&self) -> Option<String> {
        let mut faults = Vec::new();
        if self.paper_out {
            faults.push("paper out");
        }
        if self.cover_open {
            faults.push("cover open");
        }
        if self.error {
            faults.push("printer error");
        }
        if !self.online && faults.is_empty() {
            faults.push("offline");
        }
        if faults.is_empty() { None } else { Some(faults.join(", ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip() {
        let states = [
            PrinterStatus::ready(),
            PrinterStatus { paper_out: true, ..PrinterStatus::default() },
            PrinterStatus { online: true, cover_open: true, ..PrinterStatus::default() },
            PrinterStatus { online: true, paper_near_end: true, drawer_sensor: true, ..PrinterStatus::default() },
        ];
        for s in states {
            assert_eq!(PrinterStatus::parse(s.to_answers()).unwrap(), s);
        }
        assert_eq!(PrinterStatus::ready().fault(), None);
        assert_eq!(PrinterStatus { paper_out: true, ..PrinterStatus::default() }.fault().unwrap(), "paper out");
        assert!(PrinterStatus::parse([0x12, 0x12, 0x12, 0xff]).is_err());
    }
}
