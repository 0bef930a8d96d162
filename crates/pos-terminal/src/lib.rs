//! Card payment terminals behind one interface.
//!
//! The register asks a [`Terminal`] to take a payment or a refund for a [`PaymentRequest`] and gets
//! back an [`Outcome`]. Card numbers never enter the program: an approval carries only what
//! [`CardAuthorization`] can hold (last four digits, scheme, authorisation code and the terminal's
//! reference), and nothing in this crate's `Debug` output, error messages or panics contains more
//! than the last four digits of a card number.
//!
//! Three kinds of terminal are available, chosen by [`TerminalConfig`] and opened with [`connect`]:
//!
//! - [`simulator::Simulator`]: answers with a configured outcome after a real delay, and keeps a
//!   journal so that [`Terminal::recover`] works after the register crashed;
//! - [`standalone::Standalone`]: a separate terminal not connected to the register; the cashier keys
//!   in what it printed ([`standalone::keyed_approval`]);
//! - [`zvt::ZvtTerminal`]: a terminal speaking ZVT (the ECR interface common in Germany and
//!   neighbouring countries) over TCP.

use serde::{Deserialize, Serialize};

pub use pos_core::money::Currency;
pub use pos_core::tender::CardAuthorization;

pub mod simulator;
pub mod standalone;
pub mod zvt;

pub use simulator::{SimOutcome, Simulator, SimulatorConfig};
pub use standalone::{KeyedEntry, Standalone, keyed_approval};
pub use zvt::{ZvtConfig, ZvtTerminal};

/// Longest accepted [`PaymentRequest::reference`], in characters.
pub const MAX_REFERENCE_LEN: usize = 40;

/// One payment or refund the register asks a terminal for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// The register's pending-payment id (at most [`MAX_REFERENCE_LEN`] characters). Terminals
    /// that can keep it (the simulator) answer [`Terminal::recover`] by it.
    pub reference: String,
    /// The amount in minor units of `currency`; must be more than zero.
    pub amount_minor: i64,
    /// The currency of `amount_minor`.
    pub currency: Currency,
}

impl PaymentRequest {
    /// A request for `amount_minor` minor units of `currency` under the register's `reference`.
    pub fn new(reference: impl Into<String>, amount_minor: i64, currency: Currency) -> PaymentRequest {
        PaymentRequest { reference: reference.into(), amount_minor, currency }
    }

    /// Checks the request: a non-empty reference of at most 40 characters without control
    /// characters, and an amount above zero.
    pub fn validate(&self) -> Result<(), TerminalError> {
        let reference = self.reference.trim();
        if reference.is_empty() {
            return Err(TerminalError::InvalidRequest("the payment reference is empty".into()));
        }
        if self.reference.chars().count() > MAX_REFERENCE_LEN {
            return Err(TerminalError::InvalidRequest(format!(
                "the payment reference is longer than {MAX_REFERENCE_LEN} characters"
            )));
        }
        if self.reference.chars().any(char::is_control) {
            return Err(TerminalError::InvalidRequest("the payment reference contains control characters".into()));
        }
        if self.amount_minor <= 0 {
            return Err(TerminalError::InvalidRequest("the amount must be more than zero".into()));
        }
        Ok(())
    }
}

/// What became of a payment or refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The card was charged (or credited, for a refund).
    Approved(CardAuthorization),
    /// The issuer or the terminal declined; `reason` is for the cashier and holds no card data.
    Declined {
        /// Why, in words, e.g. "card expired (terminal result code 0x78)".
        reason: String,
    },
    /// The customer or the cashier cancelled on the terminal, or nothing was asked of it.
    Cancelled,
    /// The terminal did not answer in time. The outcome is unknown: ask [`Terminal::recover`].
    TimedOut,
}

impl Outcome {
    /// The authorisation when approved.
    pub fn approval(&self) -> Option<&CardAuthorization> {
        match self {
            Outcome::Approved(auth) => Some(auth),
            _ => None,
        }
    }
}

/// Why a terminal could not give an [`Outcome`]. Messages never contain card data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerminalError {
    /// The terminal could not be reached (nothing listening, no route, name not resolved). Nothing
    /// was charged.
    #[error("payment terminal unreachable: {0}")]
    Unreachable(String),
    /// The connection broke while a payment was under way. The outcome is unknown: ask
    /// [`Terminal::recover`].
    #[error("connection to the payment terminal lost: {0} (the outcome is unknown; recover the payment)")]
    ConnectionLost(String),
    /// The terminal sent something this crate does not understand.
    #[error("payment terminal protocol error: {0}")]
    Protocol(String),
    /// The terminal refused the command before starting it (negative acknowledgement, or a refused
    /// registration). Nothing was charged.
    #[error("the payment terminal refused the request: {0}")]
    Refused(String),
    /// The request (or what the cashier keyed in) is not valid; the message says what is wrong.
    #[error("{0}")]
    InvalidRequest(String),
}

/// A card payment terminal.
pub trait Terminal: Send {
    /// What kind of terminal this is: `"simulator"`, `"standalone"` or `"zvt"`.
    fn kind(&self) -> &'static str;

    /// Takes the payment `req`; blocks while the customer presents the card.
    fn pay(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError>;

    /// Pays `req.amount_minor` back onto a card; blocks while the customer presents the card.
    fn refund(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError>;

    /// After a crash or lost connection: what became of the request `req` whose outcome the register
    /// never recorded?
    ///
    /// Approved only when the terminal confirms that this very request was approved; otherwise
    /// Cancelled/Declined.
    fn recover(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError>;
}

/// Which terminal the register uses, as stored in its settings (JSON with a `kind` tag).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TerminalConfig {
    /// The built-in simulator.
    Simulator(SimulatorConfig),
    /// A stand-alone terminal; the cashier keys in its approval.
    Standalone,
    /// A ZVT terminal over TCP.
    Zvt(ZvtConfig),
}

/// Opens the terminal `config` describes. Nothing is contacted yet: a ZVT terminal connects for
/// each request, so an unreachable terminal is reported by [`Terminal::pay`].
pub fn connect(config: &TerminalConfig) -> Box<dyn Terminal> {
    match config {
        TerminalConfig::Simulator(c) => Box::new(Simulator::new(c.clone())),
        TerminalConfig::Standalone => Box::new(Standalone),
        TerminalConfig::Zvt(c) => Box::new(ZvtTerminal::new(c.clone())),
    }
}

/// Builds a terminal reference `prefix` + `text` that [`CardAuthorization`] accepts: characters
/// other than letters, digits, space, `-` and `_` become `-`, a run of digits never reaches twelve
/// (a `-` is put in first), and the result is cut to 40 characters.
pub(crate) fn clean_reference(prefix: &str, text: &str) -> String {
    let mut out = String::with_capacity(40);
    let mut run = 0usize;
    for c in prefix.chars().chain(text.trim().chars()) {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ' ' { c } else { '-' };
        if c.is_ascii_digit() {
            if run == 11 {
                out.push('-');
                run = 0;
            }
            run += 1;
        } else {
            run = 0;
        }
        out.push(c);
    }
    out.truncate(40);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_validation() {
        assert!(PaymentRequest::new("P-1", 100, Currency::EUR).validate().is_ok());
        assert!(PaymentRequest::new("", 100, Currency::EUR).validate().is_err());
        assert!(PaymentRequest::new("P-1", 0, Currency::EUR).validate().is_err());
        assert!(PaymentRequest::new("x".repeat(41), 1, Currency::EUR).validate().is_err());
        assert!(PaymentRequest::new("x".repeat(40), 1, Currency::EUR).validate().is_ok());
    }

    #[test]
    fn clean_reference_fits_card_authorization() {
        let r = clean_reference("MANUAL-", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        assert_eq!(r.len(), 40);
        assert!(r.starts_with("MANUAL-0190a1b2-c3d4"));
        let r = clean_reference("MANUAL-", "order/1234567890123456");
        assert!(CardAuthorization::new("4242", "VISA", "A1", &r).is_ok(), "{r}");
        assert!(!r.contains("123456789012"));
    }

    #[test]
    fn config_json_shape() {
        let c: TerminalConfig = serde_json::from_str(r#"{"kind":"standalone"}"#).unwrap();
        assert_eq!(c, TerminalConfig::Standalone);
        let c: TerminalConfig =
            serde_json::from_str(r#"{"kind":"simulator","outcome":"decline","delay_ms":5}"#).unwrap();
        match c {
            TerminalConfig::Simulator(s) => {
                assert_eq!(s.outcome, SimOutcome::Decline);
                assert_eq!(s.delay_ms, 5);
                assert_eq!(s.last4, "4242");
            }
            other => panic!("unexpected {other:?}"),
        }
        let c: TerminalConfig =
            serde_json::from_str(r#"{"kind":"zvt","addr":"10.0.0.5:20007","password":"000000"}"#).unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""kind":"zvt""#), "{json}");
        assert_eq!(connect(&c).kind(), "zvt");
        assert_eq!(connect(&TerminalConfig::Standalone).kind(), "standalone");
    }
}
