//! A stand-alone terminal: not connected to the register. The cashier runs the payment on the
//! terminal and keys in what its slip printed (last four digits, scheme, authorisation code) with
//! [`keyed_approval`].

use std::fmt;

use pos_core::tender::CardAuthorization;

use crate::{Outcome, PaymentRequest, Terminal, TerminalError, clean_reference};

/// What the cashier keys in from the stand-alone terminal's slip.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct KeyedEntry {
    /// The last four digits of the card number, e.g. "4242".
    pub last4: String,
    /// The card scheme, e.g. "VISA" or "girocard".
    pub scheme: String,
    /// The authorisation code printed on the slip.
    pub auth_code: String,
}

impl KeyedEntry {
    /// An entry from the three fields.
    pub fn new(last4: impl Into<String>, scheme: impl Into<String>, auth_code: impl Into<String>) -> KeyedEntry {
        KeyedEntry { last4: last4.into(), scheme: scheme.into(), auth_code: auth_code.into() }
    }
}

/// Shows a field only when it holds at most `max_digits` digits: keyed fields are free text and a
/// cashier may type (part of) a card number into one of them.
fn shown(value: &str, max_digits: usize) -> &str {
    if digit_count(value) > max_digits { "<redacted>" } else { value }
}

impl fmt::Debug for KeyedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedEntry")
            .field("last4", &shown(&self.last4, 4))
            .field("scheme", &shown(&self.scheme, 6))
            .field("auth_code", &shown(&self.auth_code, 6))
            .finish()
    }
}

fn digit_count(value: &str) -> usize {
    value.bytes().filter(u8::is_ascii_digit).count()
}

fn allowed_chars(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-' || b == b'_')
}

const CARD_NUMBER: &str = "that looks like a full card number: never key in a card number, only its last 4 digits";

/// Checks what the cashier keyed in and returns it as an approval of `req`, with the terminal
/// reference `MANUAL-<reference>` (cleaned and cut to 40 characters).
///
/// Refused with [`TerminalError::InvalidRequest`] and a message for the cashier when the last four
/// digits are not exactly four digits, the scheme is not 1 to 20 letters, digits, spaces, `-` or `_`,
/// the authorisation code is not 1 to 12 of those, or any field looks like a card number (twelve or
/// more digits).
pub fn keyed_approval(req: &PaymentRequest, entry: &KeyedEntry) -> Result<Outcome, TerminalError> {
    req.validate()?;
    let invalid = |msg: &str| Err(TerminalError::InvalidRequest(msg.to_owned()));

    let last4 = entry.last4.trim();
    if digit_count(last4) >= 12 {
        return invalid(CARD_NUMBER);
    }
    if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
        return invalid("last 4 digits must be exactly 4 digits");
    }

    let scheme = entry.scheme.trim();
    if digit_count(scheme) >= 12 {
        return invalid(CARD_NUMBER);
    }
    if scheme.is_empty() {
        return invalid("the card scheme is missing (e.g. VISA, Mastercard, girocard)");
    }
    if scheme.chars().count() > 20 || !allowed_chars(scheme) {
        return invalid("the card scheme must be at most 20 letters, digits, spaces, '-' or '_'");
    }

    let auth_code = entry.auth_code.trim();
    if digit_count(auth_code) >= 12 {
        return invalid(CARD_NUMBER);
    }
    if auth_code.is_empty() {
        return invalid("the authorisation code is missing");
    }
    if auth_code.chars().count() > 12 || !allowed_chars(auth_code) {
        return invalid("the authorisation code must be at most 12 letters, digits, spaces, '-' or '_'");
    }

    let terminal_ref = clean_reference("MANUAL-", &req.reference);
    CardAuthorization::new(last4, scheme, auth_code, &terminal_ref)
        .map(Outcome::Approved)
        .map_err(|e| TerminalError::InvalidRequest(e.to_string()))
}

/// The stand-alone terminal. It cannot be asked anything: payments are recorded with
/// [`keyed_approval`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Standalone;

const KEY_IN: &str = "stand-alone terminal: key in the approval";

impl Terminal for Standalone {
    fn kind(&self) -> &'static str {
        "standalone"
    }

    /// Always [`TerminalError::InvalidRequest`]: run the payment on the terminal and key in the
    /// approval with [`keyed_approval`].
    fn pay(&mut self, _req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        Err(TerminalError::InvalidRequest(KEY_IN.into()))
    }

    /// Always [`TerminalError::InvalidRequest`], as for [`Terminal::pay`].
    fn refund(&mut self, _req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        Err(TerminalError::InvalidRequest(KEY_IN.into()))
    }

    /// Always [`Outcome::Cancelled`]: nothing was asked of the terminal, so nothing can have been
    /// approved behind the register's back.
    fn recover(&mut self, _req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        Ok(Outcome::Cancelled)
    }
}
