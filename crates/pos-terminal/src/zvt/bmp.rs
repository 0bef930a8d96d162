//! The BMPs (tagged fields) of a ZVT Status Information (04 0F): the few this crate reads, and the
//! lengths of the others so they can be skipped.
//!
//! Of BMP 22 (PAN / EF_ID) only the last four digits are kept; the rest is never copied out of the
//! received buffer, which is zeroed when dropped.

use super::apdu::{bcd_decode, var_length};

/// How long a BMP's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Len {
    /// Always this many bytes.
    Fixed(usize),
    /// `F0`..`F9` ×2 length digits, then the data (LLVAR).
    Ll,
    /// `F0`..`F9` ×3 length digits, then the data (LLLVAR).
    Lll,
    /// A TLV container: BER length (`0x00`..`0x7F`, `81 xx` or `82 xx xx`), then the data.
    Tlv,
}

/// The length of BMP `tag`, as the ZVT specification defines it; `None` for BMPs not known here,
/// whose length therefore cannot be known either.
fn bmp_len(tag: u8) -> Option<Len> {
    use Len::*;
    Some(match tag {
        0x01 | 0x02 | 0x03 | 0x05 | 0x19 | 0x27 | 0x8A | 0x8C | 0xA0 | 0xD0 | 0xD2 | 0xD3 | 0xE0 | 0xE9 | 0xEA
        | 0xF0 | 0xF9 | 0xFA | 0xFB | 0xFC | 0xFD => Fixed(1),
        0x0D | 0x0E | 0x17 | 0x3A | 0x49 | 0x87 => Fixed(2),
        0x0B | 0x0C | 0x37 | 0x3D | 0x88 | 0xAA => Fixed(3),
        0x29 => Fixed(4),
        0xBA => Fixed(5),
        0x04 => Fixed(6),
        0x3B | 0xEB => Fixed(8),
        0x2A => Fixed(15),
        0x22 | 0x23 | 0x2D | 0x8B | 0xA7 | 0xD1 | 0xE1..=0xE8 | 0xF1..=0xF8 => Ll,
        0x24 | 0x3C | 0x60 | 0x9A | 0xAF => Lll,
        0x06 => Tlv,
        _ => return None,
    })
}

/// What this crate reads from a Status Information. `Debug` is safe: the card number is reduced to
/// its last four digits before it is stored here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StatusInfo {
    /// BMP 27: 00 = approved.
    pub(crate) result: Option<u8>,
    /// BMP 04: the amount in minor units.
    pub(crate) amount: Option<u64>,
    /// BMP 49: ISO 4217 numeric currency code.
    pub(crate) currency: Option<u16>,
    /// BMP 0B: the terminal's trace number.
    pub(crate) trace: Option<u32>,
    /// BMP 87: the receipt number.
    pub(crate) receipt: Option<u16>,
    /// BMP 3B: the authorisation attribute, when it is printable text.
    pub(crate) auth_code: Option<String>,
    /// BMP 22: the last four digits of the card number, when they are not masked.
    pub(crate) last4: Option<String>,
    /// BMP 8A: the ZVT card type number.
    pub(crate) card_type: Option<u8>,
    /// BMP 8B: the card name, cleaned to letters, digits, spaces, `-` and `_`.
    pub(crate) card_name: Option<String>,
}

/// Parses the BMPs of a Status Information. Unknown BMPs are skipped when their length is known,
/// and refused otherwise; a length that runs past the end of the data is refused. Error messages
/// name BMPs and lengths only, never data.
pub(crate) fn parse_status(data: &[u8]) -> Result<StatusInfo, String> {
    let mut info = StatusInfo::default();
    let mut pos = 0usize;
    while pos < data.len() {
        let tag = data[pos];
        pos += 1;
        let len =
            bmp_len(tag).ok_or_else(|| format!("status information holds BMP {tag:02X}, whose length is unknown"))?;
        let (start, n) = match len {
            Len::Fixed(n) => (pos, n),
            Len::Ll | Len::Lll => {
                let digits = if len == Len::Ll { 2 } else { 3 };
                let field =
                    data.get(pos..pos + digits).ok_or_else(|| format!("BMP {tag:02X}: the length field is cut off"))?;
                let n = var_length(field).ok_or_else(|| format!("BMP {tag:02X}: malformed variable length"))?;
                (pos + digits, n)
            }
            Len::Tlv => tlv_length(data, pos).ok_or_else(|| format!("BMP {tag:02X}: malformed TLV length"))?,
        };
        let value = data.get(start..start + n).ok_or_else(|| {
            format!("BMP {tag:02X}: {n} bytes announced, {} left", data.len() - start.min(data.len()))
        })?;
        pos = start + n;
        match tag {
            0x27 => info.result = Some(value[0]),
            0x04 => info.amount = Some(bcd_decode(value).ok_or("BMP 04: the amount is not BCD")?),
            0x49 => info.currency = bcd_decode(value).map(|c| c as u16),
            0x0B => info.trace = bcd_decode(value).map(|t| t as u32),
            0x87 => info.receipt = bcd_decode(value).map(|r| r as u16),
            0x3B => info.auth_code = printable(value, 12),
            0x22 => info.last4 = last4_of_pan(value),
            0x8A => info.card_type = Some(value[0]),
            0x8B => info.card_name = printable(value, 20),
            _ => {}
        }
    }
    Ok(info)
}

/// The data start and length of a TLV container whose length field begins at `pos`.
fn tlv_length(data: &[u8], pos: usize) -> Option<(usize, usize)> {
    let first = *data.get(pos)?;
    match first {
        0x00..=0x7F => Some((pos + 1, usize::from(first))),
        0x81 => Some((pos + 2, usize::from(*data.get(pos + 1)?))),
        0x82 => {
            let hi = *data.get(pos + 1)?;
            let lo = *data.get(pos + 2)?;
            Some((pos + 3, usize::from(u16::from_be_bytes([hi, lo]))))
        }
        _ => None,
    }
}

/// The last four digits of a BCD card number (nibble `E` = masked digit, trailing `F` = padding),
/// when those four are digits. Walks the nibbles keeping only a four-nibble window, so no other
/// part of the number is ever copied.
fn last4_of_pan(value: &[u8]) -> Option<String> {
    let mut window = [0xFFu8; 4];
    let mut seen = 0usize;
    'bytes: for &b in value {
        for nibble in [b >> 4, b & 0x0F] {
            if nibble == 0x0F {
                break 'bytes;
            }
            window.rotate_left(1);
            window[3] = nibble;
            seen += 1;
        }
    }
    if seen < 4 || window.iter().any(|&d| d > 9) {
        return None;
    }
    Some(window.iter().map(|&d| char::from(b'0' + d)).collect())
}

/// Text from a fixed or LLVAR text field: cut at the first NUL, characters other than letters,
/// digits, `-` and `_` turned into spaces, spaces collapsed and trimmed, at most `max` characters.
/// `None` when nothing is left or it has twelve or more digits in a row (what a card number looks like).
fn printable(value: &[u8], max: usize) -> Option<String> {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    let mut out = String::new();
    for &b in &value[..end] {
        let c = if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' { char::from(b) } else { ' ' };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    let mut out = out.trim_end().to_owned();
    out.truncate(max);
    let out = out.trim_end().to_owned();
    let run = out.as_bytes().split(|b| !b.is_ascii_digit()).map(<[u8]>::len).max().unwrap_or(0);
    if out.is_empty() || run >= 12 { None } else { Some(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_pan_keeps_last_four() {
        // 6712 34EE EEEE 4242: the masking the ZVT specification describes ('E' = masked digit).
        assert_eq!(last4_of_pan(&[0x67, 0x12, 0x34, 0xEE, 0xEE, 0xEE, 0x42, 0x42]).as_deref(), Some("4242"));
        // Odd number of digits, padded with F.
        assert_eq!(last4_of_pan(&[0x67, 0x12, 0xEE, 0xEE, 0x12, 0x34, 0x5F]).as_deref(), Some("2345"));
        // Last digits masked, too short, empty.
        assert_eq!(last4_of_pan(&[0x67, 0x12, 0xEE, 0xEE]), None);
        assert_eq!(last4_of_pan(&[0x12, 0x3F]), None);
        assert_eq!(last4_of_pan(&[]), None);
    }

    #[test]
    fn known_bmps_parsed_others_skipped() {
        let mut d = vec![0x27, 0x00];
        d.extend([0x04, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34]);
        d.extend([0x0B, 0x00, 0x01, 0x23]);
        d.extend([0x0C, 0x12, 0x30, 0x00, 0x0D, 0x05, 0x17]); // time, date: skipped
        d.extend([0x29, 0x12, 0x34, 0x56, 0x78]); // terminal id: skipped
        d.extend([0x3C, 0xF0, 0xF0, 0xF3, b'a', b'b', b'c']); // LLLVAR additional text: skipped
        d.extend([0x06, 0x04, 0x1F, 0x10, 0x01, 0x02]); // TLV container: skipped
        d.extend([0x06, 0x81, 0x02, 0x45, 0x00]); // TLV container, long-form length: skipped
        d.extend([0x3B, b'A', b'B', b'1', b'2', b'3', b'4', 0x00, 0x00]);
        d.extend([0x22, 0xF0, 0xF8, 0x67, 0x12, 0x34, 0xEE, 0xEE, 0xEE, 0x42, 0x42]);
        d.extend([0x87, 0x00, 0x42]);
        d.extend([0x8A, 0x06]);
        d.extend([0x8B, 0xF0, 0xF6, b'V', b'I', b'S', b'A', b'!', 0x00]);
        d.extend([0x49, 0x09, 0x78]);
        let info = parse_status(&d).unwrap();
        assert_eq!(info.result, Some(0));
        assert_eq!(info.amount, Some(1234));
        assert_eq!(info.trace, Some(123));
        assert_eq!(info.receipt, Some(42));
        assert_eq!(info.auth_code.as_deref(), Some("AB1234"));
        assert_eq!(info.last4.as_deref(), Some("4242"));
        assert_eq!(info.card_type, Some(6));
        assert_eq!(info.card_name.as_deref(), Some("VISA"));
        assert_eq!(info.currency, Some(978));
        assert!(!format!("{info:?}").contains("6712"));
    }

    #[test]
    fn refusals() {
        // Unknown BMP: its length cannot be known.
        assert!(parse_status(&[0x27, 0x00, 0x4F, 0x01]).unwrap_err().contains("4F"));
        // A length past the end of the data.
        assert!(parse_status(&[0x22, 0xF1, 0xF9, 0x67, 0x12]).is_err());
        assert!(parse_status(&[0x04, 0x00, 0x00]).is_err());
        // Length digits that are not Fx.
        assert!(parse_status(&[0x22, 0x01, 0x02, 0x67, 0x12]).unwrap_err().contains("malformed"));
        // Cut-off length field, bad TLV length.
        assert!(parse_status(&[0x22, 0xF0]).is_err());
        assert!(parse_status(&[0x06, 0x83, 0x00, 0x00, 0x01]).is_err());
        // Amount that is not BCD.
        assert!(parse_status(&[0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1A]).is_err());
    }

    #[test]
    fn printable_fields() {
        assert_eq!(printable(b"Mastercard\0\0", 20).as_deref(), Some("Mastercard"));
        assert_eq!(printable(b"  girocard ", 20).as_deref(), Some("girocard"));
        assert_eq!(printable(b"American Express Platinum", 20).as_deref(), Some("American Express Pla"));
        assert_eq!(printable(b"\0\0\0\0", 12), None);
        assert_eq!(printable(b"12345678", 12).as_deref(), Some("12345678"));
        assert_eq!(printable(b"123456789012", 20), None);
    }
}
