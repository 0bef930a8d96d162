//! Ringing up and pricing orders: random carts against the oracle, and the refusals.

use std::collections::BTreeMap;

use pos_core::Quantity;
use pos_core::order::{Discount, Order, OrderError, PricingRules};
use pos_core::tax::{PriceMode, TaxRounding, TaxTable};
use proptest::prelude::*;

use crate::support::{Built, build, cart, class, oracle, rate, sku};

fn rules(price_mode: PriceMode, tax_rounding: TaxRounding) -> PricingRules {
    PricingRules { price_mode, tax_rounding, cash_rounding: 1 }
}

fn vat_table() -> TaxTable {
    TaxTable::new(vec![
        class(1, "standard", vec![rate(1, "A", 190_000)]),
        class(2, "reduced", vec![rate(2, "B", 70_000)]),
        class(3, "gst+pst", vec![rate(3, "GST", 50_000), rate(4, "PST", 70_000)]),
    ])
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Every priced cart adds up, and its tax matches the oracle rate by rate.
    #[test]
    fn priced_carts_add_up_and_match_the_oracle(spec in cart()) {
        let b = build(&spec, 1);
        let p = b.price();
        check_priced(&b, &p)?;
    }
}

fn check_priced(b: &Built, p: &pos_core::order::PricedOrder) -> Result<(), TestCaseError> {
    let lines = b.order.lines();
    prop_assert_eq!(p.lines.len(), lines.len());
    prop_assert_eq!(p.price_mode, b.rules.price_mode);

    // Extended amounts and line discounts.
    let mut after_line = Vec::new();
    for (pl, l) in p.lines.iter().zip(lines) {
        prop_assert_eq!(pl.line_no, l.line_no);
        prop_assert_eq!(pl.qty, l.qty);
        prop_assert_eq!(pl.unit_price, l.unit_price);
        let extended = oracle::extend(l.qty.milli(), l.unit_price);
        let line_discount = l.discount.map_or(0, |d| oracle::discount_on(d, extended));
        prop_assert_eq!(pl.extended, extended, "extended of line {}", l.line_no);
        prop_assert_eq!(pl.line_discount, line_discount, "line discount of line {}", l.line_no);
        prop_assert!(line_discount >= 0 && line_discount <= extended);
        after_line.push(extended - line_discount);
    }

    // The order discount, spread in proportion to what each line is worth after its own discount.
    let base: i64 = after_line.iter().sum();
    let order_discount = b.order.discount().map_or(0, |d| oracle::discount_on(d, base));
    prop_assert!(order_discount <= base);
    prop_assert_eq!(p.lines.iter().map(|l| l.order_discount).sum::<i64>(), order_discount);
    for (pl, after) in p.lines.iter().zip(&after_line) {
        prop_assert!(pl.order_discount >= 0 && pl.order_discount <= *after, "share {} of {}", pl.order_discount, after);
        if base > 0 {
            let off = pl.order_discount as i128 * base as i128 - order_discount as i128 * *after as i128;
            prop_assert!(off.abs() < base as i128, "share {} is not within one unit of its part", pl.order_discount);
        }
        prop_assert_eq!(pl.amount, after - pl.order_discount);
        prop_assert!(pl.amount >= 0);
    }

    // Header figures.
    let sum_amount: i64 = p.lines.iter().map(|l| l.amount).sum();
    prop_assert_eq!(p.subtotal, p.lines.iter().map(|l| l.extended).sum::<i64>());
    prop_assert_eq!(p.discount_total, p.lines.iter().map(|l| l.line_discount).sum::<i64>() + order_discount);
    prop_assert_eq!(sum_amount, p.subtotal - p.discount_total);
    let expected_total = match p.price_mode {
        PriceMode::TaxInclusive => sum_amount,
        PriceMode::TaxExclusive => sum_amount + p.tax_total,
    };
    prop_assert_eq!(p.total, expected_total);

    // Tax per rate against the oracle.
    let oracle_lines: Vec<(i64, &pos_core::tax::TaxClass)> =
        p.lines.iter().map(|l| (l.amount, b.class(l.item.tax_class))).collect();
    let expected = oracle::taxes_by_rate(&oracle_lines, b.rules.price_mode, b.rules.tax_rounding);
    let got: BTreeMap<i64, (i64, i64)> = p.taxes.iter().map(|t| (t.rate_id.0, (t.base, t.tax))).collect();
    prop_assert_eq!(got.len(), p.taxes.len(), "a rate is listed twice");
    prop_assert_eq!(&got, &expected);
    prop_assert_eq!(p.tax_total, expected.values().map(|v| v.1).sum::<i64>());
    prop_assert_eq!(p.tax_total, p.taxes.iter().map(|t| t.tax).sum::<i64>());

    // Per-line taxes add up to the total in both modes.
    prop_assert_eq!(p.lines.iter().map(|l| l.tax()).sum::<i64>(), p.tax_total);
    match b.rules.tax_rounding {
        TaxRounding::PerLine => {
            for l in &p.lines {
                let want = oracle::class_taxes(b.class(l.item.tax_class), l.amount, b.rules.price_mode);
                prop_assert_eq!(&l.taxes, &want, "taxes of line {}", l.line_no);
            }
        }
        TaxRounding::PerInvoice => {
            // Each (class, rate): the lines' shares add up to the class's tax, rounded once.
            let mut sums: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
            for l in &p.lines {
                for (rate_id, tax) in &l.taxes {
                    prop_assert!(*tax >= 0);
                    let e = sums.entry((l.item.tax_class.0, rate_id.0)).or_default();
                    e.1 += tax;
                }
            }
            let mut class_amounts: BTreeMap<i64, i64> = BTreeMap::new();
            for l in &p.lines {
                *class_amounts.entry(l.item.tax_class.0).or_default() += l.amount;
            }
            for (class_id, amount) in class_amounts {
                let c = b.classes.iter().find(|c| c.id.0 == class_id).unwrap();
                for (rate_id, tax) in oracle::class_taxes(c, amount, b.rules.price_mode) {
                    prop_assert_eq!(sums.get(&(class_id, rate_id.0)).map_or(0, |s| s.1), tax);
                }
            }
        }
    }
    Ok(())
}

#[test]
fn three_times_099_at_19_percent_inclusive() {
    fn check(input: TaxRounding, expected: (i64, i64)) {
        let mut o = Order::new(pos_core::Currency::EUR);
        o.add(&sku(1, 1, 99, false), Quantity::units(3)).unwrap();
        // A second SKU at the same price and class on its own line.
        let mut o2 = Order::new(pos_core::Currency::EUR);
        for id in 1..=3 {
            o2.add(&sku(id, 1, 99, false), Quantity::ONE).unwrap();
        }
        let one_line = o.price(&rules(PriceMode::TaxInclusive, input), &vat_table()).unwrap();
        let three_lines = o2.price(&rules(PriceMode::TaxInclusive, input), &vat_table()).unwrap();
        assert_eq!(one_line.total, 297);
        assert_eq!(three_lines.total, 297);
        // One line of 2.97 is taxed once either way: 0.47.
        assert_eq!(one_line.tax_total, 47, "{input:?}");
        assert_eq!((three_lines.tax_total, three_lines.taxes[0].base), expected, "{input:?}");
    }
    check(TaxRounding::PerLine, (48, 249));
    check(TaxRounding::PerInvoice, (47, 250));
}

#[test]
fn canadian_style_exclusive_order() {
    let mut o = Order::new(pos_core::Currency::CHF);
    o.add(&sku(1, 3, 999, false), Quantity::ONE).unwrap();
    o.add(&sku(2, 2, 1000, false), Quantity::ONE).unwrap();
    let p = o.price(&rules(PriceMode::TaxExclusive, TaxRounding::PerLine), &vat_table()).unwrap();
    let taxes: Vec<(&str, i64, i64)> = p.taxes.iter().map(|t| (t.code.as_str(), t.base, t.tax)).collect();
    assert_eq!(taxes, vec![("GST", 999, 50), ("PST", 999, 70), ("B", 1000, 70)]);
    assert_eq!((p.subtotal, p.tax_total, p.total), (1999, 190, 2189));
    assert_eq!(p.currency, pos_core::Currency::CHF);
}

#[test]
fn discounts_example() {
    // 2 × 10.00 with 10 % off the line, then 5.00 off the order, spread 18.00 : 5.00.
    let mut o = Order::new(pos_core::Currency::EUR);
    let a = o.add(&sku(1, 1, 1000, false), Quantity::units(2)).unwrap();
    o.add(&sku(2, 2, 500, false), Quantity::ONE).unwrap();
    o.set_line_discount(a, Some(Discount::Percent(1000))).unwrap();
    o.set_discount(Some(Discount::Amount(500))).unwrap();
    let p = o.price(&rules(PriceMode::TaxInclusive, TaxRounding::PerLine), &vat_table()).unwrap();
    assert_eq!((p.subtotal, p.discount_total, p.total), (2500, 700, 1800));
    // 500 × 1800/2300 = 391.3 and 500 × 500/2300 = 108.7: largest remainder gives 391 + 109.
    assert_eq!(
        p.lines.iter().map(|l| (l.line_discount, l.order_discount, l.amount)).collect::<Vec<_>>(),
        vec![(200, 391, 1409), (0, 109, 391)]
    );
}

#[test]
fn discount_refusals() {
    fn check(input: (i64, Option<Discount>), expected: Result<(), OrderError>) {
        let (price, discount) = input;
        let mut o = Order::new(pos_core::Currency::EUR);
        let line = o.add(&sku(1, 1, price, false), Quantity::units(2)).unwrap();
        let got = o.set_line_discount(line, discount);
        assert_eq!(got, expected, "line discount {discount:?} on 2 × {price}");
        if got.is_err() {
            assert_eq!(o.line(line).unwrap().discount, None, "a refused discount leaves the line as it was");
        }
        // The same discount on the whole order.
        let mut o = Order::new(pos_core::Currency::EUR);
        o.add(&sku(1, 1, price, false), Quantity::units(2)).unwrap();
        let set = o.set_discount(discount);
        let priced = set.and_then(|_| o.price(&rules(PriceMode::TaxInclusive, TaxRounding::PerLine), &vat_table()));
        assert_eq!(priced.map(|_| ()), expected, "order discount {discount:?} on 2 × {price}");
    }
    let exceeds =
        |d: i64, a: i64| Err(OrderError::DiscountExceedsAmount { discount: d.to_string(), amount: a.to_string() });
    check((500, None), Ok(()));
    check((500, Some(Discount::Amount(1000))), Ok(()));
    check((500, Some(Discount::Amount(1001))), exceeds(1001, 1000));
    check((500, Some(Discount::Amount(0))), Ok(()));
    check((0, Some(Discount::Amount(1))), exceeds(1, 0));
    check((500, Some(Discount::Amount(-1))), Err(OrderError::NegativeDiscount));
    check((500, Some(Discount::Percent(10_000))), Ok(()));
    check((500, Some(Discount::Percent(0))), Ok(()));
    check((500, Some(Discount::Percent(10_001))), Err(OrderError::DiscountPercentOutOfRange(10_001)));
    check((500, Some(Discount::Percent(-1))), Err(OrderError::DiscountPercentOutOfRange(-1)));
}

#[test]
fn a_refused_discount_keeps_the_previous_one() {
    let mut o = Order::new(pos_core::Currency::EUR);
    let line = o.add(&sku(1, 1, 500, false), Quantity::ONE).unwrap();
    o.set_line_discount(line, Some(Discount::Amount(100))).unwrap();
    assert!(o.set_line_discount(line, Some(Discount::Amount(501))).is_err());
    assert_eq!(o.line(line).unwrap().discount, Some(Discount::Amount(100)));
}

#[test]
fn quantity_refusals() {
    fn check(input: (bool, Quantity), expected: Result<(), OrderError>) {
        let (weighed, qty) = input;
        let s = sku(7, 1, 100, weighed);
        let mut o = Order::new(pos_core::Currency::EUR);
        assert_eq!(o.add(&s, qty).map(|_| ()), expected, "add {qty} (weighed: {weighed})");
        // set_quantity applies the same rules to an existing line.
        let mut o = Order::new(pos_core::Currency::EUR);
        let line = o.add(&s, Quantity::ONE).unwrap();
        assert_eq!(o.set_quantity(line, qty), expected, "set {qty} (weighed: {weighed})");
        if expected.is_err() {
            assert_eq!(o.line(line).unwrap().qty, Quantity::ONE);
        }
    }
    let fractional = |q: Quantity| Err(OrderError::FractionalQuantity { name: "Product 7".into(), qty: q });
    check((false, Quantity::units(1)), Ok(()));
    check((false, Quantity::units(0)), Err(OrderError::QuantityNotPositive(Quantity::units(0))));
    check((true, Quantity::from_milli(0)), Err(OrderError::QuantityNotPositive(Quantity::from_milli(0))));
    check((false, Quantity::units(-2)), Err(OrderError::QuantityNotPositive(Quantity::units(-2))));
    check((true, Quantity::from_milli(-250)), Err(OrderError::QuantityNotPositive(Quantity::from_milli(-250))));
    check((false, Quantity::from_milli(1500)), fractional(Quantity::from_milli(1500)));
    check((false, Quantity::from_milli(1)), fractional(Quantity::from_milli(1)));
    check((true, Quantity::from_milli(1)), Ok(()));
    check((true, Quantity::from_milli(1500)), Ok(()));
    check((false, Quantity::units(100_000)), Ok(()));
    check((false, Quantity::units(100_001)), Err(OrderError::QuantityTooLarge(Quantity::units(100_001))));
}

#[test]
fn lines_merge_only_when_plain() {
    let s = sku(1, 1, 250, false);
    let w = sku(2, 1, 1299, true);
    let mut o = Order::new(pos_core::Currency::EUR);
    let a = o.add(&s, Quantity::ONE).unwrap();
    assert_eq!(o.add(&s, Quantity::units(2)).unwrap(), a, "a second scan adds to the line");
    assert_eq!(o.line(a).unwrap().qty, Quantity::units(3));
    // Weighed goods always get their own line.
    let w1 = o.add(&w, Quantity::from_milli(333)).unwrap();
    let w2 = o.add(&w, Quantity::from_milli(333)).unwrap();
    assert_ne!(w1, w2);
    // A discounted line is not added to.
    o.set_line_discount(a, Some(Discount::Percent(500))).unwrap();
    let b = o.add(&s, Quantity::ONE).unwrap();
    assert_ne!(a, b);
    // Nor is a line with an overridden price.
    o.override_price(b, 200).unwrap();
    let c = o.add(&s, Quantity::ONE).unwrap();
    assert_ne!(b, c);
    assert_eq!(o.override_price(c, -1), Err(OrderError::NegativePrice));
    // Merging past the maximum is refused and leaves the line alone.
    let max = o.add(&sku(3, 1, 1, false), Quantity::units(100_000)).unwrap();
    assert_eq!(o.add(&sku(3, 1, 1, false), Quantity::ONE), Err(OrderError::QuantityTooLarge(Quantity::units(100_001))));
    assert_eq!(o.line(max).unwrap().qty, Quantity::units(100_000));
    // Line numbers are never reused after a removal.
    let removed = o.remove(c).unwrap();
    assert_eq!(removed.line_no, c);
    assert_eq!(o.remove(c), Err(OrderError::NoSuchLine(c)));
    let d = o.add(&sku(4, 1, 1, false), Quantity::ONE).unwrap();
    assert!(d > max);
    assert_eq!(o.set_quantity(999, Quantity::ONE), Err(OrderError::NoSuchLine(999)));
    assert_eq!(o.set_line_discount(999, None), Err(OrderError::NoSuchLine(999)));
}

#[test]
fn pricing_refusals() {
    let r = rules(PriceMode::TaxInclusive, TaxRounding::PerLine);
    assert_eq!(Order::new(pos_core::Currency::EUR).price(&r, &vat_table()).unwrap_err(), OrderError::Empty);
    let mut o = Order::new(pos_core::Currency::EUR);
    o.add(&sku(1, 42, 100, false), Quantity::ONE).unwrap();
    assert_eq!(o.price(&r, &vat_table()).unwrap_err(), OrderError::Tax(pos_core::tax::TaxError::UnknownClass(42)));
    // A line discount that fitted, then the quantity is lowered below it: refused at pricing.
    let mut o = Order::new(pos_core::Currency::EUR);
    let line = o.add(&sku(1, 1, 100, false), Quantity::units(5)).unwrap();
    o.set_line_discount(line, Some(Discount::Amount(400))).unwrap();
    o.set_quantity(line, Quantity::units(2)).unwrap();
    assert_eq!(
        o.price(&r, &vat_table()).unwrap_err(),
        OrderError::DiscountExceedsAmount { discount: "400".into(), amount: "200".into() }
    );
}

#[test]
fn weighed_goods_price_by_the_gram() {
    // 0.333 kg at 12.99/kg = 4.32567 → 4.33; 19 % inclusive → 0.69.
    let mut o = Order::new(pos_core::Currency::EUR);
    o.add(&sku(1, 1, 1299, true), Quantity::from_milli(333)).unwrap();
    let p = o.price(&rules(PriceMode::TaxInclusive, TaxRounding::PerLine), &vat_table()).unwrap();
    assert_eq!((p.lines[0].extended, p.tax_total, p.total), (433, 69, 433));
}

#[test]
fn discount_serialises_with_kind_and_value() {
    assert_eq!(serde_json::to_string(&Discount::Percent(1000)).unwrap(), r#"{"kind":"percent","value":1000}"#);
    assert_eq!(serde_json::to_string(&Discount::Amount(250)).unwrap(), r#"{"kind":"amount","value":250}"#);
}
