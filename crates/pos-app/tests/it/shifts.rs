//! Shifts: float, paid-in and paid-out with a reason, X report while open, blind close by
//! denomination with variance = counted − expected, Z report after close.

use pos_app::pos_core::money::{Currency, Money};
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_core::report::ShiftReportKind;
use pos_app::pos_core::shift::CashMovementKind;
use pos_app::pos_core::tender::TenderKind;
use pos_app::{ErrorCode, ItemRef, OrderRef, PaymentsScope};

use crate::support::*;

#[test]
fn a_shift_from_float_to_blind_close() {
    let (mut f, office) = demo_with_back_office();
    let jonas = cashier(&mut f.reg);
    let mia = manager(&mut f.reg);
    let shift = f.reg.open_shift(&jonas, eur(15_000)).expect("open");
    let reg = &mut f.reg;
    expect_err(reg.z_report(&mia, None), ErrorCode::NotFound);
    expect_err(reg.z_report(&mia, Some(&shift.shift_id)), ErrorCode::Conflict);

    // Paid-in and paid-out need a positive amount in the venue's currency and a reason.
    reg.cash_movement(&jonas, CashMovementKind::PaidIn, eur(2000), "change from the bank").expect("paid in");
    reg.cash_movement(&jonas, CashMovementKind::PaidOut, eur(1240), "  milk from the supermarket ").expect("paid out");
    for reason in ["", "   ", "\n\t"] {
        let msg = refused(reg, &office, ErrorCode::InvalidInput, |r| {
            r.cash_movement(&jonas, CashMovementKind::PaidOut, eur(100), reason)
        });
        assert!(msg.contains("reason"), "{msg}");
    }
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.cash_movement(&jonas, CashMovementKind::PaidOut, eur(0), "milk")
    });
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.cash_movement(&jonas, CashMovementKind::PaidIn, eur(-500), "milk")
    });
    refused(reg, &office, ErrorCode::CurrencyMismatch, |r| {
        r.cash_movement(&jonas, CashMovementKind::PaidIn, Money::new(500, Currency::USD), "dollars")
    });

    // Sales: 5.00 cash, 12.90 card, 3.40 paid with a 20 note; then 2.50 cash back.
    let r1 = sell_cash(reg, &jonas, &[("BAK-00", 2)]);
    sell_card(reg, &jonas, &[("MER-0-0", 1)]);
    let order = ring_up(reg, &jonas, &[("HOT-03-0", 1)]);
    let r3 = reg.pay(&jonas, &order, &[cash(2000, Currency::EUR)]).expect("pay");
    assert_eq!(r3.change_due, eur(1660));
    reg.refund(&mia, &OrderRef::Receipt(r1.receipt_no), &RefundRequest::Lines(vec![(1, qty(1))]), "dropped")
        .expect("refund");

    // X report: a reading that changes nothing.
    let before = reg.outbox_status().expect("outbox");
    let x = reg.x_report(&mia).expect("x report");
    assert_eq!(reg.x_report(&mia).expect("again"), x);
    assert_eq!(reg.outbox_status().expect("outbox"), before);
    assert_eq!(x.report, ShiftReportKind::X);
    assert_eq!(x.shift_id, shift.shift_id);
    assert_eq!((x.opened_by.as_str(), x.closed_at.as_deref(), x.closed_by.as_deref()), ("Jonas Weber", None, None));
    let c = &x.cash;
    assert_eq!(
        (c.float, c.cash_sales, c.cash_refunds, c.paid_in, c.paid_out),
        (eur(15_000), eur(840), eur(250), eur(2000), eur(1240))
    );
    assert_eq!(c.expected, eur(15_000 + 840 - 250 + 2000 - 1240));
    assert_eq!((c.counted, c.variance), (None, None));
    assert!(c.count.is_empty());
    let moves: Vec<(CashMovementKind, i64, &str)> =
        c.movements.iter().map(|m| (m.kind, m.amount.minor(), m.reason.as_str())).collect();
    assert_eq!(
        moves,
        vec![
            (CashMovementKind::PaidIn, 2000, "change from the bank"),
            (CashMovementKind::PaidOut, 1240, "milk from the supermarket")
        ]
    );
    assert_eq!(c.movements[0].at, "2026-06-15T10:00:00+02:00");
    assert_eq!(x.summary.order_count, 3);

    // A shift with an order still being rung up does not close.
    let open = ring_up(reg, &jonas, &[("HOT-00-0", 1)]);
    let msg = refused(reg, &office, ErrorCode::Conflict, |r| r.close_shift(&mia, &[(10_000, 1)]));
    assert!(msg.contains("1 order"), "{msg}");
    // Voiding an order with lines is a manager's call.
    reg.void_open_order(&mia, &open, "customer left").expect("void");

    // Counts are by real denominations, each once, never negative.
    let _empty = reg.open_order(&jonas).expect("an empty order does not block closing");
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.close_shift(&mia, &[(300, 1)]));
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.close_shift(&mia, &[(10_000, 1), (7, 2)]));
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.close_shift(&mia, &[(100, -1)]));
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.close_shift(&mia, &[(100, 1), (100, 2)]));

    // Blind close: 162.00 counted against 163.50 expected.
    f.clock.advance(jiff::SignedDuration::from_hours(8));
    awake(reg, &mia);
    awake(reg, &jonas);
    let z = reg.close_shift(&mia, &[(100, 2), (1000, 1), (5000, 1), (10_000, 1), (2, 0)]).expect("close");
    assert_eq!(z.report, ShiftReportKind::Z);
    assert_eq!(z.shift_id, shift.shift_id);
    assert_eq!(z.closed_by.as_deref(), Some("Mia Keller"));
    assert_eq!(z.closed_at.as_deref(), Some("2026-06-15T18:00:00+02:00"));
    assert_eq!((z.cash.expected, z.cash.counted, z.cash.variance), (eur(16_350), Some(eur(16_200)), Some(eur(-150))));
    let rows: Vec<(i64, i64, i64)> =
        z.cash.count.iter().map(|d| (d.denomination.minor(), d.count, d.amount.minor())).collect();
    assert_eq!(rows, vec![(10_000, 1, 10_000), (5000, 1, 5000), (1000, 1, 1000), (100, 2, 200)]);
    // The Z report's sales are the X report's plus the voided order.
    let mut expected = x.summary.clone();
    (expected.void_count, expected.voided) = (1, eur(220));
    assert_eq!(z.summary, expected);
    assert_eq!(reg.z_report(&mia, None).expect("last Z"), z);
    assert_eq!(reg.z_report(&mia, Some(&shift.shift_id)).expect("Z by id"), z);

    // After closing: no X report, no shift, no open orders, no paid-outs.
    expect_err(reg.x_report(&mia), ErrorCode::NoOpenShift);
    assert_eq!(reg.current_shift().expect("shift"), None);
    assert!(reg.open_orders().is_empty());
    expect_err(reg.cash_movement(&jonas, CashMovementKind::PaidOut, eur(100), "milk"), ErrorCode::NoOpenShift);

    // The payment reconciliation of the day agrees with the Z report.
    let p = reg.payments_report(&mia, &PaymentsScope::Day(date("2026-06-15"))).expect("payments");
    assert_eq!((p.shifts, p.open_shifts), (1, 0));
    let cash_row = p.rows.iter().find(|r| r.tender == TenderKind::Cash).expect("cash row");
    assert_eq!(
        (cash_row.expected, cash_row.counted, cash_row.difference),
        (eur(16_350), Some(eur(16_200)), Some(eur(-150)))
    );
    let card_row = p.rows.iter().find(|r| r.tender == TenderKind::Card).expect("card row");
    assert_eq!(card_row.expected, eur(1290));

    // The next shift starts from its own float.
    reg.open_shift(&jonas, eur(16_200)).expect("next shift");
    let x2 = reg.x_report(&mia).expect("x");
    assert_eq!((x2.cash.float, x2.cash.cash_sales, x2.cash.expected), (eur(16_200), eur(0), eur(16_200)));
    assert_eq!(x2.summary.order_count, 0);
    assert_eq!(reg.z_report(&mia, None).expect("last Z"), z);
}

#[test]
fn a_drawer_that_holds_more_than_expected_shows_a_positive_variance() {
    let mut f = demo();
    let s = cashier(&mut f.reg);
    f.reg.open_shift(&s, eur(5000)).expect("open");
    let order = f.reg.open_order(&s).expect("order");
    f.reg.add_item(&s, &order, ItemRef::Code("BAK-00"), qty(1)).expect("add");
    f.reg.pay(&s, &order, &[cash(500, Currency::EUR)]).expect("pay");
    // Expected 52.50; counted 53.00.
    let z = f.reg.close_shift(&s, &[(5000, 1), (200, 1), (100, 1)]).expect("close");
    assert_eq!((z.cash.expected, z.cash.counted, z.cash.variance), (eur(5250), Some(eur(5300)), Some(eur(50))));
    // An exact count has no variance.
    f.reg.open_shift(&s, eur(5300)).expect("open");
    let z = f.reg.close_shift(&s, &[(5000, 1), (200, 1), (100, 1)]).expect("close");
    assert_eq!(z.cash.variance, Some(eur(0)));
}

/// Voided orders and orders of other days that sit between a scope's orders are left out of its
/// sales, taxes and tenders (the store sums row-id ranges and subtracts such outsiders).
#[test]
fn reports_leave_out_voids_and_interleaved_orders_of_other_days() {
    let mut f = demo_at(ts("2026-06-10T10:00:00Z"));
    let jonas = cashier(&mut f.reg);
    let mia = manager(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("open");
    let a = sell_cash(&mut f.reg, &jonas, &[("BAK-00", 1)]); // 2.50, 10 June
    f.clock.set(ts("2026-06-09T10:00:00Z"));
    let b = sell_card(&mut f.reg, &jonas, &[("HOT-03-0", 1)]); // 3.40, 9 June, between 10 June's orders
    f.clock.set(ts("2026-06-10T11:00:00Z"));
    awake(&mut f.reg, &jonas);
    awake(&mut f.reg, &mia);
    let c = sell_cash(&mut f.reg, &jonas, &[("LUN-00", 1)]); // 5.90, 10 June
    let d = sell_card(&mut f.reg, &jonas, &[("BAK-01", 1)]); // 2.90, then voided
    let reg = &mut f.reg;
    reg.void_paid_order(&mia, &OrderRef::Receipt(d.receipt_no), "rung up twice").expect("void");
    let open = ring_up(reg, &jonas, &[("COLD-00-0", 1)]);
    reg.void_open_order(&mia, &open, "walked away").expect("void cart");

    let day = reg.daily_summary(&mia, date("2026-06-10")).expect("daily");
    let s = &day.summary;
    assert_eq!(s.order_count, 2);
    assert_eq!(s.gross, eur(250 + 590));
    assert_eq!(s.total_collected, a.paid.checked_add(c.paid).unwrap());
    assert_eq!(s.void_count, 2);
    assert_eq!(s.voided, eur(290 + 220));
    let tender = |k: TenderKind| s.tenders.iter().find(|t| t.tender == k).map(|t| t.net);
    assert_eq!(tender(TenderKind::Cash), Some(eur(840)));
    assert_eq!(tender(TenderKind::Card), None, "the voided card sale and 9 June's card sale are not 10 June's");
    let tax: i64 = s.tax.iter().map(|t| t.tax.minor()).sum();
    assert_eq!(tax, a.order.tax_total.minor() + c.order.tax_total.minor());

    let before = reg.daily_summary(&mia, date("2026-06-09")).expect("daily");
    assert_eq!(before.summary.order_count, 1);
    assert_eq!(before.summary.total_collected, b.paid);
    assert_eq!(before.summary.tenders.len(), 1);

    let x = reg.x_report(&mia).expect("x");
    assert_eq!(x.summary.order_count, 3);
    assert_eq!(x.cash.cash_sales, eur(840));
    assert_eq!(x.summary.void_count, 2);
}
