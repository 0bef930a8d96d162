//! The happy path: a shift, sales by SKU code and barcode, discounts, cash with change, card,
//! split tender, gapless receipt numbers, and sales that survive closing and reopening the store.

use pos_app::pos_core::money::{Currency, Quantity};
use pos_app::pos_core::order::Discount;
use pos_app::pos_core::tender::TenderKind;
use pos_app::{ItemRef, Register};

use crate::support::*;

fn barcode_of(reg: &Register, code: &str) -> String {
    reg.catalog().by_code(code).expect("demo SKU").barcodes[0].clone()
}

#[test]
fn a_day_of_sales_is_recorded_and_survives_reopening() {
    let mut f = demo();
    let jonas = cashier(&mut f.reg);
    assert_eq!(jonas.role(), "cashier");
    let day = date("2026-06-15");
    assert_eq!(f.reg.today(), day);

    let shift = f.reg.open_shift(&jonas, eur(15_000)).expect("open shift");
    assert_eq!(shift.float, eur(15_000));
    assert_eq!(shift.business_day, "2026-06-15");
    assert_eq!(shift.opened_by, "Jonas Weber");
    assert_eq!(shift.opened_at, "2026-06-15T10:00:00+02:00");
    assert_eq!(shift.closed_at, None);

    // Sale 1: a cappuccino by SKU code with 10 % off the line, three croissants scanned by barcode
    // (two, then one more onto the same line), 0.50 off the order, paid in cash with change.
    f.clock.advance(jiff::SignedDuration::from_mins(5));
    awake(&mut f.reg, &jonas);
    let croissant = barcode_of(&f.reg, "BAK-00");
    assert_eq!(f.reg.lookup_barcode(&croissant).expect("scan").name, "Croissant");
    let order = f.reg.open_order(&jonas).expect("open order");
    let v = f.reg.add_item(&jonas, &order, ItemRef::Code("HOT-03-0"), qty(1)).expect("add cappuccino");
    assert_eq!(v.lines.len(), 1);
    assert_eq!(v.lines[0].name, "Cappuccino small");
    assert_eq!(v.total, eur(340));
    f.reg.add_item(&jonas, &order, ItemRef::Barcode(&croissant), qty(2)).expect("scan croissants");
    let v = f.reg.add_item(&jonas, &order, ItemRef::Barcode(&croissant), qty(1)).expect("scan one more");
    assert_eq!(v.lines.len(), 2, "scanning the same item again adds to its line");
    assert_eq!(v.lines[1].quantity, qty(3));
    assert_eq!(v.lines[1].amount, eur(750));
    let v = f.reg.set_line_discount(&jonas, &order, 1, Some(Discount::Percent(1000))).expect("10 % off line 1");
    assert_eq!(v.lines[0].discount, Some(Discount::Percent(1000)));
    assert_eq!(v.lines[0].amount, eur(306));
    let v = f.reg.set_order_discount(&jonas, &order, Some(Discount::Amount(50))).expect("0.50 off the order");
    // The order discount is spread over the lines in proportion: 306 and 750 take 14 and 36.
    assert_eq!(v.subtotal, eur(1090));
    assert_eq!(v.discount_total, eur(84));
    assert_eq!(v.total, eur(1006));
    assert_eq!(v.total_cash, eur(1006));
    assert_eq!(v.lines[0].amount, eur(292));
    assert_eq!(v.lines[1].amount, eur(714));
    // Prices include tax: 292 × 19/119 = 46.62 → 47 and 714 × 7/107 = 46.71 → 47.
    assert_eq!((v.lines[0].tax, v.lines[1].tax, v.tax_total), (eur(47), eur(47), eur(94)));
    let by_code: Vec<(&str, i64, i64)> =
        v.taxes.iter().map(|t| (t.code.as_str(), t.base.minor(), t.tax.minor())).collect();
    assert_eq!(by_code, vec![("A", 245, 47), ("B", 667, 47)]);

    let r1 = f.reg.pay(&jonas, &order, &[cash(2000, Currency::EUR)]).expect("pay cash");
    assert_eq!(r1.receipt_no, 1);
    assert_eq!(r1.order_id, order);
    assert_eq!(r1.business_day, "2026-06-15");
    assert_eq!(r1.paid_at, "2026-06-15T10:05:00+02:00");
    assert_eq!(r1.cashier, "Jonas Weber");
    assert_eq!((r1.paid, r1.change_due, r1.rounding), (eur(1006), eur(994), eur(0)));
    assert_eq!(r1.payments.len(), 1);
    assert_eq!(r1.payments[0].kind, "cash");
    assert_eq!(
        (r1.payments[0].amount, r1.payments[0].tendered, r1.payments[0].change),
        (eur(1006), eur(2000), eur(994))
    );
    assert_eq!(r1.order.total, eur(1006));
    assert!(f.reg.open_orders().is_empty(), "a paid order is no longer open");
    assert_eq!(r1.outbox_seq, 2, "the shift opening was record 1");

    // Sale 2: card for the exact amount.
    let order = f.reg.open_order(&jonas).expect("open order");
    f.reg.add_item(&jonas, &order, ItemRef::Code("HOT-04-2"), qty(1)).expect("flat white large");
    let r2 = f.reg.pay(&jonas, &order, &[card(470, Currency::EUR)]).expect("pay card");
    assert_eq!(r2.receipt_no, 2);
    assert_eq!((r2.paid, r2.change_due), (eur(470), eur(0)));
    assert_eq!(r2.payments[0].kind, "card");
    assert_eq!(r2.payments[0].card_last4.as_deref(), Some("4242"));
    assert_eq!(r2.payments[0].card_scheme.as_deref(), Some("VISA"));
    assert_eq!(r2.payments[0].auth_code.as_deref(), Some("A1B2C3"));

    // Sale 3: split tender, card first, the rest in cash with change.
    let order = ring_up(&mut f.reg, &jonas, &[("LUN-07", 1), ("COLD-00-0", 1)]);
    assert_eq!(f.reg.order_view(&order).expect("view").total, eur(1010));
    let r3 = f.reg.pay(&jonas, &order, &[card(600, Currency::EUR), cash(500, Currency::EUR)]).expect("split");
    assert_eq!(r3.receipt_no, 3);
    let parts: Vec<(&str, i64, i64, i64)> =
        r3.payments.iter().map(|p| (p.kind.as_str(), p.amount.minor(), p.tendered.minor(), p.change.minor())).collect();
    assert_eq!(parts, vec![("card", 600, 600, 0), ("cash", 410, 500, 90)]);
    assert_eq!((r3.paid, r3.change_due), (eur(1010), eur(90)));

    // Sale 4: loose tea by weight, 0.250 kg at 89.00 per kg.
    let order = f.reg.open_order(&jonas).expect("open order");
    let v = f.reg.add_item(&jonas, &order, ItemRef::Code("TEA-00"), Quantity::from_milli(250)).expect("weighed");
    assert_eq!(v.total, eur(2225));
    let r4 = f.reg.pay(&jonas, &order, &[cash(5000, Currency::EUR)]).expect("pay");
    assert_eq!((r4.receipt_no, r4.change_due), (4, eur(2775)));

    // What the store now says about the day, as the owner sees it in the back office.
    let office = f.back_office();
    let sales = f.reg.export_sales(&office, day, day).expect("export");
    let receipts: Vec<Option<i64>> = sales.iter().map(|o| o.receipt_no).collect();
    assert_eq!(receipts, vec![Some(1), Some(2), Some(3), Some(4)]);
    assert!(sales.iter().all(|o| o.status == "paid" && o.currency == "EUR" && o.cashier == "Jonas Weber"));
    let s1 = &sales[0];
    assert_eq!((s1.subtotal, s1.discount_total, s1.tax_total, s1.total), (eur(1090), eur(84), eur(94), eur(1006)));
    let lines: Vec<(&str, Quantity, i64, i64)> =
        s1.lines.iter().map(|l| (l.sku.as_str(), l.quantity, l.discount.minor(), l.amount.minor())).collect();
    assert_eq!(lines, vec![("HOT-03-0", qty(1), 48, 292), ("BAK-00", qty(3), 36, 714)]);
    assert_eq!(sales[3].lines[0].quantity, Quantity::from_milli(250));
    assert_eq!(sales[2].payments.len(), 2);

    let d = f.reg.daily_summary(&office, day).expect("daily summary");
    let s = &d.summary;
    assert_eq!(s.order_count, 4);
    assert_eq!((s.gross, s.discounts, s.refunds, s.net), (eur(4795), eur(84), eur(0), eur(4711)));
    assert_eq!((s.total_collected, s.rounding), (eur(4711), eur(0)));
    assert_eq!(s.average_ticket, eur(1178));
    let tenders: Vec<(TenderKind, i64)> = s.tenders.iter().map(|t| (t.tender, t.sales.minor())).collect();
    assert_eq!(tenders, vec![(TenderKind::Cash, 3641), (TenderKind::Card, 1070)]);

    let x = f.reg.x_report(&office).expect("x report");
    assert_eq!(x.cash.cash_sales, eur(3641));
    assert_eq!(x.cash.expected, eur(15_000 + 3641));
    assert_eq!(x.summary, d.summary);

    // Close the register and open the store again from disk: everything is still there.
    let shift_before = f.reg.current_shift().expect("shift");
    let outbox_before = f.reg.outbox_status().expect("outbox");
    let mut f = f.reopen();
    assert_eq!(f.reg.current_shift().expect("shift"), shift_before);
    assert_eq!(f.reg.outbox_status().expect("outbox"), outbox_before);
    assert_eq!(f.reg.venue_name(), "Café Lindenblatt");
    // Sessions end with the process: the owner signs in to the back office again.
    let office = f.back_office();
    assert_eq!(f.reg.export_sales(&office, day, day).expect("export after reopen"), sales);
    assert_eq!(f.reg.daily_summary(&office, day).expect("summary after reopen"), d);

    // Numbering carries on after reopening.
    let jonas = cashier(&mut f.reg);
    let r5 = sell_card(&mut f.reg, &jonas, &[("HOT-00-0", 1)]);
    assert_eq!(r5.receipt_no, 5);
    assert_eq!(r5.outbox_seq, 6);
}

#[test]
fn search_and_lookup_find_demo_items() {
    let f = demo();
    let hits = f.reg.search("cappu", 10);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.name.starts_with("Cappuccino")), "{hits:?}");
    assert_eq!(hits[0].price, eur(340));
    assert_eq!(hits[0].category, "Hot drinks");
    // Accent-folded search: "creme" finds "Crème Brûlée".
    assert!(f.reg.search("creme", 5).iter().any(|h| h.sku == "BAK-12"));
    let bc = f.reg.catalog().by_code("DON-FOODBANK").expect("donation").barcodes[0].clone();
    let v = f.reg.lookup_barcode(&bc).expect("lookup");
    assert_eq!((v.sku.as_str(), v.price), ("DON-FOODBANK", eur(100)));
}

#[test]
fn voiding_an_order_being_rung_up_keeps_it_on_record_without_a_receipt_number() {
    let mut f = demo();
    let jonas = cashier(&mut f.reg);
    let mia = manager(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("shift");
    let order = ring_up(&mut f.reg, &jonas, &[("HOT-00-0", 2)]);
    // Voiding an order with lines is a manager's call.
    let v = f.reg.void_open_order(&mia, &order, "customer left").expect("void");
    assert_eq!((v.was_paid, v.receipt_no, v.total), (false, None, eur(440)));
    assert!(v.outbox_seq.is_some());
    // An empty order is simply dropped: nothing to record.
    let empty = f.reg.open_order(&jonas).expect("open");
    let v = f.reg.void_open_order(&jonas, &empty, "opened by mistake").expect("void empty");
    assert_eq!(v.outbox_seq, None);
    assert!(f.reg.open_orders().is_empty());

    let r = sell_cash(&mut f.reg, &jonas, &[("BAK-00", 1)]);
    assert_eq!(r.receipt_no, 1, "a voided order takes no receipt number");
    let day = f.reg.today();
    let office = f.back_office();
    let sales = f.reg.export_sales(&office, day, day).expect("export");
    assert_eq!(sales.len(), 2);
    assert_eq!((sales[0].status.as_str(), sales[0].receipt_no), ("voided", None));
    let s = f.reg.daily_summary(&office, day).expect("summary").summary;
    assert_eq!((s.order_count, s.gross, s.void_count, s.voided), (1, eur(250), 1, eur(440)));
}
