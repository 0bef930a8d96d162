//! Refunds: examples, refusals, and random sequences of partial refunds that must give back
//! exactly what was paid, never more.

use pos_core::order::{Discount, Order, PricedOrder, PricingRules};
use pos_core::refund::{Refund, RefundError, RefundRequest, RefundableOrder, compute_refund};
use pos_core::tax::{PriceMode, TaxRounding, TaxTable};
use pos_core::tender::{Settlement, TenderKind, settle};
use pos_core::{Currency, Money, Quantity};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::{
    apply_refund, build, card, cart, cash, class, eur, rate, refundable, sku, tender_plan, tenders_for,
};

fn table() -> TaxTable {
    TaxTable::new(vec![
        class(1, "standard", vec![rate(1, "A", 190_000)]),
        class(2, "gst+pst", vec![rate(3, "GST", 50_000), rate(4, "PST", 70_000)]),
    ])
    .unwrap()
}

/// Prices `lines` of (price, units, tax class) and settles with `tenders`.
fn sale(
    mode: PriceMode,
    lines: &[(i64, i64, i64)],
    tenders: &[pos_core::tender::Tender],
    inc: i64,
) -> (PricedOrder, Settlement, RefundableOrder) {
    let mut o = Order::new(Currency::EUR);
    for (i, &(price, units, class)) in lines.iter().enumerate() {
        o.add(&sku(i as i64 + 1, class, price, false), Quantity::units(units)).unwrap();
    }
    let rules = PricingRules { price_mode: mode, tax_rounding: TaxRounding::PerLine, cash_rounding: inc };
    let p = o.price(&rules, &table()).unwrap();
    let s = settle(eur(p.total), tenders, inc).unwrap();
    let r = refundable(&p, &s);
    (p, s, r)
}

fn lines(v: &[(u32, i64)]) -> RefundRequest {
    RefundRequest::Lines(v.iter().map(|&(n, u)| (n, Quantity::units(u))).collect())
}

#[test]
fn partial_refund_inclusive() {
    // 3 × 1.00 and 1 × 5.00 at 19 % inclusive, paid by card. Line taxes: 0.48 and 0.80.
    let (p, _, mut o) = sale(PriceMode::TaxInclusive, &[(100, 3, 1), (500, 1, 1)], &[card(800)], 1);
    assert_eq!((p.total, p.lines[0].tax(), p.lines[1].tax()), (800, 48, 80));
    let r = compute_refund(&o, &lines(&[(1, 1)])).unwrap();
    assert_eq!((r.amount, r.tax_total, r.rounding, r.total), (100, 16, 0, 100));
    assert_eq!(r.taxes[0].base, 84);
    assert_eq!(r.payouts.len(), 1);
    assert_eq!((r.payouts[0].kind, r.payouts[0].amount, r.payouts[0].payment_seq), (TenderKind::Card, 100, 1));
    assert!(r.payouts[0].card.is_some());
    apply_refund(&mut o, &r);
    // The last unit of the line takes what is left, so the line refunds exactly.
    let r2 = compute_refund(&o, &lines(&[(1, 2)])).unwrap();
    assert_eq!((r2.amount, r2.tax_total), (200, 32));
    apply_refund(&mut o, &r2);
    let r3 = compute_refund(&o, &RefundRequest::Whole).unwrap();
    assert_eq!((r3.amount, r3.tax_total, r3.total), (500, 80, 500));
    apply_refund(&mut o, &r3);
    assert_eq!(o.refunded_total, 800);
    assert_eq!(compute_refund(&o, &RefundRequest::Whole), Err(RefundError::NothingToRefund));
}

#[test]
fn exclusive_refund_gives_back_the_tax() {
    // 9.99 + GST 0.50 + PST 0.70 = 11.19.
    let (p, _, o) = sale(PriceMode::TaxExclusive, &[(999, 1, 2)], &[card(1119)], 1);
    assert_eq!(p.total, 1119);
    let r = compute_refund(&o, &RefundRequest::Whole).unwrap();
    assert_eq!((r.amount, r.tax_total, r.total), (999, 120, 1119));
    let taxes: Vec<_> = r.taxes.iter().map(|t| (t.code.as_str(), t.rate_ppm, t.base, t.tax)).collect();
    assert_eq!(taxes, vec![("GST", 50_000, 999, 50), ("PST", 70_000, 999, 70)]);
}

#[test]
fn cash_rounding_goes_back_with_the_refund_that_empties_the_order() {
    fn check(input: (i64, i64, &[u32]), expected: &[(i64, i64)]) {
        // Two lines, paid in cash with 0.05 rounding; refunded line by line in the given order.
        let (a, b, order) = input;
        let (p, s, mut o) = sale(PriceMode::TaxInclusive, &[(a, 1, 1), (b, 1, 1)], &[cash(5000)], 5);
        let mut got = Vec::new();
        for line in order {
            let r = compute_refund(&o, &lines(&[(*line, 1)]))
                .unwrap_or_else(|e| panic!("{input:?}: refund of line {line}: {e}"));
            got.push((r.total, r.rounding));
            apply_refund(&mut o, &r);
        }
        assert_eq!(got, expected, "{input:?}");
        assert_eq!(got.iter().map(|g| g.0).sum::<i64>(), s.paid(), "{input:?}: total {}", p.total);
    }
    // 10.02 is paid as 10.00: the second refund is 0.02 short.
    check((501, 501, &[1, 2]), &[(501, 0), (499, -2)]);
    // 10.03 is paid as 10.05: the second refund carries the 0.02 back.
    check((501, 502, &[2, 1]), &[(502, 0), (503, 2)]);
    // A free line with 10.02 paid as 10.00, the free line kept back at first.
    check((1002, 0, &[2, 1]), &[(0, 0), (1000, -2)]);
    // The same, the paid line returned first: the customer gets back the 10.00 paid, not more.
    check((1002, 0, &[1, 2]), &[(1000, -2), (0, 0)]);
}

#[test]
fn payouts_go_back_to_the_last_tender_first() {
    let (_, s, mut o) = sale(PriceMode::TaxInclusive, &[(1000, 2, 1)], &[card(1500), cash(1000)], 1);
    assert_eq!(s.payments.iter().map(|p| p.amount).collect::<Vec<_>>(), vec![1500, 500]);
    let r = compute_refund(&o, &lines(&[(1, 1)])).unwrap();
    let payouts: Vec<_> = r.payouts.iter().map(|p| (p.payment_seq, p.kind, p.amount)).collect();
    assert_eq!(payouts, vec![(2, TenderKind::Cash, 500), (1, TenderKind::Card, 500)]);
    apply_refund(&mut o, &r);
    let r = compute_refund(&o, &RefundRequest::Whole).unwrap();
    let payouts: Vec<_> = r.payouts.iter().map(|p| (p.payment_seq, p.kind, p.amount)).collect();
    assert_eq!(payouts, vec![(1, TenderKind::Card, 1000)]);
}

#[test]
fn refusals() {
    fn check(input: (&RefundableOrder, RefundRequest), expected: RefundError) {
        assert_eq!(compute_refund(input.0, &input.1), Err(expected), "{:?}", input.1);
    }
    let (_, _, o) = sale(PriceMode::TaxInclusive, &[(100, 3, 1), (500, 1, 1)], &[card(800)], 1);
    check(
        (&o, lines(&[(1, 4)])),
        RefundError::QuantityExceeds { line_no: 1, available: Quantity::units(3), asked: Quantity::units(4) },
    );
    check((&o, lines(&[(1, 1), (1, 1)])), RefundError::DuplicateLine(1));
    check((&o, lines(&[(9, 1)])), RefundError::NoSuchLine(9));
    check((&o, lines(&[(1, 0)])), RefundError::QuantityNotPositive);
    check((&o, RefundRequest::Lines(vec![(1, Quantity::from_milli(-1000))])), RefundError::QuantityNotPositive);
    check((&o, RefundRequest::Lines(vec![])), RefundError::NothingToRefund);
    // The order says 7.50 was already given back elsewhere: 1.00 more would exceed the 8.00 paid.
    let mut tampered = o.clone();
    tampered.refunded_total = 750;
    check(
        (&tampered, lines(&[(1, 1)])),
        RefundError::ExceedsPaid { paid: eur(800), already: eur(750), asked: eur(100) },
    );
    // Once a line is fully refunded, it cannot be refunded again.
    let mut o2 = o.clone();
    let r = compute_refund(&o2, &lines(&[(2, 1)])).unwrap();
    apply_refund(&mut o2, &r);
    check(
        (&o2, lines(&[(2, 1)])),
        RefundError::QuantityExceeds { line_no: 2, available: Quantity::units(0), asked: Quantity::units(1) },
    );
}

#[test]
fn small_line_refunded_unit_by_unit_never_goes_negative() {
    // 5 units for 0.03 in all (a 0.01 item with a discount): refunding one unit at a time must
    // hand back 0.03 in total, with no refund below zero.
    let mut ord = Order::new(Currency::EUR);
    let line = ord.add(&sku(1, 1, 1, false), Quantity::units(5)).unwrap();
    ord.set_line_discount(line, Some(Discount::Amount(2))).unwrap();
    let rules =
        PricingRules { price_mode: PriceMode::TaxInclusive, tax_rounding: TaxRounding::PerLine, cash_rounding: 1 };
    let p = ord.price(&rules, &table()).unwrap();
    assert_eq!(p.total, 3);
    let s = settle(eur(3), &[card(3)], 1).unwrap();
    let mut o = refundable(&p, &s);
    let mut got = Vec::new();
    for _ in 0..5 {
        let r = compute_refund(&o, &lines(&[(1, 1)])).unwrap();
        got.push(r.total);
        apply_refund(&mut o, &r);
    }
    assert!(got.iter().all(|t| *t >= 0), "refund totals {got:?}");
    assert_eq!(got.iter().sum::<i64>(), 3, "refund totals {got:?}");
}

/// Checks one refund against the order as it stood before it.
fn check_refund(
    o: &RefundableOrder,
    asked: &[(u32, Quantity)],
    r: &Refund,
    returned_rounding: i64,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(r.lines.len(), asked.len());
    let mut empties = true;
    for l in &o.lines {
        let q = asked.iter().find(|a| a.0 == l.line_no).map_or(0, |a| a.1.milli());
        empties &= l.refunded_qty.milli() + q == l.qty.milli();
    }
    for (rl, (line_no, qty)) in r.lines.iter().zip(asked) {
        prop_assert_eq!((rl.line_no, rl.qty), (*line_no, *qty));
        let l = o.lines.iter().find(|l| l.line_no == *line_no).unwrap();
        let left = l.amount - l.refunded_amount;
        prop_assert!(
            rl.amount >= 0 && rl.amount <= left,
            "line {} refunds {} of the {} left",
            line_no,
            rl.amount,
            left
        );
        let rest = l.refunded_qty.milli() + qty.milli() == l.qty.milli();
        if rest {
            prop_assert_eq!(rl.amount, left, "the last of a line refunds what is left of it");
        }
        prop_assert_eq!(rl.taxes.len(), l.taxes.len());
        for (rate, tax) in &rl.taxes {
            let total = l.taxes.iter().find(|t| t.0 == *rate).unwrap().1;
            let done = l.refunded_taxes.iter().find(|t| t.0 == *rate).unwrap().1;
            prop_assert!(*tax >= 0 && *tax <= total - done, "tax {} of the {} left", tax, total - done);
            if rest {
                prop_assert_eq!(*tax, total - done);
            }
        }
    }
    let amount: i64 = r.lines.iter().map(|l| l.amount).sum();
    let line_tax: i64 = r.lines.iter().flat_map(|l| l.taxes.iter().map(|t| t.1)).sum();
    prop_assert_eq!(r.amount, amount);
    prop_assert_eq!(r.tax_total, line_tax);
    prop_assert_eq!(r.tax_total, r.taxes.iter().map(|t| t.tax).sum::<i64>());
    for t in &r.taxes {
        let base: i64 = r
            .lines
            .iter()
            .filter(|l| l.taxes.iter().any(|x| x.0 == t.rate_id))
            .map(|l| match o.price_mode {
                PriceMode::TaxExclusive => l.amount,
                PriceMode::TaxInclusive => l.amount - l.taxes.iter().map(|x| x.1).sum::<i64>(),
            })
            .sum();
        prop_assert_eq!(t.base, base, "base of rate {}", t.rate_id.0);
        let info = o.rates.iter().find(|i| i.rate_id == t.rate_id).unwrap();
        prop_assert_eq!((&t.code, t.rate_ppm), (&info.code, info.rate_ppm));
    }
    let before_rounding = match o.price_mode {
        PriceMode::TaxInclusive => amount,
        PriceMode::TaxExclusive => amount + line_tax,
    };
    prop_assert_eq!(r.total, before_rounding + r.rounding);
    prop_assert!(r.total >= 0, "refund total {}", r.total);
    prop_assert!(
        r.total <= o.paid() - o.refunded_total,
        "refund {} exceeds the {} left",
        r.total,
        o.paid() - o.refunded_total
    );
    // Cash rounding: only ever the sale's own, given back at most once, all of it by the end.
    let returned = returned_rounding + r.rounding;
    prop_assert!(
        returned.signum() * o.rounding.signum() >= 0 && returned.abs() <= o.rounding.abs(),
        "rounding {} given back of the sale's {}",
        returned,
        o.rounding
    );
    if empties {
        prop_assert_eq!(returned, o.rounding, "the refund that empties the order settles the rounding");
    }
    // Payouts: to the original tenders, last first, never more than each took.
    prop_assert_eq!(r.payouts.iter().map(|p| p.amount).sum::<i64>(), r.total);
    let mut last_seq = u32::MAX;
    for po in &r.payouts {
        prop_assert!(po.amount > 0);
        prop_assert!(po.payment_seq < last_seq, "payouts go last tender first");
        last_seq = po.payment_seq;
        let pay = o.payments.iter().find(|p| p.seq == po.payment_seq).unwrap();
        prop_assert_eq!(po.kind, pay.kind);
        prop_assert_eq!(&po.card, &pay.card);
        prop_assert!(po.amount <= pay.amount - pay.refunded);
    }
    if let Some(lowest) = r.payouts.last() {
        // Every later payment is used up before an earlier one is touched.
        for pay in o.payments.iter().filter(|p| p.seq > lowest.payment_seq) {
            let out = r.payouts.iter().find(|x| x.payment_seq == pay.seq).map_or(0, |x| x.amount);
            prop_assert_eq!(pay.refunded + out, pay.amount, "payment {} is not used up", pay.seq);
        }
    }
    Ok(())
}

/// Picks a request from random indexes: distinct lines, whole units unless the line is weighed.
fn request(o: &RefundableOrder, weighed: &[bool], picks: &[(Index, u32)]) -> Vec<(u32, Quantity)> {
    let mut out: Vec<(u32, Quantity)> = Vec::new();
    for (idx, seed) in picks {
        let i = idx.index(o.lines.len());
        let l = &o.lines[i];
        let avail = l.qty.milli() - l.refunded_qty.milli();
        if avail == 0 || out.iter().any(|(n, _)| *n == l.line_no) {
            continue;
        }
        let milli = if weighed[i] { 1 + *seed as i64 % avail } else { (1 + *seed as i64 % (avail / 1000)) * 1000 };
        out.push((l.line_no, Quantity::from_milli(milli)));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn piecewise_refunds_give_back_exactly_what_was_paid(
        spec in cart(),
        plan in tender_plan(),
        inc in prop_oneof![Just(1i64), Just(5i64)],
        steps in prop::collection::vec(prop::collection::vec((any::<Index>(), any::<u32>()), 1..=3), 0..=8),
    ) {
        let b = build(&spec, inc);
        let p = b.price();
        let tenders = tenders_for(p.total, &plan, inc);
        let s = settle(Money::new(p.total, Currency::EUR), &tenders, inc);
        prop_assert!(s.is_ok(), "settle {:?}: {:?}", tenders, s);
        let s = s.unwrap();
        let paid = s.paid();
        let weighed: Vec<bool> = p.lines.iter().map(|l| l.item.weighed).collect();
        let mut o = refundable(&p, &s);
        let mut returned_rounding = 0;
        let mut given_back = 0;

        for picks in &steps {
            let asked = request(&o, &weighed, picks);
            if asked.is_empty() {
                continue;
            }
            let r = compute_refund(&o, &RefundRequest::Lines(asked.clone()));
            prop_assert!(r.is_ok(), "refund of {:?} refused: {:?}\norder: {:?}", asked, r, o);
            let r = r.unwrap();
            check_refund(&o, &asked, &r, returned_rounding)?;
            apply_refund(&mut o, &r);
            returned_rounding += r.rounding;
            given_back += r.total;
            prop_assert!(given_back <= paid);
        }

        // Whatever is left, in one go.
        let rest: Vec<(u32, Quantity)> = o
            .lines
            .iter()
            .filter(|l| l.refunded_qty < l.qty)
            .map(|l| (l.line_no, Quantity::from_milli(l.qty.milli() - l.refunded_qty.milli())))
            .collect();
        if !rest.is_empty() {
            let r = compute_refund(&o, &RefundRequest::Whole);
            prop_assert!(r.is_ok(), "refund of the rest {:?} refused: {:?}\norder: {:?}", rest, r, o);
            let r = r.unwrap();
            check_refund(&o, &rest, &r, returned_rounding)?;
            apply_refund(&mut o, &r);
            returned_rounding += r.rounding;
            given_back += r.total;
        }

        prop_assert_eq!(given_back, paid, "everything refunded gives back what was paid");
        prop_assert_eq!(o.refunded_total, paid);
        prop_assert_eq!(returned_rounding, s.rounding);
        for l in &o.lines {
            prop_assert_eq!(l.refunded_qty, l.qty);
            prop_assert_eq!(l.refunded_amount, l.amount);
            prop_assert_eq!(&l.refunded_taxes, &l.taxes);
        }
        for pay in &o.payments {
            prop_assert_eq!(pay.refunded, pay.amount);
        }
        prop_assert_eq!(compute_refund(&o, &RefundRequest::Whole), Err(RefundError::NothingToRefund));
    }
}
