//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, one step either side, and never the same
//! step twice. Works offline: only the secret and the time are needed.

use data_encoding::BASE32_NOPAD;
use totp_rs::{Algorithm, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_SECS: u64 = 30;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_LEN: usize = 20;

fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 1, STEP_SECS, secret.to_vec())
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("a code is 6 digits")]
    Malformed,
    #[error("the code is wrong or too old")]
    Wrong,
    #[error("this code (or a later one) was already used")]
    Replayed,
}

/// The code for the step holding `unix_secs`.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    totp(secret).generate(unix_secs)
}

/// Checks `code` at `unix_secs` against the current step and one either side. A step at or before
/// `last_step` (the last accepted one) is refused, so a code is never accepted twice. Returns the
/// step that matched; the caller stores it as the new `last_step`.
pub fn verify(secret: &[u8], code: &str, unix_secs: u64, last_step: Option<u64>) -> Result<u64, TotpError> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    let t = totp(secret);
    let now = unix_secs / STEP_SECS;
    let mut matched = None;
    // Check every candidate step (no early exit) so timing says nothing about which matched.
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = t.generate(step * STEP_SECS);
        let same = expected.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same && matched.is_none() {
            matched = Some(step);
        }
    }
    let step = matched.ok_or(TotpError::Wrong)?;
    if last_step.is_some_and(|last| step <= last) {
        return Err(TotpError::Replayed);
    }
    Ok(step)
}

/// The secret in the base32 form authenticator apps accept.
pub fn secret_base32(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

fn uri_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `otpauth://` URI an authenticator app enrols from.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let (issuer, account) = (uri_escape(issuer), uri_escape(account));
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        secret_base32(secret)
    )
}

/// The URI as a QR code in SVG, for the enrolment screen.
pub fn qr_svg(uri: &str) -> Result<String, String> {
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("QR code: {e}"))?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).quiet_zone(true).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B: SHA-1 secret "12345678901234567890"; the 6-digit codes are the last six
    // digits of the published 8-digit values.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_vectors() {
        for (t, full) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, t), &full[2..], "t={t}");
        }
    }

    #[test]
    fn one_step_either_side_no_more_and_never_twice() {
        let t = 1_111_111_111;
        let now = code_at(RFC_SECRET, t);
        let step = verify(RFC_SECRET, &now, t, None).unwrap();
        assert_eq!(step, t / 30);
        assert_eq!(verify(RFC_SECRET, &now, t, Some(step)), Err(TotpError::Replayed));
        let prev = code_at(RFC_SECRET, t - 30);
        assert_eq!(verify(RFC_SECRET, &prev, t, None), Ok(t / 30 - 1));
        assert_eq!(verify(RFC_SECRET, &prev, t, Some(step)), Err(TotpError::Replayed));
        let two_old = code_at(RFC_SECRET, t - 60);
        assert_eq!(verify(RFC_SECRET, &two_old, t, None), Err(TotpError::Wrong));
        assert_eq!(verify(RFC_SECRET, "12345", t, None), Err(TotpError::Malformed));
    }

    #[test]
    fn uri_names_the_parameters() {
        let uri = otpauth_uri(RFC_SECRET, "Café Lindenblatt", "Oskar Brandt");
        assert!(uri.starts_with(
            "otpauth://totp/Caf%C3%A9%20Lindenblatt:Oskar%20Brandt?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"
        ));
        assert!(uri.ends_with("algorithm=SHA1&digits=6&period=30"));
        assert!(qr_svg(&uri).unwrap().contains("<svg"));
    }
}
