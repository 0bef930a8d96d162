//! Card payments through the terminal simulator: recorded before the terminal is asked, resolved
//! after a crash, and never used by two sales.

use pos_app::ErrorCode;
use pos_app::pos_core::tender::Tender;
use pos_app::pos_terminal::{Outcome, SimOutcome, Simulator, SimulatorConfig, Terminal};

use crate::support::*;

fn simulator(outcome: SimOutcome) -> Simulator {
    Simulator::new(SimulatorConfig { outcome, delay_ms: 0, ..SimulatorConfig::default() })
}

#[test]
fn an_approved_card_payment_pays_exactly_one_sale() {
    let mut f = demo();
    let jonas = cashier(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("shift");
    let order = ring_up(&mut f.reg, &jonas, &[("HOT-03-0", 1)]);
    let due = f.reg.order_view(&order).unwrap().total;
    let mut sim = simulator(SimOutcome::Approve);
    let paid = f.reg.card_payment(&jonas, &order, due, &mut sim).expect("approved");
    assert_eq!(paid.status, "approved");
    assert_eq!(paid.card_last4.as_deref(), Some("4242"));
    // Not a second payment for an order whose approvals already cover it.
    expect_err(f.reg.card_payment(&jonas, &order, due, &mut sim), ErrorCode::InvalidInput);

    let tender = f.reg.card_tender(&paid.id).expect("tender");
    let sale = f.reg.pay(&jonas, &order, std::slice::from_ref(&tender)).expect("pay");
    assert_eq!(sale.payments[0].card_last4.as_deref(), Some("4242"));
    assert!(f.reg.open_card_payments().unwrap().is_empty());
    // The same approval cannot pay another order.
    let other = ring_up(&mut f.reg, &jonas, &[("HOT-03-0", 1)]);
    expect_err(f.reg.pay(&jonas, &other, &[tender]), ErrorCode::Conflict);
    expect_err(f.reg.card_tender(&paid.id), ErrorCode::Conflict);
}

#[test]
fn declined_cancelled_and_unreachable_charge_nothing() {
    let mut f = demo();
    let jonas = cashier(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("shift");
    let order = ring_up(&mut f.reg, &jonas, &[("HOT-03-0", 1)]);
    let due = f.reg.order_view(&order).unwrap().total;
    for outcome in [SimOutcome::Decline, SimOutcome::Cancel, SimOutcome::Timeout] {
        let mut sim = simulator(outcome);
        expect_err(f.reg.card_payment(&jonas, &order, due, &mut sim), ErrorCode::PaymentNotApproved);
    }
    let addr = format!("127.0.0.1:{}", pos_app::pos_print::testing::dead_port());
    let mut nowhere = pos_app::pos_terminal::ZvtTerminal::new(pos_app::pos_terminal::ZvtConfig::new(addr, "000000"));
    expect_err(f.reg.card_payment(&jonas, &order, due, &mut nowhere), ErrorCode::PaymentNotApproved);
    assert!(f.reg.open_card_payments().unwrap().is_empty());
    // The order is still open and can be paid in cash.
    f.reg.pay(&jonas, &order, &[cash(due.minor(), due.currency())]).expect("cash instead");
}

#[test]
fn a_crash_while_the_terminal_approves_is_resolved_on_restart() {
    let mut f = demo();
    let jonas = cashier(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("shift");
    let order = ring_up(&mut f.reg, &jonas, &[("HOT-03-0", 2)]);
    let due = f.reg.order_view(&order).unwrap().total;
    let sim = simulator(SimOutcome::Approve);
    let start = f.reg.begin_card_payment(&jonas, &order, due).expect("recorded as pending");
    // The terminal approves; the register dies before it hears the answer.
    let answered = sim.handle().pay(&start.request).expect("terminal");
    assert!(matches!(answered, Outcome::Approved(_)));
    let mut f = f.reopen();
    let open = f.reg.open_card_payments().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, "pending");

    let resolved = f.reg.resolve_card_payments(&mut sim.handle()).expect("resolve");
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].status, "approved");
    // Resolving again changes nothing.
    assert!(f.reg.resolve_card_payments(&mut sim.handle()).unwrap().is_empty());

    // The cart was lost with the crash: the cashier rings it up again and uses the approval.
    let jonas = cashier(&mut f.reg);
    let again = ring_up(&mut f.reg, &jonas, &[("HOT-03-0", 2)]);
    let tender = f.reg.card_tender(&resolved[0].id).expect("tender");
    assert!(matches!(&tender, Tender::Card { amount, .. } if *amount == due));
    f.reg.pay(&jonas, &again, &[tender]).expect("paid once");
    assert!(f.reg.open_card_payments().unwrap().is_empty());
}

#[test]
fn a_payment_the_terminal_never_saw_is_cancelled_on_restart() {
    let mut f = demo();
    let jonas = cashier(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("shift");
    let order = ring_up(&mut f.reg, &jonas, &[("HOT-03-0", 1)]);
    let due = f.reg.order_view(&order).unwrap().total;
    f.reg.begin_card_payment(&jonas, &order, due).expect("pending");
    expect_err(f.reg.begin_card_payment(&jonas, &order, due), ErrorCode::Conflict);
    let mut f = f.reopen();
    let resolved = f.reg.resolve_card_payments(&mut simulator(SimOutcome::Approve)).expect("resolve");
    assert_eq!(resolved[0].status, "cancelled");
    assert!(f.reg.open_card_payments().unwrap().is_empty());
}

/// A terminal whose answer is lost and that cannot say what happened until `knows` is set.
struct LostAnswer {
    knows: Option<Outcome>,
}

impl Terminal for LostAnswer {
    fn kind(&self) -> &'static str {
        "lost-answer"
    }
    fn pay(
        &mut self,
        _: &pos_app::pos_terminal::PaymentRequest,
    ) -> Result<Outcome, pos_app::pos_terminal::TerminalError> {
        Ok(Outcome::TimedOut)
    }
    fn refund(
        &mut self,
        _: &pos_app::pos_terminal::PaymentRequest,
    ) -> Result<Outcome, pos_app::pos_terminal::TerminalError> {
        Ok(Outcome::TimedOut)
    }
    fn recover(
        &mut self,
        _: &pos_app::pos_terminal::PaymentRequest,
    ) -> Result<Outcome, pos_app::pos_terminal::TerminalError> {
        self.knows.clone().ok_or_else(|| pos_app::pos_terminal::TerminalError::Unreachable("offline".into()))
    }
}

#[test]
fn a_lost_answer_stays_pending_until_the_terminal_can_say() {
    let mut f = demo();
    let jonas = cashier(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("shift");
    let order = ring_up(&mut f.reg, &jonas, &[("HOT-03-0", 1)]);
    let due = f.reg.order_view(&order).unwrap().total;
    let mut terminal = LostAnswer { knows: None };
    expect_err(f.reg.card_payment(&jonas, &order, due, &mut terminal), ErrorCode::TerminalUnavailable);
    let open = f.reg.open_card_payments().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, "pending", "it may have been charged");
    // No second charge while the first is unresolved; nothing resolved while the terminal is silent.
    expect_err(f.reg.begin_card_payment(&jonas, &order, due), ErrorCode::Conflict);
    assert!(f.reg.resolve_card_payments(&mut terminal).unwrap().is_empty());
    terminal.knows = Some(Outcome::Declined { reason: "declined by issuer".into() });
    let resolved = f.reg.resolve_card_payments(&mut terminal).unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].status, "declined");
    assert!(f.reg.open_card_payments().unwrap().is_empty());
}
