//! Refunds, whole and by line: paid back to the original tenders (the last tender first), shown in
//! the daily summary's `refunds`, and never more than was paid, cash rounding included.

use pos_app::pos_core::money::{Currency, Money, Quantity};
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_core::report::SalesSummary;
use pos_app::pos_core::tender::TenderKind;
use pos_app::views::RefundReceipt;
use pos_app::{OrderRef, Register, RenderFormat, Session};

use crate::support::*;

fn payouts(r: &RefundReceipt) -> Vec<(&str, i64)> {
    r.payouts.iter().map(|p| (p.kind.as_str(), p.amount.minor())).collect()
}

fn tender(s: &SalesSummary, kind: TenderKind) -> (i64, i64) {
    s.tenders.iter().find(|t| t.tender == kind).map_or((0, 0), |t| (t.sales.minor(), t.refunds.minor()))
}

/// Sold and refunded quantities of the receipt's lines, from the sales export (`office` has
/// back-office access).
fn lines(reg: &mut Register, office: &Session, receipt: i64) -> Vec<(Quantity, Quantity)> {
    let day = reg.today();
    let sales = reg.export_sales(office, day, day).expect("export");
    let o = sales.iter().find(|o| o.receipt_no == Some(receipt)).expect("order in export");
    o.lines.iter().map(|l| (l.quantity, l.refunded_quantity)).collect()
}

#[test]
fn whole_and_line_refunds_go_back_to_the_original_tenders() {
    let (mut f, office) = demo_with_back_office();
    let s = cashier(&mut f.reg);
    let m = manager(&mut f.reg);
    f.reg.open_shift(&s, eur(10_000)).expect("shift");

    // Receipt 1: cappuccino 3.40, two croissants 5.00, a mug 12.90 = 21.30; 10.00 by card, the rest cash.
    let a = ring_up(&mut f.reg, &s, &[("HOT-03-0", 1), ("BAK-00", 2), ("MER-0-0", 1)]);
    let ra = f.reg.pay(&s, &a, &[card(1000, Currency::EUR), cash(2000, Currency::EUR)]).expect("pay A");
    assert_eq!((ra.paid, ra.change_due), (eur(2130), eur(870)));
    // Receipt 2: three espressos 6.60 and a salad 7.90, by card.
    let rb = sell_card(&mut f.reg, &s, &[("HOT-00-0", 3), ("LUN-07", 1)]);
    // Receipt 3: one croissant, cash.
    let rc = sell_cash(&mut f.reg, &s, &[("BAK-00", 1)]);
    assert_eq!((ra.receipt_no, rb.receipt_no, rc.receipt_no), (1, 2, 3));

    // Whole refund of a split-tender sale: the cash back first (the last tender), then the card.
    let whole =
        f.reg.refund(&m, &OrderRef::Id(ra.order_id.clone()), &RefundRequest::Whole, "wrong order").expect("whole");
    assert_eq!(whole.receipt_no, 4, "refunds take the next receipt number");
    assert_eq!(whole.original_receipt_no, Some(1));
    assert_eq!(whole.order_id, ra.order_id);
    assert_eq!(whole.total, eur(2130));
    assert_eq!(payouts(&whole), vec![("cash", 1130), ("card", 1000)]);
    assert_eq!(whole.tax_total, ra.order.tax_total);
    assert_eq!(whole.lines.len(), 3);
    assert_eq!(whole.rounding, eur(0));
    assert_eq!(lines(&mut f.reg, &office, 1), vec![(qty(1), qty(1)), (qty(2), qty(2)), (qty(1), qty(1))]);

    // One espresso of three: a third of the line and of its tax, back to the card.
    let one =
        f.reg.refund(&m, &OrderRef::Receipt(2), &RefundRequest::Lines(vec![(1, qty(1))]), "too cold").expect("line");
    assert_eq!(one.total, eur(220));
    // The line's tax is 660 × 19/119 = 105.38 → 1.05; a third of it is 0.35.
    assert_eq!(one.lines[0].tax, eur(35));
    assert_eq!(one.lines[0].quantity, qty(1));
    assert_eq!(payouts(&one), vec![("card", 220)]);
    assert_eq!(lines(&mut f.reg, &office, 2), vec![(qty(3), qty(1)), (qty(1), Quantity::from_milli(0))]);

    let rc_refund = f.reg.refund(&m, &OrderRef::Receipt(3), &RefundRequest::Whole, "stale").expect("cash refund");
    assert_eq!(payouts(&rc_refund), vec![("cash", 250)]);

    // The daily summary shows the refunded amounts; collected money is net plus rounding.
    let day = f.reg.today();
    let sales = f.reg.export_sales(&office, day, day).expect("export");
    let refunded: Vec<i64> = sales.iter().map(|o| o.refunded_total.minor()).collect();
    assert_eq!(refunded, vec![2130, 220, 250]);
    let sum = f.reg.daily_summary(&m, day).expect("summary").summary;
    assert_eq!(sum.order_count, 3, "refunds do not take sales away from the count");
    assert_eq!(sum.gross, eur(2130 + 1450 + 250));
    assert_eq!((sum.refunds, sum.refund_count), (eur(2130 + 220 + 250), 3));
    assert_eq!(sum.net, eur(3830 - 2600));
    assert_eq!(sum.total_collected.minor(), sum.net.minor() + sum.rounding.minor());
    assert_eq!(sum.total_collected, eur(1230));
    assert_eq!(tender(&sum, TenderKind::Cash), (1130 + 250, 1130 + 250));
    assert_eq!(tender(&sum, TenderKind::Card), (1000 + 1450, 1000 + 220));
    let sale_tax: i64 = sales.iter().map(|o| o.tax_total.minor()).sum();
    let refund_tax = whole.tax_total.minor() + one.tax_total.minor() + rc_refund.tax_total.minor();
    assert_eq!(sum.tax_total.minor(), sale_tax - refund_tax);
    let by_rate: i64 = sum.tax.iter().map(|t| t.tax.minor()).sum();
    assert_eq!(by_rate, sum.tax_total.minor());

    // The drawer: cash paid back comes out of what is expected.
    let x = f.reg.x_report(&m).expect("x");
    assert_eq!((x.cash.cash_sales, x.cash.cash_refunds), (eur(1380), eur(1380)));
    assert_eq!(x.cash.expected, eur(10_000));

    // The rest of receipt 2, by line: the remaining espressos take exactly what is left of the line.
    let rest =
        f.reg.refund(&m, &OrderRef::Receipt(2), &RefundRequest::Lines(vec![(1, qty(2))]), "too cold").expect("rest");
    assert_eq!((rest.total, rest.lines[0].tax), (eur(440), eur(70)));
    let last = f.reg.refund(&m, &OrderRef::Receipt(2), &RefundRequest::Whole, "closing").expect("last line");
    assert_eq!(last.total, eur(790));
    assert_eq!(one.total.minor() + rest.total.minor() + last.total.minor(), rb.paid.minor());
    let sum = f.reg.daily_summary(&m, day).expect("summary").summary;
    assert_eq!((sum.net, sum.total_collected, sum.tax_total), (eur(0), eur(0), eur(0)));
}

#[test]
fn refunds_count_on_the_business_day_they_are_made() {
    let mut f = demo();
    let s = cashier(&mut f.reg);
    f.reg.open_shift(&s, eur(0)).expect("shift");
    let sale = sell_card(&mut f.reg, &s, &[("GEAR-04", 1)]);
    let day1 = f.reg.today();
    f.clock.advance(jiff::SignedDuration::from_hours(24));
    let day2 = f.reg.today();
    assert_eq!(day2, day1.tomorrow().expect("date"));
    let m = manager(&mut f.reg);
    f.reg.refund(&m, &OrderRef::Receipt(sale.receipt_no), &RefundRequest::Whole, "broken").expect("refund");
    let d1 = f.reg.daily_summary(&m, day1).expect("day 1").summary;
    let d2 = f.reg.daily_summary(&m, day2).expect("day 2").summary;
    assert_eq!((d1.order_count, d1.gross, d1.refunds, d1.total_collected), (1, eur(5990), eur(0), eur(5990)));
    assert_eq!((d2.order_count, d2.gross, d2.refunds, d2.total_collected), (0, eur(0), eur(5990), eur(-5990)));
    assert_eq!(d2.net, eur(-5990));
}

#[test]
fn cash_rounding_is_returned_with_the_refund_that_empties_the_order() {
    // Prices exclude tax, CHF cash is rounded to 0.05, tax is rounded per invoice.
    let mut f = custom(&exclusive_rounding_venue(), ts("2026-06-15T08:00:00Z"));
    let chf = |m| Money::new(m, Currency::CHF);
    let s = cashier(&mut f.reg);
    let m = manager(&mut f.reg);
    f.reg.open_shift(&s, chf(20_000)).expect("shift");

    // Chai latte 3.90 + flat white 3.80 = 7.70, 8.1 % tax per invoice: 62.37 → 0.62; total 8.32.
    let order = ring_up(&mut f.reg, &s, &[("HOT-08-0", 1), ("HOT-04-0", 1)]);
    let v = f.reg.order_view(&order).expect("view");
    assert_eq!((v.subtotal, v.tax_total, v.total, v.total_cash), (chf(770), chf(62), chf(832), chf(830)));
    let line_tax: Vec<i64> = v.lines.iter().map(|l| l.tax.minor()).collect();
    assert_eq!(line_tax, vec![31, 31]);
    let sale = f.reg.pay(&s, &order, &[cash(1000, Currency::CHF)]).expect("pay cash");
    assert_eq!((sale.paid, sale.change_due, sale.rounding), (chf(830), chf(170), chf(-2)));

    // The same goods by card: no rounding.
    let by_card = sell_card(&mut f.reg, &s, &[("HOT-08-0", 1), ("HOT-04-0", 1)]);
    assert_eq!((by_card.paid, by_card.rounding), (chf(832), chf(0)));

    let day = f.reg.today();
    let before = f.reg.daily_summary(&m, day).expect("summary").summary;
    assert_eq!((before.gross, before.tax_total, before.rounding), (chf(1540), chf(124), chf(-2)));
    assert_eq!(before.total_collected, chf(830 + 832));
    assert_eq!(before.total_collected.minor(), before.net.minor() + before.tax_total.minor() + before.rounding.minor());

    // First line back: 3.90 + 0.31 tax; the order is not emptied, so no rounding yet.
    let first = f
        .reg
        .refund(&m, &OrderRef::Receipt(sale.receipt_no), &RefundRequest::Lines(vec![(1, qty(1))]), "spilt")
        .expect("line");
    assert_eq!((first.total, first.tax_total, first.rounding), (chf(421), chf(31), chf(0)));
    assert_eq!(payouts(&first), vec![("cash", 421)]);
    // The last line gives back the sale's rounding, so the refunds add up to what was paid.
    let rest = f.reg.refund(&m, &OrderRef::Receipt(sale.receipt_no), &RefundRequest::Whole, "spilt").expect("rest");
    assert_eq!((rest.total, rest.rounding), (chf(409), chf(-2)));
    assert_eq!(first.total.minor() + rest.total.minor(), sale.paid.minor());

    let after = f.reg.daily_summary(&m, day).expect("summary").summary;
    assert_eq!((after.refunds, after.refund_count), (chf(770), 2));
    assert_eq!((after.net, after.tax_total, after.rounding), (chf(770), chf(62), chf(0)));
    assert_eq!(after.total_collected, chf(832));
    assert_eq!(after.total_collected.minor(), after.net.minor() + after.tax_total.minor() + after.rounding.minor());
    let x = f.reg.x_report(&m).expect("x");
    assert_eq!((x.cash.cash_sales, x.cash.cash_refunds, x.cash.expected), (chf(830), chf(830), chf(20_000)));
}

/// A tax class with two rates (as where a federal and a provincial sales tax both apply): such a
/// line keeps one tax row per rate, while a single-rate line keeps its rate on the line itself.
/// Refunds take back each rate of either kind, and refunding everything leaves nothing on any rate.
#[test]
fn lines_taxed_at_one_rate_and_at_two_rates_refund_every_rate() {
    let mut setup = pos_app::demo::demo_venue();
    for class in &mut setup.tax_classes {
        if class.name == "standard" {
            class.rates = vec![("F".into(), "Federal 5%".into(), 50_000), ("P".into(), "Provincial 7%".into(), 70_000)];
        }
    }
    let mut f = custom(&setup, ts("2026-03-10T10:00:00Z"));
    let s = cashier(&mut f.reg);
    let m = manager(&mut f.reg);
    f.reg.open_shift(&s, eur(10_000)).expect("shift");
    // Two mugs (standard: both rates) and a croissant (reduced: one rate).
    let sale = sell_cash(&mut f.reg, &s, &[("MER-0-0", 2), ("BAK-00", 1)]);
    assert_eq!(sale.paid, eur(2 * 1290 + 250));
    let text =
        String::from_utf8(f.reg.render_receipt(&s, &sale.order_id, RenderFormat::Text, None).expect("render")).unwrap();
    assert!(text.contains("F,P") && text.contains('B'), "both codes on the mug line:\n{text}");

    let day = f.reg.today();
    let rates = |reg: &mut Register| -> Vec<(String, i64)> {
        let sum = reg.daily_summary(&m, day).expect("summary").summary;
        assert_eq!(sum.tax.iter().map(|t| t.tax.minor()).sum::<i64>(), sum.tax_total.minor());
        sum.tax.iter().map(|t| (t.code.clone(), t.tax.minor())).collect()
    };
    let sold = rates(&mut f.reg);
    let codes: Vec<&str> = sold.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, ["B", "F", "P"]);
    assert!(sold.iter().all(|(_, t)| *t > 0), "{sold:?}");

    // One mug of two: each of its rates loses about half, the croissant's rate nothing.
    let one = f
        .reg
        .refund(&m, &OrderRef::Receipt(sale.receipt_no), &RefundRequest::Lines(vec![(1, qty(1))]), "chipped")
        .expect("one mug");
    assert_eq!(one.total, eur(1290));
    let after = rates(&mut f.reg);
    for ((code, before), (_, now)) in sold.iter().zip(&after) {
        let taken = before - now;
        match code.as_str() {
            "B" => assert_eq!(taken, 0),
            _ => assert!((taken * 2 - before).abs() <= 1, "{code}: {taken} of {before}"),
        }
    }

    // The rest, whole: every rate comes back to nothing, and nothing more can be refunded.
    let rest = f.reg.refund(&m, &OrderRef::Receipt(sale.receipt_no), &RefundRequest::Whole, "closing").expect("rest");
    assert_eq!(one.total.minor() + rest.total.minor(), sale.paid.minor());
    assert!(rates(&mut f.reg).iter().all(|(_, t)| *t == 0), "{:?}", rates(&mut f.reg));
    let again = f.reg.refund(&m, &OrderRef::Receipt(sale.receipt_no), &RefundRequest::Whole, "twice");
    assert!(again.is_err(), "{again:?}");
}
