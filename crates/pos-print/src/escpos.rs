//! ESC/POS encoding of laid-out [`Block`]s. Written here rather than taken from the `escpos` crate
//! (docs/adr/0006-own-escpos-encoder.md): the register stores encoded bytes in its print queue and
//! needs byte-exact control over code pages, drawer pulses and status queries.

use crate::layout::{Align, Block, DrawerPin, Profile};

pub const ESC: u8 = 0x1b;
pub const GS: u8 = 0x1d;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;
pub const LF: u8 = 0x0a;

/// QR module size in dots (1–16); 5 gives a code about 2.5 cm wide for a short payload.
const QR_MODULE: u8 = 5;
/// Drawer pulse: 50 ms on, 500 ms off (`t1`, `t2` count 2 ms units).
const PULSE_ON: u8 = 25;
const PULSE_OFF: u8 = 250;

/// The bytes that print `blocks` on a printer with `profile`, starting from a reset.
pub fn encode(blocks: &[Block], profile: Profile) -> Vec<u8> {
    let mut out = Vec::with_capacity(blocks.len() * (profile.columns + 8) + 64);
    out.extend_from_slice(&[ESC, b'@']);
    out.extend_from_slice(&[ESC, b't', profile.code_page.esc_t()]);
    let mut state = (Align::Left, false, false);
    for block in blocks {
        match block {
            Block::Line { text, align, bold, large } => {
                set_style(&mut out, &mut state, (*align, *bold, *large));
                profile.code_page.encode(text, &mut out);
                out.push(LF);
            }
            Block::Feed(n) => out.extend_from_slice(&[ESC, b'd', *n]),
            Block::Qr(payload) => {
                set_style(&mut out, &mut state, (Align::Center, false, false));
                qr(&mut out, payload.as_bytes());
            }
            Block::Pulse(pin) => out.extend_from_slice(&pulse(*pin)),
            Block::Cut => out.extend_from_slice(&[GS, b'V', b'A', 0]),
        }
    }
    set_style(&mut out, &mut state, (Align::Left, false, false));
    out
}

fn set_style(out: &mut Vec<u8>, state: &mut (Align, bool, bool), want: (Align, bool, bool)) {
    if state.0 != want.0 {
        let n = match want.0 {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        };
        out.extend_from_slice(&[ESC, b'a', n]);
    }
    if state.1 != want.1 {
        out.extend_from_slice(&[ESC, b'E', u8::from(want.1)]);
    }
    if state.2 != want.2 {
        out.extend_from_slice(&[GS, b'!', if want.2 { 0x11 } else { 0x00 }]);
    }
    *state = want;
}

/// `GS ( k` function 165/167/169/180/181: model 2, module size, error correction M, store, print.
fn qr(out: &mut Vec<u8>, data: &[u8]) {
    let data = &data[..data.len().min(7000)];
    out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, QR_MODULE]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
    let len = data.len() + 3;
    out.extend_from_slice(&[GS, b'(', b'k', (len & 0xff) as u8, (len >> 8) as u8, 49, 80, 48]);
    out.extend_from_slice(data);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
}

/// `ESC p m t1 t2`: one pulse on the drawer connector.
pub fn pulse(pin: DrawerPin) -> [u8; 5] {
    let m = match pin {
        DrawerPin::Pin2 => 0,
        DrawerPin::Pin5 => 1,
    };
    [ESC, b'p', m, PULSE_ON, PULSE_OFF]
}

/// A drawer-only job: reset, then one pulse.
pub fn drawer_kick(pin: DrawerPin) -> Vec<u8> {
    let mut out = vec![ESC, b'@'];
    out.extend_from_slice(&pulse(pin));
    out
}

/// Real-time status requests `DLE EOT 1..4`: printer, offline cause, error cause, paper sensor.
/// The printer answers each with one byte, in order, even while it is offline.
pub const STATUS_REQUEST: [u8; 12] = [DLE, EOT, 1, DLE, EOT, 2, DLE, EOT, 3, DLE, EOT, 4];
