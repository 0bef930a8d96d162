//! Tax: known VAT and sales-tax examples, and `tax::compute` against the independent oracle.

use std::collections::BTreeMap;

use pos_core::tax::{PriceMode, RateTax, TaxClassId, TaxError, TaxRounding, TaxTable, Taxable, compute, format_rate};
use proptest::prelude::*;
use proptest::sample::{Index, subsequence};

use crate::support::{RATE_POOL, class, oracle, rate};

use PriceMode::{TaxExclusive as Excl, TaxInclusive as Incl};
use TaxRounding::{PerInvoice, PerLine};

/// 1: German standard 19 %, 2: German reduced 7 %, 3: Canadian-style GST 5 % + PST 7 %,
/// 4: New York City 8.875 %, 5: zero-rated.
fn table() -> TaxTable {
    TaxTable::new(vec![
        class(1, "standard", vec![rate(1, "A", 190_000)]),
        class(2, "reduced", vec![rate(2, "B", 70_000)]),
        class(3, "gst+pst", vec![rate(3, "GST", 50_000), rate(4, "PST", 70_000)]),
        class(4, "nyc", vec![rate(5, "NY", 88_750)]),
        class(5, "zero", vec![rate(6, "Z", 0)]),
    ])
    .unwrap()
}

/// Taxes `lines` of (amount, class) and compares per-rate (code, base, tax) and the total.
fn check(input: (&[(i64, i64)], PriceMode, TaxRounding), expected: &[(&str, i64, i64)]) {
    let (lines, mode, rounding) = input;
    let taxable: Vec<Taxable> = lines.iter().map(|&(amount, c)| Taxable { amount, class: TaxClassId(c) }).collect();
    let t = compute(&taxable, &table(), mode, rounding).unwrap();
    let got: Vec<(&str, i64, i64)> = t.by_rate.iter().map(|r| (r.code.as_str(), r.base, r.tax)).collect();
    assert_eq!(got, expected, "{lines:?} {mode:?} {rounding:?}");
    assert_eq!(t.total(), expected.iter().map(|e| e.2).sum::<i64>());
    let per_line: i64 = (0..lines.len()).map(|i| t.line_total(i)).sum();
    assert_eq!(per_line, t.total(), "line taxes add up to the total");
}

#[test]
fn german_vat_examples() {
    // 3 × 0.99 at 19 % inclusive: 0.16 per line (0.48) against round(2.97 × 19/119) = 0.47 per invoice.
    check((&[(99, 1), (99, 1), (99, 1)], Incl, PerLine), &[("A", 297 - 48, 48)]);
    check((&[(99, 1), (99, 1), (99, 1)], Incl, PerInvoice), &[("A", 297 - 47, 47)]);
    // 1.19 gross is 1.00 net + 0.19 VAT; 1.07 at 7 % is 1.00 + 0.07.
    check((&[(119, 1)], Incl, PerLine), &[("A", 100, 19)]);
    check((&[(107, 2)], Incl, PerLine), &[("B", 100, 7)]);
    // Mixed basket, inclusive: 10.00 at 19 % → 1.60 (1.5966); 5.00 at 7 % → 0.33 (0.3271).
    check((&[(1000, 1), (500, 2)], Incl, PerLine), &[("A", 840, 160), ("B", 467, 33)]);
    check((&[(1000, 1), (500, 2)], Incl, PerInvoice), &[("A", 840, 160), ("B", 467, 33)]);
    // 19.99 at 19 % inclusive → 3.19 (3.1917); 0.01 → 0.00 (0.0016).
    check((&[(1999, 1)], Incl, PerLine), &[("A", 1680, 319)]);
    check((&[(1, 1)], Incl, PerLine), &[("A", 1, 0)]);
    // Exclusive 19 %: 0.50 → 0.095 → 0.10 (half away from zero).
    check((&[(50, 1)], Excl, PerLine), &[("A", 50, 10)]);
    // Zero amounts and a zero rate tax nothing.
    check((&[(0, 1), (1234, 5)], Incl, PerLine), &[("A", 0, 0), ("Z", 1234, 0)]);
}

#[test]
fn canadian_two_rate_exclusive_class() {
    // 10.00 + 5 % GST + 7 % PST.
    check((&[(1000, 3)], Excl, PerLine), &[("GST", 1000, 50), ("PST", 1000, 70)]);
    // 9.99: GST 0.4995 → 0.50, PST 0.6993 → 0.70.
    check((&[(999, 3)], Excl, PerLine), &[("GST", 999, 50), ("PST", 999, 70)]);
    // 3 × 3.33 per line: GST 0.1665 → 0.17 ×3 = 0.51; PST 0.2331 → 0.23 ×3 = 0.69.
    check((&[(333, 3), (333, 3), (333, 3)], Excl, PerLine), &[("GST", 999, 51), ("PST", 999, 69)]);
    // The same per invoice: 9.99 rounded once per rate.
    check((&[(333, 3), (333, 3), (333, 3)], Excl, PerInvoice), &[("GST", 999, 50), ("PST", 999, 70)]);
    // Inclusive, the class's rates share one divisor: 11.20 = 10.00 + 0.50 + 0.70.
    check((&[(1120, 3)], Incl, PerLine), &[("GST", 1000, 50), ("PST", 1000, 70)]);
    // New York City 8.875 %: 10.00 → 0.8875 → 0.89; 4.00 → 0.355 → 0.36.
    check((&[(1000, 4)], Excl, PerLine), &[("NY", 1000, 89)]);
    check((&[(400, 4)], Excl, PerLine), &[("NY", 400, 36)]);
    check((&[(1000, 4), (400, 4)], Excl, PerInvoice), &[("NY", 1400, 124)]);
}

#[test]
fn per_invoice_tax_is_spread_back_over_the_lines() {
    let lines = [Taxable { amount: 99, class: TaxClassId(1) }; 3];
    let t = compute(&lines, &table(), Incl, PerInvoice).unwrap();
    let per_line: Vec<i64> = (0..3).map(|i| t.line_total(i)).collect();
    assert_eq!(per_line.iter().sum::<i64>(), 47);
    for tax in per_line {
        assert!((15..=16).contains(&tax), "each line carries about a third: {tax}");
    }
}

#[test]
fn tax_table_errors() {
    fn check(input: Vec<pos_core::tax::TaxClass>, expected: Result<(), TaxError>) {
        assert_eq!(TaxTable::new(input).map(|_| ()), expected);
    }
    check(vec![class(1, "empty", vec![])], Err(TaxError::ClassWithoutRate("empty".into())));
    check(
        vec![class(1, "x", vec![rate(1, "X", 1_000_001)])],
        Err(TaxError::RateOutOfRange { code: "X".into(), rate_ppm: 1_000_001 }),
    );
    check(
        vec![class(1, "x", vec![rate(1, "X", -1)])],
        Err(TaxError::RateOutOfRange { code: "X".into(), rate_ppm: -1 }),
    );
    check(vec![class(1, "x", vec![rate(1, "X", 1_000_000), rate(2, "Y", 0)])], Ok(()));
    let lines = [Taxable { amount: 100, class: TaxClassId(99) }];
    assert_eq!(compute(&lines, &table(), Incl, PerLine).unwrap_err(), TaxError::UnknownClass(99));
    assert_eq!(compute(&lines, &table(), Excl, PerInvoice).unwrap_err(), TaxError::UnknownClass(99));
}

#[test]
fn rates_format_as_percentages() {
    fn check(input: i64, expected: &str) {
        assert_eq!(format_rate(input), expected, "{input}");
    }
    for (input, expected) in [
        (190_000, "19%"),
        (70_000, "7%"),
        (88_750, "8.875%"),
        (0, "0%"),
        (55_000, "5.5%"),
        (1, "0.0001%"),
        (1_000_000, "100%"),
        (97_500, "9.75%"),
    ] {
        check(input, expected);
    }
}

fn by_rate_map(rows: &[RateTax]) -> BTreeMap<i64, (i64, i64)> {
    let mut out = BTreeMap::new();
    for r in rows {
        assert!(out.insert(r.rate_id.0, (r.base, r.tax)).is_none(), "rate {} listed twice", r.rate_id.0);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compute_matches_the_oracle(
        classes in prop::collection::vec(subsequence((0..RATE_POOL.len()).collect::<Vec<_>>(), 1..=2), 1..=3),
        lines in prop::collection::vec((prop_oneof![0i64..=10_000_000, 0i64..=200], any::<Index>()), 1..=12),
        mode in crate::support::mode(),
        rounding in crate::support::tax_rounding(),
    ) {
        let classes: Vec<_> = classes
            .iter()
            .enumerate()
            .map(|(i, rs)| {
                let rates = rs.iter().map(|&r| rate(RATE_POOL[r].0, RATE_POOL[r].1, RATE_POOL[r].2)).collect();
                class(i as i64 + 1, "c", rates)
            })
            .collect();
        let table = TaxTable::new(classes.clone()).unwrap();
        let lines: Vec<(i64, &pos_core::tax::TaxClass)> =
            lines.iter().map(|(a, i)| (*a, &classes[i.index(classes.len())])).collect();
        let taxable: Vec<Taxable> = lines.iter().map(|(a, c)| Taxable { amount: *a, class: c.id }).collect();
        let t = compute(&taxable, &table, mode, rounding).unwrap();

        prop_assert_eq!(by_rate_map(&t.by_rate), oracle::taxes_by_rate(&lines, mode, rounding));
        let per_line: i64 = (0..lines.len()).map(|i| t.line_total(i)).sum();
        prop_assert_eq!(per_line, t.total());
        for (i, (amount, c)) in lines.iter().enumerate() {
            // Every line carries exactly its class's rates, in order, never a negative tax.
            let ids: Vec<_> = t.lines[i].iter().map(|(id, _)| *id).collect();
            let want: Vec<_> = c.rates.iter().map(|r| r.id).collect();
            prop_assert_eq!(ids, want);
            prop_assert!(t.lines[i].iter().all(|(_, tax)| *tax >= 0));
            if rounding == PerLine {
                prop_assert_eq!(&t.lines[i], &oracle::class_taxes(c, *amount, mode));
            }
        }
        for r in &t.by_rate {
            let (_, code, ppm) = RATE_POOL.iter().find(|p| p.0 == r.rate_id.0).unwrap();
            prop_assert_eq!(r.code.as_str(), *code);
            prop_assert_eq!(r.rate_ppm, *ppm);
        }
    }
}
