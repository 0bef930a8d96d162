//! The simulator: outcomes, delay, and recovery through a clone.

use std::thread;
use std::time::{Duration, Instant};

use pos_core::money::Currency;
use pos_terminal::{Outcome, PaymentRequest, SimOutcome, Simulator, SimulatorConfig, Terminal};

fn sim(outcome: SimOutcome, delay_ms: u64) -> Simulator {
    Simulator::new(SimulatorConfig { outcome, delay_ms, ..SimulatorConfig::default() })
}

fn eur(reference: &str, minor: i64) -> PaymentRequest {
    PaymentRequest::new(reference, minor, Currency::EUR)
}

#[test]
fn default_configuration() {
    let c = SimulatorConfig::default();
    assert_eq!(
        (c.outcome, c.delay_ms, c.scheme.as_str(), c.last4.as_str()),
        (SimOutcome::Approve, 300, "VISA", "4242")
    );
    assert_eq!(Simulator::default().kind(), "simulator");
}

#[test]
fn each_configured_outcome() {
    let mut t = sim(SimOutcome::Approve, 5);
    let a = t.pay(&eur("S-1", 1000)).unwrap();
    let auth = a.approval().expect("approved");
    assert_eq!((auth.last4(), auth.scheme()), ("4242", "VISA"));
    assert_eq!(auth.auth_code().len(), 6);
    assert!(auth.auth_code().bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(auth.terminal_ref(), "SIM-S-1");
    // Each approval gets its own code and reference.
    let b = t.pay(&eur("S-2", 1000)).unwrap();
    let auth2 = b.approval().unwrap();
    assert_ne!(auth.auth_code(), auth2.auth_code());
    assert_eq!(auth2.terminal_ref(), "SIM-S-2");

    assert_eq!(
        sim(SimOutcome::Decline, 5).pay(&eur("S-3", 1000)).unwrap(),
        Outcome::Declined { reason: "declined by issuer (simulated)".into() }
    );
    assert_eq!(sim(SimOutcome::Cancel, 5).pay(&eur("S-4", 1000)).unwrap(), Outcome::Cancelled);
    assert_eq!(sim(SimOutcome::Timeout, 5).pay(&eur("S-5", 1000)).unwrap(), Outcome::TimedOut);
    assert!(matches!(sim(SimOutcome::Approve, 5).refund(&eur("S-6", 1000)).unwrap(), Outcome::Approved(_)));

    // The outcome can be changed for all handles.
    let t = sim(SimOutcome::Approve, 5);
    let mut h = t.handle();
    t.set_outcome(SimOutcome::Cancel);
    assert_eq!(h.pay(&eur("S-7", 1000)).unwrap(), Outcome::Cancelled);
}

#[test]
fn delay_is_honoured() {
    let mut t = sim(SimOutcome::Approve, 150);
    let start = Instant::now();
    t.pay(&eur("S-10", 500)).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(150), "{:?}", start.elapsed());
    let mut t = sim(SimOutcome::Timeout, 120);
    let start = Instant::now();
    assert_eq!(t.pay(&eur("S-11", 500)).unwrap(), Outcome::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(120));
}

#[test]
fn recover_through_a_clone_after_the_first_is_dropped() {
    let first = sim(SimOutcome::Approve, 10);
    let mut kept = first.handle();
    let mut register: Box<dyn Terminal> = Box::new(first);
    let req = eur("PENDING-42", 2550);
    let paid = register.pay(&req).unwrap();
    drop(register);

    let recovered = kept.recover(&req).unwrap();
    assert_eq!(recovered, paid);
    assert_eq!(recovered.approval().unwrap().auth_code(), paid.approval().unwrap().auth_code());

    // Same reference, other amount: not this request.
    assert_eq!(kept.recover(&eur("PENDING-42", 2551)).unwrap(), Outcome::Cancelled);
    // A clone made with Clone works the same.
    let mut cloned = kept.clone();
    assert_eq!(cloned.recover(&req).unwrap(), paid);
}

#[test]
fn recover_of_unknown_declined_and_cancelled_requests() {
    let mut t = sim(SimOutcome::Decline, 5);
    assert_eq!(t.recover(&eur("NEVER-SEEN", 100)).unwrap(), Outcome::Cancelled);
    let declined = t.pay(&eur("D-1", 100)).unwrap();
    assert_eq!(t.recover(&eur("D-1", 100)).unwrap(), declined);
    t.set_outcome(SimOutcome::Cancel);
    t.pay(&eur("C-1", 100)).unwrap();
    assert_eq!(t.recover(&eur("C-1", 100)).unwrap(), Outcome::Cancelled);
    t.set_outcome(SimOutcome::Timeout);
    t.pay(&eur("T-1", 100)).unwrap();
    assert_eq!(t.recover(&eur("T-1", 100)).unwrap(), Outcome::Cancelled);
}

#[test]
fn recover_waits_for_a_request_still_under_way() {
    let t = sim(SimOutcome::Approve, 300);
    let mut paying = t.handle();
    let req = eur("UNDERWAY-1", 700);
    let r2 = req.clone();
    let payer = thread::spawn(move || paying.pay(&r2).unwrap());
    thread::sleep(Duration::from_millis(50));
    let mut asking = t.handle();
    let recovered = asking.recover(&req).unwrap();
    let paid = payer.join().unwrap();
    assert!(matches!(recovered, Outcome::Approved(_)));
    assert_eq!(recovered, paid);
}

#[test]
fn invalid_requests_are_refused() {
    let mut t = sim(SimOutcome::Approve, 0);
    assert!(t.pay(&eur("S-20", 0)).is_err());
    assert!(t.pay(&eur("", 10)).is_err());
    let mut bad = Simulator::new(SimulatorConfig { last4: "42".into(), delay_ms: 0, ..SimulatorConfig::default() });
    assert!(bad.pay(&eur("S-21", 10)).is_err());
}
