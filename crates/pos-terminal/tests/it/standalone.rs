//! The stand-alone terminal and keyed approvals.

use pos_core::money::Currency;
use pos_terminal::{KeyedEntry, Outcome, PaymentRequest, Standalone, Terminal, TerminalError, keyed_approval};

fn req() -> PaymentRequest {
    PaymentRequest::new("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 1250, Currency::EUR)
}

fn refusal(entry: KeyedEntry) -> String {
    match keyed_approval(&req(), &entry) {
        Err(TerminalError::InvalidRequest(msg)) => msg,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn valid_keyed_entry_approves() {
    let outcome = keyed_approval(&req(), &KeyedEntry::new("4242", "VISA", "A1B2C3")).unwrap();
    let a = outcome.approval().expect("approved");
    assert_eq!((a.last4(), a.scheme(), a.auth_code()), ("4242", "VISA", "A1B2C3"));
    assert_eq!(a.terminal_ref(), "MANUAL-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4");
    // Surrounding spaces are forgiven.
    assert!(keyed_approval(&req(), &KeyedEntry::new(" 0005 ", " girocard ", " 123456 ")).is_ok());
    // A short reference is kept whole.
    let short = PaymentRequest::new("P 7/3", 100, Currency::EUR);
    let a = keyed_approval(&short, &KeyedEntry::new("1234", "Mastercard", "998877")).unwrap();
    assert_eq!(a.approval().unwrap().terminal_ref(), "MANUAL-P 7-3");
}

#[test]
fn bad_last4_refused_with_clear_errors() {
    assert_eq!(refusal(KeyedEntry::new("42", "VISA", "A1")), "last 4 digits must be exactly 4 digits");
    assert_eq!(refusal(KeyedEntry::new("42a4", "VISA", "A1")), "last 4 digits must be exactly 4 digits");
    assert_eq!(refusal(KeyedEntry::new("42424", "VISA", "A1")), "last 4 digits must be exactly 4 digits");
    let msg = refusal(KeyedEntry::new("4111111111111111", "VISA", "A1"));
    assert!(msg.contains("card number"), "{msg}");
    assert!(!msg.contains("4111"), "{msg}");
    let msg = refusal(KeyedEntry::new("4111 1111 1111 1111", "VISA", "A1"));
    assert!(msg.contains("card number"), "{msg}");
}

#[test]
fn card_number_in_other_fields_refused() {
    let msg = refusal(KeyedEntry::new("4242", "VISA", "4111111111111111"));
    assert!(msg.contains("card number"), "{msg}");
    assert!(!msg.contains("4111"));
    let msg = refusal(KeyedEntry::new("4242", "4111111111111111", "A1"));
    assert!(msg.contains("card number"), "{msg}");
    assert!(refusal(KeyedEntry::new("4242", "VISA", "")).contains("authorisation code"));
    assert!(refusal(KeyedEntry::new("4242", "VISA", "ABCDEFGHIJKLM")).contains("12"));
    assert!(refusal(KeyedEntry::new("4242", "", "A1")).contains("scheme"));
    assert!(refusal(KeyedEntry::new("4242", "VISA/Debit", "A1")).contains("scheme"));
}

#[test]
fn keyed_entry_debug_hides_card_numbers() {
    let e = KeyedEntry::new("4111111111111111", "VISA", "4111 1111 1111");
    let shown = format!("{e:?}");
    assert!(!shown.contains("4111"), "{shown}");
    let e = KeyedEntry::new("4111 1111", "4111 1111", "4111-1111");
    let shown = format!("{e:?}");
    assert!(!shown.contains("1111"), "{shown}");
    assert!(format!("{:?}", KeyedEntry::new("4242", "VISA", "A1")).contains("4242"));
}

#[test]
fn standalone_terminal_cannot_be_asked() {
    let mut t = Standalone;
    assert_eq!(t.kind(), "standalone");
    let err = t.pay(&req()).unwrap_err();
    assert_eq!(err, TerminalError::InvalidRequest("stand-alone terminal: key in the approval".into()));
    assert_eq!(err.to_string(), "stand-alone terminal: key in the approval");
    assert!(t.refund(&req()).is_err());
    assert_eq!(t.recover(&req()).unwrap(), Outcome::Cancelled);
}
