//! Bad input: each refused request gives the right error code and changes nothing observable (the
//! outbox, the sales export, the daily summary, the shift and its X report, open orders, catalog).

use pos_app::demo::ean13;
use pos_app::pos_core::money::{Currency, Money, Quantity};
use pos_app::pos_core::order::Discount;
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_core::shift::CashMovementKind;
use pos_app::pos_core::tender::Tender;
use pos_app::{ErrorCode, ItemRef, OrderRef, Register, Session};

use crate::support::*;

/// A register mid-shift: two paid sales (receipts 1 and 2) and an order being rung up with an
/// espresso (line 1) and a croissant (line 2). Returns the cashier's session and the owner's
/// back-office session (for the snapshots of `refused`).
fn busy() -> (Fixture, Session, Session, String) {
    let (mut f, office) = demo_with_back_office();
    let s = cashier(&mut f.reg);
    f.reg.open_shift(&s, eur(15_000)).expect("shift");
    sell_cash(&mut f.reg, &s, &[("BAK-00", 2), ("HOT-03-0", 1)]);
    sell_card(&mut f.reg, &s, &[("HOT-00-0", 2), ("LUN-07", 1)]);
    let order = ring_up(&mut f.reg, &s, &[("HOT-00-0", 1), ("BAK-00", 1)]);
    (f, s, office, order)
}

/// Pays the open order in exact cash and returns its receipt number: failed requests must not
/// have used up a number.
fn pay_rest(reg: &mut Register, s: &Session, order: &str) -> i64 {
    let due = reg.order_view(order).expect("view").total_cash;
    reg.pay(s, order, &[Tender::Cash { tendered: due }]).expect("pay").receipt_no
}

#[test]
fn quantities_must_be_positive_and_whole_for_items_sold_by_the_piece() {
    let (mut f, s, office, order) = busy();
    let reg = &mut f.reg;
    for bad in [Quantity::from_milli(0), Quantity::from_milli(-1000), Quantity::from_milli(-1)] {
        refused(reg, &office, ErrorCode::InvalidInput, |r| r.add_item(&s, &order, ItemRef::Code("HOT-00-0"), bad));
        refused(reg, &office, ErrorCode::InvalidInput, |r| r.set_quantity(&s, &order, 1, bad));
    }
    let msg = refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.add_item(&s, &order, ItemRef::Code("BAK-00"), Quantity::from_milli(1500))
    });
    assert!(msg.contains("whole"), "{msg}");
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.set_quantity(&s, &order, 2, Quantity::from_milli(2500)));
    // Scanning more onto an existing line is checked against the line's new total too.
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.add_item(&s, &order, ItemRef::Code("BAK-00"), Quantity::units(100_000))
    });
    refused(reg, &office, ErrorCode::NotFound, |r| r.set_quantity(&s, &order, 9, qty(1)));
    // A weighed item does take a fractional quantity.
    let v = reg.add_item(&s, &order, ItemRef::Code("TEA-01"), Quantity::from_milli(125)).expect("weighed");
    assert_eq!(v.lines.len(), 3);
    assert_eq!(pay_rest(reg, &s, &order), 3);
}

#[test]
fn unknown_codes_and_barcodes_are_not_found() {
    let (mut f, s, office, order) = busy();
    let reg = &mut f.reg;
    let msg =
        refused(reg, &office, ErrorCode::NotFound, |r| r.add_item(&s, &order, ItemRef::Code("NO-SUCH-SKU"), qty(1)));
    assert!(msg.contains("NO-SUCH-SKU"), "{msg}");
    // A well-formed EAN-13 that is not in the catalog.
    let unknown = ean13(999_000_000_001);
    let msg =
        refused(reg, &office, ErrorCode::NotFound, |r| r.add_item(&s, &order, ItemRef::Barcode(&unknown), qty(1)));
    assert!(msg.contains(&unknown), "{msg}");
    refused(reg, &office, ErrorCode::NotFound, |r| r.lookup_barcode(&unknown));
    // A SKU code is not a barcode and the other way round.
    refused(reg, &office, ErrorCode::NotFound, |r| r.add_item(&s, &order, ItemRef::Barcode("HOT-00-0"), qty(1)));
    refused(reg, &office, ErrorCode::NotFound, |r| r.add_item(&s, &order, ItemRef::Code("hot-00-0"), qty(1)));
    refused(reg, &office, ErrorCode::NotFound, |r| r.add_item(&s, "no-such-order", ItemRef::Code("HOT-00-0"), qty(1)));
    refused(reg, &office, ErrorCode::NotFound, |r| r.pay(&s, "no-such-order", &[cash(1000, Currency::EUR)]));
    assert_eq!(pay_rest(reg, &s, &order), 3);
}

#[test]
fn tenders_are_checked_before_anything_is_written() {
    let (mut f, s, office, order) = busy();
    let reg = &mut f.reg;
    let due = reg.order_view(&order).expect("view").total.minor();
    assert_eq!(due, 470);
    let usd = |m| Tender::Cash { tendered: Money::new(m, Currency::USD) };
    refused(reg, &office, ErrorCode::CurrencyMismatch, |r| r.pay(&s, &order, &[usd(1000)]));
    refused(reg, &office, ErrorCode::CurrencyMismatch, |r| r.pay(&s, &order, &[card(470, Currency::USD)]));
    refused(reg, &office, ErrorCode::CurrencyMismatch, |r| r.pay(&s, &order, &[card(200, Currency::EUR), usd(500)]));
    let msg = refused(reg, &office, ErrorCode::InsufficientTender, |r| r.pay(&s, &order, &[cash(469, Currency::EUR)]));
    assert!(msg.contains("4.70"), "{msg}");
    refused(reg, &office, ErrorCode::InsufficientTender, |r| {
        r.pay(&s, &order, &[card(200, Currency::EUR), cash(200, Currency::EUR)])
    });
    refused(reg, &office, ErrorCode::InsufficientTender, |r| r.pay(&s, &order, &[]));
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.pay(&s, &order, &[card(471, Currency::EUR)]));
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.pay(&s, &order, &[card(470, Currency::EUR), cash(100, Currency::EUR)])
    });
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.pay(&s, &order, &[cash(0, Currency::EUR)]));
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.pay(&s, &order, &[card(-470, Currency::EUR)]));
    // An empty order cannot be paid.
    let empty = reg.open_order(&s).expect("open");
    refused(reg, &office, ErrorCode::Conflict, |r| r.pay(&s, &empty, &[cash(100, Currency::EUR)]));
    reg.void_open_order(&s, &empty, "empty").expect("drop the empty order");
    // None of that used up a receipt number.
    assert_eq!(pay_rest(reg, &s, &order), 3);
}

#[test]
fn discounts_above_100_percent_or_above_the_amount_are_refused() {
    let (mut f, s, office, order) = busy();
    let reg = &mut f.reg;
    for bad in [Discount::Percent(10_001), Discount::Percent(-1), Discount::Amount(-1)] {
        refused(reg, &office, ErrorCode::InvalidInput, |r| r.set_line_discount(&s, &order, 1, Some(bad)));
        refused(reg, &office, ErrorCode::InvalidInput, |r| r.set_order_discount(&s, &order, Some(bad)));
    }
    // Line 1 is an espresso at 2.20; the order is 4.70.
    let msg = refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.set_line_discount(&s, &order, 1, Some(Discount::Amount(221)))
    });
    assert!(msg.contains("220"), "{msg}");
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.set_order_discount(&s, &order, Some(Discount::Amount(471))));
    refused(reg, &office, ErrorCode::NotFound, |r| r.set_line_discount(&s, &order, 9, Some(Discount::Percent(100))));
    // A discount already on the line stays when a bigger one is refused.
    reg.set_line_discount(&s, &order, 1, Some(Discount::Amount(20))).expect("0.20 off");
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.set_line_discount(&s, &order, 1, Some(Discount::Amount(500))));
    assert_eq!(reg.order_view(&order).expect("view").lines[0].discount, Some(Discount::Amount(20)));
    // Exactly 100 % and exactly the amount are allowed (above the cashier's 10 %, so a manager
    // gives them).
    let m = manager(reg);
    let v = reg.set_line_discount(&m, &order, 1, Some(Discount::Percent(10_000))).expect("100 %");
    assert_eq!(v.total, eur(250));
    let v = reg.set_order_discount(&m, &order, Some(Discount::Amount(250))).expect("all of it");
    assert_eq!(v.total, eur(0));
}

#[test]
fn edits_that_would_break_the_order_discount_leave_the_order_as_it_was() {
    let (mut f, s, office, order) = busy();
    let reg = &mut f.reg;
    // Discounts this large are above the cashier's 10 %: a manager gives them.
    let m = manager(reg);
    // 4.70 of goods with 4.00 off the order.
    reg.set_order_discount(&m, &order, Some(Discount::Amount(400))).expect("4.00 off");
    // Each of these would leave less than 4.00 to take the discount from.
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.remove_line(&s, &order, 2));
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.set_line_discount(&s, &order, 2, Some(Discount::Percent(10_000)))
    });
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.override_price(&s, &order, 2, eur(0)));
    assert_eq!(reg.order_view(&order).expect("still priced").total, eur(70));

    // A line discount in money stays within its line when the quantity goes down.
    let other = ring_up(reg, &s, &[("HOT-00-0", 2)]);
    reg.set_line_discount(&m, &other, 1, Some(Discount::Amount(300))).expect("3.00 off 4.40");
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.set_quantity(&s, &other, 1, qty(1)));
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.override_price(&s, &other, 1, eur(100)));
    assert_eq!(reg.order_view(&other).expect("still priced").total, eur(140));

    // An order discount set before any item: an item too cheap to take it is refused, not added.
    let third = reg.open_order(&s).expect("open");
    reg.set_order_discount(&m, &third, Some(Discount::Amount(500))).expect("accepted on an empty order");
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.add_item(&s, &third, ItemRef::Code("HOT-00-0"), qty(1)));
    assert!(reg.order_view(&third).expect("view").lines.is_empty());

    // Every order can still be finished, and no receipt number was lost.
    assert_eq!(pay_rest(reg, &s, &order), 3);
    assert_eq!(pay_rest(reg, &s, &other), 4);
    reg.void_open_order(&s, &third, "nothing bought").expect("void");
    let x = reg.x_report(&m).expect("x");
    assert_eq!(x.summary.order_count, 4);
}

#[test]
fn refunds_cannot_take_back_more_than_was_sold_or_paid() {
    let (mut f, s, office, order) = busy();
    let reg = &mut f.reg;
    let m = manager(reg);
    let one = |line, n| RefundRequest::Lines(vec![(line, qty(n))]);
    // Receipt 1: line 1 two croissants, line 2 a cappuccino.
    let msg = refused(reg, &office, ErrorCode::RefundExceedsPaid, |r| {
        r.refund(&m, &OrderRef::Receipt(1), &one(1, 3), "too many")
    });
    assert!(msg.contains("line 1"), "{msg}");
    refused(reg, &office, ErrorCode::RefundExceedsPaid, |r| {
        r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Lines(vec![(1, qty(2)), (2, qty(2))]), "too many")
    });
    refused(reg, &office, ErrorCode::NotFound, |r| r.refund(&m, &OrderRef::Receipt(1), &one(9, 1), "no such line"));
    refused(reg, &office, ErrorCode::NotFound, |r| {
        r.refund(&m, &OrderRef::Receipt(99), &RefundRequest::Whole, "no such receipt")
    });
    refused(reg, &office, ErrorCode::NotFound, |r| {
        r.refund(&m, &OrderRef::Id("nope".into()), &RefundRequest::Whole, "no such order")
    });
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.refund(&m, &OrderRef::Receipt(1), &one(1, 0), "zero"));
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Lines(vec![(1, Quantity::from_milli(-1000))]), "negative")
    });
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Lines(vec![(1, qty(1)), (1, qty(1))]), "twice")
    });
    refused(reg, &office, ErrorCode::InvalidInput, |r| {
        r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Whole, "   ")
    });

    let whole = reg.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Whole, "spilled").expect("whole refund");
    assert_eq!(whole.total, eur(840));
    assert_eq!(whole.receipt_no, 3);
    // After a whole refund nothing is left: neither the whole again nor any line.
    let msg = refused(reg, &office, ErrorCode::Conflict, |r| {
        r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Whole, "again")
    });
    assert!(msg.contains("nothing left"), "{msg}");
    refused(reg, &office, ErrorCode::RefundExceedsPaid, |r| r.refund(&m, &OrderRef::Receipt(1), &one(2, 1), "again"));

    // Receipt 2: two espressos (line 1) and a salad; one espresso back, then two more is too many.
    reg.refund(&m, &OrderRef::Receipt(2), &one(1, 1), "cold").expect("one espresso back");
    refused(reg, &office, ErrorCode::RefundExceedsPaid, |r| r.refund(&m, &OrderRef::Receipt(2), &one(1, 2), "again"));
    // The rest is still refundable, exactly once.
    let rest = reg.refund(&m, &OrderRef::Receipt(2), &RefundRequest::Whole, "closing early").expect("rest");
    assert_eq!(rest.total, eur(220 + 790));
    refused(reg, &office, ErrorCode::Conflict, |r| r.refund(&m, &OrderRef::Receipt(2), &RefundRequest::Whole, "again"));
    assert_eq!(pay_rest(reg, &s, &order), 6);
}

#[test]
fn nothing_is_paid_refunded_or_moved_without_an_open_shift() {
    let (mut f, office) = demo_with_back_office();
    let s = cashier(&mut f.reg);
    let m = manager(&mut f.reg);
    let order = ring_up(&mut f.reg, &s, &[("HOT-00-0", 1)]);
    let reg = &mut f.reg;
    let msg = refused(reg, &office, ErrorCode::NoOpenShift, |r| r.pay(&s, &order, &[cash(220, Currency::EUR)]));
    assert!(msg.contains("shift"), "{msg}");
    refused(reg, &office, ErrorCode::NoOpenShift, |r| r.cash_movement(&s, CashMovementKind::PaidOut, eur(100), "milk"));
    refused(reg, &office, ErrorCode::NoOpenShift, |r| r.void_open_order(&s, &order, "changed mind"));
    refused(reg, &office, ErrorCode::NoOpenShift, |r| r.x_report(&m));
    refused(reg, &office, ErrorCode::NoOpenShift, |r| r.close_shift(&s, &[]));

    // A sale in a shift that is then closed: refunds and voids need a shift again.
    reg.open_shift(&s, eur(0)).expect("shift");
    let paid = pay_rest(reg, &s, &order);
    reg.close_shift(&s, &[(200, 1), (20, 1)]).expect("close");
    refused(reg, &office, ErrorCode::NoOpenShift, |r| {
        r.refund(&m, &OrderRef::Receipt(paid), &RefundRequest::Whole, "late")
    });
    refused(reg, &office, ErrorCode::NoOpenShift, |r| r.void_paid_order(&m, &OrderRef::Receipt(paid), "late"));
}

#[test]
fn shifts_open_once_with_a_sane_float() {
    let (mut f, s, office, _order) = busy();
    let reg = &mut f.reg;
    let msg = refused(reg, &office, ErrorCode::Conflict, |r| r.open_shift(&s, eur(10_000)));
    assert!(msg.contains("already open"), "{msg}");

    let (mut g, office) = demo_with_back_office();
    let s = cashier(&mut g.reg);
    let reg = &mut g.reg;
    refused(reg, &office, ErrorCode::InvalidInput, |r| r.open_shift(&s, eur(-1)));
    refused(reg, &office, ErrorCode::CurrencyMismatch, |r| r.open_shift(&s, Money::new(10_000, Currency::USD)));
    assert!(reg.current_shift().expect("shift").is_none());
}

#[test]
fn voids_are_refused_once_money_went_back_or_the_order_is_gone() {
    let (mut f, s, office, order) = busy();
    let reg = &mut f.reg;
    let m = manager(reg);
    reg.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Lines(vec![(1, qty(1))]), "stale").expect("refund");
    let msg =
        refused(reg, &office, ErrorCode::Conflict, |r| r.void_paid_order(&m, &OrderRef::Receipt(1), "rung up twice"));
    assert!(msg.contains("refund"), "{msg}");

    refused(reg, &office, ErrorCode::InvalidInput, |r| r.void_paid_order(&m, &OrderRef::Receipt(2), " \n "));
    refused(reg, &office, ErrorCode::NotFound, |r| r.void_paid_order(&m, &OrderRef::Receipt(42), "rung up twice"));
    let v = reg.void_paid_order(&m, &OrderRef::Receipt(2), "rung up twice").expect("void");
    assert!(v.was_paid);
    refused(reg, &office, ErrorCode::Conflict, |r| r.void_paid_order(&m, &OrderRef::Receipt(2), "again"));
    refused(reg, &office, ErrorCode::Conflict, |r| {
        r.refund(&m, &OrderRef::Receipt(2), &RefundRequest::Whole, "after void")
    });

    // A paid order of an earlier shift is refunded, not voided.
    let p = pay_rest(reg, &s, &order);
    assert_eq!(p, 4, "the refund took receipt number 3");
    // 5.00 counted against 160.60 expected: closing with that variance is the manager's call.
    reg.close_shift(&m, &[(500, 1)]).expect("close");
    reg.open_shift(&s, eur(0)).expect("next shift");
    let msg =
        refused(reg, &office, ErrorCode::Conflict, |r| r.void_paid_order(&m, &OrderRef::Receipt(p), "next shift"));
    assert!(msg.contains("current shift"), "{msg}");
}

#[test]
fn sign_in_needs_the_right_pin() {
    let mut f = demo();
    let id = f.reg.staff().into_iter().find(|s| s.name == "Jonas Weber").expect("jonas").id;
    expect_err(f.reg.sign_in(id, "0000"), ErrorCode::WrongPin);
    expect_err(f.reg.sign_in(id, "4711"), ErrorCode::WrongPin);
    expect_err(f.reg.sign_in(9999, "1234"), ErrorCode::NotFound);
}
