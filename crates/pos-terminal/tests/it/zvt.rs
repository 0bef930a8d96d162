//! ZVT against the fake terminal.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use pos_core::money::Currency;
use pos_terminal::{Outcome, PaymentRequest, Terminal, TerminalConfig, TerminalError, ZvtConfig, ZvtTerminal, connect};

use crate::fake_zvt::{Conn, accept, approved_status, bcd, spawn};

const PASSWORD: &str = "123456";

fn terminal(addr: &str, response_timeout_ms: u64) -> ZvtTerminal {
    let mut cfg = ZvtConfig::new(addr, PASSWORD);
    cfg.connect_timeout_ms = 2_000;
    cfg.response_timeout_ms = response_timeout_ms;
    ZvtTerminal::new(cfg)
}

fn eur(reference: &str, minor: i64) -> PaymentRequest {
    PaymentRequest::new(reference, minor, Currency::EUR)
}

/// No Debug or Display text of the result contains card digits beyond the last four.
fn assert_no_card_digits<T: std::fmt::Debug>(result: &T, forbidden: &[&str]) {
    let text = format!("{result:?}");
    for f in forbidden {
        assert!(!text.contains(f), "{text:?} contains {f:?}");
    }
}

fn assert_no_card_digits_in_error(err: &TerminalError, forbidden: &[&str]) {
    assert_no_card_digits(err, forbidden);
    let shown = err.to_string();
    for f in forbidden {
        assert!(!shown.contains(f), "{shown:?} contains {f:?}");
    }
}

/// Serves the registration, takes the authorization and acknowledges it; returns its data.
fn start_payment(c: &mut Conn) -> Vec<u8> {
    c.register();
    let auth = c.expect(0x06, 0x01);
    c.ack();
    auth
}

#[test]
fn approved_payment_puts_the_amount_on_the_wire() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        let reg = c.register();
        let auth = c.expect(0x06, 0x01);
        c.ack();
        c.say(0x04, 0xFF, &[0x0A]); // insert card
        c.say(0x04, 0xFF, &[0x0E, 0x05]); // please wait, with a timeout byte
        // The result, sent a few bytes at a time.
        c.send_chunked(0x04, 0x0F, &approved_status(1234));
        c.expect_ack();
        c.send(0x06, 0x0F, &[]);
        c.expect_ack();
        c.drain();
        (reg, auth)
    });
    let mut t = terminal(&addr, 5_000);
    let outcome = t.pay(&eur("PAY-1", 1234)).unwrap();
    let (reg, auth) = fake.join().unwrap();

    // Registration: BCD password 12 34 56, config byte, currency 09 78 (EUR).
    assert_eq!(reg.len(), 6);
    assert_eq!(&reg[..3], &[0x12, 0x34, 0x56]);
    assert_eq!(&reg[4..], &[0x09, 0x78]);
    // Authorization: BMP 04 with 12.34 as 6-byte BCD, BMP 49 currency.
    assert_eq!(auth, [0x04, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x49, 0x09, 0x78]);

    let a = outcome.approval().expect("approved");
    assert_eq!(a.last4(), "4242");
    assert_eq!(a.scheme(), "VISA");
    assert_eq!(a.auth_code(), "123456");
    assert_eq!(a.terminal_ref(), "ZVT-000123-0042");
    assert_no_card_digits(&outcome, &["671234", "6712", "EEEE"]);
}

#[test]
fn large_amount_bcd() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        let auth = start_payment(&mut c);
        c.say(0x04, 0x0F, &approved_status(987_654_321_012));
        c.say(0x06, 0x0F, &[]);
        auth
    });
    let outcome = terminal(&addr, 5_000).pay(&eur("PAY-BIG", 987_654_321_012)).unwrap();
    let auth = fake.join().unwrap();
    assert_eq!(&auth[..7], &[0x04, 0x98, 0x76, 0x54, 0x32, 0x10, 0x12]);
    assert!(matches!(outcome, Outcome::Approved(_)));
}

#[test]
fn declined_by_issuer() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        let mut status = vec![0x27, 0x05, 0x04];
        status.extend(bcd(500, 6));
        status.extend([0x22, 0xF0, 0xF8, 0x67, 0x12, 0x34, 0xEE, 0xEE, 0xEE, 0x42, 0x42]);
        c.say(0x04, 0x0F, &status);
        c.say(0x06, 0x1E, &[0x05]);
    });
    let outcome = terminal(&addr, 5_000).pay(&eur("PAY-2", 500)).unwrap();
    fake.join().unwrap();
    match &outcome {
        Outcome::Declined { reason } => assert!(reason.contains("0x05"), "{reason}"),
        other => panic!("expected a decline, got {other:?}"),
    }
    assert_no_card_digits(&outcome, &["671234", "4242"]);
}

#[test]
fn declined_card_expired_abort_only() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        c.say(0x06, 0x1E, &[0x78]);
    });
    let outcome = terminal(&addr, 5_000).pay(&eur("PAY-3", 500)).unwrap();
    fake.join().unwrap();
    assert_eq!(outcome, Outcome::Declined { reason: "card expired (terminal result code 0x78)".into() });
}

#[test]
fn aborted_by_customer_is_cancelled() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        c.say(0x04, 0xFF, &[0x0A]);
        c.say(0x06, 0x1E, &[0x6C]);
    });
    let outcome = terminal(&addr, 5_000).pay(&eur("PAY-4", 500)).unwrap();
    fake.join().unwrap();
    assert_eq!(outcome, Outcome::Cancelled);
}

#[test]
fn terminal_never_answering_times_out() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        // Reads the registration and then says nothing until the register hangs up.
        c.drain();
        c.received
    });
    let start = Instant::now();
    let outcome = terminal(&addr, 400).pay(&eur("PAY-5", 500)).unwrap();
    let elapsed = start.elapsed();
    let received = fake.join().unwrap();
    assert_eq!(outcome, Outcome::TimedOut);
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2_500), "{elapsed:?}");
    // Nothing but the registration was sent: no payment was started.
    assert_eq!(received.len(), 1);
    assert_eq!((received[0].0, received[0].1), (0x06, 0x00));
}

#[test]
fn customer_walking_away_times_out_and_the_register_aborts() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        c.say(0x04, 0xFF, &[0x0A]);
        c.drain();
        c.received
    });
    let start = Instant::now();
    let outcome = terminal(&addr, 500).pay(&eur("PAY-6", 500)).unwrap();
    let elapsed = start.elapsed();
    let received = fake.join().unwrap();
    assert_eq!(outcome, Outcome::TimedOut);
    // The wait restarts with the intermediate status, so at least one timeout passes after it.
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(3_000), "{elapsed:?}");
    let last = received.last().unwrap();
    assert_eq!((last.0, last.1), (0x06, 0xB0), "the register asks the terminal to abort");
}

#[test]
fn nothing_listening_is_unreachable() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let err = terminal(&addr, 1_000).pay(&eur("PAY-7", 500)).unwrap_err();
    assert!(matches!(err, TerminalError::Unreachable(_)), "{err:?}");
    let err = terminal("no-such-host.invalid:20007", 1_000).pay(&eur("PAY-7", 500)).unwrap_err();
    assert!(matches!(err, TerminalError::Unreachable(_)), "{err:?}");
}

#[test]
fn dropped_connection_mid_transaction_is_not_approved() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        c.say(0x04, 0xFF, &[0x0A]);
        // The terminal goes away (power cut, cable pulled).
    });
    let result = terminal(&addr, 5_000).pay(&eur("PAY-8", 500));
    fake.join().unwrap();
    match result {
        Err(TerminalError::ConnectionLost(_)) | Ok(Outcome::TimedOut) => {}
        other => panic!("expected a lost connection, got {other:?}"),
    }
}

#[test]
fn unknown_but_skippable_bmps_and_extended_length() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        let mut status = approved_status(4200);
        status.extend([0x29, 0x12, 0x34, 0x56, 0x78]); // terminal id
        status.extend(b"\x2ACONTRACT-NO-123"); // VU number, 15 bytes
        status.extend([0x17, 0x00, 0x01]); // card sequence number
        status.extend([0x0E, 0x29, 0x12]); // expiry date
        status.extend([0x19, 0x40, 0x8C, 0x01, 0xA0, 0x00, 0xAA, 0x25, 0x05, 0x17]);
        status.extend([0x2D, 0xF0, 0xF3, 0xE1, 0xE2, 0xE3]); // track 1 (masked), LLVAR
        status.extend([0x23, 0xF0, 0xF2, 0xEE, 0xEE]); // track 2 (masked), LLVAR
        status.extend([0x06, 0x82, 0x00, 0x05, 0x1F, 0x10, 0x01, 0x02, 0x00]); // TLV, 2-byte length
        // Additional text (LLLVAR) long enough that the APDU needs the FF extended length.
        status.extend([0x3C, 0xF3, 0xF0, 0xF0]);
        status.extend(std::iter::repeat_n(b'x', 300));
        assert!(status.len() > 255);
        c.say(0x04, 0x0F, &status);
        c.say(0x06, 0x0F, &[0x19, 0x00]);
    });
    let outcome = terminal(&addr, 5_000).pay(&eur("PAY-9", 4200)).unwrap();
    fake.join().unwrap();
    let a = outcome.approval().expect("approved");
    assert_eq!((a.last4(), a.auth_code()), ("4242", "123456"));
}

#[test]
fn malformed_length_is_a_protocol_error() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        let mut status = vec![0x27, 0x00];
        // BMP 22 announces 19 bytes; 8 follow.
        status.extend([0x22, 0xF1, 0xF9, 0x67, 0x12, 0x34, 0x56, 0x78, 0x90, 0x42, 0x42]);
        c.send(0x04, 0x0F, &status);
        c.drain();
    });
    let err = terminal(&addr, 5_000).pay(&eur("PAY-10", 500)).unwrap_err();
    fake.join().unwrap();
    assert!(matches!(err, TerminalError::Protocol(_)), "{err:?}");
    assert_no_card_digits_in_error(&err, &["6712", "1234567890", "4242"]);

    // Length digits that are not F0..F9.
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        c.send(0x04, 0x0F, &[0x27, 0x00, 0x8B, 0x05, 0x56, b'V', b'I', b'S', b'A', b'!']);
        c.drain();
    });
    let err = terminal(&addr, 5_000).pay(&eur("PAY-11", 500)).unwrap_err();
    fake.join().unwrap();
    assert!(matches!(err, TerminalError::Protocol(_)), "{err:?}");
}

#[test]
fn unknown_bmp_of_unknown_length_is_a_protocol_error() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        let mut status = approved_status(500);
        status.extend([0x4F, 0x01, 0x02]);
        c.send(0x04, 0x0F, &status);
        c.drain();
    });
    let err = terminal(&addr, 5_000).pay(&eur("PAY-12", 500)).unwrap_err();
    fake.join().unwrap();
    match &err {
        TerminalError::Protocol(msg) => assert!(msg.contains("4F"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unmasked_pan_from_a_misbehaving_terminal_keeps_only_last_four() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        start_payment(&mut c);
        let mut status = vec![0x27, 0x00, 0x04];
        status.extend(bcd(500, 6));
        status.extend([0x22, 0xF0, 0xF8, 0x67, 0x12, 0x34, 0x56, 0x78, 0x90, 0x42, 0x42]);
        c.say(0x04, 0x0F, &status);
        c.say(0x06, 0x0F, &[]);
    });
    let outcome = terminal(&addr, 5_000).pay(&eur("PAY-13", 500)).unwrap();
    fake.join().unwrap();
    assert_eq!(outcome.approval().unwrap().last4(), "4242");
    assert_no_card_digits(&outcome, &["6712345678904242", "67123456", "7890"]);
}

#[test]
fn refund_sends_password_and_amount() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        c.register();
        let data = c.expect(0x06, 0x31);
        c.ack();
        c.say(0x04, 0xFF, &[0x0A]);
        c.say(0x04, 0x0F, &approved_status(500));
        c.say(0x06, 0x0F, &[]);
        data
    });
    let outcome = terminal(&addr, 5_000).refund(&eur("REF-1", 500)).unwrap();
    let data = fake.join().unwrap();
    assert_eq!(data, [0x12, 0x34, 0x56, 0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00]);
    assert_eq!(outcome.approval().unwrap().last4(), "4242");
}

#[test]
fn negative_acknowledgement_is_a_refusal() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        c.register();
        c.expect(0x06, 0x01);
        c.send(0x84, 0x83, &[]);
        c.drain();
    });
    let err = terminal(&addr, 5_000).pay(&eur("PAY-14", 500)).unwrap_err();
    fake.join().unwrap();
    assert!(matches!(err, TerminalError::Refused(_)), "{err:?}");
}

#[test]
fn recover_after_lost_connection_reads_the_last_transaction() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        // 1: the payment; the terminal approves it, but the connection goes before the result.
        let mut c = accept(l);
        start_payment(&mut c);
        c.say(0x04, 0xFF, &[0x0A]);
        drop(c);
        // 2 and 3: Repeat Receipt answers with the last transaction, approved for 12.34.
        let mut repeats = Vec::new();
        for _ in 0..2 {
            let mut c = accept(l);
            c.register();
            repeats.push(c.expect(0x06, 0x20));
            c.ack();
            c.say(0x04, 0x0F, &approved_status(1234));
            c.say(0x06, 0x0F, &[]);
        }
        // 4: the terminal has no receipt to repeat.
        let mut c = accept(l);
        c.register();
        c.expect(0x06, 0x20);
        c.ack();
        c.say(0x06, 0x1E, &[0x83]);
        repeats
    });
    let mut t: Box<dyn Terminal> = connect(&TerminalConfig::Zvt({
        let mut cfg = ZvtConfig::new(addr.clone(), PASSWORD);
        cfg.response_timeout_ms = 5_000;
        cfg
    }));
    let req = eur("PAY-15", 1234);
    let lost = t.pay(&req);
    assert!(lost.is_err(), "{lost:?}");
    // The register restarts and asks.
    drop(t);
    let mut t = terminal(&addr, 5_000);
    let recovered = t.recover(&req).unwrap();
    let a = recovered.approval().expect("recovered approval");
    assert_eq!((a.last4(), a.terminal_ref()), ("4242", "ZVT-000123-0042"));
    assert_no_card_digits(&recovered, &["671234"]);
    // Another amount than the last transaction's: not this request.
    assert_eq!(t.recover(&eur("PAY-16", 999)).unwrap(), Outcome::Cancelled);
    // Nothing to repeat.
    assert_eq!(t.recover(&req).unwrap(), Outcome::Cancelled);
    let repeats = fake.join().unwrap();
    assert!(repeats.iter().all(|d| d == &[0x12, 0x34, 0x56]), "Repeat Receipt carries the password");
}

#[test]
fn recover_of_a_declined_last_transaction_is_cancelled() {
    let (addr, fake) = spawn(|l: &TcpListener| {
        let mut c = accept(l);
        c.register();
        c.expect(0x06, 0x20);
        c.ack();
        let mut status = vec![0x27, 0x05, 0x04];
        status.extend(bcd(1234, 6));
        c.say(0x04, 0x0F, &status);
        c.say(0x06, 0x0F, &[]);
    });
    assert_eq!(terminal(&addr, 5_000).recover(&eur("PAY-17", 1234)).unwrap(), Outcome::Cancelled);
    fake.join().unwrap();
}

#[test]
fn bad_configuration_is_refused_before_connecting() {
    let mut cfg = ZvtConfig::new("127.0.0.1:9", "12ab56");
    cfg.connect_timeout_ms = 200;
    let err = ZvtTerminal::new(cfg).pay(&eur("PAY-18", 500)).unwrap_err();
    assert_eq!(err, TerminalError::InvalidRequest("the ZVT terminal password must be 6 digits".into()));
    let err = terminal("127.0.0.1:9", 200).pay(&eur("PAY-19", 0)).unwrap_err();
    assert!(matches!(err, TerminalError::InvalidRequest(_)));
}
