//! Money, quantities and the rounding helpers: example tables and a few properties.

use pos_core::money::format_minor;
use pos_core::rounding::{allocate, div_round_half_away, round_to_increment};
use pos_core::{Currency, Money, MoneyError, Quantity};
use proptest::prelude::*;

use crate::support::oracle;

#[test]
fn division_rounds_half_away_from_zero() {
    fn check(input: (i128, i128), expected: i128) {
        assert_eq!(div_round_half_away(input.0, input.1), expected, "{} / {}", input.0, input.1);
    }
    for (input, expected) in [
        ((0, 7), 0),
        ((5, 10), 1),
        ((4, 10), 0),
        ((15, 10), 2),
        ((25, 10), 3),
        ((-5, 10), -1),
        ((-15, 10), -2),
        ((-25, 10), -3),
        ((-4, 10), 0),
        ((-6, 10), -1),
        ((1, 2), 1),
        ((-1, 2), -1),
        ((1, 3), 0),
        ((2, 3), 1),
        ((-2, 3), -1),
        ((14_999, 10_000), 1),
        ((15_000, 10_000), 2),
        ((99 * 190_000, 1_190_000), 16),
        ((297 * 190_000, 1_190_000), 47),
    ] {
        check(input, expected);
    }
}

#[test]
fn cash_rounding_to_five_cents() {
    fn check(input: (i64, i64), expected: i64) {
        assert_eq!(round_to_increment(input.0, input.1), expected, "{} to a multiple of {}", input.0, input.1);
    }
    for (input, expected) in [
        ((1000, 5), 1000),
        ((1001, 5), 1000),
        ((1002, 5), 1000),
        ((1003, 5), 1005),
        ((1004, 5), 1005),
        ((1005, 5), 1005),
        ((1007, 5), 1005),
        ((1008, 5), 1010),
        ((2, 5), 0),
        ((3, 5), 5),
        ((0, 5), 0),
        ((-2, 5), 0),
        ((-3, 5), -5),
        ((-1003, 5), -1005),
        ((1049, 10), 1050),
        ((1045, 10), 1050),
        ((1044, 10), 1040),
        ((1234, 1), 1234),
        ((1234, 0), 1234),
        ((1250, 100), 1300),
        ((1249, 100), 1200),
    ] {
        check(input, expected);
    }
}

#[test]
fn allocation_examples() {
    fn check(input: (i64, &[i64]), expected: &[i64]) {
        assert_eq!(allocate(input.0, input.1), expected, "allocate {} over {:?}", input.0, input.1);
    }
    check((100, &[1, 1, 1]), &[34, 33, 33]);
    check((-100, &[1, 1, 1]), &[-33, -33, -34]);
    check((10, &[0, 0]), &[10, 0]);
    check((0, &[5, 7]), &[0, 0]);
    check((7, &[0, 3, 0]), &[0, 7, 0]);
    check((10, &[1, 2, 7]), &[1, 2, 7]);
    check((1, &[1, 1]), &[1, 0]);
    check((5, &[]), &[]);
}

#[test]
fn money_parses_and_formats() {
    fn check(input: (&str, Currency), expected: Result<(i64, &str), ()>) {
        let got = Money::parse(input.0, input.1);
        match expected {
            Ok((minor, shown)) => {
                let m = got.unwrap_or_else(|e| panic!("{:?} should parse: {e}", input.0));
                assert_eq!(m.minor(), minor, "{:?}", input.0);
                assert_eq!(m.to_string(), shown, "{:?}", input.0);
            }
            Err(()) => assert!(
                matches!(got, Err(MoneyError::BadAmount(_))),
                "{:?} in {} should be refused, got {got:?}",
                input.0,
                input.1
            ),
        }
    }
    let kwd = Currency::from_code("KWD").unwrap();
    for (input, expected) in [
        (("12.5", Currency::EUR), Ok((1250, "12.50 EUR"))),
        (("12.50", Currency::EUR), Ok((1250, "12.50 EUR"))),
        (("0.05", Currency::EUR), Ok((5, "0.05 EUR"))),
        (("-3", Currency::EUR), Ok((-300, "-3.00 EUR"))),
        (("-0.05", Currency::EUR), Ok((-5, "-0.05 EUR"))),
        ((" 7 ", Currency::EUR), Ok((700, "7.00 EUR"))),
        (("120", Currency::JPY), Ok((120, "120 JPY"))),
        (("1.234", kwd), Ok((1234, "1.234 KWD"))),
        (("1.234", Currency::EUR), Err(())),
        (("1.5", Currency::JPY), Err(())),
        (("1,20", Currency::EUR), Err(())),
        (("", Currency::EUR), Err(())),
        (("-", Currency::EUR), Err(())),
        ((".", Currency::EUR), Err(())),
        (("1e3", Currency::EUR), Err(())),
        (("+1", Currency::EUR), Err(())),
        (("99999999999999999999", Currency::EUR), Err(())),
    ] {
        check(input, expected);
    }
}

#[test]
fn currencies() {
    fn check(input: &str, expected: Option<u8>) {
        match (Currency::from_code(input), expected) {
            (Ok(c), Some(exp)) => {
                assert_eq!(c.exponent(), exp, "{input}");
                assert_eq!(c.code(), input);
            }
            (Err(MoneyError::UnknownCurrency(code)), None) => assert_eq!(code, input),
            (got, _) => panic!("{input}: unexpected {got:?}"),
        }
    }
    for (input, expected) in [
        ("EUR", Some(2)),
        ("USD", Some(2)),
        ("CAD", Some(2)),
        ("JPY", Some(0)),
        ("KWD", Some(3)),
        ("eur", None),
        ("XXX", None),
        ("", None),
    ] {
        check(input, expected);
    }
    let e = Money::new(100, Currency::EUR);
    let u = Money::new(100, Currency::USD);
    assert!(matches!(e.checked_add(u), Err(MoneyError::CurrencyMismatch { .. })));
    assert!(matches!(e.checked_sub(u), Err(MoneyError::CurrencyMismatch { .. })));
    assert_eq!(e.checked_add(e).unwrap().minor(), 200);
    assert!(matches!(Money::new(i64::MAX, Currency::EUR).checked_add(e), Err(MoneyError::Overflow)));
    assert_eq!(serde_json::to_string(&Currency::EUR).unwrap(), "\"EUR\"");
    assert_eq!(format_minor(-1, Currency::EUR), "-0.01");
    assert_eq!(format_minor(123_456, Currency::from_code("BHD").unwrap()), "123.456");
}

#[test]
fn quantities() {
    fn check(input: &str, expected: Option<(i64, &str)>) {
        let got = Quantity::parse(input);
        assert_eq!(got.map(|q| (q.milli(), q.to_string())), expected.map(|(m, s)| (m, s.to_owned())), "{input:?}");
    }
    for (input, expected) in [
        ("2", Some((2000, "2"))),
        ("0.25", Some((250, "0.250"))),
        ("1.125", Some((1125, "1.125"))),
        ("0.001", Some((1, "0.001"))),
        ("1.0001", None),
        ("abc", None),
        ("", None),
    ] {
        check(input, expected);
    }
    fn check_extend(input: (i64, i64), expected: i64) {
        assert_eq!(Quantity::from_milli(input.0).extend(input.1), expected, "{} × {}", input.0, input.1);
    }
    for (input, expected) in [
        ((333, 1299), 433),
        ((1000, 1299), 1299),
        ((3000, 99), 297),
        ((500, 1), 1),
        ((499, 1), 0),
        ((1, 499), 0),
        ((1, 500), 1),
        ((2500, 333), 833),
        ((5000, 100_000), 500_000),
    ] {
        check_extend(input, expected);
    }
}

proptest! {
    #[test]
    fn rounding_agrees_with_an_independent_formula(n in -1_000_000_000i64..1_000_000_000, d in 1i64..100_000) {
        prop_assert_eq!(div_round_half_away(n as i128, d as i128), oracle::round_div(n as i128, d as i128));
    }

    #[test]
    fn cash_rounding_is_nearest_multiple(minor in -1_000_000i64..1_000_000, inc in prop_oneof![Just(5i64), Just(10), Just(100)]) {
        let r = round_to_increment(minor, inc);
        prop_assert_eq!(r % inc, 0);
        prop_assert!(2 * (r - minor).abs() <= inc);
        prop_assert_eq!(r, oracle::round_to(minor, inc));
    }

    #[test]
    fn money_display_parses_back(minor in -10_000_000_000i64..10_000_000_000) {
        let m = Money::new(minor, Currency::EUR);
        let shown = format_minor(minor, Currency::EUR);
        prop_assert_eq!(Money::parse(&shown, Currency::EUR).unwrap(), m);
    }

    #[test]
    fn allocation_is_exact_and_fair(total in -1_000_000i64..1_000_000, weights in prop::collection::vec(0i64..100_000, 1..20)) {
        let parts = allocate(total, &weights);
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert_eq!(parts.iter().sum::<i64>(), total);
        let sum: i128 = weights.iter().map(|w| *w as i128).sum();
        if sum > 0 {
            for (p, w) in parts.iter().zip(&weights) {
                // Within one unit of the exact share, and zero weight gets nothing.
                prop_assert!((*p as i128 * sum - total as i128 * *w as i128).abs() < sum);
                if *w == 0 {
                    prop_assert_eq!(*p, 0);
                }
            }
        }
    }
}
