//! Tenders and settlement: example tables, card-result validation, and random split tenders.

use pos_core::tender::{CardAuthorization, Settlement, Tender, TenderError, TenderKind, settle};
use pos_core::{Currency, Money};
use proptest::prelude::*;

use crate::support::{card, card_auth, cash, eur, oracle};

/// (paid, change_due, rounding) or the error.
fn check(input: (i64, &[Tender], i64), expected: Result<(i64, i64, i64), TenderError>) {
    let (total, tenders, inc) = input;
    let got = settle(eur(total), tenders, inc).map(|s| (s.paid(), s.change_due, s.rounding));
    assert_eq!(got, expected, "total {total}, tenders {tenders:?}, increment {inc}");
}

#[test]
fn cash_settlements() {
    check((1000, &[cash(1000)], 1), Ok((1000, 0, 0)));
    check((1000, &[cash(2000)], 1), Ok((1000, 1000, 0)));
    check((1003, &[cash(1003)], 1), Ok((1003, 0, 0)));
    // 0.05 cash rounding: 10.02 is 10.00 in cash, 10.03 is 10.05.
    check((1002, &[cash(2000)], 5), Ok((1000, 1000, -2)));
    check((1002, &[cash(1000)], 5), Ok((1000, 0, -2)));
    check((1003, &[cash(1005)], 5), Ok((1005, 0, 2)));
    check((1003, &[cash(2000)], 5), Ok((1005, 995, 2)));
    check((1005, &[cash(1005)], 5), Ok((1005, 0, 0)));
    check((1, &[cash(5)], 5), Ok((0, 5, -1)));
    check((3, &[cash(5)], 5), Ok((5, 0, 2)));
    // Not enough: the message shows the total and everything tendered.
    check((1000, &[cash(500)], 1), Err(TenderError::Insufficient { due: eur(1000), tendered: eur(500) }));
    check((1003, &[cash(1000)], 5), Err(TenderError::Insufficient { due: eur(1003), tendered: eur(1000) }));
    // 10.03 is 10.05 in cash; 10.01 or 10.02 handed over is not enough.
    check((1003, &[cash(1001)], 5), Err(TenderError::Insufficient { due: eur(1003), tendered: eur(1001) }));
    check((1003, &[cash(1002)], 5), Err(TenderError::Insufficient { due: eur(1003), tendered: eur(1002) }));
    check((0, &[], 5), Ok((0, 0, 0)));
}

#[test]
fn split_and_card_settlements() {
    check((2550, &[card(2000), cash(1000)], 1), Ok((2550, 450, 0)));
    check((2550, &[card(2550)], 5), Ok((2550, 0, 0)));
    // Card first, then the rest in cash, rounded: 5.52 due in cash is 5.50.
    check((1052, &[card(500), cash(1000)], 5), Ok((1050, 450, -2)));
    check((1000, &[card(400), card(600)], 1), Ok((1000, 0, 0)));
    check((1000, &[cash(300), card(700)], 5), Ok((1000, 0, 0)));
    check((1000, &[card(1500)], 1), Err(TenderError::CardExceedsDue { amount: eur(1500), due: eur(1000) }));
    check((1000, &[card(600), card(500)], 1), Err(TenderError::CardExceedsDue { amount: eur(500), due: eur(400) }));
    check((1000, &[card(1000), card(1)], 1), Err(TenderError::UnneededTender));
    check((1000, &[cash(2000), cash(100)], 1), Err(TenderError::UnneededTender));
    check((1000, &[card(999)], 5), Err(TenderError::Insufficient { due: eur(1000), tendered: eur(999) }));
    check((1000, &[cash(0)], 1), Err(TenderError::NotPositive));
    check((1000, &[cash(-100)], 1), Err(TenderError::NotPositive));
    check((1000, &[card(0)], 1), Err(TenderError::NotPositive));
}

#[test]
fn tenders_in_another_currency_are_refused() {
    let usd = Money::new(1000, Currency::USD);
    let jpy = Money::new(1000, Currency::JPY);
    let mismatch = |got| Err(TenderError::CurrencyMismatch { expected: Currency::EUR, got });
    check((1000, &[Tender::Cash { tendered: usd }], 1), mismatch(Currency::USD));
    check((1000, &[Tender::Card { amount: jpy, auth: card_auth() }], 1), mismatch(Currency::JPY));
    check((1000, &[card(500), Tender::Cash { tendered: usd }], 1), mismatch(Currency::USD));
}

#[test]
fn card_results_are_validated() {
    fn check(input: (&str, &str, &str, &str), expected: Result<(), &'static str>) {
        let (last4, scheme, auth, term) = input;
        let got = CardAuthorization::new(last4, scheme, auth, term);
        match (&got, expected) {
            (Ok(a), Ok(())) => {
                assert_eq!((a.last4(), a.scheme(), a.auth_code(), a.terminal_ref()), input);
            }
            (Err(TenderError::InvalidCardField(f)), Err(field)) => {
                assert_eq!(*f, field, "{input:?}")
            }
            _ => panic!("{input:?}: expected {expected:?}, got {got:?}"),
        }
    }
    let pan = "4111111111111111";
    for (input, expected) in [
        (("4242", "VISA", "A1B2C3", "T-0001"), Ok(())),
        (("0000", "Mastercard", "123456", "TID_77 batch 12"), Ok(())),
        (("424", "VISA", "A1", "T1"), Err("last4")),
        (("42424", "VISA", "A1", "T1"), Err("last4")),
        (("42a2", "VISA", "A1", "T1"), Err("last4")),
        (("", "VISA", "A1", "T1"), Err("last4")),
        (("٤٢٤٢", "VISA", "A1", "T1"), Err("last4")),
        ((pan, "VISA", "A1", "T1"), Err("last4")),
        (("4242", pan, "A1", "T1"), Err("scheme")),
        (("4242", "VISA", pan, "T1"), Err("auth_code")),
        (("4242", "VISA", "A1", pan), Err("terminal_ref")),
        (("4242", "VISA", "A1", "ref 4111111111111111 x"), Err("terminal_ref")),
        // Twelve digits in a row already look like a card number; eleven do not.
        (("4242", "VISA", "A1", "T123456789012"), Err("terminal_ref")),
        (("4242", "VISA", "A1", "T12345678901"), Ok(())),
        (("4242", "", "A1", "T1"), Err("scheme")),
        (("4242", "VISA", "", "T1"), Err("auth_code")),
        (("4242", "VISA", "A1", ""), Err("terminal_ref")),
        (("4242", "VISA;DROP", "A1", "T1"), Err("scheme")),
        (("4242", "VISA", "A1\n", "T1"), Err("auth_code")),
        (("4242", "VISA", "1234567890123", "T1"), Err("auth_code")),
        (("4242", "VISA", "A1", &"x".repeat(41)), Err("terminal_ref")),
        (("4242", "VISA", "A1", &"x".repeat(40)), Ok(())),
    ] {
        check(input, expected);
    }
}

#[test]
fn tender_kinds_round_trip() {
    for k in [TenderKind::Cash, TenderKind::Card] {
        assert_eq!(TenderKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(TenderKind::parse("Card"), None);
    assert_eq!(serde_json::to_string(&TenderKind::Card).unwrap(), "\"card\"");
}

#[derive(Debug, Clone)]
enum Last {
    /// The card pays what is left minus `short`.
    Card { short: i64 },
    /// Cash handed over: what is due in cash plus `delta` (may be short).
    Cash { delta: i64 },
}

fn last() -> impl Strategy<Value = Last> {
    prop_oneof![
        3 => Just(Last::Card { short: 0 }),
        1 => (1i64..=3).prop_map(|short| Last::Card { short }),
        3 => prop_oneof![Just(0i64), 0i64..=5000].prop_map(|delta| Last::Cash { delta }),
        2 => (-4i64..0).prop_map(|delta| Last::Cash { delta }),
    ]
}

/// Partial tenders that leave something due, then `last`.
fn tenders(total: i64, partials: &[(bool, i64)], last: &Last, inc: i64) -> Vec<Tender> {
    let mut out = Vec::new();
    let mut left = total;
    for &(is_card, share) in partials {
        let amount = left * share / 1000;
        if amount <= 0 || amount >= left || (!is_card && amount >= oracle::round_to(left, inc)) {
            continue;
        }
        out.push(if is_card { card(amount) } else { cash(amount) });
        left -= amount;
    }
    if left <= 0 {
        return out;
    }
    match *last {
        Last::Card { short } if left - short > 0 => out.push(card(left - short)),
        Last::Cash { delta } if oracle::round_to(left, inc) + delta > 0 => {
            out.push(cash(oracle::round_to(left, inc) + delta))
        }
        _ => out.push(card(left)),
    }
    out
}

fn check_settlement(total: i64, tenders: &[Tender], inc: i64, s: &Settlement) -> Result<(), TestCaseError> {
    prop_assert_eq!(s.payments.len(), tenders.len());
    prop_assert_eq!(s.paid(), total + s.rounding, "paid = total + rounding");
    prop_assert!(2 * s.rounding.abs() <= inc.max(1), "rounding {} for increment {}", s.rounding, inc);
    let any_cash = tenders.iter().any(|t| matches!(t, Tender::Cash { .. }));
    if !any_cash || inc == 1 {
        prop_assert_eq!(s.rounding, 0);
    }
    let mut due = total;
    let mut cash_tendered = 0;
    let mut cash_applied = 0;
    for (p, t) in s.payments.iter().zip(tenders) {
        prop_assert!(p.amount >= 0);
        match t {
            Tender::Card { amount, .. } => {
                prop_assert_eq!(p.kind, TenderKind::Card);
                prop_assert_eq!((p.amount, p.tendered, p.change), (amount.minor(), amount.minor(), 0));
                prop_assert!(p.amount <= due, "card {} exceeds the {} due", p.amount, due);
                prop_assert!(p.card.is_some());
            }
            Tender::Cash { tendered } => {
                prop_assert_eq!(p.kind, TenderKind::Cash);
                prop_assert_eq!(p.tendered, tendered.minor());
                prop_assert_eq!(p.change, p.tendered - p.amount);
                prop_assert!(p.change >= 0);
                prop_assert!(p.card.is_none());
                cash_tendered += p.tendered;
                cash_applied += p.amount;
            }
        }
        due -= p.amount;
    }
    prop_assert_eq!(s.change_due, cash_tendered - cash_applied, "change = cash tendered − cash applied");
    if let (Some(Tender::Cash { .. }), Some(p)) = (tenders.last(), s.payments.last()) {
        // The cash that settles pays what was left, rounded to the cash increment.
        let before = p.amount + due;
        prop_assert_eq!(p.amount, oracle::round_to(before, inc));
        prop_assert_eq!(p.amount % inc.max(1), 0, "last cash payment {} is not a multiple of {}", p.amount, inc);
        if tenders.len() == 1 {
            prop_assert_eq!(s.paid(), oracle::round_to(total, inc));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn random_split_tenders_settle_consistently(
        total in prop_oneof![0i64..=30, 0i64..=1_000_000],
        partials in prop::collection::vec((any::<bool>(), 1i64..=999), 0..=3),
        last in last(),
        inc in prop_oneof![Just(1i64), Just(5i64)],
    ) {
        let tenders = tenders(total, &partials, &last, inc);
        match settle(eur(total), &tenders, inc) {
            Ok(s) => check_settlement(total, &tenders, inc, &s)?,
            Err(TenderError::Insufficient { due, tendered }) => {
                // Refused only when the last tender really falls short.
                let short = match last {
                    Last::Card { short } => short > 0,
                    Last::Cash { delta } => delta < 0,
                };
                prop_assert!(short, "a full payment was refused: {:?}", tenders);
                prop_assert_eq!(due, eur(total));
                let sum: i64 = tenders.iter().map(|t| match t {
                    Tender::Cash { tendered } => tendered.minor(),
                    Tender::Card { amount, .. } => amount.minor(),
                }).sum();
                prop_assert_eq!(tendered, eur(sum));
            }
            Err(e) => prop_assert!(false, "unexpected {e:?} for {tenders:?}"),
        }
    }

    /// A card never pays more than is due, whatever the order of tenders.
    #[test]
    fn cards_never_exceed_what_is_due(total in 1i64..=100_000, amounts in prop::collection::vec(1i64..=100_000, 1..=4)) {
        let tenders: Vec<Tender> = amounts.iter().map(|a| card(*a)).collect();
        let mut due = total;
        let mut expected = None;
        for a in &amounts {
            if due <= 0 {
                expected = Some(TenderError::UnneededTender);
                break;
            }
            if *a > due {
                expected = Some(TenderError::CardExceedsDue { amount: eur(*a), due: eur(due) });
                break;
            }
            due -= a;
        }
        if expected.is_none() && due > 0 {
            expected = Some(TenderError::Insufficient { due: eur(total), tendered: eur(amounts.iter().sum()) });
        }
        let got = settle(eur(total), &tenders, 5);
        match expected {
            None => prop_assert_eq!(got.map(|s| (s.paid(), s.rounding)), Ok((total, 0))),
            Some(e) => prop_assert_eq!(got.map(|_| ()), Err(e)),
        }
    }
}
