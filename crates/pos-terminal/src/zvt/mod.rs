//! ZVT over TCP: the ECR interface ("Kassenschnittstelle") that many German and European card
//! terminals speak.
//!
//! This is the subset a register needs, written from the public descriptions of the protocol:
//!
//! - Each request opens a connection, sends **Registration** (06 00: 3-byte BCD password, config
//!   byte [`CONFIG_BYTE`], currency code as 2-byte BCD) and waits for its Completion, then sends
//!   the command: **Authorization** (06 01 with BMP 04 amount and BMP 49 currency), **Refund**
//!   (06 31 with password and BMP 04) or **Repeat Receipt** (06 20 with password, for
//!   [`Terminal::recover`]).
//! - The terminal acknowledges (80 00 00; 84 00 00 and 84 9C 00 count as positive too, any other
//!   84 xx is a refusal), then sends any number of Intermediate Status (04 FF) and other messages,
//!   a Status Information (04 0F), and Completion (06 0F) or Abort (06 1E + result code). The
//!   register acknowledges each of them (an input or menu request, 04 0D / 04 0E, which it cannot
//!   serve, is answered 84 83 00).
//! - From the Status Information it reads BMP 27 (result code), 04 (amount), 49 (currency), 0B
//!   (trace number), 87 (receipt number), 3B (authorisation attribute), 22 (PAN, of which only the
//!   last four digits are kept), 8A (card type) and 8B (card name); every other BMP whose length
//!   the specification fixes (or gives as LLVAR, LLLVAR or TLV) is skipped, and a BMP of unknown
//!   length is a [`TerminalError::Protocol`].
//!
//! Received data is held in buffers that are zeroed when dropped and never printed.

mod apdu;
mod bmp;
mod link;

use std::fmt;
use std::time::{Duration, Instant};

use pos_core::money::Currency;
use pos_core::tender::CardAuthorization;
use serde::{Deserialize, Serialize};

use crate::{Outcome, PaymentRequest, Terminal, TerminalError};
use apdu::bcd_array;
#[cfg(test)]
use apdu::bcd_encode;
use bmp::{StatusInfo, parse_status};
use link::{Link, LinkError};

/// The Registration config byte: the terminal sends intermediate status information (bit 3,
/// `0x08`), the amount cannot be typed in on the terminal (bit 4, `0x10`), and the terminal prints
/// its own receipts (bits 1 and 2 clear).
pub const CONFIG_BYTE: u8 = 0x18;

/// How long the terminal has to acknowledge a command (the specification's T3, 5 seconds), unless
/// the response timeout is shorter.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Result code the terminal gives when the customer (or the timeout on the terminal) aborted.
const RC_ABORTED: u8 = 0x6C;

fn default_connect_timeout_ms() -> u64 {
    5_000
}

fn default_response_timeout_ms() -> u64 {
    120_000
}

/// Where and how to reach a ZVT terminal.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZvtConfig {
    /// The terminal's address, `host:port` (ZVT's usual port is 20007).
    pub addr: String,
    /// The terminal's ECR password: 6 digits (often `000000`).
    pub password: String,
    /// How long to wait for the TCP connection, in milliseconds (default 5000).
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long to wait for the terminal's next message while the customer is at it, in
    /// milliseconds (default 120000). Each message from the terminal (e.g. an intermediate status)
    /// restarts the wait; silence for this long ends the request with [`Outcome::TimedOut`].
    #[serde(default = "default_response_timeout_ms")]
    pub response_timeout_ms: u64,
}

impl ZvtConfig {
    /// A configuration with the default timeouts.
    pub fn new(addr: impl Into<String>, password: impl Into<String>) -> ZvtConfig {
        ZvtConfig {
            addr: addr.into(),
            password: password.into(),
            connect_timeout_ms: default_connect_timeout_ms(),
            response_timeout_ms: default_response_timeout_ms(),
        }
    }
}

impl fmt::Debug for ZvtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZvtConfig")
            .field("addr", &self.addr)
            .field("password", &"******")
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("response_timeout_ms", &self.response_timeout_ms)
            .finish()
    }
}

/// A ZVT terminal over TCP. Holds no connection between requests.
#[derive(Debug, Clone)]
pub struct ZvtTerminal {
    config: ZvtConfig,
}

impl ZvtTerminal {
    /// A terminal reached as `config` says. Nothing is contacted yet.
    pub fn new(config: ZvtConfig) -> ZvtTerminal {
        ZvtTerminal { config }
    }

    /// The configuration.
    pub fn config(&self) -> &ZvtConfig {
        &self.config
    }

    fn transact(&self, req: &PaymentRequest, cmd: Command) -> Result<Outcome, TerminalError> {
        req.validate()?;
        let params = Params::new(&self.config, req)?;
        let mut link = Link::connect(&self.config.addr, Duration::from_millis(self.config.connect_timeout_ms))?;
        let mut session = Session {
            link: &mut link,
            response_timeout: Duration::from_millis(self.config.response_timeout_ms.max(1)),
        };
        let result = session.run(req, cmd, &params);
        link.close();
        result
    }
}

impl Terminal for ZvtTerminal {
    fn kind(&self) -> &'static str {
        "zvt"
    }

    /// Registration, then Authorization (06 01) for the amount and currency of `req`.
    fn pay(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        self.transact(req, Command::Pay)
    }

    /// Registration, then Refund (06 31) for the amount of `req`.
    fn refund(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        self.transact(req, Command::Refund)
    }

    /// Asks the terminal to repeat the receipt of its last transaction (06 20) and reads the
    /// Status Information that comes with it. Approved only if that transaction's result code is
    /// 00 and its amount (and currency, when given) equal `req`'s; otherwise
    /// [`Outcome::Cancelled`] (also when the terminal aborts or refuses the repeat). Silence is
    /// [`Outcome::TimedOut`]; an unreachable terminal is an error.
    ///
    /// Limits: ZVT terminals do not know the register's reference, so "this very request" can only
    /// be matched by amount and by being the terminal's last transaction. If another payment of
    /// the same amount was made on the terminal afterwards, or the lost one never reached the
    /// terminal but an earlier one of the same amount was its last, the answer is wrong; a refund
    /// of the same amount cannot be told apart from a payment either. The terminal also prints the
    /// receipt copy. The cashier should confirm a recovered approval against the terminal's slip.
    fn recover(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        self.transact(req, Command::RepeatReceipt)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Pay,
    Refund,
    RepeatReceipt,
}

/// The encoded fields of one request.
struct Params {
    password: [u8; 3],
    currency: u16,
    currency_bcd: [u8; 2],
    amount_bcd: [u8; 6],
}

impl Params {
    fn new(config: &ZvtConfig, req: &PaymentRequest) -> Result<Params, TerminalError> {
        let pw = config.password.trim();
        let password = match pw.parse::<u64>() {
            Ok(n) if pw.len() == 6 && pw.bytes().all(|b| b.is_ascii_digit()) => bcd_array::<3>(n),
            _ => None,
        }
        .ok_or_else(|| TerminalError::InvalidRequest("the ZVT terminal password must be 6 digits".into()))?;
        let currency = iso_numeric(req.currency).ok_or_else(|| {
            TerminalError::InvalidRequest(format!(
                "currency {} is not supported by the ZVT terminal link",
                req.currency
            ))
        })?;
        let currency_bcd = bcd_array::<2>(u64::from(currency))
            .ok_or_else(|| TerminalError::InvalidRequest(format!("currency {} has no 4-digit code", req.currency)))?;
        let amount_bcd = u64::try_from(req.amount_minor).ok().and_then(bcd_array::<6>).ok_or_else(|| {
            TerminalError::InvalidRequest("the amount is too large for the terminal (at most 12 digits)".into())
        })?;
        Ok(Params { password, currency, currency_bcd, amount_bcd })
    }
}

/// How a message exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Completion,
    Abort(Option<u8>),
    Link(LinkError),
}

/// What the terminal said after acknowledging a command.
#[derive(Debug)]
struct Exchange {
    status: Option<StatusInfo>,
    end: End,
}

enum Ack {
    Positive,
    Negative(u8),
    /// Some other message where the acknowledgement belongs.
    Unexpected(u8, u8),
    Timeout,
}

struct Session<'a> {
    link: &'a mut Link,
    response_timeout: Duration,
}

impl Session<'_> {
    fn run(&mut self, req: &PaymentRequest, cmd: Command, p: &Params) -> Result<Outcome, TerminalError> {
        // Registration: password, config byte, currency.
        let mut reg = Vec::with_capacity(6);
        reg.extend_from_slice(&p.password);
        reg.push(CONFIG_BYTE);
        reg.extend_from_slice(&p.currency_bcd);
        match self.command(0x06, 0x00, &reg).map_err(registration_link_error)? {
            Ack::Positive => {}
            Ack::Negative(code) => {
                return Err(TerminalError::Refused(format!(
                    "registration refused (84 {code:02X}); check the terminal password"
                )));
            }
            Ack::Unexpected(c, i) => return Err(unexpected(c, i)),
            Ack::Timeout => return Ok(Outcome::TimedOut),
        }
        let ex = self.exchange()?;
        match ex.end {
            End::Completion => {}
            End::Abort(code) => {
                return Err(TerminalError::Refused(format!(
                    "registration aborted: {}; check the terminal password and currency",
                    result_text(code)
                )));
            }
            End::Link(LinkError::Timeout) => return Ok(Outcome::TimedOut),
            End::Link(e) => return Err(registration_link_error(e)),
        }

        let mut data = Vec::with_capacity(16);
        let (class, instr) = match cmd {
            Command::Pay => {
                data.push(0x04);
                data.extend_from_slice(&p.amount_bcd);
                data.push(0x49);
                data.extend_from_slice(&p.currency_bcd);
                (0x06, 0x01)
            }
            Command::Refund => {
                data.extend_from_slice(&p.password);
                data.push(0x04);
                data.extend_from_slice(&p.amount_bcd);
                (0x06, 0x31)
            }
            Command::RepeatReceipt => {
                data.extend_from_slice(&p.password);
                (0x06, 0x20)
            }
        };
        match self.command(class, instr, &data).map_err(lost)? {
            Ack::Positive => {}
            Ack::Negative(_) if cmd == Command::RepeatReceipt => return Ok(Outcome::Cancelled),
            Ack::Negative(code) => {
                return Err(TerminalError::Refused(format!("negative acknowledgement 84 {code:02X}")));
            }
            Ack::Unexpected(c, i) => return Err(unexpected(c, i)),
            Ack::Timeout => {
                // The command may have arrived all the same: ask the terminal to stop (06 B0).
                let _ = self.link.send(0x06, 0xB0, &[]);
                return Ok(Outcome::TimedOut);
            }
        }
        let ex = self.exchange()?;
        if ex.end == End::Link(LinkError::Timeout) {
            // Ask the terminal to stop waiting for the customer (06 B0); best effort, no answer read.
            let _ = self.link.send(0x06, 0xB0, &[]);
        }
        match cmd {
            Command::Pay | Command::Refund => finish(ex, req, p),
            Command::RepeatReceipt => recovered(ex, req, p),
        }
    }

    /// Sends a command and waits for its acknowledgement.
    fn command(&mut self, class: u8, instr: u8, data: &[u8]) -> Result<Ack, LinkError> {
        self.link.send(class, instr, data)?;
        let deadline = Instant::now() + ACK_TIMEOUT.min(self.response_timeout);
        let reply = match self.link.read_apdu(deadline) {
            Ok(reply) => reply,
            Err(LinkError::Timeout) => return Ok(Ack::Timeout),
            Err(e) => return Err(e),
        };
        Ok(match (reply.class, reply.instr) {
            (0x80, _) | (0x84, 0x00) | (0x84, 0x9C) => Ack::Positive,
            (0x84, code) => Ack::Negative(code),
            // An Abort instead of the acknowledgement: the command was not started.
            (0x06, 0x1E) => Ack::Negative(reply.data.first().copied().unwrap_or(0)),
            (c, i) => Ack::Unexpected(c, i),
        })
    }

    /// Reads the terminal's messages until Completion, Abort, timeout or a broken connection,
    /// acknowledging each one and keeping the (last) Status Information.
    fn exchange(&mut self) -> Result<Exchange, TerminalError> {
        let mut status = None;
        loop {
            let deadline = Instant::now() + self.response_timeout;
            let msg = match self.link.read_apdu(deadline) {
                Ok(msg) => msg,
                Err(e) => return Ok(Exchange { status, end: End::Link(e) }),
            };
            let answered = match (msg.class, msg.instr) {
                (0x04, 0x0F) => {
                    let info = parse_status(&msg.data).map_err(TerminalError::Protocol)?;
                    drop(msg);
                    status = Some(info);
                    self.link.ack()
                }
                (0x06, 0x0F) => {
                    let _ = self.link.ack();
                    return Ok(Exchange { status, end: End::Completion });
                }
                (0x06, 0x1E) => {
                    let code = msg.data.first().copied();
                    let _ = self.link.ack();
                    return Ok(Exchange { status, end: End::Abort(code) });
                }
                // Input and menu requests need an answer the register cannot give.
                (0x04, 0x0D) | (0x04, 0x0E) => self.link.send(0x84, 0x83, &[]),
                // Stray acknowledgements need no answer.
                (0x80, _) | (0x84, _) => Ok(()),
                // Intermediate status (04 FF), print line / text block (06 D1 / 06 D3) and the rest.
                _ => self.link.ack(),
            };
            if let Err(e) = answered {
                return Ok(Exchange { status, end: End::Link(e) });
            }
        }
    }
}

fn unexpected(class: u8, instr: u8) -> TerminalError {
    TerminalError::Protocol(format!("expected an acknowledgement, the terminal sent {class:02X} {instr:02X}"))
}

fn registration_link_error(e: LinkError) -> TerminalError {
    TerminalError::Unreachable(match e {
        LinkError::Closed => "the terminal closed the connection during registration".into(),
        LinkError::Timeout => "the terminal did not answer the registration".into(),
        LinkError::Io(kind) => format!("connection failed during registration: {kind}"),
    })
}

fn lost(e: LinkError) -> TerminalError {
    TerminalError::ConnectionLost(match e {
        LinkError::Closed => "the terminal closed the connection".into(),
        LinkError::Timeout => "the terminal stopped answering".into(),
        LinkError::Io(kind) => kind.to_string(),
    })
}

/// The outcome of a payment or refund.
fn finish(ex: Exchange, req: &PaymentRequest, p: &Params) -> Result<Outcome, TerminalError> {
    match (ex.end, ex.status) {
        (End::Abort(code), status) => Ok(abort_outcome(code.or(status.and_then(|s| s.result)))),
        (End::Completion, Some(status)) => from_status(&status, req, p),
        (End::Completion, None) => Err(TerminalError::Protocol(
            "the terminal completed without reporting a result (no status information)".into(),
        )),
        // The result arrived and was acknowledged before the connection went: it stands.
        (End::Link(_), Some(status)) if status.result.is_some() => from_status(&status, req, p),
        (End::Link(LinkError::Timeout), _) => Ok(Outcome::TimedOut),
        (End::Link(e), _) => Err(lost(e)),
    }
}

/// The outcome of a Repeat Receipt, for [`Terminal::recover`].
fn recovered(ex: Exchange, req: &PaymentRequest, p: &Params) -> Result<Outcome, TerminalError> {
    let status = match (ex.end, ex.status) {
        (End::Abort(_), _) | (End::Completion, None) => return Ok(Outcome::Cancelled),
        (_, Some(status)) => status,
        (End::Link(LinkError::Timeout), None) => return Ok(Outcome::TimedOut),
        (End::Link(e), None) => return Err(lost(e)),
    };
    let same_amount = status.amount == u64::try_from(req.amount_minor).ok();
    let same_currency = status.currency.is_none_or(|c| c == p.currency);
    if status.result == Some(0) && same_amount && same_currency {
        authorization(&status).map(Outcome::Approved)
    } else {
        Ok(Outcome::Cancelled)
    }
}

fn from_status(status: &StatusInfo, req: &PaymentRequest, p: &Params) -> Result<Outcome, TerminalError> {
    match status.result {
        Some(0) => {
            if let Some(amount) = status.amount
                && u64::try_from(req.amount_minor).ok() != Some(amount)
            {
                return Err(TerminalError::Protocol(format!(
                    "the terminal approved {amount} minor units instead of the {} asked for; check its journal",
                    req.amount_minor
                )));
            }
            if let Some(currency) = status.currency
                && currency != p.currency
            {
                return Err(TerminalError::Protocol(format!(
                    "the terminal approved in currency {currency} instead of {}; check its journal",
                    p.currency
                )));
            }
            authorization(status).map(Outcome::Approved)
        }
        code @ Some(_) => Ok(abort_outcome(code)),
        None => Err(TerminalError::Protocol("status information without a result code".into())),
    }
}

fn abort_outcome(code: Option<u8>) -> Outcome {
    match code {
        Some(RC_ABORTED) => Outcome::Cancelled,
        code => Outcome::Declined { reason: result_text(code) },
    }
}

/// The approval as [`CardAuthorization`]: last four digits from BMP 22 (`0000` when the terminal
/// sent none), scheme from the card name (BMP 8B) or card type (BMP 8A) or `CARD`, authorisation
/// code from BMP 3B or else the trace number, and terminal reference `ZVT-<trace>-<receipt>`.
fn authorization(status: &StatusInfo) -> Result<CardAuthorization, TerminalError> {
    let last4 = status.last4.as_deref().unwrap_or("0000");
    let scheme = status
        .card_name
        .clone()
        .or_else(|| status.card_type.and_then(card_type_name).map(str::to_owned))
        .unwrap_or_else(|| "CARD".into());
    let trace = status.trace.map(|t| format!("{:06}", t % 1_000_000));
    let receipt = status.receipt.map(|r| format!("{:04}", r % 10_000));
    let auth_code = status.auth_code.clone().or_else(|| trace.clone()).unwrap_or_else(|| "NONE".into());
    let terminal_ref = format!("ZVT-{}-{}", trace.as_deref().unwrap_or("NA"), receipt.as_deref().unwrap_or("NA"));
    CardAuthorization::new(last4, &scheme, &auth_code, &terminal_ref)
        .or_else(|_| CardAuthorization::new(last4, "CARD", &auth_code, &terminal_ref))
        .map_err(|e| TerminalError::Protocol(format!("the terminal's approval cannot be recorded: {e}")))
}

/// Card names for the ZVT card type numbers of BMP 8A.
fn card_type_name(card_type: u8) -> Option<&'static str> {
    Some(match card_type {
        2 => "ec-card",
        5 => "girocard",
        6 => "Mastercard",
        8 => "American Express",
        10 => "VISA",
        11 => "VISA Electron",
        12 => "Diners",
        13 => "V PAY",
        14 => "JCB",
        46 => "Maestro",
        196 => "Dankort",
        198 => "UnionPay",
        232 => "Discover",
        _ => return None,
    })
}

/// The cashier's words for a ZVT result code (BMP 27, or the code of an Abort).
fn result_text(code: Option<u8>) -> String {
    let Some(code) = code else {
        return "aborted by the terminal (no result code)".into();
    };
    let text = match code {
        0x01..=0x63 => "declined by the card issuer or network",
        0x64 => "card not readable",
        0x65 => "card data not present",
        0x66 => "processing error",
        0x67 => "function not permitted for this debit card",
        0x68 => "function not permitted for this credit card",
        0x6A => "turnover file full",
        0x6B => "function deactivated (terminal not registered)",
        0x6C => "aborted on the terminal",
        0x6E => "card in blocked list",
        0x6F => "wrong currency",
        0x71 => "credit not sufficient",
        0x72 => "chip error",
        0x73 => "card data incorrect",
        0x77 => "end-of-day batch not possible",
        0x78 => "card expired",
        0x79 => "card not yet valid",
        0x7A => "card unknown",
        0x7D => "communication error",
        0x83 => "function not possible",
        0x9A => "ZVT protocol error",
        0x9C => "terminal busy, please wait",
        0xA0 => "receiver not ready",
        0xA1 => "remote station does not respond",
        0xA3 => "no connection",
        0xC3 => "maximum amount exceeded",
        0xC5 => "payment method not supported",
        0xC6 => "currency not applicable",
        0xC8 => "amount too small",
        0xCC => "terminal printer not ready",
        0xFF => "system error",
        _ => "declined by the terminal",
    };
    format!("{text} (terminal result code 0x{code:02X})")
}

/// The ISO 4217 numeric code of a currency.
fn iso_numeric(currency: Currency) -> Option<u16> {
    Some(match currency.code() {
        "EUR" => 978,
        "USD" => 840,
        "GBP" => 826,
        "CHF" => 756,
        "AUD" => 36,
        "NZD" => 554,
        "CAD" => 124,
        "SEK" => 752,
        "NOK" => 578,
        "DKK" => 208,
        "PLN" => 985,
        "CZK" => 203,
        "TRY" => 949,
        "HUF" => 348,
        "RON" => 946,
        "BGN" => 975,
        "ZAR" => 710,
        "MXN" => 484,
        "BRL" => 986,
        "JPY" => 392,
        "KRW" => 410,
        "ISK" => 352,
        "CLP" => 152,
        "KWD" => 414,
        "BHD" => 48,
        "OMR" => 512,
        "TND" => 788,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes() {
        assert_eq!(iso_numeric(Currency::EUR), Some(978));
        assert_eq!(iso_numeric(Currency::USD), Some(840));
        assert_eq!(iso_numeric(Currency::GBP), Some(826));
        assert_eq!(iso_numeric(Currency::CHF), Some(756));
        assert_eq!(iso_numeric(Currency::JPY), Some(392));
        assert_eq!(bcd_encode(978, 2).unwrap(), [0x09, 0x78]);
    }

    #[test]
    fn params_encode_password_amount_currency() {
        let cfg = ZvtConfig::new("127.0.0.1:1", "123456");
        let p = Params::new(&cfg, &PaymentRequest::new("R", 1234, Currency::EUR)).unwrap();
        assert_eq!(p.password, [0x12, 0x34, 0x56]);
        assert_eq!(p.amount_bcd, [0, 0, 0, 0, 0x12, 0x34]);
        assert_eq!(p.currency_bcd, [0x09, 0x78]);
        for bad in ["12345", "1234567", "12a456", ""] {
            let cfg = ZvtConfig::new("127.0.0.1:1", bad);
            assert!(Params::new(&cfg, &PaymentRequest::new("R", 1, Currency::EUR)).is_err(), "{bad}");
        }
        let big = PaymentRequest::new("R", 1_000_000_000_000, Currency::EUR);
        assert!(Params::new(&cfg, &big).is_err());
    }

    #[test]
    fn results() {
        assert_eq!(abort_outcome(Some(0x6C)), Outcome::Cancelled);
        match abort_outcome(Some(0x78)) {
            Outcome::Declined { reason } => assert_eq!(reason, "card expired (terminal result code 0x78)"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(abort_outcome(None), Outcome::Declined { .. }));
    }

    #[test]
    fn authorization_fallbacks() {
        let s = StatusInfo { result: Some(0), trace: Some(77), card_type: Some(10), ..StatusInfo::default() };
        let a = authorization(&s).unwrap();
        assert_eq!(
            (a.last4(), a.scheme(), a.auth_code(), a.terminal_ref()),
            ("0000", "VISA", "000077", "ZVT-000077-NA")
        );
        let a = authorization(&StatusInfo::default()).unwrap();
        assert_eq!((a.scheme(), a.auth_code(), a.terminal_ref()), ("CARD", "NONE", "ZVT-NA-NA"));
    }

    #[test]
    fn config_debug_hides_password() {
        let cfg = ZvtConfig::new("10.0.0.5:20007", "987654");
        assert!(!format!("{cfg:?}").contains("987654"));
    }
}
