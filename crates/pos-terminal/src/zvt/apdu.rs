//! ZVT APDU framing and the number encodings: BCD and the `Fx` length digits of LLVAR/LLLVAR.
//!
//! An APDU is a control field (class byte, instruction byte), a length and the data. The length is
//! one byte for 0..=254 data bytes; otherwise `FF` followed by the length as two bytes, little
//! endian.

use std::fmt;
use std::ops::Deref;

/// Largest data length an APDU can announce.
pub(crate) const MAX_DATA_LEN: usize = 0xFFFF;

/// A byte buffer that is overwritten with zeros when dropped. Holds received APDU data, which may
/// contain a (masked, or from a misbehaving terminal unmasked) card number.
pub(crate) struct Wiped(Vec<u8>);

impl Wiped {
    /// A zero-filled buffer of exactly `len` bytes (allocated once, never grown, so no copy of its
    /// content is left behind by a reallocation).
    pub(crate) fn zeroed(len: usize) -> Wiped {
        Wiped(vec![0; len])
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.fill(0);
        // Keeps the compiler from dropping the writes as dead stores.
        std::hint::black_box(&self.0);
    }
}

impl Deref for Wiped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// One received APDU. `Debug` shows the control field and the length only, never the data.
pub(crate) struct Apdu {
    pub(crate) class: u8,
    pub(crate) instr: u8,
    pub(crate) data: Wiped,
}

impl fmt::Debug for Apdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Apdu({:02X} {:02X}, {} data bytes)", self.class, self.instr, self.data.len())
    }
}

/// Encodes an APDU. `None` when `data` is longer than [`MAX_DATA_LEN`].
pub(crate) fn encode(class: u8, instr: u8, data: &[u8]) -> Option<Vec<u8>> {
    let len = data.len();
    if len > MAX_DATA_LEN {
        return None;
    }
    let mut out = Vec::with_capacity(len + 5);
    out.push(class);
    out.push(instr);
    if len < 0xFF {
        out.push(len as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&(len as u16).to_le_bytes());
    }
    out.extend_from_slice(data);
    Some(out)
}

/// The length field of an APDU: from the first length byte, either the data length itself or a
/// sign that two more bytes follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LengthField {
    Short(usize),
    Extended,
}

pub(crate) fn length_field(first: u8) -> LengthField {
    if first == 0xFF { LengthField::Extended } else { LengthField::Short(first as usize) }
}

pub(crate) fn extended_length(bytes: [u8; 2]) -> usize {
    u16::from_le_bytes(bytes) as usize
}

/// Decodes one APDU from the start of `buf`: `None` when `buf` does not yet hold all of it,
/// otherwise the APDU and how many bytes it took.
#[cfg(test)]
pub(crate) fn decode(buf: &[u8]) -> Option<(Apdu, usize)> {
    if buf.len() < 3 {
        return None;
    }
    let (len, header) = match length_field(buf[2]) {
        LengthField::Short(n) => (n, 3),
        LengthField::Extended => {
            if buf.len() < 5 {
                return None;
            }
            (extended_length([buf[3], buf[4]]), 5)
        }
    };
    let body = buf.get(header..header + len)?;
    let mut data = Wiped::zeroed(len);
    data.as_mut_slice().copy_from_slice(body);
    Some((Apdu { class: buf[0], instr: buf[1], data }, header + len))
}

/// `value` as `bytes` bytes of packed BCD, most significant digit first. `None` when it does not
/// fit.
pub(crate) fn bcd_encode(value: u64, bytes: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; bytes];
    let mut rest = value;
    for byte in out.iter_mut().rev() {
        let lo = (rest % 10) as u8;
        rest /= 10;
        let hi = (rest % 10) as u8;
        rest /= 10;
        *byte = (hi << 4) | lo;
    }
    if rest == 0 { Some(out) } else { None }
}

/// `value` as `N` bytes of packed BCD. `None` when it does not fit.
pub(crate) fn bcd_array<const N: usize>(value: u64) -> Option<[u8; N]> {
    bcd_encode(value, N)?.try_into().ok()
}

/// Packed BCD to a number. `None` when a nibble is not a decimal digit or the number is too long.
pub(crate) fn bcd_decode(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 9 {
        return None;
    }
    let mut value = 0u64;
    for &b in bytes {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return None;
        }
        value = value * 100 + u64::from(hi) * 10 + u64::from(lo);
    }
    Some(value)
}

/// The length of an LLVAR (2 bytes) or LLLVAR (3 bytes) field: each byte is `F0`..`F9` and carries
/// one decimal digit in its low nibble. `None` for any other byte.
pub(crate) fn var_length(bytes: &[u8]) -> Option<usize> {
    let mut len = 0usize;
    for &b in bytes {
        if b & 0xF0 != 0xF0 || b & 0x0F > 9 {
            return None;
        }
        len = len * 10 + usize::from(b & 0x0F);
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_round_trip() {
        assert_eq!(bcd_encode(1234, 6).unwrap(), [0x00, 0x00, 0x00, 0x00, 0x12, 0x34]);
        assert_eq!(bcd_encode(978, 2).unwrap(), [0x09, 0x78]);
        assert_eq!(bcd_encode(123456, 3).unwrap(), [0x12, 0x34, 0x56]);
        assert_eq!(bcd_encode(0, 2).unwrap(), [0x00, 0x00]);
        assert_eq!(bcd_encode(999_999_999_999, 6).unwrap(), [0x99; 6]);
        assert_eq!(bcd_encode(1_000_000_000_000, 6), None);
        assert_eq!(bcd_encode(100, 1), None);
        assert_eq!(bcd_decode(&[0x00, 0x00, 0x00, 0x00, 0x12, 0x34]), Some(1234));
        assert_eq!(bcd_decode(&[0x09, 0x78]), Some(978));
        assert_eq!(bcd_decode(&[0x1A]), None);
        assert_eq!(bcd_decode(&[0xF1]), None);
        assert_eq!(bcd_decode(&[]), Some(0));
        for v in [0u64, 1, 9, 10, 99, 100, 4711, 999_999] {
            assert_eq!(bcd_decode(&bcd_encode(v, 3).unwrap()), Some(v));
        }
    }

    #[test]
    fn var_lengths() {
        assert_eq!(var_length(&[0xF0, 0xF8]), Some(8));
        assert_eq!(var_length(&[0xF1, 0xF0]), Some(10));
        assert_eq!(var_length(&[0xF1, 0xF2, 0xF3]), Some(123));
        assert_eq!(var_length(&[0x01, 0x08]), None);
        assert_eq!(var_length(&[0xF0, 0xFA]), None);
    }

    #[test]
    fn short_and_extended_length_framing() {
        assert_eq!(encode(0x80, 0x00, &[]).unwrap(), [0x80, 0x00, 0x00]);
        assert_eq!(encode(0x06, 0x20, &[0x12, 0x34, 0x56]).unwrap(), [0x06, 0x20, 0x03, 0x12, 0x34, 0x56]);
        let d254 = vec![0xAB; 254];
        let e = encode(0x04, 0x0F, &d254).unwrap();
        assert_eq!(&e[..3], &[0x04, 0x0F, 0xFE]);
        assert_eq!(e.len(), 257);
        // 255 bytes no longer fit the one-byte length: FF then 2 bytes little endian.
        let d255 = vec![0xCD; 255];
        let e = encode(0x04, 0x0F, &d255).unwrap();
        assert_eq!(&e[..5], &[0x04, 0x0F, 0xFF, 0xFF, 0x00]);
        let d300 = vec![0x11; 300];
        let e = encode(0x06, 0xD3, &d300).unwrap();
        assert_eq!(&e[..5], &[0x06, 0xD3, 0xFF, 0x2C, 0x01]);
        assert_eq!(e.len(), 305);
        assert!(encode(0x06, 0xD3, &vec![0; MAX_DATA_LEN + 1]).is_none());

        let (apdu, used) = decode(&e).unwrap();
        assert_eq!((apdu.class, apdu.instr, apdu.data.len(), used), (0x06, 0xD3, 300, 305));
        assert!(apdu.data.iter().all(|&b| b == 0x11));
        // Incomplete input is not an APDU yet.
        assert!(decode(&e[..304]).is_none());
        assert!(decode(&e[..4]).is_none());
        assert!(decode(&[0x80, 0x00]).is_none());
        // Two APDUs back to back.
        let mut two = encode(0x80, 0x00, &[]).unwrap();
        two.extend(encode(0x04, 0xFF, &[0x0A]).unwrap());
        let (a, n) = decode(&two).unwrap();
        assert_eq!((a.class, n), (0x80, 3));
        let (b, m) = decode(&two[n..]).unwrap();
        assert_eq!((b.class, b.instr, &*b.data, m), (0x04, 0xFF, &[0x0A][..], 4));
    }

    #[test]
    fn apdu_debug_hides_data() {
        let (apdu, _) = decode(&encode(0x04, 0x0F, &[0x22, 0xF0, 0xF2, 0x42, 0x42]).unwrap()).unwrap();
        assert_eq!(format!("{apdu:?}"), "Apdu(04 0F, 5 data bytes)");
    }
}
